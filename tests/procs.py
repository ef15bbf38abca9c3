"""OS processes as /proc shows them, for tests that kill or interrupt a Lava run.

A process is named by (pid, start time), so a recycled pid is never taken
for the process that died; a zombie counts as gone (it has exited; its new
parent, init, reaps it when it likes).
"""
import os
import signal
import time

DEADLINE_S = 60.0   # bounds a hang; never a condition on how fast something is


def _stat(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()   # fields 3.. (comm may hold spaces)
    except OSError:
        return None


def start_time(pid: int):
    """Start time of a living process, None if it is gone or a zombie."""
    st = _stat(pid)
    return None if st is None or st[0] in "ZX" else int(st[19])


def descendants(pid: int) -> dict:
    """{pid: start time} of every living descendant of ``pid``."""
    parent = {}
    for d in os.listdir("/proc"):
        st = _stat(int(d)) if d.isdigit() else None
        if st is not None:
            parent[int(d)] = int(st[1])
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        kids = [c for c, p in parent.items() if p == here]
        found += kids
        todo += kids
    return {p: t for p in found if (t := start_time(p)) is not None}


def alive(procs: dict) -> list:
    return [p for p, t in procs.items() if start_time(p) == t]


def wait_for(condition, deadline_s: float = DEADLINE_S):
    """Poll ``condition()`` until it is true or ``deadline_s`` has passed; its last value."""
    end = time.monotonic() + deadline_s
    while not (ok := condition()) and time.monotonic() < end:
        time.sleep(0.1)
    return ok


def survivors(procs: dict, deadline_s: float = DEADLINE_S) -> list:
    """The processes of ``procs`` still alive once all have exited or ``deadline_s`` has passed."""
    wait_for(lambda: not alive(procs), deadline_s)
    return alive(procs)


def kill(procs: dict):
    """SIGKILL whatever of ``procs`` is still alive (a failed test leaves nothing behind)."""
    for p in alive(procs):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def python_output(code: str, timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter (a module state of its own, e.g. what an import
    pulls in) and return its stdout; a non-zero exit fails the test with its output."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]
    return r.stdout
