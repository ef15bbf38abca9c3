"""A training run in its folder: open (start or resume), the one epoch loop, checkpoints.

Checkpoints are committed atomically (:mod:`.state`: every file of the state, then one
rename) at batch boundaries, so a killed run resumes at the last checkpoint and continues
exactly as if it had never stopped: every random draw is named by
(seed, sample counter), and the sample order of epoch e is a permutation drawn
from (seed, e). The loop is the same for every model; what differs is the
model's learner (:mod:`.learners`), which the registry (:mod:`.models`) supplies.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional

import numpy as np

from .. import accel
from ..config import SSNNConfig
from ..errors import RunError
from .dataset import (DATA_FILE, check_fits, check_named, check_same_training_set, read_data_record,
                      training_set_record)
from .evaluation import accuracy_from_counts, tqdm_disable
from .files import RunLock, check_run_dir, json_writer, jsonable, npz_writer
from .folder import (CHECKPOINT_FORMAT, PROGRESS_FILES, RESULT_FILES, read_checkpoint, read_run_folder,
                     same_model, same_settings, versions)
from .models import ModelKind, model_kind
from .plots import write_learning_curve
from .state import KEEP, STATE_FILE, StateWriter, read_manifest, state_folder
from .settings import RunSettings, check_chip_settings, check_eta_warmup, epoch_order, eta_at, eta_factor
from .weights import check_diverged



class CheckpointClock:
    """When a mid-epoch checkpoint is due: ``seconds`` after the last one (a monotonic
    clock, which never steps back), and never at an epoch's end, where the epoch's own
    checkpoint follows."""

    def __init__(self, seconds: float):
        self.seconds, self._last = seconds, time.monotonic()

    def due(self, position: int, total: int) -> bool:
        return position < total and time.monotonic() - self._last > self.seconds

    def saved(self) -> None:
        self._last = time.monotonic()


@dataclass
class Run:
    """A run folder: create or resume with :meth:`open`, then :meth:`train`."""
    out: Path
    cfg: SSNNConfig
    settings: RunSettings
    metrics: List[dict] = field(default_factory=list)
    run_id: Optional[str] = None         # config.json's "run_id" (none in folders from before it)

    _lock: Optional[RunLock] = field(default=None, repr=False, compare=False)
    _state: Optional[StateWriter] = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> ModelKind:
        """The model's entry in the registry (:mod:`.models`)."""
        return model_kind(self.settings.model)

    @classmethod
    def open(cls, out, cfg: SSNNConfig, settings: RunSettings, overwrite: bool = False,
             preset: Optional[str] = None) -> "Run":
        """Start a run in ``out``, or resume the one there if its parameters match.
        A run started from ``preset`` (``ssnnbp train --preset``) records its name in
        config.json; resuming compares the parameters, not how they were named.

        The run holds the folder's lock (:class:`RunLock`) until :meth:`train`
        ends or :meth:`close`: a second process gets a RunError instead of
        training into the same files. A folder with nothing to resume (no
        checkpoint, weights or metrics, e.g. after a start that failed) is started
        afresh, whatever its config.json says."""
        out = Path(out).expanduser()
        cls.check(out, cfg, settings)
        lock = RunLock(out)
        state = None
        try:
            state = StateWriter(out)
            has_results = any(os.path.lexists(out / name) for name in PROGRESS_FILES + (STATE_FILE,))
            run = cls._resume(out, cfg, settings) if has_results and not overwrite else \
                cls._start(out, cfg, settings, state, preset)
        except BaseException:
            if state is not None:
                state.close()
            lock.release()
            raise
        run._lock, run._state = lock, state
        return run

    @staticmethod
    def check(out, cfg: SSNNConfig, settings: RunSettings):
        """What :meth:`open` checks before it touches anything: the folder can be
        written, the chip configuration's settings, and what the model needs (the
        engine's arrays for a batch fit in memory, the torch device exists)."""
        check_run_dir(Path(out).expanduser())
        if cfg.loihi2:
            check_chip_settings(cfg, settings)
        model_kind(settings.model).check_run(cfg, settings)

    @classmethod
    def _resume(cls, out: Path, cfg: SSNNConfig, settings: RunSettings) -> "Run":
        folder = read_run_folder(out, hint="; pass --overwrite to start afresh")
        old_run, new_run = folder.saved.get("run", {}), dataclasses.asdict(settings)
        if same_model(folder.saved["model"], cfg) and not same_settings(old_run, new_run) \
                and same_settings(old_run, new_run, ignore=("epochs", "checkpoint_s", "data_dir", "dataset")):
            raise RunError(f"{out} holds a run trained on {old_run.get('dataset')}, not {settings.dataset}; pass "
                           "--overwrite to replace it or --out to choose another folder")
        if not (same_model(folder.saved["model"], cfg) and same_settings(old_run, new_run)):
            raise RunError(f"{out} holds a run with other parameters; pass --overwrite to replace it "
                           f"or --out to choose another folder")
        run = cls(out, cfg, settings, run_id=folder.saved.get("run_id"))
        # a folder from before atomic commits, killed between an epoch's metrics and its
        # checkpoint: that epoch is trained again (from the start where no checkpoint was written)
        ck_epoch = 0 if folder.checkpoint is None else int(folder.checkpoint["epoch"])
        run.metrics = folder.metrics[:ck_epoch]
        return run

    @classmethod
    def _start(cls, out: Path, cfg: SSNNConfig, settings: RunSettings, state: StateWriter,
               preset: Optional[str] = None) -> "Run":
        for name in RESULT_FILES:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                raise RunError(f"{path} is a folder; a run folder keeps a file of that name there")
        state.clear()
        (out / DATA_FILE).unlink(missing_ok=True)
        run = cls(out, cfg, settings, run_id=secrets.token_hex(8))
        record = {"model": jsonable(cfg.to_dict()), "run": dataclasses.asdict(settings),
                  **run.kind.config_record(cfg, settings), **({"preset": preset} if preset else {})}
        state.write_file("config.json", json_writer({
            **record, "run_id": run.run_id, "versions": versions(), "command": " ".join(sys.argv),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        return run

    def close(self):
        """Release the run folder's lock (also done when :meth:`train` ends)."""
        if self._state is not None:
            self._state.close()
            self._state = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def label(self) -> str:
        """The network in words (the CLI's first line, the learning curve's title)."""
        return self.kind.label(self.cfg, self.settings)

    @property
    def finished(self) -> bool:
        return len(self.metrics) >= self.settings.epochs

    # -------------------------------------------------------------- checkpoints and metrics
    @property
    def checkpoint_path(self) -> Path:
        """The committed checkpoint (``RUN/state/<generation>/checkpoint.npz``)."""
        manifest = self._state.manifest if self._state is not None else read_manifest(self.out)
        return state_folder(self.out, manifest) / "checkpoint.npz"

    def _commit(self, learner, epoch: int, position: int, epoch_so_far: Optional[dict] = None):
        """Commit the learner's state at ``position`` in ``epoch`` (:mod:`.state`). Mid-epoch
        (``epoch_so_far``: the epoch's correct count and wall time so far) only the
        checkpoint is new; at an epoch's end (position 0) weights and metrics are too."""
        arrays = {f"w{k}": w for k, w in enumerate(learner.weights)}
        arrays.update(format=np.array(CHECKPOINT_FORMAT), epoch=np.array(epoch),
                      position=np.array(position), samples_seen=np.array(learner.samples_seen))
        arrays.update(learner.checkpoint_arrays(mid_epoch=epoch_so_far is not None))
        arrays.update(epoch_so_far or {})
        files = {"checkpoint.npz": npz_writer(arrays), "weights.npz": KEEP, "metrics.json": KEEP,
                 "metrics.csv": KEEP, "learning_curve.png": KEEP}
        if epoch_so_far is None:
            files.update(self._metrics_writers())
            files["weights.npz"] = npz_writer({f"w{k}": w for k, w in enumerate(learner.weights)})
        if self._state is None:
            self._state = StateWriter(self.out)
        self._state.commit(files, self.run_id)

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

    def _metrics_writers(self) -> dict:
        """Writers of metrics.json, metrics.csv and learning_curve.png for the finished epochs."""
        metrics, title = list(self.metrics), f"{self.settings.dataset_label} {self.label()}"

        def write_csv(f):
            text = io.TextIOWrapper(f, newline="", encoding="utf-8")
            w = csv.DictWriter(text, fieldnames=list(metrics[0]))
            w.writeheader()
            w.writerows(metrics)
            text.flush()
            text.detach()
        return {"metrics.json": json_writer({"epochs": metrics}), "metrics.csv": write_csv,
                "learning_curve.png": lambda f: write_learning_curve(f, metrics, title)}

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
            if self._state is None:
                self._state = StateWriter(self.out)
            for name, ds in (("training", train_set), ("test", test_set), ("validation", val_set)):
                if ds is not None and len(ds.y) == 0:
                    raise RunError(f"the {name} set is empty (0 samples)")
                if ds is not None:
                    check_fits(self.cfg, ds, name)
            check_named(self.settings, train_set)
            self._check_training_set(train_set)
            with np.errstate(over="ignore", invalid="ignore"), \
                    accel.compile_notice(_compile_line if progress else lambda *_: None):
                learner = self.kind.learner(self.cfg, self.settings, train_set.x.shape[1:])
                try:
                    return self._train(learner, train_set, test_set, progress, on_batch, val_set)
                finally:
                    learner.close()
        finally:
            self.close()

    def _check_training_set(self, train_set):
        """A resumed run trains on the samples it started with: the SHA-256 of the training
        set (images and labels) is written to data.json when the run first trains, and
        compared when it resumes (the same data set name over other files, e.g. with
        --no-verify on a folder holding another data set, or a data set's file changed since,
        is refused). See :mod:`.dataset`."""
        record = training_set_record(train_set)
        saved = read_data_record(self.out)
        if saved is not None:
            check_same_training_set(self.out, saved, record)
        else:   # a new run, or one started before data.json: from here on it is checked
            self._state.write_file(DATA_FILE, json_writer(record))

    def _train(self, learner, train_set, test_set, progress, on_batch, val_set) -> List[dict]:
        from tqdm.auto import tqdm
        s = self.settings
        x, y = train_set.x, train_set.y
        n = len(y)
        ck = self._load_checkpoint(n)
        try:
            learner.restore(ck)
        except RunError as e:
            if ck is None:
                raise
            raise RunError(f"{self.checkpoint_path}: {e}; pass --overwrite to start afresh") from None
        epoch = int(ck["epoch"]) if ck is not None else len(self.metrics)
        position = int(ck["position"]) if ck is not None else 0
        check_eta_warmup(s, n)
        while epoch < s.epochs:
            eta = eta_at(learner.eta, s, epoch)
            order = epoch_order(s.seed, epoch, n)
            t0, clock, compiling0 = time.time(), CheckpointClock(s.checkpoint_s), accel.compile_seconds()
            wall_before = float(ck["epoch_wall_s"]) if ck is not None and "epoch_wall_s" in ck else 0.0
            correct = int(ck["epoch_correct"]) if ck is not None and "epoch_correct" in ck else 0
            ck, predicted = None, None
            learner.start_epoch(epoch, eta)
            step = learner.samples_per_call or n
            bar = tqdm(total=n, initial=position, desc=f"epoch {epoch + 1}/{s.epochs}", unit="sample",
                       disable=tqdm_disable(progress), dynamic_ncols=True)
            while position < n:
                idx = order[position:position + step]
                if s.eta_warmup:
                    learner.set_eta(eta * eta_factor(s, learner.samples_seen + len(idx)))
                predicted = learner.train(x[idx], y[idx])
                position += len(idx)
                bar.update(len(idx))
                if predicted is not None:
                    correct += int(np.sum(predicted == y[idx]))
                    bar.set_postfix(train_acc=f"{correct / position:.3f}", refresh=False)
                if on_batch is not None:
                    on_batch(position)
                if clock.due(position, n):
                    self._commit(learner, epoch, position,
                                 {"epoch_correct": np.array(correct),
                                  "epoch_wall_s": np.array(wall_before + time.time() - t0)})
                    clock.saved()
            bar.close()
            loss = learner.end_epoch(n)
            check_diverged(learner.weights + ([np.asarray(loss)] if loss is not None else []), epoch, eta)
            train_wall = wall_before + time.time() - t0
            compile_s = accel.compile_seconds() - compiling0     # the loops compiling: not training
            row = {"epoch": epoch + 1, "eta": eta}
            if loss is not None:
                row["train_loss"] = loss
            # a learner that cannot say what it predicted while it learned is scored after the epoch
            row["train_acc"] = correct / n if predicted is not None else \
                accuracy_from_counts(learner.evaluate(x, "train", progress), y)
            t1 = time.time()
            test_scores = learner.evaluate(test_set.x, "test", progress)
            row.update(test_acc=accuracy_from_counts(test_scores, test_set.y),
                       train_samples=n, test_samples=len(test_set.y),
                       train_wall_s=round(train_wall, 3), test_wall_s=round(time.time() - t1, 3),
                       samples_per_s=round(n / max(train_wall - compile_s, 1e-9), 2),
                       **learner.epoch_metrics(test_scores))
            if val_set is not None:
                val_scores = learner.evaluate(val_set.x, "val", progress)
                row.update(val_acc=accuracy_from_counts(val_scores, val_set.y), val_samples=len(val_set.y))
            self.metrics.append({k: row[k] for k in learner.metric_columns if k in row})
            epoch, position = epoch + 1, 0
            self._commit(learner, epoch, 0)
            if progress:
                print(epoch_line(self.metrics[-1]), flush=True)
        return self.metrics


def _compile_line(estimate_s: Optional[float], cached: bool):
    """What a run prints when the numba loops start compiling (a cache miss), above
    the progress bar, so a bar at 0 % for a while is not taken for a hang."""
    from tqdm.auto import tqdm
    why = "first run after an install or edit" if cached else "no disk cache here: every run compiles"
    took = f", ~{estimate_s:.0f} s" if estimate_s else ""
    tqdm.write(f"compiling the numba loops ({why}{took})", file=sys.stdout)
    sys.stdout.flush()


def epoch_line(row: dict) -> str:
    """The one line a finished epoch prints."""
    val = f"val {100 * row['val_acc']:.2f}%  " if "val_acc" in row else ""
    return (f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f}%  {val}"
            f"test {100 * row['test_acc']:.2f}%  ({row['samples_per_s']:.0f} samples/s)")
