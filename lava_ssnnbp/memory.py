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
    """Memory this process can still allocate: MemAvailable of /proc/meminfo, else
    the free physical pages; None where neither is known."""
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
