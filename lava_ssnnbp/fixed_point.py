"""Loihi-like integer arithmetic shared by every fixed-point model.

Widths follow Lava's bit-accurate LIF (``lava.proc.lif.models.PyLifModelBitAcc``),
which is the outside oracle for the rounding rules:

* current ``u`` and voltage ``v``: 24-bit signed;
* decay constants ``du``/``dv``: 12-bit unsigned (0..4095), applied as
  ``x * (4096 - d) >> 12`` on the magnitude (truncation toward zero); Lava adds
  a 1-bit offset to ``du`` (``ds_offset``), so the effective current decay is
  ``du + 1``;
* synaptic input and threshold are MSB-aligned by ``<< 6``;
* synaptic input ``a``: 16-bit signed;
* weights: 8-bit signed mantissa, saturating symmetrically at -127..127, with a
  per-layer exponent; on Lava's learning engine (the chip configuration) 9-bit,
  clipped to -256..255, and an update rounded with one random number shared by
  every synapse (``epoch_stochastic_shift``).

This module has no Lava import: it is the math, not the framework.
"""
from __future__ import annotations

import numpy as np

from . import jit

UV_BITS = 24
UV_MAX = 2 ** (UV_BITS - 1) - 1          # largest 24-bit signed value
DECAY_BITS = 12
DECAY_UNITY = 1 << DECAY_BITS
ACT_SHIFT = 6                            # synaptic input << 6 into u
VTH_SHIFT = 6                            # threshold mantissa << 6
A_BITS = 16
A_MAX = 2 ** (A_BITS - 1) - 1
DS_OFFSET = 1                            # Lava/Loihi 1-bit offset added to du
W_ONE = 64                               # mantissa units that stand for weight 1.0 at exponent 0
LAVA_WEIGHT_MIN, LAVA_WEIGHT_MAX = -256, 255   # the learning engine's weight clip (9-bit signed, MIXED)


def decay(x: np.ndarray, d) -> np.ndarray:
    """``x * (4096 - d) >> 12`` on the magnitude, sign restored (Lava's rule).

    The integer reference: ``dynamics.if_step`` computes the same as a dyadic
    float product (faster in numpy); the tests hold the two equal."""
    prod = x.astype(np.int64) * (DECAY_UNITY - np.asarray(d, dtype=np.int64))
    return np.sign(prod) * (np.abs(prod) >> DECAY_BITS)


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    """Clip to a signed ``bits``-wide range, symmetric like Lava's v clip."""
    hi = 2 ** (bits - 1) - 1
    return np.clip(x, -hi, hi)


@jit.rule
def wrap_current(x: np.ndarray) -> np.ndarray:
    """Lava's overflow rule for ``u``: wrap modulo 2**23 (kept for the oracle test)."""
    m = UV_MAX + 1
    w = jit.where(x > m, x - 2 * m, x)
    return jit.where(w <= -m, x + 2 * m, w)


def shift(x: np.ndarray, exp: int) -> np.ndarray:
    """``x << exp`` for exp >= 0, arithmetic ``x >> -exp`` otherwise (Lava's Dense rule)."""
    x = np.asarray(x, dtype=np.int64)
    return np.left_shift(x, exp) if exp >= 0 else np.right_shift(x, -exp)


def stochastic_shift(n: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Unbiased ``n / 2**k`` rounded to an integer: ``(n + r) >> k``, r uniform in [0, 2**k).

    ``E[result] = n / 2**k`` exactly, which keeps tiny learning steps alive on
    8-bit weights. ``k <= 0`` is an exact left shift.
    """
    n = np.asarray(n, dtype=np.int64)
    if k <= 0:
        return np.left_shift(n, -k)
    r = rng.integers(0, 1 << k, size=n.shape, dtype=np.int64)
    return np.right_shift(n + r, k)


def epoch_stochastic_shift(n: np.ndarray, k: int, r: float) -> np.ndarray:
    """``n / 2**k`` rounded as Lava's learning engine rounds it: floor, plus one
    where the random ``r`` in [0, 1), shared by every synapse of the learning epoch,
    is below the fractional part. Exact for 0 <= k <= 7 (the accumulator's 7 bits
    below a weight unit); ``k <= 0`` is an exact left shift."""
    n = np.asarray(n, dtype=np.int64)
    if k <= 0:
        return np.left_shift(n, -k)
    frac = (n & ((1 << k) - 1)).astype(np.float64) / float(1 << k)
    return np.right_shift(n, k) + (r < frac).astype(np.int64)


def decay_register(du_float: float) -> int:
    """12-bit ``du`` register whose effective decay (``du + 1``)/4096 is closest to ``du_float``."""
    return int(np.clip(round(du_float * DECAY_UNITY) - DS_OFFSET, 0, DECAY_UNITY - 1))


def voltage_per_unit(du_reg: int) -> float:
    """Voltage an input of ``W_ONE`` mantissa units adds to ``v`` in the long run.

    u receives ``W_ONE << 6`` and decays by (du+1)/4096 per step, v integrates it:
    the sum is ``W_ONE * 64 * 4096 / (du + 1)`` (truncation makes it slightly less).
    """
    return W_ONE * (1 << ACT_SHIFT) * DECAY_UNITY / (du_reg + DS_OFFSET)


def threshold_mantissa(theta: float, du_reg: int) -> int:
    """Threshold mantissa (17-bit) that stands for float threshold ``theta``."""
    vth = int(round(theta * voltage_per_unit(du_reg) / (1 << VTH_SHIFT)))
    if not 0 < vth < 2 ** 17:
        raise ValueError(f"threshold {theta} does not fit a 17-bit mantissa (got {vth})")
    return vth


def weight_lsb(weight_exp: int) -> float:
    """Float value of one weight-mantissa unit at exponent ``weight_exp``."""
    return 2.0 ** weight_exp / W_ONE


def quantize_weights(w: np.ndarray, weight_exp: int, bits: int = 8) -> np.ndarray:
    """Round float weights to signed ``bits``-wide mantissas (saturating)."""
    m = np.round(np.asarray(w, dtype=np.float64) / weight_lsb(weight_exp))
    return saturate(m, bits).astype(np.int32)


def dequantize_weights(m: np.ndarray, weight_exp: int) -> np.ndarray:
    return np.asarray(m, dtype=np.float64) * weight_lsb(weight_exp)
