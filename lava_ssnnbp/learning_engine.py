"""Pure per-step functions of the learning-engine network (``LearningEngineNetwork``):
what the composite neurons send on Lava's third-factor ports, how they take
their synaptic input from Lava's ``LearningDense``/``Dense``, and how Lava's
bit-approximate learning engine rounds a weight update -- as numpy, no Lava.

The Lava models (``proc_models/learning_neuron.py``) call these step by step;
``Engine(..., learning_engine='lava')`` calls :func:`epoch_round_update` so that
the batched engine rounds as Lava's engine does and the two can be compared bit
for bit.

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

SAMPLE_END_Y3 = 32        # y3 at a learning epoch's last step (lava_config.SAMPLE_END_Y3; tested equal)
LAVA_ROUNDING_SEED = 2    # ConnVarRandom()'s default seed, what LearningDense's bit-approximate model uses
LAVA_WEIGHT_MIN, LAVA_WEIGHT_MAX = -256, 255   # the learning engine's weight clip (9-bit signed, MIXED)
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


def third_factors(dp: np.ndarray, dn: np.ndarray, count: bool, epoch_end: bool):
    """(y1, y2, y3) of one step, unsigned 7-bit: y1 = d+ and y2 = d- where the
    synapses count coincidences this step (``count``), else 0; y3 =
    :data:`SAMPLE_END_Y3` at the last step of a learning sample (``epoch_end``)."""
    zero = np.zeros(np.shape(dp), dtype=np.int32)
    y1 = np.asarray(dp, dtype=np.int32) if count else zero
    y2 = np.asarray(dn, dtype=np.int32) if count else zero
    y3 = np.full(np.shape(dp), SAMPLE_END_Y3 if epoch_end else 0, dtype=np.int32)
    return y1, y2, y3


def graded_gradient(dp: np.ndarray, dn: np.ndarray) -> np.ndarray:
    """The graded spike d+ - d- (-1, 0, +1) that drives the backward copy W^T."""
    return np.asarray(dp, dtype=np.int32) - np.asarray(dn, dtype=np.int32)


class EpochRandoms:
    """Lava's per-epoch rounding numbers: ``draw(step)`` is the float in [0, 1)
    that every ``LearningDense`` of a Lava run uses at time step ``step``
    (1-based; draw 0 is made at start-up, one more before each epoch's update)."""

    def __init__(self, seed: int = LAVA_ROUNDING_SEED):
        self._rng = np.random.default_rng(seed=seed)
        self._draws = np.zeros(0)

    def draw(self, step: int) -> float:
        step = int(step)
        if step < 0:
            raise ValueError(f"time steps start at 0, got {step}")
        if step >= self._draws.size:
            more = max(step + 1 - self._draws.size, 4096)
            self._draws = np.concatenate([self._draws, self._rng.random(more)])
        return float(self._draws[step])


def epoch_stochastic_shift(n: np.ndarray, k: int, r: float) -> np.ndarray:
    """``n / 2**k`` rounded as Lava's learning engine rounds it: floor, plus one
    where the shared random ``r`` is below the fractional part. Exact for
    0 <= k <= 7 (the accumulator's 7 bits below a weight unit)."""
    n = np.asarray(n, dtype=np.int64)
    if k <= 0:
        return np.left_shift(n, -k)
    frac = (n & ((1 << k) - 1)).astype(np.float64) / float(1 << k)
    return np.right_shift(n, k) + (r < frac).astype(np.int64)


def epoch_round_update(w: np.ndarray, numerator: np.ndarray, k: int, r: float) -> np.ndarray:
    """New weight mantissas after one learning sample, as Lava's bit-approximate
    engine computes them: ``w + epoch_stochastic_shift(numerator, k, r)`` clipped
    to -256..255."""
    dm = epoch_stochastic_shift(numerator, k, r)
    return np.clip(np.asarray(w, dtype=np.int64) + dm, LAVA_WEIGHT_MIN, LAVA_WEIGHT_MAX).astype(np.int32)


def learn_as_lava(w: np.ndarray, cfg, k: int, x_count, dp_count, dn_count, coincidences, r: float,
                  inplace: bool = False) -> np.ndarray:
    """``dynamics.learn`` ('coincidence' / 'replay') with Lava's learning-engine
    arithmetic: the same pair counts and shift ``dynamics.learning_shift``, rounded
    with the shared epoch random ``r`` and clipped to -256..255
    (:func:`epoch_round_update`). Only the block of ``dynamics.learning_support``
    can change (a zero count rounds to no change in Lava too)."""
    if cfg.mode not in ("coincidence", "replay"):
        raise ValueError(f"Lava's learning engine runs 'coincidence' and 'replay', not {cfg.mode!r}")
    shift = dyn.learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k))
    post, pre = dyn.learning_support(x_count, dp_count, dn_count)
    out = w if inplace else np.array(w, copy=True)
    if post.size and pre.size:
        block = np.ix_(post, pre)
        if isinstance(coincidences, dyn.PairBlock):
            if not (np.array_equal(coincidences.post, post) and np.array_equal(coincidences.pre, pre)):
                raise ValueError("the pair counts' block is not the learning support of these counts")
            num = coincidences.counts
        else:
            num = np.asarray(coincidences)[block].astype(np.int64)
        out[block] = epoch_round_update(out[block], num, shift, r)
    return out


__all__ = ["learn_as_lava", "SAMPLE_END_Y3", "LAVA_ROUNDING_SEED", "LAVA_WEIGHT_MIN", "LAVA_WEIGHT_MAX", "NO_DECAY_TAU",
           "dendrite_input", "third_factors", "graded_gradient", "EpochRandoms", "epoch_stochastic_shift",
           "epoch_round_update"]
