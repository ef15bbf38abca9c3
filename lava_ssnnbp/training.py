"""Training runs: epochs over a data set, evaluation, run folders, resumable checkpoints.

A run folder holds::

    config.json        every parameter (model, run settings, seeds, versions)
    metrics.json/.csv  one row per finished epoch
    learning_curve.png train/test accuracy per epoch
    weights.npz        final weights (npz, no pickles), see :func:`load_weights`
    checkpoint.npz     state to resume from (weights, samples seen, epoch, position)

Checkpoints are written atomically (temporary file + ``os.replace``) at batch
boundaries, so a killed run resumes at the last checkpoint and continues
exactly as if it had never stopped: every random draw is named by
(seed, sample counter), and the sample order of epoch e is a permutation drawn
from (seed, e).
"""
from __future__ import annotations

import csv
import dataclasses
import fcntl
import json
import math
import os
import platform
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np

from .config import ConfigError, SSNNConfig, coerce

BACKENDS = ("engine", "lava")
BATCH_UPDATES = ("per-sample", "mini-batch")
SCHEDULES = ("constant", "step", "exponential", "cosine")
MODELS = ("snn", "ann", "tssl-bp", "slayer")
TORCH_MODELS = ("tssl-bp", "slayer")   # offline-trained baselines in torch (lava_ssnnbp.baselines)
CHECKPOINT_FORMAT = 1


class RunError(ValueError):
    """A run folder that cannot be used as asked (message says why and what to do)."""


@dataclass
class RunSettings:
    """How to train (the model itself is an :class:`SSNNConfig`)."""
    dataset: str = "default"
    data_dir: Optional[str] = None
    epochs: int = 1
    seed: int = 0
    model: str = "snn"                  # 'snn' or its ANN twin 'ann'
    backend: str = "engine"             # 'engine' (batched numpy) or 'lava' (CPU simulator)
    batch_updates: str = "per-sample"   # on-chip behaviour; 'mini-batch' sums B samples' updates
    batch_size: int = 64                # samples simulated together (engine); 'mini-batch' sums their updates
    eta_schedule: str = "constant"
    eta_decay: float = 0.5              # 'step': factor every eta_step epochs; 'exponential': per epoch
    eta_step: int = 5
    eta_warmup: int = 0                 # samples over which eta ramps up linearly from 0 (see eta_factor)
    train_samples: Optional[int] = None  # subset of the training split (None: all)
    test_samples: Optional[int] = None
    val_samples: Optional[int] = None    # held out of the training split (never trained on), scored each epoch
    checkpoint_s: float = 60.0          # seconds between mid-epoch checkpoints
    ann_lr: float = 0.05
    ann_momentum: float = 0.9
    baseline_lr: Optional[float] = None  # tssl-bp / slayer optimiser lr; None: the method's (baselines.DEFAULT_LR)
    tau_m: float = 5.0                  # tssl-bp / slayer membrane time constant, steps
    tau_s: float = 3.0                  # tssl-bp / slayer synaptic (PSP) time constant, steps
    # slayer's surrogate gradient (lava-dl's tau_grad, scale_grad): lava-dl's tutorial values;
    # runs written before these fields existed used 1.0, 1.0 (from_dict reads them so)
    tau_grad: float = 0.03
    scale_grad: float = 3.0
    device: str = "auto"                # tssl-bp / slayer torch device: 'auto' (GPU if any), 'cpu', 'cuda[:N]'
    conv: Optional[str] = None          # tssl-bp conv stack before the dense layers, e.g. '15C5-P2-40C5-P2'

    def __post_init__(self):
        def bad(name, why):
            raise _setting_error(name, why)
        for f in dataclasses.fields(self):   # declared types (numpy scalars converted), finite numbers
            setattr(self, f.name, coerce(f.name, f.type, getattr(self, f.name), _setting_error))
        if self.seed < 0:
            bad("seed", f"{self.seed!r} (need an integer >= 0: it names numpy's random streams)")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            bad("epochs", f"{self.epochs!r} (need an integer >= 1)")
        if self.model not in MODELS:
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
        if self.model == "ann" and self.eta_warmup:
            bad("eta_warmup", "the ANN twin has no warm-up (its learning rate changes per epoch only)")
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
        if self.model == "ann" and self.backend != "engine":
            bad("backend", "the ANN baseline runs in numpy only (use --backend engine)")
        if self.baseline_lr is not None and not self.baseline_lr > 0:
            bad("baseline_lr", f"{self.baseline_lr!r} (need > 0)")
        for name in ("tau_grad", "scale_grad"):
            if not getattr(self, name) > 0:
                bad(name, f"{getattr(self, name)!r} (need > 0)")
        for name in ("tau_m", "tau_s"):
            if not getattr(self, name) >= 1:
                bad(name, f"{getattr(self, name)!r} (need a time constant >= 1 step: the decay per step is 1/tau)")
        if not (self.device in ("auto", "cpu", "cuda") or
                (self.device.startswith("cuda:") and self.device[5:].isdigit())):
            bad("device", f"{self.device!r} (choose auto, cpu, cuda or cuda:N)")
        if self.model in TORCH_MODELS:
            if self.backend != "engine":
                bad("backend", f"{self.model} trains in torch; it runs in Lava after export "
                               "('ssnnbp evaluate RUN --backend lava'), use --backend engine")
            if self.eta_warmup:
                bad("eta_warmup", f"{self.model} has no warm-up (its learning rate changes per epoch only)")
        if self.conv is not None:
            from .baselines import conv_shapes
            from .data import DATASETS
            if self.model != "tssl-bp":
                bad("conv", "conv layers are built for --model tssl-bp only")
            try:
                conv_shapes(self.conv, DATASETS[self.dataset].input_shape if self.dataset in DATASETS else (28, 28))
            except ValueError as e:
                bad("conv", str(e))

    @classmethod
    def from_dict(cls, d: dict) -> "RunSettings":
        """Settings as config.json records them; ones added since count as their defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in with_legacy_values(d).items() if k in names})


def with_legacy_values(d: dict) -> dict:
    """Saved run settings plus the values that fields added since had in those runs where they
    were not the defaults: slayer's surrogate was 1.0, 1.0 until 2026-12-03."""
    if d.get("model") == "slayer" and "tau_grad" not in d:
        return {**d, "tau_grad": 1.0, "scale_grad": 1.0}
    return d


def _setting_error(name: str, why: str) -> "RunError":
    return RunError(f"invalid {name}: {why}")


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
    from .learning_engine import eta_level
    if s.model != "snn":
        raise _setting_error("model", f"the chip configuration (target loihi2) trains SSNN-BP, not {s.model!r}")
    if s.batch_updates != "per-sample":
        raise _setting_error("batch_updates", "the chip configuration (target loihi2) learns per sample")
    if s.eta_warmup:
        raise _setting_error("eta_warmup", "the chip configuration (target loihi2) changes eta between epochs "
                                           "only, by the levels of its learning rule")
    for epoch in range(s.epochs):
        try:
            eta_level(cfg, eta_at(cfg.eta, s, epoch))
        except ValueError as e:
            raise _setting_error("eta_schedule", f"epoch {epoch + 1}: {e}") from None


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """Sample order of one epoch, a function of (seed, epoch) only."""
    return np.random.default_rng(np.random.SeedSequence([seed, 104729, epoch])).permutation(n)


# ------------------------------------------------------------------ files
class CheckpointClock:
    """When a mid-epoch checkpoint is due: ``seconds`` after the last one (a monotonic
    clock, which never steps back), and never at an epoch's end, where the epoch's own
    checkpoint follows. Shared by every model's training loop."""

    def __init__(self, seconds: float):
        self.seconds, self._last = seconds, time.monotonic()

    def due(self, position: int, total: int) -> bool:
        return position < total and time.monotonic() - self._last > self.seconds

    def saved(self) -> None:
        self._last = time.monotonic()


def _atomic_write(path: Path, write: Callable[[Path], None]):
    """Write via a temporary file in the same folder, then rename (atomic on POSIX)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _save_npz(path: Path, arrays: dict):
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    _atomic_write(path, write)


def save_json(path: Path, obj, indent: int = 2, unchanged_but: Optional[str] = None, **dumps_kw) -> bool:
    """Write ``obj`` as JSON atomically (a unique temporary file, then rename):
    readers never see half a file, and writers side by side never share a
    temporary file. Used for run folders and the benchmarks' result files.
    With ``unchanged_but`` (a top-level key such as a write date), a file that
    already holds ``obj`` apart from that key is left as it is, so regenerating
    results does not churn them. Returns whether the file was written."""
    path = Path(path)
    text = json.dumps(obj, indent=indent, **dumps_kw) + "\n"
    if unchanged_but is not None and path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if isinstance(old, dict) and equal_apart_from(old, json.loads(text), unchanged_but):
            return False
    _atomic_write(path, lambda tmp: tmp.write_text(text))
    return True


def equal_apart_from(a: dict, b: dict, key: str) -> bool:
    """Whether two JSON-like records are equal once ``key`` (e.g. a write date) is left out."""
    return {k: v for k, v in a.items() if k != key} == {k: v for k, v in b.items() if k != key}


def load_npz(path) -> dict:
    """Arrays of an npz file we wrote (never unpickles)."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise RunError(f"{path}: not an npz file (no zip archive)")
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RunError(f"{path}: no such file") from None
    except RunError:
        raise
    except Exception as e:   # zipfile/ValueError on corrupt files
        raise RunError(f"{path}: not a readable npz file ({e})") from None


def save_weights(path, weights: List[np.ndarray], **extra):
    _save_npz(Path(path), {**{f"w{k}": w for k, w in enumerate(weights)}, **extra})


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
    return _check_weights(cfg, ws, str(path))


# ------------------------------------------------------------------ run folders: checks, lock, reading
RESULT_FILES = ("checkpoint.npz", "weights.npz", "metrics.json", "metrics.csv", "learning_curve.png", "config.json")
PROGRESS_FILES = ("checkpoint.npz", "weights.npz", "metrics.json")   # what a resumed run continues from


def check_run_dir(out: Path):
    """A RunError unless ``out`` is a folder or can be created as one (no file in the way)."""
    p = Path(out)
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    if not p.is_dir():
        where = "is a file" if p == Path(out) else f"cannot be created: {p} is a file"
        raise RunError(f"run folder {out} {where}, not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise RunError(f"run folder {out}: {p} is not writable")


_HELD_LOCKS: "weakref.WeakSet" = weakref.WeakSet()   # this process's RunLocks


class RunLock:
    """The training process's exclusive hold on a run folder: ``fcntl.flock`` on
    ``RUN/.lock``, which the kernel releases when the process ends, even by
    SIGKILL, so a dead run never blocks the next. The file keeps the holder's pid
    for the message; it is never deleted (a deleted lock file could be locked twice)."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        check_run_dir(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise RunError(f"run folder {folder}: cannot create it or its lock file ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if not isinstance(e, BlockingIOError):   # e.g. a file system without locks
                os.close(fd)
                raise RunError(f"run folder {folder}: cannot lock {folder / '.lock'} ({e.strerror})") from None
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            who = "an earlier Run of this process (close it first)" if pid == str(os.getpid()) else \
                "another training process"
            raise RunError(f"run folder {folder} is in use by {who} (pid {pid})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        _HELD_LOCKS.add(self)
        self._finalizer = weakref.finalize(self, os.close, fd)

    def release(self):
        """Give the folder free (closing the file releases the lock)."""
        self._finalizer()

    @staticmethod
    def _forget_in_child():
        # a forked child (e.g. Lava's worker processes) must not keep the parent's
        # folder locked after the parent dies: close its copies (close, not LOCK_UN,
        # which would unlock the parent too)
        for lock in list(_HELD_LOCKS):
            if lock._finalizer.detach():
                try:
                    os.close(lock.fd)
                except OSError:
                    pass
        _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=RunLock._forget_in_child)


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    except json.JSONDecodeError as e:
        raise RunError(f"{path}: not valid JSON ({e}); not {what} written by 'ssnnbp train'") from None


def read_run_config(run: Path):
    """``(saved, cfg, settings)`` of a run folder's config.json: the model and run
    settings checked as SSNNConfig and RunSettings check them, or one RunError
    naming the file and what is wrong."""
    run = Path(run)
    if os.path.lexists(run) and not run.is_dir():
        raise RunError(f"{run} is a file, not a run folder")
    path = run / "config.json"
    try:
        saved = _read_json(path, "a run configuration")
    except FileNotFoundError:
        what = "no such file" if run.is_dir() else "no such folder"
        raise RunError(f"{path}: {what} (not a run folder written by 'ssnnbp train')") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict) \
            or not isinstance(saved.get("run", {}), dict):
        raise RunError(f"{path}: not a run configuration (need an object with 'model' and 'run' objects)")
    for section, cls, derived in (("model", SSNNConfig, {"tau_steps"}), ("run", RunSettings, set())):
        unknown = sorted(set(saved.get(section, {})) - {f.name for f in dataclasses.fields(cls)} - derived)
        if unknown:
            raise RunError(f"{path}: unknown {section} parameter {', '.join(unknown)} (a hand edit, or written "
                           "by another version?)")
    try:
        cfg = SSNNConfig.from_dict(saved["model"])
        settings = RunSettings.from_dict(saved.get("run", {}))
    except (ConfigError, RunError) as e:
        raise RunError(f"{path}: {e}") from None
    return saved, cfg, settings


def read_metrics(path: Path) -> List[dict]:
    """The epochs a metrics.json records (none if it does not exist), checked: one
    record per epoch 1, 2, ... with accuracies in [0, 1]."""
    try:
        d = _read_json(path, "a metrics file")
    except FileNotFoundError:
        return []
    rows = d.get("epochs") if isinstance(d, dict) else None
    if not isinstance(rows, list):
        raise RunError(f"{path}: not a metrics file (need an object with an 'epochs' list)")
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict) or r.get("epoch") != i or isinstance(r.get("epoch"), bool):
            raise RunError(f"{path}: record {i} is not epoch {i}'s ({str(r)[:40]})")
        for key in ("train_acc", "test_acc"):
            v = r.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise RunError(f"{path}: epoch {i}: {key} = {v!r} is not an accuracy in [0, 1]")
    return rows


def check_run_weights(cfg: SSNNConfig, settings: RunSettings, weights, what: str) -> list:
    """A run's weight arrays checked: SSNN-BP and the ANN twin against ``cfg``; a baseline
    against its own shapes (conv kernels, then dense layers), finite numbers."""
    if settings.model not in TORCH_MODELS:
        return _check_weights(_weights_cfg(cfg, settings), weights, what)
    from .baselines.runner import run_weight_shapes
    shapes = run_weight_shapes(cfg, settings)
    if len(weights) != len(shapes):
        raise RunError(f"{what}: holds {len(weights)} weight arrays, the {settings.model} network has {len(shapes)}")
    for k, (w, shape) in enumerate(zip(weights, shapes)):
        w = np.asarray(w)
        if w.shape != tuple(shape) or w.dtype.kind not in "iuf" or not np.isfinite(w).all():
            raise RunError(f"{what}: weights w{k} must be finite numbers of shape {tuple(shape)}, "
                           f"got {w.dtype} {w.shape}")
    return list(weights)


def n_weight_arrays(cfg: SSNNConfig, settings: RunSettings) -> int:
    if settings.model in TORCH_MODELS:
        from .baselines.runner import run_weight_shapes
        return len(run_weight_shapes(cfg, settings))
    return cfg.n_layers


def _weights_cfg(cfg: SSNNConfig, settings: RunSettings) -> SSNNConfig:
    """The config weights are checked against: the ANN twin's are floats."""
    return cfg.replace(fixed_point=False) if settings.model != "snn" else cfg


def read_checkpoint(path: Path, cfg: SSNNConfig, settings: RunSettings) -> dict:
    """A checkpoint.npz, every entry checked (integer counters, the network's
    weights, the ANN's state), or a RunError naming the file."""
    z = load_npz(path)

    def bad(why):
        raise RunError(f"{path}: {why}")
    counters = ("format", "epoch", "position", "samples_seen")
    for key in counters:
        if key not in z:
            bad(f"no '{key}' entry (not a checkpoint written by 'ssnnbp train')")
    for key in counters + ("epoch_correct",) * ("epoch_correct" in z):
        if z[key].shape != () or z[key].dtype.kind not in "iu" or int(z[key]) < 0:
            bad(f"'{key}' must be an integer >= 0, got {z[key].dtype} {z[key].shape}")
    if int(z["format"]) != CHECKPOINT_FORMAT:
        bad(f"unknown checkpoint format {int(z['format'])} (this version writes {CHECKPOINT_FORMAT})")
    if int(z.get("epoch_correct", 0)) > int(z["position"]):
        bad(f"'epoch_correct' {int(z['epoch_correct'])} exceeds the {int(z['position'])} samples done")
    if "epoch_wall_s" in z:
        w = z["epoch_wall_s"]
        if w.shape != () or w.dtype.kind not in "iuf" or not np.isfinite(w) or w < 0:
            bad("'epoch_wall_s' must be a number of seconds >= 0")
    weights = [f"w{k}" for k in range(n_weight_arrays(cfg, settings))]
    missing = [k for k in weights if k not in z]
    if missing:
        bad(f"no {', '.join(missing)} (the network {'-'.join(map(str, cfg.sizes))} has {len(weights)} "
            "weight arrays)")
    check_run_weights(cfg, settings, [z[k] for k in weights], str(path))
    ann = _check_ann_state(z, cfg, bad) if settings.model == "ann" else set()
    if settings.model in TORCH_MODELS:
        from .baselines.runner import check_optimizer_entries
        ann = check_optimizer_entries(z, bad) | {"epoch_loss_sum"}
        if "epoch_loss_sum" in z and (z["epoch_loss_sum"].shape != () or not np.isfinite(z["epoch_loss_sum"])):
            bad("'epoch_loss_sum' must be a finite number")
    extra = sorted(set(z) - set(counters) - {"epoch_correct", "epoch_wall_s"} - set(weights) - ann)
    if extra:
        bad(f"unexpected entries {', '.join(extra)}")
    return z


def _check_ann_state(z: dict, cfg: SSNNConfig, bad) -> set:
    """The ANN twin's optimizer state in a checkpoint: the keys ``ANN.state_dict``
    writes, with its shapes and finite values. Returns those keys."""
    from .ann import ANN
    ref = {f"ann_{k}": v for k, v in ANN(list(cfg.sizes), dropout=()).state_dict().items()}
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


@dataclass
class RunFolder:
    """A run folder read back, every file checked (see :func:`read_run_folder`)."""
    path: Path
    saved: dict                          # config.json as written
    cfg: SSNNConfig
    settings: RunSettings
    metrics: List[dict]                  # finished epochs (metrics.json)
    checkpoint: Optional[dict]           # checkpoint.npz
    weights: Optional[List[np.ndarray]]  # weights.npz, the last finished epoch's


def read_run_folder(run, hint: str = "") -> RunFolder:
    """Read and check a run folder: config.json, metrics.json, checkpoint.npz and
    weights.npz (the last three where present), and that they agree. The one path
    by which 'evaluate', 'info --run' and a resumed 'train' read a folder; any
    problem is one RunError naming the file, followed by ``hint``."""
    run = Path(run).expanduser()
    try:
        saved, cfg, settings = read_run_config(run)
        metrics = read_metrics(run / "metrics.json")
        ck_path, w_path = run / "checkpoint.npz", run / "weights.npz"
        ck = read_checkpoint(ck_path, cfg, settings) if os.path.lexists(ck_path) else None
        if settings.model in TORCH_MODELS:
            weights = load_weights(w_path) if os.path.lexists(w_path) else None
            if weights is not None:
                if len(load_npz(w_path)) != len(weights):
                    raise RunError(f"{w_path}: unexpected arrays (a weights file holds w0..w{len(weights) - 1} only)")
                check_run_weights(cfg, settings, weights, str(w_path))
        else:
            weights = load_weights(w_path, _weights_cfg(cfg, settings)) if os.path.lexists(w_path) else None
        if ck is not None and int(ck["epoch"]) not in (len(metrics), len(metrics) - 1):
            # the checkpoint is written right after each epoch's metrics: equal, or one behind after a kill
            raise RunError(f"{ck_path}: at epoch {int(ck['epoch'])}, but {run / 'metrics.json'} records "
                           f"{len(metrics)} finished epochs")
        for path, have in ((w_path, weights), (ck_path, ck)):
            if metrics and have is None:
                raise RunError(f"{path}: missing, though metrics.json records {len(metrics)} finished epochs")
    except RunError as e:
        raise RunError(f"{e}{hint}") from None
    return RunFolder(run, saved, cfg, settings, metrics, ck, weights)


def versions() -> dict:
    import importlib.metadata as md
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("lava-ssnnbp", "lava-nc", "numpy", "tonic"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


# ------------------------------------------------------------------ evaluation
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
    from .validation import check_memory, fitting_batch
    n = len(x)
    ids = np.arange(n)
    if backend == "lava":
        from .learning_network import LearningEngineNetwork
        from .network import SSNNBPNetwork
        # the chip configuration's network runs on Lava's learning engine, with relay neurons
        network = LearningEngineNetwork if cfg.loihi2 else SSNNBPNetwork
        with network(cfg, weights, seed, event_frames=x.ndim == 3, chunk=min(batch_size, 64)) as net:
            return np.concatenate([net.predict_counts(x[a:a + 64], ids[a:a + 64])
                                   for a in tqdm(range(0, n, 64), desc=desc, unit="batch", disable=_no_bar(progress))])
    from .engine import Engine
    eng = Engine(cfg, weights, seed)
    fits = fitting_batch(cfg, min(batch_size, max(n, 1)), train=False)
    if fits < 1:
        check_memory(cfg, 1, train=False)   # raises, saying what fits
    batch_size = max(fits, 1)
    out = []
    for a in tqdm(range(0, n, batch_size), desc=desc, unit="batch", disable=_no_bar(progress)):
        res = eng.predict(x[a:a + batch_size], ids[a:a + batch_size])
        if activity is not None:
            activity.add(res.x_counts)
        out.append(res.out_counts)
    return np.concatenate(out) if out else np.zeros((0, cfg.sizes[-1]), dtype=np.int64)


def _no_bar(progress: bool):
    """tqdm's ``disable``: None draws the bar only where stderr is a terminal; in a
    log file or pipe its carriage-return updates would be hundreds of lines."""
    return None if progress else True


def accuracy_from_counts(counts: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose most active output neuron is the label
    (ties go to the lowest index, as np.argmax)."""
    return float(np.mean(np.argmax(counts, axis=1) == y)) if len(y) else float("nan")


# ------------------------------------------------------------------ the run
@dataclass
class Run:
    """A run folder: create or resume with :meth:`open`, then :meth:`train`."""
    out: Path
    cfg: SSNNConfig
    settings: RunSettings
    metrics: List[dict] = field(default_factory=list)

    _lock: Optional[RunLock] = field(default=None, repr=False, compare=False)

    @classmethod
    def open(cls, out, cfg: SSNNConfig, settings: RunSettings, overwrite: bool = False) -> "Run":
        """Start a run in ``out``, or resume the one there if its parameters match.

        The run holds the folder's lock (:class:`RunLock`) until :meth:`train`
        ends or :meth:`close`: a second process gets a RunError instead of
        training into the same files. A folder with nothing to resume (no
        checkpoint, weights or metrics, e.g. after a start that failed) is started
        afresh, whatever its config.json says."""
        out = Path(out).expanduser()
        cls.check(out, cfg, settings)
        lock = RunLock(out)
        try:
            has_results = any(os.path.lexists(out / name) for name in PROGRESS_FILES)
            run = cls._resume(out, cfg, settings) if has_results and not overwrite else cls._start(out, cfg, settings)
        except BaseException:
            lock.release()
            raise
        run._lock = lock
        return run

    @staticmethod
    def check(out, cfg: SSNNConfig, settings: RunSettings):
        """What :meth:`open` checks before it touches anything: the folder can be
        written, and the engine's arrays for a batch fit in memory."""
        from .validation import check_memory
        check_run_dir(Path(out).expanduser())
        if settings.model in TORCH_MODELS and settings.device != "cpu":
            from .baselines import torch_device
            try:
                torch_device(settings.device)
            except ValueError as e:
                raise _setting_error("device", str(e)) from None
        if cfg.loihi2:
            check_chip_settings(cfg, settings)
        if settings.model == "snn" and settings.backend == "engine":
            check_memory(cfg, 1 if settings.batch_updates == "per-sample" else settings.batch_size, train=True,
                         weights=True)

    @classmethod
    def _resume(cls, out: Path, cfg: SSNNConfig, settings: RunSettings) -> "Run":
        folder = read_run_folder(out, hint="; pass --overwrite to start afresh")
        if not (_same_model(folder.saved["model"], cfg)
                and same_settings(folder.saved.get("run", {}), dataclasses.asdict(settings))):
            raise RunError(f"{out} holds a run with other parameters; pass --overwrite to replace it "
                           f"or --out to choose another folder")
        run = cls(out, cfg, settings)
        # killed between an epoch's metrics and its checkpoint: that epoch is trained again
        ck_epoch = len(folder.metrics) if folder.checkpoint is None else int(folder.checkpoint["epoch"])
        run.metrics = folder.metrics[:ck_epoch]
        return run

    @classmethod
    def _start(cls, out: Path, cfg: SSNNConfig, settings: RunSettings) -> "Run":
        for name in RESULT_FILES:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                raise RunError(f"{path} is a folder; a run folder keeps a file of that name there")
            path.unlink(missing_ok=True)
        run = cls(out, cfg, settings)
        record = {"model": _jsonable(cfg.to_dict()), "run": dataclasses.asdict(settings)}
        if settings.model in TORCH_MODELS:   # what trains, beyond the sizes and T of 'model'
            from .baselines.runner import describe
            record["baseline"] = describe(settings)
        if cfg.fixed_point and settings.model == "snn":
            # fixed point shifts integer counts by a power of two: the eta it applies per layer
            from . import dynamics as dyn
            record["fixed_point_effective_eta"] = [dyn.effective_eta(cfg, k) for k in range(cfg.n_layers)]
        save_json(out / "config.json", {**record, "versions": versions(), "command": " ".join(sys.argv),
                                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        return run

    def close(self):
        """Release the run folder's lock (also done when :meth:`train` ends)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -------------------------------------------------------------- checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.npz"

    def _save_checkpoint(self, weights, epoch: int, position: int, samples_seen: int, extra=None):
        arrays = {f"w{k}": w for k, w in enumerate(weights)}
        arrays.update(format=np.array(CHECKPOINT_FORMAT), epoch=np.array(epoch),
                      position=np.array(position), samples_seen=np.array(samples_seen))
        for k, v in (extra or {}).items():
            arrays[k] = v
        _save_npz(self.checkpoint_path, arrays)

    def _load_checkpoint(self, n: int) -> Optional[dict]:
        """The checkpoint to resume from (checked, for a training set of ``n`` samples), or None."""
        if not os.path.lexists(self.checkpoint_path):
            return None
        try:
            z = read_checkpoint(self.checkpoint_path, self.cfg, self.settings)
            if int(z["position"]) >= max(n, 1):
                raise RunError(f"{self.checkpoint_path}: position {int(z['position'])} is beyond the "
                               f"{n} training samples (another training set?)")
        except RunError as e:
            raise RunError(f"{e}; pass --overwrite to start afresh") from None
        return z

    # -------------------------------------------------------------- metrics
    def _write_metrics(self):
        save_json(self.out / "metrics.json", {"epochs": self.metrics})
        if self.metrics:
            keys = list(self.metrics[0])

            def write(tmp):
                with open(tmp, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=keys)
                    w.writeheader()
                    w.writerows(self.metrics)
            _atomic_write(self.out / "metrics.csv", write)
            plot_learning_curve(self.metrics, self.out / "learning_curve.png",
                                title=f"{self.settings.dataset} {self._label()}")

    def _label(self) -> str:
        if self.settings.model == "ann":
            return "ANN " + "-".join(map(str, self.cfg.sizes))
        if self.settings.model in TORCH_MODELS:
            sizes = self.cfg.sizes
            net = "-".join(map(str, [sizes[0], *([self.settings.conv] if self.settings.conv else []), *sizes[1:]]))
            return f"{self.settings.model.upper()} {net} T={self.cfg.steps}"
        prec = "fixed" if self.cfg.fixed_point else "float"
        chip = f", chip configuration {self.cfg.target}" if self.cfg.target else ""
        return f"SSNN-BP {'-'.join(map(str, self.cfg.sizes))} {self.cfg.mode} T={self.cfg.steps} {prec}{chip}"

    @property
    def finished(self) -> bool:
        return len(self.metrics) >= self.settings.epochs

    # -------------------------------------------------------------- train
    def train(self, train_set, test_set, progress: bool = True,
              on_batch: Optional[Callable[[int], None]] = None, val_set=None) -> List[dict]:
        """Train the remaining epochs; returns the metrics of all epochs.

        ``val_set`` (held-out training images) is scored after every epoch as
        ``val_acc``: the number to choose hyperparameters on, not ``test_acc``.
        ``on_batch(samples_done_in_epoch)`` is called after each batch (tests
        use it to interrupt a run). Progress bars (``progress``) are drawn on a
        terminal only; elsewhere each epoch prints its one summary line.
        The folder's lock is held until this returns or raises.
        """
        if self._lock is None:
            self._lock = RunLock(self.out)
        try:
            for name, ds in (("training", train_set), ("test", test_set), ("validation", val_set)):
                if ds is not None and len(ds.y) == 0:
                    raise RunError(f"the {name} set is empty (0 samples)")
            with np.errstate(over="ignore", invalid="ignore"):   # overflow is reported as divergence
                return self._train(train_set, test_set, progress, on_batch, val_set)
        finally:
            self.close()

    def _train(self, train_set, test_set, progress, on_batch, val_set) -> List[dict]:
        if self.settings.model == "ann":
            return self._train_ann(train_set, test_set, progress, val_set)
        if self.settings.model in TORCH_MODELS:
            from .baselines.runner import train_run
            return train_run(self, train_set, test_set, progress, on_batch, val_set)
        from tqdm.auto import tqdm
        from . import dynamics as dyn
        s, cfg = self.settings, self.cfg
        ck = self._load_checkpoint(len(train_set.y))
        if ck is not None:
            weights = [ck[f"w{k}"] for k in range(cfg.n_layers)]
            epoch, position, seen = int(ck["epoch"]), int(ck["position"]), int(ck["samples_seen"])
        else:
            weights = dyn.init_weights(cfg, s.seed)
            epoch, position, seen = len(self.metrics), 0, 0
        _check_weights(cfg, weights, "checkpoint")
        x, y = train_set.x, train_set.y
        n = len(y)
        check_eta_warmup(s, n)
        # per-sample updates: B samples simulated one after another (B = 1 on chip)
        step = s.batch_size
        while epoch < s.epochs:
            ecfg = cfg.replace(eta=eta_at(cfg.eta, s, epoch))
            order = epoch_order(s.seed, epoch, n)
            t0, clock = time.time(), CheckpointClock(s.checkpoint_s)
            wall_before = float(ck["epoch_wall_s"]) if ck is not None and "epoch_wall_s" in ck else 0.0
            correct = int(ck["epoch_correct"]) if ck is not None and "epoch_correct" in ck else 0
            ck = None
            trainer = _Trainer(s.backend, ecfg, weights, s.seed, seen, x.ndim == 3, s.batch_updates, base_cfg=cfg)
            try:
                bar = tqdm(total=n, initial=position, desc=f"epoch {epoch + 1}/{s.epochs}", unit="sample",
                           disable=_no_bar(progress), dynamic_ncols=True)
                while position < n:
                    idx = order[position:position + step]
                    if s.eta_warmup:
                        trainer.set_eta(ecfg.eta * eta_factor(s, trainer.samples_seen + len(idx)))
                    counts = trainer.train(x[idx], y[idx])
                    correct += int(np.sum(np.argmax(counts, axis=1) == y[idx]))
                    position += len(idx)
                    bar.update(len(idx))
                    bar.set_postfix(train_acc=f"{correct / position:.3f}", refresh=False)
                    if on_batch is not None:
                        on_batch(position)
                    if clock.due(position, n):
                        self._save_checkpoint(trainer.weights, epoch, position, trainer.samples_seen,
                                              {"epoch_correct": np.array(correct),
                                               "epoch_wall_s": np.array(wall_before + time.time() - t0)})
                        clock.saved()
                bar.close()
                weights, seen = trainer.weights, trainer.samples_seen
            finally:
                trainer.close()
            _check_diverged(weights, epoch, ecfg.eta)
            train_wall = wall_before + time.time() - t0
            t1 = time.time()
            counts = evaluate_counts(cfg, weights, test_set.x, s.seed, s.backend, s.batch_size * 4, progress)
            row = {"epoch": epoch + 1, "eta": ecfg.eta, "train_acc": correct / n,
                   "test_acc": accuracy_from_counts(counts, test_set.y),
                   "train_samples": n, "test_samples": len(test_set.y),
                   "train_wall_s": round(train_wall, 3), "test_wall_s": round(time.time() - t1, 3),
                   "samples_per_s": round(n / max(train_wall, 1e-9), 2),
                   "silent_test_frac": float(np.mean(counts.sum(axis=1) == 0))}
            if val_set is not None:
                vc = evaluate_counts(cfg, weights, val_set.x, s.seed, s.backend, s.batch_size * 4, progress, "val")
                row.update(val_acc=accuracy_from_counts(vc, val_set.y), val_samples=len(val_set.y))
            self.metrics.append(row)
            epoch, position = epoch + 1, 0
            save_weights(self.out / "weights.npz", weights)
            self._write_metrics()
            self._save_checkpoint(weights, epoch, 0, seen)
            if progress:
                val = f"val {100 * row['val_acc']:.2f}%  " if "val_acc" in row else ""
                print(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f}%  {val}"
                      f"test {100 * row['test_acc']:.2f}%  ({row['samples_per_s']:.0f} samples/s)", flush=True)
        return self.metrics

    def _train_ann(self, train_set, test_set, progress: bool, val_set=None) -> List[dict]:
        from tqdm.auto import tqdm
        from .ann import ANN
        s, cfg = self.settings, self.cfg
        ann = ANN(list(cfg.sizes), seed=s.seed, dropout=tuple(cfg.dropout) or (0.0,) * cfg.n_layers,
                  lr=s.ann_lr, momentum=s.ann_momentum, batch_size=s.batch_size)
        ck = self._load_checkpoint(len(train_set.y))
        if ck is not None:
            ann.load_state_dict({k[4:]: v for k, v in ck.items() if k.startswith("ann_")})
        for epoch in tqdm(range(len(self.metrics), s.epochs), desc="ANN epochs", disable=_no_bar(progress)):
            ann.lr = eta_at(s.ann_lr, s, epoch)
            order = epoch_order(s.seed, epoch, len(train_set.y))
            t0 = time.time()
            loss = ann.train_epoch(train_set.x[order], train_set.y[order],
                                   rng=np.random.default_rng([s.seed, 15485863, epoch]))
            wall = time.time() - t0
            _check_diverged(ann.weights + [np.asarray(loss)], epoch, ann.lr)
            row = {"epoch": epoch + 1, "eta": ann.lr, "train_loss": float(loss),
                   "train_acc": ann.accuracy(train_set.x, train_set.y),
                   "test_acc": ann.accuracy(test_set.x, test_set.y),
                   "train_samples": len(train_set.y), "test_samples": len(test_set.y),
                   "train_wall_s": round(wall, 3), "samples_per_s": round(len(train_set.y) / max(wall, 1e-9), 2)}
            if val_set is not None:
                row.update(val_acc=ann.accuracy(val_set.x, val_set.y), val_samples=len(val_set.y))
            self.metrics.append(row)
            save_weights(self.out / "weights.npz", ann.weights)
            self._write_metrics()
            self._save_checkpoint(ann.weights, epoch + 1, 0, 0,
                                  {f"ann_{k}": v for k, v in ann.state_dict().items()})
            if progress:
                print(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f}%  "
                      f"test {100 * row['test_acc']:.2f}%", flush=True)
        return self.metrics


class _Trainer:
    """One epoch's learner on the chosen backend (same interface for both)."""

    def __init__(self, backend, cfg, weights, seed, samples_seen, frames, batch_updates, base_cfg=None):
        self.backend, self.batch_updates = backend, batch_updates
        if backend == "lava":
            if batch_updates != "per-sample":
                raise RunError("the Lava backend learns per sample, as on chip (use --batch-updates per-sample)")
            if cfg.loihi2:
                # the chip configuration: its rule is built for the run's eta (base_cfg), the epoch's
                # eta is a level the neurons apply; Lava's rounding draws restart with each network
                from .learning_engine import eta_level
                from .learning_network import LearningEngineNetwork
                base = base_cfg or cfg
                self.net = LearningEngineNetwork(base, weights, seed, event_frames=frames, chunk=16,
                                                 first_sample=samples_seen, eta_level=eta_level(base, cfg.eta))
                return
            from .network import SSNNBPNetwork
            self.net = SSNNBPNetwork(cfg, weights, seed, event_frames=frames, chunk=16,
                                     first_sample=samples_seen)
        else:
            from .engine import Engine
            self.eng = Engine(cfg, weights, seed)
            self.eng.samples_seen = samples_seen

    def train(self, x, y) -> np.ndarray:
        if self.backend == "lava":
            return self.net.train(x, y)
        return self.eng.train_batch(x, y, self.batch_updates).out_counts

    def set_eta(self, eta: float):
        """Learning rate for the next samples (engine only; see eta_warmup)."""
        if self.eng.cfg.eta != eta:
            self.eng.cfg = self.eng.cfg.replace(eta=eta)

    @property
    def weights(self):
        return self.net.weights if self.backend == "lava" else [w.copy() for w in self.eng.weights]

    @property
    def samples_seen(self) -> int:
        return self.net.samples_seen if self.backend == "lava" else self.eng.samples_seen

    def close(self):
        if self.backend == "lava":
            self.net.close()


def _check_diverged(arrays, epoch: int, eta: float):
    """A RunError when learning made weights (or the loss) NaN or inf: the run diverged."""
    if not all(np.isfinite(a).all() for a in arrays):
        raise RunError(f"training diverged in epoch {epoch + 1}: the weights are no longer finite numbers "
                       f"(learning rate {eta:g} too large?); nothing of this epoch was saved")


def _check_weights(cfg: SSNNConfig, weights, what: str) -> list:
    from . import dynamics as dyn
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


def _jsonable(d: dict) -> dict:
    return json.loads(json.dumps(d))


def _same_model(old: dict, cfg: SSNNConfig) -> bool:
    """The saved model config equals ``cfg``; parameters added to SSNNConfig after
    the run was started count as their defaults (so old runs stay resumable)."""
    known = {f.name for f in dataclasses.fields(SSNNConfig)}
    if set(old) - known - {"tau_steps"}:
        return False
    return normalised_config(old) == _jsonable(cfg.to_dict())


def normalised_config(d: dict) -> dict:
    """A saved model config as the current SSNNConfig writes it (new fields at their defaults)."""
    return _jsonable(SSNNConfig.from_dict(d).to_dict())


def same_settings(old: dict, new: dict, ignore=("epochs", "checkpoint_s", "data_dir")) -> bool:
    """Whether two saved RunSettings train the same way, apart from ``ignore``
    (by default what may change on resume: more epochs, checkpoint interval, data
    folder). Settings added after a run was saved count as their defaults."""
    ignore = set(ignore)
    defaults = {f.name: f.default for f in dataclasses.fields(RunSettings)
                if f.default is not dataclasses.MISSING}
    def norm(d):
        return {k: v for k, v in _jsonable({**defaults, **with_legacy_values(d)}).items() if k not in ignore}
    return norm(old) == norm(new)


def plot_learning_curve(metrics: List[dict], path: Path, title: str = ""):
    """Train and test accuracy per epoch, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ep = [m["epoch"] for m in metrics]
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot(ep, [100 * m["train_acc"] for m in metrics], "o-", label="train (during learning)")
    ax.plot(ep, [100 * m["test_acc"] for m in metrics], "s-", label="test")
    if all("val_acc" in m for m in metrics):
        ax.plot(ep, [100 * m["val_acc"] for m in metrics], "^-", label="validation (held-out training images)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
