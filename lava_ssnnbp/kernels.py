"""Optional compiled kernels for sparse spike arithmetic (numba, when installed).

Two operations dominate a batched simulation and are sparse (a few percent of
the units spike in a step), so counting events beats dense GEMMs:

* ``coincidences(x, dp, dn)``: Eq. 10's integer counts
  ``sum_r (dp - dn)[r, j] * x[r, i]`` -- exact, identical to the GEMM;
* ``spike_drive(x, wt)``: ``x @ wt`` for boolean spikes x, adding the rows of
  ``wt`` of the active inputs in increasing order. Integer-valued (fixed point)
  sums are exact; float sums equal the GEMM up to rounding order.

Two more fuse the IF step (``dynamics.if_step``) into one pass over the units,
in the numpy path's arithmetic: ``if_fixed`` over integers (decay, input,
saturation, threshold, reset), ``if_float`` in the arrays' own float type, one
rounding per operation in numpy's order -- both bit for bit what numpy computes
in 6-12 passes (tested). ``composite_fixed`` / ``composite_float`` run a whole
composite-neuron layer step (x, dropout, gate, d+ and d-) through the same
scalar IF arithmetic in one call: with one sample per simulation (per-sample
updates) the per-call overhead, not the arithmetic, is what costs. For the same
reason ``simulate_one_hidden_layer`` runs all T steps of a one-hidden-layer
network (both composite layers, the WTA, the delayed synapses) in one call.

numba is optional (a pinned dependency of the package, but the code runs without it): without it, or with the
environment variable ``LAVA_SSNNBP_NUMBA=0``, ``available()`` is False and the
callers use numpy GEMMs instead. The kernels are compiled on first use and
cached on disk.
"""
from __future__ import annotations

import os

import numpy as np

from .fixed_point import A_MAX

_K = None          # the kernels in use, or False when numba is not usable or they are switched off
_COMPILED = None   # the compiled kernels: built once per process, whatever set_enabled does


def available() -> bool:
    return _kernels() is not False


def set_enabled(flag: bool) -> bool:
    """Switch the compiled kernels on (if numba is usable) or off at run time;
    returns whether they are now in use. Results do not depend on it (fixed
    point bit for bit, float up to summation order); benchmarks use it to compare
    event-driven and dense arithmetic."""
    global _K
    _K = None if flag else False
    return available()


def _kernels():
    global _K
    if _K is None:
        if os.environ.get("LAVA_SSNNBP_NUMBA", "1").strip().lower() in ("0", "false", "no", "off"):
            _K = False
            return _K
        global _COMPILED
        try:
            if _COMPILED is None:
                _COMPILED = _compile()
            _K = _COMPILED
        except Exception:   # no numba, or it cannot run here: numpy fallback
            _K = False
    return _K


def _compile():
    import numba

    @numba.njit(cache=True, nogil=True)
    def coinc(x, dp, dn, out):
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
                if dp[r, j] != dn[r, j]:
                    di[nd] = j
                    ds[nd] = 1 if dp[r, j] else -1
                    nd += 1
            for a in range(nd):
                j = di[a]
                s = ds[a]
                for b in range(nx):
                    out[j, xi[b]] += s
        return out

    @numba.njit(cache=True, nogil=True)
    def drive(x, wt, out):
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

    @numba.njit(cache=True, nogil=True)
    def if1_fixed(u, v, a, keep, act, lim, vth, zero_reset):
        x = np.int64(u)
        m = (abs(x) * keep) >> 12              # decay on the magnitude, as Lava's sign * (|x| >> 12)
        x = (m if x >= 0 else -m) + np.int64(a) * act
        x = min(max(x, -lim), lim)
        y = min(max(np.int64(v) + x, -lim), lim)
        sp = y > vth
        if sp:
            y = 0 if zero_reset else y - vth
        return x, y, sp

    @numba.njit(cache=True, nogil=True)
    def if1_float(u, v, a, du, theta, zero_reset):
        x = (a - u) * du + u                    # du, theta carry the arrays' dtype: float32 stays float32
        y = v + x
        sp = y > theta
        if sp:
            y = y - y if zero_reset else y - theta    # y - y: +0 in y's type
        return x, y, sp

    @numba.njit(cache=True, nogil=True)
    def if_fixed(u, v, a, keep, act, lim, vth, zero_reset, u_out, v_out, s_out):
        for i in range(u.size):
            u_out[i], v_out[i], s_out[i] = if1_fixed(u[i], v[i], a[i], keep, act, lim, vth, zero_reset)

    @numba.njit(cache=True, nogil=True)
    def if_float(u, v, a, du, theta, zero_reset, u_out, v_out, s_out):
        for i in range(u.size):
            u_out[i], v_out[i], s_out[i] = if1_float(u[i], v[i], a[i], du, theta, zero_reset)

    @numba.njit(cache=True, nogil=True)
    def composite_fixed(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, gain, dkeep, act, lim,
                        thx, thd, zero_reset, oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
        for i in range(xu.size):
            oxu[i], oxv[i], x = if1_fixed(xu[i], xv[i], a[i], dkeep, act, lim, thx, zero_reset)
            if use_keep:
                x = x and keep[i]
            if output:                          # d+/d- driven by label minus output
                e = (np.int64(b[i]) - np.int64(x)) * gain
            else:                               # by the backward input W^T (d+ - d-)
                e = np.int64(b[i])
            opu[i], opv[i], sp = if1_fixed(pu[i], pv[i], e, dkeep, act, lim, thd, zero_reset)
            onu[i], onv[i], sn = if1_fixed(nu[i], nv[i], -e, dkeep, act, lim, thd, zero_reset)
            g = gate[i] or x
            ogate[i], ox[i] = g, x
            odp[i] = sp if output else sp and g
            odn[i] = sn if output else sn and g

    @numba.njit(cache=True, nogil=True)
    def composite_float(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, gain, one, du, thx, thd,
                        zero_reset, oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
        for i in range(xu.size):
            oxu[i], oxv[i], x = if1_float(xu[i], xv[i], a[i], du, thx, zero_reset)
            if use_keep:
                x = x and keep[i]
            if output:                          # (target - x) * gain in the arrays' dtype, as numpy
                e = (b[i] - (one if x else one - one)) * gain
            else:
                e = b[i]
            opu[i], opv[i], sp = if1_float(pu[i], pv[i], e, du, thd, zero_reset)
            onu[i], onv[i], sn = if1_float(nu[i], nv[i], -e, du, thd, zero_reset)
            g = gate[i] or x
            ogate[i], ox[i] = g, x
            odp[i] = sp if output else sp and g
            odn[i] = sn if output else sn and g

    # ---- one hidden layer, whole samples: the engine's T-step loop in one call
    @numba.njit(cache=True, nogil=True)
    def finish_fixed(acc, exp, lim):                    # Lava's Dense: shift (>> floors), 16-bit clip
        y = acc << exp if exp >= 0 else acc >> -exp
        return min(max(y, -lim), lim)

    @numba.njit(cache=True, nogil=True)
    def finish_float(acc, exp, lim):
        return acc

    @numba.njit(cache=True, nogil=True)
    def acc_fixed(n, like):                             # integer sums of integer weights: exact
        return np.zeros(n, np.int64)

    @numba.njit(cache=True, nogil=True)
    def acc_float(n, like):
        return np.zeros(n, like.dtype)

    @numba.njit(cache=True, nogil=True)
    def inh_fixed(w, others):                            # dynamics.wta_drive, integer
        return -w * others

    @numba.njit(cache=True, nogil=True)
    def inh_float(w, others):                            # in float64, as numpy; stored in the state's dtype
        return -w * float(others)

    def make_net2(composite, finish, new_acc, inhibition):
        # not cached on disk: numba's cache misses for these closures in every new process (measured)
        # and would only pile up files; compiling takes ~5-10 s once per process and state dtype
        @numba.njit(cache=False, nogil=True)
        def net2(drive0, w2, keep, use_keep, targets, wta_on, w_inh, exp1, alim, c1, c2,
                 want_hist, xc1, dpc1, dnc1, xc2, dpc2, dnc2, hx1, hdp1, hdn1, hdp2, hdn2):
            T, B, n2 = targets.shape
            n1 = w2.shape[1]
            dt = drive0.dtype
            for b in range(B):
                s1 = [np.zeros(n1, dt) for _ in range(6)]
                s2 = [np.zeros(n2, dt) for _ in range(6)]
                g1, g2 = np.zeros(n1, np.bool_), np.zeros(n2, np.bool_)
                x1, dp1, dn1 = np.zeros(n1, np.bool_), np.zeros(n1, np.bool_), np.zeros(n1, np.bool_)
                x2, dp2, dn2 = np.zeros(n2, np.bool_), np.zeros(n2, np.bool_), np.zeros(n2, np.bool_)
                bwd, zero1 = np.zeros(n1, dt), np.zeros(n1, dt)
                a2, fwd2, inh, tgt = np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt)
                acc1, acc2 = new_acc(n1, drive0), new_acc(n2, drive0)
                kb = keep[b]
                for t in range(T):
                    a1 = drive0[t - 1, b] if t > 0 else zero1
                    composite(s1[0], s1[1], s1[2], s1[3], s1[4], s1[5], g1, a1, bwd, kb, use_keep, False, *c1,
                              s1[0], s1[1], s1[2], s1[3], s1[4], s1[5], g1, x1, dp1, dn1)
                    for j in range(n2):
                        a2[j] = fwd2[j] + inh[j] if wta_on else fwd2[j]
                        tgt[j] = targets[t, b, j]
                    composite(s2[0], s2[1], s2[2], s2[3], s2[4], s2[5], g2, a2, tgt, kb, False, True, *c2,
                              s2[0], s2[1], s2[2], s2[3], s2[4], s2[5], g2, x2, dp2, dn2)
                    for i in range(n1):
                        xc1[b, i] += x1[i]
                        dpc1[b, i] += dp1[i]
                        dnc1[b, i] += dn1[i]
                    for j in range(n2):
                        xc2[b, j] += x2[j]
                        dpc2[b, j] += dp2[j]
                        dnc2[b, j] += dn2[j]
                    if want_hist:
                        hx1[t, b] = x1
                        hdp1[t, b] = dp1
                        hdn1[t, b] = dn1
                        hdp2[t, b] = dp2
                        hdn2[t, b] = dn2
                    # synapses take in this step's spikes (emitted next step), event by event
                    acc2[:] = 0
                    for i in range(n1):
                        if x1[i]:
                            for j in range(n2):
                                acc2[j] += w2[j, i]
                    for j in range(n2):
                        fwd2[j] = finish(acc2[j], exp1, alim)
                    acc1[:] = 0
                    for j in range(n2):
                        if dp2[j] != dn2[j]:
                            wr = w2[j]
                            if dp2[j]:
                                for i in range(n1):
                                    acc1[i] += wr[i]
                            else:
                                for i in range(n1):
                                    acc1[i] -= wr[i]
                    for i in range(n1):
                        bwd[i] = finish(acc1[i], exp1, alim)
                    if wta_on:
                        tot = 0
                        for j in range(n2):
                            tot += x2[j]
                        for j in range(n2):
                            inh[j] = inhibition(w_inh, tot - x2[j])
        return net2

    net2_fixed = make_net2(composite_fixed, finish_fixed, acc_fixed, inh_fixed)
    net2_float = make_net2(composite_float, finish_float, acc_float, inh_float)

    return {"coinc": coinc, "drive": drive, "if_fixed": if_fixed, "if_float": if_float,
            "composite_fixed": composite_fixed, "composite_float": composite_float,
            "net2_fixed": net2_fixed, "net2_float": net2_float}


def coincidences(x: np.ndarray, dp: np.ndarray, dn: np.ndarray) -> np.ndarray:
    """int64 (N_post, N_pre) counts of (dp - dn)[r, post] * x[r, pre] summed over rows r.
    Arguments are boolean (M, N) arrays."""
    k = _kernels()
    out = np.zeros((dp.shape[1], x.shape[1]), dtype=np.int64)
    return k["coinc"](np.ascontiguousarray(x, dtype=bool), np.ascontiguousarray(dp, dtype=bool),
                      np.ascontiguousarray(dn, dtype=bool), out)


def spike_drive(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """``x @ wt`` for boolean spikes x (M, N_pre) and float weights wt (N_pre, N_post)."""
    k = _kernels()
    out = np.zeros((x.shape[0], wt.shape[1]), dtype=wt.dtype)
    return k["drive"](np.ascontiguousarray(x, dtype=bool), np.ascontiguousarray(wt), out)


def if_step_fixed(u: np.ndarray, v: np.ndarray, a: np.ndarray, keep: int, act: int, lim: int, vth: int,
                  zero_reset: bool):
    """Fixed-point IF step, saturating, no voltage decay or bias: u' = sign(u)
    (|u| keep >> 12) + act a, v' = v + u' (both clipped to +/-lim), spike where
    v' > vth, then reset. Integer arrays of one shape; returns int32 u', v' and
    boolean spikes."""
    k = _kernels()
    shape = u.shape
    uo, vo = np.empty(shape, np.int32), np.empty(shape, np.int32)
    so = np.empty(shape, np.bool_)
    k["if_fixed"](np.ascontiguousarray(u).reshape(-1), np.ascontiguousarray(v).reshape(-1),
                  np.ascontiguousarray(a).reshape(-1), np.int64(keep), np.int64(act), np.int64(lim), np.int64(vth),
                  bool(zero_reset), uo.reshape(-1), vo.reshape(-1), so.reshape(-1))
    return uo, vo, so


def if_step_float(u: np.ndarray, v: np.ndarray, a: np.ndarray, du: float, theta: float, zero_reset: bool):
    """Float IF step: u' = (a - u) du + u, v' = v + u', spike where v' > theta,
    then reset; u, v, a of one shape and float dtype, du and theta rounded to it
    first (as numpy does with a Python scalar). Returns u', v' and spikes."""
    k = _kernels()
    dt = u.dtype
    uo, vo = np.empty(u.shape, dt), np.empty(u.shape, dt)
    so = np.empty(u.shape, np.bool_)
    k["if_float"](np.ascontiguousarray(u).reshape(-1), np.ascontiguousarray(v).reshape(-1),
                  np.ascontiguousarray(a).reshape(-1), dt.type(du), dt.type(theta), bool(zero_reset),
                  uo.reshape(-1), vo.reshape(-1), so.reshape(-1))
    return uo, vo, so


def simulate_one_hidden_layer(drive0, w2, keep, targets, wta_inh, exp1: int, fixed: bool, c1, c2,
                              want_hist: bool):
    """The engine's T-step loop (``Engine.simulate`` when training) for a network
    with one hidden layer, every sample in one compiled call.

    ``drive0`` (T-1, B, N1), None when T = 1: the input synapses' output for steps
    1..T-1 (one-step delay), in the state's arithmetic (float, or int32 after Lava's Dense shift
    and clip); ``w2`` (N2, N1): hidden -> output weights (float, or int32
    mantissas); ``keep`` (B, N1) hidden dropout mask or None; ``targets`` (T, B, N2)
    bool; ``wta_inh``: None, or the lateral weight (float w_inh; fixed: the integer
    mantissa); ``exp1``: the output synapses' weight exponent (fixed point);
    ``c1``, ``c2``: the hidden and output layers' ``composite_step`` constants.
    Per step the same operations as the numpy schedule: hidden layer, output
    layer (input + WTA of the previous step), then the synapses take in this
    step's spikes; synaptic sums event by event (fixed point exact; float up to
    summation order). Returns the counts (x, d+, d- of both layers) and, if
    ``want_hist``, the hidden x/d+/d- and output d+/d- spike trains (T, B, N).
    """
    k = _kernels()
    T, B, n2 = targets.shape
    n1 = w2.shape[1]
    dt = w2.dtype       # the state's arithmetic (the engine holds weights in it); drive0 is None when T = 1
    counts = [np.zeros((B, n), np.int64) for n in (n1, n1, n1, n2, n2, n2)]
    hshape = (lambda n: (T, B, n)) if want_hist else (lambda n: (1, 1, n))   # noqa: E731
    hist = [np.zeros(hshape(n), np.bool_) for n in (n1, n1, n1, n2, n2)]
    use_keep = keep is not None
    kp = np.ascontiguousarray(keep, dtype=np.bool_) if use_keep else np.ones((B, 1), np.bool_)
    d0 = np.ascontiguousarray(drive0, dtype=dt) if T > 1 else np.zeros((1, B, n1), dt)
    fn = k["net2_fixed"] if fixed else k["net2_float"]
    w_inh = (np.int64(wta_inh) if fixed else float(wta_inh)) if wta_inh is not None else \
        (np.int64(0) if fixed else 0.0)
    fn(d0, np.ascontiguousarray(w2), kp, use_keep, np.ascontiguousarray(targets, dtype=np.bool_),
       wta_inh is not None, w_inh, np.int64(exp1), np.int64(A_MAX), tuple(c1), tuple(c2), want_hist,
       *counts, *hist)
    return counts, (hist if want_hist else None)


def composite_step(state, a, b, keep, output: bool, fixed: bool, consts):
    """One step of a layer of composite neurons (``dynamics.hidden_step`` or
    ``output_step``) in one pass: forward neuron, dropout, gate, d+ and d-.

    ``state``: the seven arrays of ``dynamics.CompositeState`` (one shape);
    ``a``: forward input; ``b``: backward input (hidden) or target spikes
    (output, in the state's dtype when floating point); ``keep``: dropout mask
    or None. ``consts``: fixed (gain, decay keep, act, lim, theta_x, theta_d,
    zero_reset) as in ``if_step_fixed``; float (gain, 1, du, theta_x, theta_d,
    zero_reset) in the state's dtype, as in ``if_step_float``.
    Returns the new state's seven arrays and the x, d+, d- spikes.
    """
    k = _kernels()
    shape, n, dt = state[0].shape, state[0].size, state[0].dtype
    out = [np.empty(n, dt) for _ in range(6)] + [np.empty(n, np.bool_) for _ in range(4)]
    kp = np.ones(1, np.bool_) if keep is None else np.ascontiguousarray(keep).reshape(n)
    fn = k["composite_fixed"] if fixed else k["composite_float"]
    # arrays as separate arguments: numba types a tuple of arrays far slower
    fn(*[np.ascontiguousarray(z).reshape(n) for z in state], np.ascontiguousarray(a).reshape(n),
       np.ascontiguousarray(b).reshape(n), kp, keep is not None, output, *consts, *out)
    return [z.reshape(shape) for z in out]
