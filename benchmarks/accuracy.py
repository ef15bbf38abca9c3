"""Accuracy benchmark: SSNN-BP (and its ANN twin) on a data set, several seeds.

Each seed is an ordinary ``ssnnbp train`` run folder under ``--runs`` (default
``~/ssnnbp-runs/bench``), so a killed benchmark resumes where it stopped: run
the same command again. Only finished seeds enter the result; unfinished
ones are listed with the epochs they have done. Results go to
``benchmarks/results/<dataset>_<model>_<mode>_T<T>.json`` and
``python benchmarks/make_results.py`` turns all of them into RESULTS.md.

Examples::

    python benchmarks/accuracy.py --dataset mnist --mode rate --seeds 0,1,2 --epochs 20
    python benchmarks/accuracy.py --dataset fashion-mnist --model ann --seeds 0,1,2 --epochs 20
    python benchmarks/accuracy.py --dataset mnist --mode coincidence --train-samples 10000 --epochs 2

Any other ``ssnnbp train`` option (e.g. ``--eta 0.02 --eta-schedule step``) is passed through.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Unlisted options are passed to 'ssnnbp train'.")
    ap.add_argument("--dataset", default="mnist", help="data set (default: %(default)s)")
    ap.add_argument("--model", default="snn", choices=("snn", "ann"), help="(default: %(default)s)")
    ap.add_argument("--mode", default="rate", help="SNN update rule (default: %(default)s)")
    ap.add_argument("--steps", "-T", type=int, default=100, help="time steps per sample (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=20, help="(default: %(default)s)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    ap.add_argument("--runs", default=os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs") + "/bench",
                    help="root of the run folders, outside the repository (default: %(default)s)")
    ap.add_argument("--tag", default="", help="suffix that names this variant in file names")
    ap.add_argument("--results", default=str(HERE / "results"), help="folder for the JSON result")
    args, passthrough = ap.parse_known_args(argv)
    from lava_ssnnbp import cli
    seeds = [int(s) for s in args.seeds.split(",")]
    mode = "ann" if args.model == "ann" else args.mode
    name = f"{args.dataset}_{mode}_T{args.steps}{'_' + args.tag if args.tag else ''}"
    if "--fixed-point" in passthrough and "fixed" not in name:
        name += "_fixed"
    finished, unfinished, wall = [], [], {}
    for seed in seeds:
        out = Path(args.runs).expanduser() / f"{name}_seed{seed}"
        cmd = ["train", "--dataset", args.dataset, "--model", args.model, "--mode", args.mode,
               "--steps", str(args.steps), "--epochs", str(args.epochs), "--seed", str(seed),
               "--out", str(out), *passthrough]
        print(f"== seed {seed}: ssnnbp {' '.join(cmd)}", flush=True)
        rc = cli.main(cmd)
        if rc != 0:
            return rc
        metrics = json.loads((out / "metrics.json").read_text())["epochs"]
        wall[seed] = sum(m["train_wall_s"] + m.get("test_wall_s", 0.0) for m in metrics)
        (finished if len(metrics) >= args.epochs else unfinished).append((seed, out, metrics))
    cfg = json.loads((finished or unfinished)[0][1].joinpath("config.json").read_text())
    accs = [100 * m[-1]["test_acc"] for _, _, m in finished]
    result = {
        "dataset": args.dataset, "model": args.model, "mode": None if args.model == "ann" else args.mode,
        "steps": args.steps, "epochs": args.epochs, "seeds_finished": [s for s, _, _ in finished],
        "test_acc_per_seed": accs,
        "test_acc_mean": float(np.mean(accs)) if accs else None,
        "test_acc_std": float(np.std(accs)) if accs else None,
        "best_epoch_acc_per_seed": [100 * max(r["test_acc"] for r in m) for _, _, m in finished],
        "curves": {str(s): [100 * r["test_acc"] for r in m] for s, _, m in finished + unfinished},
        "unfinished": {str(s): len(m) for s, _, m in unfinished},
        "wall_s_per_seed": {str(s): round(w, 1) for s, w in wall.items()},
        "train_samples": (finished or unfinished)[0][2][0]["train_samples"] if (finished or unfinished)[0][2] else None,
        "test_samples": (finished or unfinished)[0][2][0]["test_samples"] if (finished or unfinished)[0][2] else None,
        "model_config": cfg["model"], "run_settings": cfg["run"], "extra_args": passthrough,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    Path(args.results).mkdir(parents=True, exist_ok=True)
    path = Path(args.results) / f"accuracy_{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    summary = (f"{result['test_acc_mean']:.2f} +/- {result['test_acc_std']:.2f} % over seeds "
               f"{result['seeds_finished']}" if accs else "no seed finished yet")
    print(f"{name}: {summary}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
