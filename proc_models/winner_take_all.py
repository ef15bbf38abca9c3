"""ProcessModels of WinnerTakeAll: ``dynamics.wta_drive``, buffered one step like Dense."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.proc_models._base import SampleModel
from lava_ssnnbp.processes.winner_take_all.process import WinnerTakeAll


class _WTAModel(SampleModel):
    FIXED = False

    def run_spk(self):
        if self.t == 0:
            self.a_buf[:] = 0          # no inhibition carried over from the last sample
        self.a_out.send(self.a_buf)
        x = self.s_in.recv()
        self.a_buf[:] = dyn.wta_drive(x, float(self.w_inh[0]), self.FIXED)


@implements(proc=WinnerTakeAll, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyWinnerTakeAllModelFloat(_WTAModel):
    """Float64 lateral inhibition."""
    FIXED = False
    w_inh: np.ndarray = LavaPyType(np.ndarray, float)
    a_buf: np.ndarray = LavaPyType(np.ndarray, float)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)


@implements(proc=WinnerTakeAll, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyWinnerTakeAllModelFixed(_WTAModel):
    """Integer lateral inhibition: weight mantissa round(w_inh * 64) per spike."""
    FIXED = True
    w_inh: np.ndarray = LavaPyType(np.ndarray, float)
    a_buf: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
