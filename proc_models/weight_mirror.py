"""ProcessModel of BackwardWeightSync: at every sample's last step, in Lava's
post-management phase (after the learning phase has updated W), read W through
one RefPort and write W^T through the other -- the embedded core's copy -- and
wait until the write is in place."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp.proc_models._base import SampleModel
from lava_ssnnbp.processes.weight_mirror.process import BackwardWeightSync


@implements(proc=BackwardWeightSync, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "floating_pt")
class PyBackwardWeightSyncModel(SampleModel):
    """Copies W^T once per sample (9-bit signed mantissas in int32)."""
    forward: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32, precision=9)
    backward: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32, precision=9)
    syncs: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def run_spk(self):
        pass

    def post_guard(self):
        return self.is_last()

    def run_post_mgmt(self):
        w = self.forward.read()
        self.backward.write(np.ascontiguousarray(np.asarray(w).T))
        # a RefPort write is not acknowledged: without this read-back the Dense may start the next
        # step before it has served the write (then it drives a sample with the old W^T). Its
        # VarPort serves requests in order, so the read returns once the write is in place.
        self.backward.read()
        self.syncs[0] += 1
