"""How a run trains: :class:`RunSettings` (the model itself is an SSNNConfig), the
learning-rate schedules, the sample order of each epoch, and the checks of settings
that need more than one field (the warm-up against the data, the chip configuration)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..config import SSNNConfig, coerce
from ..data.core import DataError
from ..data.own import FORMAT_HELP
from ..data.registry import DATASETS, dataset_name
from ..errors import RunError, setting_error
from ..fields import described
from .models import MODEL_KINDS, model_kind

BACKENDS = ("engine", "lava")
BATCH_UPDATES = ("per-sample", "mini-batch")
SCHEDULES = ("constant", "step", "exponential", "cosine")
MODELS = tuple(MODEL_KINDS)
TORCH_MODELS = tuple(name for name, kind in MODEL_KINDS.items() if kind.torch_baseline)


@dataclass
class RunSettings:
    """How to train (the model itself is an :class:`SSNNConfig`). Each field's metadata
    (``fields.described``) says what it is, its unit and its option in the CLI."""
    dataset: str = described(
        "default", f"data set: {', '.join(sorted(DATASETS))} ('default' is the 6,000/1,000-sample MNIST subset "
        f"shipped with the package), or your own: {FORMAT_HELP} (docs/own_data.md)", metavar="NAME|PATH",
        parse="dataset", group="data")
    data_dir: Optional[str] = described(
        None, "folder holding the data set (searched first; then $SSNNBP_DATA, ~/.cache/lava_ssnnbp, "
        "/usr/share/datasets)", metavar="DIR", parse="path", group="data")
    epochs: int = described(1, "passes over the training set", group="run")
    seed: int = described(0, "names every random stream", group="run")
    model: str = described(   # a name in runs.models.MODEL_KINDS
        "snn", "'snn' (SSNN-BP), 'ann' (equivalent ReLU/softmax network in numpy), or the offline-trained baselines "
        "in torch: 'tssl-bp' (Zhang & Li 2020) and 'slayer' (lava-dl SLAYER, CUBA blocks); these use --hidden, "
        "--steps, --batch-size, --epochs, --seed and the 'baselines' options and ignore the other model options",
        choices=MODELS, group="run")
    backend: str = described(
        "engine", "'engine': batched numpy scheduler; 'lava': learning inside Lava's CPU simulator (~2 ms per step, "
        "for small data)", choices=BACKENDS, group="run")
    batch_updates: str = described(
        "per-sample", "'per-sample': weights change after every sample (on-chip behaviour); 'mini-batch': simulate "
        "--batch-size samples with the same weights and apply the sum of their updates (faster)",
        choices=BATCH_UPDATES, group="run")
    batch_size: int = described(64, "samples simulated together (engine); 'mini-batch' sums their updates",
                                unit="samples", group="run")
    eta_schedule: str = described("constant", "learning-rate schedule over epochs", choices=SCHEDULES, group="run")
    eta_decay: float = described(0.5, "'step': factor every --eta-step epochs; 'exponential': factor per epoch",
                                 group="run")
    eta_step: int = described(5, "epochs per 'step' decay", unit="epochs", group="run")
    eta_warmup: int = described(   # see eta_factor
        0, "ramp eta up linearly over the first N training samples; keeps summed mini-batch updates from silencing "
        "hidden neurons at the start (engine only)", unit="samples", metavar="N", group="run")
    train_samples: Optional[int] = described(None, "train on a class-balanced subset of N samples", metavar="N",
                                             default_text="all", group="run")
    test_samples: Optional[int] = described(None, "evaluate on a class-balanced subset of N test samples",
                                            metavar="N", parse="positive_int", default_text="all", group="data")
    val_samples: Optional[int] = described(
        None, "hold N class-balanced training images out of training (the same ones for every run) and score them "
        "after each epoch as val_acc: choose hyperparameters on it, not on the test set", metavar="N",
        group="run")
    checkpoint_s: float = described(60.0, "time between mid-epoch checkpoints", unit="seconds",
                                    flag="--checkpoint-every", metavar="SECONDS", group="run")
    ann_lr: float = described(0.05, "ANN learning rate", group="run")
    ann_momentum: float = described(0.9, "ANN SGD momentum", flag=False)
    baseline_lr: Optional[float] = described(   # None: baselines.DEFAULT_LR
        None, "optimiser learning rate", metavar="LR", group="baselines",
        default_text="the method's: tssl-bp AdamW 5e-4, slayer Adam 1e-3")
    tau_m: float = described(5.0, "membrane time constant", unit="steps", metavar="STEPS", group="baselines")
    tau_s: float = described(3.0, "synaptic (PSP) time constant", unit="steps", metavar="STEPS", group="baselines")
    # slayer's surrogate gradient (lava-dl's tau_grad, scale_grad): lava-dl's tutorial values;
    # runs written before these fields existed used 1.0, 1.0 (from_dict reads them so)
    tau_grad: float = described(0.03, "slayer: width of the surrogate spike gradient, lava-dl's tau_grad",
                                group="baselines")
    scale_grad: float = described(3.0, "slayer: height of the surrogate spike gradient, lava-dl's scale_grad",
                                  group="baselines")
    device: str = described("auto", "torch device: auto (a GPU if there is one), cpu, cuda, cuda:N",
                            group="baselines")
    conv: Optional[str] = described(
        None, "tssl-bp: conv stack before the --hidden dense layers, in the authors' notation, e.g. 15C5-P2-40C5-P2 "
        "(N channels of KxK conv, PK sum pooling)", metavar="SPEC", default_text="none, dense only",
        group="baselines")

    def __post_init__(self):
        def bad(name, why):
            raise setting_error(name, why)
        for f in dataclasses.fields(self):   # declared types (numpy scalars converted), finite numbers
            setattr(self, f.name, coerce(f.name, f.type, getattr(self, f.name), setting_error))
        try:   # a built-in name, or a data set's path made absolute (a typo of a name is refused)
            self.dataset = dataset_name(self.dataset)
        except DataError as e:
            bad("dataset", str(e))
        if self.dataset not in DATASETS and self.data_dir is not None:
            bad("data_dir", f"{self.data_dir!r}: it is searched for the built-in data sets; a path data set "
                            "is read where it is")
        if self.seed < 0:
            bad("seed", f"{self.seed!r} (need an integer >= 0: it names numpy's random streams)")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            bad("epochs", f"{self.epochs!r} (need an integer >= 1)")
        if self.model not in MODEL_KINDS:
            bad("model", f"{self.model!r} (choose from {', '.join(MODELS)})")
        if self.backend not in BACKENDS:
            bad("backend", f"{self.backend!r} (choose from {', '.join(BACKENDS)})")
        if self.batch_updates not in BATCH_UPDATES:
            bad("batch_updates", f"{self.batch_updates!r} (choose from {', '.join(BATCH_UPDATES)})")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            bad("batch_size", f"{self.batch_size!r} (need an integer >= 1)")
        if self.eta_schedule not in SCHEDULES:
            bad("eta_schedule", f"{self.eta_schedule!r} (choose from {', '.join(SCHEDULES)})")
        if not 0 < self.eta_decay <= 1:
            bad("eta_decay", f"{self.eta_decay!r} (need 0 < decay <= 1)")
        if self.eta_step < 1:
            bad("eta_step", f"{self.eta_step!r} (need >= 1)")
        if not isinstance(self.eta_warmup, int) or self.eta_warmup < 0:
            bad("eta_warmup", f"{self.eta_warmup!r} (need an integer number of samples >= 0)")
        if self.backend == "lava" and self.eta_warmup:
            bad("eta_warmup", "the Lava network's learning rate is fixed when it is built (use the engine backend)")
        for name in ("train_samples", "test_samples", "val_samples"):
            v = getattr(self, name)
            if v is not None and v < 1:
                bad(name, f"{v!r} (need >= 1)")
        if self.checkpoint_s <= 0:
            bad("checkpoint_s", f"{self.checkpoint_s!r} (need > 0 seconds)")
        if self.ann_lr <= 0:
            bad("ann_lr", f"{self.ann_lr!r} (need > 0)")
        if not 0 <= self.ann_momentum < 1:
            bad("ann_momentum", f"{self.ann_momentum!r} (need 0 <= momentum < 1)")
        if self.backend == "lava" and self.batch_updates != "per-sample":
            bad("batch_updates", "the Lava backend learns per sample, as on chip (use --batch-updates per-sample)")
        if self.baseline_lr is not None and not self.baseline_lr > 0:
            bad("baseline_lr", f"{self.baseline_lr!r} (need > 0)")
        for name in ("tau_grad", "scale_grad"):
            if not getattr(self, name) > 0:
                bad(name, f"{getattr(self, name)!r} (need > 0)")
        for name in ("tau_m", "tau_s"):
            if not getattr(self, name) >= 1:
                bad(name, f"{getattr(self, name)!r} (need a time constant >= 1 step: the decay per step is 1/tau)")
        if self.conv is not None and not self.conv.strip():
            bad("conv", f"{self.conv!r} is empty (give a stack such as 15C5-P2-40C5-P2, or none for dense layers "
                        "only)")
        if not (self.device in ("auto", "cpu", "cuda") or
                (self.device.startswith("cuda:") and self.device[5:].isdigit())):
            bad("device", f"{self.device!r} (choose auto, cpu, cuda or cuda:N)")
        model_kind(self.model).check_settings(self, bad)   # what this model can and cannot train with

    @property
    def own_data(self) -> bool:
        """Whether the run trains on a data set named by its path (not a built-in one)."""
        return self.dataset not in DATASETS

    @property
    def dataset_label(self) -> str:
        """The data set in a word, for folder names and titles: the built-in name, or the
        file's name without .npz (the folder's name)."""
        return Path(self.dataset).stem if self.own_data else self.dataset

    @classmethod
    def from_dict(cls, d: dict) -> "RunSettings":
        """Settings as config.json records them; ones added since count as their defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in with_legacy_values(d).items() if k in names})


def with_legacy_values(d: dict) -> dict:
    """Saved run settings plus the values that fields added since had in those runs where they
    were not the defaults (the model's ``legacy_values``: slayer's surrogate was 1.0, 1.0 until
    2026-12-03)."""
    model = d.get("model")
    kind = MODEL_KINDS.get(model) if isinstance(model, str) else None   # a damaged record is RunSettings' to report
    return {**kind.legacy_values, **d} if kind is not None else d


def eta_at(eta: float, s: RunSettings, epoch: int) -> float:
    """Learning rate of epoch ``epoch`` (0-based) under the schedule."""
    if s.eta_schedule == "step":
        return eta * s.eta_decay ** (epoch // s.eta_step)
    if s.eta_schedule == "exponential":
        return eta * s.eta_decay ** epoch
    if s.eta_schedule == "cosine":
        return eta * 0.5 * (1 + math.cos(math.pi * epoch / s.epochs))
    return eta


def eta_factor(s: RunSettings, samples_done: int) -> float:
    """Warm-up factor on eta for a batch that ends after ``samples_done`` training
    samples in all: linear from 0 to 1 over the first ``s.eta_warmup`` samples.

    Why: summed mini-batch updates apply B samples' updates at once. At eta 0.3
    and B = 32 on Fashion-MNIST the first few dozen of these steps silence a
    quarter of the hidden neurons for good (a silent neuron's gradient gate never
    opens again); per-sample updates, or a warm-up over the first samples, keep
    them alive (docs/findings.md, "Silent hidden neurons")."""
    return 1.0 if s.eta_warmup <= 0 else min(1.0, samples_done / s.eta_warmup)


def check_eta_warmup(s: RunSettings, train_samples: int):
    """A warm-up longer than the whole run would never reach the set eta."""
    if s.eta_warmup > s.epochs * train_samples:
        raise RunError(f"eta_warmup {s.eta_warmup} is more than the run's {s.epochs} epochs x {train_samples} "
                       "samples: eta would never reach its set value")


def check_chip_settings(cfg: SSNNConfig, s: RunSettings):
    """A RunError unless ``s`` trains the chip configuration (target = "loihi2") as a
    port would: SSNN-BP per sample, no warm-up, and an eta per epoch that is one of the
    learning engine's levels (``learning_engine.eta_level``: a register the host
    writes in each neuron layer between epochs)."""
    from ..learning_engine import eta_level
    if not model_kind(s.model).ssnn_bp:
        raise setting_error("model", f"the chip configuration (target loihi2) trains SSNN-BP, not {s.model!r}")
    if s.batch_updates != "per-sample":
        raise setting_error("batch_updates", "the chip configuration (target loihi2) learns per sample")
    if s.eta_warmup:
        raise setting_error("eta_warmup", "the chip configuration (target loihi2) changes eta between epochs "
                                          "only, by the levels of its learning rule")
    for epoch in range(s.epochs):
        try:
            eta_level(cfg, eta_at(cfg.eta, s, epoch))
        except ValueError as e:
            raise setting_error("eta_schedule", f"epoch {epoch + 1}: {e}") from None


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """Sample order of one epoch, a function of (seed, epoch) only."""
    return np.random.default_rng(np.random.SeedSequence([seed, 104729, epoch])).permutation(n)
