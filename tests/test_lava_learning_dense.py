"""The learning-engine network (LearningEngineNetwork): plastic synapses on Lava's
own LearningDense and bit-approximate learning engine, composite neurons as
LearningNeuronProcesses, the backward copy W^T a Lava Dense, the WTA a Lava Dense.

It equals Engine(learning_engine='lava') bit for bit (spikes, counts, weights),
its backward copy is exactly W^T after training, and it learns."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch
from lava_ssnnbp.learning_network import LearningEngineNetwork

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("mode, eta, n", [("coincidence", 0.3, 12), ("replay", 0.3, 12),
                                           ("coincidence", 1.2, 30)])   # weights beyond +-127
def test_learning_dense_network_equals_engine_with_lavas_rounding(mode, eta, n):
    kw = {"replay_steps": 10} if mode == "replay" else {}
    cfg = SSNNConfig(sizes=(30, 12, 4), steps=20, fixed_point=True, mode=mode, eta=eta, **kw)
    rng = np.random.default_rng(1)
    x, y = rng.random((n, 30)), rng.integers(0, 4, n)
    w0 = dyn.init_weights(cfg, 0)
    with LearningEngineNetwork(cfg, w0, seed=0, chunk=8) as net:
        res = net.run(x, y, learn=True, record=True)
        w1, back = net.weights, net.backward_weights
        test_counts = net.predict_counts(x[:4])
        assert net.time_step == (n + 4) * (cfg.steps + cfg.replay_window)
    if eta > 1:
        assert max(int(np.abs(w).max()) for w in w1) > 127     # Lava's 9-bit range is used
    eng = Engine(cfg, w0, seed=0, learning_engine="lava")
    ref = []
    for i in range(n):                 # train_batch's per-sample loop, keeping every spike
        batch = encode_batch(cfg, x[i:i + 1], y[i:i + 1], [i], 0, train=True)
        ref.append(eng.simulate(batch, train=True, record=True))
        eng.apply(ref[-1], i)
        eng.samples_seen += 1
    assert np.array_equal(res.counts, np.concatenate([r.out_counts for r in ref]))
    for name in ref[0].spikes:         # every spike of every layer and step
        assert np.array_equal(res.spikes[name], np.stack([r.spikes[name][:, 0] for r in ref])), name
    for k in range(cfg.n_layers):
        assert not np.array_equal(w1[k], w0[k]), f"layer {k} must learn"
        assert np.array_equal(w1[k], eng.weights[k]), f"layer {k}"
    assert np.array_equal(back[1], w1[1].T), "the backward copy must be exactly W^T"
    assert np.array_equal(test_counts, eng.predict_counts(x[:4], np.arange(4)))


def _two_blocks(n, seed, d=16):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = 0.05 * rng.random((n, d))
    for i, c in enumerate(y):
        x[i, (d // 2) * c:(d // 2) * (c + 1)] = 1.0
    return x, y


def test_learning_dense_network_learns():
    cfg = SSNNConfig(sizes=(16, 16, 2), steps=20, fixed_point=True, mode="coincidence", dropout=(0.0, 0.0))
    xtr, ytr = _two_blocks(40, 1)
    xte, yte = _two_blocks(40, 2)
    with LearningEngineNetwork(cfg, dyn.init_weights(cfg, 0), seed=0) as net:
        before = float(np.mean(net.predict(xte) == yte))
        net.train(xtr, ytr)
        after = float(np.mean(net.predict(xte) == yte))
        w, back = net.weights, net.backward_weights
    assert before < 0.6 and after >= 0.9, (before, after)
    assert np.array_equal(back[1], w[1].T)


def test_backward_copy_drifts_without_the_embedded_cores_sync():
    cfg = SSNNConfig(sizes=(16, 16, 2), steps=20, fixed_point=True, mode="coincidence", dropout=(0.0, 0.0))
    x, y = _two_blocks(8, 1)
    w0 = dyn.init_weights(cfg, 0)
    with LearningEngineNetwork(cfg, w0, seed=0, backward_sync=False) as net:
        net.train(x, y)
        w, back = net.weights, net.backward_weights
    assert np.array_equal(back[1], w0[1].T)          # it never learns by itself ...
    assert not np.array_equal(back[1], w[1].T)       # ... so it drifts from W^T


def test_learning_dense_network_is_built_from_lavas_blocks():
    from lava.proc.dense.process import Dense, LearningDense
    from lava.magma.core.process.neuron import LearningNeuronProcess
    cfg = SSNNConfig(sizes=(6, 5, 3), steps=10, fixed_point=True, mode="coincidence")
    net = LearningEngineNetwork(cfg, seed=0)          # built, never compiled: no runtime to stop
    try:
        assert all(type(s) is LearningDense for s in net.synapses)
        assert all(type(b) is Dense for b in net.backward.values()) and type(net.wta) is Dense
        assert all(isinstance(n, LearningNeuronProcess) for n in net.hidden + [net.output])
        from lava_ssnnbp.lava_config import loihi_learning_rule
        for k, syn in enumerate(net.synapses):
            rule, ref = syn.proc_params["learning_rule"], loihi_learning_rule(cfg, k)
            assert (rule.dw_str, rule.dt_str, rule.t_epoch) == (ref.dw_str, ref.dt_str, 1)
        assert net.backward[1].weights.shape == (5, 3)          # W^T, pre (output) to post (hidden)
    finally:
        net.close()


@pytest.mark.parametrize("bad, match", [({"fixed_point": False}, "fixed_point=True"),
                                        ({"mode": "rate"}, "'coincidence' and 'replay'")])
def test_learning_dense_network_rejects_what_the_engine_cannot_run(bad, match):
    cfg = SSNNConfig(**{"sizes": (6, 5, 3), "steps": 10, "fixed_point": True, "mode": "coincidence", **bad})
    with pytest.raises(ValueError, match=match):
        LearningEngineNetwork(cfg, seed=0)


def test_deep_learning_dense_network_equals_engine():
    """Two hidden layers: two backward copies (W1^T, W2^T), each re-synchronised."""
    cfg = SSNNConfig(sizes=(20, 10, 8, 4), steps=20, fixed_point=True, mode="coincidence", eta=0.6,
                     dropout=(0.1, 0.2, 0.2))
    rng = np.random.default_rng(2)
    x, y = rng.random((10, 20)), rng.integers(0, 4, 10)
    w0 = dyn.init_weights(cfg, 0)
    with LearningEngineNetwork(cfg, w0, seed=0) as net:
        counts = net.train(x, y)
        w1, back = net.weights, net.backward_weights
    eng = Engine(cfg, w0, seed=0, learning_engine="lava")
    assert np.array_equal(counts, eng.train_batch(x, y).out_counts)
    assert all(np.array_equal(a, b) for a, b in zip(w1, eng.weights))
    assert sorted(back) == [1, 2] and all(np.array_equal(back[k], w1[k].T) for k in (1, 2))
    assert all(not np.array_equal(a, b) for a, b in zip(w1, w0))
