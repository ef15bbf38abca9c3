"""How sparse the pair-count updates are, and how few of them a B-sample learning epoch merges.

In fixed point every non-zero pair count of a learning epoch is one stochastic
rounding of one synapse's weight (``dynamics.fixed_point_step``): an update event.
A learning epoch of B samples (summed mini-batch updates; on a chip, the tag
accumulating over B samples) rounds once per synapse whose B counts do not sum
to zero, so it removes rounding noise only where one synapse is active in several
of the B samples. This script measures that on trained weights: the update events
per sample of each synapse layer, their mean |count|, and the events per sample
when B consecutive training samples share one learning epoch. Writes
``results/update_events.json``; make_results.py shows it.

Example::

    python -m benchmarks.update_events ~/ssnnbp-runs/bench/mnist_replay_T50_ps_w9_e60_fixed_seed0 --samples 256
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(run: Path, samples: int, epochs_of, data_dir=None) -> dict:
    """Update events of ``samples`` training samples (in data order, the run's seed)
    for learning epochs of each B in ``epochs_of`` (B = 1: per sample)."""
    import numpy as np

    from lava_ssnnbp import dynamics as dyn
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.engine import Engine, encode_batch
    from lava_ssnnbp.training import load_weights
    saved = json.loads((run / "config.json").read_text())
    cfg, rs = SSNNConfig.from_dict(saved["model"]), saved["run"]
    if cfg.mode not in dyn.PAIR_NUMERATORS and cfg.mode != "replay":
        raise SystemExit(f"error: {run.name}: mode {cfg.mode!r} has no pair counts (need coincidence or replay)")
    seed = rs.get("seed", 0)
    train = load_dataset(rs["dataset"], "train", data_dir or rs.get("data_dir"), steps=cfg.steps)
    eng = Engine(cfg, load_weights(run / "weights.npz"), seed)
    L, t0 = cfg.n_layers, time.perf_counter()
    per_sample = []                                  # per sample: the dense pair counts of each synapse layer
    for i in range(min(samples, len(train))):
        ids = np.arange(i, i + 1)
        res = eng.simulate(encode_batch(cfg, train.x[ids], train.y[ids], ids, seed, train=True), train=True)
        per_sample.append([res.numerators[k].dense() for k in range(L)])
    n = len(per_sample)
    out = {"run": run.name, "dataset": rs["dataset"], "mode": cfg.mode, "fixed_point": cfg.fixed_point,
           "sizes": list(cfg.sizes), "steps": cfg.steps, "samples": n, "synapses": [int(np.prod(c.shape))
                                                                                     for c in per_sample[0]],
           "mean_abs_count": [float(np.mean(np.concatenate([np.abs(s[k][s[k] != 0]) for s in per_sample])))
                              for k in range(L)],
           "epochs": []}
    for B in epochs_of:
        events = [0] * L
        for a in range(0, n - n % B, B):
            for k in range(L):
                events[k] += int(np.count_nonzero(sum(s[k] for s in per_sample[a:a + B])))
        used = n - n % B
        out["epochs"].append({"samples_per_epoch": B, "events_per_sample": [round(e / used, 2) for e in events]})
    base = out["epochs"][0]["events_per_sample"]
    for e in out["epochs"]:
        e["ratio_to_per_sample"] = [round(a / b, 4) if b else None for a, b in zip(e["events_per_sample"], base)]
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def main(argv=None) -> int:
    from lava_ssnnbp.cli import int_list
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=lambda p: Path(p).expanduser(), metavar="RUN_DIR",
                    help="run folder of 'ssnnbp train' (mode coincidence or replay)")
    ap.add_argument("--samples", type=int, default=256, help="training samples simulated (default: %(default)s)")
    ap.add_argument("--epochs-of", type=int_list, default=(1, 4, 32), metavar="B[,B...]",
                    help="samples per learning epoch to compare, the first must be 1 (default: 1,4,32)")
    ap.add_argument("--data-dir", default=None, help="data folder (default: the run's, then the usual search)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "update_events.json")
    a = ap.parse_args(argv)
    epochs_of = list(a.epochs_of)
    if epochs_of[0] != 1 or any(b < 1 for b in epochs_of):
        ap.error(f"--epochs-of: {','.join(map(str, epochs_of))} (need positive integers, the first 1)")
    if a.samples < max(epochs_of):
        ap.error(f"--samples: {a.samples} (need at least the largest B, {max(epochs_of)})")
    if not (a.run / "config.json").exists() or not (a.run / "weights.npz").exists():
        ap.error(f"{a.run}: not a run folder (config.json and weights.npz needed)")
    if json.loads((a.run / "config.json").read_text())["run"].get("model", "snn") != "snn":
        ap.error(f"{a.run}: not an SSNN-BP run")
    from benchmarks.result_files import machine_info, now, write_result
    row = measure(a.run, a.samples, epochs_of, a.data_dir)
    for e in row["epochs"]:
        print(f"{row['run']}: B = {e['samples_per_epoch']}: update events per sample {e['events_per_sample']} "
              f"(x{e['ratio_to_per_sample']} of per-sample)", flush=True)
    rows = json.loads(a.out.read_text())["rows"] if a.out.exists() else []
    rows = [r for r in rows if (r["run"], r["samples"]) != (row["run"], row["samples"])] + [row]
    write_result(a.out, {"rows": sorted(rows, key=lambda r: (r["run"], r["samples"])), "machine": machine_info(),
                         "written": now()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
