"""The replay window ('replay' mode).

After a training sample's T steps, every neuron replays its own spike counts of
that sample as fresh Bernoulli trains for T_s steps (x, d+ and d-; the forward
drive is off), and the synapses count the coincidences of these trains at their
two ends (Eq. 10). Independent trains make the count an unbiased estimate of
Eq. 9's product of rates (paper, section 2.2). Each neuron layer has one random
stream per sample (like one PRNG per core); at every step of the window it draws
one number for each train of each neuron whose count is not zero, in the order
x, d+, d- and, within a train, by neuron index.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import jit
from .randomness import STREAM_REPLAY, neuron_keys, neuron_random16, sample_rng


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


@jit.rule
def replay_spikes(probability: np.ndarray, randoms: np.ndarray) -> np.ndarray:
    """Replay spikes: a neuron fires where its random number is below its register
    (a rule: ``accel`` fires the window with it, compiled)."""
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
    return replay_fire(*replay_draws(counts, steps, window, seed, sample_index, layer))


def replay_draws(counts: dict, steps: int, window: int, seed: int, sample_index: int, layer: int):
    """The plan of ``replay_window`` and the window's random numbers (window, plan.draws):
    what its trains are made of (``accel.replay_pair_block`` fires and counts them compiled)."""
    plan = replay_plan(counts, steps)
    return plan, replay_randoms(replay_rng(seed, sample_index, layer), (window, plan.draws))


def replay_draws_loihi2(counts: dict, steps: int, window: int, seed: int, sample_index: int, layer: int):
    """``replay_draws`` of the chip configuration (target = "loihi2"): every train of
    every neuron draws from its own generator (``randomness.neuron_random16``, the
    neuron's key for that train), at step counter ``sample_index * window + t`` of
    its replay windows. The same layout (window, plan.draws); the numbers of a
    neuron depend on nothing but its key and the training sample's index."""
    plan = replay_plan(counts, steps)
    t = (np.int64(sample_index) * window + np.arange(window, dtype=np.int64))[:, None]
    keys = np.concatenate([neuron_keys(seed, layer, name, plan.n)[units] for name, units in zip(plan.trains, plan.units)])
    return plan, neuron_random16(keys[None, :], t)


def replay_trains(counts: dict, steps: int, window: int, seed: int, sample_ids, layer: int) -> dict:
    """``replay_window`` of B samples: counts {train: (B, N)} -> {train: (window, B, N)}."""
    per = [replay_window({t: c[b] for t, c in counts.items()}, steps, window, seed, int(sid), layer)
           for b, sid in enumerate(sample_ids)]
    return {t: np.stack([p[t] for p in per], axis=1) for t in counts}
