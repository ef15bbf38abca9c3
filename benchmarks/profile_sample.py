"""Where the time of one training sample goes, per schedule and update rule.

Times the stages of ``Engine.train_batch`` on MNIST images (784-1280-10 by
default) by running them one by one exactly as the engine does: encoding the
input, target and dropout trains; the input synapses' drive for all steps
(``dynamics.forward_drive_many``, step-by-step schedule only); the T-step
simulation (the compiled one-hidden-layer pass, or the step-by-step schedule
for other networks), with the pass's pair counting ('coincidence'); the replay window
('replay': the neurons' trains and their pair counts); and the weight update
(``Engine.apply``). With the compiled one-hidden-layer pass the input drive, the
neuron steps, the WTA, the backward drive and the pass's pair counting are one
call, so they are one stage ('simulation'); ``benchmarks/throughput.py`` counts
their events. CPU time per sample (``time.process_time``), so other jobs
on the machine distort it less than wall time; the stages' sum is checked
against one plain ``train_batch`` over the same samples.

Usage: python -m benchmarks.profile_sample [--modes coincidence,replay] [--batch-sizes 1,32]
       [--steps 50] [--samples 300] [--out benchmarks/results/profile_sample_T50.json]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent


def profile(x, y, cfg, batch: int, samples: int) -> dict:
    """Times ``samples`` training samples (rounded down to whole batches) after one warm-up batch."""
    from lava_ssnnbp.engine import Engine, encode_batch

    eng = Engine(cfg, seed=0)
    eng.train_batch(x[:batch], y[:batch], "mini-batch")          # warm-up (compilation)
    stages = dict.fromkeys(("encode", "input drive", "simulation", "replay window", "update"), 0.0)
    n = samples // batch * batch
    clock = time.process_time
    for a in range(batch, batch + n, batch):
        ids = np.arange(eng.samples_seen, eng.samples_seen + batch)
        t = clock()
        b = encode_batch(cfg, x[a:a + batch], y[a:a + batch], ids, eng.seed, train=True)
        stages["encode"] += clock() - t
        res = eng.simulate(b, train=True, timer=stages)
        t = clock()
        eng.apply(res, int(ids[0]))
        stages["update"] += clock() - t
        eng.samples_seen += batch
    plain = Engine(cfg, seed=0)
    plain.train_batch(x[:batch], y[:batch], "mini-batch")
    t = clock()
    for a in range(batch, batch + n, batch):
        plain.train_batch(x[a:a + batch], y[a:a + batch], "mini-batch")
    whole = (clock() - t) / n
    same = all(np.array_equal(u, v) for u, v in zip(eng.weights, plain.weights))
    ms = {k: round(1e3 * v / n, 3) for k, v in stages.items()}
    # what train_batch spends beyond the stages: its checks and the per-sample loop's Python
    ms["other (train_batch - stages)"] = round(1e3 * whole - sum(ms.values()), 3)
    return {"ms_per_sample": ms, "sum_ms": round(sum(ms.values()), 3), "train_batch_ms": round(1e3 * whole, 3),
            "same_weights_as_train_batch": bool(same), "samples": n}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modes", default="coincidence,replay", help="update rules (default: %(default)s)")
    ap.add_argument("--batch-sizes", default="1,32", help="1 = per-sample (on-chip), B > 1 = summed mini-batch "
                                                         "(default: %(default)s)")
    ap.add_argument("--precisions", default="fixed,float", help="(default: %(default)s)")
    ap.add_argument("--steps", "-T", type=int, default=50, help="(default: %(default)s)")
    ap.add_argument("--hidden", type=int, default=1280, help="(default: %(default)s)")
    ap.add_argument("--samples", type=int, default=300, help="timed samples per point (default: %(default)s)")
    ap.add_argument("--dataset", default="mnist", help="(default: %(default)s)")
    ap.add_argument("--out", default=None, help="(default: benchmarks/results/profile_sample_T<T>.json)")
    a = ap.parse_args(argv)
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    batches = [int(b) for b in a.batch_sizes.split(",")]
    if a.steps < 1 or a.samples < 1 or a.hidden < 1 or min(batches) < 1:
        ap.error("steps, samples, hidden and batch sizes must be positive")
    ds = load_dataset(a.dataset, "train").subset(a.samples + 2 * max(batches), seed=0)
    out = Path(a.out) if a.out else HERE / "results" / f"profile_sample_T{a.steps}.json"
    res = {"network": [784, a.hidden, 10], "steps": a.steps, "dataset": a.dataset, "points": [],
           "clock": "process_time (CPU seconds of this process)",
           "machine": machine_info(), "written": now()}
    for prec in a.precisions.split(","):
        for mode in a.modes.split(","):
            for b in batches:
                cfg = SSNNConfig(sizes=(784, a.hidden, 10), steps=a.steps, mode=mode, fixed_point=prec == "fixed")
                p = {"mode": mode, "precision": prec, "batch": b, **profile(ds.x, ds.y, cfg, b, a.samples)}
                res["points"].append(p)
                print(f"{mode:12s} {prec:5s} B={b:<3d} " + "  ".join(f"{k} {v:.2f}" for k, v in p["ms_per_sample"].items())
                      + f"  | sum {p['sum_ms']:.2f} ms, train_batch {p['train_batch_ms']:.2f} ms/sample", flush=True)
    write_result(out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
