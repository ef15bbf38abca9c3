"""The in-memory data set type and the data-layer error."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Tuple

import numpy as np

from ..validation import SEED, check_integer


class DataError(Exception):
    """A data set is missing, malformed, fails its checksum, or cannot be fetched (one-line message)."""


def stratified_indices(y: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Indices (sorted) of a deterministic random subset of `n` samples, drawn round-robin over classes.

    Each class contributes floor/ceil(n / classes) samples while it has any left; ties at the last
    round are broken at random.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    rank = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rank[rng.permutation(idx)] = np.arange(len(idx))
    order = np.lexsort((rng.random(len(y)), rank))  # by rank within class, random tie-break
    return np.sort(order[:n])


@dataclass
class Dataset:
    """A labelled data set held in memory.

    x: image sets: float32 (N, 784), intensities in [0, 1];
       event sets: uint8 (N, T, 2312) spike frames (0/1; 2 polarities x 34 x 34, flattened, one
       frame per simulation step).
    y: int64 (N,) class labels in [0, num_classes).
    source: a data set read from a path (:mod:`.own`): its path, format, SHA-256 and where its
       test split came from, which a run records; None for the built-in data sets.
    """

    name: str
    split: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    input_shape: tuple
    kind: str
    source: Optional[dict] = None

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_size(self) -> int:
        """Number of inputs per step: the product of input_shape."""
        return int(np.prod(self.input_shape))

    def split_off(self, n: int, seed: int = 0) -> Tuple["Dataset", "Dataset"]:
        """(rest, held): a class-balanced random n samples held out (e.g. for validation)
        and the others, both in the original order; the same seed holds out the same samples."""
        n, seed = check_integer("n", n, 0, " (samples to hold out)"), check_integer("seed", seed, 0, SEED)
        if not 0 < n < len(self):
            raise ValueError(f"cannot hold out {n} of {len(self)} samples (need 0 < n < {len(self)})")
        held = stratified_indices(self.y, n, seed)
        keep = np.ones(len(self), dtype=bool)
        keep[held] = False
        return (replace(self, x=self.x[keep], y=self.y[keep]),
                replace(self, split=f"{self.split}-heldout", x=self.x[held], y=self.y[held]))

    def subset(self, n: int, seed: int = 0) -> "Dataset":
        """Random, roughly class-balanced subset of n samples (same seed -> same subset, original order).

        n >= len(self) returns self. n and seed: integers >= 0 (a ValueError names a bad one).
        """
        n, seed = check_integer("n", n, 0, " (the subset's size)"), check_integer("seed", seed, 0, SEED)
        if n >= len(self):
            return self
        idx = stratified_indices(self.y, n, seed)
        return replace(self, x=self.x[idx], y=self.y[idx])
