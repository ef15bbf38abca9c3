"""Compiled whole-sample passes (numba) for training a one-hidden-layer network.

With one sample per update (the on-chip schedule) the cost of a sample is the
calls and passes around its arithmetic, not the arithmetic itself, so each stage
of a training sample runs as one compiled call:

* ``simulate_one_hidden_layer``: all T steps of the engine's schedule -- the
  input synapses' drive (event by event, from the input spikes), both composite
  layers (``layers``' composite passes), the WTA, the delayed synapses -- and,
  for 'coincidence', Eq. 10's pair counts on the learning support;
* ``replay_pair_block``: the replay window of one synapse layer: the replay
  spikes of random numbers drawn in Python (``dynamics.replay_draws``, so the
  streams stay those of ``dynamics.replay_window``) and their pair counts;
* ``add_block``: a fixed-point or float update added to the block of synapses
  it changes.

Every operation is a rule of ``dynamics`` (``composite_update_*``,
``dense_output``, ``lateral_inhibition``, ``gradient_sign``, ``replay_spikes``,
``fixed_weight_update``, ``float_weight_update``), compiled: fixed point bit for
bit, float up to the order of synaptic sums.
"""
from __future__ import annotations

import numpy as np
from numba.extending import overload

from .. import dynamics as dyn
from ..fixed_point import A_MAX
from .cache import kernel, numba
from .layers import composite_layer_fixed, composite_layer_float


# The T-step loop below serves fixed point and float alike: these two calls pick the
# composite layer pass and the synapse output by the types numba compiles it for (a
# loop made by a factory over the pair would be a closure, which numba cannot cache).
def layer_pass(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, consts,
               oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
    """``layers.composite_layer_fixed`` (integer state) or ``_float``, ``consts``
    spread in; compiled code only."""
    raise NotImplementedError("layer_pass runs compiled only")


def synapse_output(acc, scale, lim):
    """A synapse's output of its sum ``acc``: ``dynamics.dense_output`` of an integer
    (fixed point) sum, a float sum as it is; compiled code only."""
    raise NotImplementedError("synapse_output runs compiled only")


@overload(layer_pass)
def _layer_pass(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, consts,
                oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
    layer = composite_layer_fixed if isinstance(xu.dtype, numba.types.Integer) else composite_layer_float

    def impl(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, consts,
             oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn):
        layer(xu, xv, pu, pv, nu, nv, gate, a, b, keep, use_keep, output, *consts,
              oxu, oxv, opu, opv, onu, onv, ogate, ox, odp, odn)
    return impl


@overload(synapse_output)
def _synapse_output(acc, scale, lim):
    if isinstance(acc, numba.types.Integer):
        return lambda acc, scale, lim: dyn.dense_output(acc, scale, lim)
    return lambda acc, scale, lim: acc


@kernel()
def _input_rows(w0, pre0, drive_like):
    # the input synapses' weights of the inputs that spike at all, one row per input (fixed
    # point: int16, summed in int32 where no sum can overflow it: a quarter of int64's memory)
    n1, npre = w0.shape[0], pre0.size
    w0t = np.empty((npre, n1), drive_like.dtype)
    for c in range(npre):               # contiguous writes, constant-stride reads: 1.4x the other order
        p = pre0[c]
        for j in range(n1):
            w0t[c, j] = w0[j, p]
    return w0t


@kernel()
def _net2(first, last, inputs, pre0, w0t, dt_like, sum_like, scale0, w2, keep, use_keep, targets, wta_on, w_inh,
         unit, scale1, alim, c1, c2, want_pairs, want_hist, xc1, dpc1, dnc1, xc2, dpc2, dnc2, pair0, pair1,
         hx1, hdp1, hdn1, hdp2, hdn2):
    # samples first..last-1; their pair counts add up in pair0, pair1
    T, B, n2 = targets.shape
    n1 = w2.shape[1]
    dt = dt_like.dtype
    npre = pre0.size
    cur, prev = np.empty(npre, np.int64), np.empty(npre, np.int64)
    hid = np.empty(n1, np.int64)
    for b in range(first, last):
        # the state as separate arrays, each passed as input and output: LLVM then sees
        # one pointer per array and vectorises the layer step (a list of arrays: 5x slower)
        xu1, xv1, pu1, pv1, nu1, nv1 = (np.zeros(n1, dt), np.zeros(n1, dt), np.zeros(n1, dt),
                                        np.zeros(n1, dt), np.zeros(n1, dt), np.zeros(n1, dt))
        xu2, xv2, pu2, pv2, nu2, nv2 = (np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt),
                                        np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt))
        g1, g2 = np.zeros(n1, np.bool_), np.zeros(n2, np.bool_)
        x1, dp1, dn1 = np.zeros(n1, np.bool_), np.zeros(n1, np.bool_), np.zeros(n1, np.bool_)
        x2, dp2, dn2 = np.zeros(n2, np.bool_), np.zeros(n2, np.bool_), np.zeros(n2, np.bool_)
        a1, bwd = np.zeros(n1, dt), np.zeros(n1, dt)
        a2, fwd2, inh, tgt = np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt), np.zeros(n2, dt)
        acc0, acc1, acc2 = np.zeros(n1, sum_like.dtype), np.zeros(n1, sum_like.dtype), np.zeros(n2, sum_like.dtype)
        kb = keep[b]
        nprev = 0
        for t in range(T):
            ncur = 0                            # this step's input spikes (positions in pre0)
            for c in range(npre):
                if inputs[t, b, pre0[c]]:
                    cur[ncur] = c
                    ncur += 1
            # input synapses: emit what they took in at t - 1 (one-step delay)
            acc0[:] = 0
            for q in range(nprev):
                row = w0t[prev[q]]
                for j in range(n1):
                    acc0[j] += row[j]
            for j in range(n1):
                a1[j] = synapse_output(acc0[j], scale0, alim)
            layer_pass(xu1, xv1, pu1, pv1, nu1, nv1, g1, a1, bwd, kb, use_keep, False, c1,
                       xu1, xv1, pu1, pv1, nu1, nv1, g1, x1, dp1, dn1)
            for j in range(n2):
                a2[j] = fwd2[j] + inh[j] if wta_on else fwd2[j]
                tgt[j] = targets[t, b, j]
            layer_pass(xu2, xv2, pu2, pv2, nu2, nv2, g2, a2, tgt, kb, False, True, c2,
                       xu2, xv2, pu2, pv2, nu2, nv2, g2, x2, dp2, dn2)
            for i in range(n1):                 # apart from the list below: vectorised
                xc1[b, i] += x1[i]
                dpc1[b, i] += dp1[i]
                dnc1[b, i] += dn1[i]
            nh = 0                              # this step's hidden spikes
            for i in range(n1):
                if x1[i]:
                    hid[nh] = i
                    nh += 1
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
            if want_pairs:                      # Eq. 10: (d+ - d-)_post(t) x_pre(t)
                for j in range(n1):
                    s = dyn.gradient_sign(dp1[j], dn1[j])
                    if s != 0:
                        for q in range(ncur):       # 2-D indexing: a row view per unit costs 2x
                            pair0[j, cur[q]] += s
                for j in range(n2):
                    s = dyn.gradient_sign(dp2[j], dn2[j])
                    if s != 0:
                        for q in range(nh):
                            pair1[j, hid[q]] += s
            # synapses take in this step's spikes (emitted next step), event by event
            acc2[:] = 0
            for q in range(nh):
                i = hid[q]
                for j in range(n2):
                    acc2[j] += w2[j, i]
            for j in range(n2):
                fwd2[j] = synapse_output(acc2[j], scale1, alim)
            acc1[:] = 0
            for j in range(n2):                 # W^T (d+ - d-): rows added or taken away
                s = dyn.gradient_sign(dp2[j], dn2[j])
                if s != 0:
                    wr = w2[j]
                    if s > 0:
                        for i in range(n1):
                            acc1[i] += wr[i]
                    else:
                        for i in range(n1):
                            acc1[i] -= wr[i]
            for i in range(n1):
                bwd[i] = synapse_output(acc1[i], scale1, alim)
            if wta_on:
                tot = 0
                for j in range(n2):
                    tot += x2[j]
                for j in range(n2):                 # others in int64 (fixed) or float64 (unit)
                    inh[j] = dyn.lateral_inhibition(w_inh, (tot - x2[j]) * unit)
            cur, prev = prev, cur
            nprev = ncur


@kernel(parallel=True)
def _net2_parts(bounds, inputs, pre0, w0t, dt_like, sum_like, scale0, w2, keep, use_keep, targets, wta_on,
                w_inh, unit, scale1, alim, c1, c2, want_pairs, want_hist, xc1, dpc1, dnc1, xc2, dpc2, dnc2,
                pair0, pair1, hx1, hdp1, hdn1, hdp2, hdn2):
    # the batch in parts, one a thread; each part counts its pairs apart (exact integer sums)
    for p in numba.prange(bounds.size - 1):
        _net2(bounds[p], bounds[p + 1], inputs, pre0, w0t, dt_like, sum_like, scale0, w2, keep, use_keep,
              targets, wta_on, w_inh, unit, scale1, alim, c1, c2, want_pairs, want_hist, xc1, dpc1, dnc1, xc2,
              dpc2, dnc2, pair0[p], pair1[p], hx1, hdp1, hdn1, hdp2, hdn2)


@kernel()
def _grad_spikes(randoms, at, units, prob, count, post_pos, sign, d, touched, nt):
    # one step of a d+ (sign 1) or d- (-1) replay train: counts, and d = d+ - d- per post unit
    for u in range(units.size):
        if dyn.replay_spikes(prob[u], randoms[at + u]):
            j = units[u]
            count[j] += 1
            r = post_pos[j]
            if d[r] == 0:
                touched[nt] = r
                nt += 1
            d[r] += sign
    return nt


@kernel()
def _replay_pairs(rpre, xat, xunits, xprob, rpost, pat, punits, pprob, nat, nunits, nprob, post_pos,
                  xcount, pcount, ncount, pairs):
    # one synapse layer's replay window: spikes where random < register (dynamics.replay_spikes)
    window = rpre.shape[0]
    nx = xunits.size
    fired = np.empty(nx, np.int64)
    d = np.zeros(pairs.shape[0], np.int64)
    touched = np.empty(pairs.shape[0], np.int64)
    for t in range(window):
        nf = 0
        for u in range(nx):
            if dyn.replay_spikes(xprob[u], rpre[t, xat + u]):
                xcount[xunits[u]] += 1
                fired[nf] = u
                nf += 1
        nt = _grad_spikes(rpost[t], pat, punits, pprob, pcount, post_pos, 1, d, touched, 0)
        nt = _grad_spikes(rpost[t], nat, nunits, nprob, ncount, post_pos, -1, d, touched, nt)
        for q in range(nt):
            r = touched[q]
            s = d[r]
            if s != 0:
                row = pairs[r]
                for f in range(nf):
                    row[fired[f]] += s
            d[r] = 0


@kernel()
def _add_block_fixed(w, post, pre, dm, lo, hi):          # in place
    for a in range(post.size):
        row = w[post[a]]
        for b in range(pre.size):
            row[pre[b]] = dyn.fixed_weight_update(np.int64(row[pre[b]]), dm[a, b], lo, hi)


@kernel()
def _add_block_float(w, post, pre, num, eta, denominator):   # in float64, as numpy rounds it
    for a in range(post.size):
        row = w[post[a]]
        for b in range(pre.size):
            row[pre[b]] = dyn.float_weight_update(np.float64(row[pre[b]]), num[a, b] / denominator, eta)


def simulate_one_hidden_layer(inputs, w0, exp0: int, w2, keep, targets, wta_inh, exp1: int, fixed: bool, c1, c2,
                              want_pairs: bool, want_hist: bool, weight_bits: int = 16):
    """The engine's T-step training loop (``Engine.simulate``) for a network with
    one hidden layer, every sample in one compiled call.

    ``inputs`` (T, B, N0) bool: the input spikes (dropout applied); ``w0`` (N1, N0),
    ``w2`` (N2, N1): the weights (float, or int32 mantissas; their dtype is the
    state's arithmetic; fixed-point mantissas within ``weight_bits``); ``exp0``,
    ``exp1``: the synapse layers' weight exponents (fixed point); ``keep`` (B, N1)
    hidden dropout mask or None; ``targets`` (T, B, N2) bool; ``wta_inh``: None, or
    the lateral weight (float w_inh; fixed: the integer mantissa); ``c1``, ``c2``:
    the hidden and output layers' ``dynamics.composite_consts``. Per step the same
    operations as the numpy schedule: the input synapses emit the sum of the weights of the inputs
    that spiked at t - 1 (``dynamics.forward_drive``), hidden layer, output layer
    (input + WTA of the previous step), then the synapses take in this step's
    spikes; synaptic sums event by event (fixed point exact; float up to
    summation order). A batch is split into ``accel.threads()`` parts (numba's), one a
    thread, each counting its own pairs: integer sums, so the result does not
    depend on the split.

    Returns the counts (x, d+, d- of both layers), the pair counts (``want_pairs``:
    per synapse layer the ``dynamics.PairBlock`` of Eq. 10 on the learning
    support, the integers of ``dynamics.pair_block``; else None) and, if
    ``want_hist``, the hidden x/d+/d- and output d+/d- spike trains (T, B, N).
    """
    T, B, n2 = targets.shape
    n1, n0 = w0.shape
    counts = [np.zeros((B, n), np.int64) for n in (n1, n1, n1, n2, n2, n2)]
    hshape = (lambda n: (T, B, n)) if want_hist else (lambda n: (1, 1, n))   # noqa: E731
    hist = [np.zeros(hshape(n), np.bool_) for n in (n1, n1, n1, n2, n2)]
    inputs = np.ascontiguousarray(inputs, dtype=np.bool_)
    pre0 = np.flatnonzero(inputs.any(axis=(0, 1)))
    parts = max(1, min(B, numba.get_num_threads()))
    pairs = [np.zeros((parts, n1, pre0.size) if want_pairs else (parts, 1, 1), np.int64),
             np.zeros((parts, n2, n1) if want_pairs else (parts, 1, 1), np.int64)]
    use_keep = keep is not None
    kp = np.ascontiguousarray(keep, dtype=np.bool_) if use_keep else np.ones((B, 1), np.bool_)
    w_inh = (np.int64(wta_inh) if fixed else float(wta_inh)) if wta_inh is not None else \
        (np.int64(0) if fixed else 0.0)
    unit = np.int64(1) if fixed else 1.0
    w0 = np.ascontiguousarray(w0)
    if fixed:   # int16 weights (mantissas of <= 16 bits) summed in int32 where no sum can overflow it
        bound = (2 ** (weight_bits - 1) - 1) * max(n0, n1, n2)
        small = weight_bits <= 16 and bound < 2 ** 31
        drive_like, sum_like = np.zeros(0, np.int16 if small else np.int64), np.zeros(0, np.int32 if small else np.int64)
    else:
        drive_like = sum_like = np.zeros(0, w0.dtype)
    args = (inputs, pre0, _input_rows(w0, pre0, drive_like), np.zeros(0, w0.dtype), sum_like, 2.0 ** exp0,
            np.ascontiguousarray(w2), kp, use_keep, np.ascontiguousarray(targets, dtype=np.bool_),
            wta_inh is not None, w_inh, unit, 2.0 ** exp1, np.int64(A_MAX), tuple(c1), tuple(c2), want_pairs,
            want_hist, *counts)
    if parts == 1:
        _net2(0, B, *args, pairs[0][0], pairs[1][0], *hist)
    else:   # samples are independent given the weights: one part of the batch a thread
        _net2_parts(np.linspace(0, B, parts + 1).astype(np.int64), *args, *pairs, *hist)
    pairs = [p.sum(axis=0) if parts > 1 else p[0] for p in pairs]
    blocks = None
    if want_pairs:
        xc1, dpc1, dnc1, _, dpc2, dnc2 = counts
        post0 = np.flatnonzero((dpc1 + dnc1).any(axis=0))
        pre1, post1 = np.flatnonzero(xc1.any(axis=0)), np.flatnonzero((dpc2 + dnc2).any(axis=0))
        blocks = [dyn.PairBlock(post0, pre0, pairs[0][post0], (n1, n0)),
                  dyn.PairBlock(post1, pre1, pairs[1][np.ix_(post1, pre1)], (n2, n1))]
    return counts, blocks, (hist if want_hist else None)


def replay_pair_block(pre_plan, pre_randoms, post_plan, post_randoms):
    """One sample's replay window at one synapse layer: the replay trains of its
    presynaptic layer's x and its postsynaptic layer's d+ and d-
    (``dynamics.replay_fire`` of each layer's ``replay_plan`` and window randoms
    (window, plan.draws)) and Eq. 10's pair counts of them on the learning support.
    Returns the window counts x (N_pre,), d+ and d- (N_post,) and the
    ``dynamics.PairBlock``: the integers of ``dynamics.pair_block`` of the trains."""
    def train(plan, name):
        i = plan.trains.index(name)
        return int(sum(len(u) for u in plan.units[:i])), plan.units[i], plan.probability[i]

    xat, xunits, xprob = train(pre_plan, "x")
    pat, punits, pprob = train(post_plan, "dp")
    nat, nunits, nprob = train(post_plan, "dn")
    cand = np.union1d(punits, nunits)                 # units that can replay a gradient spike, in order
    post_pos = np.zeros(post_plan.n, np.int64)
    post_pos[cand] = np.arange(cand.size)
    counts = [np.zeros(pre_plan.n, np.int64), np.zeros(post_plan.n, np.int64), np.zeros(post_plan.n, np.int64)]
    pairs = np.zeros((cand.size, xunits.size), np.int64)
    _replay_pairs(pre_randoms, xat, xunits, xprob, post_randoms, pat, punits, pprob, nat, nunits, nprob,
                  post_pos, *counts, pairs)
    xc, pc, nc = counts
    fired_x = xc[xunits] > 0
    fired_d = (pc[cand] + nc[cand]) > 0
    block = dyn.PairBlock(cand[fired_d], xunits[fired_x], pairs[np.ix_(fired_d, fired_x)],
                          (post_plan.n, pre_plan.n))
    return xc, pc, nc, block


def add_block(w: np.ndarray, post: np.ndarray, pre: np.ndarray, delta: np.ndarray, fixed: bool,
              weight_bits: int = 8, eta: float = 0.0, denominator: int = 1, weight_range=None):
    """Adds an update to the block ``np.ix_(post, pre)`` of ``w`` in place: fixed
    point ``saturate(w + delta, weight_bits)`` (``delta``: int64 mantissa steps),
    or clipped to ``weight_range`` (lo, hi) when given (the learning engine's
    -256..255); float ``w + eta * (delta / denominator)`` (``delta``: int64
    counts), each rounded as ``dynamics.apply_update`` rounds it."""
    post, pre = np.asarray(post, np.int64), np.asarray(pre, np.int64)
    delta = np.ascontiguousarray(delta, dtype=np.int64)
    if fixed:
        hi = 2 ** (weight_bits - 1) - 1
        lo, hi = weight_range if weight_range is not None else (-hi, hi)
        _add_block_fixed(w, post, pre, delta, np.int64(lo), np.int64(hi))
    else:
        _add_block_float(w, post, pre, delta, float(eta), np.int64(denominator))
