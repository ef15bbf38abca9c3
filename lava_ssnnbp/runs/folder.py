"""A run folder read back and checked, and how its records compare with a new run's.

A run folder holds::

    config.json        every parameter (model, run settings, seeds, versions) and the run's id
    state.json         which generation of the files below is committed (see :mod:`.state`)
    metrics.json/.csv  one row per finished epoch
    learning_curve.png train/test accuracy per epoch
    weights.npz        final weights (npz, no pickles), see :func:`.weights.load_weights`
    checkpoint.npz     state to resume from (weights, samples seen, epoch, position)

The last five lie in ``state/<generation>/`` and, as copies for people and scripts, at
the top; the library reads the committed generation.

:func:`read_run_folder` is the one path by which 'evaluate', 'info --run' and a resumed
'train' read a folder: every file checked, any problem one RunError naming the file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..config import ConfigError, SSNNConfig
from ..errors import RunError
from .files import jsonable, load_npz, open_regular
from .models import model_kind
from .settings import RunSettings, with_legacy_values
from .state import STATE_FILE, read_committed

RESULT_FILES = ("checkpoint.npz", "weights.npz", "metrics.json", "metrics.csv", "learning_curve.png", "config.json")
PROGRESS_FILES = ("checkpoint.npz", "weights.npz", "metrics.json")   # what a resumed run continues from
CHECKPOINT_FORMAT = 1
CHECKPOINT_COUNTERS = ("format", "epoch", "position", "samples_seen")
EPOCH_SO_FAR = ("epoch_correct", "epoch_wall_s")   # a mid-epoch checkpoint's part of the epoch's metrics


MAX_JSON_BYTES = 64 << 20   # far above any config or metrics file 'ssnnbp train' writes


def read_json(path: Path, what: str):
    """A JSON file of a run folder (a regular file, size-limited), or one RunError naming it."""
    try:
        data = open_regular(path, MAX_JSON_BYTES + 1)
        if len(data) > MAX_JSON_BYTES:
            raise RunError(f"{path}: larger than {MAX_JSON_BYTES >> 20} MiB; not {what} written by 'ssnnbp train'")
        return json.loads(data.decode())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    except (ValueError, RecursionError) as e:   # JSONDecodeError, an integer of 5,000 digits, deep nesting
        why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise RunError(f"{path}: not valid JSON ({why}); not {what} written by 'ssnnbp train'") from None


def read_run_config(run: Path):
    """``(saved, cfg, settings)`` of a run folder's config.json: the model and run
    settings checked as SSNNConfig and RunSettings check them, or one RunError
    naming the file and what is wrong."""
    run = Path(run)
    if os.path.lexists(run) and not run.is_dir():
        raise RunError(f"{run} is a file, not a run folder")
    path = run / "config.json"
    try:
        saved = read_json(path, "a run configuration")
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
        d = read_json(path, "a metrics file")
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
    return model_kind(settings.model).check_weights(cfg, settings, weights, what)


def n_weight_arrays(cfg: SSNNConfig, settings: RunSettings) -> int:
    return model_kind(settings.model).n_weight_arrays(cfg, settings)


def read_checkpoint(path: Path, cfg: SSNNConfig, settings: RunSettings) -> dict:
    """A checkpoint.npz, every entry checked (integer counters, the network's
    weights, the learner's own state), or a RunError naming the file."""
    z = load_npz(path)

    def bad(why):
        raise RunError(f"{path}: {why}")
    for key in CHECKPOINT_COUNTERS:
        if key not in z:
            bad(f"no '{key}' entry (not a checkpoint written by 'ssnnbp train')")
    for key in CHECKPOINT_COUNTERS + ("epoch_correct",) * ("epoch_correct" in z):
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
    kind = model_kind(settings.model)
    weights = [f"w{k}" for k in range(kind.n_weight_arrays(cfg, settings))]
    missing = [k for k in weights if k not in z]
    if missing:
        bad(f"no {', '.join(missing)} (the network {'-'.join(map(str, cfg.sizes))} has {len(weights)} "
            "weight arrays)")
    kind.check_weights(cfg, settings, [z[k] for k in weights], str(path))
    own = kind.checkpoint_entries(z, cfg, settings, bad)
    extra = sorted(set(z) - set(CHECKPOINT_COUNTERS) - set(EPOCH_SO_FAR) - set(weights) - own)
    if extra:
        bad(f"unexpected entries {', '.join(extra)}")
    return z


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

        def read(state, manifest):
            if manifest is not None and manifest.run_id != saved.get("run_id"):
                raise RunError(f"{run / STATE_FILE}: belongs to run {manifest.run_id}, but config.json is run "
                               f"{saved.get('run_id')}'s (files copied between run folders?)")
            metrics = read_metrics(state / "metrics.json")
            ck_path, w_path = state / "checkpoint.npz", state / "weights.npz"
            ck = read_checkpoint(ck_path, cfg, settings) if os.path.lexists(ck_path) else None
            kind = model_kind(settings.model)
            weights = kind.load_weights(w_path, cfg, settings) if os.path.lexists(w_path) else None
            committed = "the committed state" if manifest is not None else "metrics.json"
            if ck is not None and int(ck["epoch"]) not in (len(metrics), len(metrics) - 1):
                # committed together: equal; a folder from before state.json: one behind after a kill
                raise RunError(f"{ck_path}: at epoch {int(ck['epoch'])}, but {committed} records "
                               f"{len(metrics)} finished epochs")
            # a folder from before state.json may lack the checkpoint after a kill: trained again
            for path, have in ((w_path, weights), (ck_path, ck if manifest is not None else True)):
                if metrics and have is None:
                    raise RunError(f"{path}: missing, though {committed} records {len(metrics)} finished epochs")
            return metrics, ck, weights
        metrics, ck, weights = read_committed(run, read)
    except RunError as e:
        raise RunError(f"{e}{hint}") from None
    return RunFolder(run, saved, cfg, settings, metrics, ck, weights)


def versions() -> dict:
    """Python, platform and package versions, as config.json records them."""
    import importlib.metadata as md
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("lava-ssnnbp", "lava-nc", "numpy", "tonic"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


# ------------------------------------------------------------------ saved records vs a new run
def same_model(old: dict, cfg: SSNNConfig) -> bool:
    """The saved model config equals ``cfg``; parameters added to SSNNConfig after
    the run was started count as their defaults (so old runs stay resumable)."""
    known = {f.name for f in dataclasses.fields(SSNNConfig)}
    if set(old) - known - {"tau_steps"}:
        return False
    return normalised_config(old) == jsonable(cfg.to_dict())


def normalised_config(d: dict) -> dict:
    """A saved model config as the current SSNNConfig writes it (new fields at their defaults)."""
    return jsonable(SSNNConfig.from_dict(d).to_dict())


def same_settings(old: dict, new: dict, ignore=("epochs", "checkpoint_s", "data_dir")) -> bool:
    """Whether two saved RunSettings train the same way, apart from ``ignore``
    (by default what may change on resume: more epochs, checkpoint interval, data
    folder). Settings added after a run was saved count as their defaults."""
    ignore = set(ignore)
    defaults = {f.name: f.default for f in dataclasses.fields(RunSettings)
                if f.default is not dataclasses.MISSING}

    def norm(d):
        return {k: v for k, v in jsonable({**defaults, **with_legacy_values(d)}).items() if k not in ignore}
    return norm(old) == norm(new)
