"""The neurons: the IF step (float as SPEC.md writes it; fixed point as Lava's
bit-accurate LIF with dv = 0), and the composite neuron (forward x, gated
gradient neurons d+ / d-) of a hidden and of the output layer.

The rules (``@jit.rule``) are element-wise: numpy runs them on a layer's arrays
here, ``accel`` compiles them into its loops over units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from .. import fixed_point as fxp
from .. import jit
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


# ---- the rules: element-wise arithmetic of numpy arrays, or of scalars in accel's compiled loops
# (in place only on their own temporaries, through jit's primitives: numpy then allocates as little
# as a hand-written in-place version would)
@jit.rule
def fires(v, theta, rand=None):
    """Spikes: v > theta; or with ``rand`` (16-bit random integers, stochastic firing)
    with probability min(1, v / theta) for v > 0: where rand * theta < v * 2^16
    (exact in float64 for the fixed-point ranges: both sides below 2^40)."""
    if rand is None:
        return v > theta
    v64 = jit.cast(v, np.float64)
    return (v64 > 0) & (jit.cast(rand, np.float64) * theta < v64 * 65536.0)


@jit.rule
def reset_voltage(v, s, theta, zero_reset):
    """v where not s; where s, v - theta (subtractive reset) or 0 (``zero_reset``).
    Updates ``v`` in place (numpy): pass a temporary."""
    return jit.zero_where_(v, s) if zero_reset else jit.subtract_where_(v, s, theta)


@jit.rule
def if_update_fixed(u, v, a, decay, act, lim, vth, zero_reset, wrap=False, decay_v=None, bias=None, rand=None):
    """One fixed-point IF step (Lava's bit-accurate LIF) in int64: u' = trunc(u decay)
    + a act -- sign(u) (|u| (4096 - du - 1) >> 12) + (a << 6): u decay is a dyadic
    product, exact in float64, and the cast to an integer truncates -- saturated to
    24 bits (or wrapped, ``wrap``: Lava's LIF u); v' = v (or trunc(v decay_v), a leaky
    voltage) + u' (+ ``bias``), saturated; spikes where v' > vth (``fires``); then
    ``reset_voltage``. Constants: ``fixed_if_consts``. Returns int32 u', v' and the
    spikes."""
    x = jit.cast(u * decay, np.int64)
    x += jit.cast(a, np.int64) * act
    x = fxp.wrap_current(x) if wrap else jit.clip_(x, lim)
    if decay_v is None:
        y = jit.cast(v, np.int64) + x
    else:
        y = jit.cast(jit.cast(v, np.float64) * decay_v, np.int64)
        y += x
    if bias is not None:
        y += bias
    y = jit.clip_(y, lim)
    s = fires(y, vth, rand)
    return jit.cast(x, np.int32), jit.cast(reset_voltage(y, s, vth, zero_reset), np.int32), s


@jit.rule
def if_update_float(u, v, a, du, theta, zero_reset, rand=None):
    """One float IF step: u' = u + du (a - u), v' = v + u', spikes where v' > theta
    (``fires``), then ``reset_voltage``; one rounding per operation in u's type (du,
    theta of that type, or Python floats, which numpy rounds to it)."""
    x = a - u
    x *= du
    x += u
    y = v + x
    s = fires(y, theta, rand)
    return x, reset_voltage(y, s, theta, zero_reset), s


def fixed_if_consts(du, theta) -> tuple:
    """The fixed-point IF step's constants in ``if_update_fixed``'s terms: (decay
    (4096 - (du + 1)) / 4096, a float; input factor 2^6, 24-bit limit and threshold
    << 6, integers)."""
    return ((fxp.DECAY_UNITY - (du + fxp.DS_OFFSET)) / fxp.DECAY_UNITY, 1 << fxp.ACT_SHIFT,
            fxp.UV_MAX, int(np.int64(theta) << fxp.VTH_SHIFT))


def if_step(u, v, a, du, theta, reset="subtract", fixed=False, overflow="saturate",
            dv=0, bias=0, rand=None):
    """One step of the current-based integrate-and-fire neuron (arrays of any shape).

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
    Returns (u, v, spikes). The rules: ``if_update_fixed``, ``if_update_float``.
    """
    zero_reset = reset == "zero"
    if fixed:
        decay, act, lim, vth = fixed_if_consts(du, theta)
        decay_v = None if _is_zero(dv) else (fxp.DECAY_UNITY - np.asarray(dv)) / fxp.DECAY_UNITY
        return if_update_fixed(np.asarray(u), np.asarray(v), np.asarray(a), decay, act, lim, vth, zero_reset,
                               overflow == "wrap", decay_v, None if _is_zero(bias) else bias, rand)
    return if_update_float(u, v, a, du, theta, zero_reset, rand)   # numpy casts scalar du, theta to u's type


def firing_randoms(seed: int, sample_index: int, layer: int, steps: int, n: int) -> np.ndarray:
    """A layer's random numbers for stochastic firing over one sample, (T, 3, N):
    per step one 16-bit number for each of its x, d+ and d- neurons (a Lava layer
    draws them one step at a time from the same stream: the same numbers)."""
    return replay_randoms(sample_rng(seed, sample_index, STREAM_FIRING + layer), (steps, 3, n))


def _is_zero(x) -> bool:
    """x == 0 everywhere (cheap for the usual Python scalar 0)."""
    return x == 0 if isinstance(x, (int, float)) else not np.any(x)


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


@jit.rule
def gated_outputs(xu, xv, pu, pv, nu, nv, gate, x, sp, sn, output):
    """The composite neuron's outputs: the gate opens at the first x spike; a hidden
    layer's gradient spikes pass only through an open gate (the output's always)."""
    gate = gate | x
    if not output:
        sp, sn = sp & gate, sn & gate
    return xu, xv, pu, pv, nu, nv, gate, x, sp, sn


@jit.rule
def error_drive_fixed(b, x, gain, output):
    """The gradient neurons' input (d+ gets it, d- its negative): the backward drive
    ``b`` of a hidden layer, or at the ``output`` (b - x) gain, b the target spikes
    as integers."""
    return (b - x) * gain if output else b


@jit.rule
def error_drive_float(b, x, gain, one, output):
    """``error_drive_fixed`` in floating point: b and ``one`` (1) of the state's type."""
    return (b - jit.where(x, one, one - one)) * gain if output else b


@jit.rule
def composite_update_fixed(xu, xv, pu, pv, nu, nv, gate, a, b, keep, output, gain, decay, act, lim, vth_x, vth_d,
                           zero_reset, wrap=False, rand_x=None, rand_p=None, rand_n=None):
    """One fixed-point composite-neuron step, element-wise: the forward neuron x on
    input ``a`` (dropped where not ``keep``, a mask or True), then d+ and d- on
    ``error_drive_fixed`` (``b``: the backward input, or the output layer's target);
    then ``gated_outputs``. Constants as ``if_update_fixed``'s.
    Returns the seven state arrays (int32, and the gate) and x, d+, d-."""
    xu, xv, x = if_update_fixed(xu, xv, a, decay, act, lim, vth_x, zero_reset, wrap, rand=rand_x)
    x = x & keep
    e = error_drive_fixed(b, x, gain, output)
    pu, pv, sp = if_update_fixed(pu, pv, e, decay, act, lim, vth_d, zero_reset, wrap, rand=rand_p)
    nu, nv, sn = if_update_fixed(nu, nv, -e, decay, act, lim, vth_d, zero_reset, wrap, rand=rand_n)
    return gated_outputs(xu, xv, pu, pv, nu, nv, gate, x, sp, sn, output)


@jit.rule
def composite_update_float(xu, xv, pu, pv, nu, nv, gate, a, b, keep, output, gain, one, du, theta_x, theta_d,
                           zero_reset, rand_x=None, rand_p=None, rand_n=None):
    """``composite_update_fixed`` in floating point (``if_update_float``); ``b`` and
    ``one`` (1) of the state's type, so that (b - x) gain keeps it."""
    xu, xv, x = if_update_float(xu, xv, a, du, theta_x, zero_reset, rand_x)
    x = x & keep
    e = error_drive_float(b, x, gain, one, output)
    pu, pv, sp = if_update_float(pu, pv, e, du, theta_d, zero_reset, rand_p)
    nu, nv, sn = if_update_float(nu, nv, -e, du, theta_d, zero_reset, rand_n)
    return gated_outputs(xu, xv, pu, pv, nu, nv, gate, x, sp, sn, output)


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
    return _composite_step(st, a_fwd, a_bwd, p, True if keep is None else keep, False, rand)


def output_step(st: CompositeState, a_fwd, target, p: NeuronParams, rand=None):
    """One step of the output layer (Eq. 1/2, 6, 7): d+ is driven by
    (target - output), d- by (output - target), in the same step.
    ``rand``: as in ``hidden_step``."""
    b = np.asarray(target, np.int64 if p.fixed else st.xu.dtype)
    return _composite_step(st, a_fwd, b, p, True, True, rand)


def _composite_step(st: CompositeState, a, b, p: NeuronParams, keep, output: bool, rand):
    """``composite_update_fixed`` / ``_float`` on a layer's arrays."""
    rx, rp, rn = _rand3(rand)
    zero_reset = p.reset == "zero"
    if p.fixed:
        decay, act, lim, vth_x = fixed_if_consts(p.du, p.theta_x)
        vth_d = fixed_if_consts(p.du, p.theta_d)[-1]
        out = composite_update_fixed(*st, a, b, keep, output, int(p.err_gain), decay, act, lim, vth_x, vth_d,
                                     zero_reset, p.overflow == "wrap", rx, rp, rn)
    else:
        one = np.dtype(st.xu.dtype).type(1)
        out = composite_update_float(*st, a, b, keep, output, p.err_gain, one, p.du, p.theta_x, p.theta_d,
                                     zero_reset, rx, rp, rn)
    return (CompositeState(*out[:7]), *out[7:])


def composite_consts(p: NeuronParams, dtype) -> Optional[tuple]:
    """A layer's constants of ``composite_update_fixed`` / ``_float`` from ``gain`` on,
    as scalars of the compiled loops (``accel``): fixed point (gain, decay, act, lim,
    theta_x, theta_d, zero_reset) in ``fixed_if_consts``' terms; float (gain, 1, du,
    theta_x, theta_d, zero_reset) in ``dtype``. None where those loops do not apply:
    per-neuron parameters, or fixed point that wraps instead of saturating."""
    if not (np.ndim(p.du) == 0 and np.ndim(p.theta_x) == 0 and np.ndim(p.theta_d) == 0):
        return None
    zero_reset = p.reset == "zero"
    if p.fixed:
        if p.overflow != "saturate":
            return None
        decay, act, lim, vth_x = fixed_if_consts(p.du, p.theta_x)
        vth_d = fixed_if_consts(p.du, p.theta_d)[-1]
        return (np.int64(p.err_gain), decay, *map(np.int64, (act, lim, vth_x, vth_d)), zero_reset)
    f = np.dtype(dtype).type
    return (f(p.err_gain), f(1), f(p.du), f(p.theta_x), f(p.theta_d), zero_reset)
