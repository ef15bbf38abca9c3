"""How coarsely do the hidden gradient neurons quantise the back-propagated error?

A hidden gradient neuron (d+ / d-, threshold ``theta_hidden_grad``) integrates
W^T (d+ - d-) of the layer above through the synaptic-current kernel while its
gate is open, and its threshold turns that into a spike count. This script runs a
trained network as during training (train thresholds, targets on, no dropout, no
update; the engine's own schedule) on training images and compares, per open
hidden neuron, the net count q = D+ - D- with what its membrane integrated,
u = (sum of the filtered drive over the open steps) / theta: the same signal
without the threshold's quantisation. It reports how many open neurons get q = 0,
and whether the summed mini-batch update of the first synapse layer, sum_b q_b x_b^T,
points where the unquantised one, sum_b u_b x_b^T, does (cosine) and how large it
is (least-squares gain). Writes ``results/gradient_resolution_<dataset>.json``.

Example::

    python benchmarks/gradient_resolution.py ~/ssnnbp-runs/bench/fashion-mnist_rate_T50_dropin0_wu10k_e60_seed0
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing


def measure(run: Path, samples: int, batch: int, data_dir=None, seed: int = 123) -> dict:
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.engine import Engine, encode_batch
    from lava_ssnnbp.training import load_weights

    saved = json.loads((run / "config.json").read_text())
    cfg = SSNNConfig.from_dict(saved["model"])
    if cfg.n_layers != 2:
        raise SystemExit(f"{run}: the analysis is for one hidden layer, this network has {cfg.n_layers - 1}")
    cfg = cfg.replace(dropout=(0.0,) * len(cfg.dropout))
    eng = Engine(cfg, load_weights(run / "weights.npz"), seed=0, dtype=np.float64)
    ds = load_dataset(saved["run"]["dataset"], "train", data_dir)
    idx = np.sort(np.random.default_rng(seed).choice(len(ds), samples, replace=False))
    x, y = ds.x[idx], ds.y[idx]
    w2 = np.asarray(eng.weights[1], dtype=np.float64)
    q, u, gate, xin, correct = [], [], [], [], []
    for s in range(0, samples, 100):
        b = encode_batch(cfg, x[s:s + 100], y[s:s + 100], np.arange(s, min(s + 100, samples)), 0, train=True)
        res = eng.simulate(b, train=True, record=True)
        x1 = res.spikes["x1"]                                            # (T, B, H)
        open_ = np.logical_or.accumulate(x1, axis=0)                     # gate open at step t
        e = res.spikes["dp2"].astype(np.float64) - res.spikes["dn2"]    # (T, B, C)
        drive = np.zeros(x1.shape)
        drive[1:] = e[:-1] @ w2                                          # one-step synaptic delay
        cur, acc = np.zeros(drive.shape[1:]), np.zeros(drive.shape[1:])
        for t in range(cfg.steps):                                       # the synaptic-current kernel
            cur += cfg.du * (drive[t] - cur)
            acc += cur * open_[t]
        q.append(res.dp_counts[0] - res.dn_counts[0])
        u.append(acc / cfg.theta_hidden_grad)
        gate.append(open_[-1])
        xin.append(res.x_counts[0])
        correct.append(res.out_counts.argmax(1) == y[s:s + 100])
    q, u, gate = np.concatenate(q).astype(float), np.concatenate(u), np.concatenate(gate)
    xin, correct = np.concatenate(xin).astype(float), np.concatenate(correct)

    def group(sel):
        m = gate & sel[:, None]
        return {"samples": int(sel.sum()), "open_hidden_per_sample": float(gate[sel].sum(1).mean()),
                "open_with_zero_count": float(np.mean(q[m] == 0)),
                "open_with_abs_u_below_1": float(np.mean(np.abs(u[m]) < 1)),
                "mean_abs_q": float(np.abs(q[m]).mean()), "mean_abs_u": float(np.abs(u[m]).mean()),
                "corr_q_u": float(np.corrcoef(q[m], u[m])[0, 1])}

    cos, gain = [], []
    for s in range(0, samples - batch + 1, batch):
        gq, gu = q[s:s + batch].T @ xin[s:s + batch], u[s:s + batch].T @ xin[s:s + batch]
        cos.append(float((gq * gu).sum() / (np.linalg.norm(gq) * np.linalg.norm(gu))))
        gain.append(float((gq * gu).sum() / (gu * gu).sum()))
    return {"run": str(run), "dataset": saved["run"]["dataset"], "samples": samples, "sample_seed": seed,
            "model": saved["model"], "train_acc_here": float(correct.mean()),
            "all": group(np.ones(samples, bool)), "correct": group(correct), "wrong": group(~correct),
            "share_of_abs_u_from_wrong": float(np.abs(u[~correct]).sum() / np.abs(u).sum()),
            "share_of_abs_q_from_wrong": float(np.abs(q[~correct]).sum() / np.abs(q).sum()),
            f"batch{batch}_update_cosine_mean_min": [float(np.mean(cos)), float(np.min(cos))],
            f"batch{batch}_update_gain_mean": float(np.mean(gain)),
            "w2_abs_mean": float(np.abs(w2).mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="run folder of 'ssnnbp train' (config.json, weights.npz)")
    ap.add_argument("--samples", type=int, default=1000, help="training images (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=32, help="mini-batch of the update comparison (default: %(default)s)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--results", default=str(HERE / "results"))
    args = ap.parse_args(argv)
    run = Path(args.run).expanduser()
    if not (run / "weights.npz").exists():
        ap.error(f"{run} holds no weights.npz (a finished 'ssnnbp train' run folder is needed)")
    t0 = time.time()
    out = measure(run, args.samples, args.batch, args.data_dir)
    out.update(wall_s=round(time.time() - t0, 1), machine={"node": platform.node(), "python": platform.python_version()},
               written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    path = Path(args.results) / f"gradient_resolution_{out['dataset']}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    a = out["all"]
    print(f"{out['dataset']}: {a['open_with_zero_count']:.0%} of open hidden neurons get a zero net count; "
          f"batch update cosine {out[f'batch{args.batch}_update_cosine_mean_min'][0]:.3f}, "
          f"gain {out[f'batch{args.batch}_update_gain_mean']:.2f}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
