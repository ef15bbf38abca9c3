"""The same training run in Lava (learning inside the ProcessModels) and in the engine.

Trains one epoch on the embedded MNIST subset with ``--backend lava`` and
``--backend engine`` (per-sample updates, fixed point by default: the two must
give identical weights and accuracies) through ``ssnnbp train``, and writes
accuracies, wall times and samples/s to benchmarks/results/lava_vs_engine.json.

Usage: python -m benchmarks.lava_vs_engine [--hidden 128] [--steps 30] [--train-samples 6000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", default="128", help="hidden sizes (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=30, help="T (default: %(default)s)")
    ap.add_argument("--mode", default="coincidence", help="update rule (default: %(default)s)")
    ap.add_argument("--eta", default=None, help="learning rate (default: the library default)")
    ap.add_argument("--train-samples", type=int, default=6000, help="(default: %(default)s, the whole embedded set)")
    ap.add_argument("--test-samples", type=int, default=1000, help="(default: %(default)s)")
    ap.add_argument("--float", action="store_true", help="floating point instead of fixed point")
    ap.add_argument("--out", default=str(HERE / "results" / "lava_vs_engine.json"))
    args = ap.parse_args(argv)
    from lava_ssnnbp import cli
    from lava_ssnnbp.training import load_weights
    common = ["--preset", "none", "--dataset", "default", "--hidden", args.hidden, "--steps", str(args.steps),
              "--mode", args.mode,
              "--train-samples", str(args.train_samples), "--test-samples", str(args.test_samples),
              "--epochs", "1", "--batch-updates", "per-sample", "--batch-size", "50", "--seed", "0",
              "--overwrite", "--checkpoint-every", "600"]
    if args.eta:
        common += ["--eta", args.eta]
    if not args.float:
        common.append("--fixed-point")
    rows, weights = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("engine", "lava"):
            out = Path(tmp) / backend
            t0 = time.time()
            rc = cli.main(["train", *common, "--backend", backend, "--out", str(out)])
            if rc:
                return rc
            m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
            rows[backend] = {"test_acc": 100 * m["test_acc"], "train_acc_during_learning": 100 * m["train_acc"],
                             "train_wall_s": m["train_wall_s"], "test_wall_s": m["test_wall_s"],
                             "train_samples_per_s": m["samples_per_s"], "total_wall_s": round(time.time() - t0, 1)}
            weights[backend] = load_weights(out / "weights.npz")
    same = all(np.array_equal(a, b) for a, b in zip(weights["engine"], weights["lava"]))
    result = {"dataset": "default (embedded MNIST subset)", "train_samples": args.train_samples,
              "test_samples": args.test_samples, "hidden": args.hidden, "steps": args.steps, "mode": args.mode,
              "precision": "float" if args.float else "fixed", "epochs": 1,
              "eta": float(args.eta) if args.eta else None,
              "load_avg_1min_at_end": round(os.getloadavg()[0], 2), "batch_updates": "per-sample",
              "seed": 0, "weights_identical": bool(same), "backends": rows,
              "machine": machine_info(load=False), "written": now()}
    write_result(args.out, result, show="json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
