"""The numba kernels give the numpy path's results (fixed point bit for bit)."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import fixed_point as fxp
from lava_ssnnbp import kernels
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba not usable here")


@pytest.fixture
def numpy_only():
    """Run the body's second half without kernels; restore them afterwards."""
    yield lambda: kernels.set_enabled(False)
    kernels.set_enabled(True)


def test_coincidences_and_drive_equal_gemm():
    rng = np.random.default_rng(0)
    x, dp, dn = (rng.random((40, n)) < 0.1 for n in (30, 20, 20))
    ref = (dp.astype(np.int64) - dn).T @ x.astype(np.int64)
    assert np.array_equal(kernels.coincidences(x, dp, dn), ref)
    wt = rng.integers(-128, 128, (30, 20)).astype(np.float32)     # integer-valued: sums exact in any order
    assert np.array_equal(kernels.spike_drive(x, wt), x.astype(np.float32) @ wt)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_fixed_if_step_kernel_equals_numpy_bit_for_bit(reset, numpy_only):
    rng = np.random.default_rng(1)
    lim = fxp.UV_MAX
    shape = (8, 300)                                            # 2,400 units: the kernel's size
    # currents and voltages across the 24-bit range, saturated ones included, and inputs
    # of both signs up to the 16-bit synaptic range
    u = rng.integers(-lim, lim + 1, shape).astype(np.int32)
    v = rng.integers(-lim, lim + 1, shape).astype(np.int32)
    u.flat[:5] = [lim, -lim, 0, -1, 1]
    a = rng.integers(-2 ** 15, 2 ** 15, shape).astype(np.int32)
    for du, theta in ((409, 1000), (0, 0), (4095, 3)):
        fast = dyn.if_step(u, v, a, du, theta, reset, fixed=True)
        err = a.astype(np.int64) // 7                           # int64 inputs (the output layer's error)
        fast_err = dyn.if_step(u, v, err, du, theta, reset, fixed=True)
        numpy_only()
        slow = dyn.if_step(u, v, a, du, theta, reset, fixed=True)
        slow_err = dyn.if_step(u, v, err, du, theta, reset, fixed=True)
        kernels.set_enabled(True)
        for f, s in zip(fast + fast_err, slow + slow_err):
            assert f.dtype == s.dtype and np.array_equal(f, s)
        assert fast[2].any() and not fast[2].all()


def test_fixed_point_training_same_weights_with_and_without_kernels(numpy_only):
    rng = np.random.default_rng(2)
    x, y = rng.random((24, 64)), rng.integers(0, 10, 24)
    cfg = SSNNConfig(sizes=(64, 48, 10), steps=12, mode="coincidence", fixed_point=True, eta=0.3)
    fast = Engine(cfg, seed=3)
    fast.train_batch(x, y, "mini-batch")
    numpy_only()
    slow = Engine(cfg, seed=3)
    slow.train_batch(x, y, "mini-batch")
    for wf, ws in zip(fast.weights, slow.weights):
        assert np.array_equal(wf, ws)
    assert not np.array_equal(fast.weights[0], Engine(cfg, seed=3).weights[0])   # it did learn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_float_if_step_kernel_equals_numpy_bit_for_bit(dtype, reset, numpy_only):
    rng = np.random.default_rng(4)
    shape = (6, 400)
    u = (rng.standard_normal(shape) * 3).astype(dtype)
    a = (rng.standard_normal(shape) * 5).astype(dtype)
    # theta and du not representable in float32, and voltages within an ulp of theta
    theta, du = 5.000000001, 0.18126924692201818
    v = (theta - (a - u) * dtype(du) - u + rng.integers(-2, 3, shape) * np.spacing(dtype(theta))).astype(dtype)
    fast = dyn.if_step(u, v, a, du, theta, reset)
    numpy_only()
    slow = dyn.if_step(u, v, a, du, theta, reset)
    kernels.set_enabled(True)
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype and np.array_equal(f, s)
        assert np.array_equal(np.signbit(f), np.signbit(s))
    assert fast[2].any() and not fast[2].all()


def test_float_training_same_weights_with_and_without_kernels(numpy_only):
    """Weights on a 1/64 grid make every synaptic sum exact in any order (the event-driven
    drive adds in another order than a GEMM), so the runs must agree bit for bit."""
    rng = np.random.default_rng(5)
    x, y = rng.random((24, 64)), rng.integers(0, 10, 24)
    cfg = SSNNConfig(sizes=(64, 48, 10), steps=12, mode="rate", eta=0.3)
    w0 = [np.round(w * 64) / 64 for w in dyn.init_weights(cfg, 3)]
    fast = Engine(cfg, w0, seed=3)
    fast.train_batch(x, y, "mini-batch")
    numpy_only()
    slow = Engine(cfg, w0, seed=3)
    slow.train_batch(x, y, "mini-batch")
    for wf, ws, w in zip(fast.weights, slow.weights, w0):
        assert np.array_equal(wf, ws) and not np.array_equal(wf, w)


@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_fused_composite_step_equals_numpy_bit_for_bit(fixed, dtype, reset, numpy_only):
    """``hidden_step`` / ``output_step`` in one kernel pass give the numpy path's state and spikes."""
    rng = np.random.default_rng(6)
    cfg = SSNNConfig(sizes=(20, 300, 10), steps=10, fixed_point=fixed, reset=reset)
    shape = (3, 300)
    if fixed:
        lim = fxp.UV_MAX
        draw = lambda s: rng.integers(-lim // 50, lim // 50, s).astype(np.int32)   # noqa: E731
        drive = lambda s: rng.integers(-2 ** 12, 2 ** 12, s).astype(np.int32)      # noqa: E731
    else:
        draw = lambda s: (rng.standard_normal(s) * 3).astype(dtype)                 # noqa: E731
        drive = lambda s: (rng.standard_normal(s) * 4).astype(dtype)                # noqa: E731

    def state(s):
        return dyn.CompositeState(*(draw(s) for _ in range(6)), rng.random(s) < 0.3)

    hid, out = state(shape), state((3, 10))
    a, b, keep = drive(shape), drive(shape), rng.random(shape) < 0.8
    a_out, target = drive((3, 10)), rng.random((3, 10)) < 0.4
    ph, po = dyn.neuron_params(cfg, 1), dyn.neuron_params(cfg, 2)
    calls = [lambda: dyn.hidden_step(hid, a, b, ph, keep), lambda: dyn.hidden_step(hid, a, b, ph),
             lambda: dyn.output_step(out, a_out, target, po)]
    fast = [c() for c in calls]
    assert dyn._composite_fused(hid, a, b, ph, keep, output=False) is not None   # the kernel path ran
    numpy_only()
    slow = [c() for c in calls]
    for f, s in zip(fast, slow):
        (fst, *fsp), (sst, *ssp) = f, s
        for fa, sa in zip(list(fst) + fsp, list(sst) + ssp):
            assert fa.dtype == sa.dtype and np.array_equal(fa, sa)
            if fa.dtype.kind == "f":
                assert np.array_equal(np.signbit(fa), np.signbit(sa))
        assert all(z.any() and not z.all() for z in fsp)          # spikes and silence both present


@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
@pytest.mark.parametrize("mode,wta,dropout,reset", [("coincidence", True, (0.2, 0.3), "subtract"),
                                                     ("rate", False, (), "zero"),
                                                     ("coincidence", True, (0.0, 0.5), "zero"),
                                                     ("causal", True, (0.2, 0.3), "subtract"),
                                                     ("replay", True, (0.2, 0.3), "subtract")])
def test_one_hidden_layer_loop_equals_the_step_by_step_schedule(fixed, dtype, mode, wta, dropout, reset,
                                                                numpy_only):
    """The whole training simulation of a 1-hidden-layer net in one kernel call gives
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
    for enabled in (True, False):
        kernels.set_enabled(enabled)
        eng = Engine(cfg, w, seed=3, dtype=dtype)
        batch = encode_batch(cfg, x, y, np.arange(5), 3, train=True)
        results.append(eng.simulate(batch, train=True))
    fast, slow = results
    for name in ("x_counts", "dp_counts", "dn_counts") + (("numerators",) if mode in dyn.PAIR_NUMERATORS else ()):
        for f, s in zip(getattr(fast, name), getattr(slow, name)):
            if isinstance(f, dyn.PairBlock):
                f, s = f.dense(), s.dense()
            assert np.array_equal(f, s), name
    assert all(c.any() for c in fast.dp_counts + fast.dn_counts)       # gradients flowed in both layers
    kernels.set_enabled(True)
    # and training, per sample: the same weights
    engines = []
    for enabled in (True, False):
        kernels.set_enabled(enabled)
        eng = Engine(cfg, w, seed=3, dtype=dtype)
        eng.train_batch(x, y, "per-sample")
        engines.append(eng)
    for wf, ws, w0 in zip(engines[0].weights, engines[1].weights, w):
        assert np.array_equal(wf, ws) and not np.array_equal(wf, w0)
    # a single time step (no delayed input drive at all): the same counts
    one = cfg.replace(steps=1)
    results = []
    for enabled in (True, False):
        kernels.set_enabled(enabled)
        results.append(Engine(one, w, seed=3, dtype=dtype).simulate(
            encode_batch(one, x, y, np.arange(5), 3, train=True), train=True))
    for f, s in zip(results[0].x_counts + results[0].dp_counts, results[1].x_counts + results[1].dp_counts):
        assert np.array_equal(f, s)


@pytest.mark.parametrize("mode", ["coincidence", "replay", "causal", "rate"])
@pytest.mark.parametrize("batch_updates,batch", [("per-sample", 6), ("mini-batch", 3), ("mini-batch", 18)])
def test_fixed_point_training_same_weights_per_schedule_with_and_without_kernels(mode, batch_updates, batch,
                                                                                 numpy_only):
    """Every schedule of the engine (per sample: the compiled whole-sample pass; small
    mini-batches: the same; B >= 16: the step-by-step loop) learns the same weights, to
    the bit, with the kernels as with numpy alone, and the samples' counts agree."""
    rng = np.random.default_rng(8)
    x, y = rng.random((batch, 64)) * (rng.random((batch, 64)) < 0.6), rng.integers(0, 10, batch)
    cfg = SSNNConfig(sizes=(64, 200, 10), steps=14, mode=mode, fixed_point=True, eta=0.3)
    runs = []
    for enabled in (True, False):
        kernels.set_enabled(enabled)
        eng = Engine(cfg, seed=11)
        eng.samples_seen = 5                      # streams named by a running sample counter
        res = eng.train_batch(x, y, batch_updates)
        runs.append((eng.weights, res))
    kernels.set_enabled(True)
    (wk, rk), (wn, rn) = runs
    for a, b, w0 in zip(wk, wn, Engine(cfg, seed=11).weights):
        assert a.dtype == b.dtype == np.int32 and np.array_equal(a, b) and not np.array_equal(a, w0)
    for a, b in zip(rk.x_counts + rk.dp_counts + rk.dn_counts, rn.x_counts + rn.dp_counts + rn.dn_counts):
        assert np.array_equal(a, b)


def test_replay_pair_block_equals_the_replay_trains_pair_counts():
    """The compiled replay window (spikes where random < register, pairs counted on
    the support) gives ``dynamics.replay_window``'s trains' counts and ``pair_block``."""
    from lava_ssnnbp import sample_kernels
    rng = np.random.default_rng(9)
    steps, window = 20, 30
    pre = {"x": rng.integers(0, 21, 50) * (rng.random(50) < 0.5)}
    post = {"x": rng.integers(0, 21, 40), "dp": rng.integers(0, 21, 40) * (rng.random(40) < 0.3),
            "dn": rng.integers(0, 21, 40) * (rng.random(40) < 0.3)}
    ref_pre = dyn.replay_window(pre, steps, window, 4, 17, 0)
    ref_post = dyn.replay_window(post, steps, window, 4, 17, 1)
    ref = dyn.pair_block("replay", ref_pre["x"], ref_post["dp"], ref_post["dn"])
    xc, pc, nc, block = sample_kernels.replay_pair_block(*dyn.replay_draws(pre, steps, window, 4, 17, 0),
                                                         *dyn.replay_draws(post, steps, window, 4, 17, 1))
    assert np.array_equal(xc, ref_pre["x"].sum(0)) and np.array_equal(pc, ref_post["dp"].sum(0))
    assert np.array_equal(nc, ref_post["dn"].sum(0))
    for a, b in zip(block[:3], ref[:3]):
        assert np.array_equal(a, b)
    assert block.shape == ref.shape and block.counts.any() and ref.counts.size > 10


@pytest.mark.parametrize("fixed,dtype", [(True, np.int32), (False, np.float32), (False, np.float64)])
def test_add_block_equals_apply_update_on_the_block(fixed, dtype):
    """The compiled in-place block update rounds as ``dynamics.apply_update`` does,
    saturation at the weight width included."""
    from lava_ssnnbp import sample_kernels
    rng = np.random.default_rng(10)
    cfg = SSNNConfig(sizes=(30, 20, 10), mode="coincidence", fixed_point=fixed, eta=0.7, weight_bits=6)
    w = rng.integers(-31, 32, (20, 30)).astype(dtype) if fixed else rng.standard_normal((20, 30)).astype(dtype)
    w[0, :] = 31 if fixed else w[0, :]                # saturating row
    post, pre = np.array([0, 3, 4, 19]), np.array([1, 2, 7, 8, 29])
    num = rng.integers(-3000, 3000, (4, 5))
    ref, before = w.copy(), w.copy()
    ref[np.ix_(post, pre)] = dyn.apply_update(ref[np.ix_(post, pre)], num, cfg, 0, dyn.rounding_rng(1, 2, 0))
    delta = dyn.fixed_point_step(num, cfg, 0, dyn.rounding_rng(1, 2, 0)) if fixed else num
    sample_kernels.add_block(w, post, pre, delta, fixed, cfg.weight_bits, cfg.eta,
                             dyn.update_denominator(cfg.mode, cfg.learning_steps))
    assert w.dtype == ref.dtype and np.array_equal(w, ref) and not np.array_equal(w, before)
    if fixed:
        assert np.abs(w).max() == 31 and (w[0, pre] == 31).any()      # saturated, not wrapped


def test_compiled_seed_state_gives_numpys_seed_sequence_streams():
    """``dynamics.sample_rng`` seeds PCG64 from the compiled SeedSequence hash: the
    same numbers as numpy's SeedSequence, for one-word and multi-word integers."""
    rng = np.random.default_rng(12)
    triples = [(0, 0, 0), (0, 12345, 100), (2 ** 40 + 5, 3, 7), (1, 2 ** 32, 400), (2 ** 64 + 1, 0, 2 ** 33)]
    triples += [tuple(int(v) for v in rng.integers(0, 2 ** 62, 3)) for _ in range(100)]
    for t in triples:
        ref = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(t))))
        got = dyn.sample_rng(*t)
        assert np.array_equal(got.random(4), ref.random(4)), t
        assert np.array_equal(got.integers(0, 1 << 16, 5), ref.integers(0, 1 << 16, 5)), t


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
            assert kernels.set_threads(n) == n
            eng = Engine(cfg, seed=4)
            eng.train_batch(x, y, "mini-batch")
            eng.train_batch(x[::-1], y[::-1], "mini-batch")
            weights.append(eng.weights)
    finally:
        kernels.set_threads(None)
    for a, b, w0 in zip(*weights, Engine(cfg, seed=4).weights):
        assert np.array_equal(a, b) and not np.array_equal(a, w0)
