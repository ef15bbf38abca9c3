"""The plastic SSNN-BP synapse: one weight array read forward and transposed."""
from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.dynamics import PAIR_NUMERATORS, check_layer_weights
from lava_ssnnbp.processes._host_io import CTRL_LEN, flag_pipe
from lava_ssnnbp.processes._process_base import CheckedProcess


class CoincidenceDense(CheckedProcess):
    """Dense synapse layer ``k`` between neuron layers k and k+1, with learning.

    Forward: ``a_out`` = W s (``s_in``: the forward spikes of layer k).
    Backward: ``b_out`` = W^T (d+ - d-) (``dp_in`` / ``dn_in``: the gradient
    spikes of layer k+1) -- the *same* weight array read transposed, never a
    copy. Both outputs are buffered one step like Lava's Dense (what arrives at
    step t is sent at step t+1); the buffers are cleared at the first step of
    every sample. ``b_out`` is only computed when something is connected to it
    (the input layer has no gradient neurons).

    Learning (when ``learn``): over each sample (one learning epoch of T steps)
    the synapse counts its presynaptic spikes (``x_count``), the postsynaptic
    d+ / d- spikes (``dp_count``, ``dn_count``) and, in 'coincidence' mode,
    the per-synapse coincidences sum_t (d+ - d-)(t) x(t) (``coincidences``,
    accumulated step by step with ``dynamics.coincidence_numerator``; in
    'causal' mode sum_t (d+ - d-)(t) X(t) with X(t) the presynaptic spikes so
    far, ``dynamics.causal_numerator``). In 'replay' mode it counts instead in
    the replay window after the pass (``cfg.replay_window`` steps, in which the
    neurons fire Bernoulli trains of their counts and the forward drive is off):
    the same Eq. 10 coincidences of the spikes at its two ends, and the spikes
    themselves. At the last step of the sample (of the window), in
    Lava's learning phase, it applies ``dynamics.learn`` (``learning_numerator``
    + ``update_weights``) for ``cfg.mode`` (``config.MODES``) with the random
    streams of ``(seed, sample_id)`` -- the same functions and streams as
    ``Engine.apply``.

    Units and widths: 'fixed_pt' -- ``weights`` are signed ``cfg.weight_bits``
    mantissas (8-bit by default; weight = m * 2**weight_exp / 64), outputs are
    16-bit saturated synaptic input; 'floating_pt' -- float64 weights in
    weight units. ``cfg`` must agree with the model (``cfg.fixed_point`` for
    'fixed_pt').

    With ``host_io``: ``ctrl_in`` (per-sample control) and ``w_out``, on which
    the model sends the whole weight array whenever the host increments the
    ``publish`` Var (one message instead of Lava's element-wise ``Var.get``).
    Compile with ``lava_ssnnbp.run_config(fixed_point)``.
    """

    def __init__(self, *, weights: np.ndarray, cfg: SSNNConfig, layer: int, seed: int = 0,
                 learn: bool = True, sample_id: int = 0, host_io: bool = False,
                 io_depth: int = 16, name: ty.Optional[str] = None):
        if not 0 <= layer < cfg.n_layers:
            raise ValueError(f"synapse layers are 0..{cfg.n_layers - 1}, got {layer}")
        weights = check_layer_weights(cfg, layer, weights)
        n_post, n_pre = weights.shape
        super().__init__(cfg=cfg, layer=int(layer), steps=cfg.steps, replay_steps=cfg.replay_window,
                         host_io=bool(host_io),
                         io_depth=int(io_depth), name=name)
        self.weights = Var(shape=weights.shape, init=weights)
        self.weight_exp = Var(shape=(1,), init=cfg.exp_of(layer))
        self.seed = Var(shape=(1,), init=int(seed))
        self.learn = Var(shape=(1,), init=int(bool(learn)))
        self.sample_id = Var(shape=(1,), init=int(sample_id))
        self.a_buf = Var(shape=(n_post,), init=0)
        self.b_buf = Var(shape=(n_pre,), init=0)
        self.x_count = Var(shape=(n_pre,), init=0)
        self.dp_count = Var(shape=(n_post,), init=0)
        self.dn_count = Var(shape=(n_post,), init=0)
        cshape = (n_post, n_pre) if cfg.mode in PAIR_NUMERATORS else (1, 1)
        self.coincidences = Var(shape=cshape, init=0)
        self.publish = Var(shape=(1,), init=0)
        self.s_in = InPort(shape=(n_pre,))
        self.dp_in = InPort(shape=(n_post,))
        self.dn_in = InPort(shape=(n_post,))
        self.a_out = OutPort(shape=(n_post,))
        self.b_out = OutPort(shape=(n_pre,))
        self.ctrl_in = flag_pipe(InPort(shape=(CTRL_LEN,)), host_io, io_depth)
        self.w_out = flag_pipe(OutPort(shape=weights.shape), host_io, 1)


__all__ = ["CoincidenceDense"]
