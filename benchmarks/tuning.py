"""Hyper-parameter sweep on a training subset: how the library's defaults were chosen.

Each variant is one ``ssnnbp train`` run (784-1280-10, 'rate' mode, WTA and
dropout on, 10,000 training images, 2 epochs) that changes one setting of a
common base. With ``--val-samples N`` (default 5,000) N further training
images are held out and scored after each epoch: choose on that validation
accuracy, not on the test accuracy (a class-balanced 2,000 of the test images,
reported too). Run folders live under --runs (resumable: running again
finishes or skips them); the table goes to
benchmarks/results/tuning_<dataset>_subset.json.

2,000 scored images make one point's standard error about 0.5 points (5,000:
about 0.3): read the sweep for large effects (the learning rate), not for the
last decimal. (The MNIST sweep of 2026-11-25 predates the validation split and
was scored on the test subset.)

Usage:  python -m benchmarks.tuning [--dataset fashion-mnist] [--only eta0.1,eta0.3] [--runs DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent

BASE = ["--train-samples", "10000", "--test-samples", "2000", "--epochs", "2",
        "--steps", "50", "--batch-updates", "mini-batch", "--batch-size", "32", "--quiet"]
VARIANTS = {
    **{f"eta{e}": ["--eta", e] for e in ("0.01", "0.03", "0.1", "0.3", "1", "3")},
    "ig05": ["--eta", "0.3", "--input-gain", "0.5"],
    "thb2": ["--eta", "0.3", "--theta-hidden-grad", "2"],
    "wta5": ["--eta", "0.3", "--wta-inhibition", "5"],
    "wta1": ["--eta", "0.3", "--wta-inhibition", "1"],
    "B8": ["--eta", "0.3", "--batch-size", "8"],
    "per-sample": ["--eta", "0.3", "--batch-updates", "per-sample"],   # the on-chip schedule (B = 1)
    "T100": ["--eta", "0.3", "--steps", "100"],
    "dropin0": ["--eta", "0.3", "--dropout", "0,0.3"],                # no dropout on the input
    # the ANN twin's learning rate (SGD + momentum 0.9), on the same split
    **{f"ann-lr{lr}": ["--model", "ann", "--ann-lr", lr] for lr in ("0.003", "0.01", "0.03", "0.05")},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mnist", help="(default: %(default)s)")
    ap.add_argument("--val-samples", type=int, default=5000,
                    help="training images held out and scored each epoch; 0: none (default: %(default)s)")
    ap.add_argument("--runs", default=os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs") + "/tuning",
                    help="root of the run folders, one sub-folder per data set (default: %(default)s)")
    ap.add_argument("--only", default="", help=f"comma list of variants (default: all of {', '.join(VARIANTS)})")
    ap.add_argument("--out", default=None, help="(default: results/tuning_<dataset>_subset.json)")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s): {', '.join(unknown)}")
    from lava_ssnnbp import cli
    base = ["--preset", "none", "--dataset", args.dataset, *BASE] + (
        ["--val-samples", str(args.val_samples)] if args.val_samples else [])
    rows = []
    for name in names:
        out = Path(args.runs).expanduser() / args.dataset / name
        rc = cli.main(["train", *base, *VARIANTS[name], "--out", str(out)])
        if rc:
            return rc
        m = json.loads((out / "metrics.json").read_text())["epochs"]
        rows.append({"variant": name, "args": VARIANTS[name], "test_acc_per_epoch": [100 * r["test_acc"] for r in m],
                     "train_wall_s": round(sum(r["train_wall_s"] for r in m), 1)})
        if args.val_samples:
            rows[-1]["val_acc_per_epoch"] = [100 * r["val_acc"] for r in m]
        print(f"{name:8s} {' '.join(VARIANTS[name]):40s} " + (
            "val " + " ".join(f"{a:.2f}" for a in rows[-1]["val_acc_per_epoch"]) + "  " if args.val_samples else "")
            + "test " + " ".join(f"{a:.2f}" for a in rows[-1]["test_acc_per_epoch"]), flush=True)
    out_file = Path(args.out or HERE / "results" / f"tuning_{args.dataset}_subset.json")
    result = {"what": f"{args.dataset} subset sweep, one setting changed at a time", "base_args": base, "rows": rows,
              "machine": machine_info(), "written": now()}
    if out_file.exists():   # keep the variants of earlier calls run on the same base
        old = json.loads(out_file.read_text())
        if old.get("base_args") == base:
            done = {r["variant"] for r in rows}
            result["rows"] = [r for r in old["rows"] if r["variant"] not in done] + rows
    write_result(out_file, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
