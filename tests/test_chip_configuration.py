"""The chip configuration (target = "loihi2"): what a Loihi 2 port runs.

The engine equals LearningEngineNetwork bit for bit in it (weights, W^T, test
counts, across a learning-rate level change), W^T stays the exact transpose of W
by the mirrored rule (no copy), the per-neuron generators do not depend on other
neurons' activity, and the configuration refuses what a port cannot run."""
import json

import numpy as np
import pytest

from lava_ssnnbp import cli
from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import learning_engine as le
from lava_ssnnbp.config import ConfigError, SSNNConfig
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.training import RunError, RunSettings, check_chip_settings


def _chip(**kw):
    return SSNNConfig.loihi2_config(**{"sizes": (30, 12, 4), "steps": 20, "replay_steps": 10, "eta": 0.6, **kw})


def _data(n, d=30, c=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, c, n)


def test_the_configuration_fixes_what_the_learning_engine_runs():
    cfg = SSNNConfig.loihi2_config(sizes=(784, 64, 10), steps=50)
    assert (cfg.fixed_point, cfg.mode, cfg.weight_bits, cfg.weight_exp) == (True, "replay", 9, (-1, -1))
    assert cfg.steps_per_sample == 50 + 50 + 1                      # pass, replay window, update step
    assert cfg.weight_range == (-256, 255)                          # the learning engine's clip
    w = dyn.init_weights(cfg, 0)
    w[0][0, 0] = -256
    dyn.check_weights(cfg, w)                                       # -256 is a weight there
    with pytest.raises(ValueError, match=r"\[-255, 255\]"):
        dyn.check_weights(cfg.replace(target=None), w)
    for bad, what in [({"mode": "coincidence"}, "replay"), ({"weight_bits": 8}, "9-bit"),
                      ({"fixed_point": False}, "fixed point"), ({"replay_steps": 64}, "63 steps"),
                      ({"stochastic_firing": True}, "deterministic")]:
        with pytest.raises(ConfigError, match=what):
            SSNNConfig.loihi2_config(sizes=(784, 64, 10), steps=50, **bad)
    with pytest.raises(ConfigError, match="choose from loihi2"):
        SSNNConfig(target="loihi1")


def test_a_run_of_the_chip_configuration_is_per_sample_with_expressible_eta_levels():
    cfg = _chip(replay_steps=40)                      # three levels: m = 4, 2, 1
    ok = RunSettings(epochs=9, eta_schedule="step", eta_step=3, eta_decay=0.5)   # eta, eta/2, eta/4
    check_chip_settings(cfg, ok)
    assert [le.eta_level(cfg, cfg.eta * 0.5 ** j) for j in range(3)] == [0, 1, 2]
    assert [le.level_magnitude(cfg, j) for j in range(3)] == [4, 2, 1]
    with pytest.raises(RunError, match="epoch 10: .*leaves 3 levels"):                 # eta/8
        check_chip_settings(cfg, RunSettings(epochs=12, eta_schedule="step", eta_step=3))
    short = _chip(replay_steps=31)                    # a window of at most 31 steps: a fourth level, eta/8
    check_chip_settings(short, RunSettings(epochs=12, eta_schedule="step", eta_step=3))
    assert [le.level_magnitude(short, j) for j in range(4)] == [8, 4, 2, 1]
    for bad, name in [(RunSettings(epochs=15, eta_schedule="step", eta_step=3), "eta_schedule"),   # eta/16
                      (RunSettings(epochs=20, eta_schedule="cosine"), "eta_schedule"),
                      (RunSettings(batch_updates="mini-batch"), "batch_updates"),
                      (RunSettings(eta_warmup=100), "eta_warmup"),
                      (RunSettings(model="ann"), "model")]:
        with pytest.raises(RunError, match=f"invalid {name}"):
            check_chip_settings(short, bad)
    with pytest.raises(ValueError, match="not one of the chip configuration's levels"):
        le.eta_level(cfg, cfg.eta * 3)
    with pytest.raises(ValueError, match="levels 0..2"):
        le.level_magnitude(cfg, 3)


def test_the_levels_fit_the_learning_engines_tag_and_traces():
    """m x the window's coincidence count fits Lava's 8-bit tag, and the mirrored rule's
    y1 = 8 m x its 7-bit y trace, at every window the configuration accepts."""
    from lava.magma.core.learning import constants as C

    from lava_ssnnbp.config import LOIHI2_MAX_REPLAY_STEPS, LOIHI2_TAG_MAX, loihi2_eta_levels
    assert LOIHI2_TAG_MAX == 2 ** C.W_TAG_1_U - 1
    assert [loihi2_eta_levels(w) for w in (1, 31, 32, 63)] == [4, 4, 3, 3]
    for window in range(1, LOIHI2_MAX_REPLAY_STEPS + 1):
        cfg = _chip(replay_steps=window)
        top = le.level_magnitude(cfg, 0)
        assert top * window <= LOIHI2_TAG_MAX
        assert le.MIRROR_Y1_GAIN * top <= 2 ** C.W_TRACE - 1


def test_a_neurons_replay_and_dropout_numbers_depend_on_nothing_but_its_own_generator():
    counts = {"x": np.array([3, 0, 5, 2]), "dp": np.array([0, 1, 0, 4]), "dn": np.array([1, 0, 0, 0])}
    busier = {"x": np.array([3, 9, 5, 2]), "dp": np.array([7, 1, 2, 4]), "dn": np.array([1, 3, 0, 6])}

    def columns(c):
        plan, r = dyn.replay_draws_loihi2(c, 20, 10, 5, 17, 1)
        out, at = {}, 0
        for name, units in zip(plan.trains, plan.units):
            for i, u in enumerate(units):
                out[name, int(u)] = r[:, at + i]
            at += len(units)
        return out

    a, b = columns(counts), columns(busier)
    assert a.keys() <= b.keys()
    for key, col in a.items():      # neuron 2's x train, say, is the same whatever its neighbours do
        assert np.array_equal(col, b[key]), key
    # another sample, another train or another neuron: other numbers
    assert not np.array_equal(columns(counts)[("x", 0)], a[("dn", 0)])
    keys = dyn.neuron_keys(5, 1, "drop", 4000)
    keep = dyn.neuron_keep_mask(keys, 17, 0.3)
    assert abs(keep.mean() - 0.7) < 0.03
    assert np.array_equal(keep[:100], dyn.neuron_keep_mask(keys[:100], 17, 0.3))   # per neuron


def test_engine_trains_the_chip_configuration_and_learns():
    cfg = _chip(sizes=(16, 16, 2), dropout=(0.0, 0.0))
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 240)
    x = 0.05 * rng.random((240, 16))
    for i, c in enumerate(y):
        x[i, 8 * c:8 * (c + 1)] = 1.0
    eng = Engine(cfg, seed=0)
    before = np.mean(np.argmax(eng.predict_counts(x[200:], np.arange(40)), axis=1) == y[200:])
    eng.train_batch(x[:200], y[:200])
    after = np.mean(np.argmax(eng.predict_counts(x[200:], np.arange(40)), axis=1) == y[200:])
    assert after >= 0.9 > before + 0.2, (before, after)
    assert all(w.min() >= -256 and w.max() <= 255 for w in eng.weights)


@pytest.mark.lava
@pytest.mark.parametrize("sizes, dropout, window, last_level", [((30, 12, 4), (0.2, 0.3), 10, 3),
                                                                ((30, 10, 8, 4), (0.2, 0.3, 0.3), 10, 3),
                                                                ((30, 12, 4), (0.2, 0.3), 33, 2)])
def test_engine_equals_the_learning_engine_network_in_the_chip_configuration(sizes, dropout, window, last_level):
    """The issue's equality test: the same weights (W and its mirrored W^T) and
    test counts, over changes of learning-rate level down to the last one the
    window allows (eta / 8 with four levels, eta / 4 with three), bit for bit."""
    from lava_ssnnbp.learning_network import LearningEngineNetwork
    cfg = _chip(sizes=sizes, dropout=dropout, replay_steps=window)
    assert le.eta_levels(cfg) == last_level + 1
    x, y = _data(16, c=sizes[-1])
    w0 = dyn.init_weights(cfg, 4)
    eng = Engine(cfg, w0, seed=4)
    eng.train_batch(x[:10], y[:10])
    eng.cfg = cfg.replace(eta=cfg.eta / 2)          # the next epoch's level: eta / 2
    eng.train_batch(x[10:13], y[10:13])
    eng.cfg = cfg.replace(eta=cfg.eta / 2 ** last_level)
    eng.train_batch(x[13:], y[13:])
    with LearningEngineNetwork(cfg, w0, seed=4, chunk=5) as net:
        net.train(x[:10], y[:10])
        net.set_eta_level(1)
        net.train(x[10:13], y[10:13])
        net.set_eta_level(last_level)
        net.train(x[13:], y[13:])
        w, back = net.weights, net.backward_weights
        counts = net.predict_counts(x[:6], np.arange(6))
    for k in range(cfg.n_layers):
        assert not np.array_equal(w[k], w0[k]), f"layer {k} must learn"
        assert np.array_equal(w[k], eng.weights[k]), f"layer {k}: {np.count_nonzero(w[k] != eng.weights[k])} differ"
    for k, b in back.items():
        assert np.array_equal(b, w[k].T), f"the mirrored copy of layer {k} must stay exactly W^T"
        assert not np.array_equal(b, w0[k].T)
    assert np.array_equal(counts, eng.predict_counts(x[:6], np.arange(6)))


@pytest.mark.lava
def test_the_mirrored_rule_counts_the_forward_rules_coincidences():
    """One replay window through Lava's LearningDense: the forward rule on
    (x, d+, d-) and the mirrored rule on (payload, 8 m x, m x) change W and W^T
    by the same, stochastically rounded, update, applied at the update step where
    the post neurons send y0 (their back-propagating spike) and y3."""
    from lava.magma.core.learning.constants import GradedSpikeCfg
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.utils.weightutils import SignMode

    from lava_ssnnbp.lava_config import loihi2_learning_rule
    cfg = _chip(sizes=(30, 6, 5))
    rng = np.random.default_rng(2)
    T = 31                                           # 30 counting steps and the update step
    x, dp, dn = rng.random((T, 6)) < 0.4, rng.random((T, 5)) < 0.25, rng.random((T, 5)) < 0.25
    x[-1] = dp[-1] = dn[-1] = False
    y3 = np.zeros((T, 1), dtype=int)
    y3[-1] = le.SAMPLE_END_Y3
    w0 = rng.integers(-200, 200, (5, 6))
    m = le.level_magnitude(cfg, 1)                   # eta / 2
    fmt = dict(num_weight_bits=9, sign_mode=SignMode.MIXED, weight_exp=-1)

    def run(dense, pre, post_factors):
        src = RingBuffer(data=pre.T.astype(int))
        src.s_out.connect(dense.s_in)
        for port, data in zip(("y1", "y2", "y3", "bap"), post_factors):
            RingBuffer(data=np.asarray(data).T.astype(int)).s_out.connect(getattr(dense, f"s_in_{port}"))
        dense.run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        w = dense.weights.get().astype(int)
        dense.stop()
        return w

    count = np.arange(T)[:, None] < T - 1
    fw = LearningDense(weights=w0.copy(), learning_rule=loihi2_learning_rule(cfg, 1), **fmt)
    y1, y2, _ = le.third_factors(dp, dn, True, False, m)
    w_fwd = run(fw, x, (y1 * count, y2 * count, np.repeat(y3, 5, 1), np.repeat(y3 > 0, 5, 1)))
    bw = LearningDense(weights=w0.T.copy(), learning_rule=loihi2_learning_rule(cfg, 1, mirrored=True),
                       num_message_bits=3, graded_spike_cfg=GradedSpikeCfg.OVERWRITE, **fmt)
    my1, my2 = le.mirror_factors(x, True, m)
    w_bwd = run(bw, le.mirror_payload(dp, dn, True), (my1 * count, my2 * count, np.repeat(y3, 6, 1),
                                                       np.repeat(y3 > 0, 6, 1)))
    coincidences = (dp.astype(int) - dn.astype(int)).T @ x.astype(int)
    assert np.any(coincidences)
    assert np.array_equal(w_bwd.T, w_fwd)
    assert np.array_equal(w_fwd, le.epoch_round_update(
        w0, coincidences, dyn.learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, -1) + 1,
        le.EpochRandoms().draw(T)))


def test_cli_target_loihi2_records_the_configuration(tmp_path, capsys):
    out = tmp_path / "run"
    rc = cli.main(["train", "--preset", "none", "--target", "loihi2", "--hidden", "16", "--steps", "10",
                   "--train-samples", "40", "--test-samples", "20", "--out", str(out), "--quiet"])
    assert rc == 0
    saved = json.loads((out / "config.json").read_text())["model"]
    assert (saved["target"], saved["mode"], saved["weight_bits"], saved["fixed_point"]) == ("loihi2", "replay", 9, True)
    assert saved["weight_exp"] == [-1, -1]
    capsys.readouterr()
    rc = cli.main(["train", "--target", "loihi2", "--mode", "coincidence", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--target" in err and "replay" in err
    rc = cli.main(["train", "--target", "loihi2", "--batch-updates", "mini-batch", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and "per sample" in err
    rc = cli.main(["train", "--target", "loihi2", "--steps", "100", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and "63 steps" in err


@pytest.mark.lava
def test_the_learning_engine_network_builds_after_multiprocessing_was_set_up():
    """tqdm fixes multiprocessing's start method before a run reaches Lava (the demo
    trains in the engine first): the network must still import Lava's runtime."""
    import subprocess
    import sys
    code = ("import multiprocessing as mp; mp.set_start_method('fork'); "
            "from lava_ssnnbp.config import SSNNConfig; from lava_ssnnbp.learning_network import LearningEngineNetwork; "
            "net = LearningEngineNetwork(SSNNConfig.loihi2_config(sizes=(8, 4, 2), steps=6, replay_steps=4)); "
            "net.close(); print('built')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "built" in out.stdout, out.stderr[-2000:]


@pytest.mark.lava
def test_lava_backend_runs_equal_the_engine_over_epochs_and_levels(tmp_path):
    """`ssnnbp train --backend lava` builds one LearningEngineNetwork per epoch: each continues
    the run's rounding stream (proc_models/learning_dense.py), so two epochs, the second at
    eta / 8 (the fourth level of an 8-step window, with updates that need rounding), end
    with the engine backend's weights bit for bit."""
    from lava_ssnnbp.training import load_weights
    common = ["train", "--preset", "lava-chip-small", "--epochs", "2", "--eta-schedule", "step", "--eta-step", "1",
              "--eta-decay", "0.125", "--train-samples", "12", "--test-samples", "6", "--quiet"]
    for backend in ("lava", "engine"):
        assert cli.main([*common, "--backend", backend, "--out", str(tmp_path / backend)]) == 0
    lava, engine = (load_weights(tmp_path / b / "weights.npz") for b in ("lava", "engine"))
    etas = [m["eta"] for m in json.loads((tmp_path / "lava" / "metrics.json").read_text())["epochs"]]
    assert etas == [0.6, 0.075]
    for k, (a, b) in enumerate(zip(lava, engine)):
        assert np.array_equal(a, b), f"layer {k}: {np.count_nonzero(a != b)} weights differ"
