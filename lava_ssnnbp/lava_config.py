"""Run configuration that binds every SSNN-BP Process to its ProcessModel.

Lava 0.10 finds ProcessModels only in the Process's own module and the
``.py`` files of its folder (``ProcGroupDiGraphs._find_proc_models``), keeping
classes whose ``__module__`` is that file. Our models live in
``lava_ssnnbp.proc_models``, so :func:`run_config` names them explicitly in
``exception_proc_model_map`` (the map is consulted after discovery, which the
shims in ``processes/<family>/models.py`` satisfy). Always compile SSNN-BP
networks with it::

    from lava_ssnnbp import run_config
    proc.run(condition=RunSteps(T), run_cfg=run_config(fixed_point=True))

Importing this module imports Lava.
"""
from __future__ import annotations

import typing as ty

from lava_ssnnbp.processes._lava_runtime import import_lava_runtime

import_lava_runtime()
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402


def model_map(fixed_point: bool) -> dict:
    """{Process class: ProcessModel class} of every SSNN-BP process for one precision."""
    from lava_ssnnbp.proc_models import coincidence_dense as cd
    from lava_ssnnbp.proc_models import composite_neuron as cn
    from lava_ssnnbp.proc_models import spike_io as io
    from lava_ssnnbp.proc_models import winner_take_all as wta
    from lava_ssnnbp.processes.coincidence_dense.process import CoincidenceDense
    from lava_ssnnbp.processes.composite_neuron.process import CompositeNeuron, OutputCompositeNeuron
    from lava_ssnnbp.processes.spike_io.process import SpikeInput, TargetGenerator
    from lava_ssnnbp.processes.winner_take_all.process import WinnerTakeAll

    if fixed_point:
        return {
            CompositeNeuron: cn.PyCompositeNeuronModelFixed,
            OutputCompositeNeuron: cn.PyOutputCompositeNeuronModelFixed,
            WinnerTakeAll: wta.PyWinnerTakeAllModelFixed,
            CoincidenceDense: cd.PyCoincidenceDenseModelFixed,
            SpikeInput: io.PySpikeInputModel,
            TargetGenerator: io.PyTargetGeneratorModel,
        }
    return {
        CompositeNeuron: cn.PyCompositeNeuronModelFloat,
        OutputCompositeNeuron: cn.PyOutputCompositeNeuronModelFloat,
        WinnerTakeAll: wta.PyWinnerTakeAllModelFloat,
        CoincidenceDense: cd.PyCoincidenceDenseModelFloat,
        SpikeInput: io.PySpikeInputModel,
        TargetGenerator: io.PyTargetGeneratorModel,
    }


def run_config(fixed_point: bool, extra: ty.Optional[dict] = None, **kwargs) -> Loihi2SimCfg:
    """``Loihi2SimCfg`` for SSNN-BP networks.

    ``fixed_point`` selects the 'fixed_pt' models (and ``select_tag='fixed_pt'``
    for any Lava process in the same network, e.g. Lava's own LIF/Dense) or the
    'floating_pt' ones. ``extra`` adds entries to the exception map; other
    keyword arguments go to ``Loihi2SimCfg``.
    """
    mapping = model_map(fixed_point)
    if extra:
        mapping.update(extra)
    kwargs.setdefault("select_tag", "fixed_pt" if fixed_point else "floating_pt")
    return Loihi2SimCfg(exception_proc_model_map=mapping, **kwargs)


# ---------------------------------------------------------------- Loihi 2 learning rule
def loihi_rule_strings(mode: str, shift: int) -> dict:
    """The SSNN-BP update as Loihi 2 three-factor learning-rule strings.

    Per step (``t_epoch = 1``) with the post-synaptic neuron supplying the third
    factors: ``y1`` = d+(t) - d-(t) ('coincidence'), or the running count
    D+ - D- of this sample ('rate'); ``y3`` = 1 at the last step of a sample,
    else 0. The synaptic tag ``t`` accumulates over the sample (coincidences,
    or presynaptic spikes) and is cleared at its last step, when ``dw`` applies
    ``2^-shift`` times the total (stochastically rounded by the learning engine).
    See docs/lava.md for what maps to Loihi 2 and what does not.
    """
    s = f"2^{-int(shift)}"
    if mode == "coincidence":
        return {"dw": f"{s} * u0 * y3 * t + {s} * x0 * y3 * y1",
                "dt": "x0 * y1 - u0 * y3 * t - x0 * y3 * y1"}
    if mode == "rate":
        return {"dw": f"{s} * u0 * y3 * t * y1 + {s} * x0 * y3 * y1",
                "dt": "x0 - u0 * y3 * t - x0 * y3"}
    raise NotImplementedError(
        f"mode {mode!r} has no Loihi learning-engine form: 'stochastic' regenerates "
        "Bernoulli trains from the sample's rates after it ends, 'noise' is a "
        "floating-point emulation")


def loihi_learning_rule(cfg, layer: int = 0):
    """``Loihi3FLearningRule`` object for synapse layer ``layer`` of ``cfg``
    (modes 'coincidence' and 'rate'). Lava limits the scaling exponent to
    -7..9, so the learning shift ``dynamics.learning_shift`` must be <= 7."""
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

    from .dynamics import learning_shift

    k = learning_shift(cfg.eta, cfg.steps, cfg.mode, cfg.exp_of(layer))
    strings = loihi_rule_strings(cfg.mode, k)
    if not -9 <= k <= 7:
        raise ValueError(
            f"learning shift {k} (eta={cfg.eta}, T={cfg.steps}, mode={cfg.mode!r}) is outside "
            "the learning engine's 2^-7..2^9 scaling range; raise eta or the weight exponent")
    return Loihi3FLearningRule(t_epoch=1, **strings)


__all__ = ["model_map", "run_config", "loihi_rule_strings", "loihi_learning_rule"]
