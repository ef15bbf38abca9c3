"""The neurons: the IF step (float as SPEC.md writes it; fixed point as Lava's
bit-accurate LIF with dv = 0), and the composite neuron (forward x, gated
gradient neurons d+ / d-) of a hidden and of the output layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from .. import fixed_point as fxp
from .. import kernels as _kernels
from ..config import SSNNConfig
from .randomness import STREAM_FIRING, sample_rng
from .replay import REPLAY_RANDOM_BITS, replay_randoms


@dataclass(frozen=True)
class NeuronParams:
    """Parameters of one composite-neuron layer.

    Floating point: ``du`` is the decay per step in (0, 1], thresholds are in
    weight units. Fixed point: ``du`` is the 12-bit register (effective decay
    (du + 1) / 4096), thresholds are 17-bit mantissas (compared as ``<< 6``),
    ``err_gain`` is the integer drive of one label-minus-output spike.
    """
    fixed: bool
    du: float
    theta_x: float
    theta_d: float
    reset: str = "subtract"
    err_gain: float = 1.0
    overflow: str = "saturate"   # fixed point: 'saturate' (default) or 'wrap' (Lava's LIF u)


def neuron_params(cfg: SSNNConfig, layer: int, train: bool = True) -> NeuronParams:
    """Parameters of neuron layer ``layer`` (1..n_layers; n_layers is the output).

    At test time (``train=False``) with dropout, the forward threshold is scaled
    by 1 / (1 - p) of the layer below: the spiking equivalent of scaling the
    incoming weights by the keep probability.
    """
    out = layer == cfg.n_layers
    theta_x = cfg.theta
    if not train and cfg.test_threshold_scaling:
        theta_x = theta_x / (1.0 - cfg.drop(layer - 1))
    theta_d = cfg.theta_out_grad if out else cfg.theta_hidden_grad
    if not cfg.fixed_point:
        return NeuronParams(False, cfg.du, theta_x, theta_d, cfg.reset, 1.0)
    du = cfg.du_register
    return NeuronParams(True, du, fxp.threshold_mantissa(theta_x, du),
                        fxp.threshold_mantissa(theta_d, du), cfg.reset, fxp.W_ONE)


def if_step(u, v, a, du, theta, reset="subtract", fixed=False, overflow="saturate",
            dv=0, bias=0, rand=None):
    """One step of the current-based integrate-and-fire neuron.

    ``rand`` (optional, 16-bit random integers of v's shape): stochastic firing
    (``SSNNConfig.stochastic_firing``, the paper's literal reading): the neuron
    fires with probability min(1, v / theta) for v > 0 -- where
    rand * theta < v * 2^16 -- instead of when v > theta, and resets as usual,
    so its mean rate stays the deterministic neuron's (charge is conserved with
    the subtractive reset).

    Float:  u += du * (a - u);  v += u;  spike if v > theta.
            (one input of weight w adds exactly w to v: kernel 1 - exp(-t/tau))
    Fixed:  u = u * (4096 - du - 1) >> 12 + (a << 6), 24-bit;
            v = v * (4096 - dv) >> 12 + u + bias, 24-bit saturating;
            spike if v > theta << 6 (Lava's PyLifModelBitAcc with these settings).
    Reset: 'subtract' removes the threshold, 'zero' sets v to 0.
    Returns (u, v, spikes).
    """
    if fixed:
        if (rand is None and overflow == "saturate" and _is_zero(dv) and _is_zero(bias) and np.ndim(theta) == 0
                and np.ndim(u) and np.shape(u) == np.shape(v) == np.shape(a) and np.size(u) >= 1024
                and _kernels.available()):
            # one fused pass (numba) over the same integer arithmetic as below
            return _kernels.if_step_fixed(u, v, a, *_fixed_if_consts(du, theta), reset == "zero")
        # Integer arithmetic carried out exactly in float64 (every value stays
        # below 2**53): the decay x * (4096 - d) >> 12 on the magnitude is
        # trunc(x * ((4096 - d) / 4096)), a dyadic product, and a << 6 is a * 64.
        lim = float(fxp.UV_MAX)
        uf = np.asarray(u, dtype=np.float64) * ((fxp.DECAY_UNITY - (du + fxp.DS_OFFSET)) / fxp.DECAY_UNITY)
        np.trunc(uf, out=uf)
        uf += np.asarray(a, dtype=np.float64) * float(1 << fxp.ACT_SHIFT)
        if overflow == "wrap":
            uf = fxp.wrap_current(uf)
        else:
            _clip_(uf, lim)
        vf = np.array(v, dtype=np.float64)
        if np.any(dv):
            vf *= (fxp.DECAY_UNITY - np.asarray(dv)) / fxp.DECAY_UNITY
            np.trunc(vf, out=vf)
        vf += uf
        if np.any(bias):
            vf += bias
        _clip_(vf, lim)
        vth = float(np.int64(theta) << fxp.VTH_SHIFT)
        s = vf > vth if rand is None else _fires_stochastically(vf, vth, rand)
        vf = _reset_(vf, s, vth, reset)
        return uf.astype(np.int32), vf.astype(np.int32), s
    if (rand is None and isinstance(u, np.ndarray) and u.dtype.kind == "f" and u.ndim and getattr(v, "dtype", None) == u.dtype
            and getattr(a, "dtype", None) == u.dtype and u.shape == v.shape == a.shape and u.size >= 1024
            and np.ndim(du) == 0 and np.ndim(theta) == 0 and _kernels.available()):
        return _kernels.if_step_float(u, v, a, du, theta, reset == "zero")   # one fused pass, same roundings
    un = a - u
    un *= du
    un += u                 # u + du * (a - u), in a fresh array
    v = v + un
    s = v > theta if rand is None else _fires_stochastically(v, theta, rand)
    return un, _reset_(v, s, theta, reset), s


def _fires_stochastically(v, theta, rand):
    """Spikes with probability min(1, v / theta) for v > 0: rand * theta < v * 2^16
    (exact in float64 for the fixed-point ranges: both sides below 2^40)."""
    v64 = np.asarray(v, dtype=np.float64)
    return (v64 > 0) & (np.asarray(rand, dtype=np.float64) * float(theta) < v64 * float(1 << REPLAY_RANDOM_BITS))


def firing_randoms(seed: int, sample_index: int, layer: int, steps: int, n: int) -> np.ndarray:
    """A layer's random numbers for stochastic firing over one sample, (T, 3, N):
    per step one 16-bit number for each of its x, d+ and d- neurons (a Lava layer
    draws them one step at a time from the same stream: the same numbers)."""
    return replay_randoms(sample_rng(seed, sample_index, STREAM_FIRING + layer), (steps, 3, n))


def _fixed_if_consts(du, theta) -> tuple:
    """The fixed-point IF step in the kernels' integer terms: (decay keep
    4096 - (du + 1), input shift factor, 24-bit limit, threshold << 6)."""
    return (fxp.DECAY_UNITY - (du + fxp.DS_OFFSET), 1 << fxp.ACT_SHIFT, fxp.UV_MAX,
            int(np.int64(theta) << fxp.VTH_SHIFT))


def _is_zero(x) -> bool:
    """x == 0 everywhere (cheap for the usual Python scalar 0)."""
    return x == 0 if isinstance(x, (int, float)) else not np.any(x)


def _clip_(x: np.ndarray, lim: float):
    """In-place symmetric clip to [-lim, lim] (np.clip is slower)."""
    np.minimum(x, lim, out=x)
    np.maximum(x, -lim, out=x)


def _reset_(v: np.ndarray, s: np.ndarray, theta, reset: str) -> np.ndarray:
    """v - theta ('subtract') or 0 ('zero') where s, in place for arrays.
    ``theta`` is taken in v's precision, as ``v - theta`` does with a scalar."""
    if not isinstance(v, np.ndarray) or v.ndim == 0:
        return np.where(s, v - theta if reset == "subtract" else 0 * v, v)
    if reset == "subtract":
        v -= s.view(np.uint8) * v.dtype.type(theta)   # v - 0 == v exactly where s is False
    else:
        np.copyto(v, 0, where=s)
    return v


class CompositeState(NamedTuple):
    """State of a layer of composite neurons: forward (x), d+ (p) and d- (n) IF
    neurons, and the first-spike gate. Each array has shape (..., N)."""
    xu: np.ndarray
    xv: np.ndarray
    pu: np.ndarray
    pv: np.ndarray
    nu: np.ndarray
    nv: np.ndarray
    gate: np.ndarray


def composite_state(shape, fixed: bool, dtype=np.float64) -> CompositeState:
    """All-zero state (start of a sample)."""
    dt = np.int32 if fixed else dtype
    z = [np.zeros(shape, dtype=dt) for _ in range(6)]
    return CompositeState(*z, np.zeros(shape, dtype=bool))


def _step(u, v, a, p: NeuronParams, theta, rand=None):
    return if_step(u, v, a, p.du, theta, p.reset, p.fixed, p.overflow, rand=rand)


def forward_step(u, v, a, p: NeuronParams, rand=None):
    """One step of a layer's forward IF neuron x alone: ``(u, v, spikes)``,
    exactly the x part of ``hidden_step`` / ``output_step`` (before dropout)."""
    return _step(u, v, a, p, p.theta_x, rand)


def _rand3(rand):
    """The x, d+ and d- rows of one step's stochastic-firing numbers (..., 3, N), or Nones."""
    if rand is None:
        return None, None, None
    return rand[..., 0, :], rand[..., 1, :], rand[..., 2, :]


def hidden_step(st: CompositeState, a_fwd, a_bwd, p: NeuronParams, keep=None, rand=None):
    """One step of a hidden composite-neuron layer (Eq. 1, 4, 5).

    ``a_fwd``: forward synaptic input W x_below (delayed one step by the synapse);
    ``a_bwd``: backward input W^T (d+ - d-) from the layer above;
    ``keep``: dropout keep-mask, a dropped neuron never spikes.
    ``rand``: stochastic firing's random numbers of this step, (..., 3, N), or None.
    The gradient neurons integrate always, but their spikes pass only once the
    forward neuron has spiked in this sample (the ReLU-derivative switch).
    Returns (state, x, d+, d-) with boolean spikes.
    """
    fused = None if rand is not None else _composite_fused(st, a_fwd, a_bwd, p, keep, output=False)
    if fused is not None:
        return fused
    rx, rp, rn = _rand3(rand)
    xu, xv, x = forward_step(st.xu, st.xv, a_fwd, p, rx)
    if keep is not None:
        x = x & keep
    gate = st.gate | x
    pu, pv, sp = _step(st.pu, st.pv, a_bwd, p, p.theta_d, rp)
    nu, nv, sn = _step(st.nu, st.nv, -a_bwd, p, p.theta_d, rn)
    return CompositeState(xu, xv, pu, pv, nu, nv, gate), x, sp & gate, sn & gate


def output_step(st: CompositeState, a_fwd, target, p: NeuronParams, rand=None):
    """One step of the output layer (Eq. 1/2, 6, 7): d+ is driven by
    (target - output), d- by (output - target), in the same step.
    ``rand``: as in ``hidden_step``."""
    fused = None if rand is not None else _composite_fused(st, a_fwd, target, p, None, output=True)
    if fused is not None:
        return fused
    rx, rp, rn = _rand3(rand)
    xu, xv, x = forward_step(st.xu, st.xv, a_fwd, p, rx)
    if p.fixed:
        err = (np.asarray(target, np.int64) - x) * int(p.err_gain)
    else:
        err = (np.asarray(target, xu.dtype) - x) * p.err_gain
    pu, pv, sp = _step(st.pu, st.pv, err, p, p.theta_d, rp)
    nu, nv, sn = _step(st.nu, st.nv, -err, p, p.theta_d, rn)
    return CompositeState(xu, xv, pu, pv, nu, nv, st.gate | x), x, sp, sn


def _composite_fused(st: CompositeState, a, b, p: NeuronParams, keep, output: bool):
    """``hidden_step`` / ``output_step`` as one compiled pass over the units
    (``kernels.composite_step``) for layers of fewer than 1,024 units x samples,
    where ``if_step`` would take its numpy path and ~30 small array operations
    per step cost more than the arithmetic (the output layer; any layer of a
    one-sample simulation in fixed point). Larger layers keep ``if_step``'s
    vectorised kernels, which are faster there (measured: the fused loop does
    not vectorise). Needs usable kernels and arrays of one shape in the state's
    arithmetic; returns None otherwise. Same operations in the same order as
    the numpy path below (tested bit for bit)."""
    xu = st.xu
    if not (isinstance(xu, np.ndarray) and 0 < xu.size < 1024 and _kernels.available()):
        return None
    shape, dt = xu.shape, xu.dtype
    for z in st[1:6]:
        if type(z) is not np.ndarray or z.shape != shape or z.dtype != dt:
            return None
    for z in (st.gate, a, b) if keep is None else (st.gate, a, b, keep):
        if type(z) is not np.ndarray or z.shape != shape:
            return None
    if st.gate.dtype != bool or (keep is not None and keep.dtype != bool):
        return None
    if p.fixed:
        if dt.kind != "i" or a.dtype.kind not in "iu" or b.dtype.kind not in ("b" if output else "iu"):
            return None
    else:
        if dt.kind != "f" or a.dtype != dt or (b.dtype != dt if not output else b.dtype != bool):
            return None
        if output:
            b = b.astype(dt)
    consts = composite_consts(p, dt)
    if consts is None:
        return None
    *state, x, dp, dn = _kernels.composite_step(tuple(st), a, b, keep, output, p.fixed, consts)
    return CompositeState(*state), x, dp, dn


def composite_consts(p: NeuronParams, dtype) -> Optional[tuple]:
    """A layer's parameters as the compiled composite step takes them (see
    ``kernels.composite_step``), or None where that step does not apply:
    per-neuron parameters, or fixed point that wraps instead of saturating."""
    if not (np.ndim(p.du) == 0 and np.ndim(p.theta_x) == 0 and np.ndim(p.theta_d) == 0):
        return None
    zero_reset = p.reset == "zero"
    if p.fixed:
        if p.overflow != "saturate":
            return None
        *ints, vth_x = _fixed_if_consts(p.du, p.theta_x)
        vth_d = _fixed_if_consts(p.du, p.theta_d)[-1]
        return (*map(np.int64, (p.err_gain, *ints, vth_x, vth_d)), zero_reset)
    f = np.dtype(dtype).type
    return (f(p.err_gain), f(1), f(p.du), f(p.theta_x), f(p.theta_d), zero_reset)
