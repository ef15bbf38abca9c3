"""What the sections of RESULTS.md share: the paper's numbers, a result's mean +/- std,
its dropout, and reading a results JSON (``make_results``, ``chip_results``)."""
from __future__ import annotations

import json
from pathlib import Path

PAPER = {  # Biswas, Saraswat, Ganguly 2023, Table 1/2 (test accuracy %, 784-1280-C)
    ("mnist", "snn"): "98.65 +/- 0.04", ("mnist", "ann"): "98.67",
    ("fashion-mnist", "snn"): "90.5 +/- 0.2", ("fashion-mnist", "ann"): "90.8 +/- 0.1",
    ("emnist", "snn"): "85.76 +/- 0.15", ("emnist", "ann"): "86 +/- 0.06",
}


def format_mean(r) -> str:
    if r["test_acc_mean"] is None:
        return "not finished"
    n = len(r["seeds_finished"])
    return f"**{r['test_acc_mean']:.2f} +/- {r['test_acc_std']:.2f}** (n={n})" if n > 1 else f"**{r['test_acc_mean']:.2f}** (n=1)"


def seed_columns(r) -> tuple:
    """A result's per-seed test accuracies, best epochs and wall times as table cells, and the note on
    its unfinished seeds ("" when every seed finished)."""
    per_seed = ", ".join(f"{a:.2f}" for a in r["test_acc_per_seed"])
    best = ", ".join(f"{a:.2f}" for a in r["best_epoch_acc_per_seed"])
    wall = ", ".join(f"{float(w) / 60:.0f} min" for w in r["wall_s_per_seed"].values())
    unfinished = ("; unfinished seeds (epochs done): " + ", ".join(f"{s}: {e}" for s, e in r["unfinished"].items())
                  if r["unfinished"] else "")
    return per_seed, best, wall, unfinished


def dropout_text(mc: dict) -> str:
    return ", ".join(f"{p:g}" for p in mc.get("dropout") or []) or "none"


def load_result(res: Path, name):
    f = res / name
    return json.loads(f.read_text()) if f.exists() else None
