"""Checks every way into a network shares: the samples it is given, the counts and seeds it
is given, the precision it computes in, and the memory a simulation needs.

``check_samples`` is called by ``Engine.train_batch``/``predict`` and ``SSNNBPNetwork.run``,
so a bad array gets the same clear ``ValueError`` whichever simulator it is sent to;
``check_integer`` by every API that takes a count or a seed.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import memory
from .config import ConfigError, SSNNConfig
from .memory import GiB, size

SEED = " (it names random streams)"   # check_integer's ``why`` for a seed


def check_integer(name: str, value, minimum: int = 0, why: str = "") -> int:
    """``value`` as a Python int >= ``minimum``, or a ValueError naming ``name``: a count or a
    seed is a whole number, so floats (2.5, and 2.0 too), bools, strings and None are refused
    rather than truncated or left to fail deep inside (``why``: appended to the requirement)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{why}, got {value!r}")
    return int(value)


def check_dtype(cfg: SSNNConfig, dtype) -> type:
    """The numpy scalar type a simulator computes a network in, or a ValueError: float32 or
    float64 (fixed point always computes in int32, whatever ``dtype`` says; int32 is accepted
    there too). An integer dtype for a float network would round its weights to whole
    numbers (almost all 0), float16 or an int8/int16 register would overflow."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    allowed = (np.float32, np.float64) + ((np.int32,) if cfg.fixed_point else ())
    if dt is None or dt.type not in allowed:
        extra = " (or int32: fixed point computes in int32 whatever dtype)" if cfg.fixed_point else \
            " (a floating-point network needs float weights and potentials)"
        raise ValueError(f"dtype must be float32 or float64{extra}, got {dt.name if dt is not None else repr(dtype)}")
    return dt.type



def check_samples(cfg: SSNNConfig, x, y=None, sample_ids: Optional[Sequence[int]] = None, *, train: bool,
                  event_frames: Optional[bool] = None, memory_batch: Optional[int] = None):
    """``(x, y, sample_ids)`` as arrays, or a ValueError saying what is wrong with them.

    ``x``: images (n, D) of pixel intensities in [0, 1], or event frames (n, T, D) of
    0/1 spikes (``event_frames``: which of the two; None: either, told by ``x.ndim``).
    ``y``: integer class labels (n,), required when ``train``. ``sample_ids`` (test
    streams): n integers >= 0, default 0..n-1. ``memory_batch``: samples simulated
    at once, checked against the memory available (see :func:`check_memory`).
    """
    x = np.asarray(x)
    T, D, C = cfg.steps, cfg.sizes[0], cfg.sizes[-1]
    frames = x.ndim == 3 if event_frames is None else bool(event_frames)
    want = (T, D) if frames else (D,)
    if x.ndim != 1 + len(want) or x.shape[1:] != want:
        kinds = f"event frames (n, {T}, {D})" if frames else f"images (n, {D})"
        if event_frames is None:
            kinds = f"images (n, {D}) or event frames (n, {T}, {D}: T = steps)"
        raise ValueError(f"x must be {kinds}, got shape {x.shape}")
    n = len(x)
    if train and n == 0:
        raise ValueError("x holds no samples to train on")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"x must hold numbers, got dtype {x.dtype}")
    if frames:
        check_spikes(x)
    else:
        _check_pixels(x)
    if y is None and train:
        raise ValueError("training needs labels y (one class per sample)")
    if y is not None:
        y = _check_labels(np.asarray(y), n, C)
    ids = np.arange(n) if sample_ids is None else np.asarray(sample_ids)
    if ids.shape != (n,) or (n and (ids.dtype.kind not in "iu" or ids.min() < 0)):
        raise ValueError(f"sample_ids must be {n} integers >= 0 (one test stream per sample), got "
                         f"{ids.dtype} {ids.shape}")
    if memory_batch:
        check_memory(cfg, memory_batch, train)
    return x, y, ids.astype(np.int64)


def _check_pixels(x: np.ndarray):
    if x.size == 0 or x.dtype.kind == "b":
        return
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("x must be pixel intensities in [0, 1]; found NaN or inf")
    lo, hi = x.min(), x.max()
    if lo < 0 or hi > 1:
        hint = " (0..255 images: pass x / 255.0)" if hi > 1 else ""
        raise ValueError(f"x must be pixel intensities in [0, 1]; found {x.dtype} values in "
                         f"[{lo:g}, {hi:g}]{hint}")


def check_spikes(x: np.ndarray, what: str = "event frames"):
    """A ValueError unless every entry of ``x`` (numbers) is a 0/1 spike (NaN is not)."""
    if x.dtype.kind == "b":
        return
    bad = (x != 0) & (x != 1)
    if bad.any():
        raise ValueError(f"{what} must be 0/1 spikes; found {x[bad].flat[0]!r} ({x.dtype})")


def _check_labels(y: np.ndarray, n: int, classes: int) -> np.ndarray:
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"need one label per sample: x has {n} samples, y has shape {y.shape}")
    if n and y.dtype.kind not in "iu":
        odd = y[y != np.round(y)] if y.dtype.kind == "f" else y
        raise ValueError(f"labels must be integers (class indices), got {y.dtype} such as "
                         f"{(odd if odd.size else y).flat[0]!r} (whole numbers: pass y.astype(int))")
    if n and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"labels must be classes 0..{classes - 1}, found {int(y.min())}..{int(y.max())}")
    return y.astype(np.int64)


# ------------------------------------------------------------------ memory
def simulation_bytes(cfg: SSNNConfig, batch: int, train: bool) -> int:
    """About the peak memory the engine needs to simulate ``batch`` samples at once
    (``Engine.simulate``): per step and sample the input spikes and their float copy
    for the first layer's GEMM (~5 bytes per input), the first layer's drive and the
    spike histories of the layers; per step the encoding of one sample (~8 bytes per
    input). Measured with tracemalloc on 784-16..256-10 networks: within 10 %."""
    D, n1, neurons = cfg.sizes[0], cfg.sizes[1], sum(cfg.sizes[1:])
    per_sample = 5 * D + 4 * n1 + (4 * neurons if train else neurons)
    return int(cfg.steps) * (int(batch) * per_sample + 8 * D)


def weight_bytes(cfg: SSNNConfig) -> int:
    """About the memory a network's weights take while it trains: the float64
    initialisation, the engine's copy and a checkpoint's (24 bytes per synapse)."""
    return 24 * sum(a * b for a, b in zip(cfg.sizes[:-1], cfg.sizes[1:]))


def fitting_batch(cfg: SSNNConfig, batch: int, train: bool, weights: bool = False) -> int:
    """The largest batch <= ``batch`` whose simulation fits in the available memory
    (0: none), beside the weights if they are still to be allocated (``weights``)."""
    avail = memory.available_bytes()
    if avail is None:
        return batch
    room = avail - weights * weight_bytes(cfg) - simulation_bytes(cfg, 0, train)
    per = simulation_bytes(cfg, 1, train) - simulation_bytes(cfg, 0, train)
    return max(0, min(batch, room // max(per, 1)))


def check_memory(cfg: SSNNConfig, batch: int, train: bool, weights: bool = False):
    """A ConfigError when simulating ``batch`` samples at once (and allocating the
    weights, if ``weights``: before a run starts) cannot fit in the available
    memory, naming sizes when the weights alone do not, batch_size when fewer
    samples at once would, else steps; with the memory needed and what fits."""
    weights, sim = weights * weight_bytes(cfg), simulation_bytes(cfg, batch, train)
    if weights + sim < 2 ** 28:   # 256 MiB: no need to ask the system
        return
    avail = memory.available_bytes()
    if avail is None or weights + sim <= avail:
        return
    gib = f"{size(avail)} are available"
    if weights > avail:
        raise ConfigError(f"invalid sizes: the network {'-'.join(map(str, cfg.sizes))} has "
                          f"{weights // 24} synapses whose weights need about {size(weights)}, {gib}")
    room = avail - weights

    def max_steps(b):
        return room // (simulation_bytes(cfg, b, train) // cfg.steps)
    beside = f" beside the weights' {size(weights)}" if weights >= GiB / 10 else ""
    had = f"need{'s' if batch == 1 else ''} about {size(sim)}{beside}, {gib}"
    fits = fitting_batch(cfg, batch, train, weights=bool(weights))
    if fits >= 1:
        raise ConfigError(f"invalid batch_size: {batch} samples of {cfg.steps} steps simulated at once {had}; "
                          f"batch_size <= {fits} fits at this T (or steps <= {max_steps(batch)} at batch {batch})")
    one = f" (steps <= {max_steps(1)} with one sample at a time)" if batch > 1 else ""
    raise ConfigError(f"invalid steps: {cfg.steps} is too many for this machine: {batch} sample"
                      f"{'s' if batch != 1 else ''} of {cfg.steps} steps {had}; steps <= {max_steps(batch)} "
                      f"fits at batch {batch}{one}")


def check_model_memory(network: str, n_weights: int, weight_bytes: int, step_bytes: int, batch: int,
                       steps: Optional[int], avail: Optional[int] = None):
    """A ConfigError when a model's weights with their training state (``weight_bytes`` for
    ``n_weights`` weights) and ``batch`` samples of ``steps`` steps (``step_bytes`` per sample
    and step; ``steps`` None: a model without time steps) do not fit in ``avail`` bytes (default:
    :func:`memory.available_bytes`): naming sizes when the weights alone (or with one sample) do
    not, batch_size when fewer samples at once would, else steps. For models whose memory their
    caller counts (the torch baselines, the ANN twin)."""
    t = 1 if steps is None else steps
    sim = batch * t * step_bytes
    if weight_bytes + sim < 2 ** 28:   # 256 MiB: no need to ask the system
        return
    avail = memory.available_bytes() if avail is None else avail
    if avail is None or weight_bytes + sim <= avail:
        return
    gib = f"{size(avail)} are available"
    room, fits = avail - weight_bytes, (avail - weight_bytes) // (t * step_bytes)
    if weight_bytes > avail or (fits < 1 and steps is None):
        raise ConfigError(f"invalid sizes: the network {network} has {n_weights} weights whose training state "
                          f"needs about {size(weight_bytes)}, {gib}")
    samples = f"{batch} sample{'s' if batch != 1 else ''}" + (f" of {steps} steps" if steps is not None else "")
    had = f"need{'s' if batch == 1 else ''} about {size(sim)} beside the weights' {size(weight_bytes)}, {gib}"
    if fits >= 1:
        max_t = room // (batch * step_bytes)
        t_fits = f" at this T (or steps <= {max_t} at batch {batch})" if steps is not None and max_t >= 1 else ""
        raise ConfigError(f"invalid batch_size: {samples} at once {had}; batch_size <= {fits} fits{t_fits}")
    raise ConfigError(f"invalid steps: {steps} is too many for this machine: {samples} {had}; steps <= "
                      f"{room // (batch * step_bytes)} fits at batch {batch}")
