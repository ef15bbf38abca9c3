"""Export the forward path of a trained SSNN-BP network toward Loihi 2.

* :func:`to_fixed_point` -- the fixed-point network that stands for a float one
  (8-bit weight mantissas, integer neuron registers).
* :func:`export_netx` -- lava-dl's netx HDF5 format (``/layer/<i>``: dense
  weights and CUBA neuron registers), readable by
  ``lava.lib.dl.netx.hdf5.Network``.
* :func:`run_netx` -- load such a file with netx and run inference inside Lava
  on given input spike trains (our encoder's), one sample after another.
* :func:`export_nir` / :func:`read_nir` -- the trained forward graph in NIR
  (``nir`` package).

What the netx file holds, and how faithful it is
-------------------------------------------------
The test-time forward path of SSNN-BP is, per layer, a Dense synapse (8-bit
mantissas, one-step delay) into our fixed-point forward neuron, which is
Lava's bit-accurate LIF with ``dv = 0`` (no leak), ``du`` from tau, and the
**test-time** threshold (theta / (1 - p_drop of the layer below) with
``test_threshold_scaling``). The output layer adds the WTA inhibition, a
recurrent C x C Dense with ``-w_inh`` off the diagonal; netx expresses that as
a ``dense_rec`` layer (``weight_rec``), with the same one-step delay as ours.
So every piece maps, except:

* **reset**: netx's CUBA neuron (Lava ``LIF``) resets v to 0. Our default
  ``reset='subtract'`` removes the threshold instead; the export then writes
  the closest neuron (reset to zero) and the accuracy difference has to be
  measured (``exact`` is False in the returned :class:`NetxExport`).
  Networks trained with ``reset='zero'`` export exactly.
* **saturation corner cases**: we saturate the current u at 24 bits and each
  synapse layer's input at 16 bits; Lava wraps u modulo 2**23 and does not
  clip the Dense output. They differ only when those ranges overflow.
* **input**: the front-loaded Bernoulli encoder is not part of the network
  (on Loihi it runs on the embedded cores or the host); :func:`run_netx`
  takes the spike trains our encoder drew (``encode_test_inputs``).
* **sample boundaries**: our network starts every sample from zero state with
  empty synapse buffers. :func:`run_netx` zeroes u and v with netx's own
  ``reset_interval`` (every layer at a sample's first step) and, by default,
  has the host clear the synapse buffers between samples (what an embedded
  core would do); see ``docs/export.md``.
* **lava-dl 0.6.0**: a ``dense_rec`` layer whose recurrent weights are all
  inhibitory loses them in Lava's weight truncation; :func:`run_netx` works
  around it (``_fix_recurrent_weight_bits``).

Nothing here imports torch or Lava at import time; netx (which imports torch)
is imported inside :func:`run_netx` only.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from . import dynamics as dyn
from . import fixed_point as fxp
from . import lifecycle
from .atomic import atomic_write
from .config import SSNNConfig

# netx (lava.lib.dl.netx.utils.optimize_weight_bits) clips weights to [-256, 254]
NETX_WEIGHT_MIN, NETX_WEIGHT_MAX = -256, 254


@dataclass
class NetxExport:
    """What :func:`export_netx` wrote."""
    path: Path
    exact: bool                  # True: netx reproduces our test-time forward pass bit for bit
    notes: List[str] = field(default_factory=list)   # every known difference
    layers: List[dict] = field(default_factory=list)  # per neuron layer: shape, vThMant, iDecay, ...


# ------------------------------------------------------------------ fixed point
def to_fixed_point(cfg: SSNNConfig, weights: Sequence[np.ndarray]):
    """The fixed-point network that stands for ``(cfg, weights)``.

    A fixed-point config is returned as is (weights as int32 mantissas). A
    float one gets ``fixed_point=True`` and its weights rounded to signed
    ``cfg.weight_bits`` mantissas at each layer's exponent
    (``fixed_point.quantize_weights``); thresholds and decays become the
    integer registers of ``dynamics.neuron_params``. Returns ``(cfg, mantissas)``.
    """
    weights = dyn.check_weights(cfg, weights)
    if cfg.fixed_point:
        return cfg, [np.asarray(w).astype(np.int32) for w in weights]
    mode = "rate" if cfg.mode == "noise" else cfg.mode   # 'noise' exists in float only; irrelevant at test time
    fcfg = cfg.replace(fixed_point=True, mode=mode)
    return fcfg, [fxp.quantize_weights(w, cfg.exp_of(k), cfg.weight_bits) for k, w in enumerate(weights)]


def wta_weight(cfg: SSNNConfig) -> int:
    """Integer inhibitory weight between output neurons (fixed point, 64 = 1.0)."""
    return int(round(cfg.wta_inhibition * fxp.W_ONE))


def encode_test_inputs(cfg: SSNNConfig, x: np.ndarray, seed: int, sample_ids=None) -> np.ndarray:
    """The input spike trains (n, T, D) bool that our network sees at test time.

    Images (n, D) are encoded exactly as ``Engine.predict_counts`` and
    ``SSNNBPNetwork.predict_counts`` do (random stream ``seed + TEST_SEED_OFFSET``,
    sample ids 0..n-1 by default); event frames (n, T, D) are returned as bool.
    Checked as those do (``validation.check_samples``): pixels in [0, 1] (a 0..255
    image is refused, not encoded as always-on inputs), 0/1 frames, a seed >= 0.
    """
    from .engine import encode_batch
    from .validation import SEED, check_integer, check_samples
    x, _, ids = check_samples(cfg, x, None, sample_ids, train=False)
    seed = check_integer("seed", seed, 0, SEED)
    if x.ndim == 3:
        return x.astype(bool)
    b = encode_batch(cfg, x, None, ids, seed, train=False)
    return np.ascontiguousarray(np.transpose(b.inputs, (1, 0, 2)))


# ------------------------------------------------------------------ netx
def netx_layers(cfg: SSNNConfig, weights: Sequence[np.ndarray], wta: Optional[bool] = None) -> List[dict]:
    """The netx description of the test-time forward path (no file written).

    One dict per neuron layer: ``type`` ('dense' or 'dense_rec' for a WTA
    output), ``shape``, ``weight`` (N_out, N_in) integers, ``weight_rec``
    (output with WTA), ``neuron`` = netx CUBA registers. ``wta`` overrides
    ``cfg.wta`` (e.g. ``False`` to export the output without inhibition).
    """
    fcfg, ws = to_fixed_point(cfg, weights)
    use_wta = fcfg.wta if wta is None else bool(wta)
    layers = []
    for k, w in enumerate(ws):
        e = fcfg.exp_of(k)
        if e < 0:
            raise ValueError(f"weight_exp[{k}] = {e} < 0: netx has no per-layer weight exponent to carry "
                             "a right shift; export needs weight exponents >= 0")
        wi = np.asarray(w, dtype=np.int64) << e
        if wi.size and (wi.min() < NETX_WEIGHT_MIN or wi.max() > NETX_WEIGHT_MAX):
            raise ValueError(f"layer {k}: weights (mantissa << exponent) span [{wi.min()}, {wi.max()}], "
                             f"outside netx's [{NETX_WEIGHT_MIN}, {NETX_WEIGHT_MAX}]")
        p = dyn.neuron_params(fcfg, k + 1, train=False)
        out = k == fcfg.n_layers - 1
        layer = {"type": "dense", "shape": [int(w.shape[0])], "weight": wi.astype(np.int32),
                 "neuron": {"type": "CUBA", "iDecay": int(p.du) + fxp.DS_OFFSET, "vDecay": 0,
                            "vThMant": int(p.theta_x), "refDelay": 1, "gradedSpike": False}}
        if out and use_wta:
            c = w.shape[0]
            rec = np.full((c, c), -wta_weight(fcfg), dtype=np.int32)
            np.fill_diagonal(rec, 0)
            if rec.min(initial=0) < NETX_WEIGHT_MIN:
                raise ValueError(f"WTA weight {-wta_weight(fcfg)} is below netx's minimum {NETX_WEIGHT_MIN}")
            layer["type"] = "dense_rec"
            layer["weight_rec"] = rec
        layers.append(layer)
    return layers


def netx_differences(cfg: SSNNConfig, wta: Optional[bool] = None) -> List[str]:
    """Known ways in which the netx network differs from our test-time forward pass."""
    notes = []
    if cfg.reset != "zero":
        notes.append(f"reset: netx's CUBA neuron resets v to 0, the network was trained with "
                     f"reset={cfg.reset!r} (exported as reset to zero)")
    use_wta = cfg.wta if wta is None else bool(wta)
    if cfg.wta and not use_wta:
        notes.append("wta: the output's lateral inhibition was left out of the export")
    if not cfg.wta and use_wta:
        notes.append("wta: inhibition exported although the network was trained without it")
    if not cfg.fixed_point:
        notes.append(f"precision: float weights rounded to {cfg.weight_bits}-bit mantissas, "
                     "float neuron dynamics replaced by the integer registers")
    return notes


def export_netx(cfg: SSNNConfig, weights: Sequence[np.ndarray], path, wta: Optional[bool] = None) -> NetxExport:
    """Write the test-time forward path to a netx HDF5 file.

    Layout (what ``lava.lib.dl.netx.hdf5.Network`` reads)::

        /layer/0/type = 'input', shape = [D]
        /layer/<i>/type = 'dense' | 'dense_rec' (output with WTA), shape = [N_i],
                  inFeatures, outFeatures, weight (N_i, N_i-1) int,
                  [weight_rec (C, C) int: -round(64 w_inh) off the diagonal]
                  neuron/{type='CUBA', iDecay, vDecay, vThMant, refDelay, gradedSpike}

    ``iDecay`` = our 12-bit ``du`` register + 1 (netx passes ``du = iDecay - 1``
    to Lava's LIF, which adds its 1-bit offset back), ``vDecay`` = 0 (no leak),
    ``vThMant`` = the test-time threshold mantissa. The root attributes hold
    the SSNN-BP config (JSON) and the list of known differences. A float
    network is converted with :func:`to_fixed_point` first.
    """
    import h5py

    path = Path(path)
    layers = netx_layers(cfg, weights, wta)
    notes = netx_differences(cfg, wta)

    def string(h, key, s):
        h.create_dataset(key, (1,), "S10", [s.encode("ascii")])

    # written under a temporary name and renamed: a kill mid-export keeps the previous file
    atomic_write(path, lambda tmp: _write_netx(h5py, tmp, cfg, layers, notes, string))
    summary = [{"type": l["type"], "shape": l["shape"], **{k: v for k, v in l["neuron"].items() if k != "type"}}
               for l in layers]
    return NetxExport(path, exact=not notes, notes=notes, layers=summary)


def _write_netx(h5py, path, cfg, layers, notes, string):
    with h5py.File(path, "w") as f:
        f.attrs["generator"] = "lava_ssnnbp.export.export_netx"
        f.attrs["ssnnbp_config"] = json.dumps(cfg.to_dict())
        f.attrs["differences"] = json.dumps(notes)
        f.attrs["steps_per_sample"] = int(cfg.steps)
        g = f.create_group("layer")
        inp = g.create_group("0")
        string(inp, "type", "input")
        inp.create_dataset("shape", data=np.array([cfg.sizes[0]]))
        for i, layer in enumerate(layers, start=1):
            h = g.create_group(str(i))
            string(h, "type", layer["type"])
            h.create_dataset("shape", data=np.array(layer["shape"]))
            h.create_dataset("inFeatures", data=int(layer["weight"].shape[1]))
            h.create_dataset("outFeatures", data=int(layer["weight"].shape[0]))
            h.create_dataset("weight", data=layer["weight"])
            if "weight_rec" in layer:
                h.create_dataset("weight_rec", data=layer["weight_rec"])
            for key, value in layer["neuron"].items():
                if key == "type":
                    string(h, "neuron/type", value)
                else:
                    h.create_dataset(f"neuron/{key}", data=value)


def run_netx(path, spikes: np.ndarray, chunk: int = 256, clear_buffers: bool = True,
             progress: bool = False) -> np.ndarray:
    """Run a netx HDF5 network in Lava's CPU simulator on input spike trains.

    ``spikes``: (n, T, D) bool, e.g. from :func:`encode_test_inputs`. Returns
    the (n, C) output spike counts. The network is loaded with
    ``lava.lib.dl.netx.hdf5.Network``, fed by a ``lava.proc.io.source.RingBuffer``
    and read by a ``lava.proc.io.sink.RingBuffer``, compiled with Lava's
    bit-accurate fixed-point models (``Loihi2SimCfg(select_tag='fixed_pt')``).
    Samples run one after another, T steps each; before each sample the host
    zeroes every neuron's u and v and every synapse's buffer, so that each
    sample starts from the same state as in our engine. ``chunk`` samples share
    one input buffer (one compiled network per chunk). The Lava runtime is
    stopped even when something fails.

    Sample boundaries: every layer's u and v are zeroed at the first step of
    each sample by netx's own reset (``reset_interval=T``, Lava ``LIFReset``).
    That leaves the spikes of a sample's last step in the synapse buffers
    (Lava's one-step Dense delay), which would reach the next sample's first
    step. ``clear_buffers=True`` (default) has the host zero those buffers
    between samples, so each sample starts exactly as in our engine (one
    ``run`` call per sample). ``clear_buffers=False`` streams the whole chunk
    in one ``run``, as a chip would without host intervention, and lets those
    few spikes through.
    """
    from .validation import check_integer, check_spikes
    spikes = np.asarray(spikes)
    if spikes.ndim != 3:
        raise ValueError(f"spikes must have shape (n, T, D), got {spikes.shape}")
    if spikes.dtype.kind not in "biuf":
        raise ValueError(f"spikes must hold numbers, got dtype {spikes.dtype}")
    check_spikes(spikes, "spikes")   # NaN or 0.5 would run as a spike
    spikes = spikes.astype(bool)
    chunk = check_integer("chunk", chunk, 1)
    check_netx_weights(path)
    counts = []
    for a in range(0, len(spikes), chunk):
        counts.append(_run_netx_chunk(str(path), spikes[a:a + chunk], clear_buffers))
        if progress:
            print(f"netx: {min(a + chunk, len(spikes))}/{len(spikes)} samples", flush=True)
    if not counts:
        return np.zeros((0, 0), dtype=np.int64)
    return np.concatenate(counts)


def check_netx_weights(path):
    """A ValueError naming the dataset when a netx file's weights (``weight``,
    ``weight_rec``, ...) are not finite numbers: netx casts NaN and inf to arbitrary
    integers (clipped to its weight range) and Lava would run them without a word."""
    import h5py

    bad = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.rsplit("/", 1)[-1].startswith("weight") and not bad:
            w = np.asarray(obj[()])
            if w.dtype.kind not in "biuf" or (w.dtype.kind == "f" and not np.isfinite(w).all()):
                bad.append(f"{name} ({w.dtype})")
    with h5py.File(str(path), "r") as f:
        f.visititems(visit)
    if bad:
        raise ValueError(f"netx file {path}: weights {bad[0]} must be finite numbers (NaN, inf or non-numbers "
                         "found); Lava would run them cast to arbitrary integers")


@contextlib.contextmanager
def netx_network(path, **kw):
    """lava-dl's netx ``Network`` read from the HDF5 file ``path`` (``kw``: its options). netx
    keeps the file open for the network's life; it is closed on leaving, so that a later
    export in this process can rewrite the file."""
    from lava.lib.dl.netx.hdf5 import Network
    net = Network(net_config=str(path), **kw)
    try:
        yield net
    finally:
        net.net_config.f.close()


def _run_netx_chunk(path: str, spikes: np.ndarray, clear_buffers: bool = True) -> np.ndarray:
    from .processes._lava_runtime import import_lava_runtime
    import_lava_runtime()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    n, T, D = spikes.shape
    # netx's own per-sample reset (Lava LIFReset): u and v are zeroed every T
    # steps. netx staggers the reset by one step per layer (for a pipelined
    # stream); our samples start all layers together, so every layer resets at
    # the first step of a sample (time step 1 mod T).
    with netx_network(path, reset_interval=T) as net:
        for blk in net.layers:
            blk.neuron.proc_params.overwrite("reset_offset", 1 % T)
        if net.inp.shape != (D,):
            raise ValueError(f"the network expects {net.inp.shape[0]} inputs, the spikes have {D}")
        _fix_recurrent_weight_bits(net)
        C = net.out.shape[0]
        src = Source(data=np.ascontiguousarray(spikes.reshape(n * T, D).T).astype(np.int32))
        sink = Sink(shape=(C,), buffer=n * T)
        src.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        # what LIFReset does not clear: the spikes of a sample's last step, waiting
        # in the synapse buffers (Lava's one-step Dense delay) for the next sample
        synapses = [s for blk in net.layers for s in (getattr(blk, "synapse", None), getattr(blk, "synapse_rec", None))
                    if s is not None]
        zeros = [np.zeros(s.a_buff.shape, dtype=np.int32) for s in synapses]
        run_cfg = Loihi2SimCfg(select_tag="fixed_pt")
        try:
            with lifecycle.worker_guard():     # workers die with this process, ignore Ctrl-C
                src.create_runtime(run_cfg=run_cfg)
            if clear_buffers:
                for i in range(n):
                    if i:
                        for syn, z in zip(synapses, zeros):
                            syn.a_buff.set(z)
                    src.run(condition=RunSteps(num_steps=T, blocking=True), run_cfg=run_cfg)
            else:
                src.run(condition=RunSteps(num_steps=n * T, blocking=True), run_cfg=run_cfg)
            out = sink.data.get()
        finally:
            lifecycle.stop_process(src)      # graceful stop with a time limit, then by force
    return (out.reshape(C, n, T) != 0).sum(axis=2).T.astype(np.int64)


def _fix_recurrent_weight_bits(net) -> None:
    """Work around a netx 0.6.0 / Lava 0.10 problem with ``dense_rec`` layers.

    netx sizes ``[weight, weight_rec]`` together (``optimize_weight_bits``) and
    gives both synapses the same ``num_weight_bits``. Ours needs 9 bits (8-bit
    forward mantissas next to the -160 WTA weight), and Lava's Dense model then
    truncates the all-inhibitory recurrent matrix by ``8 - 9 = -1`` bits:
    ``(w >> -1) << -1`` is 0 in numpy, so the inhibition silently vanishes.
    The recurrent weights are integers already, so the fix is to give that
    synapse the width at which truncation is a no-op.
    """
    for blk in net.layers:
        syn = getattr(blk, "synapse_rec", None)
        if syn is None:
            continue
        w = np.asarray(syn.weights.init)
        mixed = int(w.min(initial=0) < 0 < w.max(initial=0))
        syn.proc_params.overwrite("num_weight_bits", 8 + mixed)


# ------------------------------------------------------------------ NIR
def nir_graph(cfg: SSNNConfig, weights: Sequence[np.ndarray], wta: Optional[bool] = None):
    """The trained forward graph as a ``nir.NIRGraph`` (needs the ``nir`` package).

    Time unit: one simulation step (dt = 1). Per layer k::

        fc{k}  = nir.Linear(W_k)                 weights in float units (dequantised mantissas)
        syn{k+1} = nir.LI(tau=tau, r=1, v_leak=0)  the synaptic current: unit-area kernel
        lif{k+1} = nir.IF(r=1, v_threshold, v_reset=0)   the non-leaky forward neuron

    LI followed by IF is our current-based IF neuron exactly in continuous
    time (one input of weight w adds w to v in the long run); NIR has no
    "current-based IF" node (CubaLIF needs a finite membrane time constant).
    ``v_threshold`` is the test-time threshold (theta / (1 - p_drop) with
    ``test_threshold_scaling``). The WTA is ``wta = nir.Linear(-w_inh off the
    diagonal)`` from ``lif{L}`` back into ``syn{L}`` (a recurrent edge).
    NIR's IF resets to ``v_reset``; a network trained with ``reset='subtract'``
    says so in the node metadata (``reset``), which NIR itself cannot express.
    Graph metadata: the SSNN-BP config, the fixed-point registers, and notes.
    """
    import nir

    fcfg, ws = to_fixed_point(cfg, weights)
    use_wta = cfg.wta if wta is None else bool(wta)
    fw = dyn.float_weights(fcfg, ws)
    L = cfg.n_layers
    tau = float(cfg.tau_steps)
    nodes = {"input": nir.Input(input_type={"input": np.array([cfg.sizes[0]])})}
    edges = []
    prev = "input"
    for k in range(L):
        n = cfg.sizes[k + 1]
        p = dyn.neuron_params(cfg.replace(fixed_point=False), k + 1, train=False)
        pf = dyn.neuron_params(fcfg, k + 1, train=False)
        nodes[f"fc{k}"] = nir.Linear(weight=np.asarray(fw[k], dtype=np.float64),
                                     metadata={"weight_mantissa_bits": cfg.weight_bits,
                                               "weight_exp": fcfg.exp_of(k)})
        nodes[f"syn{k + 1}"] = nir.LI(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n),
                                      metadata={"du_register": int(pf.du)})
        nodes[f"lif{k + 1}"] = nir.IF(r=np.ones(n), v_threshold=np.full(n, float(p.theta_x)),
                                      v_reset=np.zeros(n),
                                      metadata={"reset": cfg.reset, "vth_mantissa": int(pf.theta_x)})
        edges += [(prev, f"fc{k}"), (f"fc{k}", f"syn{k + 1}"), (f"syn{k + 1}", f"lif{k + 1}")]
        prev = f"lif{k + 1}"
    C = cfg.sizes[-1]
    if use_wta:
        w = np.full((C, C), -float(cfg.wta_inhibition))
        np.fill_diagonal(w, 0.0)
        nodes["wta"] = nir.Linear(weight=w)
        edges += [(f"lif{L}", "wta"), ("wta", f"syn{L}")]
    nodes["output"] = nir.Output(output_type={"output": np.array([C])})
    edges.append((prev, "output"))
    meta = {"generator": "lava_ssnnbp.export.export_nir", "dt_steps": 1, "steps_per_sample": int(cfg.steps),
            "ssnnbp_config": json.dumps(cfg.to_dict()), "differences": json.dumps(netx_differences(cfg, wta)),
            "readout": "argmax of output spike counts over steps_per_sample steps"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def export_nir(cfg: SSNNConfig, weights: Sequence[np.ndarray], path, wta: Optional[bool] = None) -> Path:
    """Write :func:`nir_graph` to ``path`` with ``nir.write``; read back with :func:`read_nir`."""
    import nir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nir.write(str(path), nir_graph(cfg, weights, wta))
    return path


def read_nir(path):
    """``nir.read(path)``: the NIRGraph of a file written by :func:`export_nir`."""
    import nir

    return nir.read(str(path))
