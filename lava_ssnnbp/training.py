"""Compatibility: the names of :mod:`lava_ssnnbp.runs` where they were before it was
split by concern (``from lava_ssnnbp.training import Run, RunSettings, ...`` keeps
working). New code imports from :mod:`lava_ssnnbp.runs`."""
from .runs import *  # noqa: F401,F403
from .runs import __all__  # noqa: F401
