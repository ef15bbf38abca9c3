"""Hidden neurons silenced at the start of training, per weight-update schedule.

A hidden neuron that stops spiking on every image never opens its gradient gate
again, so its weights stop learning for good (a dead ReLU). This script trains
the same network from the same initial weights under several update schedules
and, every --every training samples, counts the hidden neurons that spike on
none of --probe test images (class-balanced) and the fraction active per image.

Schedules (all `rate`, the given T, eta and dropout, constant eta):
  mini-batch         summed updates of --batch samples, full eta from the first sample
  mini-batch-warmup  the same, eta ramped up linearly over --warmup samples (--eta-warmup)
  per-sample         one update after every sample (the on-chip schedule)
  mini-batch-eta/3   summed updates with eta / 3

Writes results/silent_neurons_<dataset>.json and figures/silent_neurons_<dataset>.png
(docs/findings.md, "Silent hidden neurons").

Example::

    python -m benchmarks.silent_neurons --dataset fashion-mnist --samples 16000
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCHEDULES = ("mini-batch", "mini-batch-warmup", "per-sample", "mini-batch-eta/3")


def silent_and_active(eng, probe):
    """(hidden neurons silent on every probe image, mean fraction active per image)."""
    import numpy as np
    counts = eng.predict(probe.x, np.arange(len(probe.y))).x_counts[1]
    return int(np.sum(counts.sum(axis=0) == 0)), float(np.mean(counts > 0))


def trace(cfg, train, probe, schedule: str, batch: int, warmup: int, samples: int, every: int, seed: int) -> dict:
    """Silent-neuron counts while training ``samples`` images under ``schedule``."""
    from lava_ssnnbp.engine import Engine
    from lava_ssnnbp.training import RunSettings, epoch_order, eta_factor
    if schedule == "mini-batch-eta/3":
        cfg = cfg.replace(eta=cfg.eta / 3)
    eng = Engine(cfg, seed=seed)
    ramp = RunSettings(eta_warmup=warmup if schedule == "mini-batch-warmup" else 0)
    order = epoch_order(seed, 0, len(train.y))[:samples]
    silent, active = silent_and_active(eng, probe)
    points = [{"samples": 0, "silent": silent, "active_fraction": active}]
    t0 = time.perf_counter()
    for start in range(0, samples, batch):
        idx = order[start:start + batch]
        eng.cfg = cfg.replace(eta=cfg.eta * eta_factor(ramp, start + len(idx)))
        eng.train_batch(train.x[idx], train.y[idx], "per-sample" if schedule == "per-sample" else "mini-batch")
        done = start + len(idx)
        if done // every > start // every or done == samples:
            silent, active = silent_and_active(eng, probe)
            points.append({"samples": done, "silent": silent, "active_fraction": active})
            print(f"  {schedule:18s} {done:6d} samples: {silent:4d} silent, {100 * active:5.1f} % active",
                  flush=True)
    return {"schedule": schedule, "eta": cfg.eta, "batch": 1 if schedule == "per-sample" else batch,
            "warmup": ramp.eta_warmup, "points": points, "wall_s": round(time.perf_counter() - t0, 1)}


def plot(res: dict, path: Path):
    from benchmarks.paper_figures.plots import pyplot, save_png
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    for tr in res["traces"]:
        n = [p["samples"] for p in tr["points"]]
        label = f"{tr['schedule']} (eta {tr['eta']:g}, B = {tr['batch']})"
        a.plot(n, [p["silent"] for p in tr["points"]], marker=".", label=label)
        b.plot(n, [100 * p["active_fraction"] for p in tr["points"]], marker=".", label=label)
    a.set_ylabel(f"hidden neurons silent on all {res['probe']} probe images")
    b.set_ylabel("hidden neurons active per image (%)")
    for ax in (a, b):
        ax.set_xlabel("training samples")
        ax.grid(alpha=0.3)
    a.legend(fontsize=7)
    fig.suptitle(f"{res['dataset']}: {'-'.join(map(str, res['network']))}, rate, T = {res['steps']}, "
                 f"dropout {res['dropout']}, seed {res['seed']}", fontsize=9)
    fig.tight_layout()
    return save_png(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="default", help="image source (default: the embedded MNIST subset)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--hidden", type=int, default=1280)
    ap.add_argument("--steps", "-T", type=int, default=50, help="time steps per sample (default: 50)")
    ap.add_argument("--eta", type=float, default=0.3, help="learning rate (default: 0.3)")
    ap.add_argument("--dropout", default="0.2,0.3", help="input,hidden dropout (default: 0.2,0.3)")
    ap.add_argument("--batch", type=int, default=32, help="mini-batch size (default: 32)")
    ap.add_argument("--warmup", type=int, default=10000, help="warm-up samples of mini-batch-warmup (default: 10000)")
    ap.add_argument("--samples", type=int, default=16000, help="training samples per schedule (default: 16000)")
    ap.add_argument("--every", type=int, default=1000, help="probe every N samples (default: 1000)")
    ap.add_argument("--probe", type=int, default=2000, help="test images probed (default: 2000)")
    ap.add_argument("--schedules", default=",".join(SCHEDULES), help=f"any of {', '.join(SCHEDULES)}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON path, the PNG beside it (default: results/silent_neurons_<dataset>.json, "
                         "figures/silent_neurons_<dataset>.png)")
    a = ap.parse_args(argv)
    schedules = [s for s in a.schedules.split(",") if s]
    bad = [s for s in schedules if s not in SCHEDULES]
    if bad or not schedules:
        ap.error(f"unknown schedule(s) {', '.join(bad) or '(none given)'}; choose from {', '.join(SCHEDULES)}")
    if min(a.hidden, a.steps, a.batch, a.samples, a.every, a.probe) <= 0 or a.warmup < 0 or not a.eta > 0:
        ap.error("hidden, steps, batch, samples, every, probe and eta must be positive, warmup >= 0")
    try:
        dropout = tuple(float(p) for p in a.dropout.split(","))
    except ValueError:
        ap.error(f"--dropout {a.dropout!r}: need two probabilities, e.g. 0.2,0.3")

    from lava_ssnnbp.config import ConfigError, SSNNConfig
    from lava_ssnnbp.data import DataError, load_dataset
    from lava_ssnnbp.training import save_json
    try:
        train = load_dataset(a.dataset, "train", a.data_dir)
        probe = load_dataset(a.dataset, "test", a.data_dir).subset(a.probe, 0)
        cfg = SSNNConfig(sizes=(int(train.x[0].size), a.hidden, int(train.y.max()) + 1), steps=a.steps,
                         mode="rate", eta=a.eta, dropout=dropout)
    except (DataError, ConfigError) as e:
        ap.exit(2, f"error: {e}\n")
    if train.x.ndim != 2:
        ap.exit(2, "error: event data sets (N-MNIST) are not supported here\n")
    samples = min(a.samples, len(train.y))
    res = {"dataset": a.dataset, "network": list(cfg.sizes), "steps": a.steps, "eta": a.eta, "dropout": a.dropout,
           "seed": a.seed, "probe": len(probe.y), "samples": samples, "every": a.every,
           "measured": time.strftime("%Y-%m-%dT%H:%M"), "traces": []}
    out = a.out or HERE / "results" / f"silent_neurons_{a.dataset}.json"
    for s in schedules:
        res["traces"].append(trace(cfg, train, probe, s, a.batch, a.warmup, samples, a.every, a.seed))
        save_json(out, res, indent=1)
    png = plot(res, out.with_suffix(".png") if a.out else HERE / "figures" / f"{out.stem}.png")
    print(f"wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
