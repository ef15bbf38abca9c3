"""How an update's counts become a weight change: the mode's denominator, the
fixed-point shift that stands for eta, and the learning rate that shift really
applies. Below both ``config`` (which checks the shift fits its registers) and
``dynamics`` (which applies it; it re-exports these names)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import fixed_point as fxp

if TYPE_CHECKING:
    from .config import SSNNConfig


def update_denominator(mode: str, steps: int) -> int:
    """dW = eta * numerator / denominator. The 2 is Eq. 8's d = (d+ - d-) / 2;
    counts are normalised by T (coincidences) or T^2 (product of two counts).
    ``steps`` is the learning window (``SSNNConfig.learning_steps``): T, or the
    replay window T_s in 'replay' mode."""
    if mode in ("coincidence", "stochastic", "replay"):
        return 2 * steps
    if mode in ("rate", "noise", "causal"):
        return 2 * steps * steps
    raise ValueError(f"unknown update mode {mode!r}")


def learning_shift(eta: float, steps: int, mode: str, weight_exp: int) -> int:
    """Power-of-two scaling of integer counts into weight mantissas:
    dm = counts / 2**k with 2**k ~= denominator * lsb / eta."""
    return int(round(np.log2(update_denominator(mode, steps) * fxp.weight_lsb(weight_exp) / eta)))


def effective_eta(cfg: "SSNNConfig", k: int) -> float:
    """Learning rate that the fixed-point shift of synapse layer k really applies."""
    shift_k = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k))
    return update_denominator(cfg.mode, cfg.learning_steps) * fxp.weight_lsb(cfg.exp_of(k)) / 2.0 ** shift_k
