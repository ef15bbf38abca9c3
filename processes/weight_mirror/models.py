"""Discovery shims of ``lava_ssnnbp.proc_models.weight_mirror`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import weight_mirror as _models


class PyBackwardWeightSyncModel(_models.PyBackwardWeightSyncModel):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.weight_mirror.PyBackwardWeightSyncModel`."""
