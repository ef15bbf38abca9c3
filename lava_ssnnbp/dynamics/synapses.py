"""The synapses: forward drive W s, backward drive W^T (d+ - d-), WTA inhibition,
and the weights (initialisation, checks, exact float copies of integers).

The rules (``@jit.rule``: Lava's Dense output, the lateral inhibition, the sign
of a gradient spike pair) are element-wise; ``accel`` compiles them into its
event-driven loops, which add the synaptic sums spike by spike."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .. import fixed_point as fxp
from .. import jit
from ..config import SSNNConfig


def exact_float_weights(w: np.ndarray, fan: int) -> np.ndarray:
    """A float copy of integer weights ``w`` through which every sum of at most
    ``fan`` terms ``s_i w_i`` (s_i in {-1, 0, 1}) is exact, whatever the order:
    float32 when all partial sums stay below 2**24, float64 below 2**53. Lets
    fixed-point synaptic sums run as BLAS GEMMs with integer results."""
    bound = int(np.abs(w).max(initial=0)) * int(fan)
    if bound < 2 ** 24:
        return w.astype(np.float32)
    if bound < 2 ** 53:
        return w.astype(np.float64)
    raise ValueError("weights too large for an exact float GEMM")


@jit.rule
def dense_output(acc, scale, lim):
    """Lava's Dense output of integer synaptic sums ``acc`` (integers, or floats
    that hold them exactly): scaled by ``scale`` = 2**weight_exp (floored: an
    arithmetic >> for a negative exponent) and saturated to +/-``lim``, the 16-bit
    synaptic input. Power-of-two scaling and floor are exact in floating point."""
    if scale != 1.0:
        acc = np.floor(acc * scale)
    return np.minimum(np.maximum(acc, -lim), lim)


@jit.rule
def gradient_sign(dp, dn):
    """d = d+ - d- (-1, 0, 1) of a layer's gradient spikes (bool): what the backward
    drive sends and Eq. 10 pairs with x. int8 arrays (numpy), integers (compiled)."""
    return jit.cast(dp, np.int8) - jit.cast(dn, np.int8)


@jit.rule
def lateral_inhibition(w, others):
    """Eq. 2's WTA input of an output neuron: -w per spike of the *other* output
    neurons (``others``, float64 in floating point)."""
    return -w * others


def _fixed_drive(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    """Integer synaptic sums -> 16-bit synaptic input (``dense_output``), int32."""
    return dense_output(acc, 2.0 ** weight_exp, fxp.A_MAX).astype(np.int32)


def forward_drive(w: np.ndarray, s: np.ndarray, fixed: bool, weight_exp: int = 0,
                  wf: Optional[np.ndarray] = None) -> np.ndarray:
    """Synaptic input W s for spikes s (..., N_pre); w has shape (N_post, N_pre).

    Fixed point: integer sum of mantissas, shifted by the weight exponent and
    saturated to the 16-bit synaptic input. ``wf`` (optional) is
    ``exact_float_weights(w, N_pre)``: the same integer sums through float BLAS.
    """
    if fixed:
        acc = s.astype(np.int32) @ w.T if wf is None else s.astype(wf.dtype) @ wf.T
        return _fixed_drive(acc, weight_exp)
    return s.astype(w.dtype) @ w.T


def forward_drive_many(w: np.ndarray, s: np.ndarray, fixed: bool, weight_exp: int = 0,
                       wf: Optional[np.ndarray] = None, spike_drive=None) -> np.ndarray:
    """``forward_drive`` of many rows of spikes at once, s (M, N_pre) bool: one GEMM
    over the inputs that spike at all. ``spike_drive(s, wt)`` (optional, e.g.
    ``accel.spike_drive``): an event-driven ``s @ wt``, used where it pays
    (``_event_driven_pays``). Fixed point is exact either way; float sums equal
    ``forward_drive``'s up to rounding order.
    """
    npre, npost = s.shape[-1], w.shape[0]
    wsrc = wf if fixed and wf is not None else w
    cols = np.flatnonzero(s.any(axis=0))
    if cols.size == 0:
        acc = np.zeros((s.shape[0], npost), dtype=wsrc.dtype if wsrc.dtype.kind == "f" else np.float32)
    else:
        if 4 * cols.size < 3 * npre:          # gathering the active inputs pays
            s, wsrc = s[:, cols], wsrc[:, cols]
        if wsrc.dtype.kind != "f":            # integer sums through float BLAS, converted after gathering
            wsrc = exact_float_weights(wsrc, npre)
        if spike_drive is not None and _event_driven_pays(np.count_nonzero(s) / s.size, npost) \
                and s.shape[0] * npost >= 4096:
            acc = spike_drive(s, np.ascontiguousarray(wsrc.T))
        else:
            acc = s.astype(wsrc.dtype) @ wsrc.T
    return _fixed_drive(acc, weight_exp) if fixed else acc


def _event_driven_pays(density: float, npost: int) -> bool:
    """Whether adding the weight rows of the active inputs beats one GEMM.
    The event kernel scans every input (cost ~ M N_pre) and adds N_post weights
    per spike; the GEMM costs M N_pre N_post at BLAS speed. Fitted to
    ``accel.spike_drive`` against float32 OpenBLAS on one core here: the
    break-even density is ~0.23 for N_post = 1280, ~0.15 for 256 and never
    below ~100 outputs (10 outputs: the GEMM is 3-10x faster at any density)."""
    return density < 0.25 - 25.0 / npost


def backward_drive(w: np.ndarray, dp: np.ndarray, dn: np.ndarray, fixed: bool,
                   weight_exp: int = 0, wf: Optional[np.ndarray] = None) -> np.ndarray:
    """Backward input W^T (d+ - d-) (..., N_pre): the same weight array read transposed.
    ``wf``: as in ``forward_drive`` (fixed point only), with fan N_post."""
    d = gradient_sign(dp, dn) if dp.dtype == bool and dn.dtype == bool \
        else dp.astype(np.int32) - dn.astype(np.int32)
    if fixed:
        acc = d.astype(np.int32) @ w if wf is None else d.astype(wf.dtype) @ wf
        return _fixed_drive(acc, weight_exp)
    return d.astype(w.dtype) @ w


def wta_weight(w_inh: float, fixed: bool):
    """The lateral weight as the synapses hold it: w_inh, or its mantissa."""
    return int(round(w_inh * fxp.W_ONE)) if fixed else w_inh


def wta_drive(x: np.ndarray, w_inh: float, fixed: bool) -> np.ndarray:
    """Lateral inhibition (Eq. 2): each output neuron receives -w_inh per spike
    of every *other* output neuron (zero diagonal)."""
    if fixed:
        xi = x.astype(np.int32)
        return lateral_inhibition(wta_weight(w_inh, True), xi.sum(axis=-1, keepdims=True) - xi)
    xf = x.astype(np.float64)
    return lateral_inhibition(w_inh, xf.sum(axis=-1, keepdims=True) - xf)



# ---------------------------------------------------------------- weights
def init_weights(cfg: SSNNConfig, seed: int, dtype=np.float64) -> list:
    """He initialisation scaled to the threshold: std = gain * theta * sqrt(2 / fan_in),
    so the spiking net starts in the regime of the equivalent ReLU network.
    Fixed point returns integer mantissas."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
    ws = []
    for k in range(cfg.n_layers):
        fan_in = cfg.sizes[k]
        w = rng.standard_normal((cfg.sizes[k + 1], fan_in)) * cfg.init_gain * cfg.theta * np.sqrt(2.0 / fan_in)
        ws.append(fxp.quantize_weights(w, cfg.exp_of(k), cfg.weight_bits) if cfg.fixed_point else w.astype(dtype))
    return ws


def check_layer_weights(cfg: SSNNConfig, k: int, w) -> np.ndarray:
    """Synapse layer k's weights as an array, or a ValueError naming what is wrong:
    shape (N_{k+1}, N_k), finite, and in fixed point integer mantissas within the
    symmetric signed ``cfg.weight_bits`` range (a cast would silently truncate them).
    A floating-point network refuses integer arrays: those are fixed-point mantissas
    (one unit = 2**e / 64), which read as float weights would be 64 times too large or
    more (whole numbers meant as float weights: pass ``w.astype(float)``)."""
    w = np.asarray(w)
    want = (cfg.sizes[k + 1], cfg.sizes[k])
    if w.shape != want:
        layers = [(cfg.sizes[j + 1], cfg.sizes[j]) for j in range(cfg.n_layers)]
        hint = (" (transposed? weights[k] is (N_out, N_in), Lava's Dense convention)" if w.shape == want[::-1]
                else f" (the shape of layer {layers.index(w.shape)}: layers in the wrong order?)"
                if w.shape in layers else "")
        raise ValueError(f"weights of layer {k} must have shape {want}, got {w.shape}{hint}")
    if np.iscomplexobj(w):   # a cast to the engine's dtype would drop the imaginary part
        raise ValueError(f"weights of layer {k} must be real numbers (complex found)")
    if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights of layer {k} must be finite numbers (NaN, inf or non-numbers found)")
    if not cfg.fixed_point and w.dtype.kind in "iu":
        raise ValueError(f"weights of layer {k} are integers ({w.dtype}) but the network is floating point: "
                         "integer mantissas belong to fixed_point=True (whole numbers meant as float weights: "
                         "pass w.astype(float))")
    if cfg.fixed_point:
        lo, hi = cfg.weight_range
        if not np.array_equal(w, np.round(w)) or w.size and (w.max() > hi or w.min() < lo):
            raise ValueError(f"fixed-point weights of layer {k} must be integer mantissas in [{lo}, {hi}] "
                             "(see fixed_point.quantize_weights)")
    return w


def check_weights(cfg: SSNNConfig, weights) -> list:
    """Every layer's weights checked by :func:`check_layer_weights`: a list (or tuple) of
    ``cfg.n_layers`` arrays, not a dict such as an npz file's (``runs.load_weights`` reads one)."""
    if isinstance(weights, (str, bytes)) or not isinstance(weights, (Sequence, np.ndarray)):
        got = type(weights).__name__
        raise ValueError(f"weights must be a list of {cfg.n_layers} arrays (one per synapse layer, "
                         f"weights[k] of shape (N_(k+1), N_k)), got {got}")
    if len(weights) != cfg.n_layers:
        raise ValueError(f"need {cfg.n_layers} weight arrays, got {len(weights)}")
    return [check_layer_weights(cfg, k, w) for k, w in enumerate(weights)]


def float_weights(cfg: SSNNConfig, weights: list) -> list:
    """Weights in float units (dequantised in fixed point)."""
    if not cfg.fixed_point:
        return [np.asarray(w, dtype=np.float64) for w in weights]
    return [fxp.dequantize_weights(w, cfg.exp_of(k)) for k, w in enumerate(weights)]
