"""The pure functions of the learning-engine network (lava_ssnnbp.learning_engine)
against Lava's own learning-engine code, and Engine(learning_engine='lava')."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import learning_engine as le
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine

pytestmark = pytest.mark.lava


def test_epoch_randoms_are_lavas_conn_var_random_stream():
    from lava.magma.core.learning.random import ConnVarRandom
    lava = ConnVarRandom()                      # what LearningDense's bit-approximate model builds
    ours = le.EpochRandoms()
    got = []
    for step in range(5000):                    # draw 0 at start-up, one advance per epoch
        got.append(lava.random_stochastic_round)
        lava.advance()
    assert [ours.draw(s) for s in range(5000)] == got
    assert ours.draw(3) == got[3]               # earlier draws stay available


def test_epoch_randoms_of_a_long_run_take_bounded_memory_and_stay_the_stream():
    import tracemalloc
    seed, n = 7, 3_000_000                      # about 30,000 samples of 101 steps
    ref = np.random.default_rng(seed).random(n)
    steps = range(0, n, 101)                    # in order, as a training run asks
    ours = le.EpochRandoms(seed)
    tracemalloc.start()
    wrong = sum(ours.draw(s) != ref[s] for s in steps)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert wrong == 0
    assert peak < 1_000_000, peak               # keeping every draw held 24 MB here
    assert ours.draw(5) == ref[5] and ours.draw(n - 1) == ref[-1]    # back to the start, then on
    assert le.EpochRandoms(seed).draw(2_500_000) == ref[2_500_000]   # a resumed run's first draw


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_epoch_round_update_is_lavas_rounding_and_clip(k):
    from lava.magma.core.learning.constants import W_ACCUMULATOR_S, W_SYN_VAR_S
    from lava.magma.core.model.py.connection import LearningConnectionModelBitApproximate as M
    from lava.utils.weightutils import SignMode, clip_weights
    rng = np.random.default_rng(k)
    w = rng.integers(-256, 256, size=(40, 50))
    n = rng.integers(-40, 41, size=w.shape)
    shift = W_ACCUMULATOR_S - W_SYN_VAR_S["weights"]          # 7
    for r in (0.0, 0.3, 0.5, 0.999):
        acc = (w << shift) + ((n << shift) >> k)                # the engine's accumulator: w + n / 2**k
        lava = M._stochastic_round_synaptic_variable("weights", acc, r) >> shift
        lava = clip_weights(lava, SignMode.MIXED, num_bits=8)
        assert np.array_equal(le.epoch_round_update(w, n, k, r), lava), r


def test_sample_end_flag_is_lava_configs():
    from lava_ssnnbp.lava_config import SAMPLE_END_Y3
    assert le.SAMPLE_END_Y3 == SAMPLE_END_Y3
    assert np.exp(-1.0 / le.NO_DECAY_TAU) == 1.0      # the y traces do not decay


def test_third_factors_and_inputs():
    dp, dn = np.array([1, 0, 0], bool), np.array([0, 1, 0], bool)
    y1, y2, y3 = le.third_factors(dp, dn, True, False)
    assert y1.tolist() == [1, 0, 0] and y2.tolist() == [0, 1, 0] and y3.tolist() == [0, 0, 0]
    y1, y2, y3 = le.third_factors(dp, dn, False, True)
    assert y1.tolist() == [0, 0, 0] and y3.tolist() == [32, 32, 32]
    assert le.graded_gradient(dp, dn).tolist() == [1, -1, 0]
    a = np.array([40000, -40000, 7])
    assert le.dendrite_input(a, False).tolist() == [32767, -32767, 7]
    assert le.dendrite_input(a, True).tolist() == [0, 0, 0]


def test_engine_lava_rounding_differs_from_per_synapse_rounding_only_in_rounding():
    cfg = SSNNConfig(sizes=(30, 12, 4), steps=20, fixed_point=True, mode="coincidence")
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 30)), rng.integers(0, 4, 20)
    w0 = dyn.init_weights(cfg, 0)
    a, b = Engine(cfg, w0, 0), Engine(cfg, w0, 0, learning_engine="lava")
    ra, rb = a.train_batch(x[:1], y[:1]), b.train_batch(x[:1], y[:1])
    assert np.array_equal(ra.out_counts, rb.out_counts)      # the same sample, the same weights before
    # one sample: both round the same counts, so each weight is within one mantissa unit of the
    # other -- except where the engine saturated at 127 and Lava's engine goes on to 255
    for wa, wb in zip(a.weights, b.weights):
        d = np.abs(wa.astype(int) - wb)
        assert d[np.abs(wa) < 127].max(initial=0) <= 1
        assert np.all(np.abs(wb[np.abs(wa) == 127]) >= 127)
    assert any(not np.array_equal(wa, w) for wa, w in zip(b.weights, w0))


def test_engine_lava_rounding_rejects_bad_settings():
    with pytest.raises(ValueError, match="learning_engine"):
        Engine(SSNNConfig(sizes=(4, 3, 2), fixed_point=True), learning_engine="loihi")
    with pytest.raises(ValueError, match="fixed point"):
        Engine(SSNNConfig(sizes=(4, 3, 2), mode="coincidence"), learning_engine="lava")
    with pytest.raises(ValueError, match="'coincidence' or 'replay'"):
        Engine(SSNNConfig(sizes=(4, 3, 2), fixed_point=True, mode="rate"), learning_engine="lava")
