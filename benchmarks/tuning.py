"""Hyper-parameter sweep on an MNIST subset: how the library's defaults were chosen.

Each variant is one ``ssnnbp train`` run (784-1280-10, 'rate' mode, WTA and
dropout on, 10,000 training images, 2 epochs, tested on a class-balanced 2,000
of the 10,000 test images) that changes one setting of a common base. Run
folders live under --runs (resumable: running again finishes or skips them);
the table goes to benchmarks/results/tuning_mnist_subset.json.

The test subset makes one point's standard error about 0.5 points: read the
sweep for large effects only (the learning rate), not for the last decimal.

Usage:  python benchmarks/tuning.py [--runs ~/ssnnbp-runs/tuning] [--only eta0.3,T100]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

BASE = ["--dataset", "mnist", "--train-samples", "10000", "--test-samples", "2000", "--epochs", "2",
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
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", default=os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs") + "/tuning",
                    help="root of the run folders (default: %(default)s)")
    ap.add_argument("--only", default="", help=f"comma list of variants (default: all of {', '.join(VARIANTS)})")
    ap.add_argument("--out", default=str(HERE / "results" / "tuning_mnist_subset.json"))
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s): {', '.join(unknown)}")
    from lava_ssnnbp import cli
    rows = []
    for name in names:
        out = Path(args.runs).expanduser() / name
        rc = cli.main(["train", *BASE, *VARIANTS[name], "--out", str(out)])
        if rc:
            return rc
        m = json.loads((out / "metrics.json").read_text())["epochs"]
        rows.append({"variant": name, "args": VARIANTS[name], "test_acc_per_epoch": [100 * r["test_acc"] for r in m],
                     "train_wall_s": round(sum(r["train_wall_s"] for r in m), 1)})
        print(f"{name:8s} {' '.join(VARIANTS[name]):40s} test " +
              " ".join(f"{a:.2f}" for a in rows[-1]["test_acc_per_epoch"]), flush=True)
    result = {"what": "MNIST subset sweep, one setting changed at a time", "base_args": BASE, "rows": rows,
              "machine": {"node": platform.node(), "cpus": os.cpu_count()},
              "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
