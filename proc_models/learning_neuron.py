"""ProcessModels of LearningCompositeNeuron / LearningOutputCompositeNeuron
('fixed_pt' only): the composite-neuron models (``dynamics.hidden_step`` /
``output_step``) plus Lava's ``LearningNeuronModelFixed`` ports, on which they
send the third factors of ``learning_engine.third_factors``, the x spike as the
back-propagating spike and the graded gradient spike ``d_out``."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.neuron import LearningNeuronModelFixed
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp import learning_engine as le
from lava_ssnnbp.proc_models.composite_neuron import (_FixedTypes, _HiddenModel, _HiddenTypes, _OutputModel,
                                                      _OutputTypes)
from lava_ssnnbp.processes.learning_neuron.process import (LearningCompositeNeuron,
                                                           LearningOutputCompositeNeuron)


class _SendsThirdFactors:
    """Sends, with the spikes, what the learning engine and the backward copy need."""

    def send(self, x, dp, dn):
        super().send(x, dp, dn)
        learning = self.learning
        # 'replay' (R > 0): the synapses count the replay window's coincidences only
        count = learning and (self.in_replay() if self.R else True)
        m = int(self.eta_scale[0])
        y1, y2, y3 = le.third_factors(dp, dn, count, learning and self.is_last(), m)
        if self.chip:
            # the update step's y0 dependency: only where the window counted (the tags elsewhere are 0),
            # so the learning engine visits those synapses once per sample
            replay = self._replay if learning and self.is_last() else None
            self.s_out_bap.send(replay.fired if replay is not None else np.zeros(np.shape(x), bool))
        else:
            self.s_out_bap.send(x)
        self.s_out_y1.send(y1)
        self.s_out_y2.send(y2)
        self.s_out_y3.send(y3)
        if self.chip:   # the mirrored W^T learns from these (learning_engine, "The mirrored copy")
            self.d_out.send(le.mirror_payload(dp, dn, count))
            if hasattr(self, "s_out_my1"):
                my1, my2 = le.mirror_factors(x, count, m)
                self.s_out_my1.send(my1)
                self.s_out_my2.send(my2)
        else:
            self.d_out.send(le.graded_gradient(dp, dn))


class _LearningHiddenModel(_SendsThirdFactors, _HiddenModel):
    def receive(self):
        first = self.t == 0
        return le.dendrite_input(self.a_in.recv(), first), le.dendrite_input(self.b_in.recv(), first)


class _LearningOutputModel(_SendsThirdFactors, _OutputModel):
    def in_ports(self):
        return self.a_in, self.target_in, self.inh_in

    def receive(self):
        first = self.t == 0
        a = le.dendrite_input(self.a_in.recv(), first)
        inh = self.inh_in.recv()
        return (a if first else a + inh.astype(np.int32)), self.target_in.recv()


class _GradedOut:
    d_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=4)
    eta_scale: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=4)


@implements(proc=LearningCompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLearningCompositeNeuronModelFixed(LearningNeuronModelFixed, _GradedOut, _FixedTypes, _HiddenTypes,
                                          _LearningHiddenModel):
    """Hidden layer, Loihi-like integers (as ``PyCompositeNeuronModelFixed``),
    sending y1..y3 (7-bit), the bap and the graded ``d_out``."""
    FIXED = True
    b_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=16)
    s_out_my1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    s_out_my2: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)


@implements(proc=LearningOutputCompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLearningOutputCompositeNeuronModelFixed(LearningNeuronModelFixed, _GradedOut, _FixedTypes, _OutputTypes,
                                                _LearningOutputModel):
    """Output layer, Loihi-like integers, sending y1..y3, the bap and ``d_out``;
    ``inh_in`` takes the WTA Dense's inhibition."""
    FIXED = True
    err_gain: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    inh_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=16)
