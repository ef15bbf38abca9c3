"""numba for the model's rules, where it is usable: one switch for the package.

A rule of ``dynamics`` (an IF step, a synaptic drive, a weight update, a
random-number hash) is written once, as plain arithmetic on numpy arrays or
scalars. numpy runs it on whole arrays; numba compiles the same source, to be
called on scalars from the compiled loops of ``accel`` (:func:`rule` registers
it, numba's ``register_jitable``; ``accel.cache`` keys the loops' disk cache by
the contents of the rule files, so an edited rule is compiled anew) or on arrays
by itself (:func:`compiled`).
Besides operators and numpy functions, rules use the primitives below: a cast
(:func:`cast`), a select (:func:`where`) and updates of a rule's own temporary
array in place (:func:`trunc_`, :func:`clip_`, :func:`subtract_where_`,
:func:`zero_where_`: a fresh array per operation costs numpy more than the
arithmetic at a layer's size); numba compiles each to its scalar form.

The switch: numba is used when it is importable, unless the environment variable
``LAVA_SSNNBP_NUMBA`` is ``0`` (read at first use) or :func:`set_enabled` turned
it off. Results do not depend on it (fixed point to the bit; float up to the order
of synaptic sums, which the compiled loops add event by event). Without numba
every rule runs as numpy. This module imports nothing of the package.
"""
from __future__ import annotations

import os

import numpy as np

_OFF = ("0", "false", "no", "off")
_numba = None        # the numba module once imported and set up, False where it is not usable
_enabled = None      # the switch; None: not read yet
_RULES = []          # every function marked with @rule, registered with numba when it starts
_JITTED = {}         # compiled(fn)'s results


def numba_module():
    """numba, imported and set up (threads started, rules registered), or None where
    it cannot be imported. Independent of the switch: ``accel`` asks for it."""
    global _numba
    if _numba is None:
        try:
            import numba
            from numba.extending import register_jitable
            _launch_numba_threads(numba)
            _register_primitives(numba)
            for fn in _RULES:
                register_jitable(fn)
            _numba = numba
        except Exception:   # no numba, or it cannot run here: numpy alone
            _numba = False
    return _numba or None


def enabled() -> bool:
    """Whether numba is used: importable and not switched off."""
    global _enabled
    if _enabled is None:
        _enabled = (os.environ.get("LAVA_SSNNBP_NUMBA", "1").strip().lower() not in _OFF
                    and numba_module() is not None)
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Switch numba on (where usable; the environment variable still applies) or off
    at run time; returns whether it is now in use."""
    global _enabled
    _enabled = None if flag else False
    return enabled()


def rule(fn):
    """Marks ``fn`` as a rule: plain arithmetic that compiled code may call (numba's
    ``register_jitable``, done when numba starts). Returns ``fn`` itself."""
    _RULES.append(fn)
    if _numba:
        from numba.extending import register_jitable
        register_jitable(fn)
    return fn


def compiled(fn):
    """``fn`` compiled by numba (njit) where numba is in use, else ``fn`` itself: the
    same source serves both. The rules ``fn`` calls must be marked with :func:`rule`
    and live in ``fn``'s own file: the result is cached on disk by numba's own cache,
    which sees edits of that file alone (``accel``'s loops, which call rules of
    other files, have a cache keyed by all the files they are compiled from:
    ``accel.cache``)."""
    if not enabled():
        return fn
    if fn not in _JITTED:
        _JITTED[fn] = _numba.njit(cache=True, nogil=True)(fn)
    return _JITTED[fn]


# ---- primitives of the rules: numpy here, scalar overloads for numba (_register_primitives)
def cast(x, dtype):
    """x converted to ``dtype`` (an array stays an array: ``np.float64(a)`` would make
    a one-element array a scalar)."""
    return np.asarray(x, dtype=dtype)


def where(cond, a, b):
    """``np.where(cond, a, b)``; numba compiles it to a select of scalars (its own
    ``np.where`` of scalars makes a 0-d array)."""
    return np.where(cond, a, b)


def trunc_(x):
    """trunc(x), in place where x is an array (a rule's own temporary)."""
    if isinstance(x, np.ndarray) and x.ndim:
        return np.trunc(x, out=x)
    return np.trunc(x)


def clip_(x, lim):
    """x clipped to [-lim, lim], in place where x is an array (a rule's own temporary)."""
    if isinstance(x, np.ndarray) and x.ndim:
        np.minimum(x, lim, out=x)
        return np.maximum(x, -lim, out=x)
    return np.minimum(np.maximum(x, -lim), lim)


def subtract_where_(v, s, c):
    """v - c where s, else v (c rounded to v's type first, as numpy does with a
    scalar), in place where v is an array (a rule's own temporary)."""
    if isinstance(v, np.ndarray) and v.ndim:
        v -= s.view(np.uint8) * v.dtype.type(c)   # v - 0 == v exactly where not s
        return v
    return np.where(s, v - c, v)


def zero_where_(v, s):
    """0 where s, else v; in place where v is an array (a rule's own temporary)."""
    if isinstance(v, np.ndarray) and v.ndim:
        np.copyto(v, 0, where=s)
        return v
    return np.where(s, 0 * v, v)


def _register_primitives(numba):
    from numba.extending import overload

    @overload(where)
    def _where(cond, a, b):
        if isinstance(cond, numba.types.Boolean):
            return lambda cond, a, b: a if cond else b
        return lambda cond, a, b: np.where(cond, a, b)

    scalar = (numba.types.Number, numba.types.Boolean)

    @overload(cast)
    def _cast(x, dtype):
        if isinstance(x, scalar):
            return lambda x, dtype: dtype(x)

    @overload(trunc_)
    def _trunc(x):
        if isinstance(x, scalar):
            return lambda x: np.trunc(x)

    @overload(clip_)
    def _clip(x, lim):
        if isinstance(x, scalar):
            return lambda x, lim: min(max(x, -lim), lim)

    @overload(subtract_where_)
    def _subtract_where(v, s, c):
        if isinstance(v, scalar):
            return lambda v, s, c: v - c if s else v

    @overload(zero_where_)
    def _zero_where(v, s):
        if isinstance(v, scalar):
            return lambda v, s: v - v if s else v


def _launch_numba_threads(numba):
    """Start numba's thread pool now, leaving multiprocessing's start method
    unset if it was: numba asks for it when it starts its threads, which fixes
    multiprocessing's default context, and Lava's import, which sets 'fork'
    unforced, would then fail ("context has already been set")."""
    import multiprocessing as mp
    unset = mp.get_start_method(allow_none=True) is None
    numba.get_num_threads()
    if unset:
        mp.set_start_method(None, force=True)
