"""Every per-step rule of ``lava_ssnnbp.dynamics`` against values computed by hand.

Expected numbers are written out in the tests (or derived with plain Python
integer arithmetic in the test itself), never by calling the code under test.
"""
import math

import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import fixed_point as fxp
from lava_ssnnbp.config import ConfigError, SSNNConfig
from lava_ssnnbp.engine import Engine, encode_batch


def run_if(a_seq, du, theta, reset, fixed, u0=0, v0=0, **kw):
    dt = np.int32 if fixed else np.float64
    u, v = np.array([u0], dtype=dt), np.array([v0], dtype=dt)
    us, vs, ss = [], [], []
    for a in a_seq:
        u, v, s = dyn.if_step(u, v, np.array([a], dtype=dt), du, theta, reset, fixed, **kw)
        us.append(u[0]), vs.append(v[0]), ss.append(bool(s[0]))
    return us, vs, ss


# ---------------------------------------------------------------- IF neuron
@pytest.mark.parametrize("reset, v_expected", [
    ("subtract", [1.0, 0.5, 0.75, 0.875]),
    ("zero", [1.0, 0.0, 0.25, 0.375]),
])
def test_if_step_float_hand_values(reset, v_expected):
    # du = 0.5, theta = 1, one input of 2 at step 1:
    # u: 0 + 0.5 (2 - 0) = 1, then halves: 0.5, 0.25, 0.125
    # v: 1 (not > 1: strict), 1.5 -> spike -> 0.5 (subtract) / 0 (zero), + 0.25, + 0.125
    us, vs, ss = run_if([2.0, 0, 0, 0], 0.5, 1.0, reset, fixed=False)
    np.testing.assert_allclose(us, [1.0, 0.5, 0.25, 0.125])
    np.testing.assert_allclose(vs, v_expected)
    assert ss == [False, True, False, False]


def test_if_step_float_unit_kernel():
    # One input of weight w eventually adds exactly w to v (kernel 1 - exp(-t/tau)).
    du = 1 - math.exp(-1 / 7.0)
    us, vs, ss = run_if([0.8] + [0.0] * 400, du, 100.0, "subtract", fixed=False)
    assert vs[-1] == pytest.approx(0.8, rel=1e-9)
    assert vs[0] == pytest.approx(0.8 * du)


@pytest.mark.parametrize("reset, v_expected", [
    ("subtract", [64, 32, 48, 56]),
    ("zero", [64, 0, 16, 24]),
])
def test_if_step_fixed_hand_values(reset, v_expected):
    # du register 2047: effective decay (2047 + 1) / 4096 = 1/2, i.e. u * 2048 >> 12.
    # Threshold mantissa 1 -> 1 << 6 = 64. Input a = 1 -> 1 << 6 = 64 into u.
    # u: 64, 32, 16, 8; v: 64 (not > 64), 96 -> spike -> 32 / 0, then + 16, + 8
    us, vs, ss = run_if([1, 0, 0, 0], 2047, 1, reset, fixed=True)
    assert us == [64, 32, 16, 8]
    assert vs == v_expected
    assert ss == [False, True, False, False]


def test_fixed_decay_truncates_toward_zero_like_lava():
    # Lava: sign(x) * (|x| * (4096 - d) >> 12). -3 / 2 -> -1 (floor would give -2).
    np.testing.assert_array_equal(fxp.decay(np.array([-3, 3, -5, 5, -1]), 2048), [-1, 1, -2, 2, 0])
    us, vs, _ = run_if([0], 2047, 1000, "subtract", fixed=True, u0=-3)
    assert us == [-1] and vs == [-1]
    # d = 1: x * 4095 >> 12 on the magnitude
    x = 1_000_001
    assert fxp.decay(np.array([-x]), 1)[0] == -((x * 4095) >> 12)


@pytest.mark.parametrize("du", [0, 1, 409, 2047, 4094])
def test_if_step_decay_equals_the_integer_reference(du):
    # if_step computes the shift as a dyadic float product; fxp.decay is Lava's integer form
    # (numpy, and where numba is there the same rule compiled)
    from lava_ssnnbp import accel
    steps = [dyn.if_step] + ([accel.step_functions().if_step] if accel.usable() else [])
    for if_step in steps:
        u = np.random.default_rng(du).integers(-fxp.UV_MAX, fxp.UV_MAX, 5000).astype(np.int32)
        u_new, _, _ = if_step(u, np.zeros_like(u), np.zeros_like(u), du, 1 << 20, fixed=True)
        np.testing.assert_array_equal(u_new, fxp.decay(u, du + fxp.DS_OFFSET))


def test_fixed_voltage_saturates_at_24_bits():
    big_theta = 1 << 20                      # threshold << 6 = 2**26 > 2**23: never spikes
    _, vs, ss = run_if([1], 2047, big_theta, "subtract", fixed=True, v0=fxp.UV_MAX - 10)
    assert vs == [2 ** 23 - 1] and ss == [False]
    _, vs, _ = run_if([-1], 2047, big_theta, "subtract", fixed=True, v0=-(fxp.UV_MAX - 10))
    assert vs == [-(2 ** 23 - 1)]            # symmetric clip like Lava's v


def test_fixed_current_saturates_or_wraps():
    u0, a = 2 ** 23 - 101, 32767            # a << 6 = 2097088
    raw = ((u0 * 4095) >> 12) + (a << 6)     # du register 0: effective decay 1/4096
    assert raw > 2 ** 23 - 1
    us, _, _ = run_if([a], 0, 1 << 20, "subtract", fixed=True, u0=u0)
    assert us == [2 ** 23 - 1]
    us, _, _ = run_if([a], 0, 1 << 20, "subtract", fixed=True, u0=u0, overflow="wrap")
    assert us == [raw - 2 ** 24]


def test_fixed_point_register_and_threshold_conversion():
    # du = 1 - exp(-1/10) = 0.09516; round(0.09516 * 4096) = 390, minus Lava's 1-bit offset -> 389
    assert fxp.decay_register(1 - math.exp(-0.1)) == 389
    # voltage per unit weight = 64 * 64 * 4096 / 390 = 43018.5; theta 5 -> 5 * 43018.5 / 64 = 3360.8 -> 3361
    assert fxp.threshold_mantissa(5.0, 389) == 3361
    # weights: lsb = 1/64 at exponent 0, 8-bit symmetric saturation
    np.testing.assert_array_equal(fxp.quantize_weights(np.array([0.5, -0.26, 3.0, -3.0]), 0),
                                  [32, -17, 127, -127])
    np.testing.assert_array_equal(fxp.quantize_weights(np.array([0.5]), 1), [16])


# ---------------------------------------------------------------- composite neurons
def float_params(theta_x=1.0, theta_d=1.0, reset="subtract"):
    # du = 1: u = a every step, so v simply accumulates the input
    return dyn.NeuronParams(False, 1.0, theta_x, theta_d, reset, 1.0)


def test_hidden_gradient_neurons_gated_until_first_forward_spike():
    p = float_params()
    st = dyn.composite_state((1,), fixed=False)
    a_fwd = [0.0, 0.0, 2.0, 0.0]
    xs, sps, sns, pvs = [], [], [], []
    for af in a_fwd:
        st, x, sp, sn = dyn.hidden_step(st, np.array([af]), np.array([2.0]), p)
        xs.append(bool(x[0])), sps.append(bool(sp[0])), sns.append(bool(sn[0])), pvs.append(st.pv[0])
    # x: v 0, 0, 2 -> spike (1), 1 (not > 1)
    assert xs == [False, False, True, False]
    # d+ integrates 2 per step and would spike every step (v: 2->1, 3->2, 4->3, 5->4) but
    # passes only from the forward neuron's first spike on, including that same step.
    assert sps == [False, False, True, True]
    assert pvs == [1.0, 2.0, 3.0, 4.0]
    assert sns == [False] * 4                 # d- gets -2: never spikes
    assert st.gate[0]


def test_hidden_gate_and_sign_with_negative_feedback_and_dropout():
    p = float_params()
    st = dyn.composite_state((2,), fixed=False)
    keep = np.array([True, False])            # unit 1 is dropped for the sample
    out = []
    for _ in range(3):
        st, x, sp, sn = dyn.hidden_step(st, np.array([2.0, 2.0]), np.array([-2.0, -2.0]), p, keep)
        out.append((x.copy(), sp.copy(), sn.copy()))
    x = np.array([o[0] for o in out]); sp = np.array([o[1] for o in out]); sn = np.array([o[2] for o in out])
    np.testing.assert_array_equal(x[:, 0], [True, True, True])
    np.testing.assert_array_equal(sn[:, 0], [True, True, True])   # negative feedback -> d-
    assert not sp.any()
    assert not x[:, 1].any() and not sn[:, 1].any()                # dropped: silent, gate shut


def test_output_gradient_neurons_driven_by_target_minus_output():
    p = float_params(theta_x=1.0, theta_d=0.5)
    st = dyn.composite_state((3,), fixed=False)
    a = np.array([0.0, 2.0, 2.0])       # unit 0 silent, units 1 and 2 fire every step
    target = np.array([1, 0, 1], dtype=bool)
    for _ in range(3):
        st, x, sp, sn = dyn.output_step(st, a, target, p)
        np.testing.assert_array_equal(x, [False, True, True])
        # unit 0: target - x = +1 -> d+ (v 1 > 0.5 -> 0.5, 1.5 -> 1.0, 2.0 -> 1.5), not gated at the output
        # unit 1: target - x = -1 -> d- ; unit 2: target and output cancel -> nothing
        np.testing.assert_array_equal(sp, [True, False, False])
        np.testing.assert_array_equal(sn, [False, True, False])
    np.testing.assert_allclose(st.pv, [1.5, -3.0, 0.0])
    np.testing.assert_allclose(st.nv, [-3.0, 1.5, 0.0])


def test_output_error_drive_fixed_point():
    # fixed point: one label-minus-output spike drives err_gain mantissa units (<< 6 into u)
    p = dyn.NeuronParams(True, 2047, 1000, 50, "subtract", fxp.W_ONE)
    st = dyn.composite_state((2,), fixed=True)
    st, x, sp, sn = dyn.output_step(st, np.array([0, 0], np.int32), np.array([True, False]), p)
    np.testing.assert_array_equal(st.pu, [64 << 6, 0])
    np.testing.assert_array_equal(st.nu, [-(64 << 6), 0])
    assert sp[0] and not sn.any()            # 4096 > 50 << 6 = 3200


def test_wta_drive_hand_values():
    x = np.array([True, False, True, True])
    # 3 spikes; each neuron gets -w_inh per spike of the *other* neurons
    np.testing.assert_allclose(dyn.wta_drive(x, 2.5, False), [-5.0, -7.5, -5.0, -5.0])
    # fixed: w = round(2.5 * 64) = 160 mantissa units
    np.testing.assert_array_equal(dyn.wta_drive(x, 2.5, True), [-320, -480, -320, -320])
    np.testing.assert_array_equal(dyn.wta_drive(np.zeros((2, 4), bool), 2.5, True), np.zeros((2, 4)))


# ---------------------------------------------------------------- synapses
W_HAND = np.array([[1.0, 2.0, 3.0, 4.0],
                   [-1.0, 0.0, 1.0, 0.5],
                   [0.0, 0.0, -2.0, 1.0]])


def test_forward_and_backward_drive_read_one_array_both_ways():
    w = W_HAND.copy()
    s = np.array([True, False, True, True])
    np.testing.assert_allclose(dyn.forward_drive(w, s, False), [8.0, 0.5, -1.0])
    dp, dn = np.array([True, False, True]), np.array([False, True, False])
    # (d+ - d-) = (1, -1, 1); W^T d = (1+1+0, 2+0+0, 3-1-2, 4-0.5+1)
    np.testing.assert_allclose(dyn.backward_drive(w, dp, dn, False), [2.0, 2.0, 0.0, 4.5])
    # batched leading dims
    np.testing.assert_allclose(dyn.forward_drive(w, np.stack([s, ~s]), False), [[8.0, 0.5, -1.0], [2.0, 0.0, 0.0]])
    # the same array: one write changes both directions
    w[0, 2] = 10.0
    np.testing.assert_allclose(dyn.forward_drive(w, s, False), [15.0, 0.5, -1.0])
    np.testing.assert_allclose(dyn.backward_drive(w, dp, dn, False), [2.0, 2.0, 7.0, 4.5])


@pytest.mark.parametrize("density", [0.03, 0.15, 0.5])
@pytest.mark.parametrize("npost", [10, 1280])
def test_forward_drive_many_equals_the_per_step_drive(density, npost):
    """All steps' input drive at once (event-driven or GEMM, whichever pays) is the
    per-step drive: bit for bit in fixed point, to float32 rounding in float."""
    rng = np.random.default_rng(3)
    s = rng.random((40, 300)) < density
    s[:, :50] = False                                    # inputs that never spike: gathered out
    wq = rng.integers(-127, 128, (npost, 300)).astype(np.int32)
    np.testing.assert_array_equal(dyn.forward_drive_many(wq, s, True, -2), dyn.forward_drive(wq, s, True, -2))
    wf = (rng.standard_normal((npost, 300)) * 0.1).astype(np.float32)
    np.testing.assert_allclose(dyn.forward_drive_many(wf, s, False), dyn.forward_drive(wf, s, False),
                               rtol=0, atol=1e-5)


def test_event_driven_drive_chosen_where_it_measured_faster():
    # accel.spike_drive vs OpenBLAS (see _event_driven_pays): wide layers up to ~20 % active
    assert dyn._event_driven_pays(0.10, 1280) and dyn._event_driven_pays(0.20, 1280)
    assert not dyn._event_driven_pays(0.30, 1280)
    assert dyn._event_driven_pays(0.10, 256) and not dyn._event_driven_pays(0.20, 256)
    assert not any(dyn._event_driven_pays(d, 10) for d in (0.0, 0.01, 0.1))


def test_drives_fixed_point_exponent_and_16bit_saturation():
    wm = np.array([[3, -5], [30000, 30000]], dtype=np.int32)
    s = np.array([True, True])
    # row 0: -2; exponent +1 doubles, -1 is an arithmetic shift (floor): -2 >> 1 = -1
    np.testing.assert_array_equal(dyn.forward_drive(wm, s, True, 1), [-4, 32767])
    np.testing.assert_array_equal(dyn.forward_drive(wm, s, True, -1), [-1, 30000])
    np.testing.assert_array_equal(dyn.forward_drive(wm, s, True, 0), [-2, 32767])   # 60000 saturates
    np.testing.assert_array_equal(dyn.backward_drive(wm, np.array([False, True]), np.array([True, False]), True),
                                  [29997, 30005])
    np.testing.assert_array_equal(dyn.backward_drive(-wm, np.array([False, True]), np.array([False, False]), True),
                                  [-30000, -30000])


# ---------------------------------------------------------------- encoders, masks
def test_dropout_mask_rate():
    m = dyn.dropout_mask(20000, 0.3, np.random.default_rng(0))
    assert m.dtype == bool
    assert m.mean() == pytest.approx(0.7, abs=0.01)       # 3 sigma = 0.0097
    assert dyn.dropout_mask(50, 0.0, np.random.default_rng(0)).all()


def test_input_probabilities_hand_values():
    # T = 4, g = 0.5, x = 1: p_t = 2 g x (T - t - 1/2) / T = (3.5, 2.5, 1.5, 0.5) / 4
    p = dyn.input_probabilities(np.array([1.0, 0.5]), 4, 0.5)
    np.testing.assert_allclose(p[:, 0], [0.875, 0.625, 0.375, 0.125])
    np.testing.assert_allclose(p[:, 1], [0.4375, 0.3125, 0.1875, 0.0625])
    np.testing.assert_allclose(p.mean(axis=0), [0.5, 0.25])          # = g * x


def test_encode_input_rate_and_front_loading():
    T, g = 100, 0.4
    pixels = np.repeat([0.0, 0.5, 1.0], 1000)
    s = dyn.encode_input(pixels, T, g, np.random.default_rng(1))
    assert s.shape == (T, 3000) and s.dtype == bool
    rates = s.reshape(T, 3, 1000).mean(axis=(0, 2))
    # mean over 100k Bernoulli draws: sigma <= 0.0016
    np.testing.assert_allclose(rates, [0.0, 0.2, 0.4], atol=0.01)
    # front-loaded: the first half carries 3/4 of the expected spikes, the second 1/4
    first, second = s[:T // 2].sum(), s[T // 2:].sum()
    assert 2.6 < first / second < 3.4


def test_encode_target():
    y = dyn.encode_target(2, 4000, 5, 0.5, np.random.default_rng(0))
    assert y.shape == (4000, 5)
    assert not np.delete(y, 2, axis=1).any()
    assert y[:, 2].mean() == pytest.approx(0.5, abs=0.025)


def test_encode_sample_draws_each_train_from_the_samples_own_stream():
    """The one encoding the engine and the Lava spike sources share: the inputs from the
    sample's input stream (the test streams of seed + TEST_SEED_OFFSET at inference), the
    target from its target stream in training and none at inference, frames as they are."""
    pixels, T = np.linspace(0.0, 1.0, 30), 40
    inputs, target = dyn.encode_sample(5, 7, True, T, pixels, 0.4, 2, 3, 0.5)
    assert np.array_equal(inputs, dyn.encode_input(pixels, T, 0.4, dyn.sample_rng(5, 7, dyn.STREAM_INPUT)))
    assert np.array_equal(target, dyn.encode_target(2, T, 3, 0.5, dyn.sample_rng(5, 7, dyn.STREAM_TARGET)))
    test_inputs, test_target = dyn.encode_sample(5, 7, False, T, pixels, 0.4, 2, 3, 0.5)
    assert np.array_equal(test_inputs, dyn.encode_input(pixels, T, 0.4,
                                                        dyn.sample_rng(5 + dyn.TEST_SEED_OFFSET, 7, dyn.STREAM_INPUT)))
    assert not np.array_equal(test_inputs, inputs) and test_target.shape == (T, 3) and not test_target.any()
    frames = np.random.default_rng(0).random((T, 30)) < 0.1
    assert np.array_equal(dyn.encode_sample(5, 7, True, T, frames.astype(float))[0], frames)
    assert dyn.encode_sample(5, 7, True, T, label=1, num_classes=3, target_rate=0.5)[0] is None
    assert dyn.encode_sample(5, 7, True, T, pixels, 0.4)[1] is None


# ---------------------------------------------------------------- learning rules
def test_update_denominator():
    assert dyn.update_denominator("rate", 50) == 2 * 50 * 50
    assert dyn.update_denominator("noise", 50) == 5000
    assert dyn.update_denominator("coincidence", 50) == 100
    assert dyn.update_denominator("stochastic", 7) == 14


def hand_trains():
    # T = 4, two presynaptic forward neurons, two postsynaptic gradient pairs
    x = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], bool)
    dp = np.array([[1, 0], [0, 0], [0, 1], [1, 0]], bool)
    dn = np.array([[0, 0], [1, 1], [0, 0], [0, 0]], bool)
    return x, dp, dn


def test_coincidence_numerator_hand_values():
    x, dp, dn = hand_trains()
    # d0 = (1, -1, 0, 1), d1 = (0, -1, 1, 0); x0 = (1, 1, 0, 1), x1 = (0, 1, 1, 0)
    # [j, i] = sum_t d_j x_i: d0.x0 = 1, d0.x1 = -1, d1.x0 = -1, d1.x1 = 0
    num = dyn.coincidence_numerator(x, dp, dn)
    np.testing.assert_array_equal(num, [[1, -1], [-1, 0]])
    assert num.dtype == np.int64
    # a batch dimension sums over samples: (T, B, N)
    xb, pb, nb = (np.stack([a, a], axis=1) for a in (x, dp, dn))
    np.testing.assert_array_equal(dyn.coincidence_numerator(xb, pb, nb), [[2, -2], [-2, 0]])


def test_causal_numerator_hand_values():
    x, dp, dn = hand_trains()
    # presynaptic spikes so far: c0 = (1, 2, 2, 3), c1 = (0, 1, 2, 2)
    # [j, i] = sum_t d_j(t) c_i(t): d0.c0 = 1 - 2 + 3 = 2, d0.c1 = -1 + 2 = 1, d1.c0 = -2 + 2 = 0, d1.c1 = -1 + 2 = 1
    np.testing.assert_array_equal(dyn.causal_numerator(x, dp, dn), [[2, 1], [0, 1]])
    # samples of a batch (T, B, N) count their own spikes only
    xb, pb, nb = (np.stack([a, a], axis=1) for a in (x, dp, dn))
    np.testing.assert_array_equal(dyn.causal_numerator(xb, pb, nb), [[4, 2], [0, 2]])
    # every pre-before-post pair: with all gradient spikes at the last step it is the rate rule's D X
    late_p, late_n = np.zeros_like(dp), np.zeros_like(dn)
    late_p[-1], late_n[-1] = dp.sum(0) > 0, dn.sum(0) > 0
    np.testing.assert_array_equal(dyn.causal_numerator(x, late_p, late_n),
                                  dyn.rate_numerator(x.sum(0)[None], late_p.sum(0)[None], late_n.sum(0)[None]))


def test_rate_numerator_hand_values():
    x, dp, dn = hand_trains()
    # counts: X = (3, 2), D+ = (2, 1), D- = (1, 1) -> D = (1, 0); numerator = D outer X
    X, P, N = (a.sum(0)[None] for a in (x, dp, dn))
    np.testing.assert_array_equal(dyn.rate_numerator(X, P, N), [[3, 2], [0, 0]])
    # a second sample X = (1, 0), D = (0, 2) adds [[0, 0], [2, 0]]
    X2 = np.vstack([X, [1, 0]]); P2 = np.vstack([P, [0, 2]]); N2 = np.vstack([N, [0, 0]])
    np.testing.assert_array_equal(dyn.rate_numerator(X2, P2, N2), [[3, 2], [2, 0]])


def test_stochastic_noise_std_hand_value():
    T = 50
    # r_x = 0.4, r+ = 0.3, r- = 0.1: var per step = 0.4 (0.3 + 0.1 - 2*0.03) - (0.4*0.2)^2 = 0.1296
    # std of the estimate (sum / 2T) = sqrt(0.1296 / (4 T)) = 0.36 / sqrt(200)
    std = dyn.stochastic_noise_std(np.array([[20]]), np.array([[15]]), np.array([[5]]), T)
    assert std[0, 0] == pytest.approx(0.36 / math.sqrt(200))
    # two samples add variances
    std2 = dyn.stochastic_noise_std(np.array([[20], [20]]), np.array([[15], [15]]), np.array([[5], [5]]), T)
    assert std2[0, 0] == pytest.approx(0.36 / math.sqrt(100))


def test_stochastic_numerator_zero_mean_error_shrinking_like_inverse_sqrt_T():
    rx, rp, rn = 0.4, 0.3, 0.1
    true = rx * (rp - rn) / 2                      # rate_numerator / (2 T^2)
    stds, means = {}, {}
    rng = np.random.default_rng(2024)
    for T in (50, 800):
        X = np.full((1, 60), round(rx * T)); P = np.full((1, 50), round(rp * T)); N = np.full((1, 50), round(rn * T))
        err = np.concatenate([(dyn.stochastic_numerator(X, P, N, T, rng) / (2 * T) - true).ravel()
                              for _ in range(8)])
        theory = 0.36 / math.sqrt(4 * T)
        stds[T], means[T] = err.std(), err.mean()
        assert abs(means[T]) < 0.15 * theory, (T, means[T], theory)
        assert stds[T] == pytest.approx(theory, rel=0.1), (T, stds[T], theory)
    # 1 / sqrt(T): 16x more steps -> 4x smaller error
    assert 3.4 < stds[50] / stds[800] < 4.6


@pytest.mark.parametrize("mode", ["rate", "coincidence", "stochastic", "noise", "causal"])
@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("batch", [1, 5])
def test_learn_equals_the_full_update(mode, fixed, batch, layer_config):
    """``learn`` (block update on the active synapses for rate/coincidence)
    gives the full numerator + update's weights (fixed point: up to rounding)."""
    if fixed and mode == "noise":
        pytest.skip("'noise' mode is floating point only")
    T = 20
    cfg = layer_config(40, 30, steps=T, mode=mode, eta=0.3, fixed_point=fixed)
    rng = np.random.default_rng(batch)
    xh = (rng.random((T, batch, 40)) < 0.05) & (np.arange(40) % 3 > 0)   # some inputs silent
    dph = (rng.random((T, batch, 30)) < 0.2) & (rng.random(30) < 0.3)   # few active gradient units
    dnh = (rng.random((T, batch, 30)) < 0.1) & ~dph & (rng.random(30) < 0.5)
    X, P, N = (h.sum(axis=0, dtype=np.int64) for h in (xh, dph, dnh))
    coinc = dyn.PAIR_NUMERATORS.get(mode, dyn.coincidence_numerator)(xh, dph, dnh)
    w = dyn.init_weights(cfg, seed=3)[0]
    w = w.astype(np.int32) if fixed else w.astype(np.float32)
    num = dyn.learning_numerator(cfg, 0, X, P, N, 7, 11, coinc)
    full = dyn.update_weights(w, num, cfg, 0, X, P, N, 7, 11)
    new = dyn.learn(w, cfg, 0, X, P, N, 7, 11, coinc)
    assert new.dtype == full.dtype and not np.shares_memory(new, w)
    assert (new != w).any()                                  # something was learned
    if fixed and mode in ("rate", "coincidence", "causal"):
        # rounding draws over the block only: the same update up to one mantissa
        # step of stochastic rounding, and nothing outside the block changes
        post, pre = dyn.learning_support(X, P, N)
        block = np.ix_(post, pre)
        np.testing.assert_array_equal(new[block], dyn.update_weights(w[block], num[block], cfg, 0, X, P, N, 7, 11))
        outside = np.ones(w.shape, bool)
        outside[block] = False
        np.testing.assert_array_equal(new[outside], w[outside])
        assert np.abs(new.astype(np.int64) - full).max() <= 1
    else:
        np.testing.assert_array_equal(new, full)
    post, pre = dyn.learning_support(X, P, N)
    assert 0 < post.size < 30 and 0 < pre.size < 40         # the block is a real subset

@pytest.mark.parametrize("compiled", [False, True])
def test_learn_with_a_shared_random_rounds_as_lavas_learning_engine(compiled, layer_config):
    """``learn(..., shared_random=r)``: on the learning support's block, the weights of
    ``learning_engine.epoch_round_update`` (Lava's own rounding and 9-bit clip, tested
    against Lava's code in test_learning_engine.py); nothing else changes."""
    from lava_ssnnbp import accel
    from lava_ssnnbp import learning_engine as le
    if compiled and not accel.usable():
        pytest.skip("numba not usable here")
    cfg = layer_config(40, 30, steps=20, mode="coincidence", eta=0.3, fixed_point=True)
    rng = np.random.default_rng(5)
    X = (rng.random((1, 40)) < 0.5) * rng.integers(1, 9, (1, 40))
    P = (rng.random((1, 30)) < 0.4) * rng.integers(1, 6, (1, 30))
    N = (rng.random((1, 30)) < 0.3) * rng.integers(1, 6, (1, 30))
    coinc = rng.integers(-400, 401, (30, 40))
    w = rng.integers(-256, 256, (30, 40)).astype(np.int32)          # the learning engine's 9-bit weights
    block = np.ix_(*dyn.learning_support(X, P, N))
    shift = dyn.learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, 0)
    for r in (0.0, 0.37, 0.999):
        new = dyn.learn(w, cfg, 0, X, P, N, 7, 11, coinc, add_block=accel.add_block if compiled else None,
                        shared_random=r)
        want = w.copy()
        want[block] = le.epoch_round_update(w[block], coinc[block], shift, r)
        assert new.dtype == np.int32 and np.array_equal(new, want), r
    assert (new == 255).any() and (new == -256).any() and (new != w).any()    # clipped at 9 bits, not 8
    with pytest.raises(ValueError, match="learning engine rounds"):
        dyn.learn(w.astype(np.float32), cfg.replace(fixed_point=False), 0, X, P, N, 7, 11, coinc, shared_random=0.5)
    with pytest.raises(ValueError, match="learning engine rounds"):
        dyn.learn(w, cfg.replace(mode="rate"), 0, X, P, N, 7, 11, shared_random=0.5)


def test_noise_mode_std_equals_stochastic_rule_std(layer_config):
    T, eta = 50, 0.01
    cfg = layer_config(80, 60, steps=T, mode="noise", eta=eta)
    X = np.full((1, 80), 20); P = np.full((1, 60), 15); N = np.full((1, 60), 5)
    w = np.zeros((60, 80))
    num = dyn.learning_numerator(cfg, 0, X, P, N, seed=0, first_sample=0)
    np.testing.assert_array_equal(num, np.full((60, 80), 200))     # (15 - 5) * 20, the rate rule
    new = dyn.update_weights(w, np.zeros_like(num), cfg, 0, X, P, N, seed=0, first_sample=0)
    noise = new / eta
    assert abs(noise.mean()) < 0.05 * 0.36 / math.sqrt(200)
    assert noise.std() == pytest.approx(0.36 / math.sqrt(200), rel=0.05)    # 4800 draws: ~1% sigma
    # an explicit noise_std is per sample: B samples add variances
    cfg2 = cfg.replace(noise_std=0.1)
    X3, P3, N3 = (np.repeat(a, 4, axis=0) for a in (X, P, N))
    new = dyn.update_weights(w, np.zeros_like(num), cfg2, 0, X3, P3, N3, seed=0, first_sample=0)
    assert (new / eta).std() == pytest.approx(0.1 * 2, rel=0.05)
    # noise_steps = T_s emulates the rule's noise at T_s steps from T-step rates: std ~ 1/sqrt(T_s)
    cfg3 = cfg.replace(noise_steps=8 * T)
    new = dyn.update_weights(w, np.zeros_like(num), cfg3, 0, X, P, N, seed=0, first_sample=0)
    assert (new / eta).std() == pytest.approx(0.36 / math.sqrt(200) / math.sqrt(8), rel=0.05)
    with pytest.raises(ConfigError, match="noise_steps"):
        cfg.replace(noise_steps=0)


def test_apply_update_float_hand_value(layer_config):
    cfg = layer_config(2, 1, steps=10, mode="rate", eta=0.5)
    # dW = eta * numerator / (2 T^2) = 0.5 * 200 / 200
    np.testing.assert_allclose(dyn.apply_update(np.array([[1.0, 2.0]]), np.array([[200, -100]]), cfg, 0),
                               [[1.5, 1.75]])


def test_learning_shift_hand_value(layer_config):
    # rate, T = 10: denominator 200; lsb 1/64; 200 / 64 / 0.005 = 625 -> log2 = 9.29 -> 9
    assert dyn.learning_shift(0.005, 10, "rate", 0) == 9
    cfg = layer_config(2, 1, steps=10, mode="rate", eta=0.005, fixed_point=True)
    assert dyn.effective_eta(cfg, 0) == pytest.approx(200 / 64 / 512)
    # coincidence, T = 100: 200 / 64 / 0.005 again -> 9; exponent 2 -> lsb 1/16 -> log2(2500) -> 11
    assert dyn.learning_shift(0.005, 100, "coincidence", 0) == 9
    assert dyn.learning_shift(0.005, 100, "coincidence", 2) == 11


def test_apply_update_fixed_saturates_never_wraps(layer_config):
    cfg = layer_config(4, 1, steps=10, mode="rate", eta=0.005, fixed_point=True)
    w = np.array([[120, -120, 100, -5]], dtype=np.int32)
    big = np.array([[10 ** 6, -10 ** 6, 2 ** 40, 0]], dtype=np.int64)
    new = dyn.apply_update(w, big, cfg, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(new, [[127, -127, 127, -5]])
    assert new.dtype == np.int32
    # repeated pushes stay at the rail
    for _ in range(3):
        new = dyn.apply_update(new, big, cfg, 0, np.random.default_rng(1))
    np.testing.assert_array_equal(new, [[127, -127, 127, -5]])
    # an exact multiple of 2**9 moves by exactly that many units
    new = dyn.apply_update(w, np.array([[-3 * 512, 3 * 512, 512, -512]]), cfg, 0, np.random.default_rng(0))
    np.testing.assert_array_equal(new, [[117, -117, 101, -6]])


@pytest.mark.parametrize("n, k", [(5, 3), (-5, 3), (1, 9), (-700, 9), (12, 0)])
def test_stochastic_rounding_unbiased(n, k):
    r = fxp.stochastic_shift(np.full(200_000, n), k, np.random.default_rng(3))
    lo = math.floor(n / 2 ** k)
    assert set(np.unique(r)) <= {lo, lo + 1}          # only the two neighbours
    p = n / 2 ** k - lo                                 # P(round up)
    assert r.mean() == pytest.approx(n / 2 ** k, abs=4 * math.sqrt(p * (1 - p) / 200_000) + 1e-12)


# ---------------------------------------------------------------- float vs fixed point
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("wta", [False, True])
def test_float_and_fixed_point_networks_agree(reset, wta, small_config):
    """The same 20-16-4 network (T = 30) in float and fixed point from equivalent
    weights (the float weights are the dequantised mantissas), on the same spikes.

    The fixed-point model differs only by (a) rounding of the decay register
    (|error| <= 0.5 / 4096 on du), (b) rounding of threshold mantissas (relative
    error < 0.5 / 226 for theta = 1) and (c) truncation of u in each decay (at most
    one unit of u in ~64 * 64 per weight unit). Together these move a voltage by
    well under 1% of a threshold, so only a neuron that ends a step within that
    margin of its threshold can spike one step earlier or later; over T = 30 steps
    that changes its count by at most one, and rarely propagates. Measured: at most
    1 spike difference for any neuron, < 2% of neurons differing. We allow 2 spikes
    per neuron and 5% of neurons differing, and totals within 2% (+2 spikes).
    """
    cf = small_config(sizes=(20, 16, 4), eta=0.3, wta=wta, reset=reset)
    cx = cf.replace(fixed_point=True)
    wm = dyn.init_weights(cx, 0)
    wf = dyn.float_weights(cx, wm)
    np.testing.assert_allclose(wf[0], wm[0] / 64.0)
    rng = np.random.default_rng(0)
    B = 32
    x, y = rng.random((B, 20)), rng.integers(0, 4, B)
    batch = encode_batch(cf, x, y, np.arange(B), 0, train=True)
    try:
        ef = Engine(cf, wf, seed=0, dtype=np.float64)
    except TypeError:                      # dtype is not part of the stable API
        ef = Engine(cf, wf, seed=0)
    rf = ef.simulate(batch, train=True)
    rx = Engine(cx, wm, seed=0).simulate(batch, train=True)
    pairs = list(zip(rf.x_counts[1:], rx.x_counts[1:])) + list(zip(rf.dp_counts, rx.dp_counts)) \
        + list(zip(rf.dn_counts, rx.dn_counts))
    for a, b in pairs:
        d = np.abs(np.asarray(a, np.int64) - np.asarray(b, np.int64))
        assert d.max() <= 2
        assert (d > 0).mean() <= 0.05
        assert abs(int(a.sum()) - int(b.sum())) <= 0.02 * a.sum() + 2
    assert rf.x_counts[1].sum() > 100 and rf.x_counts[2].sum() > 10     # not a silent network


def test_unknown_update_mode_is_an_error_not_rate():
    # a new mode must be added explicitly; it must not fall through to the rate rule
    with pytest.raises(ValueError, match="unknown update mode"):
        dyn.update_denominator("hebbian", 10)
    cfg = SSNNConfig(sizes=(4, 3, 2), steps=10).replace(mode="rate")
    object.__setattr__(cfg, "mode", "hebbian")
    counts = np.ones((1, 4)), np.ones((1, 3)), np.zeros((1, 3))
    with pytest.raises(ValueError, match="unknown update mode"):
        dyn.learning_numerator(cfg, 0, *counts, seed=0, first_sample=0)


@pytest.mark.parametrize("fixed", [True, False])
def test_stochastic_firing_fires_with_probability_v_over_theta_and_keeps_the_rate(fixed):
    """if_step with random numbers: P(spike) = min(1, v / theta) for v > 0, by hand
    at the boundary; and a constant drive gives the deterministic neuron's rate."""
    theta = 5 if fixed else 5.0
    vth = theta << 6 if fixed else theta      # fixed point compares v with theta << 6
    quarter = vth // 4 if fixed else vth / 4
    v = np.array([-3, 0, quarter, quarter, vth, vth + 1], dtype=np.int32 if fixed else np.float64)
    # rand * theta < v * 2^16 at v = theta / 4: fires for rand < 2^14
    rand = np.array([0, 0, 2 ** 14 - 1, 2 ** 14, 2 ** 16 - 1, 2 ** 16 - 1], dtype=np.uint32)
    zero = np.zeros_like(v)
    *_, s = dyn.if_step(zero, v, zero, 4095 if fixed else 1.0, theta, fixed=fixed, rand=rand)
    np.testing.assert_array_equal(s, [False, False, True, False, True, True])
    rng = np.random.default_rng(0)
    n, T = 2000, 400
    a = (rng.random(n) * (vth / 2 if not fixed else 2)).astype(np.int32 if fixed else np.float64)
    du = fxp.decay_register(0.2) if fixed else 0.2
    counts = {}
    for stochastic in (False, True):
        u, vv, c = np.zeros(n, a.dtype), np.zeros(n, np.int32 if fixed else np.float64), np.zeros(n)
        for t in range(T):
            r = dyn.replay_randoms(rng, (n,)) if stochastic else None
            u, vv, sp = dyn.if_step(u, vv, a, du, theta, fixed=fixed, rand=r)
            c += sp
        counts[stochastic] = c
    assert counts[True].sum() > 0.3 * n
    assert abs(counts[True].sum() / counts[False].sum() - 1) < 0.05
    assert np.corrcoef(counts[True], counts[False])[0, 1] > 0.95


def test_encode_input_draws_every_pixel_and_compares_the_lit_ones():
    """Dark pixels are skipped in the comparison only: the spikes are those of comparing
    one number per step and pixel with its probability, and the stream moves on alike."""
    pixels = np.random.default_rng(3).random(300) * (np.random.default_rng(4).random(300) < 0.3)
    rng, ref_rng = np.random.default_rng(5), np.random.default_rng(5)
    s = dyn.encode_input(pixels, 40, 0.4, rng)
    ref = ref_rng.random((40, 300), dtype=np.float32) < dyn.input_probabilities(pixels, 40, 0.4)
    assert s.dtype == bool and np.array_equal(s, ref) and s.any()
    assert rng.random() == ref_rng.random()
