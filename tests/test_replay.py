"""The 'replay' rule (chip-local stochastic coincidence learning): each neuron
replays its counts of the sample as Bernoulli trains from its own random
streams, and the synapses count coincidences of those trains (Eq. 10)."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import ConfigError, SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch


def test_probability_register_and_firing_by_hand():
    # T = 50: floor(2^16 / 50) = 1310 per spike of the sample
    np.testing.assert_array_equal(dyn.replay_probability(np.array([0, 1, 25, 50]), 50), [0, 1310, 32750, 65500])
    prob = np.array([0, 1310, 65500], dtype=np.uint32)
    rand = np.array([[0, 1309, 65499], [1, 1310, 65500]], dtype=np.uint32)
    np.testing.assert_array_equal(dyn.replay_spikes(prob, rand), [[False, True, True], [False, False, False]])
    # T = 1: a spike of the sample fires at every step but one in 2^16
    assert dyn.replay_probability(np.array([1]), 1)[0] == 65536


def test_replay_rates_are_the_sample_rates():
    counts = np.array([0, 1, 7, 25, 49, 50])
    train = dyn.replay_window({"x": counts}, 50, 20000, seed=3, sample_index=5, layer=1)["x"]
    assert train.shape == (20000, 6) and not train[:, 0].any()
    np.testing.assert_allclose(train.mean(axis=0), counts / 50, atol=0.012)


def test_draw_order_by_hand():
    """One stream per layer and sample; per step one number per train of each
    neuron with a non-zero count: x's neurons, then d+'s, then d-'s."""
    counts = {"x": np.array([3, 0, 5]), "dp": np.array([0, 2, 0]), "dn": np.array([1, 0, 0])}
    plan = dyn.replay_plan(counts, 10)
    assert plan.draws == 4 and [list(u) for u in plan.units] == [[0, 2], [1], [0]]
    np.testing.assert_array_equal(plan.probability[0], [3 * 6553, 5 * 6553])
    rand = dyn.replay_randoms(dyn.replay_rng(0, 7, 2), (6, 4))
    out = dyn.replay_window(counts, 10, 6, 0, 7, 2)
    np.testing.assert_array_equal(out["x"][:, 0], rand[:, 0] < 3 * 6553)
    np.testing.assert_array_equal(out["x"][:, 2], rand[:, 1] < 5 * 6553)
    np.testing.assert_array_equal(out["dp"][:, 1], rand[:, 2] < 2 * 6553)
    np.testing.assert_array_equal(out["dn"][:, 0], rand[:, 3] < 1 * 6553)
    assert not out["x"][:, 1].any() and not out["dp"][:, [0, 2]].any() and not out["dn"][:, 1:].any()


def test_each_layer_and_sample_has_its_own_stream_and_step_by_step_equals_the_window():
    counts = {"x": np.full(40, 20), "dp": np.full(40, 10)}
    a = dyn.replay_window(counts, 40, 30, 0, 9, 1)
    assert not np.array_equal(a["x"], a["dp"])
    assert not np.array_equal(a["x"], dyn.replay_window(counts, 40, 30, 0, 9, 2)["x"])
    assert not np.array_equal(a["x"], dyn.replay_window(counts, 40, 30, 0, 10, 1)["x"])
    # a Lava neuron draws one step at a time: the same numbers as the engine's window at once
    plan, rng = dyn.replay_plan(counts, 40), dyn.replay_rng(0, 9, 1)
    steps = [dyn.replay_fire(plan, dyn.replay_randoms(rng, (plan.draws,))) for _ in range(30)]
    for t in ("x", "dp"):
        np.testing.assert_array_equal(np.stack([s[t] for s in steps]), a[t])


def test_config_window():
    cfg = SSNNConfig(steps=50, mode="replay")
    assert cfg.replay_window == 50 and cfg.learning_steps == 50
    cfg = cfg.replace(replay_steps=20)
    assert cfg.replay_window == 20 and cfg.learning_steps == 20
    assert cfg.replace(mode="coincidence").replay_window == 0
    assert cfg.replace(mode="coincidence").learning_steps == 50
    for bad in (0, -3, 2.5):
        with pytest.raises(ConfigError, match="replay_steps"):
            SSNNConfig(mode="replay", replay_steps=bad)
    # the fixed-point step follows the window: 2 T_s in the denominator
    assert dyn.learning_shift(0.3, 20, "replay", 0) == dyn.learning_shift(0.3, 20, "coincidence", 0)


def small_cfg(**kw):
    base = dict(sizes=(20, 16, 4), steps=30, dropout=(0.2, 0.3), eta=0.5, fixed_point=True)
    base.update(kw)
    return SSNNConfig(**base)


def test_the_pass_is_the_coincidence_pass_and_the_update_counts_window_pairs():
    """The replay window follows the pass without changing it; the update is
    exactly 2^-k times the coincidences of the replay trains (before rounding)."""
    rng = np.random.default_rng(1)
    x, y = rng.random((1, 20)), rng.integers(0, 4, 1)
    cfg = small_cfg(mode="replay", replay_steps=40)
    w0 = dyn.init_weights(cfg, 2)
    eng = Engine(cfg, w0, seed=2)
    batch = encode_batch(cfg, x, y, [0], 2, train=True)
    res = eng.simulate(batch, train=True)
    ref = Engine(cfg.replace(mode="coincidence"), w0, seed=2).simulate(batch, train=True)
    for a, b in zip(res.x_counts + res.dp_counts, ref.x_counts + ref.dp_counts):
        np.testing.assert_array_equal(a, b)
    # the window's trains, rebuilt from the pass counts by hand
    rx = dyn.replay_window({"x": res.x_counts[1][0], "dp": res.dp_counts[0][0], "dn": res.dn_counts[0][0]},
                           30, 40, 2, 0, 1)["x"]
    out = dyn.replay_window({"dp": res.dp_counts[1][0], "dn": res.dn_counts[1][0]}, 30, 40, 2, 0, 2)
    rp, rn = out["dp"], out["dn"]
    pairs = (rp.astype(int) - rn).T @ rx.astype(int)
    np.testing.assert_array_equal(res.numerators[1].dense(), pairs)
    assert np.abs(pairs).sum() > 0
    np.testing.assert_array_equal(res.window_counts[0][1], rx.sum(axis=0)[None])


def test_replay_update_estimates_the_rate_update():
    """Independent trains make the coincidence count an unbiased estimate of the
    product of rates (paper, section 2.2): over many samples the summed replay
    update points where the rate rule's does, at its size."""
    from lava_ssnnbp.data import load_dataset
    d = load_dataset("default", "train").subset(64, seed=0)
    cfg = SSNNConfig(sizes=(784, 64, 10), steps=50, eta=1e-3, dropout=(), mode="rate")
    w0 = dyn.init_weights(cfg, 0)
    upd = {}
    for mode in ("rate", "replay", "coincidence"):
        eng = Engine(cfg.replace(mode=mode, replay_steps=200), w0, seed=0, dtype=np.float64)
        eng.train_batch(d.x, d.y, "mini-batch")
        upd[mode] = [a - b for a, b in zip(eng.weights, w0)]
    cos = lambda a, b: float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    for k in range(2):
        a, b = upd["rate"][k], upd["replay"][k]
        assert cos(a, b) > 0.9, k
        assert 0.8 < np.linalg.norm(b) / np.linalg.norm(a) < 1.25, k
    # the deterministic trains' coincidences are the biased estimate the replay removes
    assert cos(upd["rate"][0], upd["replay"][0]) > cos(upd["rate"][0], upd["coincidence"][0])


@pytest.mark.lava
def test_loihi_rule_over_pass_and_window_learns_the_replay_update():
    """The 'replay' update as a Loihi 2 rule: the same strings as 'coincidence'
    over the pass (y1 = y2 = 0) and the window (the replay trains), checked in
    Lava's own learning engine against the engine's pair counts."""
    from lava_ssnnbp.lava_config import loihi_learning_rule, run_rule_on_sample
    rng = np.random.default_rng(4)
    x, y = rng.random((1, 20)), rng.integers(0, 4, 1)
    cfg = small_cfg(mode="replay", replay_steps=60, eta=1.0)
    w0 = dyn.init_weights(cfg, 5)
    eng = Engine(cfg, w0, seed=5)
    batch = encode_batch(cfg, x, y, [0], 5, train=True)
    res = eng.simulate(batch, train=True, record=True)
    h = res.spikes
    k = 1
    rx = dyn.replay_window({"x": res.x_counts[k][0], "dp": res.dp_counts[k - 1][0], "dn": res.dn_counts[k - 1][0]},
                           cfg.steps, 60, 5, 0, k)["x"]
    out = dyn.replay_window({"dp": res.dp_counts[k][0], "dn": res.dn_counts[k][0]}, cfg.steps, 60, 5, 0, k + 1)
    rp, rn = out["dp"], out["dn"]
    silent = np.zeros_like(h[f"dp{k + 1}"][:, 0])
    xs = np.concatenate([h[f"x{k}"][:, 0], rx])                # the pass's spikes reach the synapse too
    dps, dns = np.concatenate([silent, rp]), np.concatenate([silent, rn])
    rule = loihi_learning_rule(cfg, k)
    w, tag = run_rule_on_sample(rule, xs, dps, dns, w0[k])
    shift = dyn.learning_shift(cfg.eta, 60, "replay", cfg.exp_of(k))
    num = res.numerators[k].dense()
    assert np.abs(num).max() > 2 ** shift
    np.testing.assert_array_equal(w, w0[k] + num / 2 ** shift)
    assert not tag.any()


@pytest.mark.lava
def test_demo_lava_check_trains_identically_in_lava_and_the_engine():
    """``make demo``'s second part, small: the on-chip configuration trained inside
    the Lava processes ends with the engine's weights and predictions."""
    from lava_ssnnbp.demo import lava_check
    r = lava_check(4, 3, steps=12)
    assert r["same_weights"] and r["same_predictions"] and r["changed"] > 0
