"""Model configuration: every default the paper leaves open (see ../shared/SPEC.md)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional, Tuple

from . import fixed_point as fxp

MODES = ("rate", "coincidence", "stochastic", "noise", "causal", "replay")
RESETS = ("subtract", "zero")


class ConfigError(ValueError):
    """An invalid model parameter; the message names it."""


@dataclass(frozen=True)
class SSNNConfig:
    """All parameters of an SSNN-BP network.

    Units: times in steps; thresholds and weights in "spikes" (an input spike of
    weight w eventually adds w to the voltage); rates in spikes/step.
    """
    sizes: Tuple[int, ...] = (784, 1280, 10)   # input, hidden..., output
    steps: int = 100                    # T, time steps per sample (= one learning epoch)
    tau: Optional[float] = None         # synaptic time constant in steps; None -> T/10
    theta: float = 5.0                  # forward threshold
    theta_hidden_grad: float = 1.0      # theta_b, hidden gradient neurons
    theta_out_grad: float = 1.0         # theta_N, output gradient neurons
    reset: str = "subtract"             # 'subtract' (rate-linear) or 'zero' (Lava LIF)
    input_gain: float = 0.4             # g: mean spike probability = g * pixel
    target_rate: float = 0.5            # label neuron's target spike probability
    wta: bool = True                    # output lateral inhibition (softmax-CE-like loss)
    wta_inhibition: float = 2.5         # w_inh, inhibitory weight between output neurons
    dropout: Tuple[float, ...] = (0.2, 0.3)  # per layer below the output: input, hidden...
    test_threshold_scaling: bool = True  # at test, theta / (1 - p_drop) of the layer below
    mode: str = "rate"                  # weight-update rule, see MODES
    eta: float = 0.3                    # learning rate (benchmarks/tuning.py: best of 0.01..3 on MNIST)
    init_gain: float = 1.0              # He init: std = init_gain * theta * sqrt(2 / fan_in)
    fixed_point: bool = False
    weight_bits: int = 8
    weight_exp: Tuple[int, ...] = ()    # per synapse layer; () -> 0 for all
    noise_std: Optional[float] = None   # 'noise' mode: None -> the stochastic rule's own std
    noise_steps: Optional[int] = None   # 'noise' mode: that std at T_s steps (Fig. 8); None -> T
    replay_steps: Optional[int] = None  # 'replay' mode: T_s, the learning window after each sample; None -> T
    stochastic_firing: bool = False     # training: neurons fire with probability v / theta (paper's literal reading)

    def __post_init__(self):
        def bad(name, why):
            raise ConfigError(f"invalid {name}: {why}")
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
        if self.fixed_point and self.mode == "noise":
            bad("mode", "'noise' emulates stochastic updates with Gaussian noise and exists in floating point only")
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
    def from_dict(cls, d: dict) -> "SSNNConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
        return cls(**kw)
