"""What the split of the rules from their compiled schedulers promises.

* Each per-step rule is written once, in ``lava_ssnnbp.dynamics`` (``@jit.rule``):
  numpy runs it on arrays, ``lava_ssnnbp.accel`` compiles the same function into its
  loops. The two runs agree: fixed point bit for bit; float bit for bit wherever
  the synaptic sums are exact in any order (the compiled loops add event by event,
  numpy in a GEMM), which the float cases here arrange (weights and updates on a
  power-of-two grid).
* ``Engine(accel=...)`` chooses: True (compiled; needs numba), False (numpy only),
  None (the package's switch, read at each call).
* The import graph: ``dynamics``, ``config``, ``rates``, ``jit`` and ``fixed_point``
  never import ``accel``; ``config`` loads without ``dynamics``; no compiled twin of
  a rule remains.

Small networks and few samples; every comparison also checks that something
happened (spikes, gradient spikes, changed weights) and that the compiled path was
the one that ran.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lava_ssnnbp import accel, jit
from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import fixed_point as fxp
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch

PACKAGE = Path(__file__).resolve().parent.parent / "lava_ssnnbp"
compiled_only = pytest.mark.skipif(not accel.usable(), reason="numba not usable here")


# ---------------------------------------------------------------- helpers
def _imports(path: Path) -> set:
    """Every module a file imports anywhere in it (function bodies included; relative
    imports resolved within lava_ssnnbp; ``from X import y`` also gives ``X.y``)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(parts[:len(parts) - node.level]) if node.level else ""
            mod = ".".join(p for p in (base, node.module or "") if p)
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _run(code: str, **env):
    """``code`` in a fresh interpreter (the environment plus ``env``); its stdout."""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, cwd=PACKAGE.parent)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture
def calls(monkeypatch):
    """Counts the engine's calls into ``accel`` (the compiled schedulers)."""
    n = {}

    def spy(name):
        real = getattr(accel, name)

        def wrapper(*args, **kw):
            n[name] = n.get(name, 0) + 1
            return real(*args, **kw)
        monkeypatch.setattr(accel, name, wrapper)
    for name in ("simulate_one_hidden_layer", "replay_pair_block", "add_block", "coincidences",
                 "step_functions"):
        spy(name)
    return n


@pytest.fixture
def switch():
    """``accel.set_enabled``, restored to on afterwards."""
    yield accel.set_enabled
    accel.set_enabled(True)


def _grid(weights, dtype, step=64):
    """Float weights rounded to multiples of 1/step: synaptic sums exact in any order."""
    return [(np.round(np.asarray(w, np.float64) * step) / step).astype(dtype) for w in weights]


# ---------------------------------------------------------------- import graph, one source
def test_dynamics_and_config_import_nothing_above_them():
    """dynamics never imports the compiled schedulers (nor the engine, nor numba);
    config, rates, jit and fixed_point import neither dynamics nor accel; jit imports
    nothing of the package; accel imports dynamics (the direction the rules go)."""
    for f in sorted((PACKAGE / "dynamics").glob("*.py")):
        bad = {m for m in _imports(f) if m.startswith(("lava_ssnnbp.accel", "lava_ssnnbp.engine", "numba"))}
        assert not bad, (f.name, bad)
    for name in ("config.py", "rates.py", "jit.py", "fixed_point.py"):
        bad = {m for m in _imports(PACKAGE / name) if m.startswith(("lava_ssnnbp.dynamics", "lava_ssnnbp.accel",
                                                                   "lava_ssnnbp.engine"))}
        assert not bad, (name, bad)
    assert not {m for m in _imports(PACKAGE / "jit.py") if m.startswith("lava_ssnnbp")}
    assert "lava_ssnnbp.dynamics" in _imports(PACKAGE / "accel" / "layers.py")
    assert "lava_ssnnbp.dynamics" in _imports(PACKAGE / "accel" / "sample.py")


def test_config_loads_without_dynamics_and_dynamics_without_accel():
    out = _run("import sys; import lava_ssnnbp.config; "
               "print(sorted(m for m in sys.modules if m.startswith(('lava_ssnnbp.dynamics', 'lava_ssnnbp.accel', "
               "'numba')))); import lava_ssnnbp.dynamics; "
               "print(sorted(m for m in sys.modules if m.startswith(('lava_ssnnbp.accel', 'numba'))))")
    assert out.split("\n")[:2] == ["[]", "[]"], out


def test_no_compiled_twin_of_a_rule_remains():
    """The old twins (kernels.py, sample_kernels.py) are gone, nothing imports them, and
    no module of accel defines a function under a rule's name: it calls the rule."""
    assert not (PACKAGE / "kernels.py").exists() and not (PACKAGE / "sample_kernels.py").exists()
    for f in PACKAGE.rglob("*.py"):
        bad = {m for m in _imports(f) if m.endswith(("lava_ssnnbp.kernels", "lava_ssnnbp.sample_kernels"))}
        assert not bad, (f, bad)
    rules = {fn.__name__ for fn in jit._RULES}
    assert {"if_update_fixed", "if_update_float", "composite_update_fixed", "composite_update_float",
            "fixed_weight_update", "float_weight_update", "replay_spikes", "gradient_sign", "dense_output",
            "lateral_inhibition"} <= rules
    for fn in jit._RULES:
        assert fn.__module__.startswith(("lava_ssnnbp.dynamics", "lava_ssnnbp.fixed_point")), fn
    for f in (PACKAGE / "accel").glob("*.py"):
        defined = {n.name for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.FunctionDef)}
        assert not defined & rules, (f.name, defined & rules)


# ---------------------------------------------------------------- Engine(accel=...)
def test_engine_accel_choice_is_checked(monkeypatch):
    cfg = SSNNConfig(sizes=(8, 6, 3), steps=4)
    with pytest.raises(ValueError, match="accel must be"):
        Engine(cfg, accel="yes")
    with pytest.raises(ValueError, match="accel must be"):
        Engine(cfg, accel=1)
    monkeypatch.setattr(accel, "usable", lambda: False)      # as where numba cannot be imported
    with pytest.raises(ValueError, match="needs numba"):
        Engine(cfg, accel=True)
    assert Engine(cfg, accel=False).compiled() is False


@compiled_only
def test_engine_accel_choice_decides_what_runs(calls, switch, kernel_config, sparse_images):
    """False never calls accel, True always does (whatever the package's switch), None
    follows the switch at each call."""
    cfg = kernel_config(sizes=(64, 24, 10), mode="replay")
    x, y = sparse_images(2)

    def trains(eng):
        calls.clear()
        eng.train_batch(x, y, "per-sample")
        return sum(calls.values())

    auto, on, off = Engine(cfg, seed=1), Engine(cfg, seed=1, accel=True), Engine(cfg, seed=1, accel=False)
    assert (auto.compiled(), on.compiled(), off.compiled()) == (True, True, False)
    assert trains(off) == 0 and trains(on) > 0 and trains(auto) > 0
    assert calls["simulate_one_hidden_layer"] == 2 and calls["replay_pair_block"] == 4   # 2 samples, 2 layers
    assert 0 < calls["add_block"] <= 4 and "step_functions" not in calls                # the whole-sample loop
    assert switch(False) is False
    assert (auto.compiled(), on.compiled(), off.compiled()) == (False, True, False)
    assert trains(auto) == 0 and trains(off) == 0 and trains(on) > 0
    assert switch(True) is True
    assert auto.compiled() and trains(auto) > 0


def test_switched_off_by_the_environment_numba_is_never_imported():
    """``LAVA_SSNNBP_NUMBA=0``: the engine runs numpy alone and numba stays unimported."""
    out = _run("import sys, numpy as np; from lava_ssnnbp import accel; from lava_ssnnbp.config import SSNNConfig; "
               "from lava_ssnnbp.engine import Engine; "
               "cfg = SSNNConfig(sizes=(16, 12, 4), steps=5, mode='replay', fixed_point=True); "
               "e = Engine(cfg); e.train_batch(np.random.default_rng(0).random((3, 16)), np.array([0, 1, 2])); "
               "print(accel.available(), e.compiled(), 'numba' in sys.modules, "
               "sorted(m for m in sys.modules if m.startswith('lava_ssnnbp.accel.')))",
               LAVA_SSNNBP_NUMBA="0")
    assert out.split() == ["False", "False", "False", "[]"], out


# ---------------------------------------------------------------- the same rules, compiled or not
@compiled_only
def test_primitives_compiled_on_scalars_equal_numpy_on_arrays():
    """jit's primitives: numba's scalar forms give numpy's array results element by element."""
    numba = jit.numba_module()

    @numba.njit
    def run(v, s, c, lim, iv, out_f, out_i):
        for i in range(v.size):
            out_f[i, 0] = jit.where(s[i], v[i], c)
            out_f[i, 1] = jit.trunc_(v[i])
            out_f[i, 2] = jit.clip_(v[i], lim)
            out_f[i, 3] = jit.subtract_where_(v[i], s[i], c)
            out_f[i, 4] = jit.zero_where_(v[i], s[i])
            out_i[i, 0] = jit.cast(v[i], np.int64)
            out_i[i, 1] = jit.clip_(iv[i], np.int64(lim))
            out_i[i, 2] = jit.subtract_where_(iv[i], s[i], np.int64(c))
            out_i[i, 3] = jit.zero_where_(iv[i], s[i])

    rng = np.random.default_rng(3)
    v = rng.standard_normal(200) * 10
    v[:4] = [-0.0, 0.5, -0.5, 7.0]
    s, iv = rng.random(200) < 0.5, rng.integers(-20, 20, 200)
    c, lim = 2.5, 6.0
    out_f, out_i = np.empty((200, 5)), np.empty((200, 4), np.int64)
    run(v, s, c, lim, iv, out_f, out_i)
    want_f = [jit.where(s, v, c), jit.trunc_(v.copy()), jit.clip_(v.copy(), lim), jit.subtract_where_(v.copy(), s, c),
              jit.zero_where_(v.copy(), s)]
    want_i = [jit.cast(v, np.int64), jit.clip_(iv.copy(), 6), jit.subtract_where_(iv.copy(), s, 2),
              jit.zero_where_(iv.copy(), s)]
    for k, want in enumerate(want_f):
        assert np.array_equal(out_f[:, k], want) and np.array_equal(np.signbit(out_f[:, k]), np.signbit(want)), k
    for k, want in enumerate(want_i):
        assert np.array_equal(out_i[:, k], want), k


@compiled_only
def test_coincidences_and_drive_equal_gemm():
    rng = np.random.default_rng(0)
    x, dp, dn = (rng.random((40, n)) < 0.1 for n in (30, 20, 20))
    ref = (dp.astype(np.int64) - dn).T @ x.astype(np.int64)
    assert np.array_equal(accel.coincidences(x, dp, dn), ref)
    assert np.array_equal(dyn.coincidence_numerator(x, dp, dn), ref)             # the numpy GEMM
    wt = rng.integers(-128, 128, (30, 20)).astype(np.float32)     # integer-valued: sums exact in any order
    assert np.array_equal(accel.spike_drive(x, wt), x.astype(np.float32) @ wt)
    assert ref.any()


@compiled_only
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_fixed_if_step_compiled_equals_numpy_bit_for_bit(reset):
    step = accel.step_functions()
    rng = np.random.default_rng(1)
    lim = fxp.UV_MAX
    shape = (8, 300)                                            # 2,400 units: the compiled pass's size
    # currents and voltages across the 24-bit range, saturated ones included, and inputs
    # of both signs up to the 16-bit synaptic range
    u = rng.integers(-lim, lim + 1, shape).astype(np.int32)
    v = rng.integers(-lim, lim + 1, shape).astype(np.int32)
    u.flat[:5] = [lim, -lim, 0, -1, 1]
    a = rng.integers(-2 ** 15, 2 ** 15, shape).astype(np.int32)
    for du, theta in ((409, 1000), (0, 0), (4095, 3)):
        err = a.astype(np.int64) // 7                           # int64 inputs (the output layer's error)
        fast = step.if_step(u, v, a, du, theta, reset, fixed=True)
        fast_err = step.if_step(u, v, err, du, theta, reset, fixed=True)
        slow = dyn.if_step(u, v, a, du, theta, reset, fixed=True)
        slow_err = dyn.if_step(u, v, err, du, theta, reset, fixed=True)
        for f, s in zip(fast + fast_err, slow + slow_err):
            assert f.dtype == s.dtype and np.array_equal(f, s)
        assert fast[2].any() and not fast[2].all()


@compiled_only
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_float_if_step_compiled_equals_numpy_bit_for_bit(dtype, reset):
    rng = np.random.default_rng(4)
    shape = (6, 400)
    u = (rng.standard_normal(shape) * 3).astype(dtype)
    a = (rng.standard_normal(shape) * 5).astype(dtype)
    # theta and du not representable in float32, and voltages within an ulp of theta
    theta, du = 5.000000001, 0.18126924692201818
    v = (theta - (a - u) * dtype(du) - u + rng.integers(-2, 3, shape) * np.spacing(dtype(theta))).astype(dtype)
    fast = accel.step_functions().if_step(u, v, a, du, theta, reset)
    slow = dyn.if_step(u, v, a, du, theta, reset)
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype and np.array_equal(f, s)
        assert np.array_equal(np.signbit(f), np.signbit(s))
    assert fast[2].any() and not fast[2].all()


@compiled_only
@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("rows", [3, 4])
def test_compiled_composite_step_equals_numpy_bit_for_bit(fixed, dtype, reset, rows):
    """``hidden_step`` / ``output_step`` compiled (the rule in one pass over the units; or,
    from 1,024 units x samples, three compiled IF passes) give the numpy path's state
    and spikes."""
    step = accel.step_functions()
    rng = np.random.default_rng(6)
    cfg = SSNNConfig(sizes=(20, 300, 10), steps=10, fixed_point=fixed, reset=reset)
    shape = (rows, 300)
    if fixed:
        lim = fxp.UV_MAX
        draw = lambda s: rng.integers(-lim // 50, lim // 50, s).astype(np.int32)   # noqa: E731
        drive = lambda s: rng.integers(-2 ** 12, 2 ** 12, s).astype(np.int32)      # noqa: E731
    else:
        draw = lambda s: (rng.standard_normal(s) * 3).astype(dtype)                 # noqa: E731
        drive = lambda s: (rng.standard_normal(s) * 4).astype(dtype)                # noqa: E731

    def state(s):
        return dyn.CompositeState(*(draw(s) for _ in range(6)), rng.random(s) < 0.3)

    hid, out, wide = state(shape), state((rows, 10)), state(shape)
    a, b, keep = drive(shape), drive(shape), rng.random(shape) < 0.8
    a_out, target, wide_target = drive((rows, 10)), rng.random((rows, 10)) < 0.4, rng.random(shape) < 0.4
    ph, po = dyn.neuron_params(cfg, 1), dyn.neuron_params(cfg, 2)

    def steps(m):
        return [m.hidden_step(hid, a, b, ph, keep), m.hidden_step(hid, a, b, ph),
                m.output_step(out, a_out, target, po), m.output_step(wide, a, wide_target, po)]
    fast, slow = steps(step), steps(dyn)
    assert (step._fused(hid, a, b, ph, keep, output=False) is not None) == (rows * 300 < 1024)
    for f, s in zip(fast, slow):
        (fst, *fsp), (sst, *ssp) = f, s
        for fa, sa in zip(list(fst) + fsp, list(sst) + ssp):
            assert fa.dtype == sa.dtype and np.array_equal(fa, sa)
            if fa.dtype.kind == "f":
                assert np.array_equal(np.signbit(fa), np.signbit(sa))
        assert all(z.any() and not z.all() for z in fsp)          # spikes and silence both present


@compiled_only
def test_replay_pair_block_equals_the_replay_trains_pair_counts():
    """The compiled replay window (spikes where random < register, pairs counted on
    the support) gives ``dynamics.replay_window``'s trains' counts and ``pair_block``."""
    rng = np.random.default_rng(9)
    steps, window = 20, 30
    pre = {"x": rng.integers(0, 21, 50) * (rng.random(50) < 0.5)}
    post = {"x": rng.integers(0, 21, 40), "dp": rng.integers(0, 21, 40) * (rng.random(40) < 0.3),
            "dn": rng.integers(0, 21, 40) * (rng.random(40) < 0.3)}
    ref_pre = dyn.replay_window(pre, steps, window, 4, 17, 0)
    ref_post = dyn.replay_window(post, steps, window, 4, 17, 1)
    ref = dyn.pair_block("replay", ref_pre["x"], ref_post["dp"], ref_post["dn"])
    xc, pc, nc, block = accel.replay_pair_block(*dyn.replay_draws(pre, steps, window, 4, 17, 0),
                                                *dyn.replay_draws(post, steps, window, 4, 17, 1))
    assert np.array_equal(xc, ref_pre["x"].sum(0)) and np.array_equal(pc, ref_post["dp"].sum(0))
    assert np.array_equal(nc, ref_post["dn"].sum(0))
    for a, b in zip(block[:3], ref[:3]):
        assert np.array_equal(a, b)
    assert block.shape == ref.shape and block.counts.any() and ref.counts.size > 10


@compiled_only
@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
def test_add_block_equals_apply_update_on_the_block(fixed, dtype):
    """The compiled in-place block update rounds as ``dynamics.apply_update`` does,
    saturation at the weight width included."""
    rng = np.random.default_rng(10)
    cfg = SSNNConfig(sizes=(30, 20, 10), mode="coincidence", fixed_point=fixed, eta=0.7, weight_bits=6)
    w = rng.integers(-31, 32, (20, 30)).astype(dtype) if fixed else rng.standard_normal((20, 30)).astype(dtype)
    w[0, :] = 31 if fixed else w[0, :]                # saturating row
    post, pre = np.array([0, 3, 4, 19]), np.array([1, 2, 7, 8, 29])
    num = rng.integers(-3000, 3000, (4, 5))
    ref, before = w.copy(), w.copy()
    ref[np.ix_(post, pre)] = dyn.apply_update(ref[np.ix_(post, pre)], num, cfg, 0, dyn.rounding_rng(1, 2, 0))
    delta = dyn.fixed_point_step(num, cfg, 0, dyn.rounding_rng(1, 2, 0)) if fixed else num
    accel.add_block(w, post, pre, delta, fixed, cfg.weight_bits, cfg.eta,
                    dyn.update_denominator(cfg.mode, cfg.learning_steps))
    assert w.dtype == ref.dtype and np.array_equal(w, ref) and not np.array_equal(w, before)
    if fixed:
        assert np.abs(w).max() == 31 and (w[0, pre] == 31).any()      # saturated, not wrapped


@compiled_only
def test_compiled_seed_state_gives_numpys_seed_sequence_streams():
    """``dynamics.sample_rng`` seeds PCG64 from the compiled SeedSequence hash
    (``dynamics.seed_sequence_state``): the same numbers as numpy's SeedSequence, for
    one-word and multi-word integers; the rule run interpreted gives the same state."""
    rng = np.random.default_rng(12)
    triples = [(0, 0, 0), (0, 12345, 100), (2 ** 40 + 5, 3, 7), (1, 2 ** 32, 400), (2 ** 64 + 1, 0, 2 ** 33)]
    triples += [tuple(int(v) for v in rng.integers(0, 2 ** 62, 3)) for _ in range(50)]
    assert jit.compiled(dyn.seed_sequence_state) is not dyn.seed_sequence_state
    for i, t in enumerate(triples):
        ref = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(t))))
        got = dyn.sample_rng(*t)
        assert np.array_equal(got.random(4), ref.random(4)), t
        assert np.array_equal(got.integers(0, 1 << 16, 5), ref.integers(0, 1 << 16, 5)), t
        if i < 10:
            words = dyn.randomness._entropy_words(t)
            want = np.random.SeedSequence(list(t)).generate_state(4, np.uint64)
            assert np.array_equal(dyn.seed_sequence_state(words, np.empty(4, np.uint64)), want), t
            assert np.array_equal(jit.compiled(dyn.seed_sequence_state)(words, np.empty(4, np.uint64)), want), t


@compiled_only
def test_neuron_random16_compiled_equals_interpreted():
    """The chip configuration's per-neuron hash: compiled and interpreted, the same numbers."""
    keys = np.random.default_rng(14).integers(0, 2 ** 32, (3, 50)).astype(np.uint64)
    counters = np.arange(150, dtype=np.uint64).reshape(3, 50) * 977
    rule = dyn.randomness._random16
    assert jit.compiled(rule) is not rule
    got, want = jit.compiled(rule)(keys, counters), rule(keys, counters)
    assert np.array_equal(got, want) and len(np.unique(want)) > 140


# ---------------------------------------------------------------- whole training runs, compiled or not
# name: (config, batch updates, batch size); float cases keep every synaptic sum exact in
# any order: weights on a 1/64 grid, eta 1/4, T and T_s powers of two (updates stay on the grid)
FLOAT = dict(eta=0.25, steps=8)
RUNS = {
    "fixed rate per-sample": (dict(mode="rate", fixed_point=True, eta=0.3, steps=12), "per-sample", 1),
    "fixed coincidence mini-batch": (dict(mode="coincidence", fixed_point=True, eta=0.3, steps=12), "mini-batch", 4),
    "fixed causal per-sample": (dict(mode="causal", fixed_point=True, eta=0.3, steps=12), "per-sample", 1),
    "fixed replay per-sample": (dict(mode="replay", replay_steps=10, fixed_point=True, eta=0.3, steps=12),
                                "per-sample", 1),
    "fixed replay mini-batch": (dict(mode="replay", replay_steps=10, fixed_point=True, eta=0.3, steps=12),
                                "mini-batch", 4),
    "float32 rate per-sample": (dict(mode="rate", **FLOAT), "per-sample", 1),
    "float32 rate mini-batch": (dict(mode="rate", **FLOAT), "mini-batch", 4),
    "float32 replay per-sample": (dict(mode="replay", replay_steps=8, **FLOAT), "per-sample", 1),
    "float64 coincidence per-sample, zero reset": (dict(mode="coincidence", reset="zero", **FLOAT), "per-sample", 1),
    "chip configuration": ("loihi2", "per-sample", 1),
    "fixed coincidence, two hidden layers": (dict(mode="coincidence", fixed_point=True, eta=0.3, steps=12,
                                                  sizes=(64, 48, 32, 10), dropout=(0.2, 0.3, 0.3)), "mini-batch", 8),
    "float32 replay, two hidden layers": (dict(mode="replay", replay_steps=8, sizes=(64, 48, 32, 10),
                                               dropout=(0.2, 0.3, 0.3), **FLOAT), "per-sample", 1),
}


def _run_config(name):
    kw, schedule, batch = RUNS[name]
    if kw == "loihi2":
        return SSNNConfig.loihi2_config(sizes=(64, 48, 10), steps=12, replay_steps=10), schedule, batch, np.float32
    kw = {"sizes": (64, 48, 10), "dropout": (0.2, 0.3), **kw}
    dtype = np.float64 if name.startswith("float64") else np.float32
    return SSNNConfig(**kw), schedule, batch, dtype


def _train(cfg, w0, dtype, schedule, batch, x, y, compiled):
    eng = Engine(cfg, [w.copy() for w in w0], seed=3, dtype=dtype, accel=compiled)
    counts = []
    for a in range(0, len(x), batch):
        res = eng.train_batch(x[a:a + batch], y[a:a + batch], schedule)
        counts.append((res.x_counts, res.dp_counts, res.dn_counts))
    test = eng.predict_counts(x, np.arange(len(x)))
    return eng, counts, test


@compiled_only
@pytest.mark.parametrize("name", list(RUNS))
def test_training_compiled_equals_numpy(name, calls, sparse_images):
    """Engine(accel=True) and Engine(accel=False) from the same weights learn the same
    weights, with the same spike and gradient-spike counts per sample and the same
    test-time output counts, bit for bit."""
    cfg, schedule, batch, dtype = _run_config(name)
    w0 = dyn.init_weights(cfg, 3)
    if not cfg.fixed_point:
        w0 = _grid(w0, dtype)
    x, y = sparse_images(8)
    fast, fast_counts, fast_test = _train(cfg, w0, dtype, schedule, batch, x, y, True)
    ran = dict(calls)
    calls.clear()
    slow, slow_counts, slow_test = _train(cfg, w0, dtype, schedule, batch, x, y, False)
    assert not calls                                               # numpy alone
    one_hidden = cfg.n_layers == 2
    assert ran.get("simulate_one_hidden_layer", 0) == (8 // batch if one_hidden else 0)
    assert ran.get("step_functions", 0) >= (1 if one_hidden else 8 // batch + 1)   # test time (and training)
    if cfg.mode == "replay":
        assert ran["replay_pair_block"] == 8 * cfg.n_layers
    assert ran["add_block"] > 0
    for a, b in zip(fast_counts, slow_counts):
        for fa, sa in zip(sum(a, []), sum(b, [])):
            assert np.array_equal(fa, sa)
    assert np.array_equal(fast_test, slow_test) and fast_test.any()
    for wf, ws, w in zip(fast.weights, slow.weights, w0):
        assert wf.dtype == ws.dtype and np.array_equal(wf, ws) and not np.array_equal(wf, w)
    for l in range(cfg.n_layers):          # every layer fired and had gradient spikes
        assert sum(xc[l + 1].sum() for xc, _, _ in fast_counts) > 0, l
        assert sum(dp[l].sum() + dn[l].sum() for _, dp, dn in fast_counts) > 0, l


@compiled_only
@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32)])
@pytest.mark.parametrize("mode", ["coincidence", "causal", "replay"])
def test_recorded_spike_trains_compiled_equal_numpy(fixed, dtype, mode, kernel_config, sparse_images):
    """One training pass's spike trains at every step and every layer, and its pair
    counts, compiled (the one-hidden-layer loop where it records) and numpy."""
    cfg = kernel_config(sizes=(64, 40, 10), mode=mode, fixed_point=fixed, dropout=(0.2, 0.3),
                        **({} if fixed else FLOAT))
    w0 = dyn.init_weights(cfg, 3)
    if not fixed:
        w0 = _grid(w0, dtype)
    x, y = sparse_images(5, seed=1)
    out = []
    for compiled in (True, False):
        eng = Engine(cfg, w0, seed=3, dtype=dtype, accel=compiled)
        batch = encode_batch(cfg, x, y, np.arange(5), 3, train=True)
        out.append((eng.simulate(batch, train=True, record=True), eng.simulate(batch, train=True)))
    (fr, fp), (sr, sp) = out
    assert set(fr.spikes) == set(sr.spikes)
    for key in fr.spikes:
        assert np.array_equal(fr.spikes[key], sr.spikes[key]), key
        assert fr.spikes[key].any(), key
    for f, s in zip(fp.x_counts + fp.dp_counts + fp.dn_counts, sp.x_counts + sp.dp_counts + sp.dn_counts):
        assert np.array_equal(f, s)
    if fp.numerators is not None:
        for f, s in zip(fp.numerators, sp.numerators):
            f, s = (z.dense() if isinstance(z, dyn.PairBlock) else z for z in (f, s))
            assert np.array_equal(f, s) and f.any()


@compiled_only
@pytest.mark.parametrize("fixed", [True, False])
def test_one_step_samples_compiled_equal_numpy(fixed, kernel_config, sparse_images):
    """T = 1: no delayed input drive at all; the same counts compiled and numpy."""
    cfg = kernel_config(sizes=(64, 40, 10), steps=1, mode="coincidence", fixed_point=fixed, eta=0.25)
    w0 = dyn.init_weights(cfg, 3) if fixed else _grid(dyn.init_weights(cfg, 3), np.float32)
    x, y = sparse_images(5, seed=4)
    out = [Engine(cfg, w0, seed=3, accel=compiled).simulate(encode_batch(cfg, x, y, np.arange(5), 3, train=True),
                                                             train=True) for compiled in (True, False)]
    for f, s in zip(out[0].x_counts + out[0].dp_counts + out[0].dn_counts,
                    out[1].x_counts + out[1].dp_counts + out[1].dn_counts):
        assert np.array_equal(f, s)
    assert out[0].x_counts[0].any()       # input spikes; with one step nothing downstream can fire yet


@compiled_only
@pytest.mark.parametrize("mode", ["rate", "replay"])
def test_package_switch_off_learns_the_same_weights(mode, switch, kernel_config, sparse_images):
    """The package's switch (``accel.set_enabled``): off, the random streams' hashes run
    interpreted too (numpy's SeedSequence); the weights are the same to the bit."""
    cfg = kernel_config(mode=mode)
    x, y = sparse_images(6, seed=2)
    weights = []
    for enabled in (True, False):
        assert switch(enabled) is enabled
        eng = Engine(cfg, seed=11)
        assert eng.compiled() is enabled
        eng.samples_seen = 5                      # streams named by a running sample counter
        eng.train_batch(x, y, "per-sample")
        weights.append(eng.weights)
    for a, b, w0 in zip(*weights, Engine(cfg, seed=11).weights):
        assert np.array_equal(a, b) and not np.array_equal(a, w0)


@compiled_only
@pytest.mark.parametrize("fixed", [True, False])
def test_mini_batch_split_over_threads_learns_the_same_weights(fixed, kernel_config, sparse_images):
    """A batch split over threads (each part counts its own pairs) learns what one
    thread learns, to the bit: samples are independent given the weights."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only here")
    x, y = sparse_images(9, seed=13)
    cfg = kernel_config(sizes=(64, 120, 10), mode="coincidence", fixed_point=fixed)
    weights = []
    try:
        for n in (1, 2):
            assert accel.set_threads(n) == n
            eng = Engine(cfg, seed=4)
            eng.train_batch(x, y, "mini-batch")
            eng.train_batch(x[::-1], y[::-1], "mini-batch")
            weights.append(eng.weights)
    finally:
        accel.set_threads(None)
    for a, b, w0 in zip(*weights, Engine(cfg, seed=4).weights):
        assert np.array_equal(a, b) and not np.array_equal(a, w0)
