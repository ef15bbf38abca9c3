"""The fixed-point forward neuron against Lava's bit-accurate LIF (the outside oracle)."""
import numpy as np
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import fixed_point as fxp
from lava_ssnnbp import lifecycle

pytestmark = pytest.mark.lava

N, STEPS = 12, 200


def run_lava_lif(a, du, dv, vth, bias_mant=0, bias_exp=0):
    """Run lava.proc.lif LIF (PyLifModelBitAcc) on integer input a (STEPS, N);
    returns u, v, spikes per step, each (STEPS, N)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.models import PyLifModelBitAcc
    from lava.proc.lif.process import LIF

    src = RingBuffer(data=a.T.astype(np.int32))           # last axis is time
    lif = LIF(shape=(a.shape[1],), du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp)
    src.s_out.connect(lif.a_in)
    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={LIF: PyLifModelBitAcc})
    u, v = [], []
    try:
        for _ in range(a.shape[0]):
            lif.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
            u.append(lif.u.get().astype(np.int64))
            v.append(lif.v.get().astype(np.int64))
    finally:
        lifecycle.stop_process(lif)     # lif.stop() with a time limit
    return np.array(u), np.array(v)


def run_ours(a, du, dv, vth, bias=0, overflow="wrap"):
    u = np.zeros(a.shape[1], dtype=np.int32)
    v = np.zeros(a.shape[1], dtype=np.int32)
    us, vs, ss = [], [], []
    for t in range(a.shape[0]):
        u, v, s = dyn.if_step(u, v, a[t], du, vth, reset="zero", fixed=True, overflow=overflow,
                              dv=dv, bias=bias)
        us.append(u.astype(np.int64)), vs.append(v.astype(np.int64)), ss.append(s)
    return np.array(us), np.array(vs), np.array(ss)


@pytest.mark.parametrize("du,dv,vth,bias_mant,bias_exp,amp", [
    (409, 0, 300, 0, 0, 200),        # SSNN-BP setting: no leak, tau ~ 10 steps
    (4095, 0, 50, 0, 0, 400),        # current forgets at once
    (100, 1000, 1000, 37, 3, 3000),  # leaky voltage and a bias
])
def test_if_step_matches_lava_bit_accurate_lif(du, dv, vth, bias_mant, bias_exp, amp):
    rng = np.random.default_rng(du + dv)
    a = rng.integers(-amp // 2, amp, size=(STEPS, N))
    u_l, v_l = run_lava_lif(a, du, dv, vth, bias_mant, bias_exp)
    u_o, v_o, s_o = run_ours(a, du, dv, vth, bias=bias_mant << bias_exp)
    np.testing.assert_array_equal(u_o, u_l)
    np.testing.assert_array_equal(v_o, v_l)
    # Lava's spikes: v is reset to 0 exactly where it crossed vth << 6
    assert s_o.sum() > 5, "the test input must make the neurons spike"
    assert np.all(v_l[s_o] == 0)


def test_spikes_match_lava_lif_output_port():
    """Spikes as Lava emits them on s_out (recorded through a RingBuffer sink)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.models import PyLifModelBitAcc
    from lava.proc.lif.process import LIF

    rng = np.random.default_rng(7)
    a = rng.integers(-100, 300, size=(STEPS, N))
    du, vth = 409, 300
    src = RingBuffer(data=a.T.astype(np.int32))
    lif = LIF(shape=(N,), du=du, dv=0, vth=vth)
    sink = Sink(shape=(N,), buffer=STEPS)
    src.s_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={LIF: PyLifModelBitAcc})
    try:
        lif.run(condition=RunSteps(num_steps=STEPS), run_cfg=cfg)
        s_l = sink.data.get().T.astype(bool)
    finally:
        lifecycle.stop_process(lif)     # lif.stop() with a time limit
    _, _, s_o = run_ours(a, du, 0, vth)
    assert s_o.sum() > 20
    np.testing.assert_array_equal(s_o, s_l)


def test_saturating_current_is_the_one_deliberate_difference():
    """Default overflow='saturate' clips u at +-(2^23 - 1); Lava's LIF wraps it.
    Large constant input drives u past 2^23 within a few steps."""
    a = np.full((40, 2), 32000)                # << 6 = 2,048,000 per step
    du, vth = 100, 131071
    u_l, v_l = run_lava_lif(a, du, 0, vth)
    u_wrap, _, _ = run_ours(a, du, 0, vth, overflow="wrap")
    u_sat, _, _ = run_ours(a, du, 0, vth, overflow="saturate")
    np.testing.assert_array_equal(u_wrap, u_l)           # 'wrap' is Lava's rule
    assert u_l.min() < 0, "Lava's current wraps to negative values"
    assert u_sat.min() > 0 and u_sat.max() == fxp.UV_MAX  # ours saturates
    first = np.argmax(u_l[:, 0] < 0)
    np.testing.assert_array_equal(u_sat[:first], u_l[:first])  # identical until the overflow
