"""A measured speed limit of one training sample on this machine.

A sample's work is counted in events from its own spike trains (``events_per_sample``):
synaptic additions (each input or hidden spike adds its weights to every
postsynaptic sum, each output gradient spike a row to the backward sums), neuron
updates (x, d+ and d- of every neuron at every step), Eq. 10 pair increments
(gradient spike x presynaptic spike in the same step) and the synapses of the
update block (one random number and one read-modify-write each). The machine
is measured once per run (``machine_rates``): the rate of simple integer
additions on cache-resident data (compiled, vectorised) and the memory bandwidth
of a large copy. The limit is the roofline max(operations / add rate,
bytes / bandwidth); a point's fraction is its samples/s over the limit's.
"""
from __future__ import annotations

import time

import numpy as np

OPS_PER_NEURON_UPDATE = 12    # decay, input, two clips, compare, reset of one IF neuron (scalar operations)
OPS_PER_UPDATE_SYNAPSE = 6    # draw, add, shift, add, clip, store
BYTES = {"synaptic addition": 2, "neuron update": 8, "pair increment": 8, "update synapse": 16}


def events_per_sample(cfg, x, y, samples: int = 16, seed: int = 0) -> dict:
    """Mean events of one training sample at the initial weights (the step-by-step schedule's
    full spike trains of ``samples`` images)."""
    from lava_ssnnbp.engine import Engine, encode_batch
    eng = Engine(cfg.replace(mode="coincidence", replay_steps=None), seed=seed)
    batch = encode_batch(eng.cfg, x[:samples], y[:samples], np.arange(samples), seed, train=True)
    h = eng.simulate(batch, train=True, record=True).spikes
    n1, n2 = cfg.sizes[1], cfg.sizes[2]
    d1 = h["dp1"].astype(np.int64) + h["dn1"]
    d2 = h["dp2"] ^ h["dn2"]
    x0, x1 = h["x0"].sum(-1), h["x1"].sum(-1)                    # (T, B) spikes per step
    adds = x0.sum() * n1 + x1.sum() * n2 + d2.sum() * n1
    pairs = (d1.sum(-1) * x0).sum() + (d2.sum(-1) * x1).sum()
    block = 0
    for b in range(samples):
        pre0, post0 = h["x0"][:, b].any(0).sum(), d1[:, b].any(0).sum()
        pre1, post1 = h["x1"][:, b].any(0).sum(), (h["dp2"][:, b] | h["dn2"][:, b]).any(0).sum()
        block += pre0 * post0 + pre1 * post1
    ev = {"synaptic addition": adds / samples, "neuron update": 3.0 * cfg.steps * (n1 + n2),
          "pair increment": pairs / samples, "update synapse": block / samples}
    return {k: float(v) for k, v in ev.items()}


def machine_rates(seconds: float = 0.5) -> dict:
    """Integer additions per second (one thread, vectorised, L2-resident) and copy bandwidth (bytes/s)."""
    from lava_ssnnbp import accel
    if not accel.available():
        return {}
    import numba

    @numba.njit(nogil=True)
    def add_rows(rows, acc, reps):                 # the input drive's inner loop: acc += weight row
        for r in range(reps):
            for i in range(rows.shape[0]):
                for j in range(acc.size):
                    acc[j] += rows[i, j]
        return acc

    rows, acc = np.ones((100, 1280), np.int16), np.zeros(1280, np.int32)
    add_rows(rows, acc, 1)
    best_add = 0.0
    for _ in range(3):
        t = time.process_time()
        add_rows(rows, acc, 200)
        best_add = max(best_add, 200 * rows.size / max(time.process_time() - t, 1e-9))
    src = np.ones(64 * 2 ** 20 // 8)
    dst = np.empty_like(src)
    best_bw = 0.0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.process_time()
        np.copyto(dst, src)
        best_bw = max(best_bw, 2 * src.nbytes / max(time.process_time() - t, 1e-9))   # read + write
    return {"int_adds_per_s": best_add, "copy_bytes_per_s": best_bw}


def sample_limit(events: dict, rates: dict) -> dict:
    """The roofline limit of one sample: seconds by arithmetic, by memory traffic, and samples/s."""
    ops = (events["synaptic addition"] + OPS_PER_NEURON_UPDATE * events["neuron update"]
           + events["pair increment"] + OPS_PER_UPDATE_SYNAPSE * events["update synapse"])
    traffic = sum(BYTES[k] * v for k, v in events.items())
    s_ops, s_mem = ops / rates["int_adds_per_s"], traffic / rates["copy_bytes_per_s"]
    return {"operations": ops, "bytes": traffic, "arithmetic_s": s_ops, "memory_s": s_mem,
            "samples_per_s": 1.0 / max(s_ops, s_mem)}
