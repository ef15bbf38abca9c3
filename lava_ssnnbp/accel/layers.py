"""Compiled whole-layer kernels, each one pass over a layer's units that calls
the rules of ``dynamics`` (``if_update_fixed`` / ``_float``,
``composite_update_fixed`` / ``_float``, ``gradient_sign``), and event-driven
synaptic sums:

* ``coincidences(x, dp, dn)``: Eq. 10's integer counts
  ``sum_r (dp - dn)[r, j] * x[r, i]`` -- exact, identical to the GEMM;
* ``spike_drive(x, wt)``: ``x @ wt`` for boolean spikes x, adding the rows of
  ``wt`` of the active inputs in increasing order. Integer-valued (fixed point)
  sums are exact; float sums equal the GEMM up to rounding order.

The step functions at the end (``forward_step``, ``hidden_step``,
``output_step``, ``forward_drive_many``, ``pair_block``) take ``dynamics``'
arguments and give its results, using these kernels where they apply: a layer
step of fewer than 1,024 units x samples in one composite pass (there ~30
small numpy operations per step cost more than the arithmetic), larger ones
through the vectorised IF kernel.
"""
from __future__ import annotations

import numpy as np

from .. import dynamics as dyn
from .cache import kernel

_FUSED_MAX = 1024     # units x samples up to which a layer steps in one composite pass
_IF_MIN = 1024        # from which a lone IF step runs compiled


@kernel()
def _coincidences(x, dp, dn, out):
    m, npre = x.shape
    npost = dp.shape[1]
    xi = np.empty(npre, np.int64)
    di = np.empty(npost, np.int64)
    ds = np.empty(npost, np.int64)
    for r in range(m):
        nx = 0
        for i in range(npre):
            if x[r, i]:
                xi[nx] = i
                nx += 1
        if nx == 0:
            continue
        nd = 0
        for j in range(npost):
            s = dyn.gradient_sign(dp[r, j], dn[r, j])
            if s != 0:
                di[nd] = j
                ds[nd] = s
                nd += 1
        for a in range(nd):
            j = di[a]
            s = ds[a]
            for b in range(nx):
                out[j, xi[b]] += s
    return out


@kernel()
def _spike_drive(x, wt, out):
    m, npre = x.shape
    npost = wt.shape[1]
    for r in range(m):
        o = out[r]
        for i in range(npre):
            if x[r, i]:
                w = wt[i]
                for c in range(npost):
                    o[c] += w[c]
    return out


@kernel()
def if_layer_fixed(u, v, a, decay, act, lim, vth, zero_reset, u_out, v_out, s_out):
    """``dynamics.if_update_fixed`` over flat arrays (outputs may be the inputs)."""
    for i in range(u.size):
        u_out[i], v_out[i], s_out[i] = dyn.if_update_fixed(u[i], v[i], a[i], decay, act, lim, vth, zero_reset)


@kernel()
def if_layer_float(u, v, a, du, theta, zero_reset, u_out, v_out, s_out):
    """``dynamics.if_update_float`` over flat arrays."""
    for i in range(u.size):
        u_out[i], v_out[i], s_out[i] = dyn.if_update_float(u[i], v[i], a[i], du, theta, zero_reset)


@kernel()
def composite_layer_fixed(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, gain, decay, act, lim, thx,
                          thd, zero_reset, oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
    """``dynamics.composite_update_fixed`` over flat arrays: the state's seven arrays,
    inputs a and b (the output layer's target: bool), the keep mask (``use_keep``),
    the constants of ``dynamics.composite_consts``, then the outputs (state, x, d+,
    d-; the state's may be its inputs). Arrays as separate arguments: numba types
    a tuple of arrays far slower."""
    for i in range(xu.size):
        kp = keep[i] if use_keep else True
        bi = np.int64(b[i]) if output else b[i]
        (oxu[i], oxv[i], opu[i], opv[i], onu[i], onv[i], ogate[i], ox[i], odp[i], odn[i]) = \
            dyn.composite_update_fixed(xu[i], xv[i], pu[i], pv[i], nu[i], nv[i], gate[i], a[i], bi, kp, output,
                                       gain, decay, act, lim, thx, thd, zero_reset)


@kernel()
def composite_layer_float(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, gain, one, du, thx, thd,
                          zero_reset, oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
    """``dynamics.composite_update_float`` over flat arrays (b of the state's type)."""
    for i in range(xu.size):
        kp = keep[i] if use_keep else True
        (oxu[i], oxv[i], opu[i], opv[i], onu[i], onv[i], ogate[i], ox[i], odp[i], odn[i]) = \
            dyn.composite_update_float(xu[i], xv[i], pu[i], pv[i], nu[i], nv[i], gate[i], a[i], b[i], kp, output,
                                       gain, one, du, thx, thd, zero_reset)


# ---------------------------------------------------------------- calls on numpy arrays
def coincidences(x: np.ndarray, dp: np.ndarray, dn: np.ndarray) -> np.ndarray:
    """int64 (N_post, N_pre) counts of (dp - dn)[r, post] * x[r, pre] summed over rows r.
    Arguments are boolean (M, N) arrays."""
    out = np.zeros((dp.shape[1], x.shape[1]), dtype=np.int64)
    return _coincidences(np.ascontiguousarray(x, dtype=bool), np.ascontiguousarray(dp, dtype=bool),
                         np.ascontiguousarray(dn, dtype=bool), out)


def spike_drive(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """``x @ wt`` for boolean spikes x (M, N_pre) and float weights wt (N_pre, N_post)."""
    out = np.zeros((x.shape[0], wt.shape[1]), dtype=wt.dtype)
    return _spike_drive(np.ascontiguousarray(x, dtype=bool), np.ascontiguousarray(wt), out)


def _flat(z, n):
    return np.ascontiguousarray(z).reshape(n)


def if_step(u, v, a, du, theta, reset="subtract", fixed=False, overflow="saturate", dv=0, bias=0, rand=None):
    """``dynamics.if_step``: one compiled pass for arrays of at least 1,024 units of
    one shape (and the state's float type), deterministic, saturating, no leak or
    bias, one threshold; numpy otherwise."""
    common = (rand is None and overflow == "saturate" and np.ndim(theta) == 0 and np.ndim(du) == 0
              and _zero(dv) and _zero(bias) and isinstance(u, np.ndarray) and u.ndim and u.size >= _IF_MIN
              and np.shape(v) == np.shape(a) == u.shape)
    if fixed and common:
        uo, vo, so = np.empty(u.shape, np.int32), np.empty(u.shape, np.int32), np.empty(u.shape, np.bool_)
        n = u.size
        if_layer_fixed(_flat(u, n), _flat(v, n), _flat(a, n), *dyn.fixed_if_consts(du, theta), reset == "zero",
                       uo.reshape(n), vo.reshape(n), so.reshape(n))
        return uo, vo, so
    if common and u.dtype.kind == "f" and getattr(v, "dtype", None) == u.dtype == getattr(a, "dtype", None):
        dt, n = u.dtype, u.size       # du and theta rounded to the arrays' type, as numpy rounds a Python scalar
        uo, vo, so = np.empty(u.shape, dt), np.empty(u.shape, dt), np.empty(u.shape, np.bool_)
        if_layer_float(_flat(u, n), _flat(v, n), _flat(a, n), dt.type(du), dt.type(theta), reset == "zero",
                       uo.reshape(n), vo.reshape(n), so.reshape(n))
        return uo, vo, so
    return dyn.if_step(u, v, a, du, theta, reset, fixed, overflow, dv, bias, rand)


def _zero(x) -> bool:
    return x == 0 if isinstance(x, (int, float)) else not np.any(x)


def composite_step(state, a, b, keep, output: bool, fixed: bool, consts):
    """One step of a layer of composite neurons in one pass (``dynamics.hidden_step``
    or ``output_step``): ``state`` the seven arrays of ``dynamics.CompositeState``
    (one shape); ``a`` forward input; ``b`` backward input (hidden) or target spikes
    (output, in the state's type when floating point); ``keep`` dropout mask or
    None; ``consts`` of ``dynamics.composite_consts``. Returns the new state's seven
    arrays and the x, d+, d- spikes."""
    shape, n, dt = state[0].shape, state[0].size, state[0].dtype
    out = [np.empty(n, dt) for _ in range(6)] + [np.empty(n, np.bool_) for _ in range(4)]
    kp = np.ones(1, np.bool_) if keep is None else _flat(keep, n)
    layer = composite_layer_fixed if fixed else composite_layer_float
    layer(*[_flat(z, n) for z in state], _flat(a, n), _flat(b, n), kp, keep is not None, output, *consts, *out)
    return [z.reshape(shape) for z in out]


def _fused(st, a, b, p, keep, output: bool):
    """``hidden_step`` / ``output_step`` through ``composite_step`` where it applies
    (fewer than 1,024 units x samples; arrays of one shape in the state's
    arithmetic; ``dynamics.composite_consts`` not None), else None."""
    xu = st.xu
    if not (isinstance(xu, np.ndarray) and 0 < xu.size < _FUSED_MAX):
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
    consts = dyn.composite_consts(p, dt)
    if consts is None:
        return None
    *state, x, dp, dn = composite_step(tuple(st), a, b, keep, output, p.fixed, consts)
    return dyn.CompositeState(*state), x, dp, dn


# ---------------------------------------------------------------- drop-ins for dynamics' step functions
def forward_step(u, v, a, p: dyn.NeuronParams, rand=None):
    """``dynamics.forward_step``."""
    return if_step(u, v, a, p.du, p.theta_x, p.reset, p.fixed, p.overflow, rand=rand)


def hidden_step(st, a_fwd, a_bwd, p: dyn.NeuronParams, keep=None, rand=None):
    """``dynamics.hidden_step``: one compiled pass of the rule for small layers; for
    large ones the rule's steps, each IF step a compiled pass."""
    fused = None if rand is not None else _fused(st, a_fwd, a_bwd, p, keep, output=False)
    if fused is not None:
        return fused
    if rand is not None or dyn.composite_consts(p, st.xu.dtype) is None:
        return dyn.hidden_step(st, a_fwd, a_bwd, p, keep, rand)
    return _large_composite_step(st, a_fwd, a_bwd, p, True if keep is None else keep, False)


def output_step(st, a_fwd, target, p: dyn.NeuronParams, rand=None):
    """``dynamics.output_step``, as ``hidden_step``."""
    fused = None if rand is not None else _fused(st, a_fwd, target, p, None, output=True)
    if fused is not None:
        return fused
    if rand is not None or dyn.composite_consts(p, st.xu.dtype) is None:
        return dyn.output_step(st, a_fwd, target, p, rand)
    b = np.asarray(target, np.int64 if p.fixed else st.xu.dtype)
    return _large_composite_step(st, a_fwd, b, p, True, True)


def _large_composite_step(st, a, b, p, keep, output: bool):
    """A composite step of a large layer: ``dynamics.composite_update_*``'s steps in
    its order, each IF step one vectorised compiled pass (``if_step``; the one pass
    of the whole rule does not vectorise, measured 3-5x slower at 32 x 1280 units)."""
    xu, xv, x = forward_step(st.xu, st.xv, a, p)
    x = x & keep
    if p.fixed:
        e = dyn.error_drive_fixed(b, x, int(p.err_gain), output)
    else:
        e = dyn.error_drive_float(b, x, p.err_gain, st.xu.dtype.type(1), output)
    pu, pv, sp = if_step(st.pu, st.pv, e, p.du, p.theta_d, p.reset, p.fixed, p.overflow)
    nu, nv, sn = if_step(st.nu, st.nv, -e, p.du, p.theta_d, p.reset, p.fixed, p.overflow)
    *state, x, dp, dn = dyn.gated_outputs(xu, xv, pu, pv, nu, nv, st.gate, x, sp, sn, output)
    return dyn.CompositeState(*state), x, dp, dn


def forward_drive_many(w, s, fixed: bool, weight_exp: int = 0, wf=None):
    """``dynamics.forward_drive_many``, event-driven where that pays."""
    return dyn.forward_drive_many(w, s, fixed, weight_exp, wf, spike_drive=spike_drive)


def pair_block(mode: str, x_hist, dp_hist, dn_hist):
    """``dynamics.pair_block``, large boolean histories counted event by event."""
    return dyn.pair_block(mode, x_hist, dp_hist, dn_hist, pair_counter=coincidences)
