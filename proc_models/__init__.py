"""ProcessModels of the SSNN-BP processes (``lava_ssnnbp.processes``).

One module per process family; each Process has a 'floating_pt' and a
'fixed_pt' model (the spike sources one model with both tags). Every model
calls the per-step functions of ``lava_ssnnbp.dynamics`` on its Vars.
Compile networks with ``lava_ssnnbp.run_config(fixed_point)``, which maps each
Process to its model here (see docs/lava.md, "Model binding").
"""

from lava_ssnnbp.processes._lava_runtime import import_lava_runtime

import_lava_runtime()
