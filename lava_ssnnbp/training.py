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
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np

from .config import SSNNConfig

BACKENDS = ("engine", "lava")
BATCH_UPDATES = ("per-sample", "mini-batch")
SCHEDULES = ("constant", "step", "exponential", "cosine")
MODELS = ("snn", "ann")
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

    def __post_init__(self):
        def bad(name, why):
            raise RunError(f"invalid {name}: {why}")
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
        if self.backend == "lava" and self.batch_updates != "per-sample":
            bad("batch_updates", "the Lava backend learns per sample, as on chip (use --batch-updates per-sample)")
        if self.model == "ann" and self.backend != "engine":
            bad("backend", "the ANN baseline runs in numpy only (use --backend engine)")


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


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """Sample order of one epoch, a function of (seed, epoch) only."""
    return np.random.default_rng(np.random.SeedSequence([seed, 104729, epoch])).permutation(n)


# ------------------------------------------------------------------ files
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
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise RunError(f"{path}: no such file") from None
    except Exception as e:   # zipfile/ValueError on corrupt files
        raise RunError(f"{path}: not a readable npz file ({e})") from None


def save_weights(path, weights: List[np.ndarray], **extra):
    _save_npz(Path(path), {**{f"w{k}": w for k, w in enumerate(weights)}, **extra})


def load_weights(path) -> List[np.ndarray]:
    """Weights ``w0, w1, ...`` (shape (N_out, N_in) each) from an npz file."""
    z = load_npz(path)
    ws, k = [], 0
    while f"w{k}" in z:
        ws.append(z[f"w{k}"])
        k += 1
    if not ws:
        raise RunError(f"{path}: holds no weight arrays w0, w1, ...")
    return ws


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
    ``activity`` (engine only) accumulates every layer's forward spikes."""
    from tqdm.auto import tqdm
    n = len(x)
    ids = np.arange(n)
    if backend == "lava":
        from .network import SSNNBPNetwork
        with SSNNBPNetwork(cfg, weights, seed, event_frames=x.ndim == 3, chunk=min(batch_size, 64)) as net:
            return np.concatenate([net.predict_counts(x[a:a + 64], ids[a:a + 64])
                                   for a in tqdm(range(0, n, 64), desc=desc, unit="batch", disable=not progress)])
    from .engine import Engine
    eng = Engine(cfg, weights, seed)
    out = []
    for a in tqdm(range(0, n, batch_size), desc=desc, unit="batch", disable=not progress):
        res = eng.predict(x[a:a + batch_size], ids[a:a + batch_size])
        if activity is not None:
            activity.add(res.x_counts)
        out.append(res.out_counts)
    return np.concatenate(out) if out else np.zeros((0, cfg.sizes[-1]), dtype=np.int64)


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

    @classmethod
    def open(cls, out, cfg: SSNNConfig, settings: RunSettings, overwrite: bool = False) -> "Run":
        """Start a run in ``out``, or resume the one there if its parameters match."""
        out = Path(out).expanduser()
        cfg_file = out / "config.json"
        if cfg_file.exists() and not overwrite:
            try:
                old = json.loads(cfg_file.read_text())
                same = (_same_model(old.get("model", {}), cfg)
                        and same_settings(old.get("run", {}), dataclasses.asdict(settings)))
            except (json.JSONDecodeError, OSError, TypeError, ValueError):
                same = False
            if not same:
                raise RunError(f"{out} holds a run with other parameters; pass --overwrite to replace it "
                               f"or --out to choose another folder")
            run = cls(out, cfg, settings)
            m = out / "metrics.json"
            run.metrics = json.loads(m.read_text())["epochs"] if m.exists() else []
            return run
        if overwrite and out.exists():
            for name in ("checkpoint.npz", "weights.npz", "metrics.json", "metrics.csv",
                         "learning_curve.png", "config.json"):
                (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        run = cls(out, cfg, settings)
        record = {"model": _jsonable(cfg.to_dict()), "run": dataclasses.asdict(settings)}
        if cfg.fixed_point and settings.model == "snn":
            # fixed point shifts integer counts by a power of two: the eta it applies per layer
            from . import dynamics as dyn
            record["fixed_point_effective_eta"] = [dyn.effective_eta(cfg, k) for k in range(cfg.n_layers)]
        save_json(cfg_file, {**record, "versions": versions(), "command": " ".join(sys.argv),
                             "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        return run

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

    def _load_checkpoint(self) -> Optional[dict]:
        if not self.checkpoint_path.exists():
            return None
        z = load_npz(self.checkpoint_path)
        if int(z.get("format", -1)) != CHECKPOINT_FORMAT:
            raise RunError(f"{self.checkpoint_path}: unknown checkpoint format; pass --overwrite")
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
        prec = "fixed" if self.cfg.fixed_point else "float"
        return f"SSNN-BP {'-'.join(map(str, self.cfg.sizes))} {self.cfg.mode} T={self.cfg.steps} {prec}"

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
        use it to interrupt a run).
        """
        if self.settings.model == "ann":
            return self._train_ann(train_set, test_set, progress, val_set)
        from tqdm.auto import tqdm
        from . import dynamics as dyn
        s, cfg = self.settings, self.cfg
        ck = self._load_checkpoint()
        if ck is not None:
            weights = [ck[f"w{k}"] for k in range(cfg.n_layers)]
            epoch, position, seen = int(ck["epoch"]), int(ck["position"]), int(ck["samples_seen"])
        else:
            weights = dyn.init_weights(cfg, s.seed)
            epoch, position, seen = len(self.metrics), 0, 0
        _check_weights(cfg, weights, "checkpoint")
        x, y = train_set.x, train_set.y
        n = len(y)
        # per-sample updates: B samples simulated one after another (B = 1 on chip)
        step = s.batch_size
        while epoch < s.epochs:
            ecfg = cfg.replace(eta=eta_at(cfg.eta, s, epoch))
            order = epoch_order(s.seed, epoch, n)
            t0, last_ck = time.time(), time.monotonic()   # the checkpoint clock never steps back
            wall_before = float(ck["epoch_wall_s"]) if ck is not None and "epoch_wall_s" in ck else 0.0
            correct = int(ck["epoch_correct"]) if ck is not None and "epoch_correct" in ck else 0
            ck = None
            trainer = _Trainer(s.backend, ecfg, weights, s.seed, seen, x.ndim == 3, s.batch_updates)
            try:
                bar = tqdm(total=n, initial=position, desc=f"epoch {epoch + 1}/{s.epochs}", unit="sample",
                           disable=not progress, dynamic_ncols=True)
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
                    if time.monotonic() - last_ck > s.checkpoint_s and position < n:
                        self._save_checkpoint(trainer.weights, epoch, position, trainer.samples_seen,
                                              {"epoch_correct": np.array(correct),
                                               "epoch_wall_s": np.array(wall_before + time.time() - t0)})
                        last_ck = time.monotonic()
                bar.close()
                weights, seen = trainer.weights, trainer.samples_seen
            finally:
                trainer.close()
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
        ck = self._load_checkpoint()
        if ck is not None:
            ann.load_state_dict({k[4:]: v for k, v in ck.items() if k.startswith("ann_")})
        for epoch in tqdm(range(len(self.metrics), s.epochs), desc="ANN epochs", disable=not progress):
            ann.lr = eta_at(s.ann_lr, s, epoch)
            order = epoch_order(s.seed, epoch, len(train_set.y))
            t0 = time.time()
            loss = ann.train_epoch(train_set.x[order], train_set.y[order],
                                   rng=np.random.default_rng([s.seed, 15485863, epoch]))
            wall = time.time() - t0
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

    def __init__(self, backend, cfg, weights, seed, samples_seen, frames, batch_updates):
        self.backend, self.batch_updates = backend, batch_updates
        if backend == "lava":
            if batch_updates != "per-sample":
                raise RunError("the Lava backend learns per sample, as on chip (use --batch-updates per-sample)")
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


def _check_weights(cfg: SSNNConfig, weights, what: str):
    from . import dynamics as dyn
    try:
        dyn.check_weights(cfg, weights)
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
        return {k: v for k, v in _jsonable({**defaults, **d}).items() if k not in ignore}
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
