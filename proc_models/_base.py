"""Sample clock and host I/O shared by all SSNN-BP ProcessModels."""
from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.model import PyLoihiProcessModel

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.processes._host_io import CTRL_LEARN, CTRL_LEN, CTRL_RECORD, CTRL_SAMPLE_ID


def has_pipe(port) -> bool:
    """True when ``port`` is connected (to a process or an external pipe)."""
    return len(port.csp_ports) > 0


class SampleModel(PyLoihiProcessModel):
    """A LoihiProtocol model on the sample clock: sample g occupies the P time
    steps g*P+1 .. (g+1)*P, where P = T + R + U: the T steps of the pass, in
    'replay' mode (proc param ``replay_steps`` R > 0) the replay window after
    it, and in the chip configuration (proc param ``update_steps`` U = 1) one
    step in which the learning engine applies the update and every neuron is
    silent. Subclasses call :meth:`begin_sample` at the first step (``t == 0``),
    test :meth:`in_replay` for the window and :meth:`is_last` for the last step.

    Models that take per-sample control declare the Vars ``sample_id`` and
    (optionally) ``learn`` / ``record`` and the port ``ctrl_in``, and call
    :meth:`begin_sample`; the WTA uses only the clock.
    """

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.T = int(proc_params["steps"])
        self.R = int(proc_params.get("replay_steps", 0) or 0)
        self.U = int(proc_params.get("update_steps", 0) or 0)
        self.period = self.T + self.R + self.U
        self._started = False
        self.payload = None     # control-message payload of the current sample

    # -- clock
    @property
    def t(self) -> int:
        """Step within the current sample, 0 .. P-1 (T .. P-1: the replay window)."""
        return (self.time_step - 1) % self.period

    @property
    def sample_index(self) -> int:
        """Number of samples this model has started before the current one."""
        return (self.time_step - 1) // self.period

    def in_replay(self) -> bool:
        return self.T <= self.t < self.T + self.R

    def after_pass(self) -> bool:
        """In the replay window or the update step: the forward pass is over."""
        return self.t >= self.T

    def is_last(self) -> bool:
        return self.t == self.period - 1

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


class Replay:
    """A neuron layer's replay window for one sample ('replay' mode): at its first
    step the layer sets the plan from its spike counts of the pass
    (``dynamics.replay_plan``: the neurons with a non-zero count and their 16-bit
    probability registers) and opens its random stream; each window step draws
    the step's random numbers and fires (``dynamics.replay_fire``) -- the numbers
    ``Engine`` draws for the window at once. In the chip configuration (``chip``)
    each train of each neuron draws from its own generator instead
    (``dynamics.neuron_random16`` at counter ``sample_index * window + step``,
    as ``dynamics.replay_draws_loihi2``)."""

    def __init__(self, seed: int, sample_index: int, layer: int, steps: int, counts: dict,
                 chip: bool = False, window: int = 0):
        self.plan = dyn.replay_plan(counts, steps)
        self.chip, self.k = chip, 0
        self.fired = np.zeros(self.plan.n, dtype=bool)   # which neurons fired any train in the window
        if chip:
            self.keys = np.concatenate([dyn.neuron_keys(seed, layer, name, self.plan.n)[units]
                                        for name, units in zip(self.plan.trains, self.plan.units)])
            self.counter0 = int(sample_index) * int(window)
        else:
            self.rng = dyn.replay_rng(seed, sample_index, layer)

    def step(self) -> dict:
        if self.chip:
            randoms = dyn.neuron_random16(self.keys, self.counter0 + self.k)
        else:
            randoms = dyn.replay_randoms(self.rng, (self.plan.draws,))
        self.k += 1
        out = dyn.replay_fire(self.plan, randoms)
        for spikes in out.values():
            self.fired |= spikes
        return out
