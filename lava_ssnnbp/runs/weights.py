"""Weight arrays of a run: weights.npz (``w0, w1, ...``, shape (N_out, N_in) each) and
the checks every loader and the training loop apply to them."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from ..config import SSNNConfig
from ..errors import RunError
from .files import load_npz, save_npz


def save_weights(path, weights: List[np.ndarray], **extra):
    save_npz(Path(path), {**{f"w{k}": w for k, w in enumerate(weights)}, **extra})


def load_weights(path, cfg: Optional[SSNNConfig] = None) -> List[np.ndarray]:
    """Weights ``w0, w1, ...`` (shape (N_out, N_in) each) from an npz file. With
    ``cfg``, exactly the weights of that network (no other arrays, shapes, finite
    numbers, integer mantissas in fixed point), or a RunError naming the file."""
    z = load_npz(path)
    ws, k = [], 0
    while f"w{k}" in z:
        ws.append(z[f"w{k}"])
        k += 1
    if not ws:
        raise RunError(f"{path}: holds no weight arrays w0, w1, ...")
    if cfg is None:
        return ws
    extra = sorted(set(z) - {f"w{k}" for k in range(len(ws))})
    if extra:
        raise RunError(f"{path}: unexpected arrays {', '.join(extra)} (a weights file holds w0..w{len(ws) - 1} only)")
    return check_weights(cfg, ws, str(path))


def check_weights(cfg: SSNNConfig, weights, what: str) -> list:
    """The weights of the network ``cfg`` (count, real numbers, shapes, finite, integer
    mantissas in fixed point: ``dynamics.check_weights``), or a RunError naming ``what``."""
    from .. import dynamics as dyn
    if len(weights) != cfg.n_layers:
        raise RunError(f"{what}: holds {len(weights)} weight array{'s' if len(weights) != 1 else ''}, the network "
                       f"{'-'.join(map(str, cfg.sizes))} has {cfg.n_layers} synapse layers")
    for k, w in enumerate(weights):
        if np.asarray(w).dtype.kind not in "iuf":
            raise RunError(f"{what}: weights of layer {k} must be real numbers, got dtype {np.asarray(w).dtype}")
    try:
        return dyn.check_weights(cfg, weights)
    except ValueError as e:
        raise RunError(f"{what}: {e}") from None


def check_diverged(arrays, epoch: int, eta: float):
    """A RunError when learning made weights (or the loss) NaN or inf: the run diverged."""
    if not all(np.isfinite(a).all() for a in arrays):
        raise RunError(f"training diverged in epoch {epoch + 1}: the weights are no longer finite numbers "
                       f"(learning rate {eta:g} too large?); nothing of this epoch was saved")
