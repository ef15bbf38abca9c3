"""SSNN-BP as Lava Processes (interfaces only: Vars and ports).

One sub-package per process family, laid out like Lava's own ``lava.proc``:

=========================  =====================================================
``composite_neuron``       :class:`CompositeNeuron` (hidden layer),
                           :class:`OutputCompositeNeuron` (output layer)
``winner_take_all``        :class:`WinnerTakeAll` (output lateral inhibition)
``coincidence_dense``      :class:`CoincidenceDense` (the plastic synapse, read
                           forward and transposed, learning by coincidences)
``spike_io``               :class:`SpikeInput` (pixel/event encoder),
                           :class:`TargetGenerator` (label spike trains),
                           :class:`SpikeRelay` (the input layer on the chip:
                           relay neurons that count and replay the inputs)
``learning_neuron``        :class:`LearningCompositeNeuron`,
                           :class:`LearningOutputCompositeNeuron` (the composite
                           neurons as Lava LearningNeuronProcesses: third factors
                           for Lava's LearningDense; fixed point)
``weight_mirror``          :class:`BackwardWeightSync` (the embedded core's copy
                           of W^T into the backward Dense)
=========================  =====================================================

The behaviour lives in ``lava_ssnnbp.proc_models`` (one 'floating_pt' and one
'fixed_pt' model per process). Compile with ``lava_ssnnbp.run_config(fixed_point)``;
see ``docs/lava.md`` for the model-binding rule.

Each family's ``models.py`` holds discovery shims. Lava 0.10 looks for models only in
the Process's own module and in the ``.py`` files of its folder, and keeps only classes
*defined* there (``cls.__module__`` must match), so a plain re-export is invisible to
it. Each shim is an empty subclass of the real model (inheriting ``@implements``/
``@requires``/``@tag`` and every LavaPyType) and behaves exactly like it.
``run_config()`` maps every Process to the real model directly; the shims only serve
users of a default ``Loihi2SimCfg(select_tag=...)``. Do not add logic to them.

The classes are re-exported here lazily, so importing this package does not
import Lava until a class is used.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "CompositeNeuron": "lava_ssnnbp.processes.composite_neuron.process",
    "OutputCompositeNeuron": "lava_ssnnbp.processes.composite_neuron.process",
    "WinnerTakeAll": "lava_ssnnbp.processes.winner_take_all.process",
    "CoincidenceDense": "lava_ssnnbp.processes.coincidence_dense.process",
    "SpikeInput": "lava_ssnnbp.processes.spike_io.process",
    "TargetGenerator": "lava_ssnnbp.processes.spike_io.process",
    "SpikeRelay": "lava_ssnnbp.processes.spike_io.process",
    "LearningCompositeNeuron": "lava_ssnnbp.processes.learning_neuron.process",
    "LearningOutputCompositeNeuron": "lava_ssnnbp.processes.learning_neuron.process",
    "BackwardWeightSync": "lava_ssnnbp.processes.weight_mirror.process",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
