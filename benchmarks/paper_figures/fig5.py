"""Fig. 5 of the paper: the sorted, normalised output distribution over a test set.

Raw spiking output (network trained and run without WTA), softmax of it, and the
output of a network with WTA. See :func:`output_distributions` for the
normalisation and the softmax temperature.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np


def sorted_normalised(counts: np.ndarray) -> Tuple[np.ndarray, int, int]:
    """Per sample: sort the output counts descending and divide by their sum;
    average over samples. Samples with no output spike at all cannot be
    normalised and are left out (their number is returned).
    Returns (mean curve (C,), samples used, silent samples)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError("counts must have shape (N, C)")
    tot = c.sum(axis=1)
    keep = tot > 0
    if not np.any(keep):
        return np.full(c.shape[1], np.nan), 0, int(c.shape[0])
    p = -np.sort(-c[keep], axis=1) / tot[keep, None]
    return p.mean(axis=0), int(keep.sum()), int((~keep).sum())


def softmax_sorted(counts: np.ndarray, temperature: float = 1.0, mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Mean over samples of sort-descending(softmax(counts / temperature)).
    ``temperature`` is in output spikes per sample: temperature 1 uses the raw
    spike counts as the logits. ``mask`` selects the samples (default: all)."""
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    c = np.asarray(counts, dtype=np.float64)
    if mask is not None:
        c = c[mask]
    if c.shape[0] == 0:
        return np.full(c.shape[1], np.nan)
    z = c / temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return (-np.sort(-p, axis=1)).mean(axis=0)


def fit_softmax_temperature(counts: np.ndarray, target: np.ndarray,
                            temperatures: Optional[Sequence[float]] = None, mask=None) -> Tuple[float, float]:
    """The temperature (spikes) whose sorted softmax curve of ``counts`` is
    closest (least squares) to ``target``; a description, not a prediction.
    Returns (temperature, rms distance)."""
    temps = np.logspace(-1.5, 2.5, 161) if temperatures is None else np.asarray(temperatures, float)
    d = [float(np.sqrt(np.mean((softmax_sorted(counts, t, mask) - target) ** 2))) for t in temps]
    k = int(np.argmin(d))
    return float(temps[k]), d[k]


def output_distributions(raw_counts: np.ndarray, wta_counts: Optional[np.ndarray] = None,
                         temperature: float = 1.0) -> dict:
    """Fig. 5 curves from output spike counts (N, C) on the same test images.

    ``raw``: sorted, sum-normalised counts of the network without WTA;
    ``softmax``: sorted softmax(raw_counts / temperature) (temperature in spikes;
    1 means the raw counts are the logits), over the same samples as ``raw``
    (samples with no output spike are left out of both); ``wta``: sorted,
    sum-normalised counts of the network with WTA. Also the top-1 share of each
    curve, and the softmax temperature that best matches the WTA curve.
    """
    raw_curve, n_raw, silent_raw = sorted_normalised(raw_counts)
    mask = np.asarray(raw_counts).sum(axis=1) > 0
    out = {"temperature_spikes": float(temperature),
           "curves": {"raw": raw_curve.tolist(), "softmax": softmax_sorted(raw_counts, temperature, mask).tolist()},
           "n_used": {"raw": n_raw, "softmax": n_raw}, "n_silent": {"raw": silent_raw, "softmax": silent_raw}}
    if wta_counts is not None:
        wta_curve, n_w, silent_w = sorted_normalised(wta_counts)
        out["curves"]["wta"] = wta_curve.tolist()
        out["n_used"]["wta"], out["n_silent"]["wta"] = n_w, silent_w
        if n_raw and n_w:
            t_fit, rms = fit_softmax_temperature(raw_counts, wta_curve, mask=mask)
            out["softmax_temperature_matching_wta"] = {"temperature_spikes": t_fit, "rms_distance": rms,
                                                       "curve": softmax_sorted(raw_counts, t_fit, mask).tolist()}
    out["top1_share"] = {k: (float(v[0]) if not math.isnan(v[0]) else None) for k, v in out["curves"].items()}
    return out
