"""The embedded core's re-synchronisation of a backward synapse copy.

A neurocore reads its synapses only from pre to post, so the backward path
W^T (d+ - d-) is a second array, a Lava ``Dense`` holding W^T with the lower
layer as post. It cannot follow W by a learning rule of its own in Lava 0.10:
its synapse (j, i) would need the sign of the presynaptic gradient spike
d+_i - d-_i, and ``LearningDense`` drops a graded payload's sign before the
learning engine sees it (``LearningConnectionModelBitApproximate._process_pre_spikes``, connection.py
line 722 in lava-nc 0.10.0: ``np.round(activations / 2).astype(np.uint8)``), while two binary copies (one
per sign) each see only their own half of the update. So, as the embedded
(Lakemont) cores of Loihi 2 would, this process copies W^T into the backward
array after every sample, in Lava's post-management phase, through RefPorts,
and reads the copy back before it lets the next step start: Lava acknowledges
no RefPort write, and the receiving model learns of it through a watcher thread,
so without the read-back the next spiking phase could run with the old W^T.
"""
from __future__ import annotations

import typing as ty

from lava.magma.core.process.ports.ports import RefPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp.processes._process_base import CheckedProcess


class BackwardWeightSync(CheckedProcess):
    """Writes W^T into the backward copy at the last step of every sample.

    ``shape`` = (N_post, N_pre) of the forward ``LearningDense`` W; ``forward``
    (RefPort, that shape) connects to its ``weights``, ``backward`` (RefPort,
    (N_pre, N_post)) to the backward ``Dense``'s ``weights``. ``steps`` and
    ``replay_steps`` set the sample clock (T + R steps per sample). ``syncs``
    counts the copies made; both arrays hold signed 9-bit weight mantissas.
    """

    def __init__(self, *, shape: ty.Tuple[int, int], steps: int, replay_steps: int = 0,
                 name: ty.Optional[str] = None):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f"shape must be (N_post, N_pre), got {shape}")
        super().__init__(shape=shape, steps=int(steps), replay_steps=int(replay_steps), name=name)
        self.forward = RefPort(shape=shape)
        self.backward = RefPort(shape=shape[::-1])
        self.syncs = Var(shape=(1,), init=0)


__all__ = ["BackwardWeightSync"]
