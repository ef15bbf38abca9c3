"""Known data sets, where they are searched for, and load_dataset."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..validation import check_integer
from . import download as dl
from .core import DataError, Dataset
from .idx import IMAGES_MAGIC, LABELS_MAGIC, idx_length, read_idx, read_idx_pair
from .own import absolute, is_path, load_own

CACHE_DIR = Path("~/.cache/lava_ssnnbp")
SYSTEM_DIR = Path("/usr/share/datasets")
DEFAULT_FILE = "default_mnist_subset.npz"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about one data set. Also readable as a mapping: info['num_classes']."""

    name: str
    title: str
    num_classes: int
    input_shape: tuple
    kind: str  # 'image' | 'events'
    counts: dict  # split -> number of samples
    subdirs: tuple = ()  # sub-folders of each search root that may hold the files
    files: dict = field(default_factory=dict)  # split -> (images, labels), names without .gz
    md5: dict = field(default_factory=dict)  # file name -> md5 of the uncompressed content
    urls: tuple = ()  # download mirrors (base URLs), or the archive URL for EMNIST
    transpose: bool = False  # images stored column-major (EMNIST)
    source: str = ""

    def __getitem__(self, key):
        return getattr(self, key)


_IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", "MNIST", 10, (28, 28), "image", {"train": 60000, "test": 10000},
        subdirs=("mnist", "MNIST", "MNIST/raw"), files=_IDX_FILES,
        md5={"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
             "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
             "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
             "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"},
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        source="Y. LeCun, C. Cortes, C. Burges; CC BY-SA 3.0"),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist", "Fashion-MNIST", 10, (28, 28), "image", {"train": 60000, "test": 10000},
        subdirs=("fashion-mnist", "fashion_mnist", "FashionMNIST", "FashionMNIST/raw"), files=_IDX_FILES,
        md5={"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
             "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
             "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
             "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"},
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        source="H. Xiao, K. Rasul, R. Vollgraf (Zalando); MIT licence"),
    # EMNIST balanced. No per-file md5 of the uncompressed idx files could be confirmed (NIST
    # publishes only the archive), so verify=True checks structure only: magic, dims, length,
    # sample counts (112800 / 18800) and label range.
    "emnist": DatasetInfo(
        "emnist", "EMNIST balanced", 47, (28, 28), "image", {"train": 112800, "test": 18800},
        subdirs=("emnist", "emnist/gzip", "EMNIST", "EMNIST/raw", "EMNIST/gzip", "gzip"),
        files={s: (f"emnist-balanced-{s}-images-idx3-ubyte", f"emnist-balanced-{s}-labels-idx1-ubyte")
               for s in SPLITS},
        urls=("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",), transpose=True,
        source="G. Cohen, S. Afshar, J. Tapson, A. van Schaik (NIST SD 19 derived)"),
    "nmnist": DatasetInfo(
        "nmnist", "N-MNIST", 10, (2, 34, 34), "events", {"train": 60000, "test": 10000},
        subdirs=("nmnist", ""), source="G. Orchard et al. 2015; CC BY-SA 4.0; read through tonic"),
    "default": DatasetInfo(
        "default", "MNIST subset shipped with the package", 10, (28, 28), "image",
        {"train": 6000, "test": 1000}, source="MNIST (see lava_ssnnbp/data/README.md)"),
}


def search_dirs(data_dir=None) -> list[Path]:
    """Search roots, first match wins: data_dir, $SSNNBP_DATA (os.pathsep-separated), ~/.cache/lava_ssnnbp,
    /usr/share/datasets. Each data set lives in a named sub-folder of a root (see DATASETS[..].subdirs)."""
    roots = [] if data_dir is None else [Path(data_dir)]
    roots += [Path(p) for p in os.environ.get("SSNNBP_DATA", "").split(os.pathsep) if p]
    roots += [CACHE_DIR, SYSTEM_DIR]
    out = []
    for r in roots:
        r = r.expanduser()
        if r not in out:
            out.append(r)
    return out


def _candidates(info: DatasetInfo, data_dir) -> list[Path]:
    """Folders that may hold the idx files: <root>/<subdir> for each root, then data_dir itself."""
    folders = [root / sub for root in search_dirs(data_dir) for sub in info.subdirs]
    if data_dir is not None:
        folders.append(Path(data_dir).expanduser())
    return folders


def _find(folder: Path, name: str) -> Path | None:
    for f in (folder / name, folder / (name + ".gz")):
        if f.is_file():
            return f
    return None


def _locate(info: DatasetInfo, split: str, data_dir) -> Path | None:
    """The first candidate folder holding the split's images file (load_dataset's choice)."""
    return next((f for f in _candidates(info, data_dir) if _find(f, info.files[split][0])), None)


def _load_idx(info: DatasetInfo, split: str, data_dir, download: bool, verify: bool) -> Dataset:
    img_name, lab_name = info.files[split]
    folders = _candidates(info, data_dir)
    folder = _locate(info, split, data_dir)
    if folder is None and download:
        folder = Path(data_dir or CACHE_DIR).expanduser() / info.subdirs[0]
        _download(info, split, folder, verify)
    if folder is None:
        raise DataError(f"{info.title} file {img_name}(.gz) not found; searched: "
                        f"{', '.join(map(str, folders))}. Pass --data-dir or set SSNNBP_DATA "
                        "(or use download=True / --download).")
    images, labels = _find(folder, img_name), _find(folder, lab_name)
    if labels is None:
        raise DataError(f"{info.title} file {lab_name}(.gz) not found in {folder} (beside {images.name})")
    x, y = read_idx_pair(images, labels, info.num_classes, info.md5 if verify else None, info.transpose)
    if len(y) == 0:
        raise DataError(f"{images} holds no samples")
    if verify and len(y) != info.counts[split]:
        raise DataError(f"{images} has {len(y)} samples, expected {info.counts[split]} for {info.title} "
                        f"{split}; pass verify=False / --no-verify to use it anyway")
    return Dataset(info.name, split, x, y, info.num_classes, info.input_shape, info.kind)


def _download(info: DatasetInfo, split: str, folder: Path, verify: bool) -> None:
    def check(tmp: Path, name: str) -> None:  # structure (+ md5) of a fetched file before it is kept
        magic = IMAGES_MAGIC if "images" in name else LABELS_MAGIC
        read_idx(tmp, magic, info.md5.get(name) if verify else None)

    folder.mkdir(parents=True, exist_ok=True)
    if info.name == "emnist":
        dl.download_emnist(info.urls[0], list(info.files[split]), folder, check)
    else:
        dl.download_idx_files(info.urls, list(info.files[split]), folder, check)


def _load_default(split: str) -> Dataset:
    res = resources.files("lava_ssnnbp.data").joinpath(DEFAULT_FILE)
    try:
        with resources.as_file(res) as path, np.load(path, allow_pickle=False) as z:
            x, y = z[f"x_{split}"], z[f"y_{split}"]
    except (OSError, KeyError, ValueError) as e:
        raise DataError(f"embedded data set {DEFAULT_FILE} is missing or corrupt: {e}") from None
    if x.dtype != np.uint8 or x.shape[1:] != (28, 28) or len(x) != len(y) or y.max() >= 10:
        raise DataError(f"embedded data set {DEFAULT_FILE}: unexpected {split} arrays "
                        f"x {x.dtype}{x.shape}, y {y.dtype}{y.shape}")
    x = x.reshape(len(x), 784).astype(np.float32) / np.float32(255.0)
    return Dataset("default", split, x, y.astype(np.int64), 10, (28, 28), "image")


def load_dataset(name: str, split: str = "train", data_dir=None, *, steps: int | None = None,
                 download: bool = False, verify: bool = True, max_samples: int | None = None,
                 cache_dir=None) -> Dataset:
    """Load a data set split into memory.

    name: one of DATASETS, or the path of a data set of one's own (a .npz file or a folder of
    idx files, :mod:`.own`; data_dir, steps and verify do not apply to it).
    split: 'train' or 'test'. data_dir: folder searched first.
    steps: frames per sample (time bins), required for 'nmnist', ignored otherwise.
    download: fetch missing files (to data_dir/<name> or ~/.cache/lava_ssnnbp/<name>).
    verify: check md5s of the uncompressed idx files (and sample counts).
    max_samples: keep a class-balanced subset (seed 0); for 'nmnist' only these files are read.
    cache_dir: 'nmnist' only: keep the binned frames in a tonic.DiskCachedDataset there.
    Raises DataError for anything wrong with the data (one line naming the file or folder).
    """
    name = dataset_name(name)
    if max_samples is not None:
        check_integer("max_samples", max_samples, 0)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} for {name}; valid splits: train, test")
    if name not in DATASETS:   # a path: the researcher's own data set
        if download:
            raise DataError(f"{name}: download applies to the built-in data sets, not to a path")
        ds = getattr(load_own(name), split)
        return ds if max_samples is None else ds.subset(max_samples)
    if name == "nmnist":
        from .nmnist import load_nmnist
        target = Path(data_dir or CACHE_DIR).expanduser() / "nmnist" if download else None
        return load_nmnist(search_dirs(data_dir), split, steps, download_to=target, verify=verify,
                           max_samples=max_samples, cache_dir=cache_dir)
    if name == "default":
        ds = _load_default(split)
    else:
        ds = _load_idx(DATASETS[name], split, data_dir, download, verify)
    return ds if max_samples is None else ds.subset(max_samples)



def dataset_name(text) -> str:
    """A data set argument as runs record it: a built-in name as it is, a path made absolute
    (:func:`.own.is_path`); a DataError for anything else (an unknown name)."""
    text = str(text)
    if text in DATASETS:
        return text
    if text.strip() and is_path(text):
        return absolute(text)
    raise DataError(f"unknown data set {text!r}; valid names: {', '.join(sorted(DATASETS))}, or the path of "
                    "a .npz file or of a folder of idx files")


def dataset_info(name) -> DatasetInfo:
    """What is known about a data set before training: the registry's entry for a built-in name;
    for a path, its sizes read from the data (which :func:`load_dataset` then reuses)."""
    name = dataset_name(name)
    if name in DATASETS:
        return DATASETS[name]
    own = load_own(name)
    return DatasetInfo(name, Path(name).name, own.train.num_classes, own.train.input_shape, "image",
                       {"train": len(own.train), "test": len(own.test)}, source=f"{own.source['path']} "
                       f"({own.source['format']}, SHA-256 {own.source['sha256']}; test split: {own.source['test']})")


def describe(name: str, data_dir=None, verify: bool = False) -> str:
    """Where data set ``name`` is found and the state of its files, in one line (``ssnnbp info``).

    Always checked (fast): each file's header against its size, and the sample
    counts. ``verify``: also what load_dataset(verify=True) checks, the MD5 of
    every file's content, which reads them all; otherwise the line says the
    checksums were not verified."""
    info = DATASETS[name]
    if name == "default":
        try:
            n = {s: len(_load_default(s)) for s in SPLITS}
        except DataError as e:
            return f"BROKEN: {e}"
        return f"embedded in the package: train {n['train']}, test {n['test']} samples"
    if name == "nmnist":
        return _describe_nmnist(data_dir, verify)
    where, counts = [], []
    for split in SPLITS:
        folder = _locate(info, split, data_dir)
        if folder is None:
            return "not found" + (f" (only the {SPLITS[1 - SPLITS.index(split)]} split)" if where else "")
        if str(folder) not in where:
            where.append(str(folder))
        images, labels = _find(folder, info.files[split][0]), _find(folder, info.files[split][1])
        try:
            if labels is None:
                raise DataError(f"{info.files[split][1]}(.gz) missing beside {images.name}")
            n, m = idx_length(images, IMAGES_MAGIC), idx_length(labels, LABELS_MAGIC)
            if n != m:
                raise DataError(f"{images} has {n} images but {labels} has {m} labels")
            if n != info.counts[split]:
                raise DataError(f"{images} has {n} samples, expected {info.counts[split]} "
                                "(loads only with --no-verify)")
            if verify:
                _load_idx(info, split, data_dir, download=False, verify=True)
        except DataError as e:
            state = "checksum FAIL" if str(e).startswith("checksum mismatch") else "BROKEN"
            return f"found in {', '.join(where)} but {state}: {e}"
        counts.append(f"{split} {n}")
    state = ("checksums pass" if info.md5 else "structure and sample counts pass (no published checksums)") \
        if verify else "checksums not verified (ssnnbp info --verify)"
    return f"found in {', '.join(where)}: {', '.join(counts)} samples; {state}"


def _describe_nmnist(data_dir, verify: bool) -> str:
    from .nmnist import COUNTS, FOLDERS, find_root
    roots, where, counts = search_dirs(data_dir), [], []
    for split in SPLITS:
        root = find_root(roots, split)
        if root is None:
            return "not found"
        folder = root / "NMNIST" / FOLDERS[split]
        where.append(str(folder))
        if verify:
            n = sum(1 for _ in folder.glob("*/*.bin"))
            if n != COUNTS[split]:
                return f"found in {', '.join(where)} but INCOMPLETE: {n} {split} recordings, expected {COUNTS[split]}"
            counts.append(f"{split} {n}")
    if not verify:
        return f"found in {', '.join(where)}; recordings not counted (ssnnbp info --verify)"
    return f"found in {', '.join(where)}: {', '.join(counts)} recordings (complete; no published checksums)"
