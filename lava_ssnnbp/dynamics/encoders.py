"""Spike encoders: Bernoulli input trains from pixel intensities, the target
train of the output layer, dropout masks; and which random stream each of a
sample's trains is drawn from (``encode_sample``)."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .randomness import (STREAM_DROPOUT, STREAM_INPUT, STREAM_TARGET, TEST_SEED_OFFSET, neuron_keep_mask,
                         neuron_keys, sample_rng)


def input_probabilities(pixels: np.ndarray, steps: int, gain: float) -> np.ndarray:
    """Front-loaded spike probabilities, shape (T, *pixels.shape).

    Probability falls linearly over the sample, p_t = 2 g x (T - t - 1/2) / T,
    so its mean over the T steps is g * x (x in [0, 1]).
    """
    ramp = (steps - np.arange(steps) - 0.5) / steps
    ramp = ramp.reshape((steps,) + (1,) * np.ndim(pixels))
    return (2.0 * gain * ramp * pixels).astype(np.float32)


def encode_input(pixels: np.ndarray, steps: int, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli input spikes (T, D) for one sample's pixels (D,) in [0, 1].
    One number per step and pixel is drawn; a dark pixel (probability 0) never
    spikes, so only the others are compared (the same spikes, cheaper)."""
    pixels = np.asarray(pixels)
    r = rng.random((steps,) + pixels.shape, dtype=np.float32)
    if pixels.ndim != 1:
        return r < input_probabilities(pixels, steps, gain)
    lit = np.flatnonzero(pixels)
    out = np.zeros(r.shape, dtype=bool)
    out[:, lit] = r[:, lit] < input_probabilities(pixels[lit], steps, gain)
    return out


def encode_target(label: int, steps: int, num_classes: int, rate: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Target spikes (T, C): the true class fires Bernoulli(rate), the others never."""
    out = np.zeros((steps, num_classes), dtype=bool)
    out[:, label] = rng.random(steps, dtype=np.float32) < rate
    return out


def encode_sample(seed: int, sample_index: int, train: bool, steps: int,
                  pixels: Optional[np.ndarray] = None, gain: float = 0.0,
                  label: Optional[int] = None, num_classes: int = 0,
                  target_rate: float = 0.0) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """One sample's input and target spike trains, each from the sample's own random
    stream: what the engine (``engine.encode_batch``) and the Lava spike sources
    (``SpikeInput``, ``TargetGenerator``) draw, so that both see the same spikes.

    ``pixels``: an image (D,) in [0, 1], encoded by :func:`encode_input` with
    ``gain`` from the stream ``(seed, sample_index, STREAM_INPUT)`` in training and
    ``(seed + TEST_SEED_OFFSET, sample_index, STREAM_INPUT)`` at test (``train``
    False), so no test sample repeats a training sample's draws; or event frames
    (T, D), already spikes. ``label``: the target train (:func:`encode_target`,
    stream ``(seed, sample_index, STREAM_TARGET)``) in training, silent at test.
    Returns ``(inputs (T, D), targets (T, num_classes))`` bool, None for the part
    whose argument is None. Dropout is drawn apart (:func:`sample_keep_mask`).
    """
    inputs = targets = None
    if pixels is not None:
        pixels = np.asarray(pixels)
        if pixels.ndim == 2:
            inputs = pixels.astype(bool)
        else:
            stream_seed = seed if train else seed + TEST_SEED_OFFSET
            inputs = encode_input(pixels, steps, gain, sample_rng(stream_seed, sample_index, STREAM_INPUT))
    if label is not None:
        targets = (encode_target(int(label), steps, num_classes, target_rate,
                                 sample_rng(seed, sample_index, STREAM_TARGET)) if train
                   else np.zeros((steps, num_classes), dtype=bool))
    return inputs, targets


def dropout_mask(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Keep-mask (n,): a dropped unit is silent for the whole sample."""
    if p <= 0:
        return np.ones(n, dtype=bool)
    return rng.random(n, dtype=np.float32) >= p


def sample_keep_mask(seed: int, sample_index: int, layer: int, n: int, p: float, chip: bool = False) -> np.ndarray:
    """Neuron layer ``layer``'s dropout keep-mask (n,) in training sample
    ``sample_index``: from the sample's dropout stream, or in the chip
    configuration (``chip``) from every neuron's own generator
    (``randomness.neuron_keep_mask``). What the engine and the Lava models use."""
    if chip:
        return neuron_keep_mask(neuron_keys(seed, layer, "drop", n), sample_index, p)
    return dropout_mask(n, p, sample_rng(seed, sample_index, STREAM_DROPOUT + layer))


def bernoulli_trains(rates: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """Independent Bernoulli spike trains (T, *rates.shape) with the given rates."""
    return rng.random((steps,) + rates.shape, dtype=np.float32) < rates
