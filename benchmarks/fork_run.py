"""Fork a run folder at an epoch boundary into a run with another learning-rate schedule.

Two SSNN-BP runs whose settings differ only in the schedule, and whose schedules
give the same eta in epochs 1..E, compute the same weights through epoch E (every
random number is named by the seed and the sample index). So the second run does
not need to repeat those epochs: this script writes a run folder holding the
first run's state after epoch E (weights, metrics, a checkpoint at the epoch's end)
under the second run's settings; ``ssnnbp train`` (or ``benchmarks/accuracy.py``)
with those settings then resumes it at epoch E + 1, exactly as if it had run from
the start. The forked folder's config.json records where it came from.

Usage: python -m benchmarks.fork_run SRC DST --epoch E --eta-schedule step --eta-step 7 --eta-decay 0.5
"""
from __future__ import annotations

import argparse
import dataclasses
import secrets
import shutil
import sys
from pathlib import Path

import numpy as np

from lava_ssnnbp.runs import CHECKPOINT_FORMAT, RunError, RunSettings, check_chip_settings, eta_at, read_run_folder
from lava_ssnnbp.runs.files import json_writer, npz_writer
from lava_ssnnbp.runs.state import StateWriter, read_manifest, state_folder


def fork(src: Path, dst: Path, epoch: int, **changes) -> Path:
    """Write ``dst``: ``src``'s state after ``epoch`` epochs under its settings with
    ``changes`` (schedule fields only), after checking that the schedules agree
    through that epoch. Returns ``dst``."""
    allowed = {"eta_schedule", "eta_step", "eta_decay", "epochs"}
    if set(changes) - allowed:
        raise RunError(f"only {', '.join(sorted(allowed))} can differ in a fork, not {sorted(set(changes) - allowed)}")
    folder = read_run_folder(src)
    if len(folder.metrics) != epoch or folder.weights is None:
        raise RunError(f"{src} holds {len(folder.metrics)} finished epochs; its weights.npz is the state after "
                       f"epoch {epoch} only when exactly {epoch} have finished")
    old = folder.settings
    new = RunSettings(**{**dataclasses.asdict(old), **changes})
    cfg = folder.cfg
    for e in range(epoch):
        if eta_at(cfg.eta, old, e) != eta_at(cfg.eta, new, e):
            raise RunError(f"the schedules differ in epoch {e + 1}: this fork would not be the run it claims")
    if cfg.loihi2:
        check_chip_settings(cfg, new)
    if dst.exists():
        raise RunError(f"{dst} exists; remove it first")
    dst.mkdir(parents=True)
    state = StateWriter(dst)
    try:
        saved = dict(folder.saved)
        saved["run"] = dataclasses.asdict(new)
        saved["run_id"] = secrets.token_hex(8)
        saved["forked_from"] = {"folder": str(src), "after_epoch": epoch,
                                "why": "the schedules agree through this epoch, so the states are identical"}
        state.write_file("config.json", json_writer(saved))
        seen = sum(int(m["train_samples"]) for m in folder.metrics)
        weights = {f"w{k}": w for k, w in enumerate(folder.weights)}
        files = {"checkpoint.npz": npz_writer({**weights, "format": np.array(CHECKPOINT_FORMAT),
                                               "epoch": np.array(epoch), "position": np.array(0),
                                               "samples_seen": np.array(seen)}),
                 "weights.npz": npz_writer(weights), "metrics.json": json_writer({"epochs": folder.metrics})}
        committed = state_folder(src, read_manifest(src))
        for name in ("metrics.csv", "learning_curve.png"):
            if (committed / name).exists():
                files[name] = lambda f, data=(committed / name).read_bytes(): f.write(data)
        state.commit(files, saved["run_id"])
        read_run_folder(dst)      # the fork reads back as a whole run folder
    except BaseException:
        shutil.rmtree(dst, ignore_errors=True)
        raise
    finally:
        state.close()
    return dst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="run folder to fork")
    ap.add_argument("dst", type=Path, help="new run folder (must not exist)")
    ap.add_argument("--epoch", type=int, required=True, help="finished epochs of SRC to take over")
    ap.add_argument("--eta-schedule", required=True)
    ap.add_argument("--eta-step", type=int, default=None)
    ap.add_argument("--eta-decay", type=float, default=None)
    args = ap.parse_args(argv)
    changes = {k: v for k, v in (("eta_schedule", args.eta_schedule), ("eta_step", args.eta_step),
                                 ("eta_decay", args.eta_decay)) if v is not None}
    try:
        out = fork(args.src.expanduser(), args.dst.expanduser(), args.epoch, **changes)
    except RunError as e:
        print(f"fork_run: error: {e}", file=sys.stderr)
        return 2
    print(f"forked {args.src} after epoch {args.epoch} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
