"""The learning-engine Lava network (LearningDense synapses) against the engine.

Trains 784-H-10 for one epoch on the embedded MNIST subset (``--dataset default``,
the sample order of ``ssnnbp train --seed 0``), per-sample updates, fixed point,
from the same initial weights ``dynamics.init_weights(cfg, 0)``, three ways:

* ``LearningEngineNetwork`` (Lava's LearningDense with the coincidence rule,
  Lava's bit-approximate learning engine), tested in the same Lava network;
* ``Engine`` as it is (per-synapse stochastic rounding, 8-bit saturation);
* ``Engine(learning_engine='lava')`` (Lava's shared per-epoch rounding and
  9-bit clip): must give the Lava network's weights bit for bit.

Writes accuracies, wall times and the weight comparisons to
benchmarks/results/learning_engine_network.json.

Usage: python -m benchmarks.learning_engine_network [--hidden 128] [--steps 30] [--train-samples 6000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, rerun_command, write_result

HERE = Path(__file__).resolve().parent


def _engine_run(cfg, w0, xtr, ytr, xte, yte, **kw):
    from lava_ssnnbp.engine import Engine
    eng = Engine(cfg, w0, seed=0, **kw)
    t0 = time.time()
    correct = 0
    for a in range(0, len(ytr), 50):
        c = eng.train_batch(xtr[a:a + 50], ytr[a:a + 50], "per-sample").out_counts
        correct += int(np.sum(np.argmax(c, axis=1) == ytr[a:a + 50]))
    train_s = time.time() - t0
    t1 = time.time()
    counts = np.concatenate([eng.predict_counts(xte[a:a + 200], np.arange(a, min(a + 200, len(yte))))
                             for a in range(0, len(yte), 200)])
    return eng.weights, {"test_acc": 100 * float(np.mean(np.argmax(counts, axis=1) == yte)),
                         "train_acc_during_learning": 100 * correct / len(ytr),
                         "train_wall_s": round(train_s, 1), "test_wall_s": round(time.time() - t1, 1)}, counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=128, help="hidden units (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=30, help="T (default: %(default)s)")
    ap.add_argument("--mode", default="coincidence", help="'coincidence' or 'replay' (default: %(default)s)")
    ap.add_argument("--train-samples", type=int, default=6000, help="(default: %(default)s, the whole embedded set)")
    ap.add_argument("--test-samples", type=int, default=1000, help="(default: %(default)s)")
    ap.add_argument("--out", default=str(HERE / "results" / "learning_engine_network.json"))
    args = ap.parse_args(argv)

    from lava_ssnnbp import dynamics as dyn
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data.registry import load_dataset
    from lava_ssnnbp.learning_network import LearningEngineNetwork
    from lava_ssnnbp.training import epoch_order

    tr, te = load_dataset("default", "train"), load_dataset("default", "test")
    order = epoch_order(0, 0, len(tr.y))[: args.train_samples]
    xtr, ytr = tr.x[order], tr.y[order]
    xte, yte = te.x[: args.test_samples], te.y[: args.test_samples]
    cfg = SSNNConfig(sizes=(784, args.hidden, 10), steps=args.steps, fixed_point=True, mode=args.mode)
    w0 = dyn.init_weights(cfg, 0)
    rows, weights = {}, {}

    t0 = time.time()
    correct = 0
    with LearningEngineNetwork(cfg, w0, seed=0, chunk=16) as net:
        for a in range(0, len(ytr), 16):
            c = net.train(xtr[a:a + 16], ytr[a:a + 16])
            correct += int(np.sum(np.argmax(c, axis=1) == ytr[a:a + 16]))
            if a % 800 == 0:
                print(f"lava: {a + len(c)} samples, {time.time() - t0:.0f} s", flush=True)
        train_s = time.time() - t0
        t1 = time.time()
        counts = net.predict_counts(xte)
        test_s = time.time() - t1
        weights["lava"] = net.weights
        back = net.backward_weights
        steps_run = net.time_step
    rows["lava_learning_dense"] = {"test_acc": 100 * float(np.mean(np.argmax(counts, axis=1) == yte)),
                                   "train_acc_during_learning": 100 * correct / len(ytr),
                                   "train_wall_s": round(train_s, 1), "test_wall_s": round(test_s, 1),
                                   "ms_per_step": round(1e3 * (train_s + test_s) / steps_run, 2)}
    transposes = {str(k): bool(np.array_equal(b, weights["lava"][k].T)) for k, b in back.items()}
    print(json.dumps(rows), flush=True)

    weights["engine"], rows["engine"], counts_e = _engine_run(cfg, w0, xtr, ytr, xte, yte)
    weights["engine_lava_rounding"], rows["engine_lava_rounding"], counts_l = _engine_run(
        cfg, w0, xtr, ytr, xte, yte, learning_engine="lava")

    def compare(a, b):
        return [{"identical": bool(np.array_equal(x, y)), "differing": int(np.sum(x != y)),
                 "max_abs_diff": int(np.abs(x.astype(np.int64) - y).max())} for x, y in zip(a, b)]

    result = {"dataset": "default (embedded MNIST subset)", "train_samples": len(ytr), "test_samples": len(yte),
              "sizes": list(cfg.sizes), "steps": cfg.steps, "mode": cfg.mode, "precision": "fixed",
              "eta": cfg.eta, "epochs": 1, "seed": 0, "batch_updates": "per-sample",
              "runs": rows,
              "lava_vs_engine_lava_rounding": {"weights": compare(weights["lava"], weights["engine_lava_rounding"]),
                                               "test_counts_identical": bool(np.array_equal(counts, counts_l))},
              "lava_vs_engine": {"weights": compare(weights["lava"], weights["engine"])},
              "backward_copy_is_transpose": transposes,
              "weights_beyond_8_bits": {"lava": [int(np.sum(np.abs(w) > 127)) for w in weights["lava"]]},
              "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
              "command": rerun_command("benchmarks.learning_engine_network", argv),
              "machine": machine_info(load=False), "written": now()}
    write_result(args.out, result, show="json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
