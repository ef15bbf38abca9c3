"""ProcessModel of Lava's ``LearningDense`` for networks that start mid-run.

Lava's bit-approximate learning engine rounds every update with one random
number per learning epoch (time step) from ``ConnVarRandom`` (seed 2), a stream
that restarts whenever a network is built. A chip keeps one stream for the whole
run, and ``Engine(learning_engine='lava')`` numbers its draws by the run's time
step; so a network built to continue a run after ``first_sample`` samples (the
next epoch of ``ssnnbp train --backend lava``, or a resumed run) must continue
the stream, not restart it. This model is Lava's own
``PyLearningDenseModelBitApproximate`` with one addition: it skips the
``rounding_draws_before`` draws (a ``LearningDense`` keyword, default 0: then it
is Lava's model exactly) before its first learning epoch.
"""
from __future__ import annotations

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.dense.models import PyLearningDenseModelBitApproximate
from lava.proc.dense.process import LearningDense


@implements(proc=LearningDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_approximate_loihi", "fixed_pt")
class PyLearningDenseModelContinued(PyLearningDenseModelBitApproximate):
    """Lava's bit-approximate LearningDense whose rounding stream starts at draw
    ``rounding_draws_before`` (the Lava time steps the run had before this network)."""

    def _init_randoms(self) -> None:
        super()._init_randoms()
        skip = int(self.proc_params.get("rounding_draws_before", 0))
        if skip:
            stream = self._conn_var_random
            stream._rng.random(skip - 1)      # draw 0 was made at start-up; draws 1 .. skip - 1 are passed
            stream.advance()                  # the current number is now draw `skip`, as after `skip` epochs
