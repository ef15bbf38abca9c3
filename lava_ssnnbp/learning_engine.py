"""Pure per-step functions of the learning-engine network (``LearningEngineNetwork``):
what the composite neurons send on Lava's third-factor ports, how they take
their synaptic input from Lava's ``LearningDense``/``Dense``, and how Lava's
bit-approximate learning engine rounds a weight update -- as numpy, no Lava.

The Lava models (``proc_models/learning_neuron.py``) call these step by step;
``Engine(..., learning_engine='lava')`` draws the run's :class:`EpochRandoms` and
passes them to ``dynamics.learn(..., shared_random=)``, which rounds as Lava's
engine does (:func:`epoch_round_update`), so that the two compare bit for bit.

Lava's rounding (``lava.magma.core.model.py.connection``,
``LearningConnectionModelBitApproximate._apply_learning_rules``): after a
learning epoch the synaptic accumulator (the weight << 7 plus the rule's
products) is divided by 2**7 and rounded up where **one** random number per
learning epoch, shared by every synapse of the connection, is below the
fractional part (``ConnVarRandom``, seeded 2 whatever the rule's ``rng_seed``,
advanced once per epoch); then the weight is clipped to 9 bits signed
(-256..255, ``clip_weights(num_bits=8)`` in MIXED sign mode). Our engine draws
one random number per synapse (``fixed_point.stochastic_shift``) and saturates
at ``cfg.weight_bits``. With ``t_epoch = 1`` a learning epoch is one time step,
so the number used at a sample's last step is the Lava run's draw number
``time_step``.
"""
from __future__ import annotations

import numpy as np

from . import dynamics as dyn
from . import fixed_point as fxp
from .fixed_point import LAVA_WEIGHT_MAX, LAVA_WEIGHT_MIN, epoch_stochastic_shift

SAMPLE_END_Y3 = 32        # y3 at a learning epoch's last step (lava_config.SAMPLE_END_Y3; tested equal)
LAVA_ROUNDING_SEED = 2    # ConnVarRandom()'s default seed, what LearningDense's bit-approximate model uses
NO_DECAY_TAU = 2 ** 60    # y trace time constant with exp(-1 / tau) == 1.0 in float64 (see third_factor_rule)


def dendrite_input(a: np.ndarray, first_step: bool) -> np.ndarray:
    """Synaptic input as a composite neuron takes it from a Lava connection:
    saturated to the 16-bit input of one synapse layer (Lava's Dense does not
    clip; the engine and ``CoincidenceDense`` do), and zero at a sample's first
    step, where a Lava Dense still sends the drive of the previous sample's last
    step (the engine clears its buffers there)."""
    if first_step:
        return np.zeros(np.shape(a), dtype=np.int32)
    return fxp.saturate(np.asarray(a, dtype=np.int64), fxp.A_BITS).astype(np.int32)


def third_factors(dp: np.ndarray, dn: np.ndarray, count: bool, epoch_end: bool, magnitude: int = 1):
    """(y1, y2, y3) of one step, unsigned 7-bit: y1 = m d+ and y2 = m d- where the
    synapses count coincidences this step (``count``), else 0; y3 =
    :data:`SAMPLE_END_Y3` at the last step of a learning sample (``epoch_end``).
    The magnitude m (``magnitude``) is the chip configuration's learning-rate
    level (:func:`level_magnitude`: 8, 4, 2, 1 or 4, 2, 1 for eta, eta / 2, ...); 1 otherwise."""
    zero = np.zeros(np.shape(dp), dtype=np.int32)
    y1 = magnitude * np.asarray(dp, dtype=np.int32) if count else zero
    y2 = magnitude * np.asarray(dn, dtype=np.int32) if count else zero
    y3 = np.full(np.shape(dp), SAMPLE_END_Y3 if epoch_end else 0, dtype=np.int32)
    return y1, y2, y3


# The mirrored copy W^T (chip configuration). A backward synapse (pre: gradient
# neuron j of layer l+1, post: neuron i of layer l) must count the same
# coincidences x_i (d+_j - d-_j) as the forward one, but its presynaptic spike
# is all the learning engine sees of j, without a sign. So in the replay window
# j sends a graded spike whose payload says which of its trains fired
# (MIRROR_PAYLOAD_DP / _DN; nothing when both or neither did: their pair counts
# cancel), which Lava's GradedSpikeCfg.OVERWRITE writes into the presynaptic
# trace x1 (payload / 2: 1 or 3), and the post neuron sends its replayed x as
# y1 = 8 m x and y2 = m x, so that the rule ``2 x0 y2 - x0 y1 x1`` adds +m or -m
# exactly (the engine shifts the 18-bit product y1 x1 right by 3 bits).
MIRROR_PAYLOAD_DP, MIRROR_PAYLOAD_DN = 2, 6
MIRROR_Y1_GAIN = 8


def mirror_factors(x: np.ndarray, count: bool, magnitude: int = 1):
    """(y1, y2) a neuron layer sends to the backward copy of the synapse layer
    above it: ``MIRROR_Y1_GAIN`` m x and m x where the synapses count this step."""
    if not count:
        zero = np.zeros(np.shape(x), dtype=np.int32)
        return zero, zero
    xm = magnitude * np.asarray(x, dtype=np.int32)
    return MIRROR_Y1_GAIN * xm, xm


def mirror_payload(dp: np.ndarray, dn: np.ndarray, counting: bool) -> np.ndarray:
    """What a gradient layer sends on ``d_out`` to the backward copy: the graded
    d+ - d- (-1, 0, +1) during the pass (the backward drive), and in the steps
    where synapses count, the sign-carrying payload of the mirrored rule."""
    if not counting:
        return graded_gradient(dp, dn)
    dp, dn = np.asarray(dp, dtype=bool), np.asarray(dn, dtype=bool)
    return np.where(dp & ~dn, MIRROR_PAYLOAD_DP, np.where(dn & ~dp, MIRROR_PAYLOAD_DN, 0)).astype(np.int32)


def graded_gradient(dp: np.ndarray, dn: np.ndarray) -> np.ndarray:
    """The graded spike d+ - d- (-1, 0, +1) that drives the backward copy W^T."""
    return np.asarray(dp, dtype=np.int32) - np.asarray(dn, dtype=np.int32)


class EpochRandoms:
    """Lava's per-epoch rounding numbers: ``draw(step)`` is the float in [0, 1)
    that every ``LearningDense`` of a Lava run uses at time step ``step``
    (1-based; draw 0 is made at start-up, one more before each epoch's update).

    The stream is drawn in order and only its latest chunk is kept, so a run that
    asks for its steps in increasing order pays O(1) time and memory per draw however
    long it trains (keeping every draw cost a copy of all of them every 4,096 steps:
    a full-data run slowed from epoch to epoch). An earlier step restarts the stream."""

    CHUNK = 4096          # draws made at a time in order
    MAX_SKIP = 1 << 16    # the largest chunk drawn (and dropped) when a step lies far ahead

    def __init__(self, seed: int = LAVA_ROUNDING_SEED):
        self._seed = seed
        self._restart()

    def _restart(self):
        self._rng = np.random.default_rng(seed=self._seed)
        self._first, self._draws = 0, np.zeros(0)     # self._draws[i] is draw number self._first + i

    def draw(self, step: int) -> float:
        step = int(step)
        if step < 0:
            raise ValueError(f"time steps start at 0, got {step}")
        if step < self._first:
            self._restart()
        while step >= self._first + self._draws.size:   # float64 draws take one 64-bit output each:
            self._first += self._draws.size              # the chunking does not change the stream
            self._draws = self._rng.random(min(max(step + 1 - self._first, self.CHUNK), self.MAX_SKIP))
        return float(self._draws[step - self._first])


def epoch_round_update(w: np.ndarray, numerator: np.ndarray, k: int, r: float) -> np.ndarray:
    """New weight mantissas after one learning sample, as Lava's bit-approximate
    engine computes them: ``w + fixed_point.epoch_stochastic_shift(numerator, k, r)``
    clipped to -256..255 (``dynamics.learn(..., shared_random=r)`` on the block it changes)."""
    dm = epoch_stochastic_shift(numerator, k, r)
    return dyn.fixed_weight_update(np.asarray(w, dtype=np.int64), dm, LAVA_WEIGHT_MIN, LAVA_WEIGHT_MAX).astype(np.int32)


RULE_MAX_SHIFT = 7   # the rule's scale 2^-(shift + L - 1) is at least Lava's smallest scale factor, 2^-7


def _base_shifts(cfg):
    return [dyn.learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k)) for k in range(cfg.n_layers)]


def eta_levels(cfg) -> int:
    """How many learning-rate levels eta / 2^j the chip configuration ``cfg`` has:
    ``config.loihi2_eta_levels`` of its replay window (4 up to 31 steps, else 3),
    and 3 where the base shift leaves the rule's scale 2^-(shift + 3) below the
    learning engine's 2^-7."""
    return _eta_levels(cfg, _base_shifts(cfg))


def _eta_levels(cfg, base) -> int:
    """:func:`eta_levels` of ``cfg`` whose base shifts per connection are ``base``."""
    from .config import LOIHI2_MIN_ETA_LEVELS, loihi2_eta_levels
    levels = loihi2_eta_levels(cfg.learning_steps)
    return levels if max(base) + levels - 1 <= RULE_MAX_SHIFT else LOIHI2_MIN_ETA_LEVELS


def level_magnitude(cfg, level: int) -> int:
    """The magnitude m = 2^(L-1-level) of the counting factors at learning-rate
    level ``level`` (L = :func:`eta_levels`): the rule scales the tag by
    2^-(base shift + L - 1), so m of them apply eta / 2^level."""
    levels = eta_levels(cfg)
    if not 0 <= int(level) < levels:
        raise ValueError(f"learning-rate level {level}: this chip configuration has levels 0..{levels - 1} "
                         f"(its replay window of {cfg.learning_steps} steps)")
    return (1 << (levels - 1)) >> int(level)


def eta_level(cfg, eta: float) -> int:
    """The chip configuration's learning-rate level j of ``eta`` against the base
    ``cfg.eta``: the rule is built once, with the base shift plus L - 1
    (:func:`eta_levels`), and the neurons send their third factors d+, d- with
    magnitude :func:`level_magnitude`, so the synapses apply eta / 2^j (j < L)
    exactly. A ValueError says why an eta is not one of those levels, or the
    base is beyond the rule's scale range."""
    from .config import LOIHI2_MIN_ETA_LEVELS
    base = _base_shifts(cfg)
    if max(base) + LOIHI2_MIN_ETA_LEVELS - 1 > RULE_MAX_SHIFT:
        raise ValueError(f"eta {cfg.eta:g} is a shift of {max(base)} bits: the rule's scale "
                         f"2^-(shift + {LOIHI2_MIN_ETA_LEVELS - 1}) must be at least the learning engine's "
                         f"2^-{RULE_MAX_SHIFT} (raise eta or the weight exponent)")
    levels = _eta_levels(cfg, base)
    j = {dyn.learning_shift(eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k)) - b for k, b in enumerate(base)}
    if len(j) != 1 or not 0 <= min(j) < levels:
        raise ValueError(f"eta {eta:g} is not one of the chip configuration's levels {cfg.eta:g} / 2^j, j = 0.."
                         f"{levels - 1} (the learning engine applies them through the neurons' third-factor "
                         f"magnitude; a replay window of {cfg.learning_steps} steps leaves {levels} levels; "
                         "fixed point rounds eta to a power of two)")
    return j.pop()


__all__ = ["eta_level", "eta_levels", "level_magnitude", "mirror_factors", "mirror_payload", "MIRROR_PAYLOAD_DP",
           "MIRROR_PAYLOAD_DN", "MIRROR_Y1_GAIN", "SAMPLE_END_Y3", "LAVA_ROUNDING_SEED", "LAVA_WEIGHT_MIN", "LAVA_WEIGHT_MAX", "NO_DECAY_TAU",
           "dendrite_input", "third_factors", "graded_gradient", "EpochRandoms", "epoch_stochastic_shift",
           "epoch_round_update"]
