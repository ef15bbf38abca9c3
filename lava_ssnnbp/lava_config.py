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
import numpy as np  # noqa: E402
from lava.magma.core.learning import constants as C  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402


def model_map(fixed_point: bool) -> dict:
    """{Process class: ProcessModel class} of every SSNN-BP process for one precision."""
    from lava.proc.dense.process import LearningDense

    from lava_ssnnbp.proc_models import coincidence_dense as cd
    from lava_ssnnbp.proc_models import composite_neuron as cn
    from lava_ssnnbp.proc_models import learning_dense as ld
    from lava_ssnnbp.proc_models import learning_neuron as ln
    from lava_ssnnbp.proc_models import spike_io as io
    from lava_ssnnbp.proc_models import weight_mirror as wm
    from lava_ssnnbp.proc_models import winner_take_all as wta
    from lava_ssnnbp.processes.coincidence_dense.process import CoincidenceDense
    from lava_ssnnbp.processes.composite_neuron.process import CompositeNeuron, OutputCompositeNeuron
    from lava_ssnnbp.processes.learning_neuron.process import LearningCompositeNeuron, LearningOutputCompositeNeuron
    from lava_ssnnbp.processes.spike_io.process import SpikeInput, SpikeRelay, TargetGenerator
    from lava_ssnnbp.processes.weight_mirror.process import BackwardWeightSync
    from lava_ssnnbp.processes.winner_take_all.process import WinnerTakeAll

    if fixed_point:   # the learning-engine neurons exist in fixed point only (Lava's bit-approximate engine)
        return {
            LearningDense: ld.PyLearningDenseModelContinued,     # Lava's, continuing a run's rounding draws
            LearningCompositeNeuron: ln.PyLearningCompositeNeuronModelFixed,
            LearningOutputCompositeNeuron: ln.PyLearningOutputCompositeNeuronModelFixed,
            BackwardWeightSync: wm.PyBackwardWeightSyncModel,
            CompositeNeuron: cn.PyCompositeNeuronModelFixed,
            OutputCompositeNeuron: cn.PyOutputCompositeNeuronModelFixed,
            WinnerTakeAll: wta.PyWinnerTakeAllModelFixed,
            CoincidenceDense: cd.PyCoincidenceDenseModelFixed,
            SpikeInput: io.PySpikeInputModel,
            TargetGenerator: io.PyTargetGeneratorModel,
            SpikeRelay: io.PySpikeRelayModel,
        }
    return {
        CompositeNeuron: cn.PyCompositeNeuronModelFloat,
        OutputCompositeNeuron: cn.PyOutputCompositeNeuronModelFloat,
        WinnerTakeAll: wta.PyWinnerTakeAllModelFloat,
        CoincidenceDense: cd.PyCoincidenceDenseModelFloat,
        SpikeInput: io.PySpikeInputModel,
        TargetGenerator: io.PyTargetGeneratorModel,
        BackwardWeightSync: wm.PyBackwardWeightSyncModel,
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
# Lava's bit-approximate learning engine (LearningRuleApplierBitApprox) multiplies a
# product's factors and its 4-bit scale mantissa, then shifts the result right by the
# bits beyond its 15-bit accumulator: y3 (7 bits) * t (9) * mantissa (4) = 20 bits, a
# 5-bit shift. The neuron therefore flags a sample's last step with y3 = 2**5, which
# cancels that shift, so the whole tag reaches dw and the clearing term exactly; the
# last step's own coincidence, x0 * y3 * y (18 bits, a 3-bit shift), is 4 * y and
# carries 2^-2 less scale. Third factors are unsigned 7-bit values, so d+ and d- come
# as y1 and y2. Lava's tag is 8 bits plus sign: a sample's count |sum x d| <= T must fit.
# The numbers follow from Lava's own widths:
_TAG_PRODUCT_SHIFT = C.W_TRACE + C.W_TAG_1_S + C.W_S_MANT - C.W_ACCUMULATOR_U       # y3 * t: 5
_LAST_STEP_SHIFT = 2 * C.W_TRACE + C.W_S_MANT - C.W_ACCUMULATOR_U                  # y3 * y: 3
SAMPLE_END_Y3 = 2 ** _TAG_PRODUCT_SHIFT                                             # 32
LAST_STEP_SCALE_EXP = _TAG_PRODUCT_SHIFT - _LAST_STEP_SHIFT                         # 2
MAX_TAG_STEPS = 2 ** C.W_TAG_1_U - 1                                                # 255
_ACC_SHIFT = C.W_ACCUMULATOR_S - C.W_SYN_VAR_S["weights"]   # accumulator bits below a weight/tag LSB: 7


def loihi_rule_strings(mode: str, shift: int) -> dict:
    """The SSNN-BP update (Eq. 10, 'coincidence') as Loihi 2 three-factor rule strings.

    Per step (``t_epoch = 1``) the post-synaptic composite neuron supplies
    ``y1`` = d+(t), ``y2`` = d-(t) (0 or 1) and ``y3`` = :data:`SAMPLE_END_Y3`
    at the last step of a sample (else 0). The tag ``t`` counts the sample's
    coincidences x(t) (d+ - d-)(t); at the last step ``dw`` adds ``2^-shift``
    times the tag plus that step's coincidence, and ``dt`` clears the tag. The
    engine rounds the result stochastically to the weight's 8 bits.
    'replay' mode uses the same strings over a learning epoch of T + T_s steps:
    the neurons send y1 = y2 = 0 during the pass and their replay trains in the
    window, with y3 at the window's last step, so the tag counts the window's
    coincidences only.
    ``tests/test_lava_lifecycle.py`` runs these strings through Lava's learning
    engine against ``dynamics.coincidence_numerator``. See docs/lava.md.
    """
    if mode in ("coincidence", "replay"):   # 'replay': the same rule over the pass and its replay window
        k, k_last = int(shift), int(shift) + LAST_STEP_SCALE_EXP
        return {"dw": f"2^{-k} * u0 * y3 * t + 2^{-k_last} * x0 * y3 * y1 - 2^{-k_last} * x0 * y3 * y2",
                "dt": (f"x0 * y1 - x0 * y2 - u0 * y3 * t - 2^-{LAST_STEP_SCALE_EXP} * x0 * y3 * y1"
                       f" + 2^-{LAST_STEP_SCALE_EXP} * x0 * y3 * y2")}
    why = {"rate": "Eq. 9 multiplies two whole-sample counts: the engine floors that product (t * y, "
                   "27 bits) to multiples of 2^7 before scaling it, and the last step's term would "
                   "need a scale below 2^-7",
           "stochastic": "it regenerates Bernoulli trains from the sample's rates inside the synapse after "
                         "the sample ended (its chip-local form, the neurons replaying their counts, is 'replay')",
           "noise": "it is a floating-point emulation",
           "causal": "it pairs each gradient spike with the sample's presynaptic count so far, a "
                     "trace that must restart at every sample (not mapped yet)"}
    raise NotImplementedError(f"mode {mode!r} has no exact Loihi learning-engine form: "
                              f"{why.get(mode, 'unknown mode')}; the on-chip rules are 'coincidence' "
                              "and 'replay'")


def loihi_learning_rule(cfg, layer: int = 0):
    """``Loihi3FLearningRule`` object for synapse layer ``layer`` of ``cfg``
    ('coincidence' or 'replay' mode). Lava's scale factors span 2^-7..2^8, and the last
    step's term needs 2^-(k+2), so the learning shift ``dynamics.learning_shift``
    must lie in -8..5; a learning window (T, or T_s in 'replay' mode) of at most
    255 steps keeps the tag within its 8 bits."""
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

    from .dynamics import learning_shift

    k = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(layer))
    strings = loihi_rule_strings(cfg.mode, k)   # other modes raise here, saying why
    if not -8 <= k <= 7 - LAST_STEP_SCALE_EXP:
        raise ValueError(
            f"learning shift {k} (eta={cfg.eta}, T={cfg.steps}) is outside the learning engine's range "
            f"(-8..{7 - LAST_STEP_SCALE_EXP}: scale factors 2^-7..2^8, the last step's term 2^-(k+2)); "
            "raise eta or the weight exponent")
    if cfg.learning_steps > MAX_TAG_STEPS:
        raise ValueError(f"a learning window of {cfg.learning_steps} steps: a sample's coincidence count may "
                         f"exceed the learning engine's 8-bit tag (at most {MAX_TAG_STEPS} steps)")
    return Loihi3FLearningRule(t_epoch=1, **strings)


# ---------------------------------------------------------------- the chip configuration's rules
# target = "loihi2": the replay window counts T_s steps, then one more step in which no
# neuron fires and the neurons send y3 = SAMPLE_END_Y3; so no rule needs a last-step
# term. The counting factors carry the learning-rate level's magnitude m (up to 4, or
# 8 for windows of at most 31 steps), so the update scale is the base shift + log2 of
# the largest m (learning_engine.eta_levels, level_magnitude). The forward rule
# counts x0 (y1 - y2); the mirrored rule of the backward copy counts
# 2 x0 y2 - x0 y1 x1 with the sign in x1 (learning_engine, "The mirrored copy").
def loihi2_rule_strings(shift: int, mirrored: bool, levels: int) -> dict:
    """Rule strings of the chip configuration for base learning shift ``shift``
    (``dynamics.learning_shift`` of the base eta) and ``levels`` learning-rate
    levels (``learning_engine.eta_levels``): ``dw`` applies the tag at the update
    step, ``dt`` counts the window's coincidences and clears the tag there."""
    count = "2 * x0 * y2 - x0 * y1 * x1" if mirrored else "x0 * y1 - x0 * y2"
    return {"dw": f"2^-{int(shift) + int(levels) - 1} * y0 * y3 * t", "dt": f"{count} - y0 * y3 * t"}


def loihi2_learning_rule(cfg, layer: int = 0, mirrored: bool = False):
    """The ``Loihi3FLearningRule`` of synapse layer ``layer`` of the chip
    configuration (``cfg.loihi2``): forward, or the mirrored rule of its backward
    copy W^T (``mirrored``, a LearningDense with GradedSpikeCfg.OVERWRITE). The
    y traces keep the value the neuron wrote (time constant
    ``learning_engine.NO_DECAY_TAU``), x1 keeps the payload's sign (no decay, no
    impulse). The update and the tag's clearing depend on y0, the post neuron's
    back-propagating spike, which the neurons send at the update step only, and
    only those that fired in the window (whose synapses' tags can be non-zero): so
    the learning engine visits those synapses once per sample, not every plastic
    synapse every step (what a u0 dependency costs with t_epoch = 1)."""
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

    from .dynamics import learning_shift
    from .learning_engine import NO_DECAY_TAU, eta_level, eta_levels

    if not cfg.loihi2:
        raise ValueError("loihi2_learning_rule builds the chip configuration's rule (cfg.target = 'loihi2')")
    eta_level(cfg, cfg.eta)   # the base shift fits the rule's scale range (raises, saying why)
    k = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(layer))
    extra = {"x1_impulse": 0, "x1_tau": NO_DECAY_TAU} if mirrored else {}
    rule = Loihi3FLearningRule(t_epoch=1, **loihi2_rule_strings(k, mirrored, eta_levels(cfg)), **extra)
    rule.y1_tau = rule.y2_tau = rule.y3_tau = NO_DECAY_TAU
    return rule


def run_rule_on_sample(rule, x, dp, dn, w0):
    """One sample through Lava's bit-approximate learning engine, with the
    neuron-supplied factors of :func:`loihi_rule_strings` (``y1`` = d+, ``y2`` =
    d-, ``y3`` = :data:`SAMPLE_END_Y3` at the last step) and one learning epoch
    per step: a check of a rule's strings against the engine's update
    (``tests/test_lava_lifecycle.py``; use it for a new mode's rule too).

    x: (T, N_pre), dp / dn: (T, N_post) spikes of one sample; w0: (N_post, N_pre)
    integer weight mantissas. Returns the weights before the engine's final
    stochastic rounding, in mantissa units (float), and the tag after the sample.
    Raises ValueError where the rule breaks SSNN-BP's form: a tag that stops being
    a whole count, or weights that change before the sample's last step.
    """
    from lava.magma.core.learning.learning_rule_applier import LearningRuleApplierBitApprox

    ps = rule.active_product_series
    dw, dt = LearningRuleApplierBitApprox(ps["dw"]), LearningRuleApplierBitApprox(ps["dt"])
    steps, (m, n) = len(x), np.shape(w0)
    a = _ACC_SHIFT                      # the engine's accumulators hold a weight or tag LSB as 2**a
    w, tag = np.asarray(w0, dtype=np.int32) << a, np.zeros((m, n), np.int32)
    for t in range(steps):
        post = {"y1": dp[t], "y2": dn[t], "y3": np.full(m, SAMPLE_END_Y3 if t == steps - 1 else 0)}
        args = {"shape": (m, n), "x0": np.asarray(x[t], np.int32)[None, :], "y0": np.zeros((m, 1), np.int32),
                "u": 1, "weights": w >> a, "tag_2": np.zeros((m, n), np.int32), "tag_1": tag >> a}
        for trace in ("x1", "x2", "y1", "y2", "y3"):
            value = np.broadcast_to(np.asarray(post[trace], np.int32)[:, None], (m, n)) if trace in post \
                else np.zeros((m, n), np.int32)
            args.update({f"{trace}_{dep}": value for dep in ("x0", "y0", "u")})
        w_new, tag = dw.apply(w, **args), dt.apply(tag, **args)
        if np.any(tag % (1 << a)):
            raise ValueError(f"step {t}: the tag is no longer a whole count")
        if t < steps - 1 and not np.array_equal(w_new, w):
            raise ValueError(f"step {t}: the weights change before the sample's last step")
        w = w_new
    return w / float(1 << a), tag >> a


__all__ = ["model_map", "run_config", "loihi_rule_strings", "loihi_learning_rule", "run_rule_on_sample",
           "loihi2_rule_strings", "loihi2_learning_rule",
           "SAMPLE_END_Y3"]
