"""SSNN-BP at test time: output spike counts over a data set, accuracy, spike activity."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from ..config import SSNNConfig


class SpikeActivity:
    """Forward spike statistics per layer over a test set (accumulated batch by batch):
    what a neuromorphic chip's energy and sparsity follow."""

    def __init__(self, cfg: SSNNConfig):
        self.cfg, self.samples = cfg, 0
        self.per_neuron = [np.zeros(n, dtype=np.int64) for n in cfg.sizes]   # spike totals
        self.active_pairs = [0] * len(cfg.sizes)                              # (sample, neuron) with >= 1 spike

    def add(self, x_counts: Sequence[np.ndarray]):
        self.samples += len(x_counts[0])
        for l, c in enumerate(x_counts):
            self.per_neuron[l] += c.sum(axis=0)
            self.active_pairs[l] += int(np.count_nonzero(c))

    def summary(self) -> List[dict]:
        """Per layer (0 = input): spikes per sample, mean rate per neuron and step,
        fraction of neurons active in a sample, neurons that never spiked, and the
        synaptic events per sample its spikes cause downstream (spikes x fan-out)."""
        n, T, sizes = max(self.samples, 1), self.cfg.steps, self.cfg.sizes
        out = []
        for l, tot in enumerate(self.per_neuron):
            spikes = float(tot.sum()) / n
            out.append({"layer": l, "neurons": sizes[l], "spikes_per_sample": spikes,
                        "rate_per_step": spikes / (sizes[l] * T),
                        "active_fraction": self.active_pairs[l] / (n * sizes[l]),
                        "never_active": int(np.count_nonzero(tot == 0)),
                        "synaptic_events_per_sample": spikes * (sizes[l + 1] if l + 1 < len(sizes) else 0)})
        return out


def evaluate_counts(cfg: SSNNConfig, weights, x, seed: int, backend: str = "engine",
                    batch_size: int = 256, progress: bool = True, desc: str = "test",
                    activity: Optional[SpikeActivity] = None) -> np.ndarray:
    """Output spike counts (N, C) at test time; sample i uses test stream i.
    ``activity`` (engine only) accumulates every layer's forward spikes. The engine
    simulates at most ``batch_size`` samples at once, fewer where memory is short
    (the counts are the same: each sample has its own streams)."""
    from tqdm.auto import tqdm

    from ..validation import check_integer, check_memory, fitting_batch
    batch_size = check_integer("batch_size", batch_size, 1)
    n = len(x)
    ids = np.arange(n)
    if backend == "lava":
        from ..learning_network import LearningEngineNetwork
        from ..network import SSNNBPNetwork
        # the chip configuration's network runs on Lava's learning engine, with relay neurons
        network = LearningEngineNetwork if cfg.loihi2 else SSNNBPNetwork
        with network(cfg, weights, seed, event_frames=x.ndim == 3, chunk=min(batch_size, 64)) as net:
            return np.concatenate([net.predict_counts(x[a:a + 64], ids[a:a + 64])
                                   for a in tqdm(range(0, n, 64), desc=desc, unit="batch",
                                                 disable=tqdm_disable(progress))])
    from ..engine import Engine
    eng = Engine(cfg, weights, seed)
    fits = fitting_batch(cfg, min(batch_size, max(n, 1)), train=False)
    if fits < 1:
        check_memory(cfg, 1, train=False)   # raises, saying what fits
    batch_size = max(fits, 1)
    out = []
    for a in tqdm(range(0, n, batch_size), desc=desc, unit="batch", disable=tqdm_disable(progress)):
        res = eng.predict(x[a:a + batch_size], ids[a:a + batch_size])
        if activity is not None:
            activity.add(res.x_counts)
        out.append(res.out_counts)
    return np.concatenate(out) if out else np.zeros((0, cfg.sizes[-1]), dtype=np.int64)


def tqdm_disable(progress: bool):
    """tqdm's ``disable``: None draws the bar only where stderr is a terminal; in a
    log file or pipe its carriage-return updates would be hundreds of lines."""
    return None if progress else True


def accuracy_from_counts(counts: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose most active output neuron is the label
    (ties go to the lowest index, as np.argmax). Any class scores (N, C) will do."""
    return float(np.mean(np.argmax(counts, axis=1) == y)) if len(y) else float("nan")
