"""ProcessModels of CompositeNeuron and OutputCompositeNeuron.

Each step: receive the synaptic inputs, call ``dynamics.hidden_step`` /
``dynamics.output_step`` on the Vars, send x, d+, d-. At the first step of a
sample the state is zeroed (and, when learning, the dropout mask drawn); at
the last step the sample's spike record / output counts go to the host pipes.
In 'replay' mode the pass is followed by the replay window (``_base.Replay``):
inputs are read and ignored, and a learning sample's counts are replayed.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.proc_models._base import Replay, SampleModel, has_pipe, scalar
from lava_ssnnbp.processes.composite_neuron.process import CompositeNeuron, OutputCompositeNeuron

_STATE = ("x_u", "x_v", "dp_u", "dp_v", "dn_u", "dn_v")
_COUNTS = ("x_count", "dp_count", "dn_count")


class _CompositeModel(SampleModel):
    """Shared logic; subclasses fix the precision (``FIXED``) and Var types."""
    FIXED = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.reset_mode = proc_params["reset"]
        self.chip = bool(proc_params.get("chip"))    # the chip configuration (target = "loihi2")
        self.overflow = proc_params["overflow"]
        self._keep = None     # this sample's dropout keep-mask (hidden layers, learning only)
        self._replay = None   # this sample's replay trains ('replay' mode, learning only)
        self._firing = None   # this sample's stochastic-firing stream (learning only)
        fp = proc_params.get("fixed_point")
        if fp is not None and bool(fp) != self.FIXED:
            raise ValueError(
                f"{type(self).__name__} cannot run a layer built for fixed_point={bool(fp)}; "
                f"compile with lava_ssnnbp.run_config(fixed_point={bool(fp)})")

    def firing_randoms(self):
        """This step's stochastic-firing numbers (3, N) while learning with
        ``stochastic_firing``, else None (the stream opens at the sample's first step)."""
        if not (self.learning and self.proc_params.get("stochastic_firing")):
            return None
        if self.t == 0:
            self._firing = dyn.sample_rng(int(self.seed[0]), self.sid,
                                          dyn.STREAM_FIRING + int(self.proc_params["layer"]))
        return dyn.replay_randoms(self._firing, (3,) + self.x_u.shape)

    def params(self) -> dyn.NeuronParams:
        f = self.FIXED
        vth = self.vth if self.learning else self.vth_test
        gain = scalar(self.err_gain, f) if hasattr(self, "err_gain") else 1
        return dyn.NeuronParams(f, scalar(self.du, f), scalar(vth, f), scalar(self.vth_grad, f),
                                self.reset_mode, gain, self.overflow)

    def state(self) -> dyn.CompositeState:
        return dyn.CompositeState(*(getattr(self, n) for n in _STATE), self.gate)

    def store(self, st: dyn.CompositeState, x, dp, dn):
        for n, arr in zip(_STATE, st[:6]):
            getattr(self, n)[:] = arr
        self.gate[:] = st.gate
        t = self.t
        self.spikes[0, t], self.spikes[1, t], self.spikes[2, t] = x, dp, dn
        if self.R:            # the counts the replay window fires from
            self.x_count += x
            self.dp_count += dp
            self.dn_count += dn
        self.send(x, dp, dn)

    def send(self, x, dp, dn):
        self.s_out.send(x)
        self.dp_out.send(dp)
        self.dn_out.send(dn)

    def reset_state(self):
        for n in _STATE + _COUNTS:
            getattr(self, n)[:] = 0
        self.gate[:] = False
        self.spikes[:] = False
        self._replay = None

    def replay_step(self, trains):
        """One step of the replay window: the inputs are read and ignored (the
        forward drive is off); a learning sample's ``trains`` (of 'x', 'dp',
        'dn') fire from this layer's counts, the others stay silent."""
        for port in self.in_ports():
            port.recv()
        firing = self.learning and self.in_replay()     # silent in the chip configuration's update step
        if firing and self._replay is None:
            counts = {"x": self.x_count, "dp": self.dp_count, "dn": self.dn_count}
            self._replay = Replay(int(self.seed[0]), self.sid, int(self.proc_params["layer"]), self.T,
                                  {name: counts[name] for name in trains}, chip=self.chip, window=self.R)
        silent = np.zeros(self.x_u.shape, dtype=bool)
        out = self._replay.step() if firing else {}
        self.send(out.get("x", silent), out.get("dp", silent), out.get("dn", silent))
        if self.is_last():
            self.end_sample()

    def end_sample(self):
        if self.recording and has_pipe(self.rec_out):
            self.rec_out.send(self.spikes)


class _HiddenModel(_CompositeModel):
    def in_ports(self):
        return self.a_in, self.b_in

    def receive(self):
        """This step's forward and backward synaptic input."""
        return self.a_in.recv(), self.b_in.recv()

    def run_spk(self):
        if self.after_pass():
            return self.replay_step(("x", "dp", "dn"))
        if self.t == 0:
            self.begin_sample()
            self.reset_state()
            p = float(self.drop[0])
            if self.learning and p > 0:
                self.keep[:] = dyn.sample_keep_mask(int(self.seed[0]), self.sid, int(self.proc_params["layer"]),
                                                    self.keep.shape[0], p, self.chip)
                self._keep = self.keep
            else:
                self.keep[:] = True
                self._keep = None
        a, b = self.receive()
        st, x, dp, dn = dyn.hidden_step(self.state(), a, b, self.params(), self._keep, self.firing_randoms())
        self.store(st, x, dp, dn)
        if self.is_last():
            self.end_sample()


class _OutputModel(_CompositeModel):
    def in_ports(self):
        return self.a_in, self.target_in

    def receive(self):
        """This step's synaptic input (forward drive plus WTA) and target spikes."""
        return self.a_in.recv(), self.target_in.recv()

    def run_spk(self):
        if self.after_pass():
            return self.replay_step(("dp", "dn"))
        if self.t == 0:
            self.begin_sample()
            self.reset_state()
            self.counts[:] = 0
        a, target = self.receive()
        st, x, dp, dn = dyn.output_step(self.state(), a, target, self.params(), self.firing_randoms())
        self.store(st, x, dp, dn)
        self.counts += x
        if self.t == self.T - 1 and has_pipe(self.counts_out):
            self.counts_out.send(self.counts)
        if self.is_last():
            self.end_sample()


# ---------------------------------------------------------------- Var / port types
class _FloatTypes:
    x_u: np.ndarray = LavaPyType(np.ndarray, float)
    x_v: np.ndarray = LavaPyType(np.ndarray, float)
    dp_u: np.ndarray = LavaPyType(np.ndarray, float)
    dp_v: np.ndarray = LavaPyType(np.ndarray, float)
    dn_u: np.ndarray = LavaPyType(np.ndarray, float)
    dn_v: np.ndarray = LavaPyType(np.ndarray, float)
    du: np.ndarray = LavaPyType(np.ndarray, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    vth_test: np.ndarray = LavaPyType(np.ndarray, float)
    vth_grad: np.ndarray = LavaPyType(np.ndarray, float)
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


class _FixedTypes:
    x_u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    x_v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    dp_u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    dp_v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    dn_u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    dn_v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    du: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=12)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    vth_test: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    vth_grad: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    # 16-bit synaptic input per connection; int32 container because the output
    # layer's a_in is the sum of the synapse and the WTA inputs
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=16)


class _CommonTypes:
    gate: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)
    x_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    dp_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    dn_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    seed: np.ndarray = LavaPyType(np.ndarray, np.int64)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    record: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sample_id: np.ndarray = LavaPyType(np.ndarray, np.int64)
    spikes: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    dp_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    dn_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    ctrl_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    rec_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)


class _HiddenTypes(_CommonTypes):
    drop: np.ndarray = LavaPyType(np.ndarray, float)
    keep: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)


class _OutputTypes(_CommonTypes):
    counts: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    target_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    counts_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)


# ---------------------------------------------------------------- models
@implements(proc=CompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyCompositeNeuronModelFloat(_FloatTypes, _HiddenTypes, _HiddenModel):
    """Hidden composite-neuron layer in float64 (SPEC equations literally)."""
    FIXED = False
    b_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=CompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyCompositeNeuronModelFixed(_FixedTypes, _HiddenTypes, _HiddenModel):
    """Hidden composite-neuron layer, Loihi-like integers (u, v 24-bit; du 12-bit;
    thresholds 17-bit mantissas << 6; synaptic input 16-bit)."""
    FIXED = True
    b_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=16)


@implements(proc=OutputCompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyOutputCompositeNeuronModelFloat(_FloatTypes, _OutputTypes, _OutputModel):
    """Output composite-neuron layer in float64."""
    FIXED = False
    err_gain: np.ndarray = LavaPyType(np.ndarray, float)


@implements(proc=OutputCompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyOutputCompositeNeuronModelFixed(_FixedTypes, _OutputTypes, _OutputModel):
    """Output composite-neuron layer, Loihi-like integers; ``err_gain`` is a
    weight mantissa (64 = weight 1.0)."""
    FIXED = True
    err_gain: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
