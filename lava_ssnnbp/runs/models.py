"""The models a run trains (``RunSettings.model``, ``ssnnbp train --model``), in one registry.

Each name maps to a :class:`ModelKind`: its learner (what the run's one loop,
:mod:`.loop`, drives; :mod:`.learners`), the entries of its checkpoint and weights,
its settings, the words that name it, and how a trained run of it is scored. Nothing
else in the package tests a model's name: it asks this registry.

Learners and the torch baselines are imported only when a run needs them: this module
imports neither torch nor Lava, and never :mod:`lava_ssnnbp.baselines` at import time
(the baselines import :mod:`lava_ssnnbp.runs`).
"""
from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Dict, Mapping

import numpy as np

from ..config import SSNNConfig
from ..errors import RunError, setting_error
from .weights import check_weights, load_weights

if TYPE_CHECKING:   # annotations only: settings imports this module
    from .learners import Learner
    from .settings import RunSettings

Bad = Callable[[str, str], None]   # bad(field or entry, why): raises


class ModelKind:
    """What a run of one model is; the defaults are SSNN-BP's and its ANN twin's
    (the network of ``cfg``, weights ``w0, w1, ...`` of shape (N_out, N_in))."""
    name: str
    ssnn_bp = False          # SSNN-BP itself: any T at test time, spike activity, energy, the chip configuration
    torch_baseline = False   # trained in torch (device, threads), off chip: no composite neurons
    records_dropout = True   # the run's config records --dropout (the torch baselines have none, as published)
    conv_layers = False      # takes --conv
    # what 'ssnnbp evaluate --backend' may run a trained network in, and why not in the others
    evaluation_backends = ("engine", "lava")
    no_backend_because = ""
    legacy_values: Mapping = MappingProxyType({})   # values of settings added since, in runs saved before

    def learner(self, cfg: SSNNConfig, settings: "RunSettings", sample_shape: tuple) -> "Learner":
        """The learner that trains a run (``sample_shape``: one training sample's array shape)."""
        raise NotImplementedError

    def label(self, cfg: SSNNConfig, settings: "RunSettings") -> str:
        """The network in words (the CLI's first line, the learning curve's title)."""
        raise NotImplementedError

    def folder_tag(self, cfg: SSNNConfig, settings: "RunSettings") -> str:
        """The default run folder's name between '<dataset>-' and '-seed<seed>'."""
        raise NotImplementedError

    def check_settings(self, s: "RunSettings", bad: Bad):
        """What RunSettings checks for this model beyond every model's checks."""
        if s.conv is not None and not self.conv_layers:
            bad("conv", f"conv layers are built for --model {', '.join(conv_models())} only")

    def check_run(self, cfg: SSNNConfig, settings: "RunSettings"):
        """What a run checks before it touches its folder (memory, device)."""

    def config_record(self, cfg: SSNNConfig, settings: "RunSettings") -> dict:
        """What config.json records beyond the model, the run settings and versions."""
        return {}

    # -------------------------------------------------------------- weights and checkpoints
    def weights_cfg(self, cfg: SSNNConfig) -> SSNNConfig:
        """The network the weights are checked against."""
        return cfg

    def n_weight_arrays(self, cfg: SSNNConfig, settings: "RunSettings") -> int:
        return cfg.n_layers

    def check_weights(self, cfg: SSNNConfig, settings: "RunSettings", weights, what: str) -> list:
        """The run's weight arrays checked, or a RunError naming ``what``."""
        return check_weights(self.weights_cfg(cfg), weights, what)

    def load_weights(self, path, cfg: SSNNConfig, settings: "RunSettings") -> list:
        """A run's weights.npz, exactly this network's arrays, or a RunError naming the file."""
        return load_weights(path, self.weights_cfg(cfg))

    def checkpoint_entries(self, z: dict, cfg: SSNNConfig, settings: "RunSettings", bad: Bad) -> set:
        """The checkpoint entries of this model's learner (beyond weights and counters),
        checked; returns their keys."""
        return set()

    # -------------------------------------------------------------- a trained run
    def check_backend(self, backend: str):
        """A RunError (``invalid backend``) unless a trained run of this model can be evaluated
        in ``backend``: the one check of a model/backend combination at test time."""
        if backend not in self.evaluation_backends:
            raise setting_error("backend", f"{backend!r}: {self.name} runs are evaluated with --backend "
                                           f"{' or '.join(self.evaluation_backends)} only{self.no_backend_because}")

    def accuracy(self, cfg: SSNNConfig, settings: "RunSettings", weights, ds, backend: str, progress: bool,
                 activity=None) -> float:
        """Accuracy of trained ``weights`` on the data set ``ds`` ('ssnnbp evaluate'), simulated in
        ``backend`` (one of ``evaluation_backends``: :meth:`check_backend`)."""
        raise NotImplementedError

    def evaluation_note(self, cfg: SSNNConfig, backend: str) -> str:
        """How :meth:`accuracy` simulated, for the line 'ssnnbp evaluate' prints."""
        return f", T = {cfg.steps}"


class SSNNBPKind(ModelKind):
    name = "snn"
    ssnn_bp = True

    def learner(self, cfg, settings, sample_shape):
        from .learners import SSNNBPLearner
        return SSNNBPLearner(cfg, settings, sample_shape)

    def label(self, cfg, settings):
        prec = "fixed" if cfg.fixed_point else "float"
        chip = f", chip configuration {cfg.target}" if cfg.target else ""
        return f"SSNN-BP {'-'.join(map(str, cfg.sizes))} {cfg.mode} T={cfg.steps} {prec}{chip}"

    def folder_tag(self, cfg, settings):
        return f"{cfg.mode}-T{cfg.steps}{'-fixed' if cfg.fixed_point else ''}{'-' + cfg.target if cfg.target else ''}"

    def check_run(self, cfg, settings):
        from ..validation import check_memory
        if settings.backend == "engine":
            check_memory(cfg, 1 if settings.batch_updates == "per-sample" else settings.batch_size, train=True,
                         weights=True)

    def config_record(self, cfg, settings):
        if not cfg.fixed_point:
            return {}
        # fixed point shifts integer counts by a power of two: the eta it applies per layer
        from .. import dynamics as dyn
        return {"fixed_point_effective_eta": [dyn.effective_eta(cfg, k) for k in range(cfg.n_layers)]}

    def accuracy(self, cfg, settings, weights, ds, backend, progress, activity=None):
        from .evaluation import accuracy_from_counts, evaluate_counts
        counts = evaluate_counts(cfg, weights, ds.x, settings.seed, backend, progress=progress, activity=activity)
        return accuracy_from_counts(counts, ds.y)


class ANNKind(ModelKind):
    """The equivalent ReLU/softmax network (:mod:`lava_ssnnbp.ann`), float weights."""
    name = "ann"
    evaluation_backends = ("engine",)
    no_backend_because = " (the ANN twin is a numpy network: it has no spiking network to run in Lava)"

    def learner(self, cfg, settings, sample_shape):
        from .learners import ANNLearner
        return ANNLearner(cfg, settings, sample_shape)

    def label(self, cfg, settings):
        return "ANN " + "-".join(map(str, cfg.sizes))

    def folder_tag(self, cfg, settings):
        return "ann"

    def check_settings(self, s, bad):
        if s.eta_warmup:
            bad("eta_warmup", "the ANN twin has no warm-up (its learning rate changes per epoch only)")
        if s.backend != "engine":
            bad("backend", "the ANN baseline runs in numpy only (use --backend engine)")
        super().check_settings(s, bad)

    def check_run(self, cfg, settings):
        from ..ann import BYTES_PER_INPUT, BYTES_PER_UNIT, BYTES_PER_WEIGHT
        from ..validation import check_model_memory
        n_weights = sum(a * b for a, b in zip(cfg.sizes[:-1], cfg.sizes[1:]))
        check_model_memory("-".join(map(str, cfg.sizes)) + " (ann)", n_weights, BYTES_PER_WEIGHT * n_weights,
                           BYTES_PER_INPUT * cfg.sizes[0] + BYTES_PER_UNIT * sum(cfg.sizes[1:]),
                           min(settings.batch_size, settings.train_samples or settings.batch_size), None)

    def weights_cfg(self, cfg):
        return cfg.replace(fixed_point=False)

    def checkpoint_entries(self, z, cfg, settings, bad):
        from .learners import check_ann_entries
        return check_ann_entries(z, cfg, bad)

    def accuracy(self, cfg, settings, weights, ds, backend, progress, activity=None):
        from ..ann import ANN
        ann = ANN(list(cfg.sizes), seed=0, dropout=(0.0,) * cfg.n_layers)
        ann.load_state_dict({**ann.state_dict(), **{f"w{k}": w for k, w in enumerate(weights)}})
        return ann.accuracy(ds.x, ds.y)

    def evaluation_note(self, cfg, backend):
        return ""


class TorchBaselineKind(ModelKind):
    """An offline-trained baseline in torch (:mod:`lava_ssnnbp.baselines`): conv kernels,
    then dense layers; the optimiser's state in the checkpoint."""
    torch_baseline = True
    records_dropout = False

    def __init__(self, name: str, conv_layers: bool = False, legacy_values: Mapping = MappingProxyType({})):
        self.name, self.conv_layers, self.legacy_values = name, conv_layers, MappingProxyType(dict(legacy_values))

    def learner(self, cfg, settings, sample_shape):
        from ..baselines.runner import TorchLearner
        return TorchLearner(cfg, settings, sample_shape)

    def label(self, cfg, settings):
        sizes = cfg.sizes
        net = "-".join(map(str, [sizes[0], *([settings.conv] if settings.conv else []), *sizes[1:]]))
        return f"{self.name.upper()} {net} T={cfg.steps}"

    def folder_tag(self, cfg, settings):
        return f"{self.name}{'-' + settings.conv if settings.conv else ''}-T{cfg.steps}"

    def check_settings(self, s, bad):
        if s.backend != "engine":
            bad("backend", f"{s.model} trains in torch; it runs in Lava after export "
                           "('ssnnbp evaluate RUN --backend lava'), use --backend engine")
        if s.eta_warmup:
            bad("eta_warmup", f"{s.model} has no warm-up (its learning rate changes per epoch only)")
        super().check_settings(s, bad)
        if s.conv is not None:
            from ..baselines import conv_shapes
            from ..data import DataError, dataset_info
            try:
                shape = dataset_info(s.dataset).input_shape
            except DataError:   # a data set's file that cannot be read now: loading it says why
                shape = None
            if shape is not None:
                try:
                    conv_shapes(s.conv, shape)
                except ValueError as e:
                    bad("conv", str(e))

    def check_run(self, cfg, settings):
        if settings.device != "cpu":
            from ..baselines import torch_device
            try:
                torch_device(settings.device)
            except ValueError as e:
                raise setting_error("device", str(e)) from None
        from ..baselines.runner import check_memory
        check_memory(cfg, settings)

    def config_record(self, cfg, settings):
        from ..baselines.runner import describe   # what trains, beyond the sizes and T of 'model'
        return {"baseline": describe(settings)}

    def weights_cfg(self, cfg):
        return cfg.replace(fixed_point=False)

    def n_weight_arrays(self, cfg, settings):
        from ..baselines.runner import run_weight_shapes
        return len(run_weight_shapes(cfg, settings))

    def check_weights(self, cfg, settings, weights, what):
        from ..baselines.runner import run_weight_shapes
        shapes = run_weight_shapes(cfg, settings)
        if len(weights) != len(shapes):
            raise RunError(f"{what}: holds {len(weights)} weight arrays, the {settings.model} network has "
                           f"{len(shapes)}")
        for k, (w, shape) in enumerate(zip(weights, shapes)):
            w = np.asarray(w)
            if w.shape != tuple(shape) or w.dtype.kind not in "iuf" or not np.isfinite(w).all():
                raise RunError(f"{what}: weights w{k} must be finite numbers of shape {tuple(shape)}, "
                               f"got {w.dtype} {w.shape}")
        return list(weights)

    def load_weights(self, path, cfg, settings):
        from .files import load_npz
        weights = load_weights(path)
        if len(load_npz(path)) != len(weights):
            raise RunError(f"{path}: unexpected arrays (a weights file holds w0..w{len(weights) - 1} only)")
        return self.check_weights(cfg, settings, weights, str(path))

    def checkpoint_entries(self, z, cfg, settings, bad):
        from ..baselines.runner import check_optimizer_entries
        keys = check_optimizer_entries(z, bad) | {"epoch_loss_sum"}
        if "epoch_loss_sum" in z and (z["epoch_loss_sum"].shape != () or not np.isfinite(z["epoch_loss_sum"])):
            bad("'epoch_loss_sum' must be a finite number")
        return keys

    def accuracy(self, cfg, settings, weights, ds, backend, progress, activity=None):
        from ..baselines.runner import run_accuracy
        return run_accuracy(cfg, settings, weights, ds, backend, progress)

    def evaluation_note(self, cfg, backend):
        return f", T = {cfg.steps}" + (", in torch" if backend == "engine" else ", netx export in Lava")


MODEL_KINDS: Dict[str, ModelKind] = {kind.name: kind for kind in (
    SSNNBPKind(),
    ANNKind(),
    TorchBaselineKind("tssl-bp", conv_layers=True),
    # slayer's surrogate gradient was lava-dl's 1.0, 1.0 until 2026-12-03
    TorchBaselineKind("slayer", legacy_values={"tau_grad": 1.0, "scale_grad": 1.0}),
)}


def model_kind(name: str) -> ModelKind:
    """The registry's entry for a model name (RunSettings has checked it)."""
    try:
        return MODEL_KINDS[name]
    except (KeyError, TypeError):
        raise RunError(f"unknown model {name!r} (choose from {', '.join(MODEL_KINDS)})") from None


def conv_models() -> list:
    return [name for name, kind in MODEL_KINDS.items() if kind.conv_layers]
