"""A researcher's own data set, named by its path: a ``.npz`` file of arrays, or a folder of
idx files in MNIST's layout (``ssnnbp train --dataset PATH``, ``load_dataset(PATH)``).

``.npz`` (``np.savez``; read without pickles):

* ``x``: samples (N, D), (N, H, W) or (N, C, H, W); float values in [0, 1], or uint8 0..255
  (divided by 255), or bool (0/1). ``x_train`` is accepted for ``x``.
* ``y``: integer class labels (N,), 0..K-1, every class present. ``y_train`` for ``y``.
* ``x_test``, ``y_test`` (optional, both or neither): the test split, checked alike.

idx folder: ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (each raw or ``.gz``),
optionally ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``; images of any H x W,
uint8 divided by 255.

Without a test split, a class-balanced fifth of the training samples (``HELDOUT_SEED``, the same
for every run) is the test split and the rest the training split. K is the largest training
label + 1. The fingerprint is the SHA-256 of the file; of a folder, the SHA-256 of the
``sha256sum``-style lines (``<sha256>  <name>``) of the idx files it reads.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np

from .core import DataError, Dataset
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

HELDOUT_SEED = 0           # which samples are the test split of a data set without one
HELDOUT_FRACTION = 5       # one in this many
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
NPZ_NAMES = {"x": ("x", "x_train"), "y": ("y", "y_train"), "x_test": ("x_test",), "y_test": ("y_test",)}
FORMAT_HELP = ("a .npz file with x (N, D), (N, H, W) or (N, C, H, W): float in [0, 1] or uint8 0..255 "
               "(divided by 255), y: integer labels 0..K-1, and optionally x_test, y_test; or a folder "
               "of idx files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], optionally "
               "t10k-...). Without a test split, a fixed class-balanced fifth of the samples is held out "
               "as the test set")


def is_path(text: str) -> bool:
    """Whether a data set argument names a file or folder rather than a built-in data set:
    it has a path separator, starts with ``~``, ends with ``.npz``, or exists."""
    return (os.sep in text or text.startswith("~") or text.endswith(".npz")
            or os.path.exists(text))


def absolute(text) -> str:
    """The absolute path a run records (``~`` expanded; symbolic links kept as named)."""
    return os.path.abspath(os.path.expanduser(str(text)))


# ------------------------------------------------------------------ files and fingerprints
def _files(path: str) -> tuple[str, dict]:
    """``(format, {role: file})`` of a data set path: 'npz' ({'npz': path}) or 'idx'
    ({'train-images...': file, ...}: the idx files found), or one DataError."""
    p = Path(path)
    if p.is_dir():
        found = {}
        for split, names in IDX_FILES.items():
            for name in names:
                f = _find(p, name)
                if f is not None:
                    found[name] = f
        train_img, train_lab = IDX_FILES["train"]
        test_img, test_lab = IDX_FILES["test"]
        if train_img not in found:
            raise DataError(f"{p}: no {train_img}(.gz): a folder data set holds idx files named as MNIST's "
                            f"({train_img}, {train_lab}, optionally {test_img}, {test_lab})")
        for img, lab in ((train_img, train_lab), (test_img, test_lab)):
            if (img in found) != (lab in found):
                have, miss = (img, lab) if img in found else (lab, img)
                raise DataError(f"{p}: {have} without {miss}(.gz) beside it")
        return "idx", found
    if p.is_file():
        return "npz", {"npz": p}
    if os.path.lexists(p):
        raise DataError(f"{p}: not a file or folder")
    raise DataError(f"{p}: no such file or folder (--dataset takes a built-in name or the path of "
                    "a .npz file or of a folder of idx files)")


def _find(folder: Path, name: str) -> Optional[Path]:
    raw, gz = folder / name, folder / (name + ".gz")
    if raw.is_file() and gz.is_file():
        raise DataError(f"{folder}: both {name} and {name}.gz: keep one")
    return raw if raw.is_file() else gz if gz.is_file() else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    return h.hexdigest()


def fingerprint(path) -> dict:
    """``{"path", "format", "sha256"}`` of the data set at ``path`` (see the module's docstring),
    or one DataError if it is missing or is not a data set. The files are read each time (a
    file rewritten within a file system's timestamp resolution would fool a cache)."""
    path = absolute(path)
    fmt, files = _files(path)
    if fmt == "npz":
        digest = _sha256(files["npz"])
    else:
        lines = "".join(f"{_sha256(f)}  {f.name}\n" for f in files.values())
        digest = hashlib.sha256(lines.encode()).hexdigest()
    return {"path": path, "format": fmt, "sha256": digest}


# ------------------------------------------------------------------ loading
@dataclass(frozen=True)
class OwnData:
    """Both splits of a data set read from a path, and where its test split came from."""
    train: Dataset
    test: Dataset
    source: dict    # fingerprint() plus "test": "x_test" / "t10k files" / the held-out rule


_LAST: dict = {}   # the last data set read, by path and SHA-256: train, test and sizes from one read


def load_own(path) -> OwnData:
    """The data set at ``path``, every array checked (one DataError naming the file, the array
    and the problem). The last one read is kept while its files hash the same, so that its
    sizes, training and test splits come from one read of the arrays."""
    source = fingerprint(path)
    fmt, files = _files(source["path"])
    key = (source["path"], source["sha256"])
    if key in _LAST:
        return _LAST[key]
    name = source["path"]
    if fmt == "npz":
        (x, shape), y, test = _read_npz(files["npz"])
    else:
        (x, shape), y, test = _read_idx_folder(files)
    y = _labels(y, len(x), *_where(fmt, files, "y"))
    k = int(y.max()) + 1
    _all_classes(y, k, *_where(fmt, files, "y"))
    train = Dataset(name, "train", x, y, k, shape, "image")
    if test is not None:
        (xt, tshape), yt, what = test
        where, arr = _where(fmt, files, "y_test")
        yt = _labels(yt, len(xt), where, arr)
        if tshape != shape:
            raise DataError(f"{_where(fmt, files, 'x_test')[0]}: test samples are {_shape(tshape)}, the training "
                            f"samples {_shape(shape)}")
        if yt.max() >= k:
            raise DataError(f"{where}: {arr} has label {int(yt.max())}, but the training labels are 0..{k - 1} "
                            f"({k} classes)")
        rest, test_set = train, Dataset(name, "test", xt, yt, k, shape, "image")
    else:
        what = f"held out: a class-balanced 1/{HELDOUT_FRACTION} of the training samples (seed {HELDOUT_SEED})"
        # at least 2 samples: every one of K >= 2 classes has one
        rest, held = train.split_off(max(1, len(y) // HELDOUT_FRACTION), HELDOUT_SEED)
        test_set = replace(held, split="test")
    source = {**source, "test": what}
    own = OwnData(replace(rest, source=source), replace(test_set, source=source), source)
    _LAST.clear()
    _LAST[key] = own
    return own


def _where(fmt: str, files: dict, array: str) -> tuple[str, str]:
    """(file, array name) for messages: the npz and its array, or the idx file."""
    if fmt == "npz":
        return str(files["npz"]), array
    img, lab = IDX_FILES["test" if array.endswith("_test") else "train"]
    return str(files[lab] if array.startswith("y") else files[img]), "the file"


def _read_npz(path: Path):
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise DataError(f"{path}: not a .npz file (no zip archive): --dataset takes a .npz file or a "
                                "folder of idx files")
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            arrays = {}
            for key, aliases in NPZ_NAMES.items():
                given = [a for a in aliases if a in names]
                if len(given) > 1:
                    raise DataError(f"{path}: both {' and '.join(given)}: keep one")
                if given:
                    arrays[key] = _array(z, given[0], path)
    except DataError:
        raise
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    except (ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise DataError(f"{path}: no array {key!r} (it has: {', '.join(names) or 'none'}); a data set .npz "
                            "holds x, y and optionally x_test, y_test")
    extra = sorted(set(names) - {a for aliases in NPZ_NAMES.values() for a in aliases})
    if extra:
        raise DataError(f"{path}: unexpected array{'s' * (len(extra) > 1)} {', '.join(extra)} (a data set .npz "
                        "holds x, y and optionally x_test, y_test)")
    if ("x_test" in arrays) != ("y_test" in arrays):
        have, miss = ("x_test", "y_test") if "x_test" in arrays else ("y_test", "x_test")
        raise DataError(f"{path}: {have} without {miss}: give both or neither")
    x = _samples(arrays["x"], str(path), "x")
    test = None
    if "x_test" in arrays:
        test = _samples(arrays["x_test"], str(path), "x_test"), arrays["y_test"], "x_test, y_test"
    return x, arrays["y"], test


def _array(z, name: str, path: Path) -> np.ndarray:
    try:
        return z[name]
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise
        raise DataError(f"{path}: array {name} holds Python objects, which are never unpickled: store "
                        "numbers") from None


def _read_idx_folder(files: dict):
    (img, lab), (timg, tlab) = IDX_FILES["train"], IDX_FILES["test"]
    x = _samples(read_idx(files[img], IMAGES_MAGIC), str(files[img]), "the file")
    y = read_idx(files[lab], LABELS_MAGIC)
    test = None
    if timg in files:
        test = (_samples(read_idx(files[timg], IMAGES_MAGIC), str(files[timg]), "the file"),
                read_idx(files[tlab], LABELS_MAGIC), "t10k files")
    return x, y, test


def _shape(shape) -> str:
    return " x ".join(map(str, shape))


def _samples(x: np.ndarray, where: str, name: str):
    """Samples as float32 (N, D) in [0, 1] and their shape (D,), (H, W) or (C, H, W)."""
    if x.ndim not in (2, 3, 4):
        raise DataError(f"{where}: {name} has shape {x.shape}: expected (N, D), (N, H, W) or (N, C, H, W)")
    if len(x) == 0 or 0 in x.shape[1:]:
        raise DataError(f"{where}: {name} holds no samples (shape {x.shape})")
    kind = x.dtype.kind
    if not (kind == "f" or kind == "b" or x.dtype == np.uint8):
        raise DataError(f"{where}: {name} is {x.dtype}: expected float values in [0, 1], uint8 values 0..255 "
                        "or bool")
    if kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(np.argmax(bad.reshape(len(x), -1).any(axis=1)))
            raise DataError(f"{where}: {name} holds {int(bad.sum())} NaN or infinite values (the first in "
                            f"sample {first})")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            hint = "; 0..255 pixels: store them as uint8, or divide by 255" if hi > 1 else ""
            raise DataError(f"{where}: {name} has values in [{lo:g}, {hi:g}], outside [0, 1]{hint}")
        flat = x.reshape(len(x), -1).astype(np.float32)
    else:   # uint8 0..255 or bool 0/1
        flat = x.reshape(len(x), -1).astype(np.float32) / np.float32(255 if kind == "u" else 1)
    return flat, tuple(int(d) for d in x.shape[1:])


def _labels(y: np.ndarray, n: int, where: str, name: str) -> np.ndarray:
    """Labels as int64 (n,), integers >= 0, one per sample."""
    if y.ndim != 1:
        hint = " (one-hot rows? give y.argmax(1))" if y.ndim == 2 and y.shape[1] > 1 else ""
        raise DataError(f"{where}: {name} has shape {y.shape}: expected one label per sample, ({n},){hint}")
    if y.dtype.kind not in "iu":
        hint = " (whole numbers: store y.astype(int))" if y.dtype.kind == "f" else ""
        raise DataError(f"{where}: {name} is {y.dtype}: labels must be integers 0..K-1{hint}")
    if len(y) != n:
        raise DataError(f"{where}: {name} holds {len(y)} labels for {n} samples")
    if len(y) and y.min() < 0:
        raise DataError(f"{where}: {name} has label {int(y.min())}: labels must be 0..K-1")
    return y.astype(np.int64)


def _all_classes(y: np.ndarray, k: int, where: str, name: str):
    if k < 2:
        raise DataError(f"{where}: {name} has one class only (label 0): a classifier needs at least 2")
    present = set(np.unique(y).tolist())
    n_missing = k - len(present)
    if n_missing:
        missing = [c for c in range(min(k, len(present) + 6)) if c not in present][:5]
        listed = ", ".join(map(str, missing)) + (", ..." if n_missing > len(missing) else "")
        hint = "; 1-based labels? subtract 1" if missing == [0] and n_missing == 1 else ""
        raise DataError(f"{where}: {name} has no sample of class{'es' * (n_missing > 1)} {listed} (labels run "
                        f"0..{k - 1}: K is the largest label + 1, and every class needs samples){hint}")
