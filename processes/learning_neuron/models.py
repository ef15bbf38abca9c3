"""Discovery shims of ``lava_ssnnbp.proc_models.learning_neuron`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import learning_neuron as _models


class PyLearningCompositeNeuronModelFixed(_models.PyLearningCompositeNeuronModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.learning_neuron.PyLearningCompositeNeuronModelFixed`."""


class PyLearningOutputCompositeNeuronModelFixed(_models.PyLearningOutputCompositeNeuronModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.learning_neuron.PyLearningOutputCompositeNeuronModelFixed`."""
