"""Discovery shims of ``lava_ssnnbp.proc_models.spike_io`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import spike_io as _models


class PySpikeInputModel(_models.PySpikeInputModel):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.spike_io.PySpikeInputModel`."""


class PyTargetGeneratorModel(_models.PyTargetGeneratorModel):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.spike_io.PyTargetGeneratorModel`."""


class PySpikeRelayModel(_models.PySpikeRelayModel):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.spike_io.PySpikeRelayModel`."""
