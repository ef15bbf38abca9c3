"""Composite-neuron layers as Lava ``LearningNeuronProcess``es: the neurons of
the learning-engine network (``lava_ssnnbp.learning_network``), whose plastic
synapses are Lava's own ``LearningDense``.

Everything of :class:`~lava_ssnnbp.processes.composite_neuron.process.CompositeNeuron`
/ ``OutputCompositeNeuron`` (state, widths, per-sample control, 'replay' window),
plus what a Loihi 2 neuron program sends to the learning engine of its input
synapses and to the backward copy of the synapse below:

=====================  ======================================================
``s_out_y1``           d+(t) as an unsigned 7-bit third factor (0 / 1) in the
                       steps where the synapses count coincidences (the pass
                       in 'coincidence' mode, the replay window in 'replay'
                       mode) of a learning sample, else 0
``s_out_y2``           d-(t), likewise
``s_out_y3``           ``learning_engine.SAMPLE_END_Y3`` (32) at the last step
                       of a learning sample (the learning epoch), else 0
``s_out_bap``          x(t), the back-propagating spike (1 bit; the rule of
                       ``lava_config.loihi_learning_rule`` does not use it)
``d_out``              graded spike d+ - d- (-1, 0, +1; int32 container) for
                       the backward ``Dense`` holding W^T
``inh_in`` (output)    the WTA ``Dense``'s inhibition (16-bit), added to the
                       saturated forward input
``s_out_my1``,         hidden layers, chip configuration only: the third
``s_out_my2``          factors of the backward copy W^T of the synapse layer
                       above (``learning_engine.mirror_factors``: 8 m x and
                       m x in the replay window, unsigned 7-bit)
``eta_scale``          the magnitude m (1, 2, 4 or 8; 4 bits) of the counting
                       factors: the learning-rate level the host writes
                       between epochs (``learning_engine.level_magnitude``)
=====================  ======================================================

In the chip configuration (``target = "loihi2"``) ``d_out`` carries, in the
replay window, the payload of the mirrored rule instead of d+ - d-
(``learning_engine.mirror_payload``): the backward copy learns with the rule
of ``lava_config.loihi2_learning_rule(cfg, k, mirrored=True)`` and stays the
exact transpose of W without being copied.

The neuron takes ``a_in`` / ``b_in`` saturated to 16 bits and ignores them at a
sample's first step (``learning_engine.dendrite_input``): Lava's connections
neither clip nor clear their buffers between samples. The ``learning_rule``
(a ``Loihi3FLearningRule``) is the one of the synapses the neuron feeds.
Fixed point only (``fixed_pt`` models in ``lava_ssnnbp.proc_models.learning_neuron``).
"""
from __future__ import annotations

from lava.magma.core.learning.learning_rule import Loihi3FLearningRule
from lava.magma.core.process.neuron import LearningNeuronProcess
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp.config import LOIHI2_MAX_ETA_LEVELS
from lava_ssnnbp.processes.composite_neuron.process import CompositeNeuron, OutputCompositeNeuron


def _check_scale(m) -> int:
    allowed = [1 << j for j in range(LOIHI2_MAX_ETA_LEVELS)]      # the levels' magnitudes: 1, 2, 4, 8
    if int(m) not in allowed:
        raise ValueError(f"eta_scale must be one of {allowed} (the learning-rate levels), got {m}")
    return int(m)


def _check_rule(rule):
    if not isinstance(rule, Loihi3FLearningRule):
        raise ValueError(f"learning_rule must be a Loihi3FLearningRule (lava_config.loihi_learning_rule), "
                         f"got {type(rule).__name__}")


class LearningCompositeNeuron(LearningNeuronProcess, CompositeNeuron):
    """A hidden composite-neuron layer that supplies the third factors y1..y3 of
    its input synapses' ``Loihi3FLearningRule`` and the graded gradient spike
    ``d_out`` (see the module docstring)."""

    def __init__(self, *, shape, learning_rule, eta_scale: int = 1, **kwargs):
        _check_rule(learning_rule)
        super().__init__(shape=shape, learning_rule=learning_rule, **kwargs)
        self.d_out = OutPort(shape=self.x_u.shape)
        self.s_out_my1 = OutPort(shape=self.x_u.shape)
        self.s_out_my2 = OutPort(shape=self.x_u.shape)
        self.eta_scale = Var(shape=(1,), init=_check_scale(eta_scale))


class LearningOutputCompositeNeuron(LearningNeuronProcess, OutputCompositeNeuron):
    """The output layer as a ``LearningNeuronProcess``: third factors for the top
    synapses, ``d_out`` for the backward copy, and ``inh_in`` for the WTA Dense."""

    def __init__(self, *, shape, learning_rule, eta_scale: int = 1, **kwargs):
        _check_rule(learning_rule)
        super().__init__(shape=shape, learning_rule=learning_rule, **kwargs)
        self.d_out = OutPort(shape=self.x_u.shape)
        self.inh_in = InPort(shape=self.x_u.shape)
        self.eta_scale = Var(shape=(1,), init=_check_scale(eta_scale))


__all__ = ["LearningCompositeNeuron", "LearningOutputCompositeNeuron"]
