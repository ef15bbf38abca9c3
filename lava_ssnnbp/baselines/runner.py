"""Training the torch baselines inside a run folder (``ssnnbp train --model tssl-bp|slayer``).

Same folder, files, checkpoints, metrics and epoch loop as the other models
(:class:`lava_ssnnbp.runs.Run`, which drives :class:`TorchLearner`):
``checkpoint.npz`` holds the weights ``w0, w1, ...`` (N_out, N_in), the optimiser's
state as plain arrays (``opt_step<i>``, ``opt_m<i>``, ``opt_v<i>`` for parameter i)
and the position in the epoch, written atomically every ``checkpoint_s`` seconds and
after every epoch. Training draws nothing at random apart from the initial weights
(seeded) and the sample order (:func:`~lava_ssnnbp.runs.epoch_order`), so a resumed
run continues exactly where it stopped. This module imports torch only inside
its functions.
"""
from __future__ import annotations

import contextlib
import math
import re
import resource
from typing import Optional

import numpy as np

from ..errors import RunError
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


def input_shape(settings, cfg) -> tuple:
    """One sample's shape: the built-in data set's; for a data set read from a path, the data's
    own where a conv stack needs it, else the input layer's (D,) (so that a dense run whose data
    file has moved is still read)."""
    from ..data import DATASETS, dataset_info
    if settings.dataset in DATASETS:
        return tuple(DATASETS[settings.dataset].input_shape)
    return tuple(dataset_info(settings.dataset).input_shape) if settings.conv else (cfg.sizes[0],)


def run_weight_shapes(cfg, settings) -> list:
    """Shapes of a baseline run's weight arrays w0, w1, ... (no torch needed)."""
    from . import weight_shapes
    return weight_shapes(cfg.sizes, settings.conv, input_shape(settings, cfg))


def net_from_settings(cfg, settings, weights=None):
    """The network a run's (SSNNConfig, RunSettings) describe, with ``weights`` if given."""
    net = build_net(settings.model, cfg.sizes, cfg.steps, settings.seed, settings.tau_m, settings.tau_s,
                    settings.conv, input_shape(settings, cfg), settings.tau_grad, settings.scale_grad)
    if weights is not None:
        net.set_weights(weights)
    return net


def learning_rate(settings) -> float:
    return settings.baseline_lr if settings.baseline_lr is not None else DEFAULT_LR[settings.model]


def _tssl_bp_choices(settings) -> dict:
    return {"optimizer": "AdamW (weight decay 0.01), grad norm clip 1, weights clipped to [-4, 4]",
            "loss": "kernel: 1/2 sum (PSP out - PSP desired)^2", "readout": "summed output PSP"}


def _slayer_choices(settings) -> dict:
    return {"optimizer": "Adam", "neuron": "slayer.block.cuba.Dense (8-bit weights in forward)",
            "surrogate": {"tau_grad": settings.tau_grad, "scale_grad": settings.scale_grad},
            "loss": "slayer.loss.SpikeRate(0.8, 0.05, sum)", "readout": "output spike count"}


METHOD_CHOICES = {"tssl-bp": _tssl_bp_choices, "slayer": _slayer_choices}   # what each method fixes


def describe(settings) -> dict:
    """The method's fixed choices and this run's hyperparameters, for config.json (no torch needed)."""
    common = {"method": settings.model, "lr": learning_rate(settings), "tau_m_steps": settings.tau_m,
              "tau_s_steps": settings.tau_s, "threshold": 1.0, "dropout": None, "conv": settings.conv,
              "input": "(x - 0.1307) / 0.3081 at every step",
              "unused_model_options": "theta, mode, dropout, wta, fixed_point and the other SSNN-BP options"}
    return {**common, **METHOD_CHOICES[settings.model](settings)}


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


# ------------------------------------------------------------------ memory
def check_memory(cfg, settings):
    """A ConfigError naming sizes, batch_size or steps when training the run's network on the
    CPU needs more memory than this process may use (:func:`lava_ssnnbp.memory.available_bytes`:
    free memory, ``ulimit -v``/``-d``, the cgroup's limit), before anything is allocated. torch is
    imported first where the answer matters: its libraries' mappings count against ``ulimit -v``.
    A GPU's memory is not checked here (torch's out-of-memory error is one line, see
    :func:`memory_errors`)."""
    from ..validation import check_model_memory
    from . import TRAIN_BYTES_PER_WEIGHT, memory_per_step
    shapes = run_weight_shapes(cfg, settings)
    n_weights = sum(math.prod(shape) for shape in shapes)
    weight_bytes = TRAIN_BYTES_PER_WEIGHT[settings.model] * n_weights
    step_bytes = memory_per_step(cfg.sizes, settings.conv, input_shape(settings, cfg), train=True)
    batch = min(settings.batch_size, settings.train_samples or settings.batch_size)   # a batch never holds more
    if weight_bytes + batch * cfg.steps * step_bytes < 2 ** 28:
        return
    from . import torch_device
    if torch_device(settings.device).type != "cpu":
        return
    network = "-".join(map(str, [cfg.sizes[0], *([settings.conv] if settings.conv else []), *cfg.sizes[1:]]))
    check_model_memory(f"{network} ({settings.model})", n_weights, weight_bytes, step_bytes, batch, cfg.steps)


def eval_batch(net, spec: Optional[str] = None, in_shape=None) -> int:
    """Images scored at once: :data:`EVAL_BATCH`, fewer where that many do not fit in memory."""
    from ..memory import available_bytes
    from . import memory_per_step
    avail = available_bytes()
    if avail is None:
        return EVAL_BATCH
    in_shape = in_shape or (net.sizes[0],)
    per_sample = net.steps * memory_per_step(net.sizes, spec, in_shape, train=False)
    return int(max(1, min(EVAL_BATCH, avail // max(per_sample, 1))))


@contextlib.contextmanager
def memory_errors():
    """torch's allocators fail with a RuntimeError (the CPU's 'can't allocate memory', CUDA's
    OutOfMemoryError): raised as a MemoryError, which the CLI reports in one line (exit 1)."""
    try:
        yield
    except RuntimeError as e:
        text = str(e)
        if "can't allocate memory" not in text and "out of memory" not in text.lower():
            raise
        n = re.search(r"allocate (\d+) bytes", text)
        what = f"{int(n.group(1)) / 2 ** 20:.0f} MiB" if n else "memory"
        raise MemoryError(f"torch could not allocate {what}") from None


# ------------------------------------------------------------------ evaluation
def scores(net, x: np.ndarray, device=None) -> np.ndarray:
    """Class scores (n, C) of the network's readout for images (n, D), no gradients."""
    import torch
    device = device or next(net.parameters()).device
    batch = eval_batch(net, getattr(net, "conv", None), getattr(net, "input_shape", None)) \
        if device.type == "cpu" else EVAL_BATCH
    out = []
    with torch.no_grad(), memory_errors():
        for a in range(0, len(x), batch):
            xb = torch.as_tensor(x[a:a + batch], dtype=torch.float32, device=device)
            out.append(net.readout(net(xb)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, net.sizes[-1]))


def accuracy(net, x, y) -> float:
    return float(np.mean(scores(net, x).argmax(1) == np.asarray(y))) if len(y) else float("nan")


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss, KiB), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ the run's learner
TORCH_METRICS = ("epoch", "eta", "train_loss", "train_acc", "test_acc", "train_samples", "test_samples",
                 "train_wall_s", "test_wall_s", "samples_per_s", "peak_rss_mib", "device", "peak_gpu_mib",
                 "val_acc", "val_samples")


class TorchLearner:
    """A baseline's network and optimiser as the run's epoch loop drives them
    (:class:`lava_ssnnbp.runs.learners.Learner`): one optimiser step per batch. Its
    checkpoint entries are the optimiser's state and, mid-epoch, the epoch's loss so far."""
    metric_columns = TORCH_METRICS

    def __init__(self, cfg, settings, sample_shape: tuple):
        from . import torch_device
        if len(sample_shape) != 1:
            raise RunError(f"--model {settings.model} trains on images (n, D); event frames are not supported yet")
        try:
            self.device = torch_device(settings.device)
        except ValueError as e:
            raise RunError(f"invalid device: {e}") from None
        self.cfg, self.settings = cfg, settings
        with memory_errors():
            self.net = net_from_settings(cfg, settings).to(self.device)
        self.eta = learning_rate(settings)
        self.opt = self.net.make_optimizer(self.eta)
        self.samples_per_call = settings.batch_size
        self.loss_sum = 0.0   # the epoch's summed batch losses

    def restore(self, checkpoint):
        if checkpoint is None:
            return
        self.net.set_weights([checkpoint[f"w{k}"] for k in range(len(run_weight_shapes(self.cfg, self.settings)))])
        try:
            load_optimizer_arrays(self.opt, checkpoint)
        except (RuntimeError, ValueError, KeyError) as e:
            raise RunError(f"optimiser state does not fit the network ({e})") from None
        self.loss_sum = float(checkpoint["epoch_loss_sum"]) if "epoch_loss_sum" in checkpoint else 0.0

    def start_epoch(self, epoch, eta):
        self.set_eta(eta)

    def set_eta(self, eta):
        for g in self.opt.param_groups:
            g["lr"] = eta

    def train(self, x, y):
        import torch
        xb = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        yb = torch.as_tensor(y, dtype=torch.int64, device=self.device)
        with memory_errors():
            out = self.net(xb)
            loss = self.net.loss(out, yb)
            self.opt.zero_grad()
            loss.backward()
            self.net.clip_gradients()
            self.opt.step()
            self.net.after_step()
        self.loss_sum += float(loss.detach())
        return self.net.readout(out.detach()).argmax(1).cpu().numpy()

    def end_epoch(self, samples):
        loss, self.loss_sum = self.loss_sum / samples, 0.0
        return loss

    def evaluate(self, x, desc, progress):
        return scores(self.net, x)

    def epoch_metrics(self, test_scores):
        import torch
        out = {"peak_rss_mib": round(peak_memory_mib(), 1), "device": str(self.device)}
        if self.device.type == "cuda":
            out["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(self.device) / 2 ** 20, 1)
        return out

    def checkpoint_arrays(self, mid_epoch):
        return {**optimizer_arrays(self.opt), **({"epoch_loss_sum": np.array(self.loss_sum)} if mid_epoch else {})}

    @property
    def weights(self):
        return self.net.raw_weights()

    @property
    def samples_seen(self):
        return 0

    def close(self):
        pass


def run_accuracy(cfg, settings, weights, ds, backend: str, progress: bool) -> float:
    """Accuracy of a trained run's ``weights`` on ``ds``: in torch ('engine'), or exported
    to netx HDF5 and run in Lava ('lava')."""
    import tempfile
    from pathlib import Path
    if ds.x.ndim != 2:
        raise RunError(f"{settings.model} runs take images (n, D), not event frames")
    with memory_errors():
        net = net_from_settings(cfg, settings, weights)
    if backend == "engine":
        return accuracy(net, ds.x, ds.y)
    from . import lava_export
    cal = lava_export.calibration_images(settings)
    with tempfile.TemporaryDirectory() as tmp:
        ex = lava_export.export_netx(net, Path(tmp) / "net.h5", calibration=cal)
        spikes = lava_export.run_lava(ex, ds.x, progress=progress)
    return float(np.mean(net.scores_from_spikes(spikes).argmax(1) == ds.y))
