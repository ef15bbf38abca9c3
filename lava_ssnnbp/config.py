"""Model configuration: every default the paper leaves open (see ../shared/SPEC.md)."""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from . import fixed_point as fxp
from .fields import described
from .rates import learning_shift

MODES = ("rate", "coincidence", "stochastic", "noise", "causal", "replay")
RESETS = ("subtract", "zero")
TARGETS = ("loihi2",)

# What the chip configuration (target = "loihi2") fixes; see docs/lava.md, "The chip configuration".
LOIHI2_WEIGHT_BITS = 9                  # the learning engine's plastic weight: -256..255 (9-bit signed, MIXED)
LOIHI2_WEIGHT_RANGE = (-256, 255)
LOIHI2_WEIGHT_EXP = -1                  # default exponent: one mantissa unit is 1/128
LOIHI2_STEPS = 50                       # the CLI's default T (and replay window) for the chip configuration
LOIHI2_TAG_MAX = 255                    # the learning engine's 8-bit tag (2^W_TAG_1_U - 1 in Lava; tested equal)
LOIHI2_MAX_REPLAY_STEPS = 63            # the tag holds 4 x a window's coincidence count (three eta levels)
LOIHI2_MIN_ETA_LEVELS = 3               # eta, eta/2, eta/4 (m = 4, 2, 1): every window up to 63 steps
LOIHI2_MAX_ETA_LEVELS = 4               # m = 8 at level 0: the mirrored rule's y1 = 8 m x fills the 7-bit y trace


def loihi2_eta_levels(window: int) -> int:
    """How many learning-rate levels eta / 2^j (j = 0..L-1) a replay window of
    ``window`` steps leaves the chip configuration: the neurons send the counting
    factors with magnitude m = 2^(L-1-j), and the tag counts m x the window's
    coincidences, so L = 4 (m = 8, 4, 2, 1) for windows of at most 31 steps, else
    L = 3 (m = 4, 2, 1, windows up to 63 steps)."""
    fits = (1 << (LOIHI2_MAX_ETA_LEVELS - 1)) * window <= LOIHI2_TAG_MAX
    return LOIHI2_MAX_ETA_LEVELS if fits else LOIHI2_MIN_ETA_LEVELS


class ConfigError(ValueError):
    """An invalid model parameter; the message names it."""


@dataclass(frozen=True)
class SSNNConfig:
    """All parameters of an SSNN-BP network.

    Units: times in steps; thresholds and weights in "spikes" (an input spike of
    weight w eventually adds w to the voltage); rates in spikes/step. Each field's
    metadata (``fields.described``) says what it is, its unit and its option in the CLI.
    """
    sizes: Tuple[int, ...] = described(
        (784, 1280, 10), "layer sizes: input, hidden..., output (the option gives the hidden ones, the data set "
        "the others)", unit="neurons", flag="--hidden", metavar="N[,N...]")
    steps: int = described(100, "time steps per sample = one learning epoch", unit="steps", flag=("--steps", "-T"),
                           metavar="T", loihi2=LOIHI2_STEPS)
    tau: Optional[float] = described(None, "synaptic current time constant", unit="steps", metavar="STEPS",
                                     default_text="T/10")
    theta: float = described(5.0, "forward threshold", unit="weight units")
    theta_hidden_grad: float = described(1.0, "hidden gradient-neuron threshold theta_b", unit="weight units")
    theta_out_grad: float = described(1.0, "output gradient-neuron threshold theta_N", unit="weight units")
    reset: str = described("subtract", "reset after a spike: 'subtract' (rate-linear) or 'zero' (Lava LIF)",
                           choices=RESETS)
    input_gain: float = described(0.4, "g: mean input spike probability per step for a white pixel",
                                  unit="spikes/step")
    target_rate: float = described(0.5, "label neuron's target spike probability per step", unit="spikes/step")
    wta: bool = described(True, "output winner-take-all lateral inhibition, the softmax-CE-like loss")
    wta_inhibition: float = described(2.5, "w_inh, inhibitory weight between output neurons", unit="weight units")
    dropout: Tuple[float, ...] = described(
        (0.2, 0.3), "dropout probability per layer below the output: input,hidden... ('0,0' disables)",
        metavar="P[,P...]")
    test_threshold_scaling: bool = described(True, "at test, theta / (1 - p_drop) of the layer below", flag=False)
    mode: str = described(
        "rate", "weight-update rule: rate (Eq. 9), coincidence (Eq. 10, on-chip), stochastic (Bernoulli "
        "re-encoding inside the synapse), noise (rate + Gaussian noise), causal (every pre-before-post spike pair "
        "of the sample; not in the paper), replay (chip-local stochastic rule: after each sample every neuron "
        "replays its spike counts as Bernoulli trains for --replay-steps steps and the synapses count their "
        "coincidences, Eq. 10)", choices=MODES, loihi2="replay")
    eta: float = described(   # benchmarks/tuning.py: best of 0.01..3 on MNIST
        0.3, "learning rate. Fixed point scales the integer counts by a power of two, so it applies the nearest "
        "such step (0.39 for coincidence at T = 50; config.json records it as fixed_point_effective_eta) and a "
        "schedule moves in those steps")
    init_gain: float = described(1.0, "He init: std = init_gain * theta * sqrt(2 / fan_in)")
    fixed_point: bool = described(False, "Loihi-like fixed point: 8-bit weights, 24-bit u/v, integer learning",
                                  default_text="off, floating point", loihi2=True)
    weight_bits: int = described(8, "signed weight mantissa width, fixed point", unit="bits",
                                 loihi2=LOIHI2_WEIGHT_BITS)
    weight_exp: Tuple[int, ...] = described(
        (), "weight exponent per synapse layer, fixed point: one mantissa unit is 2**E / 64; write negative ones "
        "with '=', e.g. --weight-exp=-1,-1", metavar="E[,E...]", default_text="0 for all", loihi2=LOIHI2_WEIGHT_EXP)
    noise_std: Optional[float] = described(
        None, "'noise' mode: std of the Gaussian added to each weight's update, in the units of the normalised "
        "product x * (d+ - d-) / 2 (multiplied by eta like it), per sample: a summed mini-batch of B gets sqrt(B) "
        "times it", default_text="the stochastic rule's own std")
    noise_steps: Optional[int] = described(
        None, "'noise' mode: add the stochastic rule's noise at T_S steps instead of T, to emulate long spike trains "
        "cheaply (the paper's Fig. 8)", unit="steps", metavar="T_S", default_text="T")
    replay_steps: Optional[int] = described(
        None, "'replay' mode: length of the replay window after each training sample", unit="steps", metavar="T_S",
        default_text="T")
    stochastic_firing: bool = described(
        False, "while training, every neuron fires with probability v / threshold instead of at the threshold (the "
        "paper's literal reading of its stochastic premise)")
    target: Optional[str] = described(
        None, "'loihi2': the chip configuration, exactly what a Loihi 2 port (LearningEngineNetwork) runs: fixed "
        "point, 'replay', 9-bit weights at exponent -1 (the defaults it sets), the learning engine's shared "
        "rounding, W^T mirrored, per-neuron random generators, per-sample updates, eta constant or in halving steps "
        "(docs/lava.md)", choices=TARGETS, default_text="none, the options as given")

    def __post_init__(self):
        def bad(name, why):
            raise ConfigError(f"invalid {name}: {why}")
        _coerce_fields(self)   # every field of its declared type (numpy scalars converted), numbers finite
        if len(self.sizes) < 2 or any((not isinstance(n, int)) or n <= 0 for n in self.sizes):
            bad("sizes", f"{self.sizes!r} (need >= 2 positive integers)")
        if not isinstance(self.steps, int) or self.steps <= 0:
            bad("steps", f"{self.steps!r} (need a positive integer)")
        if self.tau is not None and not self.tau > 0:
            bad("tau", f"{self.tau!r} (need > 0)")
        for name in ("theta", "theta_hidden_grad", "theta_out_grad", "eta"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                bad(name, f"{v!r} (need a finite number > 0)")
        if self.reset not in RESETS:
            bad("reset", f"{self.reset!r} (choose from {', '.join(RESETS)})")
        if self.mode not in MODES:
            bad("mode", f"{self.mode!r} (choose from {', '.join(MODES)})")
        if not 0 < self.input_gain <= 0.5:
            bad("input_gain", f"{self.input_gain!r} (need 0 < g <= 0.5 so the first step's probability stays <= 1)")
        if not 0 <= self.target_rate <= 1:
            bad("target_rate", f"{self.target_rate!r} (need a probability)")
        if self.wta_inhibition < 0:
            bad("wta_inhibition", f"{self.wta_inhibition!r} (need >= 0)")
        if len(self.dropout) not in (0, len(self.sizes) - 1) or any(not 0 <= p < 1 for p in self.dropout):
            bad("dropout", f"{self.dropout!r} (need one probability in [0, 1) per layer below the output)")
        if self.weight_exp and len(self.weight_exp) != len(self.sizes) - 1:
            bad("weight_exp", f"{self.weight_exp!r} (need one exponent per synapse layer)")
        if self.noise_std is not None and self.noise_std < 0:
            bad("noise_std", f"{self.noise_std!r} (need >= 0)")
        if self.noise_steps is not None and (not isinstance(self.noise_steps, int) or self.noise_steps <= 0):
            bad("noise_steps", f"{self.noise_steps!r} (need a positive integer)")
        if not isinstance(self.stochastic_firing, bool):
            bad("stochastic_firing", f"{self.stochastic_firing!r} (need True or False)")
        if self.replay_steps is not None and (not isinstance(self.replay_steps, int) or self.replay_steps <= 0):
            bad("replay_steps", f"{self.replay_steps!r} (need a positive integer)")
        if not 2 <= self.weight_bits <= 16:
            bad("weight_bits", f"{self.weight_bits!r} (need 2..16)")
        # each field's own range first: the checks below compute with them (a replay window of
        # -10**9 steps reached the learning shift's log2 with the chip target)
        if self.target is not None:
            _check_target(self)
        _check_weight_scale(self)
        if self.fixed_point and self.mode == "noise":
            bad("mode", "'noise' emulates stochastic updates with Gaussian noise and exists in floating point only")

    # ---- derived quantities -------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Number of synapse layers (= number of composite-neuron layers)."""
        return len(self.sizes) - 1

    @property
    def tau_steps(self) -> float:
        return self.tau if self.tau is not None else self.steps / 10.0

    @property
    def du(self) -> float:
        """Float current decay per step: 1 - exp(-1/tau)."""
        return 1.0 - math.exp(-1.0 / self.tau_steps)

    @property
    def du_register(self) -> int:
        return fxp.decay_register(self.du)

    @property
    def replay_window(self) -> int:
        """Steps of the replay window after each training sample ('replay' mode; else 0)."""
        if self.mode != "replay":
            return 0
        return self.replay_steps if self.replay_steps is not None else self.steps

    @property
    def learning_steps(self) -> int:
        """Steps over which a synapse counts the pairs of one update: the replay
        window in 'replay' mode, the sample's T otherwise."""
        return self.replay_window or self.steps

    @property
    def loihi2(self) -> bool:
        """Whether this is the chip configuration (``target = "loihi2"``)."""
        return self.target == "loihi2"

    @property
    def steps_per_sample(self) -> int:
        """Time steps a training sample takes: T, the replay window, and in the chip
        configuration one more step in which the learning engine applies the update."""
        return self.steps + self.replay_window + (1 if self.loihi2 else 0)

    @property
    def weight_range(self) -> Tuple[int, int]:
        """(lowest, highest) fixed-point weight mantissa: symmetric at the weight width,
        or the learning engine's -256..255 in the chip configuration."""
        if self.loihi2:
            return LOIHI2_WEIGHT_RANGE
        hi = 2 ** (self.weight_bits - 1) - 1
        return -hi, hi

    def drop(self, layer: int) -> float:
        """Dropout probability of neuron layer ``layer`` (0 = input)."""
        return self.dropout[layer] if self.dropout else 0.0

    def exp_of(self, k: int) -> int:
        return self.weight_exp[k] if self.weight_exp else 0

    def replace(self, **kw) -> "SSNNConfig":
        return dataclasses.replace(self, **kw)

    def with_steps(self, steps: int) -> "SSNNConfig":
        """The same network simulated for ``steps`` per sample: an explicit ``tau``
        scales with T as the default T/10 does, so trained weights keep working."""
        tau = None if self.tau is None else self.tau * steps / self.steps
        return self.replace(steps=steps, tau=tau)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["tau_steps"] = self.tau_steps
        return d

    @classmethod
    def loihi2_config(cls, **kw) -> "SSNNConfig":
        """The chip configuration: ``target = "loihi2"`` with its fixed choices
        (fixed point, 'replay', 9-bit weights at exponent -1) as defaults of ``kw``."""
        sizes = kw.get("sizes", cls.sizes)
        kw = {"fixed_point": True, "mode": "replay", "weight_bits": LOIHI2_WEIGHT_BITS,
              "weight_exp": (LOIHI2_WEIGHT_EXP,) * (len(sizes) - 1), **kw}
        return cls(target="loihi2", **kw)

    @classmethod
    def from_dict(cls, d: dict) -> "SSNNConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
        return cls(**kw)


# ---- field checks (__post_init__) -------------------------------------------
# Loihi's (and CoincidenceDense's) weight exponent is a 4-bit signed field.
WEIGHT_EXP_RANGE = (-8, 7)
FLOAT_LIMIT = 1e30   # thresholds, weights and their sums stay far inside float32 (3.4e38)


def field_error(name: str, why: str) -> ConfigError:
    return ConfigError(f"invalid {name}: {why}")


def coerce(name: str, annotation: str, value, error=field_error):
    """``value`` as the type a dataclass field declares (``annotation``, a string:
    int, float, bool, str, Optional[...], Tuple[..., ...]), or ``error(name, why)``.
    numpy scalars become Python ones; bools are not integers; floats must be finite."""
    if annotation.startswith("Optional["):
        return None if value is None else coerce(name, annotation[9:-1], value, error)
    if annotation.startswith("Tuple["):
        kind = annotation[6:-1].split(",")[0].strip()
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise error(name, f"{value!r} (need a sequence of {kind}s)")
        return tuple(coerce(name, kind, v, error) for v in value)
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    real = integer or isinstance(value, (float, np.floating))
    if annotation == "int":
        if not integer:
            raise error(name, f"{value!r} (need an integer, got {type(value).__name__})")
        return int(value)
    if annotation == "float":
        if not real:
            raise error(name, f"{value!r} (need a number, got {type(value).__name__})")
        if not math.isfinite(value):
            raise error(name, f"{value!r} (need a finite number)")
        return float(value)
    if annotation == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise error(name, f"{value!r} (need True or False, got {type(value).__name__})")
        return bool(value)
    if annotation == "str":
        if isinstance(value, os.PathLike):   # a folder given as a Path
            return os.fspath(value)
        if not isinstance(value, str):
            raise error(name, f"{value!r} (need a string, got {type(value).__name__})")
        return value
    raise TypeError(f"field {name}: no check for annotation {annotation!r}")


def _coerce_fields(cfg):
    for f in dataclasses.fields(cfg):
        object.__setattr__(cfg, f.name, coerce(f.name, f.type, getattr(cfg, f.name)))


def _check_weight_scale(cfg):
    """Weight exponents Loihi can hold and, in fixed point, mantissas that carry
    the He-initialised weights: not 90 % of them 0, nor 90 % saturated."""
    if not cfg.init_gain > 0:
        raise field_error("init_gain", f"{cfg.init_gain!r} (need > 0: all initial weights would be 0)")
    for name in ("theta", "theta_hidden_grad", "theta_out_grad", "wta_inhibition", "eta", "noise_std"):
        if abs(getattr(cfg, name) or 0) > FLOAT_LIMIT:
            raise field_error(name, f"{getattr(cfg, name)!r} (need <= {FLOAT_LIMIT:g}: the engine computes in float32)")
    if cfg.init_gain * cfg.theta > FLOAT_LIMIT / max(cfg.sizes):
        raise field_error("init_gain", f"{cfg.init_gain!r} with theta {cfg.theta!r}: sums of the initial weights "
                                       f"(std init_gain * theta * sqrt(2 / fan_in)) would exceed {FLOAT_LIMIT:g}")
    lo, hi = WEIGHT_EXP_RANGE
    for k, e in enumerate(cfg.weight_exp):
        if not lo <= e <= hi:
            raise field_error("weight_exp", f"{e} for synapse layer {k} (need {lo}..{hi}, the synapses' "
                                            "4-bit exponent)")
    if not cfg.fixed_point or not 2 <= cfg.weight_bits <= 16:
        return
    _check_fixed_point_registers(cfg)
    top = 2 ** (cfg.weight_bits - 1) - 1
    for k in range(len(cfg.sizes) - 1):
        std = cfg.init_gain * cfg.theta * math.sqrt(2.0 / cfg.sizes[k])
        why = _lost_weights(std, cfg.exp_of(k), top)
        if why:
            ok = [e for e in range(lo, hi + 1) if not _lost_weights(std, e, top)]
            need = f"need {ok[0]}..{ok[-1]} here" if ok else "no exponent fits: change init_gain or weight_bits"
            raise field_error("weight_exp", f"{cfg.exp_of(k)} for synapse layer {k}: one mantissa unit is "
                                            f"2**{cfg.exp_of(k)}/64 = {fxp.weight_lsb(cfg.exp_of(k)):.3g}, so "
                                            f"{why[0]} of the initial weights (std init_gain * theta * "
                                            f"sqrt(2 / fan_in) = {std:.3g}) would {why[1]} ({need})")


def _check_target(cfg):
    """The chip configuration's fixed choices: what ``LearningEngineNetwork`` can run."""
    if cfg.target not in TARGETS:
        raise field_error("target", f"{cfg.target!r} (choose from {', '.join(TARGETS)}, or none)")
    need = [(cfg.fixed_point, "fixed point (fixed_point=True)"),
            (cfg.mode == "replay", f"mode 'replay' (the rule the learning engine runs with W^T mirrored), not "
                                   f"{cfg.mode!r}"),
            (cfg.weight_bits == LOIHI2_WEIGHT_BITS, f"{LOIHI2_WEIGHT_BITS}-bit weights (the learning engine's), "
                                                    f"not {cfg.weight_bits}"),
            (not cfg.stochastic_firing, "deterministic firing (no stochastic_firing)"),
            (cfg.replay_window <= LOIHI2_MAX_REPLAY_STEPS,
             f"a replay window of at most {LOIHI2_MAX_REPLAY_STEPS} steps (the 8-bit tag), not {cfg.replay_window}")]
    for ok, what in need:
        if not ok:
            raise field_error("target", f"'loihi2' needs {what}")


def _lost_weights(std: float, e: int, top: int):
    """('98 %', 'round to 0') (or saturate at +/-top) when 90 % of normal weights of
    ``std`` are lost to quantisation at exponent ``e``; None if most survive."""
    lsb = fxp.weight_lsb(e)
    zero = math.erf(lsb / 2 / (std * math.sqrt(2)))           # P(|w| < lsb / 2)
    saturated = 1 - math.erf(top * lsb / (std * math.sqrt(2)))  # P(|w| > top * lsb)
    if zero > 0.9:
        return f"{100 * zero:.0f} %", "round to 0"
    if saturated > 0.9:
        return f"{100 * saturated:.0f} %", f"saturate at +/-{top}"
    return None


def _check_fixed_point_registers(cfg):
    """Fixed point's derived integers fit their registers: thresholds (17-bit
    mantissas, the test-time theta / (1 - p) included), the WTA weight (16-bit
    synaptic input) and the learning rate's power-of-two shift of the counts."""
    du = fxp.decay_register(1.0 - math.exp(-1.0 / (cfg.tau if cfg.tau is not None else cfg.steps / 10.0)))
    drops = [0.0] + (list(cfg.dropout) if cfg.test_threshold_scaling else [])
    for name, theta in [("theta", cfg.theta / (1.0 - p)) for p in drops] + [
            ("theta_hidden_grad", cfg.theta_hidden_grad), ("theta_out_grad", cfg.theta_out_grad)]:
        try:
            fxp.threshold_mantissa(theta, du)
        except ValueError:
            raise field_error(name, f"{getattr(cfg, name)!r} does not fit fixed point's 17-bit threshold "
                                    f"mantissa at tau = {cfg.tau_steps:g} steps (lower it, or tau)") from None
    if cfg.wta and round(cfg.wta_inhibition * fxp.W_ONE) > fxp.A_MAX:
        raise field_error("wta_inhibition", f"{cfg.wta_inhibition!r} (fixed point holds it as a 16-bit synaptic "
                                            f"input of {fxp.W_ONE} per unit: need <= {fxp.A_MAX / fxp.W_ONE:g})")
    for k in range(len(cfg.sizes) - 1):
        try:
            shift = learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k))
        except (ValueError, OverflowError):
            continue   # a mode without a count shift
        if cfg.loihi2 and not -10 <= shift <= 7:
            raise field_error("eta", f"{cfg.eta!r}: the chip configuration applies it as a shift of {shift} bits for "
                                     f"synapse layer {k}; the learning engine's 7 accumulator bits below a weight "
                                     "unit and its scale factors (2^-7..2^8) need -10..7 (raise eta or the weight "
                                     "exponent)")
        if not -8 <= shift <= 62:
            raise field_error("eta", f"{cfg.eta!r} (fixed point applies it as a shift of the integer counts by "
                                     f"{shift} bits for synapse layer {k}: need -8..62, beyond which every "
                                     "update saturates or the shift overflows)")
