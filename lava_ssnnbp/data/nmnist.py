"""N-MNIST through tonic: events binned into T binary frames of 2 x 34 x 34 pixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .core import DataError, Dataset, stratified_indices

SENSOR = (34, 34, 2)  # x, y, polarity (tonic.datasets.NMNIST.sensor_size)
FRAME = 2 * 34 * 34  # 2312 inputs per step, flattened from (polarity, y, x)
FOLDERS = {"train": "Train", "test": "Test"}  # tonic: <save_to>/NMNIST/<folder>/<digit>/<id>.bin
COUNTS = {"train": 60000, "test": 10000}  # .bin files in the complete original release
LAYOUT = "<root>/NMNIST/{Train,Test}/<digit 0-9>/<nnnnn>.bin (tonic's layout)"


def _offline_class():
    import tonic.datasets

    class NMNIST(tonic.datasets.NMNIST):
        """tonic's NMNIST over an already-extracted folder: never downloads.

        Stock tonic only trusts a folder if train.zip/test.zip lies beside it (it checks presence, not
        the md5) and it holds >= 10000 .bin files; else it downloads. This subclass overrides
        tonic's `_check_exists` hook so a local folder is used as is (we check it ourselves). The
        class keeps the name NMNIST because tonic derives the sub-folder from the class name.
        """

        def _check_exists(self) -> bool:
            return True

        def download(self) -> None:
            raise DataError(f"N-MNIST folder {self.location_on_system} is incomplete")

    return NMNIST


def find_root(roots: list[Path], split: str) -> Path | None:
    """First save_to folder (root/nmnist or root) holding NMNIST/<Train|Test>."""
    for root in roots:
        for cand in (root / "nmnist", root):
            if (cand / "NMNIST" / FOLDERS[split]).is_dir():
                return cand
    return None


def searched(roots: list[Path], split: str) -> list[str]:
    return [str(c / "NMNIST" / FOLDERS[split]) for r in roots for c in (r / "nmnist", r)]


def load_nmnist(roots: list[Path], split: str, steps: int, *, download_to: Path | None = None,
                verify: bool = True, max_samples: int | None = None) -> Dataset:
    """Load N-MNIST as uint8 (N, steps, 2312) spike frames.

    Each recording (~300 ms) is cut into `steps` equal time bins by tonic's ToFrame(n_time_bins);
    event counts per pixel and bin are clipped to 1. download_to: save_to folder for tonic's
    download when the data set is not found (None: no download).
    verify: require the complete release (60000 train / 10000 test recordings).
    max_samples: load only a class-balanced subset of this size (seed 0) to save time.
    """
    import tonic.transforms

    if steps is None or int(steps) < 1:
        raise DataError("N-MNIST needs steps >= 1 (the number of time bins / frames per sample)")
    steps = int(steps)
    root = find_root(roots, split)
    to_frame = tonic.transforms.ToFrame(sensor_size=SENSOR, n_time_bins=steps)
    if root is None:
        if download_to is None:
            raise DataError(f"N-MNIST {split} set not found; searched: {', '.join(searched(roots, split))}. "
                            f"Expected layout {LAYOUT}. Pass --data-dir or set SSNNBP_DATA, or download.")
        import tonic.datasets
        try:
            ds = tonic.datasets.NMNIST(save_to=str(download_to), train=split == "train", transform=to_frame)
        except Exception as e:  # network, zip or md5 failure inside tonic
            raise DataError(f"N-MNIST download to {download_to} failed: {type(e).__name__}: {e}") from None
    else:
        ds = _offline_class()(save_to=str(root), train=split == "train", transform=to_frame)
    folder = Path(ds.location_on_system) / ds.folder_name
    if len(ds) == 0:
        raise DataError(f"no .bin recordings in {folder}; expected layout {LAYOUT}")
    if verify and len(ds) != COUNTS[split]:
        raise DataError(f"{folder} holds {len(ds)} .bin recordings, expected {COUNTS[split]} "
                        "(incomplete extraction?); pass verify=False / --no-verify to use it anyway")
    targets = np.asarray(ds.targets, dtype=np.int64)
    idx = np.arange(len(ds)) if max_samples is None else stratified_indices(targets, max_samples, 0)
    x = np.zeros((len(idx), steps, FRAME), dtype=np.uint8)
    for k, i in enumerate(idx):
        path = ds.data[i]
        size = Path(path).stat().st_size
        if size % 5:
            raise DataError(f"corrupt N-MNIST file {path}: {size} bytes is not a multiple of 5 (40-bit events)")
        try:
            frames, _ = ds[i]
        except Exception as e:  # e.g. coordinates outside the 34 x 34 sensor
            raise DataError(f"corrupt N-MNIST file {path}: {type(e).__name__}: {e}") from None
        x[k] = np.minimum(frames, 1).reshape(steps, FRAME)
    return Dataset("nmnist", split, x, targets[idx], 10, (2, 34, 34), "events")
