"""The compiled loops' disk cache, keyed by every source they are compiled from.

numba's own cache (``cache=True``) checks the source of the compiled function's
file alone; the loops here inline the rules of ``dynamics`` and ``jit``'s
primitives from other files, so an edit there would leave a stale loop in it.
:func:`kernel` compiles a function as ``numba.njit`` does and caches it in a
folder named by the hash of its module's *sources*: the module's file and, through
its imports of this package (read from the source, followed to the end: for
``layers`` and ``sample`` the rule files of ``dynamics``, ``jit``,
``fixed_point``, ``config``, ``rates`` and this file), every file it depends on,
with numba's and numpy's versions. An edit of any of them names a new folder;
unchanged sources find the same folder and the same entries run after run.

Where the folders are: ``LAVA_SSNNBP_NUMBA_CACHE`` (a folder, or ``0`` for no
cache), else ``$NUMBA_CACHE_DIR/lava_ssnnbp``, else
``$XDG_CACHE_HOME/lava_ssnnbp/numba`` (``~/.cache/...``), else the package's
``accel/__pycache__/numba``: the first that can be written; none, and the loops
compile in every process as before (no error). Each module keeps its
:data:`KEEP_VERSIONS` most recently used folders; older ones are removed when a
process first uses the cache, so it stays bounded.

Compilation that does happen (a cache miss) is timed here (``compile_seconds``)
and announced to ``accel``'s ``compile_notice`` callbacks.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import os
import shutil
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .. import jit
from .watchers import compile_watchers

numba = jit.numba_module()
if numba is None:
    raise ImportError("lava_ssnnbp.accel needs numba, which cannot be imported here")
from numba.core import caching, event   # noqa: E402  (after numba is set up by jit)
from numba.core.dispatcher import Dispatcher   # noqa: E402

KEEP_VERSIONS = 4                       # source versions kept per module
ESTIMATE_FILE = "last_compile_s"        # the seconds the last compiling process spent, for the notice
_PACKAGE = Path(__file__).resolve().parents[1]     # lava_ssnnbp/
_OFF = ("0", "false", "no", "off")
_KERNELS = {}                           # the dispatchers made by kernel(), by id


# ---------------------------------------------------------------- what a module is compiled from
def source_files(module_file, package=None) -> Tuple[Path, ...]:
    """The source files of ``package`` (default: this one, ``lava_ssnnbp/``) that
    ``module_file`` depends on: itself and, followed to the end, every module of
    the package it imports (anywhere in the file, relative or absolute imports).
    ``from X import name`` counts X.name if it is a module, else X's own file."""
    package = Path(package or _PACKAGE).resolve()
    todo, seen = [Path(module_file).resolve()], set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_imported_files(path, package))
    return tuple(sorted(seen))


def _imported_files(path: Path, package: Path):
    here = [package.name, *path.relative_to(package).with_suffix("").parts][:-1]   # the file's package
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _module_file(alias.name.split("."), package)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            base += node.module.split(".") if node.module else []
            for alias in node.names:
                sub = list(_module_file(base + [alias.name], package))
                yield from sub if sub else _module_file(base, package)


def _module_file(parts, package: Path):
    if not parts or parts[0] != package.name:
        return
    path = package.joinpath(*parts[1:])
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            yield candidate
            return


def files_digest(files, package=None) -> str:
    """SHA-256 (hex) of the contents of ``files`` and their paths within ``package``
    (default: this one), with numba's and numpy's versions."""
    package = Path(package or _PACKAGE).resolve()
    digest = hashlib.sha256(f"numba {numba.__version__} numpy {np.__version__}".encode())
    for path in sorted(Path(f).resolve() for f in files):
        digest.update(b"\0" + path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=None)
def source_stamp(module_file: str) -> str:
    """What ``module_file``'s compiled code is made of: :func:`files_digest` of its
    :func:`source_files` (hashed once per process)."""
    return files_digest(source_files(module_file))


# ---------------------------------------------------------------- where the cache lives
def _candidates():
    chosen = os.environ.get("LAVA_SSNNBP_NUMBA_CACHE", "").strip()
    if chosen:
        return [] if chosen.lower() in _OFF else [Path(chosen).expanduser()]
    roots = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(Path(os.environ["NUMBA_CACHE_DIR"]).expanduser() / "lava_ssnnbp")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return roots + [Path(xdg) / "lava_ssnnbp" / "numba", _PACKAGE / "accel" / "__pycache__" / "numba"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


@lru_cache(maxsize=None)
def cache_root() -> Optional[Path]:
    """The folder holding the cache (the first writable of the places in the module
    docstring), or None: no disk cache. Read once per process."""
    return next((folder for folder in _candidates() if _writable(folder)), None)


@lru_cache(maxsize=None)
def version_folder(module_file: str) -> Optional[Path]:
    """The cache folder of ``module_file``'s present sources (:func:`prepare_folder`
    once per process), or None where there is no cache."""
    root = cache_root()
    return None if root is None else prepare_folder(root, Path(module_file).stem, source_stamp(str(module_file)))


def prepare_folder(root: Path, stem: str, stamp: str) -> Optional[Path]:
    """``root/<stem>-<stamp>`` created and marked as just used (its mtime), the other
    ``<stem>-*`` folders beyond the :data:`KEEP_VERSIONS` most recently used removed;
    None if it cannot be written."""
    folder = root / f"{stem}-{stamp[:24]}"
    if not _writable(folder):
        return None
    os.utime(folder)
    olds = sorted((p for p in root.glob(f"{stem}-*") if p.is_dir() and p != folder),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds[KEEP_VERSIONS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


class _SourcesLocator(caching._CacheLocator):
    """numba's cache locator for a kernel: the folder of its module's sources, whose
    hash is also the stamp numba checks each entry against."""

    def __init__(self, py_func, folder: Path, stamp: str):
        self._lineno, self._folder, self._stamp = py_func.__code__.co_firstlineno, folder, stamp
        self._py_file = inspect.getfile(py_func)       # numba names it in its warnings

    def ensure_cache_path(self):
        if not _writable(self._folder):
            raise OSError(f"cannot write {self._folder}")

    def get_cache_path(self):
        return str(self._folder)

    def get_source_stamp(self):
        return self._stamp

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        folder = version_folder(py_file)
        return None if folder is None else cls(py_func, folder, source_stamp(py_file))


class _CacheImpl(caching.CompileResultCacheImpl):
    """numba's cache of compile results, located by :class:`_SourcesLocator` only (not
    numba's locators, which would check the function's own file alone)."""

    def __init__(self, py_func):
        py_file = inspect.getfile(py_func)
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = _SourcesLocator.from_function(py_func, py_file)
        if self._locator is None:
            raise OSError("no writable cache folder")
        fullname = f"{Path(py_file).stem}.{py_func.__qualname__}"
        self._filename_base = self.get_filename_base(fullname, getattr(sys, "abiflags", ""))


class _Cache(caching.FunctionCache):
    """numba's function cache over :class:`_CacheImpl`; an entry that cannot be read
    or written (removed by another process, a full disk) is a miss, not an error."""
    _impl_class = _CacheImpl

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception:   # a damaged or vanished entry: compile instead
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError:
            pass


def kernel(**options):
    """Decorator: ``numba.njit(nogil=True, **options)`` of a function, its compiled
    code cached on disk by its sources (where there is a cache folder)."""
    def compile_(fn):
        dispatcher = numba.njit(nogil=True, **options)(fn)
        if not isinstance(dispatcher, Dispatcher):      # NUMBA_DISABLE_JIT: the function itself
            return dispatcher
        _KERNELS[id(dispatcher)] = dispatcher
        try:
            dispatcher._cache = _Cache(fn)
        except Exception:   # no cache folder, or numba's cache cannot take it: compile per process
            pass
        return dispatcher
    return compile_


def cache_counts() -> Tuple[int, int]:
    """(loaded from the cache, compiled) signatures of all kernels in this process so far."""
    stats = [d.stats for d in _KERNELS.values()]
    return sum(sum(s.cache_hits.values()) for s in stats), sum(sum(s.cache_misses.values()) for s in stats)


# ---------------------------------------------------------------- compilation that happens
class _CompileClock(event.Listener):
    """Times the compilations of the kernels (outermost only: a kernel compiles the
    kernels it calls inside its own compilation) and tells ``accel``'s
    ``compile_notice`` callbacks when one starts."""

    def __init__(self):
        self.seconds, self._depth, self._started = 0.0, 0, 0.0

    def on_start(self, ev):
        if id((ev.data or {}).get("dispatcher")) not in _KERNELS:
            return
        self._depth += 1
        if self._depth == 1:
            for callback in list(compile_watchers):
                callback(last_compile_seconds(), cache_root() is not None)
            self._started = time.perf_counter()

    def on_end(self, ev):
        if id((ev.data or {}).get("dispatcher")) not in _KERNELS or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._started
            _record_compile_seconds(self.seconds)


def _record_compile_seconds(seconds: float):
    from ..atomic import replace_path
    root = cache_root()
    if root is not None:
        try:
            replace_path(root / ESTIMATE_FILE, lambda f: f.write(f"{seconds:.1f}\n".encode()))
        except OSError:
            pass


def last_compile_seconds() -> Optional[float]:
    """The compile seconds of the last process that compiled kernels (the notice's
    estimate), or None where unknown."""
    root = cache_root()
    try:
        return float((root / ESTIMATE_FILE).read_text()) if root is not None else None
    except (OSError, ValueError):
        return None


clock = _CompileClock()
event.register("numba:compile", clock)
