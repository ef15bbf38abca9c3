"""Files of a run folder and of the benchmarks' results: atomic writes (JSON, npz), npz
read without pickles, and the run folder's lock.

Every write goes to a unique temporary file in the target's folder and is renamed over
the target (:mod:`lava_ssnnbp.atomic`): a reader, or a run killed mid-write, never sees
half a file. A run folder's state (several files) is committed as one: :mod:`.state`.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import stat
import weakref
from pathlib import Path
from typing import Optional

import numpy as np

from ..atomic import replace_path
from ..errors import RunError


def npz_writer(arrays: dict):
    """A writer (``write(binary_file)``) of plain arrays as an npz file. The archive is made in
    memory and then written: a failing write (a full disk) is then one OSError, not a zip
    archive left half-closed on a closed file."""
    def write(f):
        buf = io.BytesIO()
        try:
            np.savez(buf, **arrays)
        except ValueError as e:   # zipfile closing after a MemoryError: the memory ran out
            if isinstance(e.__context__, MemoryError):
                raise MemoryError("the checkpoint's archive did not fit in memory") from None
            raise
        f.write(buf.getbuffer())
    return write


def json_writer(obj, indent: int = 2, **dumps_kw):
    """A writer (``write(binary_file)``) of ``obj`` as JSON text."""
    text = (json.dumps(obj, indent=indent, **dumps_kw) + "\n").encode()
    return lambda f: f.write(text)


def save_npz(path: Path, arrays: dict):
    """Plain arrays as an npz file, atomically."""
    replace_path(path, npz_writer(arrays))


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
    replace_path(path, lambda f: f.write(text.encode()))
    return True


def equal_apart_from(a: dict, b: dict, key: str) -> bool:
    """Whether two JSON-like records are equal once ``key`` (e.g. a write date) is left out."""
    return {k: v for k, v in a.items() if k != key} == {k: v for k, v in b.items() if k != key}


def jsonable(d: dict) -> dict:
    """``d`` as it reads back from JSON (tuples as lists, ...), to compare with a saved record."""
    return json.loads(json.dumps(d))


def open_regular(path, limit: Optional[int] = None) -> bytes:
    """The bytes of a regular file (at most ``limit``): a FIFO, device or folder under a run
    folder's file name is refused at once instead of blocking a read for good."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunError(f"{path}: not a regular file")
        return f.read() if limit is None else f.read(limit)


def load_npz(path) -> dict:
    """Arrays of an npz file we wrote (never unpickles)."""
    try:
        open_regular(path, 0)
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


# ------------------------------------------------------------------ the run folder's lock
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
