"""ProcessModels of SpikeInput, TargetGenerator and SpikeRelay (one model each, valid for
both 'floating_pt' and 'fixed_pt': spikes are 1-bit, the encoders' random
draws are the same in both)."""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.proc_models._base import Replay, SampleModel, has_pipe
from lava_ssnnbp.processes.spike_io.process import SpikeInput, SpikeRelay, TargetGenerator


@implements(proc=SpikeInput, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeInputModel(SampleModel):
    """Draws each sample's (T, D) train at its first step (``dynamics.encode_sample``:
    the sample's own stream, the test streams at inference), then applies the input
    dropout mask (``dynamics.sample_keep_mask``) when learning."""
    data: np.ndarray = LavaPyType(np.ndarray, float)
    gain: np.ndarray = LavaPyType(np.ndarray, float)
    seed: np.ndarray = LavaPyType(np.ndarray, np.int64)
    drop: np.ndarray = LavaPyType(np.ndarray, float)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    record: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sample_id: np.ndarray = LavaPyType(np.ndarray, np.int64)
    spikes: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)
    x_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=16)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    ctrl_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    rec_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.relayed = bool(proc_params.get("relayed"))   # relay neurons count and replay the inputs
        self._replay = None

    def run_spk(self):
        if self.after_pass() and (self.relayed or not self.in_replay()):
            # the chip configuration: the relay neurons replay; every step after the pass is silent
            self.s_out.send(np.zeros(self.x_count.shape, bool))
            return
        if self.in_replay():        # 'replay' mode: the inputs replay their counts when learning
            if self.learning and self._replay is None:
                self._replay = Replay(int(self.seed[0]), self.sid, 0, self.T, {"x": self.x_count})
            self.s_out.send(self._replay.step()["x"] if self.learning else np.zeros(self.x_count.shape, bool))
            return
        if self.t == 0:
            self.begin_sample()
            slot = self.sample_index % self.data.shape[0]
            if self.payload is not None:
                self.data[slot] = self.payload.reshape(self.data.shape[1:])
            self.encode(self.data[slot])
        self.s_out.send(self.spikes[self.t])
        if self.t == self.T - 1 and self.recording and has_pipe(self.rec_out):
            self.rec_out.send(self.spikes)

    def encode(self, sample):
        """``sample``: an image (D,), or event frames (T, D) (``frames``: already spikes)."""
        seed, sid = int(self.seed[0]), self.sid
        spikes, _ = dyn.encode_sample(seed, sid, self.learning, self.T, sample, float(self.gain[0]))
        p = float(self.drop[0])
        if self.learning and p > 0:
            spikes = spikes & dyn.sample_keep_mask(seed, sid, 0, spikes.shape[-1], p)[None]
        self.spikes[:] = spikes
        if self.R:            # the counts the replay window fires from
            self.x_count[:] = spikes.sum(axis=0)
            self._replay = None


@implements(proc=TargetGenerator, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PyTargetGeneratorModel(SampleModel):
    """Draws each sample's (T, C) label train at its first step
    (``dynamics.encode_sample``); zeros at inference."""
    labels: np.ndarray = LavaPyType(np.ndarray, np.int64)
    rate: np.ndarray = LavaPyType(np.ndarray, float)
    seed: np.ndarray = LavaPyType(np.ndarray, np.int64)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sample_id: np.ndarray = LavaPyType(np.ndarray, np.int64)
    targets: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    ctrl_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def run_spk(self):
        if self.t == 0:
            self.begin_sample()
            if self.payload is not None:
                label = int(self.payload[0])
            else:
                label = int(self.labels[self.sample_index % self.labels.shape[0]])
            C = self.targets.shape[1]
            if self.learning and not 0 <= label < C:
                raise ValueError(f"label {label} outside 0..{C - 1}")
            _, self.targets[:] = dyn.encode_sample(int(self.seed[0]), self.sid, self.learning, self.T, label=label,
                                                   num_classes=C, target_rate=float(self.rate[0]))
        self.s_out.send(self.targets[self.t] if not self.after_pass() else np.zeros(self.targets.shape[1], bool))


@implements(proc=SpikeRelay, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeRelayModel(SampleModel):
    """Forwards the pass's input spikes (after its dropout), counts them, and
    replays the counts in a learning sample's window (``_base.Replay``, chip)."""
    seed: np.ndarray = LavaPyType(np.ndarray, np.int64)
    drop: np.ndarray = LavaPyType(np.ndarray, float)
    learn: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    sample_id: np.ndarray = LavaPyType(np.ndarray, np.int64)
    keep: np.ndarray = LavaPyType(np.ndarray, bool, precision=1)
    x_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    ctrl_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._replay = None

    def run_spk(self):
        s = self.s_in.recv().astype(bool)
        if self.t == 0:
            self.begin_sample()
            self.x_count[:] = 0
            self._replay = None
            p = float(self.drop[0])
            self.keep[:] = (dyn.sample_keep_mask(int(self.seed[0]), self.sid, 0, self.keep.shape[0], p, True)
                            if self.learning and p > 0 else True)
        if not self.after_pass():
            out = s & self.keep if self.learning else s
            self.x_count += out
        elif self.in_replay() and self.learning:
            if self._replay is None:
                self._replay = Replay(int(self.seed[0]), self.sid, 0, self.T, {"x": self.x_count},
                                      chip=True, window=self.R)
            out = self._replay.step()["x"]
        else:
            out = np.zeros(self.x_count.shape, dtype=bool)
        self.s_out.send(out)
