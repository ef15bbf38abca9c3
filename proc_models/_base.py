"""Sample clock and host I/O shared by all SSNN-BP ProcessModels."""
from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.model import PyLoihiProcessModel

from lava_ssnnbp.processes._host_io import CTRL_LEARN, CTRL_LEN, CTRL_RECORD, CTRL_SAMPLE_ID


def has_pipe(port) -> bool:
    """True when ``port`` is connected (to a process or an external pipe)."""
    return len(port.csp_ports) > 0


class SampleModel(PyLoihiProcessModel):
    """A LoihiProtocol model on the sample clock: sample g occupies the time
    steps g*T+1 .. (g+1)*T. Subclasses call :meth:`begin_sample` at the first
    step (``t == 0``) and test :meth:`is_last` for the last.

    Models that take per-sample control declare the Vars ``sample_id`` and
    (optionally) ``learn`` / ``record`` and the port ``ctrl_in``, and call
    :meth:`begin_sample`; the WTA uses only the clock.
    """

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.T = int(proc_params["steps"])
        self._started = False
        self.payload = None     # control-message payload of the current sample

    # -- clock
    @property
    def t(self) -> int:
        """Step within the current sample, 0 .. T-1."""
        return (self.time_step - 1) % self.T

    @property
    def sample_index(self) -> int:
        """Number of samples this model has started before the current one."""
        return (self.time_step - 1) // self.T

    def is_last(self) -> bool:
        return self.t == self.T - 1

    # -- per-sample control
    def begin_sample(self):
        """Read this sample's control message (host I/O) or advance ``sample_id``."""
        if has_pipe(self.ctrl_in):
            msg = self.ctrl_in.recv()
            self.sample_id[0] = int(msg[CTRL_SAMPLE_ID])
            if hasattr(self, "learn"):
                self.learn[0] = int(msg[CTRL_LEARN])
            if hasattr(self, "record"):
                self.record[0] = int(msg[CTRL_RECORD])
            self.payload = msg[CTRL_LEN:]
        elif self._started:
            self.sample_id[0] += 1
        self._started = True

    @property
    def learning(self) -> bool:
        return bool(self.learn[0])

    @property
    def recording(self) -> bool:
        return bool(self.record[0])

    @property
    def sid(self) -> int:
        return int(self.sample_id[0])


def scalar(x, fixed: bool):
    """A one-element Var as a Python int (fixed point) or float."""
    v = np.asarray(x).reshape(-1)[0]
    return int(v) if fixed else float(v)
