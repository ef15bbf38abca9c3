"""ProcessModels of CoincidenceDense: forward W s and backward W^T (d+ - d-)
from one weight array, coincidence counting, and the per-sample weight update
in Lava's learning phase."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.proc_models._base import SampleModel, has_pipe
from lava_ssnnbp.processes.coincidence_dense.process import CoincidenceDense


class _CoincidenceDenseModel(SampleModel):
    FIXED = False

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.cfg = proc_params["cfg"]
        self.k = int(proc_params["layer"])
        if bool(self.cfg.fixed_point) != self.FIXED:
            raise ValueError(
                f"{type(self).__name__} needs cfg.fixed_point={self.FIXED}; compile with "
                f"lava_ssnnbp.run_config(fixed_point={bool(self.cfg.fixed_point)})")
        self._published = 0

    # -- spiking phase: emit last step's drive, take in this step's spikes
    def run_spk(self):
        backward = has_pipe(self.b_out)
        if self.in_replay():
            return self.replay_step(backward)
        if self.t == 0:
            self.begin_sample()
            self.a_buf[:] = 0
            self.b_buf[:] = 0
            self.x_count[:] = 0
            self.dp_count[:] = 0
            self.dn_count[:] = 0
            self.coincidences[:] = 0
        self.a_out.send(self.a_buf)
        if backward:
            self.b_out.send(self.b_buf)
        s, dp, dn = self.s_in.recv(), self.dp_in.recv(), self.dn_in.recv()
        exp = int(self.weight_exp[0])
        self.a_buf[:] = self.forward(s, exp)
        if backward:
            self.b_buf[:] = dyn.backward_drive(self.weights, dp[None], dn[None], self.FIXED, exp)[0]
        if self.learning and not self.R:
            self.count(s, dp, dn)

    def count(self, s, dp, dn):
        """Count this step's spikes at the synapse's ends and, in the pair modes,
        their pairs: the whole sample, or only the replay window in 'replay' mode."""
        self.x_count += s
        self.dp_count += dp
        self.dn_count += dn
        if self.cfg.mode in ("coincidence", "replay"):   # this step's presynaptic spikes
            self.count_pairs(s, dp, dn)
        elif self.cfg.mode == "causal":                  # every presynaptic spike of the sample so far
            self.count_pairs(self.x_count, dp, dn)

    def replay_step(self, backward: bool):
        """A step of the replay window: the last drive of the pass is sent and the
        buffers cleared (the neurons ignore their inputs there), and the replay
        spikes at the synapse's ends are counted."""
        self.a_out.send(self.a_buf)
        if backward:
            self.b_out.send(self.b_buf)
        self.a_buf[:] = 0
        self.b_buf[:] = 0
        s, dp, dn = self.s_in.recv(), self.dp_in.recv(), self.dn_in.recv()
        if self.learning:
            self.count(s, dp, dn)

    def forward(self, s, exp):
        if self.FIXED:
            # integer sums are exact in any order: only the active columns
            idx = np.flatnonzero(s)
            return dyn.forward_drive(self.weights[:, idx], s[None, idx], True, exp)[0]
        # float: the same (1, N) GEMM as the batched engine, for bit-identical sums
        return dyn.forward_drive(self.weights, s[None], False, exp)[0]

    def count_pairs(self, pre_counts, dp, dn):
        """Accumulate (d+ - d-)_post(t) times ``pre_counts`` for this step: the
        presynaptic spikes of this step (Eq. 10, ``dynamics.coincidence_numerator``)
        or of the sample so far ('causal', ``dynamics.causal_numerator``), touching
        only the synapses whose two ends have spiked (event-driven, exact)."""
        pre = np.flatnonzero(pre_counts)
        post = np.flatnonzero(dp | dn)
        if pre.size and post.size:
            self.coincidences[np.ix_(post, pre)] += dyn.coincidence_numerator(
                pre_counts[None, pre], dp[None, post], dn[None, post]).astype(self.coincidences.dtype)

    # -- learning phase: once per sample (learning epoch), at its last step
    def lrn_guard(self):
        return self.learning and self.is_last()

    def run_lrn(self):
        cfg, k, sid = self.cfg, self.k, self.sid
        seed = int(self.seed[0])
        xc, dpc, dnc = (c.astype(np.int64)[None] for c in (self.x_count, self.dp_count, self.dn_count))
        coinc = self.coincidences.astype(np.int64) if cfg.mode in dyn.PAIR_NUMERATORS else None
        self.weights[:] = dyn.learn(self.weights, cfg, k, xc, dpc, dnc, seed, sid, coinc)

    # -- host read-back: one message with the whole weight array
    def on_var_update(self):
        req = int(self.publish[0])
        if req != self._published:
            self._published = req
            if has_pipe(self.w_out):
                self.w_out.send(self.weights)


class _CommonTypes:
    weight_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=4)
    seed: np.ndarray = LavaPyType(np.ndarray, np.int64)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sample_id: np.ndarray = LavaPyType(np.ndarray, np.int64)
    x_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    dp_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    dn_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    coincidences: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    publish: np.ndarray = LavaPyType(np.ndarray, np.int64)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    dp_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    dn_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    ctrl_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)


@implements(proc=CoincidenceDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyCoincidenceDenseModelFloat(_CommonTypes, _CoincidenceDenseModel):
    """Float64 weights and drives."""
    FIXED = False
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    a_buf: np.ndarray = LavaPyType(np.ndarray, float)
    b_buf: np.ndarray = LavaPyType(np.ndarray, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    b_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    w_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)


@implements(proc=CoincidenceDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyCoincidenceDenseModelFixed(_CommonTypes, _CoincidenceDenseModel):
    """8-bit weight mantissas (``cfg.weight_bits``) with a per-layer exponent;
    16-bit saturated synaptic outputs; stochastic rounding of the update."""
    FIXED = True
    weights: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    a_buf: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    b_buf: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    b_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    w_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=8)
