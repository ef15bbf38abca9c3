"""Composite-neuron layers (SPEC: forward IF neuron x, gradient neurons d+ / d-).

Units and widths (the 'fixed_pt' models; the 'floating_pt' models hold the same
Vars as float64):

=================================  ============================================
``x_u, dp_u, dn_u`` (current)      signed 24-bit (int32 container), saturating
                                   (``overflow='saturate'``) or wrapping like
                                   Lava's LIF (``overflow='wrap'``)
``x_v, dp_v, dn_v`` (voltage)      signed 24-bit, saturating
``du``                             unsigned 12-bit decay register; the current
                                   decays by (du + 1) / 4096 per step; no leak
                                   on v (dv = 0)
``vth, vth_test, vth_grad``        unsigned 17-bit mantissas, compared as
                                   ``v > vth << 6`` (Lava's bit-accurate LIF)
``a_in, b_in`` (synaptic input)    signed 16-bit per connection, added << 6
``err_gain`` (output)              drive of one (target - output) spike, in
                                   weight mantissas (64 = weight 1.0)
``x_count, dp_count, dn_count``    this sample's spike counts (8 bits for
                                   T <= 255; int32 container): what the replay
                                   window of 'replay' mode fires from
spikes                             1 bit
=================================  ============================================

Floating point: ``du`` in (0, 1] (u += du (a - u)), thresholds in weight
units (one input spike of weight w eventually adds w to v).

``fixed_point`` (set by ``from_config``) makes the model check that it was
compiled with the matching precision; ``None`` skips the check.

Both processes need their ProcessModels from ``lava_ssnnbp.proc_models``:
compile with ``lava_ssnnbp.run_config(fixed_point)`` (a default Lava RunConfig
also finds them, through the discovery shims in this folder's ``models.py``).
"""
from __future__ import annotations

import typing as ty

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import RESETS, SSNNConfig
from lava_ssnnbp.processes._host_io import CTRL_LEN, flag_pipe
from lava_ssnnbp.processes._process_base import CheckedProcess

OVERFLOWS = ("saturate", "wrap")


def _check_common(shape, steps, reset, overflow):
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"shape must be (N,) with N >= 1, got {shape}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
    if overflow not in OVERFLOWS:
        raise ValueError(f"overflow must be one of {OVERFLOWS}, got {overflow!r}")


def chip_params(cfg: SSNNConfig) -> dict:
    """The proc params of the chip configuration (target = "loihi2"): a silent
    update step after every learning sample's replay window (``update_steps``)
    and per-neuron random generators (``chip``); none otherwise."""
    return {"update_steps": 1, "chip": True} if cfg.loihi2 else {}


class _CompositeBase(CheckedProcess):
    """State, parameters and ports common to hidden and output layers."""

    def __init__(self, *, shape: ty.Tuple[int], steps: int, du, vth, vth_grad, vth_test=None,
                 reset: str = "subtract", overflow: str = "saturate", learn: bool = True,
                 record: bool = False, sample_id: int = 0, host_io: bool = False,
                 io_depth: int = 16, fixed_point: ty.Optional[bool] = None, replay_steps: int = 0,
                 seed: int = 0, layer: int = 1, stochastic_firing: bool = False,
                 name: ty.Optional[str] = None, **extra):
        shape = tuple(int(n) for n in shape)
        _check_common(shape, steps, reset, overflow)
        if int(replay_steps) < 0:
            raise ValueError(f"replay_steps must be >= 0, got {replay_steps}")
        vth_test = vth if vth_test is None else vth_test
        super().__init__(shape=shape, steps=int(steps), reset=reset, overflow=overflow,
                         host_io=bool(host_io), io_depth=int(io_depth), fixed_point=fixed_point,
                         replay_steps=int(replay_steps), layer=int(layer),
                         stochastic_firing=bool(stochastic_firing), name=name, **extra)
        n, T = shape[0], int(steps)
        # state (reset to zero at the first step of every sample)
        self.x_u = Var(shape=shape, init=0)
        self.x_v = Var(shape=shape, init=0)
        self.dp_u = Var(shape=shape, init=0)
        self.dp_v = Var(shape=shape, init=0)
        self.dn_u = Var(shape=shape, init=0)
        self.dn_v = Var(shape=shape, init=0)
        self.gate = Var(shape=shape, init=False)        # x has spiked in this sample
        # this sample's spike counts of x, d+, d- (8 bits for T <= 255): what the
        # replay window ('replay' mode) fires from
        self.x_count = Var(shape=shape, init=0)
        self.dp_count = Var(shape=shape, init=0)
        self.dn_count = Var(shape=shape, init=0)
        self.seed = Var(shape=(1,), init=int(seed))      # names the random streams
        # parameters
        self.du = Var(shape=(1,), init=du)
        self.vth = Var(shape=(1,), init=vth)            # forward threshold, training
        self.vth_test = Var(shape=(1,), init=vth_test)  # forward threshold, inference
        self.vth_grad = Var(shape=(1,), init=vth_grad)  # d+ / d- threshold
        # per-sample control
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.record = Var(shape=(1,), init=int(bool(record)))
        self.sample_id = Var(shape=(1,), init=int(sample_id))
        self.spikes = Var(shape=(3, T, n), init=False)  # this sample's x, d+, d- trains
        # ports
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.dp_out = OutPort(shape=shape)
        self.dn_out = OutPort(shape=shape)
        self.ctrl_in = flag_pipe(InPort(shape=(CTRL_LEN,)), host_io, io_depth)
        self.rec_out = flag_pipe(OutPort(shape=(3, T, n)), host_io, io_depth)


class CompositeNeuron(_CompositeBase):
    """A hidden layer of N composite neurons (SPEC Eq. 1, 4, 5).

    Each neuron has a forward IF neuron x driven by ``a_in`` (= W_{l-1} x_{l-1},
    delayed one step by the synapse), and two gradient IF neurons driven by
    ``+b_in`` and ``-b_in`` (``b_in`` = W_l^T (d+_{l+1} - d-_{l+1}) from the
    synapse above). Their spikes leave on ``dp_out`` / ``dn_out`` only once x has
    spiked in the current sample (the first-spike gate, ReLU derivative).
    During learning a dropout mask of probability ``drop`` (drawn per sample
    from the stream ``(seed, sample_id, STREAM_DROPOUT + layer)``) silences x.

    'replay' mode (``replay_steps`` R > 0): each sample is followed by an R-step
    replay window in which the neurons ignore their inputs and, when learning,
    fire Bernoulli trains of their own counts of the pass (``x_count``,
    ``dp_count``, ``dn_count``) on ``s_out``, ``dp_out`` and ``dn_out``, each
    train from its own stream (``dynamics.replay_rng``); silent at inference.
    ``stochastic_firing``: while learning, x, d+ and d- fire with probability
    min(1, v / threshold) (``dynamics.if_step``; stream ``dynamics.firing_randoms``).

    Ports: ``a_in``, ``b_in`` (InPort, N), ``s_out``, ``dp_out``, ``dn_out``
    (OutPort, N, 1-bit spikes); with ``host_io``: ``ctrl_in`` (control
    messages) and ``rec_out`` (the sample's (3, T, N) spike record, sent when
    recording). ``learn`` selects training (``vth``, dropout) or inference
    (``vth_test``, no dropout).

    Compile with ``lava_ssnnbp.run_config(fixed_point)``; the model calls
    ``lava_ssnnbp.dynamics.hidden_step`` once per time step.
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, du, vth, vth_grad, vth_test=None,
                 reset: str = "subtract", overflow: str = "saturate", drop: float = 0.0,
                 seed: int = 0, layer: int = 1, learn: bool = True, record: bool = False,
                 sample_id: int = 0, host_io: bool = False, io_depth: int = 16,
                 fixed_point: ty.Optional[bool] = None, replay_steps: int = 0,
                 stochastic_firing: bool = False, name: ty.Optional[str] = None, **extra):
        if not 0 <= drop < 1:
            raise ValueError(f"drop must be in [0, 1), got {drop}")
        super().__init__(shape=shape, steps=steps, du=du, vth=vth, vth_grad=vth_grad,
                         vth_test=vth_test, reset=reset, overflow=overflow, learn=learn,
                         record=record, sample_id=sample_id, host_io=host_io,
                         io_depth=io_depth, fixed_point=fixed_point, replay_steps=replay_steps,
                         seed=seed, layer=layer, stochastic_firing=stochastic_firing, name=name, **extra)
        self.drop = Var(shape=(1,), init=float(drop))
        self.keep = Var(shape=self.x_u.shape, init=True)  # this sample's dropout keep-mask
        self.b_in = InPort(shape=self.x_u.shape)

    @classmethod
    def from_config(cls, cfg: SSNNConfig, layer: int, seed: int = 0, **kw) -> "CompositeNeuron":
        """Hidden layer ``layer`` (1 .. n_layers - 1) of ``cfg``; thresholds and
        decay as ``dynamics.neuron_params`` gives them (train and test)."""
        if not 1 <= layer < cfg.n_layers:
            raise ValueError(f"hidden layers are 1..{cfg.n_layers - 1}, got {layer}")
        p, q = dyn.neuron_params(cfg, layer, True), dyn.neuron_params(cfg, layer, False)
        return cls(shape=(cfg.sizes[layer],), steps=cfg.steps, du=p.du, vth=p.theta_x,
                   vth_test=q.theta_x, vth_grad=p.theta_d, reset=cfg.reset, overflow=p.overflow,
                   drop=cfg.drop(layer), seed=seed, layer=layer, fixed_point=cfg.fixed_point,
                   replay_steps=cfg.replay_window, stochastic_firing=cfg.stochastic_firing, **chip_params(cfg), **kw)


class OutputCompositeNeuron(_CompositeBase):
    """The output layer of C composite neurons (SPEC Eq. 1/2, 6, 7).

    x is driven by ``a_in`` (the synapse's W x plus, when connected, the
    winner-take-all inhibition: Lava adds all connections into an InPort).
    d+ is driven by ``err_gain * (target - x)``, d- by the opposite, in the same
    step; ``target_in`` carries the label spike train (zeros at inference).

    Ports: ``a_in`` (InPort, C), ``target_in`` (InPort, C, 1-bit), ``s_out``,
    ``dp_out``, ``dn_out`` (OutPort, C); with ``host_io`` also ``ctrl_in``,
    ``rec_out`` and ``counts_out`` (the sample's output spike counts, sent at
    its last step). ``counts`` holds the current sample's output spike counts.
    In 'replay' mode (``replay_steps`` > 0) the layer (number ``layer``) replays
    its d+ and d- counts in the window after each training sample, as the hidden
    layers do; x stays silent there (no synapse above reads it).
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, du, vth, vth_grad, vth_test=None,
                 err_gain=1.0, reset: str = "subtract", overflow: str = "saturate",
                 learn: bool = True, record: bool = False, sample_id: int = 0,
                 host_io: bool = False, io_depth: int = 16, fixed_point: ty.Optional[bool] = None,
                 replay_steps: int = 0, seed: int = 0, layer: int = 1,
                 stochastic_firing: bool = False, name: ty.Optional[str] = None, **extra):
        super().__init__(shape=shape, steps=steps, du=du, vth=vth, vth_grad=vth_grad,
                         vth_test=vth_test, reset=reset, overflow=overflow, learn=learn,
                         record=record, sample_id=sample_id, host_io=host_io,
                         io_depth=io_depth, fixed_point=fixed_point, replay_steps=replay_steps,
                         seed=seed, layer=layer, stochastic_firing=stochastic_firing, name=name, **extra)
        self.err_gain = Var(shape=(1,), init=err_gain)
        self.counts = Var(shape=self.x_u.shape, init=0)
        self.target_in = InPort(shape=self.x_u.shape)
        self.counts_out = flag_pipe(OutPort(shape=self.x_u.shape), host_io, io_depth)

    @classmethod
    def from_config(cls, cfg: SSNNConfig, seed: int = 0, **kw) -> "OutputCompositeNeuron":
        """The output layer of ``cfg`` (``dynamics.neuron_params(cfg, n_layers)``)."""
        L = cfg.n_layers
        p, q = dyn.neuron_params(cfg, L, True), dyn.neuron_params(cfg, L, False)
        return cls(shape=(cfg.sizes[L],), steps=cfg.steps, du=p.du, vth=p.theta_x,
                   vth_test=q.theta_x, vth_grad=p.theta_d, err_gain=p.err_gain,
                   reset=cfg.reset, overflow=p.overflow, fixed_point=cfg.fixed_point,
                   replay_steps=cfg.replay_window, seed=seed, layer=L,
                   stochastic_firing=cfg.stochastic_firing, **chip_params(cfg), **kw)


__all__ = ["CompositeNeuron", "OutputCompositeNeuron", "chip_params"]
