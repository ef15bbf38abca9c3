"""How faithfully do the spike-based updates follow the rate rule they stand for?

Runs a trained network as during training (train thresholds, targets on, no
dropout, no update; the engine's own schedule) on training images and measures
two things, per mini-batch of B samples (the update a summed mini-batch applies):

1. **Hidden gradient resolution.** A hidden gradient neuron (d+ / d-, threshold
   ``theta_hidden_grad``) integrates W^T (d+ - d-) of the layer above through the
   synaptic-current kernel while its gate is open; its threshold turns that into a
   spike count. Per open hidden neuron: the net count q = D+ - D- against what its
   membrane integrated, u = (sum of the filtered drive over the open steps) / theta,
   the same signal unquantised; and the first synapse layer's update built from q
   against the one built from u (cosine, least-squares gain).
2. **Coincidence vs rate.** Per synapse layer, the on-chip rule's update
   (Eq. 10: sum_t d(t) x(t) / T) against the rate rule's (Eq. 9: D X / T^2) on the
   same spike trains (cosine, gain), and when in the window the presynaptic and
   the gradient spikes fall (share per quarter of the T steps): the coincidence
   count equals the product of rates only where the two are uncorrelated in time.
   The same for 'causal' mode's pre-before-post pairs (sum_t d(t) X(t) / T^2,
   X(t) the presynaptic spikes so far).

Writes ``results/update_fidelity_<dataset>_<mode>[_<tag>].json`` (mode: the run's
update rule). Any run folder will do, so the same measurement early in training
is a short run (``ssnnbp train --train-samples N --epochs 1``) with a tag.

Examples::

    python -m benchmarks.update_fidelity ~/ssnnbp-runs/bench/mnist_coincidence_T50_seed0
    ssnnbp train --preset none --dataset mnist --mode rate --steps 50 --epochs 1 --train-samples 320 \
        --batch-updates mini-batch --batch-size 32 --eta 0.3 --out /tmp/rate320
    python -m benchmarks.update_fidelity /tmp/rate320 --tag after320
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent


def _compare(a: np.ndarray, b: np.ndarray):
    """Cosine of update a with reference b, and the least-squares gain of a on b."""
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b))), float((a * b).sum() / (b * b).sum())


def _quarters(spikes: np.ndarray) -> list:
    per_step = spikes.reshape(len(spikes), -1).sum(1).astype(float)
    return [float(q.sum() / per_step.sum()) for q in np.array_split(per_step, 4)]


def measure(run: Path, samples: int, batch: int, data_dir=None, seed: int = 123) -> dict:
    from lava_ssnnbp import dynamics as dyn
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.engine import Engine, encode_batch
    from lava_ssnnbp.training import load_weights

    saved = json.loads((run / "config.json").read_text())
    cfg = SSNNConfig.from_dict(saved["model"])
    if cfg.n_layers != 2:
        raise SystemExit(f"{run}: the analysis is for one hidden layer, this network has {cfg.n_layers - 1}")
    cfg = cfg.replace(dropout=(0.0,) * len(cfg.dropout))
    T = cfg.steps
    eng = Engine(cfg, load_weights(run / "weights.npz"), seed=0, dtype=np.float64)
    ds = load_dataset(saved["run"]["dataset"], "train", data_dir)
    samples -= samples % batch
    idx = np.sort(np.random.default_rng(seed).choice(len(ds), samples, replace=False))
    w2 = np.asarray(eng.weights[1], dtype=np.float64)
    q, u, gate, correct = [], [], [], []
    res_q, layers = [], [{"cos": [], "gain": [], "cos_causal": [], "gain_causal": [], "pre": [], "post": []}
                         for _ in range(2)]
    for s in range(0, samples, batch):
        ids = idx[s:s + batch]
        res = eng.simulate(encode_batch(cfg, ds.x[ids], ds.y[ids], np.arange(s, s + batch), 0, train=True),
                           train=True, record=True)
        h = res.spikes
        open_ = np.logical_or.accumulate(h["x1"], axis=0)                # gate open at step t
        drive = np.zeros(h["x1"].shape)
        drive[1:] = (h["dp2"][:-1].astype(np.float64) - h["dn2"][:-1]) @ w2   # one-step synaptic delay
        cur, acc = np.zeros(drive.shape[1:]), np.zeros(drive.shape[1:])
        for t in range(T):                                               # the synaptic-current kernel
            cur += cfg.du * (drive[t] - cur)
            acc += cur * open_[t]
        qb, ub = (res.dp_counts[0] - res.dn_counts[0]).astype(float), acc / cfg.theta_hidden_grad
        x0 = res.x_counts[0].astype(float)
        res_q.append(_compare(qb.T @ x0, ub.T @ x0))
        q.append(qb), u.append(ub), gate.append(open_[-1]), correct.append(res.out_counts.argmax(1) == ds.y[ids])
        for k, lay in enumerate(layers):
            coinc = dyn.coincidence_numerator(h[f"x{k}"], h[f"dp{k + 1}"], h[f"dn{k + 1}"]) / T
            rate = dyn.rate_numerator(res.x_counts[k], res.dp_counts[k], res.dn_counts[k]) / T ** 2
            c, g = _compare(coinc, rate)
            lay["cos"].append(c), lay["gain"].append(g)
            c, g = _compare(dyn.causal_numerator(h[f"x{k}"], h[f"dp{k + 1}"], h[f"dn{k + 1}"]) / T ** 2, rate)
            lay["cos_causal"].append(c), lay["gain_causal"].append(g)
            lay["pre"].append(_quarters(h[f"x{k}"])), lay["post"].append(_quarters(h[f"dp{k + 1}"] | h[f"dn{k + 1}"]))
    q, u, gate, correct = np.concatenate(q), np.concatenate(u), np.concatenate(gate), np.concatenate(correct)

    def group(sel):
        m = gate & sel[:, None]
        return {"samples": int(sel.sum()), "open_hidden_per_sample": float(gate[sel].sum(1).mean()),
                "open_with_zero_count": float(np.mean(q[m] == 0)),
                "open_with_abs_u_below_1": float(np.mean(np.abs(u[m]) < 1)),
                "mean_abs_q": float(np.abs(q[m]).mean()), "mean_abs_u": float(np.abs(u[m]).mean()),
                "corr_q_u": float(np.corrcoef(q[m], u[m])[0, 1])}

    cos_q, gain_q = np.array(res_q).T
    return {"run": str(run), "dataset": saved["run"]["dataset"], "mode": saved["model"]["mode"],
            "run_settings": saved["run"], "samples": samples, "batch": batch, "sample_seed": seed,
            "model": saved["model"],
            "train_acc_here": float(correct.mean()),
            "hidden_gradient": {"all": group(np.ones(samples, bool)), "correct": group(correct),
                                "wrong": group(~correct),
                                "share_of_abs_u_from_wrong": float(np.abs(u[~correct]).sum() / np.abs(u).sum()),
                                "update_cosine_mean_min": [float(cos_q.mean()), float(cos_q.min())],
                                "update_gain_mean": float(gain_q.mean()),
                                "w2_abs_mean": float(np.abs(w2).mean())},
            "coincidence_vs_rate": [{"synapse_layer": k, "cosine_mean_min": [float(np.mean(l["cos"])),
                                                                            float(np.min(l["cos"]))],
                                     "gain_mean": float(np.mean(l["gain"])),
                                     "causal_cosine_mean_min": [float(np.mean(l["cos_causal"])),
                                                                float(np.min(l["cos_causal"]))],
                                     "causal_gain_mean": float(np.mean(l["gain_causal"])),
                                     "presynaptic_spikes_per_quarter": np.mean(l["pre"], 0).round(4).tolist(),
                                     "gradient_spikes_per_quarter": np.mean(l["post"], 0).round(4).tolist()}
                                    for k, l in enumerate(layers)]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="run folder of 'ssnnbp train' (config.json, weights.npz)")
    ap.add_argument("--samples", type=int, default=1024, help="training images (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=32, help="mini-batch of the update comparisons (default: %(default)s)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--results", default=str(HERE / "results"))
    ap.add_argument("--tag", default="", help="suffix of the result file's name, e.g. after320")
    args = ap.parse_args(argv)
    run = Path(args.run).expanduser()
    if not (run / "weights.npz").exists():
        ap.error(f"{run} holds no weights.npz (a finished 'ssnnbp train' run folder is needed)")
    if args.samples < args.batch:
        ap.error(f"--samples {args.samples} is less than one batch ({args.batch})")
    t0 = time.time()
    out = measure(run, args.samples, args.batch, args.data_dir)
    out.update(wall_s=round(time.time() - t0, 1), machine=machine_info(), written=now())
    path = Path(args.results) / f"update_fidelity_{out['dataset']}_{out['mode']}{'_' + args.tag if args.tag else ''}.json"
    write_result(path, out, show=None, indent=1)
    g, cr = out["hidden_gradient"], out["coincidence_vs_rate"]
    print(f"{out['dataset']} ({out['mode']}): {g['all']['open_with_zero_count']:.0%} of open hidden neurons get a "
          f"zero net gradient count; their update's cosine {g['update_cosine_mean_min'][0]:.3f}, gain "
          f"{g['update_gain_mean']:.2f}. Coincidence vs rate update: "
          + "; ".join(f"layer {c['synapse_layer']} cosine {c['cosine_mean_min'][0]:.3f}, gain {c['gain_mean']:.2f} "
                      f"(causal: {c['causal_cosine_mean_min'][0]:.3f}, {c['causal_gain_mean']:.2f})"
                      for c in cr) + f". Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
