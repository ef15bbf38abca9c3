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
reason ``sample_kernels`` runs each stage of a training sample of a
one-hidden-layer network (all T steps, the replay window, the update) in one call.

numba is optional (a pinned dependency of the package, but the code runs without it): without it, or with the
environment variable ``LAVA_SSNNBP_NUMBA=0``, ``available()`` is False and the
callers use numpy GEMMs instead. The kernels are compiled on first use and
cached on disk.
"""
from __future__ import annotations

import os

import numpy as np


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


_JITTED = {}


def compiled(fn, uses=()):
    """``fn``'s numba compilation (njit, cached on disk) when the kernels are in
    use, else ``fn`` itself: the same source serves both (array arithmetic that
    numba fuses into loops). ``uses``: the functions ``fn`` calls, made callable
    from compiled code too (numba's ``register_jitable``, once each)."""
    if not available():
        return fn
    if fn not in _JITTED:
        import numba
        from numba.extending import register_jitable
        for helper in uses:
            if helper not in _JITTED:
                register_jitable(helper)
                _JITTED[helper] = helper
        _JITTED[fn] = numba.njit(cache=True, nogil=True)(fn)
    return _JITTED[fn]


def _launch_numba_threads(numba):
    """Start numba's thread pool now, leaving multiprocessing's start method
    unset if it was: numba asks for it when it starts its threads, which fixes
    multiprocessing's default context, and Lava's import, which sets 'fork'
    unforced, would then fail ("context has already been set")."""
    import multiprocessing as mp
    unset = mp.get_start_method(allow_none=True) is None
    numba.get_num_threads()
    if unset:
        mp.set_start_method(None, force=True)


def _compile():
    import numba

    _launch_numba_threads(numba)

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

    m32 = np.uint64(0xFFFFFFFF)

    @numba.njit(cache=True, nogil=True)
    def hashmix(v, h):                                  # numpy's SeedSequence hash, 32-bit words in uint64
        v = (v ^ h) & m32
        h = (h * np.uint64(0x931e8875)) & m32
        v = (v * h) & m32
        return v ^ (v >> np.uint64(16)), h

    @numba.njit(cache=True, nogil=True)
    def mix(x, y):
        r = (np.uint64(0xca01f9dd) * x - np.uint64(0x4973f715) * y) & m32
        return r ^ (r >> np.uint64(16))

    @numba.njit(cache=True, nogil=True)
    def seed_state(entropy, out):
        # SeedSequence(entropy words).generate_state(4, uint64): pool of 4, no spawn key
        h = np.uint64(0x43b0d7e5)
        pool = np.zeros(4, np.uint64)
        for i in range(4):
            pool[i], h = hashmix(np.uint64(entropy[i]) if i < entropy.size else np.uint64(0), h)
        for src in range(4):
            for dst in range(4):
                if src != dst:
                    v, h = hashmix(pool[src], h)
                    pool[dst] = mix(pool[dst], v)
        for src in range(4, entropy.size):
            for dst in range(4):
                v, h = hashmix(np.uint64(entropy[src]), h)
                pool[dst] = mix(pool[dst], v)
        hb = np.uint64(0x8b51f9dd)
        for k in range(4):
            word = np.uint64(0)
            for half in range(2):
                v = pool[(2 * k + half) % 4] ^ hb
                hb = (hb * np.uint64(0x58f38ded)) & m32
                v = (v * hb) & m32
                word |= (v ^ (v >> np.uint64(16))) << np.uint64(32 * half)
            out[k] = word
        return out

    out = {"seed_state": seed_state, "coinc": coinc, "drive": drive, "if_fixed": if_fixed, "if_float": if_float,
            "composite_fixed": composite_fixed, "composite_float": composite_float}
    from .sample_kernels import compile_sample_kernels   # whole-sample passes, built on the steps above
    out.update(compile_sample_kernels(numba, out))
    return out


def threads() -> int:
    """Threads the compiled kernels may use (numba's; ``set_threads``)."""
    if _kernels() is False:
        return 1
    import numba
    return numba.get_num_threads()


def set_threads(n: "int | None") -> int:
    """Let the compiled training pass split a batch over ``n`` threads (None: all
    cores numba sees); results do not depend on it. Returns the threads in use."""
    if _kernels() is False:
        return 1
    import numba
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if n is None else max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()


def seed_state(words) -> "np.ndarray | None":
    """``np.random.SeedSequence(words).generate_state(4, np.uint64)`` (what seeds a
    PCG64) for non-negative integers, compiled: 40x cheaper than numpy's, which
    costs more than a training sample's whole compiled simulation at six streams
    a sample. None without the kernels, or for entropy numpy would reject."""
    k = _kernels()
    if k is False:
        return None
    ent = []
    for n in words:
        n = int(n)
        if n < 0:
            return None
        ent.append(n & 0xFFFFFFFF)
        n >>= 32
        while n > 0:
            ent.append(n & 0xFFFFFFFF)
            n >>= 32
    return k["seed_state"](np.array(ent, dtype=np.uint64), np.empty(4, np.uint64))


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
