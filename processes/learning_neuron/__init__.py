"""See process.py (interfaces) and models.py (discovery shims for the models in lava_ssnnbp.proc_models)."""

from lava_ssnnbp.processes._lava_runtime import import_lava_runtime

import_lava_runtime()   # before process.py imports Lava (see _lava_runtime)
