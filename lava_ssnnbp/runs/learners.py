"""Learners: what the run's one epoch loop (:mod:`.loop`) drives, one per model.

The loop owns the epochs, the sample order, the learning-rate schedule, checkpoints,
metrics and files; a learner owns the model and its training state. SSNN-BP (the
batched engine or the Lava processes) and its ANN twin are here; the torch baselines'
learner is :class:`lava_ssnnbp.baselines.runner.TorchLearner`. Which learner a run gets
is the model registry's answer (:mod:`.models`).
"""
from __future__ import annotations

import json
from typing import List, Optional, Protocol, Tuple

import numpy as np

from ..config import SSNNConfig
from ..errors import RunError
from .evaluation import evaluate_counts
from .weights import check_weights


class Learner(Protocol):
    """One model's training state, driven by :meth:`lava_ssnnbp.runs.loop.Run.train`:
    ``restore``, then per epoch ``start_epoch``, ``train`` per batch (``set_eta`` before
    it under a warm-up), ``end_epoch``, ``evaluate``; ``close`` at the end, also after
    an error."""
    eta: float                          # the run's learning rate, before the schedule
    samples_per_call: Optional[int]     # samples per train() call; None: the whole epoch in one call
    metric_columns: Tuple[str, ...]     # the metrics.json/csv columns of this model's runs, in order

    def restore(self, checkpoint: Optional[dict]) -> None:
        """Take the state of a checked checkpoint, or start afresh (None)."""

    def start_epoch(self, epoch: int, eta: float) -> None:
        """Train the next samples with the epoch's learning rate ``eta``."""

    def set_eta(self, eta: float) -> None:
        """Learning rate for the next samples within an epoch (the warm-up)."""

    def train(self, x: np.ndarray, y: np.ndarray) -> Optional[np.ndarray]:
        """Learn from (x, y); returns the class each sample was given as it was trained
        (train_acc counts them), or None where it cannot say (train_acc is then measured
        on the whole training set after the epoch)."""

    def end_epoch(self, samples: int) -> Optional[float]:
        """The epoch of ``samples`` samples is over (release what trained it); returns its
        mean training loss, or None for a model without a loss."""

    def evaluate(self, x: np.ndarray, desc: str, progress: bool) -> np.ndarray:
        """Class scores (N, C) at test time; the highest is the prediction."""

    def epoch_metrics(self, test_scores: np.ndarray) -> dict:
        """This model's own metrics of an epoch (spike silence, memory, ...)."""

    def checkpoint_arrays(self, mid_epoch: bool) -> dict:
        """Checkpoint entries beyond the weights and counters (optimiser state, ...)."""

    @property
    def weights(self) -> List[np.ndarray]:
        """The weights now, ``w0, w1, ...`` as weights.npz holds them."""

    @property
    def samples_seen(self) -> int:
        """Training samples learned from since the run began (names the random streams)."""

    def close(self) -> None:
        """Release what the learner holds (Lava's processes); safe to call twice."""


# ------------------------------------------------------------------ SSNN-BP
SSNNBP_METRICS = ("epoch", "eta", "train_acc", "test_acc", "train_samples", "test_samples", "train_wall_s",
                  "test_wall_s", "samples_per_s", "silent_test_frac", "val_acc", "val_samples")


class SSNNBPLearner:
    """SSNN-BP on the run's backend: a batched Engine, or the Lava processes
    (SSNNBPNetwork; LearningEngineNetwork for the chip configuration), built anew for
    each epoch at its eta."""
    metric_columns = SSNNBP_METRICS

    def __init__(self, cfg: SSNNConfig, settings, sample_shape: tuple):
        self.cfg, self.settings = cfg, settings
        self.event_frames = len(sample_shape) == 2   # (T, D) frames per sample, or images (D,)
        self.eta = cfg.eta
        # per-sample updates: B samples simulated one after another (B = 1 on chip)
        self.samples_per_call = settings.batch_size
        self._weights, self._seen, self._epoch = None, 0, None

    def restore(self, checkpoint):
        from .. import dynamics as dyn
        if checkpoint is not None:
            weights = [checkpoint[f"w{k}"] for k in range(self.cfg.n_layers)]
            seen = int(checkpoint["samples_seen"])
        else:
            weights, seen = dyn.init_weights(self.cfg, self.settings.seed), 0
        check_weights(self.cfg, weights, "checkpoint")
        self._weights, self._seen = weights, seen

    def start_epoch(self, epoch, eta):
        s, ecfg = self.settings, self.cfg.replace(eta=eta)
        if s.backend == "lava":
            self._epoch = _LavaEpoch(ecfg, self.cfg, self._weights, s.seed, self._seen, self.event_frames,
                                     s.batch_updates)
        else:
            self._epoch = _EngineEpoch(ecfg, self._weights, s.seed, self._seen, s.batch_updates)

    def set_eta(self, eta):
        self._epoch.set_eta(eta)

    def train(self, x, y):
        return np.argmax(self._epoch.train(x, y), axis=1)

    def end_epoch(self, samples):
        self._weights, self._seen = self._epoch.weights, self._epoch.samples_seen
        self.close()
        return None

    def evaluate(self, x, desc, progress):
        s = self.settings
        return evaluate_counts(self.cfg, self._weights, x, s.seed, s.backend, s.batch_size * 4, progress, desc)

    def epoch_metrics(self, test_scores):
        return {"silent_test_frac": float(np.mean(test_scores.sum(axis=1) == 0))}

    def checkpoint_arrays(self, mid_epoch):
        return {}

    @property
    def weights(self):
        return self._epoch.weights if self._epoch is not None else self._weights

    @property
    def samples_seen(self):
        return self._epoch.samples_seen if self._epoch is not None else self._seen

    def close(self):
        if self._epoch is not None:
            self._epoch, epoch = None, self._epoch
            epoch.close()


class _EngineEpoch:
    """The batched engine for one epoch."""

    def __init__(self, cfg, weights, seed, samples_seen, batch_updates):
        from ..engine import Engine
        self.eng, self.batch_updates = Engine(cfg, weights, seed), batch_updates
        self.eng.samples_seen = samples_seen

    def train(self, x, y):
        return self.eng.train_batch(x, y, self.batch_updates).out_counts

    def set_eta(self, eta):
        if self.eng.cfg.eta != eta:
            self.eng.cfg = self.eng.cfg.replace(eta=eta)

    @property
    def weights(self):
        return [w.copy() for w in self.eng.weights]

    @property
    def samples_seen(self):
        return self.eng.samples_seen

    def close(self):
        pass


class _LavaEpoch:
    """The Lava processes for one epoch, learning per sample as on chip."""

    def __init__(self, cfg, base_cfg, weights, seed, samples_seen, event_frames, batch_updates):
        if batch_updates != "per-sample":
            raise RunError("the Lava backend learns per sample, as on chip (use --batch-updates per-sample)")
        if cfg.loihi2:
            # the chip configuration: its rule is built for the run's eta (base_cfg), the epoch's
            # eta is a level the neurons apply; the network continues the run's rounding draws
            from ..learning_engine import eta_level
            from ..learning_network import LearningEngineNetwork
            self.net = LearningEngineNetwork(base_cfg, weights, seed, event_frames=event_frames, chunk=16,
                                             first_sample=samples_seen, eta_level=eta_level(base_cfg, cfg.eta))
        else:
            from ..network import SSNNBPNetwork
            self.net = SSNNBPNetwork(cfg, weights, seed, event_frames=event_frames, chunk=16,
                                     first_sample=samples_seen)

    def train(self, x, y):
        return self.net.train(x, y)

    def set_eta(self, eta):
        raise RunError("the Lava network's learning rate is fixed when it is built (use the engine backend)")

    @property
    def weights(self):
        return self.net.weights

    @property
    def samples_seen(self):
        return self.net.samples_seen

    def close(self):
        self.net.close()


# ------------------------------------------------------------------ the ANN twin
ANN_METRICS = ("epoch", "eta", "train_loss", "train_acc", "test_acc", "train_samples", "test_samples",
               "train_wall_s", "samples_per_s", "val_acc", "val_samples")
ANN_PREFIX = "ann_"   # its checkpoint entries: ANN.state_dict's keys with this prefix


class ANNLearner:
    """The ANN twin (:class:`lava_ssnnbp.ann.ANN`): SGD over the whole epoch in one call,
    with its own shuffle and dropout drawn from (seed, epoch); checkpoints at epoch ends
    only (its checkpoint holds no mid-epoch state)."""
    samples_per_call = None
    metric_columns = ANN_METRICS

    def __init__(self, cfg: SSNNConfig, settings, sample_shape: tuple):
        from ..ann import ANN
        self.settings = settings
        self.ann = ANN(list(cfg.sizes), seed=settings.seed, dropout=tuple(cfg.dropout) or (0.0,) * cfg.n_layers,
                       lr=settings.ann_lr, momentum=settings.ann_momentum, batch_size=settings.batch_size)
        self.eta = settings.ann_lr
        self._rng, self._loss = None, None

    def restore(self, checkpoint):
        if checkpoint is not None:
            self.ann.load_state_dict({k[len(ANN_PREFIX):]: v for k, v in checkpoint.items()
                                      if k.startswith(ANN_PREFIX)})

    def start_epoch(self, epoch, eta):
        self.ann.lr = eta
        self._rng = np.random.default_rng([self.settings.seed, 15485863, epoch])

    def set_eta(self, eta):
        self.ann.lr = eta

    def train(self, x, y):
        self._loss = self.ann.train_epoch(x, y, rng=self._rng)
        return None

    def end_epoch(self, samples):
        return float(self._loss)

    def evaluate(self, x, desc, progress):
        return self.ann.logits(x)

    def epoch_metrics(self, test_scores):
        return {}

    def checkpoint_arrays(self, mid_epoch):
        return {ANN_PREFIX + k: v for k, v in self.ann.state_dict().items()}

    @property
    def weights(self):
        return self.ann.weights

    @property
    def samples_seen(self):
        return 0

    def close(self):
        pass


def check_ann_entries(z: dict, cfg: SSNNConfig, bad) -> set:
    """The ANN twin's optimizer state in a checkpoint: the keys ``ANN.state_dict``
    writes, with its shapes and finite values. Returns those keys."""
    from ..ann import ANN
    ref = {ANN_PREFIX + k: v for k, v in ANN(list(cfg.sizes), dropout=()).state_dict().items()}
    for key, v in ref.items():
        if key not in z:
            bad(f"no '{key}' entry (the ANN's training state)")
        a = z[key]
        if key == "ann_rng_state":
            try:
                json.loads(str(a))
            except ValueError:
                bad(f"'{key}' is not the generator state ANN.state_dict writes")
        elif key == "ann_sizes":
            if tuple(np.ravel(a).tolist()) != tuple(cfg.sizes):
                bad(f"'{key}' is {np.ravel(a).tolist()}, the network is {list(cfg.sizes)}")
        elif key != "ann_dropout" and (a.shape != v.shape or a.dtype.kind not in "iuf" or not np.isfinite(a).all()):
            bad(f"'{key}' must be finite numbers of shape {v.shape}, got {a.dtype} {a.shape}")
    return set(ref)
