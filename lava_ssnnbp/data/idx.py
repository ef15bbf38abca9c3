"""Reader for the idx format of MNIST, Fashion-MNIST and EMNIST (raw or .gz files)."""
from __future__ import annotations

import gzip
import hashlib
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .. import memory
from .core import DataError

IMAGES_MAGIC = 2051  # unsigned byte, 3 dims (N, rows, cols)
LABELS_MAGIC = 2049  # unsigned byte, 1 dim (N,)


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """File content, gunzipped if the name ends with .gz: whole, or at most ``limit``
    bytes (so that a gzip bomb is never inflated past what the header promises)."""
    path = Path(path)
    n = -1 if limit is None else limit
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read(n)
        with open(path, "rb") as f:
            return f.read(n)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        kind = "corrupt gzip file" if path.suffix == ".gz" else "cannot read file"
        raise DataError(f"{kind} {path}: {e}") from None


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def parse_idx(content: bytes, path: Path, magic: int, header_only: bool = False):
    """Parse idx bytes with the expected magic number; return uint8 array of the header's shape
    (``header_only``: the header's dimensions, from its first bytes)."""
    ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic]
    header = 4 * (1 + ndim)
    if len(content) < 4:
        raise DataError(f"{path}: truncated: expected at least {header} bytes, got {len(content)}")
    (got,) = struct.unpack(">I", content[:4])
    if got != magic:
        what = "images" if magic == IMAGES_MAGIC else "labels"
        raise DataError(f"{path}: wrong magic number {got} (expected {magic} for idx {what})")
    if len(content) < header:
        raise DataError(f"{path}: truncated: expected at least {header} bytes, got {len(content)}")
    dims = struct.unpack(f">{ndim}I", content[4:header])
    if header_only:
        return dims
    expected = header + math.prod(dims)      # Python ints: a hostile header cannot overflow it
    if len(content) < expected:
        raise DataError(f"{path}: truncated: expected {expected} bytes, got {len(content)}")
    if len(content) > expected:
        raise DataError(f"{path}: {len(content) - expected} bytes of trailing data "
                        f"(expected {expected} bytes, got {len(content)})")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(dims)


def idx_length(path: Path, magic: int) -> int:
    """Number of items an idx file holds, from its header, after checking that its
    size matches the header (truncation, trailing data) without reading it all:
    a .gz file's trailer records its uncompressed size (mod 2**32); if that
    disagrees the file is read in full to tell why (a multi-member gzip file may
    still be whole)."""
    path = Path(path)
    ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic]
    header = 4 * (1 + ndim)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                head = f.read(header)
            with open(path, "rb") as f:
                f.seek(-4, 2)
                (size,) = struct.unpack("<I", f.read(4))
        else:
            with open(path, "rb") as f:
                head = f.read(header)
            size = path.stat().st_size
    except (OSError, EOFError, zlib.error) as e:
        kind = "corrupt gzip file" if path.suffix == ".gz" else "cannot read file"
        raise DataError(f"{kind} {path}: {e}") from None
    dims = parse_idx(head, path, magic, header_only=True)
    expected = _promised_bytes(path, header, dims)
    if size != (expected % 2 ** 32 if path.suffix == ".gz" else expected):
        _parse_whole(read_bytes(path, expected + 1), path, magic, expected)   # raises, saying what is wrong
    return int(dims[0])


def _promised_bytes(path: Path, header: int, dims) -> int:
    """The file size an idx header promises, refused where it exceeds the memory this
    process may use (a damaged or hostile header; 2**32 - 1 per dimension would be 2**96)."""
    expected = header + math.prod(dims)
    avail = memory.available_bytes()
    if avail is not None and expected > avail:
        raise DataError(f"{path}: its header promises {'x'.join(map(str, dims))} bytes of data "
                        f"({memory.size(expected)}), more than the {memory.size(avail)} this process may use "
                        "(a damaged file?)")
    return expected


def _parse_whole(content: bytes, path: Path, magic: int, expected: int) -> np.ndarray:
    if len(content) > expected:   # read at most one byte more than promised: the rest is never inflated
        raise DataError(f"{path}: trailing data after the {expected} bytes its header promises")
    return parse_idx(content, path, magic)


def read_idx(path: Path, magic: int, expected_md5: str | None = None) -> np.ndarray:
    """Read one idx file; check its md5 (of the uncompressed content) when expected_md5 is given.
    No more than the header promises (plus one byte) is ever read or inflated."""
    header = 4 * (1 + {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic])
    expected = _promised_bytes(path, header, parse_idx(read_bytes(path, header), path, magic, header_only=True))
    content = read_bytes(path, expected + 1)
    if len(content) > expected:
        _parse_whole(content, path, magic, expected)
    if expected_md5 is not None:
        actual = md5(content)
        if actual != expected_md5:
            raise DataError(f"checksum mismatch for {path}: expected md5 {expected_md5}, got {actual} "
                            "(md5 of the uncompressed content; pass verify=False / --no-verify to skip)")
    return parse_idx(content, path, magic)


def read_idx_pair(images: Path, labels: Path, num_classes: int, md5s: dict | None = None,
                  transpose: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Images as float32 (N, 784) in [0, 1] and labels as int64 (N,), checked for consistency.

    md5s maps file name (without .gz) -> md5 of the uncompressed content; None skips the check.
    transpose: images are stored column-major (EMNIST) and are transposed to row-major.
    """
    md5s = md5s or {}
    imgs = read_idx(images, IMAGES_MAGIC, md5s.get(_base(images)))
    labs = read_idx(labels, LABELS_MAGIC, md5s.get(_base(labels)))
    if imgs.shape[1:] != (28, 28):
        raise DataError(f"{images}: images are {imgs.shape[1]}x{imgs.shape[2]}, expected 28x28")
    if len(imgs) != len(labs):
        raise DataError(f"{images} has {len(imgs)} images but {labels} has {len(labs)} labels")
    if len(labs) and labs.max() >= num_classes:
        raise DataError(f"{labels}: label {int(labs.max())} out of range for {num_classes} classes")
    if transpose:
        imgs = imgs.transpose(0, 2, 1)
    x = imgs.reshape(len(imgs), 784).astype(np.float32) / np.float32(255.0)
    return x, labs.astype(np.int64)


def _base(path: Path) -> str:
    name = Path(path).name
    return name[:-3] if name.endswith(".gz") else name


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array of 1 dim (labels) or 3 dims (images) as idx (gzipped if name ends .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = {1: LABELS_MAGIC, 3: IMAGES_MAGIC}[array.ndim]
    content = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        content = gzip.compress(content)
    path.write_bytes(content)
