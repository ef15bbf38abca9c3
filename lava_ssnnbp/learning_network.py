"""SSNN-BP built from the processes Loihi 2 runs: plastic synapses on Lava's own
learning engine.

::

    SpikeInput --s_out--> LearningDense[0] --a_out--> LearningCompositeNeuron[1] --s_out--> LearningDense[1] ...
                               ^  y1 y2 y3 bap             |  ^ b_in                           |
                               +---------------------------+  +------ Dense W1^T <--d_out--- LearningOutputCompositeNeuron
                                                                     (BackwardWeightSync: W1 -> W1^T)   ^   | s_out
                                                                                    inh_in ---- Dense WTA <-+

* every forward plastic synapse is Lava's ``LearningDense`` with Lava's
  bit-approximate model (``PyLearningDenseModelBitApproximate``) and the rule
  ``lava_config.loihi_learning_rule(cfg, k)`` (a ``Loihi3FLearningRule``,
  ``t_epoch = 1``); it applies the update itself, in Lava's learning phase;
* the composite neurons are ``LearningNeuronProcess``es sending d+, d- and the
  sample-end flag as y1, y2, y3 (``learning_engine.third_factors``) and x as
  the back-propagating spike;
* the backward path of synapse layer k >= 1 is a Lava ``Dense`` holding W_k^T
  (post = layer k, pre = layer k+1) driven by the graded spike d+ - d-; a
  ``BackwardWeightSync`` (the embedded core) copies W_k^T into it after every
  sample (why it cannot learn by itself: ``processes/weight_mirror/process.py``);
  ``backward_sync=False`` leaves it at the initial W_k^T (to measure the drift);
* the WTA is a Lava ``Dense`` (-round(64 w_inh) off the diagonal).

No model of ours reads a weight array transposed or applies a weight update;
the only weight write of ours is the embedded core's copy.

What differs from ``Engine`` / ``SSNNBPNetwork`` (fixed point), and how to
compare bit for bit:

* rounding: Lava draws one random number per learning epoch (= time step),
  shared by every synapse, from ``ConnVarRandom`` (seed 2); the engine one per
  synapse. ``Engine(..., learning_engine='lava')`` rounds as Lava does
  (``learning_engine.epoch_round_update``, with the draw of the Lava run's
  time step, counted from the run's start: a network built with
  ``first_sample`` = N continues the stream after N samples' steps,
  ``proc_models/learning_dense.py``);
* weight range: Lava's learning engine clips at -256..255 (9-bit signed),
  the engine at +-(2**(weight_bits - 1) - 1); ``learning_engine='lava'`` clips as Lava;
* y traces: ``Loihi3FLearningRule`` gives y1..y3 the time constant 2**16 - 1,
  and Lava's simulation decays them once per epoch with stochastic rounding,
  which turns y3 = 32 into 31 with probability 4.9e-4 per epoch and y = 1 into
  0 with probability 1.5e-5; the network sets the rule's y time constants to
  ``learning_engine.NO_DECAY_TAU`` (exp(-1/tau) == 1.0: the value the neuron
  wrote this step, as a neuron-supplied third factor is meant to be).

Fixed point only, modes 'coincidence' and 'replay' (the rule's modes).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from . import learning_engine as le
from .config import SSNNConfig
from .network import SSNNBPNetwork


def learning_dense_rule(cfg: SSNNConfig, layer: int):
    """``lava_config.loihi_learning_rule(cfg, layer)`` with non-decaying y traces
    (see the module docstring)."""
    from .lava_config import loihi_learning_rule

    rule = loihi_learning_rule(cfg, layer)
    rule.y1_tau = rule.y2_tau = rule.y3_tau = le.NO_DECAY_TAU
    return rule


class LearningEngineNetwork(SSNNBPNetwork):
    """An SSNN-BP network whose plastic synapses run on Lava's learning engine
    (see the module docstring). Same API as :class:`SSNNBPNetwork` (``train``,
    ``predict_counts``, ``run``, ``weights``, ``close``); in addition
    :attr:`backward_weights` (the W^T copies) and :attr:`time_step`.

    ``backward_sync``: copy W^T into the backward arrays after every sample
    (default; the embedded core's job on Loihi 2), or leave them at their
    initial values. ``lava_default_y_tau``: keep ``Loihi3FLearningRule``'s
    y time constants (2**16 - 1) instead of non-decaying y traces.
    """

    def __init__(self, cfg: SSNNConfig, weights: Optional[Sequence[np.ndarray]] = None, seed: int = 0, *,
                 backward_sync: bool = True, lava_default_y_tau: bool = False, eta_level: int = 0, **kw):
        if not cfg.fixed_point:
            raise ValueError("the learning-engine network needs cfg.fixed_point=True (Lava's bit-approximate "
                             "learning engine); use SSNNBPNetwork for floating point")
        if cfg.mode not in ("coincidence", "replay"):
            raise ValueError(f"the learning-engine network runs the on-chip rules 'coincidence' and 'replay', "
                             f"not {cfg.mode!r}")
        self.backward_sync = bool(backward_sync)
        self.lava_default_y_tau = bool(lava_default_y_tau)
        if eta_level and not cfg.loihi2:
            raise ValueError("eta_level is a learning-rate level of the chip configuration (target 'loihi2')")
        if cfg.loihi2:
            le.level_magnitude(cfg, eta_level)      # raises for a level the configuration does not have
        self.eta_level = int(eta_level)
        self._steps_run = 0
        super().__init__(cfg, weights, seed, **kw)

    def _rule(self, k: int, mirrored: bool = False):
        from .lava_config import loihi2_learning_rule, loihi_learning_rule
        if self.cfg.loihi2:
            return loihi2_learning_rule(self.cfg, k, mirrored)
        return loihi_learning_rule(self.cfg, k) if self.lava_default_y_tau else learning_dense_rule(self.cfg, k)

    @property
    def eta_scale(self) -> int:
        """The counting factors' magnitude m the neurons send: ``learning_engine.level_magnitude``
        of eta_level in the chip configuration, 1 otherwise."""
        return le.level_magnitude(self.cfg, self.eta_level) if self.cfg.loihi2 else 1

    # ------------------------------------------------------------------ build
    def _build(self):
        from lava_ssnnbp.processes._lava_runtime import import_lava_runtime
        import_lava_runtime()      # before any Lava import: tqdm may have fixed multiprocessing's context
        from lava.proc.dense.process import Dense, LearningDense
        from lava.utils.weightutils import SignMode

        from lava_ssnnbp import dynamics as dyn
        from lava_ssnnbp.processes.learning_neuron.process import (LearningCompositeNeuron,
                                                                   LearningOutputCompositeNeuron)
        from lava_ssnnbp.processes.spike_io.process import SpikeInput, TargetGenerator
        from lava_ssnnbp.processes.weight_mirror.process import BackwardWeightSync

        from lava.magma.core.learning.constants import GradedSpikeCfg

        from lava_ssnnbp.processes.spike_io.process import SpikeRelay

        cfg, seed, L = self.cfg, self.seed, self.cfg.n_layers
        chip = cfg.loihi2
        io = dict(host_io=True, io_depth=self.chunk)
        # 9 weight bits: Lava's MIXED format would otherwise clear the mantissa's LSB
        # (truncate_weights keeps num_weight_bits - 1 magnitude bits); the learning engine holds 9 anyway
        wfmt = dict(num_weight_bits=9, sign_mode=SignMode.MIXED)
        # a network that continues a run continues its rounding stream (proc_models/learning_dense.py)
        lfmt = dict(wfmt, rounding_draws_before=self.samples_seen * cfg.steps_per_sample)
        rules = [self._rule(k) for k in range(L)]
        self.input = SpikeInput.from_config(cfg, seed, frames=self.event_frames, name="input", **io)
        # the chip configuration: relay neurons take the input onto the chip (dropout, counts, replay)
        self.relay = SpikeRelay.from_config(cfg, seed, name="relay", **io) if chip else None
        self.target = TargetGenerator.from_config(cfg, seed, name="target", **io)
        m = dict(eta_scale=self.eta_scale)
        self.hidden = [LearningCompositeNeuron.from_config(cfg, l, seed, learning_rule=rules[l - 1],
                                                           name=f"hidden{l}", **m, **io) for l in range(1, L)]
        self.output = LearningOutputCompositeNeuron.from_config(cfg, seed, learning_rule=rules[L - 1],
                                                                name="output", **m, **io)
        self.synapses = [LearningDense(weights=self._weights[k].copy(), learning_rule=rules[k],
                                       weight_exp=cfg.exp_of(k), name=f"synapse{k}", **lfmt) for k in range(L)]
        if chip:   # W^T learns by the mirrored rule: the same tag and rounding as W, no copy
            self.backward = {k: LearningDense(weights=self._weights[k].T.copy(), learning_rule=self._rule(k, True),
                                              num_message_bits=3, graded_spike_cfg=GradedSpikeCfg.OVERWRITE,
                                              weight_exp=cfg.exp_of(k), name=f"backward{k}", **lfmt)
                             for k in range(1, L)}
        else:
            self.backward = {k: Dense(weights=self._weights[k].T.copy(), num_message_bits=2,
                                      weight_exp=cfg.exp_of(k), name=f"backward{k}", **wfmt) for k in range(1, L)}
        self.syncs = {k: BackwardWeightSync(shape=self._weights[k].shape, steps=cfg.steps,
                                            replay_steps=cfg.replay_window, name=f"sync{k}")
                      for k in self.backward} if self.backward_sync and not chip else {}
        C = cfg.sizes[-1]
        wta_w = -dyn.wta_weight(cfg.wta_inhibition, True) * (1 - np.eye(C, dtype=np.int32))
        self.wta = Dense(weights=wta_w.astype(np.int32), name="wta", **wfmt) if cfg.wta else None

        layers = self.hidden + [self.output]          # neuron layer l = layers[l - 1]
        sources = [self.relay or self.input] + self.hidden   # presynaptic layer of synapse k
        if chip:
            self.input.s_out.connect(self.relay.s_in)
        for k, syn in enumerate(self.synapses):
            post = layers[k]
            sources[k].s_out.connect(syn.s_in)
            syn.a_out.connect(post.a_in)
            post.s_out_bap.connect(syn.s_in_bap)
            post.s_out_y1.connect(syn.s_in_y1)
            post.s_out_y2.connect(syn.s_in_y2)
            post.s_out_y3.connect(syn.s_in_y3)
            if k in self.backward:
                post.d_out.connect(self.backward[k].s_in)
                self.backward[k].a_out.connect(layers[k - 1].b_in)
                if chip:   # the mirrored rule's factors come from the copy's post layer k
                    below, back = layers[k - 1], self.backward[k]
                    below.s_out_my1.connect(back.s_in_y1)
                    below.s_out_my2.connect(back.s_in_y2)
                    below.s_out_y3.connect(back.s_in_y3)
                    below.s_out_bap.connect(back.s_in_bap)
            if k in self.syncs:
                self.syncs[k].forward.connect_var(syn.weights)
                self.syncs[k].backward.connect_var(self.backward[k].weights)
        self.target.s_out.connect(self.output.target_in)
        if self.wta is not None:
            self.output.s_out.connect(self.wta.s_in)
            self.wta.a_out.connect(self.output.inh_in)
        self._ctrl_procs = [self.target] + ([self.relay] if chip else []) + self.hidden + [self.output]
        self._procs = ([self.input] + self._ctrl_procs + self.synapses + list(self.backward.values())
                       + list(self.syncs.values()) + ([self.wta] if self.wta else []))

    # ------------------------------------------------------------------ weights
    READ_S_PER_WEIGHT = 2e-4     # ten times Var.get's measured ~20 us per weight: slack for a loaded machine

    def _read_allowance_s(self) -> float:
        return self.READ_S_PER_WEIGHT * sum(int(w.size) for w in self._weights)

    def _read_weights(self) -> List[np.ndarray]:
        # Lava's own model has no pipe: Var.get (about 20 us per weight in Lava 0.10)
        return [np.asarray(syn.weights.get()).astype(np.int32) for syn in self.synapses]

    @property
    def backward_weights(self) -> dict:
        """{k: the backward Dense's weights (N_k, N_{k+1})} for synapse layers k >= 1 (read with Var.get)."""
        if self._state["runtime"] is None:
            raise RuntimeError("the backward copies are readable only while the network runs (before close())")
        return {k: np.asarray(d.weights.get()).astype(np.int32) for k, d in self.backward.items()}

    def set_eta_level(self, level: int):
        """Move the chip configuration to learning-rate level ``level`` (eta / 2^level):
        what a port's host does between epochs, one register write per neuron layer
        (the counting factors' magnitude); the learning rule itself stays."""
        if not self.cfg.loihi2:
            raise ValueError("learning-rate levels belong to the chip configuration (target 'loihi2')")
        le.level_magnitude(self.cfg, level)         # raises for a level the configuration does not have
        self.eta_level = int(level)
        for layer in self.hidden + [self.output]:
            layer.eta_scale.init = np.array([self.eta_scale])
            if self._state["runtime"] is not None:
                layer.eta_scale.set(np.array([self.eta_scale]))

    @property
    def time_step(self) -> int:
        """Lava time steps run so far (every sample, trained or tested, takes T + T_s)."""
        return self._steps_run

    def _run_chunk(self, x, labels, ids, learn: bool, record: bool):
        out = super()._run_chunk(x, labels, ids, learn, record)
        self._steps_run += len(x) * self.cfg.steps_per_sample
        return out

    def __repr__(self):
        return super().__repr__().replace("SSNNBPNetwork", "LearningEngineNetwork")


__all__ = ["LearningEngineNetwork", "learning_dense_rule"]
