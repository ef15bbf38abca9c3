"""Atomic file writes: a unique temporary file beside the target, written whole,
flushed to disk, then renamed over the target (``os.replace``, atomic on POSIX).
A reader, a kill or a full disk never leaves half a file under the target's name;
a failed write leaves the previous file as it was and removes its temporary.

Files are created with mode 0666 less the umask, like ``open``, not 0600.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO, Callable, Optional


def create_new(name: str, dir_fd: Optional[int] = None) -> BinaryIO:
    """A new file ``name`` (relative to ``dir_fd`` if given) opened for binary writing;
    FileExistsError if it exists. Mode 0666 less the umask."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666, dir_fd=dir_fd)
    return os.fdopen(fd, "wb")


def write_synced(name: str, write: Callable[[BinaryIO], None], dir_fd: Optional[int] = None):
    """Create ``name`` (it must not exist), ``write`` into it, fsync; on any error remove it."""
    try:
        with create_new(name, dir_fd) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        try:
            os.unlink(name, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def temporary_name(name: str) -> str:
    """A hidden, unique name for a temporary copy of ``name`` in the same folder."""
    return f".{name}.{secrets.token_hex(6)}.tmp"


def replace_file(name: str, write: Callable[[BinaryIO], None], dir_fd: Optional[int] = None):
    """Write file ``name`` atomically (relative to ``dir_fd`` if given): temporary file,
    fsync, ``os.replace``. ``write`` gets a binary file object."""
    tmp = temporary_name(name)
    write_synced(tmp, write, dir_fd)
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def atomic_write(path, write: Callable[[Path], None]):
    """Write ``path`` atomically through ``write(tmp_path)`` (for writers that want a path,
    e.g. h5py or matplotlib): a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / temporary_name(path.name)
    try:
        create_new(str(tmp)).close()
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
