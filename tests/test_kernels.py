"""The compiled runs of the rules (``lava_ssnnbp.accel``: numba compiles the functions
of ``dynamics`` into its loops) give their interpreted (numpy) results: fixed point bit
for bit, float bit for bit where the synaptic sums are exact in any order. And the
import graph keeps the rules below their compiled users."""
import ast
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


@pytest.fixture
def numpy_only():
    """Run the body's second half with numba switched off; restore it afterwards."""
    yield lambda: accel.set_enabled(False)
    accel.set_enabled(True)


def _imports(path: Path) -> set:
    """The modules a file imports (relative imports resolved within lava_ssnnbp)."""
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


def test_dynamics_and_config_import_nothing_above_them():
    """dynamics never imports the compiled schedulers; config, rates, jit and
    fixed_point do not import dynamics (no cycle, no upward import)."""
    for f in (PACKAGE / "dynamics").glob("*.py"):
        bad = {m for m in _imports(f) if m.startswith(("lava_ssnnbp.accel", "lava_ssnnbp.engine", "numba"))}
        assert not bad, (f.name, bad)
    for name in ("config.py", "rates.py", "jit.py", "fixed_point.py"):
        bad = {m for m in _imports(PACKAGE / name) if m.startswith(("lava_ssnnbp.dynamics", "lava_ssnnbp.accel"))}
        assert not bad, (name, bad)
    assert not (PACKAGE / "kernels.py").exists() and not (PACKAGE / "sample_kernels.py").exists()
    code = ("import sys; import lava_ssnnbp.config; assert 'lava_ssnnbp.dynamics' not in sys.modules; "
            "import lava_ssnnbp.dynamics; assert not [m for m in sys.modules if m.startswith('lava_ssnnbp.accel')]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_accel_option():
    cfg = SSNNConfig(sizes=(8, 6, 3), steps=4)
    assert Engine(cfg, accel=False).compiled() is False
    assert Engine(cfg).compiled() == accel.available()
    with pytest.raises(ValueError, match="accel must be"):
        Engine(cfg, accel="yes")
    if accel.usable():
        assert Engine(cfg, accel=True).compiled() is True
    else:
        with pytest.raises(ValueError, match="needs numba"):
            Engine(cfg, accel=True)


@compiled_only
def test_coincidences_and_drive_equal_gemm():
    rng = np.random.default_rng(0)
    x, dp, dn = (rng.random((40, n)) < 0.1 for n in (30, 20, 20))
    ref = (dp.astype(np.int64) - dn).T @ x.astype(np.int64)
    assert np.array_equal(accel.coincidences(x, dp, dn), ref)
    assert np.array_equal(dyn.coincidence_numerator(x, dp, dn), ref)             # the numpy GEMM
    wt = rng.integers(-128, 128, (30, 20)).astype(np.float32)     # integer-valued: sums exact in any order
    assert np.array_equal(accel.spike_drive(x, wt), x.astype(np.float32) @ wt)


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
def test_fixed_point_training_same_weights_with_and_without_accel():
    rng = np.random.default_rng(2)
    x, y = rng.random((24, 64)), rng.integers(0, 10, 24)
    cfg = SSNNConfig(sizes=(64, 48, 10), steps=12, mode="coincidence", fixed_point=True, eta=0.3)
    fast = Engine(cfg, seed=3, accel=True)
    fast.train_batch(x, y, "mini-batch")
    slow = Engine(cfg, seed=3, accel=False)
    slow.train_batch(x, y, "mini-batch")
    for wf, ws in zip(fast.weights, slow.weights):
        assert np.array_equal(wf, ws)
    assert not np.array_equal(fast.weights[0], Engine(cfg, seed=3).weights[0])   # it did learn


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
def test_float_training_same_weights_with_and_without_accel():
    """Weights on a 1/64 grid make every synaptic sum exact in any order (the event-driven
    drive adds in another order than a GEMM), so the runs must agree bit for bit."""
    rng = np.random.default_rng(5)
    x, y = rng.random((24, 64)), rng.integers(0, 10, 24)
    cfg = SSNNConfig(sizes=(64, 48, 10), steps=12, mode="rate", eta=0.3)
    w0 = [np.round(w * 64) / 64 for w in dyn.init_weights(cfg, 3)]
    fast = Engine(cfg, w0, seed=3, accel=True)
    fast.train_batch(x, y, "mini-batch")
    slow = Engine(cfg, w0, seed=3, accel=False)
    slow.train_batch(x, y, "mini-batch")
    for wf, ws, w in zip(fast.weights, slow.weights, w0):
        assert np.array_equal(wf, ws) and not np.array_equal(wf, w)


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

    def calls(m):
        return [m.hidden_step(hid, a, b, ph, keep), m.hidden_step(hid, a, b, ph),
                m.output_step(out, a_out, target, po), m.output_step(wide, a, wide_target, po)]
    fast, slow = calls(step), calls(dyn)
    assert (step._fused(hid, a, b, ph, keep, output=False) is not None) == (rows * 300 < 1024)
    for f, s in zip(fast, slow):
        (fst, *fsp), (sst, *ssp) = f, s
        for fa, sa in zip(list(fst) + fsp, list(sst) + ssp):
            assert fa.dtype == sa.dtype and np.array_equal(fa, sa)
            if fa.dtype.kind == "f":
                assert np.array_equal(np.signbit(fa), np.signbit(sa))
        assert all(z.any() and not z.all() for z in fsp)          # spikes and silence both present


@compiled_only
@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
@pytest.mark.parametrize("mode,wta,dropout,reset", [("coincidence", True, (0.2, 0.3), "subtract"),
                                                     ("rate", False, (), "zero"),
                                                     ("coincidence", True, (0.0, 0.5), "zero"),
                                                     ("causal", True, (0.2, 0.3), "subtract"),
                                                     ("replay", True, (0.2, 0.3), "subtract")])
def test_one_hidden_layer_loop_equals_the_step_by_step_schedule(fixed, dtype, mode, wta, dropout, reset):
    """The whole training simulation of a 1-hidden-layer net in one compiled call gives
    the per-step numpy schedule's spike counts and coincidence counts in every layer
    (weights on a 1/64 grid: float sums exact in any order), batched and per sample."""
    rng = np.random.default_rng(7)
    cfg = SSNNConfig(sizes=(64, 300, 10), steps=16, mode=mode, fixed_point=fixed, wta=wta, dropout=dropout,
                     reset=reset, eta=0.3)
    w = dyn.init_weights(cfg, 3)
    if not fixed:
        w = [(np.round(x * 64) / 64).astype(dtype) for x in w]
    x, y = rng.random((5, 64)), rng.integers(0, 10, 5)
    results = []
    for compiled in (True, False):
        eng = Engine(cfg, w, seed=3, dtype=dtype, accel=compiled)
        batch = encode_batch(cfg, x, y, np.arange(5), 3, train=True)
        results.append(eng.simulate(batch, train=True))
    fast, slow = results
    for name in ("x_counts", "dp_counts", "dn_counts") + (("numerators",) if mode in dyn.PAIR_NUMERATORS else ()):
        for f, s in zip(getattr(fast, name), getattr(slow, name)):
            if isinstance(f, dyn.PairBlock):
                f, s = f.dense(), s.dense()
            assert np.array_equal(f, s), name
    assert all(c.any() for c in fast.dp_counts + fast.dn_counts)       # gradients flowed in both layers
    # and training, per sample: the same weights
    engines = []
    for compiled in (True, False):
        eng = Engine(cfg, w, seed=3, dtype=dtype, accel=compiled)
        eng.train_batch(x, y, "per-sample")
        engines.append(eng)
    for wf, ws, w0 in zip(engines[0].weights, engines[1].weights, w):
        assert np.array_equal(wf, ws) and not np.array_equal(wf, w0)
    # a single time step (no delayed input drive at all): the same counts
    one = cfg.replace(steps=1)
    results = []
    for compiled in (True, False):
        results.append(Engine(one, w, seed=3, dtype=dtype, accel=compiled).simulate(
            encode_batch(one, x, y, np.arange(5), 3, train=True), train=True))
    for f, s in zip(results[0].x_counts + results[0].dp_counts, results[1].x_counts + results[1].dp_counts):
        assert np.array_equal(f, s)


@compiled_only
@pytest.mark.parametrize("mode", ["coincidence", "replay", "causal", "rate"])
@pytest.mark.parametrize("batch_updates,batch", [("per-sample", 6), ("mini-batch", 3), ("mini-batch", 18)])
def test_fixed_point_training_same_weights_per_schedule_compiled_or_not(mode, batch_updates, batch, numpy_only):
    """Every schedule of the engine (per sample and mini-batch: the compiled whole-sample
    pass) learns the same weights, to the bit, compiled as with numpy alone (switched
    off for the whole package: the random streams' hashes too), and the samples' counts
    agree."""
    rng = np.random.default_rng(8)
    x, y = rng.random((batch, 64)) * (rng.random((batch, 64)) < 0.6), rng.integers(0, 10, batch)
    cfg = SSNNConfig(sizes=(64, 200, 10), steps=14, mode=mode, fixed_point=True, eta=0.3)
    runs = []
    for enabled in (True, False):
        if not enabled:
            numpy_only()
        eng = Engine(cfg, seed=11)
        assert eng.compiled() == enabled
        eng.samples_seen = 5                      # streams named by a running sample counter
        res = eng.train_batch(x, y, batch_updates)
        runs.append((eng.weights, res))
    (wk, rk), (wn, rn) = runs
    for a, b, w0 in zip(wk, wn, Engine(cfg, seed=11).weights):
        assert a.dtype == b.dtype == np.int32 and np.array_equal(a, b) and not np.array_equal(a, w0)
    for a, b in zip(rk.x_counts + rk.dp_counts + rk.dn_counts, rn.x_counts + rn.dp_counts + rn.dn_counts):
        assert np.array_equal(a, b)


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
    triples += [tuple(int(v) for v in rng.integers(0, 2 ** 62, 3)) for _ in range(100)]
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
    assert np.array_equal(jit.compiled(rule)(keys, counters), rule(keys, counters))
    assert jit.compiled(rule) is not rule


@compiled_only
@pytest.mark.parametrize("fixed", [True, False])
def test_mini_batch_split_over_threads_learns_the_same_weights(fixed):
    """A batch split over threads (each part counts its own pairs) learns what one
    thread learns, to the bit: samples are independent given the weights."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only here")
    rng = np.random.default_rng(13)
    x, y = rng.random((9, 64)), rng.integers(0, 10, 9)
    cfg = SSNNConfig(sizes=(64, 120, 10), steps=12, mode="coincidence", fixed_point=fixed, eta=0.3)
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
