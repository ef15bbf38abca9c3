"""Winner-take-all lateral inhibition among the output neurons (SPEC Eq. 2)."""
from __future__ import annotations

import typing as ty

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp.processes._process_base import CheckedProcess


class WinnerTakeAll(CheckedProcess):
    """Lateral inhibition: every output neuron receives ``-w_inh`` per spike of
    every *other* output neuron (zero diagonal).

    ``s_in`` takes the output layer's spikes; ``a_out`` goes into the output
    layer's ``a_in`` (Lava adds it to the forward synapse's input). Like
    Lava's Dense, the drive computed from step t's spikes is sent at step t+1
    (``a_buf``); the buffer is cleared at the first step of every sample.

    Units: ``w_inh`` in weight units (float). The 'fixed_pt' model quantises
    it to a weight mantissa ``round(w_inh * 64)`` and emits integer synaptic
    input (16-bit range); the 'floating_pt' model emits float64.
    The model calls ``lava_ssnnbp.dynamics.wta_drive``; compile with
    ``lava_ssnnbp.run_config(fixed_point)``.
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, w_inh: float, replay_steps: int = 0,
                 name: ty.Optional[str] = None):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 1 or shape[0] < 1:
            raise ValueError(f"shape must be (C,) with C >= 1, got {shape}")
        if int(steps) < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if not w_inh >= 0:
            raise ValueError(f"w_inh must be >= 0, got {w_inh}")
        super().__init__(shape=shape, steps=int(steps), replay_steps=int(replay_steps), name=name)
        self.w_inh = Var(shape=(1,), init=float(w_inh))
        self.a_buf = Var(shape=shape, init=0)
        self.s_in = InPort(shape=shape)
        self.a_out = OutPort(shape=shape)


__all__ = ["WinnerTakeAll"]
