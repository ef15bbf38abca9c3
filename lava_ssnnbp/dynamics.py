"""SSNN-BP per-time-step dynamics as pure array functions (the "one math").

Every rule of the model lives here once: encoders, the IF neuron, the composite
neuron (forward x, gated gradient neurons d+ / d-), winner-take-all inhibition,
synaptic drives, dropout masks and the four weight-update rules. Functions take
state explicitly and return new state; arrays may carry any leading batch
dimensions. The Lava ProcessModels (``lava_ssnnbp.proc_models``) call them on
their own Vars, one sample at a time; the batched engine (``lava_ssnnbp.engine``)
calls them on many samples at once.

Floating point follows SPEC.md literally. Fixed point uses only integers of
hardware width (see ``fixed_point``); its forward neuron is Lava's bit-accurate
LIF with ``dv = 0`` (no leak) and a configurable reset.

Speed: the hot paths (IF and composite-neuron steps, WTA, synaptic drives, the
whole-sample loop of a one-hidden-layer net) have numba twins in ``kernels``,
used for large arrays when numba is importable. They repeat this module's
arithmetic operation for operation and ``tests/test_kernels.py`` holds them
equal to it (bit for bit; float synaptic sums up to summation order). Change a
rule here and in its twin, or run with ``LAVA_SSNNBP_NUMBA=0`` while you
experiment: then only this module is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from . import fixed_point as fxp
from . import kernels as _kernels
from .config import SSNNConfig

# ---------------------------------------------------------------- randomness
# Every random draw of a sample comes from its own stream, so a batched run and
# a one-sample-at-a-time Lava run draw exactly the same numbers.
STREAM_INPUT, STREAM_TARGET = 0, 1
STREAM_DROPOUT = 10      # + neuron layer
STREAM_ROUNDING = 100    # + synapse layer
STREAM_STOCHASTIC = 200  # + synapse layer
STREAM_NOISE = 300       # + synapse layer
STREAM_REPLAY = 400      # + neuron layer
STREAM_FIRING = 500      # + neuron layer ('stochastic_firing')
TEST_SEED_OFFSET = 1_000_003   # test-time inputs come from streams of seed + this, apart from training's


def sample_rng(seed: int, sample_index: int, stream: int) -> np.random.Generator:
    """Generator for one (seed, sample, purpose) triple."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, sample_index, stream])))


# ---------------------------------------------------------------- encoders
def input_probabilities(pixels: np.ndarray, steps: int, gain: float) -> np.ndarray:
    """Front-loaded spike probabilities, shape (T, *pixels.shape).

    Probability falls linearly over the sample, p_t = 2 g x (T - t - 1/2) / T,
    so its mean over the T steps is g * x (x in [0, 1]).
    """
    ramp = (steps - np.arange(steps) - 0.5) / steps
    ramp = ramp.reshape((steps,) + (1,) * np.ndim(pixels))
    return (2.0 * gain * ramp * pixels).astype(np.float32)


def encode_input(pixels: np.ndarray, steps: int, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli input spikes (T, D) for one sample's pixels (D,) in [0, 1]."""
    p = input_probabilities(pixels, steps, gain)
    return rng.random(p.shape, dtype=np.float32) < p


def encode_target(label: int, steps: int, num_classes: int, rate: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Target spikes (T, C): the true class fires Bernoulli(rate), the others never."""
    out = np.zeros((steps, num_classes), dtype=bool)
    out[:, label] = rng.random(steps, dtype=np.float32) < rate
    return out


def dropout_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Keep-mask (n,): a dropped unit is silent for the whole sample."""
    if p <= 0:
        return np.ones(n, dtype=bool)
    return rng.random(n, dtype=np.float32) >= p


def bernoulli_trains(rates: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Independent Bernoulli spike trains (T, *rates.shape) with the given rates."""
    return rng.random((steps,) + rates.shape, dtype=np.float32) < rates


# ---------------------------------------------------------------- neurons
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


# ---------------------------------------------------------------- synapses
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


def _fixed_drive(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    """Integer synaptic sums -> 16-bit synaptic input: shift by the weight exponent
    (Lava's Dense rule) and saturate. ``acc`` may hold the integers as floats
    (from an exact float GEMM): scaling by a power of two, floor and clip are
    exact there, and cheaper than int64 arithmetic."""
    if acc.dtype.kind == "f":
        if weight_exp >= 0:
            acc = acc * acc.dtype.type(2.0 ** weight_exp) if weight_exp else acc
        else:
            acc = np.floor(acc * acc.dtype.type(2.0 ** weight_exp))
        return np.clip(acc, -fxp.A_MAX, fxp.A_MAX).astype(np.int32)
    return fxp.saturate(fxp.shift(acc, weight_exp), fxp.A_BITS).astype(np.int32)


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
                       wf: Optional[np.ndarray] = None) -> np.ndarray:
    """``forward_drive`` of many rows of spikes at once, s (M, N_pre) bool.

    Event-driven (the weights of the active inputs are added) when the spikes
    are sparse and the compiled kernels are available, otherwise one GEMM over
    the inputs that spike at all. Fixed point is exact either way; float sums
    equal ``forward_drive``'s up to rounding order.
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
        if _event_driven_pays(np.count_nonzero(s) / s.size, npost) and s.shape[0] * npost >= 4096 \
                and _kernels.available():
            acc = _kernels.spike_drive(s, np.ascontiguousarray(wsrc.T))
        else:
            acc = s.astype(wsrc.dtype) @ wsrc.T
    return _fixed_drive(acc, weight_exp) if fixed else acc


def _event_driven_pays(density: float, npost: int) -> bool:
    """Whether adding the weight rows of the active inputs beats one GEMM.
    The event kernel scans every input (cost ~ M N_pre) and adds N_post weights
    per spike; the GEMM costs M N_pre N_post at BLAS speed. Fitted to
    ``kernels.spike_drive`` against float32 OpenBLAS on one core here: the
    break-even density is ~0.23 for N_post = 1280, ~0.15 for 256 and never
    below ~100 outputs (10 outputs: the GEMM is 3-10x faster at any density)."""
    return density < 0.25 - 25.0 / npost


def backward_drive(w: np.ndarray, dp: np.ndarray, dn: np.ndarray, fixed: bool,
                   weight_exp: int = 0, wf: Optional[np.ndarray] = None) -> np.ndarray:
    """Backward input W^T (d+ - d-) (..., N_pre): the same weight array read transposed.
    ``wf``: as in ``forward_drive`` (fixed point only), with fan N_post."""
    d = dp.view(np.int8) - dn.view(np.int8) if dp.dtype == bool and dn.dtype == bool \
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
        w = wta_weight(w_inh, True)
        xi = x.astype(np.int32)
        return -w * (xi.sum(axis=-1, keepdims=True) - xi)
    xf = x.astype(np.float64)
    return -w_inh * (xf.sum(axis=-1, keepdims=True) - xf)


# ---------------------------------------------------------------- replay ('replay' mode)
# After a training sample's T steps, every neuron replays its own spike counts of
# that sample as fresh Bernoulli trains for T_s steps (x, d+ and d-; the forward
# drive is off), and the synapses count the coincidences of these trains at their
# two ends (Eq. 10). Independent trains make the count an unbiased estimate of
# Eq. 9's product of rates (paper, section 2.2). Each neuron layer has one random
# stream per sample (like one PRNG per core); at every step of the window it draws
# one number for each train of each neuron whose count is not zero, in the order
# x, d+, d- and, within a train, by neuron index.
REPLAY_RANDOM_BITS = 16
REPLAY_TRAINS = ("x", "dp", "dn")


def replay_probability(counts: np.ndarray, steps: int) -> np.ndarray:
    """A replaying neuron's 16-bit firing-probability register, count * floor(2^16 / T)
    (one multiplication by a per-layer constant, no division on the core): the
    train fires with probability count / T to within 2^-16 x count."""
    return np.asarray(counts, dtype=np.uint32) * np.uint32((1 << REPLAY_RANDOM_BITS) // steps)


def replay_randoms(rng: np.random.Generator, shape) -> np.ndarray:
    """Uniform 16-bit random integers (uint32). One 32-bit draw per value, so
    drawing a window at once or step by step gives the same numbers."""
    return rng.integers(0, 1 << REPLAY_RANDOM_BITS, size=shape, dtype=np.uint32)


def replay_spikes(probability: np.ndarray, randoms: np.ndarray) -> np.ndarray:
    """Replay spikes: a neuron fires where its random number is below its register."""
    return randoms < probability


def replay_rng(seed: int, sample_index: int, layer: int) -> np.random.Generator:
    """The random stream of neuron layer ``layer``'s replay window of one sample."""
    return sample_rng(seed, sample_index, STREAM_REPLAY + layer)


class ReplayPlan(NamedTuple):
    """What a neuron layer replays in one window: for each of its ``trains``
    (names from REPLAY_TRAINS, in draw order) the neurons with a non-zero count
    (``units``) and their probability registers; ``n`` neurons in all."""
    n: int
    trains: tuple
    units: tuple
    probability: tuple

    @property
    def draws(self) -> int:
        """Random numbers the layer draws per window step."""
        return sum(len(u) for u in self.units)


def replay_plan(counts: dict, steps: int) -> ReplayPlan:
    """The plan of a layer whose sample counts are ``counts`` {train: (N,)}."""
    names = tuple(t for t in REPLAY_TRAINS if t in counts)
    units = tuple(np.flatnonzero(counts[t]) for t in names)
    prob = tuple(replay_probability(np.asarray(counts[t])[u], steps) for t, u in zip(names, units))
    return ReplayPlan(int(np.shape(counts[names[0]])[-1]), names, units, prob)


def replay_fire(plan: ReplayPlan, randoms: np.ndarray) -> dict:
    """Replay spikes {train: (..., N) bool} from one step's (or a window's)
    random numbers (..., plan.draws)."""
    out, at = {}, 0
    for name, units, prob in zip(plan.trains, plan.units, plan.probability):
        s = np.zeros(randoms.shape[:-1] + (plan.n,), dtype=bool)
        s[..., units] = replay_spikes(prob, randoms[..., at:at + len(units)])
        at += len(units)
        out[name] = s
    return out


def replay_window(counts: dict, steps: int, window: int, seed: int, sample_index: int, layer: int) -> dict:
    """One sample's replay trains {train: (window, N)} of neuron layer ``layer``
    with pass counts ``counts`` {train: (N,)}: the whole window at once (a Lava
    neuron draws the same numbers one step at a time)."""
    plan = replay_plan(counts, steps)
    return replay_fire(plan, replay_randoms(replay_rng(seed, sample_index, layer), (window, plan.draws)))


def replay_trains(counts: dict, steps: int, window: int, seed: int, sample_ids, layer: int) -> dict:
    """``replay_window`` of B samples: counts {train: (B, N)} -> {train: (window, B, N)}."""
    per = [replay_window({t: c[b] for t, c in counts.items()}, steps, window, seed, int(sid), layer)
           for b, sid in enumerate(sample_ids)]
    return {t: np.stack([p[t] for p in per], axis=1) for t in counts}


# ---------------------------------------------------------------- learning
def update_denominator(mode: str, steps: int) -> int:
    """dW = eta * numerator / denominator. The 2 is Eq. 8's d = (d+ - d-) / 2;
    counts are normalised by T (coincidences) or T^2 (product of two counts).
    ``steps`` is the learning window (``SSNNConfig.learning_steps``): T, or the
    replay window T_s in 'replay' mode."""
    if mode in ("coincidence", "stochastic", "replay"):
        return 2 * steps
    if mode in ("rate", "noise", "causal"):
        return 2 * steps * steps
    raise ValueError(f"unknown update mode {mode!r}")


def coincidence_numerator(x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray) -> np.ndarray:
    """Eq. 10 counts: sum over steps (and samples) of (d+ - d-)_post(t) x_pre(t).

    Histories have shape (T, ..., N). Each synapse needs only the two spikes at
    its own ends in the same step: spatially and temporally local.
    Large boolean histories go to the event-driven kernel (``kernels``); otherwise
    one float32 GEMM over the presynaptic units that spiked and the postsynaptic
    units whose gradient neurons spiked (exact for counts < 2**24). int64 result.
    """
    npre, npost = x_hist.shape[-1], dp_hist.shape[-1]
    x = np.asarray(x_hist).reshape(-1, npre)
    dp = np.asarray(dp_hist).reshape(-1, npost)
    dn = np.asarray(dn_hist).reshape(-1, npost)
    if (x.dtype == bool and dp.dtype == bool and dn.dtype == bool
            and x.shape[0] * npre * npost >= 1 << 20 and _kernels.available()):
        return _kernels.coincidences(x, dp, dn)     # event-driven, same integers
    out = np.zeros((npost, npre), dtype=np.int64)
    post, pre = learning_support(x, dp, dn)
    if pre.size == 0 or post.size == 0:
        return out
    sub_post, sub_pre = 2 * post.size < npost, 4 * pre.size < 3 * npre   # gathering pays
    if sub_post:
        dp, dn = dp[:, post], dn[:, post]
    if sub_pre:
        x = x[:, pre]
    if dp.dtype == bool and dn.dtype == bool:
        d = (dp.view(np.int8) - dn.view(np.int8)).astype(np.float32)
    else:
        d = dp.astype(np.float32) - dn.astype(np.float32)
    c = np.rint(d.T @ x.astype(np.float32)).astype(np.int64)
    if sub_post and sub_pre:
        out[np.ix_(post, pre)] = c
    elif sub_post:
        out[post] = c
    elif sub_pre:
        out[:, pre] = c
    else:
        out = c
    return out


def causal_numerator(x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray) -> np.ndarray:
    """'causal' counts: sum over steps of (d+ - d-)_post(t) times the presynaptic
    spikes of this sample up to and including step t, i.e. every pre-before-post
    spike pair (an STDP window as long as the sample). Histories (T, ..., N).

    Eq. 10 pairs only spikes of the same step, which equals the product of rates
    only for trains uncorrelated in time; the network's are not (front-loaded
    inputs, gradient spikes late: ``benchmarks/update_fidelity.py``). Counting the
    earlier presynaptic spikes too recovers most of Eq. 9's D X pairs (0.8-0.96 of
    them on trained networks), so the update is normalised like the rate rule (by
    T^2). Local in space and time: the synapse needs its presynaptic count so far
    (the rate rule's counter) at each postsynaptic gradient spike."""
    return coincidence_numerator(np.cumsum(np.asarray(x_hist, dtype=np.int32), axis=0), dp_hist, dn_hist)


# Modes whose numerator is accumulated step by step from pairs of spikes (the engine
# records the spike histories for them, the Lava synapse counts them every step).
PAIR_NUMERATORS = {"coincidence": coincidence_numerator, "causal": causal_numerator,
                   "replay": coincidence_numerator}   # 'replay': pairs of the replay window, not the pass


class PairBlock(NamedTuple):
    """One learning epoch's pair counts on the only synapses they can change:
    rows ``post`` and columns ``pre`` of ``learning_support``, ``counts``
    (len(post), len(pre)) int64. Counting just this block saves allocating and
    zeroing the whole (N_post, N_pre) array per sample."""
    post: np.ndarray
    pre: np.ndarray
    counts: np.ndarray
    shape: tuple            # (N_post, N_pre) of the whole synapse layer

    def dense(self) -> np.ndarray:
        """The whole (N_post, N_pre) int64 pair-count array (zero off the block)."""
        out = np.zeros(self.shape, dtype=np.int64)
        out[np.ix_(self.post, self.pre)] = self.counts
        return out


def pair_block(mode: str, x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray) -> PairBlock:
    """``PAIR_NUMERATORS[mode]`` of spike histories (T, ..., N) on their learning
    support only: the same integers as the full numerator's block."""
    x, dp, dn = (np.asarray(h) for h in (x_hist, dp_hist, dn_hist))
    npre, npost = x.shape[-1], dp.shape[-1]
    post, pre = learning_support(*(h.reshape(-1, h.shape[-1]) for h in (x, dp, dn)))
    if post.size == 0 or pre.size == 0:
        return PairBlock(post, pre, np.zeros((post.size, pre.size), dtype=np.int64), (npost, npre))
    x = x[..., pre] if pre.size < npre else x          # time stays the first axis ('causal' sums along it)
    dp, dn = (dp[..., post], dn[..., post]) if post.size < npost else (dp, dn)
    return PairBlock(post, pre, PAIR_NUMERATORS[mode](x, dp, dn), (npost, npre))


def rate_numerator(x_count: np.ndarray, dp_count: np.ndarray, dn_count: np.ndarray) -> np.ndarray:
    """Eq. 9 counts: (D+ - D-) outer X per sample, summed over samples.
    Counts have shape (B, N) (spikes per sample)."""
    d = (dp_count.astype(np.float64) - dn_count).reshape(-1, dp_count.shape[-1])
    return np.rint(d.T @ x_count.reshape(-1, x_count.shape[-1]).astype(np.float64)).astype(np.int64)


def stochastic_numerator(x_count, dp_count, dn_count, steps: int, rng: np.random.Generator) -> np.ndarray:
    """RPU-style rule: coincidences of fresh independent Bernoulli trains whose
    rates are the sample's measured rates (count / T). Counts (B, N)."""
    bx = bernoulli_trains(x_count / steps, steps, rng)
    bp = bernoulli_trains(dp_count / steps, steps, rng)
    bn = bernoulli_trains(dn_count / steps, steps, rng)
    return coincidence_numerator(bx, bp, bn)


def stochastic_noise_std(x_count, dp_count, dn_count, steps: int) -> np.ndarray:
    """Std (N_post, N_pre) of the stochastic rule's estimate of rate_numerator/(2T^2).

    Per step the product b_x (b_+ - b_-) is in {-1, 0, 1} with mean
    mu = r_x (r_+ - r_-) and variance r_x (r_+ + r_- - 2 r_+ r_-) - mu^2; the
    estimate averages T steps and halves (Eq. 8). Samples add variances.
    """
    rx = x_count.astype(np.float64) / steps
    rp = dp_count.astype(np.float64) / steps
    rn = dn_count.astype(np.float64) / steps
    a = rp + rn - 2 * rp * rn
    b = rp - rn
    # sum_b [rx a - rx^2 b^2] as GEMMs over the batch
    var = (a.T @ rx) - (b.T ** 2 @ rx ** 2)
    return np.sqrt(np.maximum(var, 0.0) / (4.0 * steps))


def learning_shift(eta: float, steps: int, mode: str, weight_exp: int) -> int:
    """Power-of-two scaling of integer counts into weight mantissas:
    dm = counts / 2**k with 2**k ~= denominator * lsb / eta."""
    return int(round(np.log2(update_denominator(mode, steps) * fxp.weight_lsb(weight_exp) / eta)))


def effective_eta(cfg: SSNNConfig, k: int) -> float:
    """Learning rate that the fixed-point shift of synapse layer k really applies."""
    shift_k = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k))
    return update_denominator(cfg.mode, cfg.learning_steps) * fxp.weight_lsb(cfg.exp_of(k)) / 2.0 ** shift_k


def apply_update(w: np.ndarray, numerator: np.ndarray, cfg: SSNNConfig, k: int,
                 rng: Optional[np.random.Generator] = None, noise_std=None) -> np.ndarray:
    """New weights of synapse layer k after one learning epoch.

    Float: w + eta * (numerator / denominator + noise).
    Fixed: mantissa + stochastic_round(numerator / 2**shift), saturating at the
    weight width (never wrapping).
    """
    if cfg.fixed_point:
        k_shift = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k))
        dm = fxp.stochastic_shift(numerator, k_shift, rng)
        return fxp.saturate(w.astype(np.int64) + dm, cfg.weight_bits).astype(np.int32)
    dw = numerator / update_denominator(cfg.mode, cfg.learning_steps)
    if noise_std is not None:
        dw = dw + rng.standard_normal(dw.shape) * noise_std
    return (w + cfg.eta * dw).astype(w.dtype)


def learning_numerator(cfg: SSNNConfig, k: int, x_count, dp_count, dn_count, seed: int,
                       first_sample: int, coincidences=None) -> np.ndarray:
    """Update numerator of synapse layer ``k`` for the rule in ``cfg.mode``.

    The one definition shared by ``Engine.apply`` and the Lava
    ``CoincidenceDense`` model. Counts have shape (B, N) (B = 1 on chip);
    ``coincidences`` is the accumulated pair count of ``PAIR_NUMERATORS``
    (needed in 'coincidence' and 'causal' mode only); ``first_sample`` names
    the random streams.
    """
    if cfg.mode in PAIR_NUMERATORS:
        if coincidences is None:
            raise ValueError(f"{cfg.mode!r} mode needs the accumulated pair counts")
        return np.asarray(coincidences, dtype=np.int64)
    if cfg.mode == "stochastic":
        rng = sample_rng(seed, first_sample, STREAM_STOCHASTIC + k)
        return stochastic_numerator(x_count, dp_count, dn_count, cfg.steps, rng)
    if cfg.mode in ("rate", "noise"):   # 'noise' adds its Gaussian in update_weights
        return rate_numerator(x_count, dp_count, dn_count)
    raise ValueError(f"unknown update mode {cfg.mode!r}")


def update_weights(w: np.ndarray, numerator: np.ndarray, cfg: SSNNConfig, k: int,
                   x_count, dp_count, dn_count, seed: int, first_sample: int) -> np.ndarray:
    """``apply_update`` with the random streams of sample ``first_sample``: rounding
    (fixed point) or, in 'noise' mode, the Gaussian noise. Shared by
    ``Engine.apply`` and the Lava ``CoincidenceDense`` model."""
    rng = sample_rng(seed, first_sample, STREAM_ROUNDING + k)
    noise = None
    if cfg.mode == "noise":
        if cfg.noise_std is not None:
            noise = cfg.noise_std * np.sqrt(np.shape(x_count)[0])
        else:   # the stochastic rule's std at T_s = noise_steps: variance ~ 1/T_s
            noise = stochastic_noise_std(x_count, dp_count, dn_count, cfg.steps)
            if cfg.noise_steps is not None:
                noise *= np.sqrt(cfg.steps / cfg.noise_steps)
        rng = sample_rng(seed, first_sample, STREAM_NOISE + k)
    return apply_update(w, numerator, cfg, k, rng, noise)


def learning_support(x_count, dp_count, dn_count):
    """(post, pre) indices of the synapses whose update can be non-zero in this
    learning epoch: presynaptic units that spiked and postsynaptic units whose
    gradient neurons spiked. Counts (B, N) or spike histories (M, N)."""
    pre = np.flatnonzero(np.any(x_count, axis=0))
    post = np.flatnonzero(np.any(dp_count, axis=0) | np.any(dn_count, axis=0))
    return post, pre


def learn(w: np.ndarray, cfg: SSNNConfig, k: int, x_count, dp_count, dn_count, seed: int,
          first_sample: int, coincidences=None, inplace: bool = False) -> np.ndarray:
    """New weights of synapse layer ``k`` after one learning epoch:
    ``learning_numerator`` then ``update_weights``. Used by ``Engine.apply`` and
    the Lava ``CoincidenceDense`` model alike.

    ``rate``, ``coincidence`` and ``causal`` updates touch only the block of synapses given
    by ``learning_support``: the numerator is zero elsewhere, and a zero
    numerator changes no weight (float: w + eta * 0 == w; fixed: the stochastic
    rounding of 0 is 0). In floating point the result is the full update's
    array; in fixed point the rounding draws one random number per synapse of
    the block, so it is the full update's in distribution. A sample activates
    few units, which makes per-sample updates cheap. ``stochastic`` and
    ``noise`` draw random numbers for every synapse and take the full path.
    ``coincidences``: the full pair-count array, or a :class:`PairBlock` of
    this support. ``inplace``: update ``w`` itself (block modes) instead of a copy.
    """
    if cfg.mode not in ("rate", *PAIR_NUMERATORS):
        num = learning_numerator(cfg, k, x_count, dp_count, dn_count, seed, first_sample, coincidences)
        return update_weights(w, num, cfg, k, x_count, dp_count, dn_count, seed, first_sample)
    if cfg.mode in PAIR_NUMERATORS and coincidences is None:
        raise ValueError(f"{cfg.mode!r} mode needs the accumulated pair counts")
    post, pre = learning_support(x_count, dp_count, dn_count)
    out = w if inplace else np.array(w, copy=True)
    if post.size and pre.size:
        block = np.ix_(post, pre)
        if cfg.mode == "rate":
            num = rate_numerator(x_count[:, pre], dp_count[:, post], dn_count[:, post])
        elif isinstance(coincidences, PairBlock):
            if not (np.array_equal(coincidences.post, post) and np.array_equal(coincidences.pre, pre)):
                raise ValueError("the pair counts' block is not the learning support of these counts")
            num = coincidences.counts
        else:
            num = np.asarray(coincidences)[block].astype(np.int64)
        out[block] = update_weights(out[block], num, cfg, k, x_count, dp_count, dn_count, seed, first_sample)
    return out


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
    symmetric signed ``cfg.weight_bits`` range (a cast would silently truncate them)."""
    w = np.asarray(w)
    want = (cfg.sizes[k + 1], cfg.sizes[k])
    if w.shape != want:
        raise ValueError(f"weights of layer {k} must have shape {want}, got {w.shape}")
    if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights of layer {k} must be finite numbers (NaN, inf or non-numbers found)")
    if cfg.fixed_point:
        hi = 2 ** (cfg.weight_bits - 1) - 1
        if not np.array_equal(w, np.round(w)) or np.abs(w).max(initial=0) > hi:
            raise ValueError(f"fixed-point weights of layer {k} must be integer mantissas in [-{hi}, {hi}] "
                             "(see fixed_point.quantize_weights)")
    return w


def check_weights(cfg: SSNNConfig, weights) -> list:
    """Every layer's weights checked by :func:`check_layer_weights`."""
    if len(weights) != cfg.n_layers:
        raise ValueError(f"need {cfg.n_layers} weight arrays, got {len(weights)}")
    return [check_layer_weights(cfg, k, w) for k, w in enumerate(weights)]


def float_weights(cfg: SSNNConfig, weights: list) -> list:
    """Weights in float units (dequantised in fixed point)."""
    if not cfg.fixed_point:
        return [np.asarray(w, dtype=np.float64) for w in weights]
    return [fxp.dequantize_weights(w, cfg.exp_of(k)) for k, w in enumerate(weights)]
