"""N-MNIST through tonic: events binned into T binary frames of 2 x 34 x 34 pixels."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import memory
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


def tonic_dataset(save_to, split: str, transform=None):
    """tonic's ``NMNIST`` over the folder ``<save_to>/NMNIST/<Train|Test>`` (never downloads):
    raw events per recording, or ``transform(events)`` (e.g. ``tonic.transforms.ToFrame``)."""
    if split not in FOLDERS:
        raise DataError(f"unknown split {split!r}; valid splits: train, test")
    check_class_folders(Path(save_to) / "NMNIST" / FOLDERS[split])
    return _offline_class()(save_to=str(save_to), train=split == "train", transform=transform)


CLASS_FOLDERS = tuple(str(d) for d in range(10))


def check_class_folders(folder: Path):
    """A DataError naming a recording whose folder is not a class folder ``0``..``9`` directly
    in ``folder`` (the split's): tonic takes the label from the last character of the folder's
    name, so ``12/`` would read as class 2 and ``Test/x.bin`` fail inside tonic."""
    for path, dirs, files in os.walk(folder):
        dirs.sort()
        recordings = sorted(f for f in files if f.endswith("bin"))   # what tonic reads
        rel = Path(path).relative_to(folder)
        if recordings and (len(rel.parts) != 1 or rel.parts[0] not in CLASS_FOLDERS):
            raise DataError(f"N-MNIST recording {Path(path) / recordings[0]} is not in a class folder "
                            f"named by one digit 0-9 ({'its folder is ' + str(rel) if rel.parts else 'at the top'} "
                            f"of {folder}); expected layout {LAYOUT}")


class BadRecording(ValueError):
    """A recording whose events cannot be N-MNIST's (the loader names its file)."""


class EventFrames:
    """One recording's events as ``steps`` frames (steps, 2, 34, 34): tonic's
    ``ToFrame(n_time_bins=steps)``, after checking that every event lies on the 34 x 34
    sensor (tonic would drop one in its last bin without a word, or fail deep inside). A
    recording shorter than ``steps`` microseconds (e.g. all events at one timestamp) gets
    bins of zero width from tonic, which would drop every event: its events all go into
    the first frame."""

    def __init__(self, steps: int):
        import tonic.transforms
        self.steps = steps
        self.to_frame = tonic.transforms.ToFrame(sensor_size=SENSOR, n_time_bins=steps)

    def __call__(self, events):
        x, y = events["x"], events["y"]
        outside = np.flatnonzero((x < 0) | (x >= SENSOR[0]) | (y < 0) | (y >= SENSOR[1]))
        if outside.size:
            i = int(outside[0])
            raise BadRecording(f"event {i} at x = {int(x[i])}, y = {int(y[i])} is outside the "
                               f"{SENSOR[0]} x {SENSOR[1]} sensor ({outside.size} such events)")
        t = events["t"]
        if len(t) and (int(t.max()) - int(t.min())) // self.steps == 0:
            frames = np.zeros((self.steps, SENSOR[2], SENSOR[1], SENSOR[0]), dtype=np.int16)
            np.add.at(frames, (0, events["p"].astype(int), y, x), 1)
            return frames
        return self.to_frame(events)


def load_nmnist(roots: list[Path], split: str, steps: int, *, download_to: Path | None = None,
                verify: bool = True, max_samples: int | None = None, cache_dir=None) -> Dataset:
    """Load N-MNIST as uint8 (N, steps, 2312) spike frames.

    Each recording (~300 ms) is cut into `steps` equal time bins by tonic's ToFrame(n_time_bins)
    (:class:`EventFrames`: events off the 34 x 34 sensor are refused, a recording shorter than
    `steps` microseconds lands in the first frame); event counts per pixel and bin are clipped
    to 1. Recordings lie in class folders 0-9 (:func:`check_class_folders`). download_to: save_to folder for tonic's
    download when the data set is not found (None: no download).
    verify: require the complete release (60000 train / 10000 test recordings).
    max_samples: load only a class-balanced subset of this size (seed 0) to save time.
    cache_dir: keep the binned frames on disk with ``tonic.DiskCachedDataset`` (one file per
    recording under ``cache_dir/<split>-T<steps>``); a second load reads them from there. The
    cache is keyed by recording index: clear it when the folder's content changes.
    """
    if steps is None or int(steps) < 1:
        raise DataError("N-MNIST needs steps >= 1 (the number of time bins / frames per sample)")
    steps = int(steps)
    root = find_root(roots, split)
    to_frame = EventFrames(steps)
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
        check_class_folders(root / "NMNIST" / FOLDERS[split])
        ds = _offline_class()(save_to=str(root), train=split == "train", transform=to_frame)
    folder = Path(ds.location_on_system) / ds.folder_name
    if len(ds) == 0:
        raise DataError(f"no .bin recordings in {folder}; expected layout {LAYOUT}")
    if verify and len(ds) != COUNTS[split]:
        raise DataError(f"{folder} holds {len(ds)} .bin recordings, expected {COUNTS[split]} "
                        "(incomplete extraction?); pass verify=False / --no-verify to use it anyway")
    targets = np.asarray(ds.targets, dtype=np.int64)
    frames_of = ds
    if cache_dir is not None:
        import tonic
        cache = Path(cache_dir).expanduser() / f"{split}-T{steps}"
        frames_of = tonic.DiskCachedDataset(ds, cache_path=str(cache))
    idx = np.arange(len(ds)) if max_samples is None else stratified_indices(targets, max_samples, 0)
    _check_frames_fit(len(idx), steps, split)
    x = np.zeros((len(idx), steps, FRAME), dtype=np.uint8)
    for k, i in enumerate(idx):
        path = ds.data[i]
        size = Path(path).stat().st_size
        if size % 5:
            raise DataError(f"corrupt N-MNIST file {path}: {size} bytes is not a multiple of 5 (40-bit events)")
        try:
            frames, _ = frames_of[i]
        except BadRecording as e:
            raise DataError(f"corrupt N-MNIST file {path}: {e}") from None
        except Exception as e:  # anything else tonic cannot read
            raise DataError(f"corrupt N-MNIST file {path}: {type(e).__name__}: {e}") from None
        x[k] = np.minimum(frames, 1).reshape(steps, FRAME)
    return Dataset("nmnist", split, x, targets[idx], 10, (2, 34, 34), "events")


def _check_frames_fit(n: int, steps: int, split: str):
    """A DataError saying what fits, before allocating frames that cannot fit in memory."""
    from ..memory import size
    need, avail = n * steps * FRAME, memory.available_bytes()
    if avail is not None and need > avail:
        raise DataError(f"N-MNIST {split}: {n} samples of {steps} frames (steps) need {size(need)}, "
                        f"{size(avail)} are available; steps <= {avail // (n * FRAME)} fits "
                        "(or load fewer samples)")


# ---------------------------------------------------------------- writing the original format
def encode_events(x, y, p, t) -> bytes:
    """Events in N-MNIST's original binary format: 40 bits each, big-endian:
    x (8 bit), y (8 bit), polarity (1 bit), timestamp in microseconds (23 bit)."""
    x, y, p, t = (np.asarray(a, dtype=np.int64).ravel() for a in (x, y, p, t))
    if not (len(x) == len(y) == len(p) == len(t)):
        raise ValueError("x, y, p, t must have the same length")
    if len(t) and (t.min() < 0 or t.max() >= 2 ** 23 or x.min() < 0 or x.max() > 255 or y.min() < 0
                   or y.max() > 255 or not np.isin(p, (0, 1)).all()):
        raise ValueError("events out of range: x, y in 0..255, p in {0, 1}, t in 0..2**23-1 us")
    out = np.empty((len(t), 5), dtype=np.uint8)
    out[:, 0], out[:, 1] = x, y
    out[:, 2] = (p << 7) | ((t >> 16) & 0x7F)
    out[:, 3], out[:, 4] = (t >> 8) & 0xFF, t & 0xFF
    return out.tobytes()


SACCADES = ((0.0, 0.0), (2.0, 4.0), (4.0, 0.0), (0.0, 0.0))   # triangle of image offsets (x, y) in pixels


def synthetic_recording(image: np.ndarray, rng: np.random.Generator, duration_us: int = 300_000,
                        n_frames: int = 90, threshold: float = 0.15):
    """N-MNIST-like events of a static 28 x 28 image (values in [0, 1]) moved along three saccades.

    A stand-in for the real recordings when they are not available (tests, tutorials): the image
    sits in the 34 x 34 sensor at offset (1, 1) and moves along ``SACCADES`` (a triangle, one
    saccade per third of ``duration_us``), sampled at ``n_frames`` instants with bilinear
    interpolation; a pixel emits an ON event (p = 1) when its intensity has risen by more than
    ``threshold`` since its last event, an OFF event (p = 0) when it has fallen by as much (the
    DVS principle, in linear intensity). Timestamps are jittered uniformly within each frame
    interval. Returns (x, y, p, t) int arrays sorted by time.
    """
    img = np.asarray(image, dtype=np.float64).reshape(28, 28)
    canvas = np.zeros((34, 34))
    canvas[1:29, 1:29] = img
    verts = np.asarray(SACCADES)
    s = np.linspace(0.0, len(verts) - 1, n_frames)
    seg = np.minimum(s.astype(int), len(verts) - 2)
    frac = (s - seg)[:, None]
    offsets = verts[seg] * (1 - frac) + verts[seg + 1] * frac
    ref = canvas.copy()
    xs, ys, ps, ts = [], [], [], []
    dt = duration_us / n_frames
    for k, (ox, oy) in enumerate(offsets):
        ix, iy = int(np.floor(ox)), int(np.floor(oy))
        fx, fy = ox - ix, oy - iy
        sh = np.zeros((34 + 8, 34 + 8))   # room for the shift; the image stays inside 34 x 34
        sh[iy:iy + 34, ix:ix + 34] += (1 - fx) * (1 - fy) * canvas
        sh[iy:iy + 34, ix + 1:ix + 35] += fx * (1 - fy) * canvas
        sh[iy + 1:iy + 35, ix:ix + 34] += (1 - fx) * fy * canvas
        sh[iy + 1:iy + 35, ix + 1:ix + 35] += fx * fy * canvas
        frame = sh[:34, :34]
        diff = frame - ref
        for pol, mask in ((1, diff > threshold), (0, diff < -threshold)):
            yy, xx = np.nonzero(mask)
            xs.append(xx), ys.append(yy), ps.append(np.full(len(xx), pol))
            ts.append((k * dt + rng.random(len(xx)) * dt).astype(np.int64))
            ref[mask] = frame[mask]
    x, y, p, t = (np.concatenate(a).astype(np.int64) for a in (xs, ys, ps, ts))
    order = np.argsort(t, kind="stable")
    return x[order], y[order], p[order], t[order]


def write_synthetic_nmnist(save_to, images: np.ndarray, labels: np.ndarray, split: str = "train",
                           seed: int = 0) -> Path:
    """Write a folder tonic reads as N-MNIST: ``<save_to>/NMNIST/<Train|Test>/<digit>/<nnnnn>.bin``.

    One recording per image (``synthetic_recording``), in the original binary format
    (``encode_events``). For tests and tutorials when the real N-MNIST is not at hand; load it with
    ``load_dataset('nmnist', split, save_to, steps=T, verify=False)``. Returns the split folder.
    """
    base = Path(save_to) / "NMNIST" / FOLDERS[split]
    rng = np.random.default_rng(seed)
    for i, (img, lab) in enumerate(zip(images, labels)):
        folder = base / str(int(lab))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i + 1:05d}.bin").write_bytes(encode_events(*synthetic_recording(img, rng)))
    return base
