"""Test accuracy of trained networks simulated for more (or fewer) steps than they were trained with.

A network trained at T steps runs at any T' (``ssnnbp evaluate --steps``): thresholds
and rates are per step and the synaptic time constant scales with T', so a longer
inference only averages the Bernoulli input encoding over more steps. This measures
what that buys -- how much of a network's test error is encoding noise at test time
rather than what it learned -- and what it costs in time steps on a chip.
Writes ``results/inference_steps.json`` (rows merged by run and T'); make_results.py
shows it.

Example::

    python -m benchmarks.inference_steps ~/ssnnbp-runs/bench/mnist_rate_T50_seed0 --steps 25,50,100,200
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def evaluate_at(run: Path, steps: int, data_dir=None, test_samples=None) -> dict:
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import accuracy_from_counts, evaluate_counts, load_weights
    saved = json.loads((run / "config.json").read_text())
    cfg, rs = SSNNConfig.from_dict(saved["model"]), saved["run"]
    trained = cfg.steps
    cfg = cfg.with_steps(steps)
    test = load_dataset(rs["dataset"], "test", data_dir or rs.get("data_dir"), steps=steps)
    if test_samples:
        test = test.subset(test_samples, 0)
    t0 = time.perf_counter()
    counts = evaluate_counts(cfg, load_weights(run / "weights.npz"), test.x, rs.get("seed", 0), progress=False)
    return {"run": run.name, "dataset": rs["dataset"], "mode": cfg.mode, "trained_steps": trained,
            "steps": steps, "seed": rs.get("seed", 0), "test_samples": len(test),
            "test_acc": round(100 * accuracy_from_counts(counts, test.y), 2),
            "eval_wall_s": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    from lava_ssnnbp.cli import int_list
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=lambda p: Path(p).expanduser(), metavar="RUN_DIR",
                    help="run folders of 'ssnnbp train'")
    ap.add_argument("--steps", type=int_list, default=(25, 50, 100, 200), metavar="T[,T...]",
                    help="test-time T values, comma-separated (default: 25,50,100,200)")
    ap.add_argument("--data-dir", default=None, help="data folder (default: the run's, then the usual search)")
    ap.add_argument("--test-samples", type=int, default=None, help="class-balanced test subset (default: all)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "inference_steps.json")
    a = ap.parse_args(argv)
    steps = list(a.steps)
    if any(s <= 0 for s in steps):
        ap.error(f"--steps: {','.join(map(str, steps))} (need positive integers)")
    for r in a.runs:
        if not (r / "config.json").exists() or not (r / "weights.npz").exists():
            ap.error(f"{r}: not a run folder (config.json and weights.npz needed)")
        if json.loads((r / "config.json").read_text())["run"].get("model", "snn") != "snn":
            ap.error(f"{r}: an ANN run folder has no time steps")
    rows = json.loads(a.out.read_text())["rows"] if a.out.exists() else []
    for r in a.runs:
        for s in steps:
            row = evaluate_at(r, s, a.data_dir, a.test_samples)
            print(f"{row['run']}: trained at T = {row['trained_steps']}, tested at T = {s}: "
                  f"{row['test_acc']:.2f}% ({row['eval_wall_s']} s)", flush=True)
            rows = [x for x in rows if (x["run"], x["steps"], x["test_samples"]) != (row["run"], s, row["test_samples"])]
            rows.append(row)
            a.out.parent.mkdir(parents=True, exist_ok=True)
            a.out.write_text(json.dumps({"rows": sorted(rows, key=lambda x: (x["run"], x["steps"])),
                                         "written": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
