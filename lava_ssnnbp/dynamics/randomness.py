"""Named random streams: every draw is fixed by (seed, sample index, stream), so a
resumed run and the two schedulers (engine, Lava) draw the same numbers.

Two hashes are rules here, compiled from this source where numba is in use
(``jit.compiled``; the same numbers either way): numpy's SeedSequence, which
seeds every stream, and the chip configuration's per-neuron generators."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .. import jit


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
_M32 = np.uint64(0xFFFFFFFF)


def sample_rng(seed: int, sample_index: int, stream: int) -> np.random.Generator:
    """Generator for one (seed, sample, purpose) triple: PCG64 seeded by
    ``SeedSequence([seed, sample_index, stream])`` (its state computed by the
    compiled :func:`seed_sequence_state` where numba is in use: the same numbers)."""
    words = _entropy_words((seed, sample_index, stream)) if jit.enabled() else None
    if words is None:
        seq = np.random.SeedSequence([seed, sample_index, stream])
    else:
        seq = _SeedState(jit.compiled(seed_sequence_state)(words, np.empty(4, np.uint64)))
    return np.random.Generator(np.random.PCG64(seq))


def _entropy_words(numbers) -> "np.ndarray | None":
    """Non-negative integers as SeedSequence's 32-bit entropy words (uint64), or None
    for entropy numpy would reject."""
    words = []
    for n in numbers:
        n = int(n)
        if n < 0:
            return None
        words.append(n & 0xFFFFFFFF)
        n >>= 32
        while n > 0:
            words.append(n & 0xFFFFFFFF)
            n >>= 32
    return np.array(words, dtype=np.uint64)


# numpy's SeedSequence hash (numpy/random/bit_generator.pyx), on 32-bit words held in uint64
_HASH_INIT, _MULT_A, _MULT_B = np.uint64(0x43b0d7e5), np.uint64(0x931e8875), np.uint64(0x58f38ded)
_MIX_L, _MIX_R, _INIT_B = np.uint64(0xca01f9dd), np.uint64(0x4973f715), np.uint64(0x8b51f9dd)
_XSHIFT = np.uint64(16)


@jit.rule
def _hashmix(v, h):
    v = (v ^ h) & _M32
    h = (h * _MULT_A) & _M32
    v = (v * h) & _M32
    return v ^ (v >> _XSHIFT), h


@jit.rule
def _mix(x, y):
    # (MIX_L x - MIX_R y) mod 2**32, without an unsigned underflow
    r = (((_MIX_L * x) & _M32) + (_M32 + np.uint64(1)) - ((_MIX_R * y) & _M32)) & _M32
    return r ^ (r >> _XSHIFT)


def seed_sequence_state(entropy: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.random.SeedSequence(entropy).generate_state(4, np.uint64)`` (what seeds a
    PCG64) into ``out`` (4,) uint64, for 32-bit entropy words (uint64; pool of 4, no
    spawn key). Compiled it is 40x cheaper than numpy's, which costs more than a
    training sample's whole compiled simulation at six streams a sample."""
    h = _HASH_INIT
    pool = np.zeros(4, np.uint64)
    for i in range(4):
        pool[i], h = _hashmix(entropy[i] if i < entropy.size else np.uint64(0), h)
    for src in range(4):
        for dst in range(4):
            if src != dst:
                v, h = _hashmix(pool[src], h)
                pool[dst] = _mix(pool[dst], v)
    for src in range(4, entropy.size):
        for dst in range(4):
            v, h = _hashmix(entropy[src], h)
            pool[dst] = _mix(pool[dst], v)
    hb = _INIT_B
    for k in range(4):
        word = np.uint64(0)
        for half in range(2):
            v = pool[(2 * k + half) % 4] ^ hb
            hb = (hb * _MULT_B) & _M32
            v = (v * hb) & _M32
            word |= (v ^ (v >> _XSHIFT)) << np.uint64(32 * half)
        out[k] = word
    return out


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


@jit.rule
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


@jit.rule
def _random16(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """``mix32(mix32(counter) ^ key) >> 16`` on uint64 arrays (broadcasting)."""
    return _mix32(_mix32(counters & _M32) ^ keys) >> np.uint64(16)


def neuron_random16(keys: np.ndarray, counter) -> np.ndarray:
    """Uniform 16-bit numbers (uint32) of the neurons with ``keys`` at their step
    ``counter`` (an integer or an array broadcasting against ``keys``):
    ``mix32(mix32(counter) ^ key) >> 16``. Two integer hashes per draw, no state
    but the key and the neuron's own counter. Compiled from the same source
    where numba is in use (``jit.compiled``)."""
    k = np.asarray(keys, dtype=np.uint64)
    c = np.asarray(counter, dtype=np.uint64)
    if k.ndim == c.ndim and k.ndim in (1, 2):
        return jit.compiled(_random16)(k, c).astype(np.uint32)
    return _random16(k, c).astype(np.uint32)


def neuron_keep_mask(keys: np.ndarray, sample_index: int, p: float) -> np.ndarray:
    """Dropout keep-mask (n,) of the chip configuration: a neuron drops out of
    training sample ``sample_index`` where its 16-bit number is below round(p 2^16)."""
    if p <= 0:
        return np.ones(np.shape(keys), dtype=bool)
    return neuron_random16(keys, sample_index) >= np.uint32(round(p * 65536))
