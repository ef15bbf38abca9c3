"""Test accuracy of a float-trained network with its weights rounded to fixed point.

Splits the on-chip configuration's loss against float training in two: what the
fixed-point *inference* loses (the trained float weights rounded to B-bit mantissas,
then run in the fixed-point engine, or with the rounded weights in the float
engine) and, by difference with a fixed-point training run, what fixed-point
*learning* loses (the stochastic rounding of every update). Each row: one run
folder, one weight format (bits, exponent per layer), one simulator.
Writes ``results/weight_precision.json`` (rows merged by run, format and
simulator); make_results.py shows it.

Example::

    python -m benchmarks.weight_precision ~/ssnnbp-runs/bench/mnist_replay_T50_ps_seed0 --formats 8:0,0 9:-1,-1
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_format(text: str):
    """'BITS:E0,E1' -> (bits, (e0, e1))."""
    bits, _, exps = text.partition(":")
    return int(bits), tuple(int(e) for e in exps.split(",")) if exps else ()


def evaluate(run: Path, fmt, simulator: str, data_dir=None, test_samples=None) -> dict:
    """Accuracy of ``run``'s float weights rounded to ``fmt`` (None: as trained),
    simulated in fixed point ('fixed') or with the rounded weights in float ('float')."""
    import numpy as np

    from lava_ssnnbp import fixed_point as fxp
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import accuracy_from_counts, evaluate_counts, load_weights
    saved = json.loads((run / "config.json").read_text())
    cfg, rs = SSNNConfig.from_dict(saved["model"]), saved["run"]
    weights = load_weights(run / "weights.npz")
    row = {"run": run.name, "dataset": rs["dataset"], "mode": cfg.mode, "seed": rs.get("seed", 0),
           "simulator": simulator, "bits": None, "weight_exp": None}
    if fmt is not None:
        bits, exps = fmt
        exps = exps or (0,) * len(weights)
        q = [fxp.quantize_weights(w, e, bits) for w, e in zip(weights, exps)]
        row.update(bits=bits, weight_exp=list(exps),
                   saturated_pct=[round(100 * float(np.mean(np.abs(m) >= 2 ** (bits - 1) - 1)), 4) for m in q])
        if simulator == "fixed":
            cfg, weights = dataclasses.replace(cfg, fixed_point=True, weight_bits=bits, weight_exp=exps), q
        else:
            weights = [fxp.dequantize_weights(m, e).astype(w.dtype) for m, e, w in zip(q, exps, weights)]
    test = load_dataset(rs["dataset"], "test", data_dir or rs.get("data_dir"), steps=cfg.steps)
    if test_samples:
        test = test.subset(test_samples, 0)
    t0 = time.perf_counter()
    counts = evaluate_counts(cfg, weights, test.x, rs.get("seed", 0), progress=False)
    row.update(test_samples=len(test), test_acc=round(100 * accuracy_from_counts(counts, test.y), 2),
               eval_wall_s=round(time.perf_counter() - t0, 1))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=lambda p: Path(p).expanduser(), metavar="RUN_DIR",
                    help="run folders of 'ssnnbp train' trained in floating point")
    ap.add_argument("--formats", nargs="+", default=["8:0,0", "9:-1,-1"], metavar="BITS:E0,E1",
                    help="weight formats: signed mantissa bits and one exponent per synapse layer "
                         "(a unit is 2**E / 64) (default: %(default)s)")
    ap.add_argument("--data-dir", default=None, help="data folder (default: the run's, then the usual search)")
    ap.add_argument("--test-samples", type=int, default=None, help="class-balanced test subset (default: all)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "weight_precision.json")
    a = ap.parse_args(argv)
    try:
        formats = [parse_format(f) for f in a.formats]
    except ValueError:
        ap.error(f"--formats: {' '.join(a.formats)!r} (need BITS:E0,E1,..., e.g. 9:-1,-1)")
    for bits, _ in formats:
        if not 2 <= bits <= 16:
            ap.error(f"--formats: {bits} bits (need 2..16)")
    if a.test_samples is not None and a.test_samples < 1:
        ap.error(f"--test-samples: {a.test_samples} (need >= 1)")
    for r in a.runs:
        if not (r / "config.json").exists() or not (r / "weights.npz").exists():
            ap.error(f"{r}: not a run folder (config.json and weights.npz needed)")
        saved = json.loads((r / "config.json").read_text())
        if saved["run"].get("model", "snn") != "snn" or saved["model"].get("fixed_point"):
            ap.error(f"{r}: not a floating-point SSNN-BP run")
        n_layers = len(saved["model"]["sizes"]) - 1
        for bits, exps in formats:
            if exps and len(exps) != n_layers:
                ap.error(f"--formats: {bits}:{','.join(map(str, exps))} (need {n_layers} exponents for {r.name})")

    from benchmarks.result_files import now, write_result
    rows = json.loads(a.out.read_text())["rows"] if a.out.exists() else []
    key = lambda x: (x["run"], x["simulator"], x["bits"] or 0, tuple(x["weight_exp"] or ()), x["test_samples"])  # noqa: E731
    for r in a.runs:
        jobs = [(None, "float")] + [(f, s) for f in formats for s in ("float", "fixed")]
        for fmt, sim in jobs:
            row = evaluate(r, fmt, sim, a.data_dir, a.test_samples)
            what = "as trained" if fmt is None else f"{row['bits']}-bit, exp {row['weight_exp']}, {sim} simulation"
            print(f"{row['run']}: {what}: {row['test_acc']:.2f}% ({row['eval_wall_s']} s)", flush=True)
            rows = [x for x in rows if key(x) != key(row)] + [row]
            write_result(a.out, {"rows": sorted(rows, key=key), "written": now()}, show=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
