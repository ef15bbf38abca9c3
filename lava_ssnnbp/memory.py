"""The memory this process can still allocate, and byte counts in words: what the
checks of ``validation`` and the data loaders share (no project import)."""
from __future__ import annotations

import os
from typing import Optional

GiB = 2.0 ** 30


def size(n: float) -> str:
    """Bytes in words: '1.4 GiB', '12 MiB'."""
    return f"{n / GiB:.1f} GiB" if n >= GiB / 10 else f"{n / 2 ** 20:.0f} MiB"


def available_bytes() -> Optional[int]:
    """Memory this process can still allocate: the smallest of the machine's free memory
    (MemAvailable of /proc/meminfo, else the free physical pages), what the process's
    limits leave (RLIMIT_AS, RLIMIT_DATA: ``ulimit -v``/``-d``, less what it already
    uses) and its cgroup's limit less its usage (a container's memory limit); None
    where none of them is known."""
    known = [n for n in (_machine_free(), _rlimit_left(), _cgroup_left()) if n is not None]
    return max(0, min(known)) if known else None


def _machine_free() -> Optional[int]:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _status_kib(key: str) -> Optional[int]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _rlimit_left() -> Optional[int]:
    try:
        import resource
    except ImportError:
        return None
    left = []
    for limit, used_key in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            left.append(soft - (_status_kib(used_key) or 0))
    return min(left) if left else None


def _read_int(path: str) -> Optional[int]:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None    # 'max' (no limit) reads as None


def _cgroup_left() -> Optional[int]:
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),            # cgroup v2
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):                          # cgroup v1
        cap = _read_int(limit)
        if cap is not None and cap < 1 << 60:       # v1 writes 'no limit' as a huge number
            return cap - (_read_int(usage) or 0)
    return None
