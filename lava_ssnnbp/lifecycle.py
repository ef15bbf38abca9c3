"""Lifetime of a Lava runtime's worker processes.

Lava 0.10 forks one OS process per Lava process, one per runtime service and
a shared-memory manager, and stops them with message round trips that wait
without a time limit. Here:

* :func:`worker_guard` -- processes forked inside it die with the main
  process (``PR_SET_PDEATHSIG``: a main process killed by SIGKILL or the OOM
  killer leaves no workers, and so no ``/dev/shm`` segments, behind) and
  ignore SIGINT, SIGHUP and SIGTERM (Ctrl-C, a closed terminal and a kill of
  the process group reach every worker; the main process alone decides how to
  stop them).
* :func:`call_watching_workers` -- a blocking run that raises
  :class:`WorkerDied` when a worker is killed, ends on an exception or is
  stopped mid-run (Lava would wait for its answer for good), or when the run
  makes no progress at all (a deadlock inside Lava: every worker alive and
  waiting, none using CPU) for :func:`stall_limit_s` seconds.
* :func:`stop_runtime` -- Lava's graceful stop with a time limit, then the
  workers are terminated or killed and the shared memory released; the
  runtime is marked stopped, so Lava's ``__del__`` never repeats a stop on
  dead workers (which would wait for good).
"""
from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")

STOP_TIMEOUT_S = 30.0   # graceful stop: ~1 s normally, the limit only bounds a hang
REAP_TIMEOUT_S = 5.0    # per worker, after SIGTERM and again after SIGKILL
WATCH_S = 0.2           # how often a running call checks that the workers live
STOPPED_S = 2.0         # a worker stopped this long ends the run
STALL_S = 120.0         # no CPU used by the call or any worker this long ends the run (a deadlock)
STALL_ENV = "SSNNBP_STALL_S"   # overrides STALL_S (seconds; inf: never)
_MAX_GAP_S = 1.0        # a longer pause of the watcher itself (Ctrl-Z, a starved thread) counts as this
_PR_SET_PDEATHSIG = 1   # <linux/prctl.h>

_local = threading.local()   # per forking thread; a forked child sees its parent thread's value
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None   # prctl lives in libc


def _set_pdeathsig() -> bool:
    return _libc is not None and _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0


def _watch_parent(parent: int):
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)


def _after_fork_in_child():
    guard = getattr(_local, "parent", None)
    if guard is None:
        return
    _local.parent = None                  # the worker's own children are not guarded
    parent, on_main_thread = guard
    # Ctrl-C, a closed terminal (SIGHUP) and a SIGTERM to the process group reach every worker:
    # the main process alone decides how to stop them (and the shared-memory manager unlinks its
    # segments when asked; killed first, it would leave them); a forced stop uses SIGKILL
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    # the death signal follows the forking *thread*: off the main thread, poll instead
    if not (on_main_thread and _set_pdeathsig()):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="ssnnbp-parent-watch").start()
    if os.getppid() != parent:            # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _resource_tracker_ignoring_hangups():
    """multiprocessing's resource tracker is started by exec, so the fork hook above never
    runs in it, and it keeps only the signals its starter ignored: started with SIGHUP
    ignored, a closed terminal does not kill it mid-run (it ignores SIGINT and SIGTERM
    itself), and the shared memory it tracks is not leaked."""
    if threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import resource_tracker
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, old)


@contextlib.contextmanager
def worker_guard():
    """Processes this thread forks inside the block (a Lava runtime's workers)
    get SIGKILL when this process dies, and ignore SIGINT, SIGHUP and SIGTERM."""
    _resource_tracker_ignoring_hangups()
    before = getattr(_local, "parent", None)
    _local.parent = (os.getpid(), threading.current_thread() is threading.main_thread())
    try:
        yield
    finally:
        _local.parent = before


def _call_in_thread(fn: Callable[[], T]):
    """Start ``fn()`` in a daemon thread; returns the thread and the list that
    receives ``(True, result)`` or ``(False, exception)``."""
    out: list = []

    def target():
        try:
            out.append((True, fn()))
        except BaseException as e:   # noqa: BLE001 -- handed to the caller
            out.append((False, e))

    t = threading.Thread(target=target, daemon=True, name="ssnnbp-lava-call")
    t.start()
    return t, out


def _result(out: list):
    ok, value = out[0]
    if not ok:
        raise value
    return value


def call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """``fn()`` run in a daemon thread: its result, or its exception; raises
    ``TimeoutError`` if it takes longer than ``timeout`` seconds (the call is
    then left behind in its thread, blocked on workers that do not answer)."""
    t, out = _call_in_thread(fn)
    t.join(timeout)
    if not out:
        raise TimeoutError(f"no answer within {timeout:g} s")
    return _result(out)


class WorkerDied(RuntimeError):
    """A Lava worker process ended mid-run without reporting an error."""


def _actors(runtime) -> list:
    """The runtime's worker processes (Lava's actors)."""
    infra = getattr(runtime, "_messaging_infrastructure", None)
    return list(getattr(infra, "actors", None) or [])


def _state(pid: int) -> str:
    """The one-letter scheduler state of a process (``/proc/PID/stat``), '' if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def stopped_workers(runtime) -> list:
    """The runtime's workers that are stopped (SIGSTOP, SIGTSTP, a debugger): they
    answer nothing until continued, and Lava would wait for them without a limit."""
    return [a for a in _actors(runtime) if a.pid and _state(a.pid) in ("T", "t")]


def ended_workers(runtime) -> list:
    """Workers that ended while a run was under way, whatever their exit code: killed by a
    signal (the OOM killer, SIGKILL, a crash), or exited with 0 after reporting a Python
    exception, which Lava then waits on."""
    ended = []
    for a in _actors(runtime):
        try:
            if a.exitcode is not None:
                ended.append(a)
        except ValueError:           # closed: Lava joined it, so it ended
            continue
    return ended


def stall_limit_s() -> float:
    """Seconds a run may make no progress at all before it is ended as a deadlock:
    ``$SSNNBP_STALL_S`` if set (a number > 0; ``inf`` never ends one), else :data:`STALL_S`."""
    from .errors import RunError
    text = os.environ.get(STALL_ENV, "").strip()
    if not text:
        return STALL_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise RunError(f"{STALL_ENV}={text!r}: need a number of seconds > 0 (inf: never end a stalled run)")
    return value


def _cpu_ticks(path: str) -> Optional[int]:
    """utime + stime (clock ticks) of the process or thread whose stat file is ``path``;
    None if it is gone."""
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _progress(runtime, thread: threading.Thread) -> tuple:
    """What grows while a run makes progress: the CPU time of each worker and of the
    thread that waits on them (a deadlock leaves every one of them asleep)."""
    paths = [f"/proc/{a.pid}/stat" for a in _actors(runtime) if a.pid]
    if thread.native_id is not None:
        paths.append(f"/proc/{os.getpid()}/task/{thread.native_id}/stat")
    return tuple(_cpu_ticks(p) for p in paths)


def _stalled_error(runtime, seconds: float) -> "WorkerDied":
    states = {}
    for a in _actors(runtime):
        states.setdefault(_state(a.pid) or "?", []).append(a.pid)
    what = ", ".join(f"{len(pids)} in state {st} (pid {', '.join(map(str, pids))})"
                     for st, pids in sorted(states.items()))
    return WorkerDied(f"the Lava run made no progress for {seconds:g} s: its workers live but neither they nor "
                      f"the call waiting on them used any CPU (workers {what}: a deadlock inside Lava?; "
                      f"{STALL_ENV} sets the limit)")


def call_watching_workers(fn: Callable[[], T], runtime) -> T:
    """``fn()`` (a blocking Lava run) in a daemon thread while this thread
    checks every :data:`WATCH_S` seconds that the runtime's workers live and
    run: Lava waits without a limit for the answer of a worker that died, ended
    on an exception or was stopped. Raises :class:`WorkerDied` naming them (the
    call is left behind, blocked; the caller stops the runtime by force). A
    worker must be seen stopped for :data:`STOPPED_S` seconds (not a passing
    debugger or profiler). A run whose workers all live and run but during
    which neither they nor the waiting thread use any CPU for
    :func:`stall_limit_s` seconds (a deadlock: each waits for another) raises
    :class:`WorkerDied` too; a busy machine slows a run, it does not stop its
    CPU time from growing."""
    limit = stall_limit_s()
    t, out = _call_in_thread(fn)
    stopped_since = {}
    last, idle, seen = time.monotonic(), 0.0, None
    while True:
        t.join(WATCH_S)
        if out:
            return _result(out)
        now = time.monotonic()
        progress = _progress(runtime, t)
        # the watcher's own pauses (Ctrl-Z, a starved thread) count for at most _MAX_GAP_S
        idle = idle + min(now - last, _MAX_GAP_S) if progress == seen else 0.0
        last, seen = now, progress
        ended = ended_workers(runtime)
        if ended and not out:
            what = ", ".join(f"{a.name} (pid {a.pid}, exit code {a.exitcode})" for a in ended)
            why = "" if any(a.exitcode for a in ended) else " (exit code 0: an exception inside it, see above)"
            raise WorkerDied(f"Lava worker process{'es' if len(ended) > 1 else ''} {what} ended mid-run{why}")
        stopped = stopped_workers(runtime)
        stopped_since = {a.pid: stopped_since.get(a.pid, now) for a in stopped}
        long_stopped = [a for a in stopped if now - stopped_since[a.pid] >= STOPPED_S]
        if long_stopped:
            what = ", ".join(f"{a.name} (pid {a.pid})" for a in long_stopped)
            raise WorkerDied(f"Lava worker process{'es' if len(long_stopped) > 1 else ''} {what} stopped "
                             f"(SIGSTOP?) and answered nothing for {STOPPED_S:g} s")
        if idle >= limit and not out:
            raise _stalled_error(runtime, limit)


def _bounded(fn: Callable[[], object], timeout: float) -> bool:
    """True if ``fn()`` returned within ``timeout`` seconds without raising."""
    try:
        call_with_timeout(fn, timeout)
        return True
    except Exception:           # noqa: BLE001 -- any failure means: stop by force
        return False


def _reap(p: mp.Process):
    """Terminate, then kill, one worker; tolerates one that is already closed
    (a timed-out graceful stop may still be joining it in its thread)."""
    try:
        for end in (p.terminate, p.kill):   # (a guarded worker ignores SIGTERM: SIGKILL follows)
            if not p.is_alive():
                return
            end()
            mp.Process.join(p, REAP_TIMEOUT_S)
    except ValueError:          # "process object is closed": already joined
        pass


def _force_stop(runtime):
    infra = getattr(runtime, "_messaging_infrastructure", None)
    actors = _actors(runtime)
    for a in actors:
        try:
            if a.is_alive():
                a.kill()        # all at once: they wait on each other (they ignore SIGTERM, see above)
        except (ValueError, OSError):
            pass
    for a in actors:
        _reap(a)
    smm = getattr(infra, "smm", None)
    server = getattr(getattr(smm, "_manager", None), "_process", None)
    # the manager's shutdown unlinks the /dev/shm segments; one that does not
    # answer is killed (its resource tracker unlinks them when it exits)
    if smm is not None and not _bounded(smm.shutdown, REAP_TIMEOUT_S) and server is not None:
        _reap(server)
    wd = getattr(runtime, "_watchdog_manager", None)
    if wd is not None:
        _bounded(wd.stop, REAP_TIMEOUT_S)


def stop_runtime(runtime, graceful: bool = True, timeout: Optional[float] = None) -> bool:
    """Stop a Lava ``Runtime`` without ever blocking for good.

    ``graceful``: Lava's own stop (STOP to every runtime service, join), given
    ``timeout`` seconds (default :data:`STOP_TIMEOUT_S`); if it fails or hangs,
    or ``graceful`` is False, the workers are terminated (killed if need be)
    and the shared-memory manager shut down. A runtime that never ran is
    stopped by force (Lava's stop would join workers still waiting for a
    command). Returns whether the graceful stop succeeded.
    """
    ok = False
    try:
        if graceful and getattr(runtime, "_is_started", False):
            ok = _bounded(runtime.stop, STOP_TIMEOUT_S if timeout is None else timeout)
    finally:                    # also on a second Ctrl-C while waiting
        if not ok:
            _force_stop(runtime)
        runtime._is_started = runtime._is_running = False
    return ok


def stop_process(proc, timeout: Optional[float] = None) -> bool:
    """:func:`stop_runtime` for the runtime of a Lava process (``proc.stop()``
    with a time limit); True if there was none or it stopped gracefully."""
    runtime = getattr(proc, "_runtime", None)
    return True if runtime is None else stop_runtime(runtime, True, timeout)


__all__ = ["worker_guard", "stop_runtime", "stop_process", "call_with_timeout", "call_watching_workers",
           "ended_workers", "stopped_workers", "stall_limit_s", "WorkerDied", "STOP_TIMEOUT_S", "STALL_S"]
