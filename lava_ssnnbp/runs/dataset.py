"""The data a run trains on: its record in the run folder (``data.json``), and the checks of
data against the network and against that record.

``data.json`` holds the SHA-256 of the training set (images and labels, as trained on) and
its size, written when the run first trains and compared when it resumes. A run on a data set
of one's own (a path, :mod:`lava_ssnnbp.data.own`) also records the data set's absolute
path, format and file SHA-256 (``source``), so that 'evaluate' and 'info --run' find the data
again and say in one line if it moved or changed.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..config import SSNNConfig
from ..data import DataError
from ..data.own import fingerprint
from ..errors import RunError
from .folder import read_json

DATA_FILE = "data.json"


def training_set_record(train_set) -> dict:
    """What ``data.json`` records of a training set (any object with arrays x and y, and a
    ``source`` where it was read from a path)."""
    digest = hashlib.sha256()
    for a in (train_set.x, train_set.y):
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(memoryview(a).cast("B"))
    record = {"training_set_sha256": digest.hexdigest(), "samples": int(len(train_set.y))}
    source = getattr(train_set, "source", None)
    if source is not None:
        record["source"] = dict(source)
    return record


def read_data_record(run) -> Optional[dict]:
    """A run folder's ``data.json`` (None where there is none yet), or one RunError."""
    path = Path(run) / DATA_FILE
    try:
        saved = read_json(path, "a training set record")
    except FileNotFoundError:
        return None
    if not isinstance(saved, dict) or not isinstance(saved.get("training_set_sha256"), str) \
            or not isinstance(saved.get("source", {}), dict):
        raise RunError(f"{path}: not a training set record (need an object with 'training_set_sha256')")
    return saved


def check_same_training_set(run, saved: dict, record: dict):
    """A RunError unless a resumed run's training set is the one ``saved`` records."""
    if saved.get("training_set_sha256") == record["training_set_sha256"]:
        return
    path, old, new = Path(run) / DATA_FILE, saved.get("source") or {}, record.get("source") or {}
    if old.get("path") and old.get("path") == new.get("path") and old.get("sha256") != new.get("sha256"):
        raise RunError(f"{old['path']} has changed since {run} started on it (SHA-256 {str(old.get('sha256'))[:16]}... "
                       f"in {path}, now {str(new.get('sha256'))[:16]}...): put the data back, or pass --overwrite "
                       "to start afresh on these")
    raise RunError(f"{run} was trained on another training set ({path} records {str(saved)[:80]}; these "
                   f"{record['samples']} samples hash to {record['training_set_sha256'][:16]}...): other files "
                   "under the same data set name? Pass --overwrite to start afresh on these")


def check_fits(cfg: SSNNConfig, data, what: str):
    """A RunError unless data set ``data`` (x (N, D), y) fits the network: D inputs, labels
    below the number of output neurons."""
    x, y = np.asarray(data.x), np.asarray(data.y)
    sizes = "-".join(map(str, cfg.sizes))
    if x.ndim == 2 and x.shape[1] != cfg.sizes[0]:
        raise RunError(f"the {what} set has {x.shape[1]} inputs per sample, the network {sizes} takes "
                       f"{cfg.sizes[0]}")
    if y.size and y.dtype.kind in "iu" and int(y.max()) >= cfg.sizes[-1]:
        raise RunError(f"the {what} set has label {int(y.max())}, the network {sizes} has {cfg.sizes[-1]} "
                       "output neurons (one per class)")


def check_named(settings, train_set):
    """A RunError if a training set read by :func:`lava_ssnnbp.data.load_dataset` is not the data
    set the run's settings name (which 'evaluate' and a resumed 'train' read again). Arrays
    without a name (any object with x and y) are the caller's to match."""
    name = getattr(train_set, "name", None)
    if isinstance(name, str) and name != settings.dataset:
        raise RunError(f"the training set is {name!r}, but the run's settings name the data set "
                       f"{settings.dataset!r}, which 'ssnnbp evaluate' would read: pass RunSettings(dataset=...) "
                       "naming it (arrays of one's own: np.savez(PATH, x=..., y=...) and the PATH)")


# ------------------------------------------------------------------ the data set of a finished run
def _source(folder) -> Optional[dict]:
    """data.json's record of the data set's file, for a run on a path data set."""
    if not folder.settings.own_data:
        return None
    saved = read_data_record(folder.path)
    return (saved or {}).get("source") or {"path": folder.settings.dataset}


def check_run_data(folder, given: Optional[str] = None):
    """Before 'evaluate' reads a run's own data set from its path: a RunError (one line) if the
    file is no longer there or no longer the one the run trained on. ``given``: the data set
    asked for instead (--dataset), which is then read as it is."""
    source = _source(folder)
    if source is None or (given is not None and os.path.abspath(os.path.expanduser(given)) != source["path"]):
        return
    state = _state(source)
    if state is not None:
        raise RunError(f"the data set of run {folder.path}: {state}; pass --dataset with the data it was "
                       "trained on (or other data to evaluate on)")


def describe_run_data(folder) -> Optional[str]:
    """'info --run': where a run's own data set is and whether it is unchanged; None for a
    built-in data set."""
    source = _source(folder)
    if source is None:
        return None
    state = _state(source)
    if state is not None:
        return f"data set {state}"
    return (f"data set {source['path']} ({source.get('format')}; test split: {source.get('test')}): "
            f"SHA-256 {source['sha256'][:16]}... as when trained")


def _state(source: dict) -> Optional[str]:
    """What is wrong with a recorded data set's file now, or None if it is as recorded."""
    path = source["path"]
    if not os.path.lexists(path):
        return f"{path} is not there any more (moved or deleted?)"
    try:
        now = fingerprint(path)["sha256"]
    except DataError as e:
        return f"{path} cannot be read ({e})"
    if source.get("sha256") is not None and now != source["sha256"]:
        return (f"{path} has changed since the run trained on it (SHA-256 {source['sha256'][:16]}... in "
                f"{DATA_FILE}, now {now[:16]}...)")
    return None
