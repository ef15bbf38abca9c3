"""Training the torch baselines inside a run folder (``ssnnbp train --model tssl-bp|slayer``).

Same folder, files, checkpoints and metrics as the other models
(:class:`lava_ssnnbp.training.Run`): ``checkpoint.npz`` holds the weights
``w0, w1, ...`` (N_out, N_in), the optimiser's state as plain arrays
(``opt_step<i>``, ``opt_m<i>``, ``opt_v<i>`` for parameter i) and the position in
the epoch, written atomically every ``checkpoint_s`` seconds and after every
epoch. Training draws nothing at random apart from the initial weights (seeded)
and the sample order (:func:`~lava_ssnnbp.training.epoch_order`), so a resumed
run continues exactly where it stopped. This module imports torch only inside
its functions.
"""
from __future__ import annotations

import re
import resource
import time
from typing import Callable, Optional

import numpy as np

from . import DEFAULT_LR

EVAL_BATCH = 1000
OPT_KEYS = ("opt_step", "opt_m", "opt_v")


def build_net(method: str, sizes, steps: int, seed: int, tau_m: float, tau_s: float,
              conv: Optional[str] = None, input_shape=(28, 28), tau_grad: float = 0.03, scale_grad: float = 3.0):
    """The untrained network of ``method`` ('tssl-bp' or 'slayer'; a conv stack for tssl-bp only;
    ``tau_grad``, ``scale_grad``: slayer's surrogate gradient)."""
    if method == "tssl-bp":
        from .tssl_bp import TSSLBPNet
        return TSSLBPNet(sizes, steps, seed=seed, tau_m=tau_m, tau_s=tau_s, conv=conv, input_shape=input_shape)
    if method == "slayer":
        if conv:
            raise ValueError("slayer runs have dense layers only")
        from .slayer_model import SlayerNet
        return SlayerNet(sizes, steps, seed=seed, tau_m=tau_m, tau_s=tau_s, tau_grad=tau_grad, scale_grad=scale_grad)
    raise ValueError(f"unknown baseline {method!r}")


def input_shape(settings) -> tuple:
    from ..data import DATASETS
    return tuple(DATASETS[settings.dataset].input_shape)


def run_weight_shapes(cfg, settings) -> list:
    """Shapes of a baseline run's weight arrays w0, w1, ... (no torch needed)."""
    from . import weight_shapes
    return weight_shapes(cfg.sizes, settings.conv, input_shape(settings))


def net_from_settings(cfg, settings, weights=None):
    """The network a run's (SSNNConfig, RunSettings) describe, with ``weights`` if given."""
    net = build_net(settings.model, cfg.sizes, cfg.steps, settings.seed, settings.tau_m, settings.tau_s,
                    settings.conv, input_shape(settings), settings.tau_grad, settings.scale_grad)
    if weights is not None:
        net.set_weights(weights)
    return net


def learning_rate(settings) -> float:
    return settings.baseline_lr if settings.baseline_lr is not None else DEFAULT_LR[settings.model]


def describe(settings) -> dict:
    """The method's fixed choices and this run's hyperparameters, for config.json (no torch needed)."""
    common = {"method": settings.model, "lr": learning_rate(settings), "tau_m_steps": settings.tau_m,
              "tau_s_steps": settings.tau_s, "threshold": 1.0, "dropout": None, "conv": settings.conv,
              "input": "(x - 0.1307) / 0.3081 at every step",
              "unused_model_options": "theta, mode, dropout, wta, fixed_point and the other SSNN-BP options"}
    if settings.model == "tssl-bp":
        return {**common, "optimizer": "AdamW (weight decay 0.01), grad norm clip 1, weights clipped to [-4, 4]",
                "loss": "kernel: 1/2 sum (PSP out - PSP desired)^2", "readout": "summed output PSP"}
    return {**common, "optimizer": "Adam", "neuron": "slayer.block.cuba.Dense (8-bit weights in forward)",
            "surrogate": {"tau_grad": settings.tau_grad, "scale_grad": settings.scale_grad},
            "loss": "slayer.loss.SpikeRate(0.8, 0.05, sum)", "readout": "output spike count"}


# ------------------------------------------------------------------ optimiser state as plain arrays
def optimizer_arrays(opt) -> dict:
    """Adam/AdamW state as numpy arrays keyed ``opt_step<i>``, ``opt_m<i>``, ``opt_v<i>``."""
    out = {}
    for i, st in opt.state_dict()["state"].items():
        out[f"opt_step{i}"] = np.array(float(st["step"]))
        out[f"opt_m{i}"] = st["exp_avg"].detach().cpu().numpy()
        out[f"opt_v{i}"] = st["exp_avg_sq"].detach().cpu().numpy()
    return out


def load_optimizer_arrays(opt, arrays: dict):
    """Restore what :func:`optimizer_arrays` wrote into ``opt`` (same parameters)."""
    import torch
    sd = opt.state_dict()
    params = [p for g in opt.param_groups for p in g["params"]]
    state = {}
    for i, p in enumerate(params):
        if f"opt_step{i}" not in arrays:
            continue
        state[i] = {"step": torch.tensor(float(arrays[f"opt_step{i}"])),
                    "exp_avg": torch.as_tensor(arrays[f"opt_m{i}"], dtype=p.dtype, device=p.device).reshape(p.shape),
                    "exp_avg_sq": torch.as_tensor(arrays[f"opt_v{i}"], dtype=p.dtype, device=p.device).reshape(p.shape)}
    sd["state"] = state
    opt.load_state_dict(sd)


def check_optimizer_entries(z: dict, bad) -> set:
    """The ``opt_*`` entries of a checkpoint: index i complete (step, m, v), a
    scalar step >= 0, m and v finite arrays of one shape. Returns their keys."""
    keys = {k for k in z if k.startswith("opt_")}
    index = {}
    for key in keys:
        m = re.fullmatch(r"(opt_step|opt_m|opt_v)(\d+)", key)
        if m is None:
            bad(f"unexpected entry {key}")
        index[key] = m.group(2)
    for i in sorted(set(index.values())):
        parts = [f"{p}{i}" for p in OPT_KEYS]
        if not all(p in z for p in parts):
            bad(f"optimiser state of parameter {i} incomplete (need {', '.join(parts)})")
        step, m, v = (z[p] for p in parts)
        if step.shape != () or step.dtype.kind not in "iuf" or not np.isfinite(step) or step < 0:
            bad(f"'opt_step{i}' must be a number >= 0")
        if m.shape != v.shape or m.dtype.kind != "f" or v.dtype.kind != "f" \
                or not (np.isfinite(m).all() and np.isfinite(v).all()) or (v < 0).any():
            bad(f"'opt_m{i}'/'opt_v{i}' must be finite float arrays of one shape (v >= 0)")
    return keys


# ------------------------------------------------------------------ evaluation
def scores(net, x: np.ndarray, device=None) -> np.ndarray:
    """Class scores (n, C) of the network's readout for images (n, D), no gradients."""
    import torch
    device = device or next(net.parameters()).device
    out = []
    with torch.no_grad():
        for a in range(0, len(x), EVAL_BATCH):
            xb = torch.as_tensor(x[a:a + EVAL_BATCH], dtype=torch.float32, device=device)
            out.append(net.readout(net(xb)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, net.sizes[-1]))


def accuracy(net, x, y) -> float:
    return float(np.mean(scores(net, x).argmax(1) == np.asarray(y))) if len(y) else float("nan")


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss, KiB), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ training
def train_run(run, train_set, test_set, progress: bool = True,
              on_batch: Optional[Callable[[int], None]] = None, val_set=None) -> list:
    """Train ``run`` (a :class:`~lava_ssnnbp.training.Run` of a baseline) for its remaining epochs."""
    import torch
    from tqdm.auto import tqdm

    from ..training import (CheckpointClock, RunError, _check_diverged, _no_bar, epoch_order, eta_at, save_weights)
    from . import torch_device
    s, cfg = run.settings, run.cfg
    if train_set.x.ndim != 2:
        raise RunError(f"--model {s.model} trains on images (n, D); event frames are not supported yet")
    try:
        device = torch_device(s.device)
    except ValueError as e:
        raise RunError(f"invalid device: {e}") from None
    net = net_from_settings(cfg, s).to(device)
    lr0 = learning_rate(s)
    opt = net.make_optimizer(lr0)
    ck = run._load_checkpoint(len(train_set.y))
    epoch, position, correct, wall_before, loss_sum = len(run.metrics), 0, 0, 0.0, 0.0
    if ck is not None:
        net.set_weights([ck[f"w{k}"] for k in range(len(run_weight_shapes(cfg, s)))])
        try:
            load_optimizer_arrays(opt, ck)
        except (RuntimeError, ValueError, KeyError) as e:
            raise RunError(f"{run.checkpoint_path}: optimiser state does not fit the network ({e}); "
                           "pass --overwrite to start afresh") from None
        epoch, position = int(ck["epoch"]), int(ck["position"])
        correct = int(ck["epoch_correct"]) if "epoch_correct" in ck else 0
        wall_before = float(ck["epoch_wall_s"]) if "epoch_wall_s" in ck else 0.0
        loss_sum = float(ck["epoch_loss_sum"]) if "epoch_loss_sum" in ck else 0.0
    x_all, y_all = train_set.x, train_set.y
    n = len(y_all)
    while epoch < s.epochs:
        lr = eta_at(lr0, s, epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        order = epoch_order(s.seed, epoch, n)
        t0, clock = time.time(), CheckpointClock(s.checkpoint_s)
        bar = tqdm(total=n, initial=position, desc=f"epoch {epoch + 1}/{s.epochs}", unit="sample",
                   disable=_no_bar(progress), dynamic_ncols=True)
        while position < n:
            idx = order[position:position + s.batch_size]
            xb = torch.as_tensor(x_all[idx], dtype=torch.float32, device=device)
            yb = torch.as_tensor(y_all[idx], dtype=torch.int64, device=device)
            out = net(xb)
            loss = net.loss(out, yb)
            opt.zero_grad()
            loss.backward()
            net.clip_gradients()
            opt.step()
            net.after_step()
            loss_sum += float(loss.detach())
            correct += int((net.readout(out.detach()).argmax(1) == yb).sum())
            position += len(idx)
            bar.update(len(idx))
            bar.set_postfix(train_acc=f"{correct / position:.3f}", refresh=False)
            if on_batch is not None:
                on_batch(position)
            if clock.due(position, n):
                run._save_checkpoint(net.raw_weights(), epoch, position, 0, {
                    **optimizer_arrays(opt), "epoch_correct": np.array(correct),
                    "epoch_wall_s": np.array(wall_before + time.time() - t0),
                    "epoch_loss_sum": np.array(loss_sum)})
                clock.saved()
        bar.close()
        train_wall = wall_before + time.time() - t0
        weights = net.raw_weights()
        _check_diverged(weights + [np.asarray(loss_sum)], epoch, lr)
        t1 = time.time()
        row = {"epoch": epoch + 1, "eta": lr, "train_loss": loss_sum / n, "train_acc": correct / n,
               "test_acc": accuracy(net, test_set.x, test_set.y),
               "train_samples": n, "test_samples": len(test_set.y),
               "train_wall_s": round(train_wall, 3), "test_wall_s": round(time.time() - t1, 3),
               "samples_per_s": round(n / max(train_wall, 1e-9), 2),
               "peak_rss_mib": round(peak_memory_mib(), 1), "device": str(device)}
        if device.type == "cuda":
            row["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)
        if val_set is not None:
            row.update(val_acc=accuracy(net, val_set.x, val_set.y), val_samples=len(val_set.y))
        run.metrics.append(row)
        epoch, position, correct, wall_before, loss_sum = epoch + 1, 0, 0, 0.0, 0.0
        save_weights(run.out / "weights.npz", weights)
        run._write_metrics()
        run._save_checkpoint(weights, epoch, 0, 0, optimizer_arrays(opt))
        if progress:
            val = f"val {100 * row['val_acc']:.2f}%  " if "val_acc" in row else ""
            print(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f}%  {val}"
                  f"test {100 * row['test_acc']:.2f}%  ({row['samples_per_s']:.0f} samples/s)", flush=True)
    return run.metrics
