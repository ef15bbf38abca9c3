"""Discovery shims: lets a default Lava RunConfig find this family's models.

The real ProcessModels live in ``lava_ssnnbp.proc_models.coincidence_dense``. Lava 0.10 looks
for models only in the Process's own module and in the ``.py`` files of its
folder, and keeps only classes *defined* there (``cls.__module__`` must match),
so a plain re-export is invisible to it. Each class below is an empty subclass
(inheriting ``@implements``/``@requires``/``@tag`` and every LavaPyType) and
behaves exactly like its base. ``lava_ssnnbp.run_config()`` maps every Process
to the base class directly; these shims only serve users of a default
``Loihi2SimCfg(select_tag=...)``. Do not add logic here.
"""
from lava_ssnnbp.proc_models import coincidence_dense as _models


class PyCoincidenceDenseModelFloat(_models.PyCoincidenceDenseModelFloat):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.coincidence_dense.PyCoincidenceDenseModelFloat`."""


class PyCoincidenceDenseModelFixed(_models.PyCoincidenceDenseModelFixed):
    """Discovery shim of :class:`lava_ssnnbp.proc_models.coincidence_dense.PyCoincidenceDenseModelFixed`."""
