"""Spike encoders: Bernoulli input trains from pixel intensities, the target
train of the output layer, dropout masks."""

from __future__ import annotations

import numpy as np


def input_probabilities(pixels: np.ndarray, steps: int, gain: float) -> np.ndarray:
    """Front-loaded spike probabilities, shape (T, *pixels.shape).

    Probability falls linearly over the sample, p_t = 2 g x (T - t - 1/2) / T,
    so its mean over the T steps is g * x (x in [0, 1]).
    """
    ramp = (steps - np.arange(steps) - 0.5) / steps
    ramp = ramp.reshape((steps,) + (1,) * np.ndim(pixels))
    return (2.0 * gain * ramp * pixels).astype(np.float32)


def encode_input(pixels: np.ndarray, steps: int, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli input spikes (T, D) for one sample's pixels (D,) in [0, 1]."""
    p = input_probabilities(pixels, steps, gain)
    return rng.random(p.shape, dtype=np.float32) < p


def encode_target(label: int, steps: int, num_classes: int, rate: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Target spikes (T, C): the true class fires Bernoulli(rate), the others never."""
    out = np.zeros((steps, num_classes), dtype=bool)
    out[:, label] = rng.random(steps, dtype=np.float32) < rate
    return out


def dropout_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Keep-mask (n,): a dropped unit is silent for the whole sample."""
    if p <= 0:
        return np.ones(n, dtype=bool)
    return rng.random(n, dtype=np.float32) >= p


def bernoulli_trains(rates: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Independent Bernoulli spike trains (T, *rates.shape) with the given rates."""
    return rng.random((steps,) + rates.shape, dtype=np.float32) < rates
