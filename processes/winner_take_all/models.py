"""Discovery shims of ``lava_ssnnbp.proc_models.winner_take_all`` for a default Lava RunConfig.

Why they exist and why they must stay empty: ``lava_ssnnbp.processes`` (package docstring).
"""
from lava_ssnnbp.proc_models import winner_take_all as _models


class PyWinnerTakeAllModelFloat(_models.PyWinnerTakeAllModelFloat):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.winner_take_all.PyWinnerTakeAllModelFloat`."""


class PyWinnerTakeAllModelFixed(_models.PyWinnerTakeAllModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.winner_take_all.PyWinnerTakeAllModelFixed`."""
