"""SSNN-BP as one Lava process network, trained and tested inside Lava.

::

    SpikeInput --s_out--> CoincidenceDense[0] --a_out--> CompositeNeuron[1] --s_out--> ...
                            ^  ^                          |  |      ^
                            |  +--------dp_out/dn_out-----+  |      +--b_in-- CoincidenceDense[1]
                                                                    ...
    ... CoincidenceDense[L-1] --a_out--> OutputCompositeNeuron --s_out--> WinnerTakeAll
                                            ^   ^   ^                         |
        TargetGenerator --s_out--target_in--+   |   +-----------a_out---------+
                                                +-- dp_out/dn_out --> CoincidenceDense[L-1]

The processes are built and compiled once; samples are streamed through it
(per-sample state is reset by the models at each sample's first step, weights
are updated by the synapse models in Lava's learning phase at each sample's
last step). Training and inference share the one compiled network: the
per-sample control message carries the ``learn`` flag, which selects train or
test thresholds, dropout, target spikes, the input's random streams and
learning, so the learned weights are used at test time without copying.

Host I/O uses Lava's external pipes (see ``lava_ssnnbp.processes._host_io``):
whole arrays per message instead of ``Var.get``/``Var.set``, which Lava 0.10
moves one element at a time (~20 us each: 23 s for a 784x1280 weight array).
"""
from __future__ import annotations

import atexit
import threading
import multiprocessing.util  # noqa: F401 -- registers its exit handler before ours (see below)
import weakref
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from . import dynamics as dyn
from . import lifecycle
from .config import SSNNConfig
from .validation import SEED, check_integer, check_samples


@dataclass
class RunResult:
    """What :meth:`SSNNBPNetwork.run` returns.

    ``counts``: (n, C) output spike counts per sample. ``spikes`` (when
    recorded): ``'x0'`` (input, after dropout), ``'x<l>'``, ``'dp<l>'``,
    ``'dn<l>'`` for l = 1..L, each (n, T, N_l) bool -- the keys of the
    engine's ``SimResult.spikes``, with the sample axis first.
    """
    counts: np.ndarray
    spikes: Optional[Dict[str, np.ndarray]] = None


def _pipe_ports(procs) -> list:
    """All external-pipe csp ports on the host side of ``procs``."""
    out = []
    for p in procs:
        for port in list(p.in_ports) + list(p.out_ports):
            for attr in ("external_pipe_csp_send_port", "external_pipe_csp_recv_port"):
                if hasattr(port, attr):
                    out.append(getattr(port, attr))
    return out


def _shutdown(state: dict, graceful: bool = True, timeout: Optional[float] = None):
    """Stop the Lava runtime in ``state`` (idempotent, never blocks for good).
    A graceful stop sends Lava's STOP and gets ``timeout`` seconds (default
    ``lifecycle.STOP_TIMEOUT_S``); if that fails or hangs, or after an
    interrupted run, the worker processes of this runtime are terminated and
    its shared memory released."""
    runtime = state.get("runtime")
    if runtime is None:
        return
    state["runtime"] = None
    try:
        lifecycle.stop_runtime(runtime, graceful, timeout)
    finally:
        for port in state.get("pipes", []):
            try:
                port.join()      # only releases semaphores: does not block
            except Exception:    # noqa: BLE001
                pass
        state["pipes"] = []


_open: "weakref.WeakSet[SSNNBPNetwork]" = weakref.WeakSet()


@atexit.register
def _close_open_networks():
    """At exit, stop the runtimes of networks never closed. Registered after
    multiprocessing's own exit handler (imported above), so it runs first:
    that one joins every worker, which waits for a STOP that never comes."""
    for net in list(_open):
        net._finalizer()


class SSNNBPNetwork:
    """An SSNN-BP network of Lava processes (CPU simulation).

    Parameters
    ----------
    cfg : SSNNConfig
        The model; ``cfg.fixed_point`` selects the 'fixed_pt' ProcessModels.
    weights : list of arrays, optional
        Initial weights per synapse layer, shape (N_{k+1}, N_k) (integer
        mantissas in fixed point); default ``dynamics.init_weights(cfg, seed)``.
    seed : int
        Names every random stream (input, target, dropout, rounding,
        stochastic updates), exactly as ``Engine(cfg, weights, seed)`` (in
        floating point: with ``dtype=np.float64``, the Lava models' precision).
    event_frames : bool
        Inputs are event frames (n, T, D) instead of images (n, D).
    chunk : int
        Samples per Lava ``run`` call (= depth of the host pipes).
    first_sample : int
        Index of the first training sample (``Engine.samples_seen``).

    Use as a context manager, or call :meth:`close`: the Lava runtime (one OS
    process per Lava process) lives until then.
    """

    def __init__(self, cfg: SSNNConfig, weights: Optional[Sequence[np.ndarray]] = None,
                 seed: int = 0, *, event_frames: bool = False, chunk: int = 16,
                 first_sample: int = 0):
        check_integer("chunk", chunk, 1)
        for name, v in (("first_sample", first_sample), ("seed", seed)):
            check_integer(name, v, 0, SEED)
        if cfg.loihi2 and type(self) is SSNNBPNetwork:
            raise ValueError("the chip configuration (target 'loihi2') runs on Lava's learning engine: use "
                             "lava_ssnnbp.LearningEngineNetwork")
        self.cfg, self.seed, self.chunk = cfg, int(seed), int(chunk)
        self.event_frames = bool(event_frames)
        self.samples_seen = int(first_sample)
        self._in_use = threading.Lock()
        ws = weights if weights is not None else dyn.init_weights(cfg, seed)
        dtype = np.int32 if cfg.fixed_point else np.float64
        ws = dyn.check_weights(cfg, ws)
        self._weights: List[np.ndarray] = [np.array(w, dtype=dtype) for w in ws]
        self._weights_stale = False
        self._publish = 0
        self._state: dict = {"runtime": None, "pipes": []}
        self._closed = False
        self._build()
        self._finalizer = weakref.finalize(self, _shutdown, self._state, True)
        _open.add(self)

    # ------------------------------------------------------------------ build
    def _build(self):
        from lava_ssnnbp.processes.coincidence_dense.process import CoincidenceDense
        from lava_ssnnbp.processes.composite_neuron.process import CompositeNeuron, OutputCompositeNeuron
        from lava_ssnnbp.processes.spike_io.process import SpikeInput, TargetGenerator
        from lava_ssnnbp.processes.winner_take_all.process import WinnerTakeAll

        cfg, seed, L = self.cfg, self.seed, self.cfg.n_layers
        io = dict(host_io=True, io_depth=self.chunk)
        self.input = SpikeInput.from_config(cfg, seed, frames=self.event_frames, name="input", **io)
        self.target = TargetGenerator.from_config(cfg, seed, name="target", **io)
        self.hidden = [CompositeNeuron.from_config(cfg, l, seed, name=f"hidden{l}", **io)
                       for l in range(1, L)]
        self.output = OutputCompositeNeuron.from_config(cfg, seed, name="output", **io)
        self.synapses = [CoincidenceDense(weights=self._weights[k], cfg=cfg, layer=k, seed=seed,
                                          name=f"synapse{k}", **io) for k in range(L)]
        self.wta = (WinnerTakeAll(shape=(cfg.sizes[-1],), steps=cfg.steps, w_inh=cfg.wta_inhibition,
                                  replay_steps=cfg.replay_window, name="wta") if cfg.wta else None)
        layers = self.hidden + [self.output]          # neuron layer l = layers[l - 1]
        sources = [self.input] + self.hidden          # presynaptic layer of synapse k
        for k, syn in enumerate(self.synapses):
            sources[k].s_out.connect(syn.s_in)
            syn.a_out.connect(layers[k].a_in)
            layers[k].dp_out.connect(syn.dp_in)
            layers[k].dn_out.connect(syn.dn_in)
            if k >= 1:
                syn.b_out.connect(layers[k - 1].b_in)
        self.target.s_out.connect(self.output.target_in)
        if self.wta is not None:
            self.output.s_out.connect(self.wta.s_in)
            self.wta.a_out.connect(self.output.a_in)
        self._ctrl_procs = [self.target] + self.hidden + [self.output] + self.synapses
        self._procs = [self.input] + self._ctrl_procs + ([self.wta] if self.wta else [])

    @property
    def processes(self) -> list:
        """Every Lava process of the network."""
        return list(self._procs)

    def _ensure_runtime(self):
        if self._closed:
            raise RuntimeError("this SSNNBPNetwork is closed")
        if self._state["runtime"] is None:
            from .lava_config import run_config
            try:
                with lifecycle.worker_guard():     # workers die with this process, ignore Ctrl-C
                    self.input.create_runtime(run_cfg=run_config(self.cfg.fixed_point))
            finally:
                # also when a ProcessModel fails to build: the workers already
                # started belong to this runtime and must be stopped with it
                runtime = getattr(self.input, "_runtime", None)
                if runtime is not None:
                    self._state["runtime"] = runtime
                    self._state["pipes"] = _pipe_ports(self._procs)

    # ------------------------------------------------------------------ run
    def run(self, x: np.ndarray, y: Optional[np.ndarray] = None, learn: bool = False,
            record: bool = False, sample_ids: Optional[Sequence[int]] = None) -> RunResult:
        """Present samples ``x`` (n, D) images in [0, 1] or (n, T, D) event frames.

        ``learn=True``: training -- target spikes from ``y``, dropout, train
        thresholds, and a weight update per sample inside the synapse models;
        the samples get the training stream indices ``samples_seen ...``.
        ``learn=False``: inference -- test thresholds, no dropout, no learning;
        input streams ``(seed + dynamics.TEST_SEED_OFFSET, sample_ids[i])`` (default 0..n-1),
        as ``Engine.predict_counts(x, sample_ids)``.
        ``record=True`` returns every layer's spike trains.
        """
        if not self._in_use.acquire(blocking=False):
            raise RuntimeError("this network is running samples in another thread; one network runs one "
                               "call at a time (its Lava runtime is one pipeline): wait for it, or build another")
        try:
            return self._run(x, y, learn, record, sample_ids)
        finally:
            self._in_use.release()

    def _run(self, x, y, learn: bool, record: bool, sample_ids) -> RunResult:
        x, y, ids = check_samples(self.cfg, x, y, None if learn else sample_ids, train=learn,
                                  event_frames=self.event_frames)
        n = len(x)
        if learn:
            ids = np.arange(self.samples_seen, self.samples_seen + n)
        labels = np.zeros(n, dtype=np.int64) if y is None else y
        counts, recs = [], []
        try:
            self._ensure_runtime()
            for a in range(0, n, self.chunk):
                b = min(n, a + self.chunk)
                c, r = self._run_chunk(x[a:b], labels[a:b], ids[a:b], learn, record)
                counts.append(c)
                if record:
                    recs.append(r)
                if learn:
                    self.samples_seen += b - a
                    self._weights_stale = True
        except BaseException:
            self._abort()
            raise
        C = self.cfg.sizes[-1]
        out = RunResult(np.concatenate(counts) if counts else np.zeros((0, C), dtype=np.int64))
        if record and recs:
            out.spikes = {k: np.concatenate([r[k] for r in recs]) for k in recs[0]}
        return out

    def _run_chunk(self, x, labels, ids, learn: bool, record: bool):
        from lava.magma.core.run_conditions import RunSteps

        m, L = len(x), self.cfg.n_layers
        for i in range(m):
            head = np.array([ids[i], int(learn), int(record)], dtype=np.float64)
            self.input.ctrl_in.external_pipe_csp_send_port.send(
                np.concatenate([head, np.asarray(x[i], dtype=np.float64).ravel()]))
            self.target.ctrl_in.external_pipe_csp_send_port.send(np.append(head, labels[i]))
            for p in self._ctrl_procs[1:]:
                p.ctrl_in.external_pipe_csp_send_port.send(head)
        period = self.cfg.steps_per_sample   # the replay window (and the chip's update step) follow each sample

        def run_and_collect():
            self.input.run(condition=RunSteps(num_steps=m * period, blocking=True))
            counts = np.stack([self.output.counts_out.external_pipe_csp_recv_port.recv()
                               for _ in range(m)]).astype(np.int64)
            rec = None
            if record:
                rec = {"x0": np.stack([self.input.rec_out.external_pipe_csp_recv_port.recv()
                                       for _ in range(m)]).astype(bool)}
                for l, proc in enumerate(self.hidden + [self.output], start=1):
                    r = np.stack([proc.rec_out.external_pipe_csp_recv_port.recv()
                                  for _ in range(m)]).astype(bool)
                    rec[f"x{l}"], rec[f"dp{l}"], rec[f"dn{l}"] = r[:, 0], r[:, 1], r[:, 2]
                rec = {k: rec[k] for k in self._record_keys(L)}
            return counts, rec

        # a worker killed mid-run (OOM) would leave the run waiting for good
        return lifecycle.call_watching_workers(run_and_collect, self._state["runtime"])

    @staticmethod
    def _record_keys(L: int) -> list:
        return ([f"x{l}" for l in range(L + 1)] + [f"dp{l}" for l in range(1, L + 1)]
                + [f"dn{l}" for l in range(1, L + 1)])

    def train(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Train sample by sample (one weight update per sample, inside Lava);
        returns the (n, C) output spike counts seen during training."""
        return self.run(x, y, learn=True).counts

    def predict_counts(self, x: np.ndarray, sample_ids: Optional[Sequence[int]] = None) -> np.ndarray:
        """(n, C) output spike counts at test time (no dropout, no learning)."""
        return self.run(x, None, learn=False, sample_ids=sample_ids).counts

    def predict(self, x: np.ndarray, sample_ids: Optional[Sequence[int]] = None) -> np.ndarray:
        """Predicted classes (n,): argmax of the output spike counts (ties: the lowest class)."""
        return np.argmax(self.predict_counts(x, sample_ids), axis=1)

    # the engine's name for it (Engine.predict returns every layer's counts)
    predict_labels = predict

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> List[np.ndarray]:
        """Current weights per synapse layer, read back from the CoincidenceDense
        models (integer mantissas in fixed point). Copies."""
        if self._weights_stale and self._state["runtime"] is not None:
            limit = lifecycle.STOP_TIMEOUT_S + self._read_allowance_s()
            try:   # a time limit: workers that died (OOM, kill) would never answer
                self._weights = lifecycle.call_with_timeout(self._read_weights, limit)
            except TimeoutError:
                self._abort()
                raise RuntimeError(f"the Lava workers did not send the weights within "
                                   f"{limit:g} s; stopped them by force") from None
            except BaseException:
                self._abort()
                raise
            self._weights_stale = False
        return [w.copy() for w in self._weights]

    def _read_allowance_s(self) -> float:
        """Seconds reading the weights may take beyond the workers' answer (the pipes: none)."""
        return 0.0

    def _read_weights(self) -> List[np.ndarray]:
        ws = []
        for syn, w in zip(self.synapses, self._weights):
            self._publish += 1
            syn.publish.set(np.array([self._publish]))
            ws.append(syn.w_out.external_pipe_csp_recv_port.recv().astype(w.dtype))
        return ws

    def float_weights(self) -> List[np.ndarray]:
        """Weights in float units (dequantised in fixed point)."""
        return dyn.float_weights(self.cfg, self.weights)

    # ------------------------------------------------------------------ lifetime
    def _abort(self):
        """After an error or interrupt mid-run: tear the runtime down by force."""
        self._closed = True
        _shutdown(self._state, graceful=False)

    def close(self):
        """Stop the Lava runtime and its worker processes (idempotent). The last
        weights stay readable through :attr:`weights`."""
        if self._closed:
            return
        try:
            if self._state["runtime"] is not None:
                self.weights   # noqa: B018 -- cache the final weights before stopping
        finally:
            self._closed = True
            _shutdown(self._state, graceful=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        prec = "fixed_pt" if self.cfg.fixed_point else "floating_pt"
        state = "closed" if self._closed else ("running" if self._state["runtime"] else "not compiled")
        return f"SSNNBPNetwork(sizes={self.cfg.sizes}, {prec}, {state})"


__all__ = ["SSNNBPNetwork", "RunResult"]
