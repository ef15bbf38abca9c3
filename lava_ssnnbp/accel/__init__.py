"""Compiled schedulers (numba): the engine's loops over units, steps and samples,
built from the rules of ``lava_ssnnbp.dynamics`` -- the same functions, compiled.

Sparse spikes make counting events cheaper than dense GEMMs, and with one sample
per update (the on-chip schedule) the calls around the arithmetic, not the
arithmetic, cost most. So:

* ``layers`` -- a layer's IF or composite-neuron step in one pass over its units,
  Eq. 10's pair counts and the forward drive event by event, and drop-ins for
  ``dynamics``' step functions built on them (``step_functions``);
* ``sample`` -- a training sample of a one-hidden-layer network (all T steps,
  the replay window's pair counts, the in-place block update) in one call each.
* ``cache`` -- their disk cache: every loop is compiled by ``cache.kernel``
  and cached in a folder named by the hash of all the sources it is compiled
  from (its module, the rule files of ``dynamics``, ``jit``, ``fixed_point``...),
  so a fresh process loads them in well under a second instead of compiling
  them again, and an edit of any of those files compiles anew.

Results are ``dynamics``' (fixed point bit for bit; float up to the order of
synaptic sums, added event by event here). Who uses this package chooses it:
``Engine(..., accel=...)``; by default the engine uses it where it is usable
(:func:`available`: numba importable, not switched off by the environment
variable ``LAVA_SSNNBP_NUMBA=0`` or :func:`set_enabled`). ``dynamics`` never
imports it. The submodules import numba; a loop compiles on first use where the
cache holds no entry for its sources (the first run after an install or an edit;
:func:`compile_notice` tells a caller when, :func:`compile_seconds` how long).
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Optional

from .. import jit


def available() -> bool:
    """Whether the compiled schedulers are in use by default: numba usable and the
    switch (``LAVA_SSNNBP_NUMBA``, :func:`set_enabled`) on."""
    return jit.enabled()


def set_enabled(flag: bool) -> bool:
    """Switch numba on (where usable) or off for the whole package at run time;
    returns whether it is now in use. Results do not depend on it; benchmarks
    use it to compare event-driven and dense arithmetic."""
    return jit.set_enabled(flag)


def usable() -> bool:
    """Whether numba can run here at all (whatever the switch)."""
    return jit.numba_module() is not None


def threads() -> int:
    """Threads the compiled training pass may use (numba's; ``set_threads``)."""
    numba = jit.numba_module() if available() else None
    return numba.get_num_threads() if numba else 1


def set_threads(n: "int | None") -> int:
    """Let the compiled training pass split a batch over ``n`` threads (None: all
    cores numba sees); results do not depend on it. Returns the threads in use."""
    numba = jit.numba_module() if available() else None
    if not numba:
        return 1
    most = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(most if n is None else max(1, min(int(n), most)))
    return numba.get_num_threads()


def compile_seconds() -> float:
    """Seconds this process has spent compiling the loops (cache misses); 0 where
    none compiled."""
    cache = sys.modules.get(__name__ + ".cache")
    return cache.clock.seconds if cache is not None else 0.0


@contextmanager
def compile_notice(callback: Callable[[Optional[float], bool], None]):
    """Within the block, ``callback(estimate_s, cached)`` is called once, when the
    loops start compiling (a cache miss: the first run after an install or an edit
    of their sources): ``estimate_s`` the seconds the last compiling process spent
    (None: unknown), ``cached`` whether what compiles is saved for the next run."""
    from .watchers import compile_watchers   # no submodule is imported before a loop is used
    told = []

    def once(estimate, cached):
        if not told:
            told.append(True)
            callback(estimate, cached)
    compile_watchers.append(once)
    try:
        yield
    finally:
        compile_watchers.remove(once)


def step_functions():
    """The module ``accel.layers``: ``forward_step``, ``hidden_step``,
    ``output_step``, ``forward_drive_many`` and ``pair_block`` with ``dynamics``'
    signatures and results, on compiled layer kernels where they apply."""
    from . import layers
    return layers


def simulate_one_hidden_layer(*args, **kw):
    """``sample.simulate_one_hidden_layer``: a one-hidden-layer net's T training steps."""
    from .sample import simulate_one_hidden_layer
    return simulate_one_hidden_layer(*args, **kw)


def replay_pair_block(*args, **kw):
    """``sample.replay_pair_block``: one sample's replay window at one synapse layer."""
    from .sample import replay_pair_block
    return replay_pair_block(*args, **kw)


def add_block(*args, **kw):
    """``sample.add_block``: an update added in place to the block it changes
    (what ``dynamics.learn(..., add_block=)`` takes)."""
    from .sample import add_block
    return add_block(*args, **kw)


def coincidences(*args, **kw):
    """``layers.coincidences``: Eq. 10's pair counts event by event
    (what ``dynamics.pair_block(..., pair_counter=)`` takes)."""
    from .layers import coincidences
    return coincidences(*args, **kw)


def spike_drive(*args, **kw):
    """``layers.spike_drive``: ``x @ wt`` for boolean spikes, event by event
    (what ``dynamics.forward_drive_many(..., spike_drive=)`` takes)."""
    from .layers import spike_drive
    return spike_drive(*args, **kw)
