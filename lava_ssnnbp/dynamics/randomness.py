"""Named random streams: every draw is fixed by (seed, sample index, stream), so a
resumed run and the two schedulers (engine, Lava) draw the same numbers."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .. import kernels as _kernels


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
    """Generator for one (seed, sample, purpose) triple: PCG64 seeded by
    ``SeedSequence([seed, sample_index, stream])`` (its state computed by the
    compiled ``kernels.seed_state`` where available: the same numbers)."""
    state = _kernels.seed_state((seed, sample_index, stream))
    seq = _SeedState(state) if state is not None else np.random.SeedSequence([seed, sample_index, stream])
    return np.random.Generator(np.random.PCG64(seq))


class _SeedState(ISeedSequence):
    """A seed sequence whose state is already computed (what PCG64 asks of it)."""
    __slots__ = ("state",)

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("only PCG64's state (4 uint64 words) is precomputed")
        return self.state


# ---- the chip configuration's per-neuron generators (target = "loihi2") ------
# Every neuron owns one key per purpose, written once when the network is built
# (never re-seeded by the host), and draws its number of a step from that key and
# its own step counter: no neuron's draws depend on any other's activity.
STREAM_NEURON_KEYS = 600           # + purpose: the keys of (seed, neuron layer, purpose)
NEURON_PURPOSES = {"x": 0, "dp": 1, "dn": 2, "drop": 3}
_M32 = np.uint64(0xFFFFFFFF)


def _mix32(x: np.ndarray) -> np.ndarray:
    """A 32-bit integer hash (xor-shift-multiply, Wellons' 'lowbias32'), on uint64 holding 32 bits."""
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & _M32
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & _M32
    return x ^ (x >> np.uint64(16))


@lru_cache(maxsize=256)
def neuron_keys(seed: int, layer: int, purpose: str, n: int) -> np.ndarray:
    """The 32-bit keys (n,) uint32 (read-only) of neuron layer ``layer``'s generators
    for one ``purpose`` (``NEURON_PURPOSES``): set once, when the network is built."""
    seq = np.random.SeedSequence([int(seed), STREAM_NEURON_KEYS + NEURON_PURPOSES[purpose], int(layer)])
    keys = seq.generate_state(int(n), np.uint32)
    keys.flags.writeable = False
    return keys


def _random16(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """``mix32(mix32(counter) ^ key) >> 16`` on uint64 arrays (broadcasting)."""
    return _mix32(_mix32(counters & _M32) ^ keys) >> np.uint64(16)


def neuron_random16(keys: np.ndarray, counter) -> np.ndarray:
    """Uniform 16-bit numbers (uint32) of the neurons with ``keys`` at their step
    ``counter`` (an integer or an array broadcasting against ``keys``):
    ``mix32(mix32(counter) ^ key) >> 16``. Two integer hashes per draw, no state
    but the key and the neuron's own counter. Compiled from the same source
    where the kernels are in use (``kernels.compiled``)."""
    k = np.asarray(keys, dtype=np.uint64)
    c = np.asarray(counter, dtype=np.uint64)
    if k.ndim == c.ndim and k.ndim in (1, 2):
        return _kernels.compiled(_random16, uses=(_mix32,))(k, c).astype(np.uint32)
    return _random16(k, c).astype(np.uint32)


def neuron_keep_mask(keys: np.ndarray, sample_index: int, p: float) -> np.ndarray:
    """Dropout keep-mask (n,) of the chip configuration: a neuron drops out of
    training sample ``sample_index`` where its 16-bit number is below round(p 2^16)."""
    if p <= 0:
        return np.ones(np.shape(keys), dtype=bool)
    return neuron_random16(keys, sample_index) >= np.uint32(round(p * 65536))
