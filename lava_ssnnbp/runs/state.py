"""A run folder's state, committed atomically: each commit is visible whole or not at all.

Layout::

    RUN/config.json         every parameter and the run's id; written once, when the run starts
    RUN/state.json          the manifest: the committed generation g, the run's id, the files of g
    RUN/state/<g>/          the files of generation g: checkpoint.npz, weights.npz, metrics.json, ...
    RUN/checkpoint.npz ...  the committed generation's files again (hard links), for people and scripts

A commit writes generation g + 1 into a temporary folder (files that did not change are hard
links to generation g's), fsyncs it, renames it to ``state/<g + 1>`` and then replaces
``state.json``: that rename is the one step that makes the new state visible. A kill, a full
disk or any error before it leaves generation g whole and resumable. Readers follow
``state.json`` (:func:`read_committed`); the previous generation is kept until the next commit,
and a reader whose generation was replaced while it read tries again.

Every write goes through the folder's open descriptor, not its path: a run folder renamed or
moved while a run writes keeps receiving that run's state where it now is, and nothing in the
folder names its own path, so it resumes wherever it lies.

A folder written before this layout (files at the top, no ``state.json``) is read as it is;
its first commit moves it to this layout.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Optional, Tuple, TypeVar, Union

from ..atomic import is_temporary_of, replace_file, temporary_name, write_synced
from ..errors import RunError, RunFault
from .files import open_regular

STATE_FILE = "state.json"
STATE_DIR = "state"
STATE_FORMAT = 1
STATE_NAMES = ("checkpoint.npz", "weights.npz", "metrics.json", "metrics.csv", "learning_curve.png")
_MAX_MANIFEST_BYTES = 1 << 16
_READ_TRIES = 20

KEEP = "keep"          # in a commit: the previous generation's file, unchanged (if it has one)
Writer = Callable[[BinaryIO], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Manifest:
    """What ``state.json`` says: the committed generation, the run's id and its files."""
    generation: int
    run_id: Optional[str]
    files: Tuple[str, ...]

    @property
    def folder_name(self) -> str:
        return f"{self.generation:06d}"

    def to_json(self) -> bytes:
        return (json.dumps({"format": STATE_FORMAT, "generation": self.generation, "run_id": self.run_id,
                            "files": list(self.files)}, indent=1) + "\n").encode()


def _parse_manifest(data: bytes, where) -> Manifest:
    def bad(why):
        raise RunError(f"{where}: {why} (not a state file written by 'ssnnbp train')")
    if len(data) > _MAX_MANIFEST_BYTES:
        bad(f"{len(data)} bytes, more than a state file holds")
    try:
        d = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        bad(f"not valid JSON ({e})")
    if not isinstance(d, dict) or d.get("format") != STATE_FORMAT:
        bad(f"need an object with \"format\": {STATE_FORMAT}")
    g, run_id, files = d.get("generation"), d.get("run_id"), d.get("files")
    if isinstance(g, bool) or not isinstance(g, int) or not 1 <= g < 10 ** 9:
        bad(f"generation {g!r} is not an integer in 1..999999999")
    if run_id is not None and not isinstance(run_id, str):
        bad(f"run_id {run_id!r} is not a string")
    if not isinstance(files, list) or not all(f in STATE_NAMES for f in files) or len(set(files)) != len(files):
        bad(f"files must be a list of distinct names among {', '.join(STATE_NAMES)}")
    return Manifest(g, run_id, tuple(files))


def read_manifest(run) -> Optional[Manifest]:
    """The committed state of run folder ``run``, or None where it has no ``state.json``
    (a new folder, or one written before this layout)."""
    path = Path(run) / STATE_FILE
    try:
        data = open_regular(path, _MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RunError(f"{path}: cannot be read ({e.strerror})") from None
    return _parse_manifest(data, path)


def state_folder(run, manifest: Optional[Manifest]) -> Path:
    """Where the committed files lie: ``RUN/state/<g>``, or ``RUN`` itself for an older folder."""
    run = Path(run)
    return run if manifest is None else run / STATE_DIR / manifest.folder_name


def read_committed(run, read: Callable[[Path, Optional[Manifest]], T]) -> T:
    """``read(folder, manifest)`` on the committed state of ``run``. If it fails while a
    commit replaces that state, it runs again on the new one: a reader beside a training
    run sees one whole state or the other, never a mix."""
    run = Path(run)
    for _ in range(_READ_TRIES):
        manifest = read_manifest(run)
        try:
            result = read(state_folder(run, manifest), manifest)
        except (RunError, OSError):
            if read_manifest(run) == manifest:
                raise
            continue
        if manifest is None or not _pruned_since(run, manifest):
            return result
        # two commits during the read: its generation may have been removed under it, and a
        # read of a vanishing folder can succeed as an empty state (no checkpoint, no epochs)
    raise RunError(f"{run}: its state changed on each of {_READ_TRIES} tries to read it")


def _pruned_since(run: Path, manifest: Manifest) -> bool:
    """Whether the writer may have removed ``manifest``'s generation since it was read: it
    keeps the committed generation and the one before, so two commits since may have."""
    now = read_manifest(run)
    return now is not None and now.generation > manifest.generation + 1


class StateWriter:
    """The training process's writer of a run folder's state (it holds the folder's lock)."""

    def __init__(self, run):
        self.path = Path(run)
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise RunError(f"run folder {self.path}: cannot open it ({e.strerror})") from None
        try:
            self.manifest = read_manifest(self.path)
            self._remove_temporaries()
            self._prune()
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _error(self, name: str, e: OSError) -> RunFault:
        kept = f"generation {self.manifest.generation} is kept" if self.manifest else "nothing was committed"
        return RunFault(f"run folder {self.path}: cannot write {name} ({e.strerror or e}); the last saved state "
                        f"({kept}) is whole: free the space or fix the folder, then run the same command")

    # ---------------------------------------------------------------- single files
    def write_file(self, name: str, write: Writer):
        """A file of the folder outside the committed state (config.json), written atomically."""
        try:
            replace_file(name, write, self.fd)
        except OSError as e:
            raise self._error(name, e) from None

    def clear(self):
        """Forget every state (a fresh start): the manifest first, so no reader follows it into
        a generation being deleted; then the generations and the top-level copies."""
        try:
            for name in (STATE_FILE,) + STATE_NAMES:
                _remove(self.fd, name)
            _remove(self.fd, STATE_DIR)
        except OSError as e:
            raise self._error("(clearing the old run)", e) from None
        self.manifest = None

    # ---------------------------------------------------------------- commits
    def commit(self, files: Dict[str, Union[Writer, str]], run_id: Optional[str]) -> Manifest:
        """Make ``files`` (name -> writer, or :data:`KEEP` for the previous generation's file)
        the folder's state in one atomic step. An OSError (a full disk, a read-only folder)
        becomes one RunError and leaves the previous state whole."""
        old = self.manifest
        new_files = tuple(n for n, w in files.items() if w is not KEEP or self._has(n))
        new = Manifest((old.generation if old else 0) + 1, run_id, new_files)
        tmp = temporary_name(new.folder_name)
        state_fd = tmp_fd = None
        name = STATE_DIR
        try:
            try:
                os.mkdir(STATE_DIR, dir_fd=self.fd)
            except FileExistsError:
                pass
            state_fd = _open_dir(STATE_DIR, self.fd)
            os.mkdir(tmp, dir_fd=state_fd)
            tmp_fd = _open_dir(tmp, state_fd)
            for name in new_files:
                if files[name] is KEEP:
                    self._link_previous(name, tmp_fd)
                else:
                    write_synced(name, files[name], tmp_fd)
            os.fsync(tmp_fd)
            name = new.folder_name
            _remove(state_fd, new.folder_name)        # left by a commit killed before its manifest
            os.rename(tmp, new.folder_name, src_dir_fd=state_fd, dst_dir_fd=state_fd)
            os.fsync(state_fd)
            name = STATE_FILE
            replace_file(STATE_FILE, lambda f: f.write(new.to_json()), self.fd)
            os.fsync(self.fd)
        except OSError as e:
            if state_fd is not None:
                _remove(state_fd, tmp, quiet=True)
            raise self._error(name, e) from None
        finally:
            for fd in (tmp_fd, state_fd):
                if fd is not None:
                    os.close(fd)
        self.manifest = new
        self._mirror(new)
        self._prune()
        return new

    def _has(self, name: str) -> bool:
        if self.manifest is not None:
            return name in self.manifest.files
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False

    def _link_previous(self, name: str, dst_fd: int):
        src = name if self.manifest is None else f"{STATE_DIR}/{self.manifest.folder_name}/{name}"
        _link_or_copy(src, self.fd, name, dst_fd)

    def _mirror(self, m: Manifest):
        """The committed files at the folder's top level too (hard links; copies where the
        file system has none). Only a convenience: the library reads the manifest."""
        for name in m.files:
            tmp = temporary_name(name)
            src = f"{STATE_DIR}/{m.folder_name}/{name}"
            try:
                if _same_file(src, name, self.fd):   # unchanged (KEEP): rename would leave tmp behind
                    continue
                _link_or_copy(src, self.fd, tmp, self.fd)
                os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            except OSError as e:
                _remove(self.fd, tmp, quiet=True)
                raise self._error(f"{name} (a copy of the committed {STATE_DIR}/{m.folder_name}/{name})", e) \
                    from None

    def _remove_temporaries(self):
        """Temporaries of single files that a kill left mid-write (a live writer removes its own)."""
        for entry in os.scandir(self.fd):
            if is_temporary_of(entry.name, STATE_NAMES + (STATE_FILE, "config.json")):
                _remove(self.fd, entry.name, quiet=True)

    def _prune(self):
        """Remove generations other than the committed one and the one before it (which a
        reader may still be reading), and temporaries of commits that never finished."""
        keep = set()
        if self.manifest is not None:
            keep = {self.manifest.folder_name, f"{self.manifest.generation - 1:06d}"}
        try:
            state_fd = _open_dir(STATE_DIR, self.fd)
        except (FileNotFoundError, NotADirectoryError):
            return
        try:
            for entry in os.scandir(state_fd):
                if entry.name not in keep:
                    _remove(state_fd, entry.name, quiet=True)
        finally:
            os.close(state_fd)


def _open_dir(name: str, dir_fd: int) -> int:
    return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)


def _same_file(a: str, b: str, dir_fd: int) -> bool:
    try:
        sa, sb = (os.stat(p, dir_fd=dir_fd, follow_symlinks=False) for p in (a, b))
    except FileNotFoundError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _link_or_copy(src: str, src_fd: int, dst: str, dst_fd: int):
    try:
        os.link(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False)
        return
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK, errno.EOPNOTSUPP):
            raise
    fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC, dir_fd=src_fd)
    with os.fdopen(fd, "rb") as f:
        write_synced(dst, lambda out: shutil.copyfileobj(f, out), dst_fd)


def _remove(dir_fd: int, name: str, quiet: bool = False):
    """Remove file or folder ``name`` (relative to ``dir_fd``) if it exists."""
    try:
        try:
            fd = _open_dir(name, dir_fd)
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            os.unlink(name, dir_fd=dir_fd)
            return
        try:
            for entry in os.scandir(fd):
                _remove(fd, entry.name)
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=dir_fd)
    except OSError:
        if not quiet:
            raise
