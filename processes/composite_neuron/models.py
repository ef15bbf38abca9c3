"""Discovery shims of ``lava_ssnnbp.proc_models.composite_neuron`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import composite_neuron as _models


class PyCompositeNeuronModelFloat(_models.PyCompositeNeuronModelFloat):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.composite_neuron.PyCompositeNeuronModelFloat`."""


class PyCompositeNeuronModelFixed(_models.PyCompositeNeuronModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.composite_neuron.PyCompositeNeuronModelFixed`."""


class PyOutputCompositeNeuronModelFloat(_models.PyOutputCompositeNeuronModelFloat):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.composite_neuron.PyOutputCompositeNeuronModelFloat`."""


class PyOutputCompositeNeuronModelFixed(_models.PyOutputCompositeNeuronModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.composite_neuron.PyOutputCompositeNeuronModelFixed`."""
