"""Spike sources: the input encoder, the label (target) generator, and the
relay neurons that take the input onto the chip (chip configuration)."""
from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.processes._host_io import CTRL_LEN, flag_pipe
from lava_ssnnbp.processes._process_base import CheckedProcess


class SpikeInput(CheckedProcess):
    """Input encoder: front-loaded Bernoulli spikes of the pixels, or event frames.

    ``data`` holds the samples: images (N, D) with pixels in [0, 1], or, with
    ``frames=True``, event frames (N, T, D) already in spikes (N-MNIST). Sample
    g (time steps g*T+1 .. (g+1)*T) is ``data[g % N]``; at its first step the
    model draws the whole (T, D) train with ``dynamics.encode_sample``, as the
    engine does: from the stream ``(seed, sample_id, STREAM_INPUT)`` -- at
    inference (``learn`` = 0) from ``(seed + dynamics.TEST_SEED_OFFSET,
    sample_id, STREAM_INPUT)`` -- and, when learning with ``drop`` > 0, silences
    the input units dropped by ``dynamics.sample_keep_mask`` (stream
    ``(seed, sample_id, STREAM_DROPOUT + 0)``). ``spikes`` holds the current
    sample's (T, D) train.

    Ports: ``s_out`` (OutPort, D, 1-bit). With ``host_io`` the samples are
    streamed instead: each control message on ``ctrl_in`` is
    ``[sample_id, learn, record, sample...]`` (the image, or the T*D frames
    flattened), stored into the ring ``data`` (N = ``io_depth``); ``rec_out``
    returns the (T, D) train when recording.

    'replay' mode (``replay_steps`` R > 0): after each sample's T steps comes an
    R-step replay window in which, when learning, the inputs fire Bernoulli
    trains of their own spike counts of the sample (``x_count``; stream
    ``dynamics.replay_rng(seed, sample_id, 0, 'x')``), as the neuron layers do.
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, gain: float = 0.4, seed: int = 0,
                 drop: float = 0.0, data: ty.Optional[np.ndarray] = None, frames: bool = False,
                 learn: bool = True, record: bool = False, sample_id: int = 0,
                 host_io: bool = False, io_depth: int = 16, replay_steps: int = 0,
                 name: ty.Optional[str] = None, **extra):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 1 or shape[0] < 1:
            raise ValueError(f"shape must be (D,) with D >= 1, got {shape}")
        if int(replay_steps) < 0:
            raise ValueError(f"replay_steps must be >= 0, got {replay_steps}")
        T, D = int(steps), shape[0]
        if T < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if not 0 < gain <= 0.5:
            raise ValueError(f"gain must be in (0, 0.5], got {gain}")
        if not 0 <= drop < 1:
            raise ValueError(f"drop must be in [0, 1), got {drop}")
        sample_shape = (T, D) if frames else (D,)
        if data is None:
            n = int(io_depth) if host_io else 1
            data = np.zeros((n,) + sample_shape, dtype=bool if frames else np.float64)
        data = np.asarray(data)
        if data.ndim != 1 + len(sample_shape) or data.shape[1:] != sample_shape:
            raise ValueError(f"data must have shape (N, {', '.join(map(str, sample_shape))}), "
                             f"got {data.shape}")
        if host_io and len(data) != int(io_depth):
            raise ValueError("with host_io, data is the ring of streamed samples: "
                             f"leave it None or give io_depth={io_depth} rows")
        super().__init__(shape=shape, steps=T, frames=bool(frames), host_io=bool(host_io),
                         io_depth=int(io_depth), replay_steps=int(replay_steps), layer=0, name=name, **extra)
        self.data = Var(shape=data.shape, init=data.astype(bool) if frames else data.astype(np.float64))
        self.gain = Var(shape=(1,), init=float(gain))
        self.seed = Var(shape=(1,), init=int(seed))
        self.drop = Var(shape=(1,), init=float(drop))
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.record = Var(shape=(1,), init=int(bool(record)))
        self.sample_id = Var(shape=(1,), init=int(sample_id))
        self.spikes = Var(shape=(T, D), init=False)
        self.x_count = Var(shape=shape, init=0)     # this sample's spikes per input (replay mode)
        self.s_out = OutPort(shape=shape)
        self.ctrl_in = flag_pipe(InPort(shape=(CTRL_LEN + int(np.prod(sample_shape)),)),
                                 host_io, io_depth)
        self.rec_out = flag_pipe(OutPort(shape=(T, D)), host_io, io_depth)

    @classmethod
    def from_config(cls, cfg: SSNNConfig, seed: int = 0, **kw) -> "SpikeInput":
        if cfg.loihi2:   # the chip configuration: relay neurons drop out, count and replay the inputs
            return cls(shape=(cfg.sizes[0],), steps=cfg.steps, gain=cfg.input_gain, seed=seed, drop=0.0,
                       replay_steps=cfg.replay_window, update_steps=1, relayed=True, **kw)
        return cls(shape=(cfg.sizes[0],), steps=cfg.steps, gain=cfg.input_gain, seed=seed,
                   drop=cfg.drop(0), replay_steps=cfg.replay_window, **kw)


class TargetGenerator(CheckedProcess):
    """Label spike trains: while learning, the true class fires Bernoulli(rate)
    (``dynamics.encode_sample``, stream ``(seed, sample_id, STREAM_TARGET)``),
    the others never; at inference it emits zeros.

    ``labels`` (N,) gives sample g the label ``labels[g % N]``. Ports:
    ``s_out`` (OutPort, C, 1-bit), into the output layer's ``target_in``. With
    ``host_io``: control messages ``[sample_id, learn, record, label]`` on
    ``ctrl_in``. Silent in the replay window of 'replay' mode (``replay_steps``).
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, rate: float = 0.5, seed: int = 0,
                 labels: ty.Optional[np.ndarray] = None, learn: bool = True, sample_id: int = 0,
                 host_io: bool = False, io_depth: int = 16, replay_steps: int = 0,
                 name: ty.Optional[str] = None, **extra):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 1 or shape[0] < 1:
            raise ValueError(f"shape must be (C,) with C >= 1, got {shape}")
        if int(steps) < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be a probability, got {rate}")
        labels = np.zeros(1, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
        if labels.ndim != 1 or len(labels) < 1 or labels.min() < 0 or labels.max() >= shape[0]:
            raise ValueError(f"labels must be a non-empty 1-D array of classes in [0, {shape[0]})")
        super().__init__(shape=shape, steps=int(steps), host_io=bool(host_io),
                         io_depth=int(io_depth), replay_steps=int(replay_steps), name=name, **extra)
        self.labels = Var(shape=labels.shape, init=labels)
        self.rate = Var(shape=(1,), init=float(rate))
        self.seed = Var(shape=(1,), init=int(seed))
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.sample_id = Var(shape=(1,), init=int(sample_id))
        self.targets = Var(shape=(int(steps),) + shape, init=False)  # this sample's (T, C) train
        self.s_out = OutPort(shape=shape)
        self.ctrl_in = flag_pipe(InPort(shape=(CTRL_LEN + 1,)), host_io, io_depth)

    @classmethod
    def from_config(cls, cfg: SSNNConfig, seed: int = 0, **kw) -> "TargetGenerator":
        return cls(shape=(cfg.sizes[-1],), steps=cfg.steps, rate=cfg.target_rate, seed=seed,
                   replay_steps=cfg.replay_window, **({"update_steps": 1} if cfg.loihi2 else {}), **kw)


class SpikeRelay(CheckedProcess):
    """Relay neurons between the input and the first plastic synapses: the input
    layer of the chip configuration (target = "loihi2"), on the chip.

    In the pass a relay neuron forwards its input spike in the same step (no
    synaptic delay: it is the input layer), silenced for the whole sample when it
    drops out (``dynamics.sample_keep_mask`` of its own generator, probability
    ``drop``, learning only), and counts what it forwarded (``x_count``, 8 bits
    for T <= 255). In the replay window of a learning sample it fires a
    Bernoulli train of that count (``_base.Replay`` with its own generator, as
    the hidden neurons do); in the update step it is silent. So the host sends
    only the pass's input spikes, and the replay is on the chip.

    Ports: ``s_in``, ``s_out`` (D, 1-bit); with ``host_io`` ``ctrl_in``
    (control messages ``[sample_id, learn, record]``).
    """

    def __init__(self, *, shape: ty.Tuple[int], steps: int, replay_steps: int, update_steps: int = 1,
                 drop: float = 0.0, seed: int = 0, learn: bool = True, sample_id: int = 0,
                 host_io: bool = False, io_depth: int = 16, name: ty.Optional[str] = None):
        shape = tuple(int(n) for n in shape)
        if len(shape) != 1 or shape[0] < 1:
            raise ValueError(f"shape must be (D,) with D >= 1, got {shape}")
        if int(steps) < 1 or int(replay_steps) < 1 or int(update_steps) < 0:
            raise ValueError(f"need steps >= 1, replay_steps >= 1 and update_steps >= 0, got {steps}, "
                             f"{replay_steps}, {update_steps}")
        if not 0 <= drop < 1:
            raise ValueError(f"drop must be in [0, 1), got {drop}")
        super().__init__(shape=shape, steps=int(steps), replay_steps=int(replay_steps),
                         update_steps=int(update_steps), host_io=bool(host_io), io_depth=int(io_depth),
                         layer=0, chip=True, name=name)
        self.seed = Var(shape=(1,), init=int(seed))
        self.drop = Var(shape=(1,), init=float(drop))
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.sample_id = Var(shape=(1,), init=int(sample_id))
        self.keep = Var(shape=shape, init=True)       # this sample's dropout keep-mask
        self.x_count = Var(shape=shape, init=0)       # spikes forwarded in this sample's pass
        self.s_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.ctrl_in = flag_pipe(InPort(shape=(CTRL_LEN,)), host_io, io_depth)

    @classmethod
    def from_config(cls, cfg: SSNNConfig, seed: int = 0, **kw) -> "SpikeRelay":
        if not cfg.loihi2:
            raise ValueError("relay neurons belong to the chip configuration (target 'loihi2')")
        return cls(shape=(cfg.sizes[0],), steps=cfg.steps, replay_steps=cfg.replay_window, update_steps=1,
                   drop=cfg.drop(0), seed=seed, **kw)


__all__ = ["SpikeInput", "TargetGenerator", "SpikeRelay"]
