"""The Lava network (learning inside the ProcessModels) against the batched Engine,
sample by sample: identical spikes at every step and identical weights."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch
from lava_ssnnbp.network import SSNNBPNetwork

pytestmark = pytest.mark.lava

SEED = 11
N_TRAIN = 4


def data(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, cfg.sizes[0])), rng.integers(0, cfg.sizes[-1], n)


def engine_reference(cfg, w0, x, y, seed=SEED):
    """Engine trained one sample at a time, keeping every spike train.

    Also checks that this recording loop is exactly ``train_batch(x[i:i+1], ...)``.
    """
    eng = Engine(cfg, w0, seed, dtype=np.float64)
    plain = Engine(cfg, w0, seed, dtype=np.float64)
    records = []
    for i in range(len(y)):
        sid = eng.samples_seen
        batch = encode_batch(cfg, x[i:i + 1], y[i:i + 1], [sid], seed, train=True)
        res = eng.simulate(batch, train=True, record=True)
        eng.apply(res, sid)
        eng.samples_seen += 1
        records.append(res.spikes)
        plain.train_batch(x[i:i + 1], y[i:i + 1])
    for a, b in zip(eng.weights, plain.weights):
        np.testing.assert_array_equal(a, b)
    spikes = {k: np.stack([r[k][:, 0] for r in records]) for k in records[0]}
    return eng, spikes


def assert_same_spikes(lava, ref):
    assert set(lava) == set(ref)
    for k in ref:
        for i in range(len(ref[k])):
            bad = np.argwhere(lava[k][i] != ref[k][i])
            assert bad.size == 0, f"{k}: sample {i} differs first at (step, neuron) {tuple(bad[0])}"


def check(cfg, x, y, chunk=3, rtol=None):
    w0 = dyn.init_weights(cfg, SEED)
    with SSNNBPNetwork(cfg, w0, seed=SEED, chunk=chunk) as net:
        res = net.run(x, y, learn=True, record=True)
        w_lava = net.weights
        xt, _ = data(cfg, 3, seed=99)
        counts_lava = net.run(xt, learn=False, record=True, sample_ids=[5, 6, 7])
    eng, ref = engine_reference(cfg, w0, x, y)
    assert_same_spikes(res.spikes, ref)
    np.testing.assert_array_equal(res.counts, ref[f"x{cfg.n_layers}"].sum(axis=1))
    changed = False
    for k, (a, b) in enumerate(zip(w_lava, eng.weights)):
        if rtol is None:
            np.testing.assert_array_equal(a, b, err_msg=f"weights of synapse layer {k}")
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())
        changed |= not np.array_equal(a, w0[k])
    assert changed, "learning must change the weights for the comparison to mean something"
    # test time with the learned weights: Engine.predict_counts(x, sample_ids)
    np.testing.assert_array_equal(counts_lava.counts, eng.predict_counts(xt, [5, 6, 7]))
    batch = encode_batch(cfg, xt, None, [5, 6, 7], SEED, train=False)   # the test streams of SEED
    sim = eng.simulate(batch, train=False, record=True)
    assert_same_spikes(counts_lava.spikes, {k: np.swapaxes(v, 0, 1) for k, v in sim.spikes.items()})
    return res


BASE = dict(sizes=(20, 16, 4), steps=30, wta=True, dropout=(0.2, 0.3), eta=0.5)


@pytest.mark.parametrize("mode", ["rate", "coincidence", "stochastic", "causal", "replay"])
def test_fixed_point_network_equals_engine(mode):
    cfg = SSNNConfig(**BASE, mode=mode, fixed_point=True)
    x, y = data(cfg, N_TRAIN)
    res = check(cfg, x, y)
    assert res.spikes["dp1"].any() and res.spikes["dn2"].any(), "gradients must flow"


@pytest.mark.parametrize("mode", ["rate", "coincidence", "stochastic", "noise", "causal", "replay"])
def test_float_network_equals_engine(mode):
    cfg = SSNNConfig(**BASE, mode=mode, fixed_point=False)
    x, y = data(cfg, N_TRAIN)
    check(cfg, x, y, rtol=1e-6)


def test_deep_network_equals_engine():
    cfg = SSNNConfig(sizes=(20, 16, 12, 4), steps=30, dropout=(0.2, 0.3, 0.3), eta=0.5,
                     mode="coincidence", fixed_point=True)
    x, y = data(cfg, N_TRAIN, seed=3)
    res = check(cfg, x, y, chunk=2)
    assert res.spikes["dp1"].any() or res.spikes["dn1"].any(), "gradients must reach layer 1"


def test_deep_replay_network_with_its_own_window_equals_engine():
    """'replay' with a window T_s != T through two hidden layers: every layer's
    replay trains come from its own neurons, and the weights stay bit-exact."""
    cfg = SSNNConfig(sizes=(20, 16, 12, 4), steps=30, dropout=(0.2, 0.3, 0.3), eta=0.5,
                     mode="replay", replay_steps=17, fixed_point=True)
    x, y = data(cfg, N_TRAIN, seed=3)
    check(cfg, x, y, chunk=2)


@pytest.mark.parametrize("fixed", [True, False])
def test_stochastic_firing_network_equals_engine(fixed):
    """Stochastic firing (the paper's literal reading) during the pass, coincidence
    learning: every layer draws the same numbers step by step as the engine per sample."""
    cfg = SSNNConfig(**BASE, mode="coincidence", stochastic_firing=True, fixed_point=fixed)
    x, y = data(cfg, N_TRAIN, seed=6)
    check(cfg, x, y, rtol=None if fixed else 1e-6)


def test_deep_float_network_without_wta_equals_engine():
    cfg = SSNNConfig(sizes=(20, 16, 12, 4), steps=30, dropout=(0.2, 0.3, 0.3), eta=0.5,
                     mode="rate", wta=False, reset="zero", fixed_point=False)
    x, y = data(cfg, 3, seed=4)
    check(cfg, x, y, chunk=4, rtol=1e-6)


def test_event_frames_equal_engine():
    cfg = SSNNConfig(**BASE, mode="coincidence", fixed_point=True)
    rng = np.random.default_rng(5)
    frames = rng.random((3, cfg.steps, cfg.sizes[0])) < 0.15
    y = rng.integers(0, 4, 3)
    w0 = dyn.init_weights(cfg, SEED)
    with SSNNBPNetwork(cfg, w0, seed=SEED, event_frames=True) as net:
        res = net.run(frames, y, learn=True, record=True)
        w_lava = net.weights
        test_counts = net.predict_counts(frames, [0, 1, 2])
    eng, ref = engine_reference(cfg, w0, frames, y)
    assert_same_spikes(res.spikes, ref)
    for a, b in zip(w_lava, eng.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(test_counts, eng.predict_counts(frames, [0, 1, 2]))


def test_training_in_several_calls_continues_the_sample_counter():
    """train(x[:2]) then train(x[2:]) == one train(x) == Engine per-sample training."""
    cfg = SSNNConfig(**BASE, mode="stochastic", fixed_point=True)
    x, y = data(cfg, 5, seed=8)
    w0 = dyn.init_weights(cfg, SEED)
    with SSNNBPNetwork(cfg, w0, seed=SEED, chunk=2) as net:
        net.train(x[:2], y[:2])
        mid = net.predict_counts(x[:2])          # inference in between must not disturb learning
        mid_labels = net.predict_labels(x[:3])
        net.train(x[2:], y[2:])
        assert net.samples_seen == 5
        w_lava = net.weights
    eng = Engine(cfg, w0, SEED)
    eng.train_batch(x[:2], y[:2], "per-sample")
    # both default to sample ids 0..n-1: the same test streams
    np.testing.assert_array_equal(mid, eng.predict_counts(x[:2]))
    np.testing.assert_array_equal(mid_labels, eng.predict_labels(x[:3]))
    eng.train_batch(x[2:], y[2:], "per-sample")
    for a, b in zip(w_lava, eng.weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["coincidence", "rate"])
def test_mnist_network_trained_in_lava_equals_engine(mode):
    """784-32-10 trained inside Lava on 200 MNIST images (the embedded set) ends
    with the engine's weights bit for bit, and tests identically."""
    from lava_ssnnbp.data import load_dataset
    train = load_dataset("default", "train").subset(200, seed=0)
    test = load_dataset("default", "test").subset(50, seed=0)
    cfg = SSNNConfig(sizes=(784, 32, 10), steps=16, fixed_point=True, mode=mode, eta=0.5)
    w0 = dyn.init_weights(cfg, SEED)
    with SSNNBPNetwork(cfg, w0, seed=SEED, chunk=50) as net:
        net.train(train.x, train.y)
        w_lava = net.weights
        counts_lava = net.predict_counts(test.x)
    eng = Engine(cfg, w0, SEED)
    eng.train_batch(train.x, train.y, "per-sample")
    for k, (a, b) in enumerate(zip(w_lava, eng.weights)):
        np.testing.assert_array_equal(a, b, err_msg=f"weights of synapse layer {k}")
        assert np.mean(a != w0[k]) > 0.01, "most of the learning must have happened"
    np.testing.assert_array_equal(counts_lava, eng.predict_counts(test.x, np.arange(50)))
