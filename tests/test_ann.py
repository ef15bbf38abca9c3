"""The numpy ANN baseline: exact gradients, learning, reproducibility, state round trip."""
import numpy as np
import pytest

from lava_ssnnbp.ann import ANN


def blobs(n, d=16, c=3, seed=0, spread=0.15):
    centers = np.random.default_rng(123).random((c, d))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    x = np.clip(centers[y] + spread * rng.standard_normal((n, d)), 0, 1).astype(np.float32)
    return x, y


@pytest.mark.parametrize("use_bias", [False, True])
def test_gradient_matches_finite_differences(use_bias):
    net = ANN((5, 4, 6, 3), seed=1, dropout=(), use_bias=use_bias, dtype=np.float64)
    if use_bias:
        rng = np.random.default_rng(5)
        net.biases = [rng.standard_normal(b.shape) * 0.3 for b in net.biases]
    x, y = blobs(7, d=5, c=3, seed=2)
    x = x.astype(np.float64)
    loss, gw, gb = net.loss_and_grads(x, y)
    assert np.isfinite(loss) and loss > 0
    eps = 1e-6
    params = [(net.weights, gw)] + ([(net.biases, gb)] if use_bias else [])
    for plist, glist in params:
        for k, p in enumerate(plist):
            num = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                lp = net.loss_and_grads(x, y)[0]
                p[idx] = old - eps
                lm = net.loss_and_grads(x, y)[0]
                p[idx] = old
                num[idx] = (lp - lm) / (2 * eps)
            # central differences are O(eps^2) accurate away from ReLU kinks
            np.testing.assert_allclose(glist[k], num, rtol=1e-5, atol=1e-7)


def test_softmax_cross_entropy_hand_value():
    net = ANN((2, 2), seed=0, dropout=(), dtype=np.float64)
    net.weights[0] = np.array([[1.0, 0.0], [0.0, 1.0]])
    loss, gw, _ = net.loss_and_grads(np.array([[np.log(3.0), 0.0]]), np.array([1]))
    # logits (ln 3, 0): softmax (3/4, 1/4), loss -ln(1/4)
    assert loss == pytest.approx(np.log(4.0))
    # dL/dlogits = (3/4, -3/4); dL/dW = g outer x
    np.testing.assert_allclose(gw[0], np.array([[0.75 * np.log(3), 0.0], [-0.75 * np.log(3), 0.0]]))


def test_weights_follow_dense_convention_and_he_init():
    net = ANN((400, 300, 10), seed=0)
    assert [w.shape for w in net.weights] == [(300, 400), (10, 300)]
    assert all(w.dtype == np.float32 for w in net.weights)
    assert np.std(net.weights[0]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)


def test_learns_toy_problem():
    x, y = blobs(600, seed=0)
    xt, yt = blobs(300, seed=1)
    net = ANN((16, 32, 3), seed=0, lr=0.05, batch_size=32)
    before = net.accuracy(xt, yt)
    losses = [net.train_epoch(x, y) for _ in range(5)]
    after = net.accuracy(xt, yt)
    assert losses[-1] < losses[0]
    assert after > 0.95 and after > before + 0.2


def test_dropout_statistics():
    net = ANN((1000, 1), seed=0, dropout=(0.3,), dtype=np.float64)
    net.weights[0][:] = 1.0
    out, (acts, masks) = net.forward(np.ones((50, 1000)), train=True)
    kept = masks[0] > 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(masks[0][kept], 1 / 0.7)       # inverted dropout
    # expectation preserved; no dropout at test
    assert out.mean() == pytest.approx(1000, rel=0.02)
    np.testing.assert_allclose(net.forward(np.ones((2, 1000)))[0], 1000.0)


def test_reproducible_and_state_round_trip(tmp_path):
    x, y = blobs(200, seed=0)
    a, b, c = (ANN((16, 8, 3), seed=s, batch_size=16) for s in (3, 3, 4))
    for m in (a, b, c):
        m.train_epoch(x, y)
    for wa, wb, wc in zip(a.weights, b.weights, c.weights):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)
    # save / load mid-training, then continue: identical to uninterrupted training
    np.savez(tmp_path / "ann.npz", **a.state_dict())
    with np.load(tmp_path / "ann.npz") as f:
        d = dict(f)
    r = ANN.from_state_dict(d)
    a.train_epoch(x, y)
    r.train_epoch(x, y)
    for wa, wr in zip(a.weights, r.weights):
        np.testing.assert_array_equal(wa, wr)
    with pytest.raises(ValueError):
        ANN((16, 9, 3)).load_state_dict(d)
