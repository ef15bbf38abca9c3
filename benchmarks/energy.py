"""Energy and latency per training sample and per inference on Loihi, from counted events.

Trains 784-H-10 one epoch on the embedded MNIST subset (``--dataset default``,
the sample order of ``ssnnbp train --seed 0``, per-sample updates, fixed point,
'coincidence'), with ``Engine(learning_engine='lava')`` -- bit for bit the
learning-engine Lava network (tests/test_lava_learning_dense.py) and much faster --
then counts the events of ``--count`` training and test samples with the trained
weights and prices them with ``lava_ssnnbp.energy.LOIHI_2018`` (Davies et al.
2018, Table 2). Writes benchmarks/results/energy.json (one entry per hidden size),
next to Renner et al. 2024 and EMSTDP (Shrestha et al. 2021).

With ``--run RUN_DIR`` it prices a trained run instead (its config and weights,
the events of ``--count`` samples of its own data set): for a run of the chip
configuration (``--target loihi2``) the result goes under the key "loihi2"
(the newest such run priced) with ``training_mJ_per_sample`` {"low", "high"}
and the assumptions behind each bound (``lava_ssnnbp.energy.count_chip_events``).

Usage: python -m benchmarks.energy [--hidden 128] [--steps 30] [--train-samples 6000] [--count 200]
       python -m benchmarks.energy --run ~/ssnnbp-runs/bench/mnist_replay_T50_const_loihi2_seed0 [--count 200]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import now, rerun_command, write_result

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, default=128, help="hidden units (default: %(default)s)")
    ap.add_argument("--steps", type=int, default=30, help="T (default: %(default)s)")
    ap.add_argument("--mode", default="coincidence", help="'coincidence' or 'replay' (default: %(default)s)")
    ap.add_argument("--train-samples", type=int, default=6000, help="(default: %(default)s)")
    ap.add_argument("--count", type=int, default=200, help="samples whose events are counted (default: %(default)s)")
    ap.add_argument("--out", default=str(HERE / "results" / "energy.json"))
    ap.add_argument("--run", default=None, metavar="RUN_DIR", help="price this trained run (see above)")
    ap.add_argument("--key", default=None, help="the entry's key (default: 'loihi2' for a chip-configuration run)")
    args = ap.parse_args(argv)
    if args.run:
        return price_run(args, argv)

    from lava_ssnnbp import dynamics as dyn
    from lava_ssnnbp import energy
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data.registry import load_dataset
    from lava_ssnnbp.engine import Engine
    from lava_ssnnbp.training import epoch_order

    tr, te = load_dataset("default", "train"), load_dataset("default", "test")
    order = epoch_order(0, 0, len(tr.y))[: args.train_samples]
    cfg = SSNNConfig(sizes=(784, args.hidden, 10), steps=args.steps, fixed_point=True, mode=args.mode)
    eng = Engine(cfg, dyn.init_weights(cfg, 0), seed=0, learning_engine="lava")
    t0 = time.time()
    for a in range(0, len(order), 100):
        eng.train_batch(tr.x[order[a:a + 100]], tr.y[order[a:a + 100]], "per-sample")
    train_s = time.time() - t0
    acc = float(np.mean(eng.predict_counts(te.x, np.arange(len(te.y))).argmax(1) == te.y))
    n = args.count
    result = energy.sample_costs(cfg, eng.weights, tr.x[order[:n]], tr.y[order[:n]], te.x[:n], 0)
    print("\n".join(energy.lines(result)))
    key = f"784-{args.hidden}-10 {args.mode} T={args.steps}"
    entry = {"sizes": list(cfg.sizes), "steps": cfg.steps, "mode": cfg.mode, "precision": "fixed",
             "trained_on": f"default, {len(order)} samples, 1 epoch, seed 0, Engine(learning_engine='lava')",
             "train_wall_s": round(train_s, 1), "test_acc_1000": 100 * acc, **result,
             "command": rerun_command("benchmarks.energy", argv),
             "load_avg_1min": round(os.getloadavg()[0], 2), "written": now()}
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {}
    data[key] = entry
    write_result(out, data, show=None)
    return 0


CHIP_ASSUMPTIONS = {
    "low": "learning engine visits the synapses of the replay window's presynaptic spikes (their x0 terms) and, "
           "at the update step, the rows of the post neurons that fired in the window (y0 terms); host-chip spikes "
           "and static power not priced",
    "high": "learning engine also visits the synapses of every presynaptic spike of the pass and every plastic "
            "synapse (W and the mirrored W^T) at the update step; host-chip spikes and static power not priced",
}


def price_run(args, argv) -> int:
    """Price a trained run folder's weights (``--run``)."""
    from lava_ssnnbp import energy
    from lava_ssnnbp.data.core import DataError
    from lava_ssnnbp.data.registry import load_dataset
    from lava_ssnnbp.training import RunError, epoch_order, read_run_folder

    try:
        folder = read_run_folder(Path(args.run))
    except RunError as e:
        print(f"energy.py: error: {e}", file=sys.stderr)
        return 2
    if folder.weights is None or folder.settings.model != "snn":
        print(f"energy.py: error: {args.run} holds no trained SSNN-BP weights", file=sys.stderr)
        return 2
    cfg, rs = folder.cfg, folder.settings
    try:
        tr, te = load_dataset(rs.dataset, "train", rs.data_dir), load_dataset(rs.dataset, "test", rs.data_dir)
    except DataError as e:         # the run's data set is not on this machine
        print(f"energy.py: error: {e}", file=sys.stderr)
        return 2
    order = epoch_order(rs.seed, 0, len(tr.y))[: args.count]
    result = energy.sample_costs(cfg, folder.weights, tr.x[order], tr.y[order], te.x[: args.count], rs.seed)
    print("\n".join(energy.lines(result)))
    t = result["training_sample"]
    key = args.key or ("loihi2" if cfg.loihi2 else f"{rs.dataset} {cfg.mode} T={cfg.steps} run")
    entry = {"target": cfg.target, "run": str(Path(args.run).expanduser()), "dataset": rs.dataset,
             "sizes": list(cfg.sizes), "steps": cfg.steps, "replay_steps": cfg.replay_window,
             "epochs_trained": len(folder.metrics), "test_acc": 100 * folder.metrics[-1]["test_acc"], **result,
             "command": rerun_command("benchmarks.energy", argv),
             "load_avg_1min": round(os.getloadavg()[0], 2), "written": now()}
    if "energy_mj_low" in t:
        entry["training_mJ_per_sample"] = {"low": t["energy_mj_low"], "high": t["energy_mj_high"]}
        entry["training_ms_per_sample"] = {"low": t["latency_ms_low"], "high": t["latency_ms_high"]}
        entry["inference_mJ"] = result["inference"]["energy_mj"]
        entry["assumptions"] = CHIP_ASSUMPTIONS
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {}
    data[key] = entry
    write_result(out, data, show=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
