"""Accuracy of the netx export (lava-dl) against our own evaluation of the same weights.

Trains a fixed-point SSNN-BP network with the engine (mini-batch updates, one
epoch), once per reset mode, evaluates it with ``Engine.predict_counts`` on the
test set, exports it with ``lava_ssnnbp.export.export_netx``, loads it back
with ``lava.lib.dl.netx.hdf5.Network`` and runs inference in Lava on the same
input spike trains (``export.run_netx``). Writes benchmarks/results/netx_export_<dataset>.json.

Usage: python -m benchmarks.netx_export [--dataset mnist] [--hidden 128] [--steps 20]
       [--train-samples N] [--test-samples N] [--resets zero,subtract] [--stream]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import rerun_command

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--mode", default="coincidence")
    ap.add_argument("--eta", type=float, default=0.2)
    ap.add_argument("--batch-size", type=int, default=20)
    ap.add_argument("--train-samples", type=int, default=None)
    ap.add_argument("--test-samples", type=int, default=None)
    ap.add_argument("--resets", default="zero,subtract")
    ap.add_argument("--stream", action="store_true", help="also run netx without clearing buffers between samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    from lava_ssnnbp import export as ex
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.engine import Engine
    from lava_ssnnbp.training import epoch_order, versions

    train = load_dataset(args.dataset, "train", args.data_dir)
    test = load_dataset(args.dataset, "test", args.data_dir)
    if args.train_samples:
        train = train.subset(args.train_samples, args.seed)
    if args.test_samples:
        test = test.subset(args.test_samples, args.seed)
    rows = []
    for reset in args.resets.split(","):
        cfg = SSNNConfig(sizes=(train.input_size, args.hidden, train.num_classes), steps=args.steps,
                         fixed_point=True, mode=args.mode, eta=args.eta, reset=reset)
        eng = Engine(cfg, seed=args.seed)
        order = epoch_order(args.seed, 0, len(train))
        t0 = time.time()
        for a in range(0, len(train), args.batch_size):
            idx = order[a:a + args.batch_size]
            eng.train_batch(train.x[idx], train.y[idx], "mini-batch")
        train_s = time.time() - t0
        ids = np.arange(len(test))
        t0 = time.time()
        ours = np.concatenate([eng.predict_counts(test.x[a:a + 500], ids[a:a + 500])
                               for a in range(0, len(test), 500)])
        ours_s = time.time() - t0
        row = {"reset": reset, "config": cfg.to_dict(), "train_s": round(train_s, 1),
               "ours_acc": round(100 * float(np.mean(ours.argmax(1) == test.y)), 2), "ours_s": round(ours_s, 1)}
        with tempfile.TemporaryDirectory() as tmp:
            info = ex.export_netx(cfg, eng.weights, Path(tmp) / "net.h5")
            row["exact_by_construction"], row["differences"] = info.exact, info.notes
            spikes = ex.encode_test_inputs(cfg, test.x, args.seed)
            for clear in (True, False) if args.stream else (True,):
                t0 = time.time()
                counts = ex.run_netx(info.path, spikes, clear_buffers=clear, progress=True)
                key = "netx" if clear else "netx_stream"
                row[f"{key}_acc"] = round(100 * float(np.mean(counts.argmax(1) == test.y)), 2)
                row[f"{key}_same_counts"] = float(np.mean((counts == ours).all(axis=1)))
                row[f"{key}_s"] = round(time.time() - t0, 1)
                row[f"{key}_minus_ours"] = round(row[f"{key}_acc"] - row["ours_acc"], 2)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "config"}), flush=True)
    out = Path(args.out or HERE / "results" / f"netx_export_{args.dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "what": "test accuracy (%) of our engine vs the netx export run in Lava, same weights and input spikes",
        "dataset": args.dataset, "train_samples": len(train), "test_samples": len(test),
        "hidden": args.hidden, "steps": args.steps, "mode": args.mode, "eta": args.eta,
        "batch_updates": f"mini-batch {args.batch_size}, 1 epoch", "seed": args.seed,
        "rows": rows, "versions": versions(), "machine": platform.platform(),
        "command": rerun_command("benchmarks.netx_export", argv)}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
