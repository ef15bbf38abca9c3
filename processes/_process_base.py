"""The base of every process in this package."""
from __future__ import annotations

from lava.magma.core.process.process import AbstractProcess


class CheckedProcess(AbstractProcess):
    """An ``AbstractProcess`` that may reject its arguments before
    ``AbstractProcess.__init__`` runs.

    Our processes check their arguments first, so a bad one raises before Lava
    sets ``_runtime``; Lava's ``__del__`` (which stops the runtime) would then
    read the missing attribute and Python would print an ignored
    AttributeError. Without a runtime there is nothing to stop.
    """

    def __del__(self):
        if "_runtime" in self.__dict__:
            super().__del__()
