"""Import Lava's runtime even when the multiprocessing start method is already fixed.

Lava 0.10 calls ``multiprocessing.set_start_method('fork')`` (unforced) when its
runtime module is first imported. That raises "context has already been set"
if anything touched multiprocessing's default context before (tqdm's write
lock does), even though the context is 'fork' already. Every entry point of
this package into Lava runs :func:`import_lava_runtime` first.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import sys

_LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"


def import_lava_runtime():
    if _LAVA_MP in sys.modules:
        return
    current = mp.get_start_method(allow_none=True)
    if current is None:
        importlib.import_module(_LAVA_MP)
        return
    if current != "fork":
        raise RuntimeError(f"Lava needs the 'fork' multiprocessing start method, but this process already "
                           f"uses {current!r}; import lava_ssnnbp's Lava parts before setting it")
    original = mp.set_start_method

    def keep_fork(method, force=False):   # Lava asks for what is already set
        if method != "fork":
            original(method, force)
    mp.set_start_method = keep_fork
    try:
        importlib.import_module(_LAVA_MP)
    finally:
        mp.set_start_method = original
