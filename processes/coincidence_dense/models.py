"""Discovery shims of ``lava_ssnnbp.proc_models.coincidence_dense`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import coincidence_dense as _models


class PyCoincidenceDenseModelFloat(_models.PyCoincidenceDenseModelFloat):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.coincidence_dense.PyCoincidenceDenseModelFloat`."""


class PyCoincidenceDenseModelFixed(_models.PyCoincidenceDenseModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.coincidence_dense.PyCoincidenceDenseModelFixed`."""
