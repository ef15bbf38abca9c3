"""A trained TSSL-BP or SLAYER network in netx HDF5 (lava-dl's ``export_hdf5``) and in Lava.

Both models are CUBA networks: a layer's current is u_t = (1 - 1/tau_s) u_{t-1} +
gain W s_t and its membrane v_t = (1 - 1/tau_m) v_{t-1} + u_t, spike above the
threshold, reset to 0 (TSSL-BP: gain 1/tau_s, its PSP kernel; SLAYER: gain 1).
Each layer is written by a ``slayer.block.cuba.Dense`` block's own
``export_hdf5`` (8-bit weights, 12-bit decays, threshold mantissa).

What changes on the way, and why:

* **Input.** The models' input is the normalised image (x - m)/s at every step.
  Lava gets the pixels as graded spikes, rounded to 0..15 (:data:`INPUT_LEVELS`),
  plus one extra input channel that is always 15, whose weight carries the mean
  (-m/s sum_j W_j): the same current up to the rounding of the pixels.
* **16-bit synaptic input.** Lava's LIF reads a neuron's input per step as int16
  and wraps beyond: each layer is scaled down until its input on calibration
  images (:data:`CALIBRATION_IMAGES` training images, the torch model's own
  spike trains) stays within 0.9 * 2**15. The scale also sets the weights'
  resolution (8 bits against the threshold), so the range is used up to a 10 %
  margin for unseen images: with half of it (2**14), SLAYER's Fashion-MNIST
  784-1280-10, whose per-step input reaches 457 thresholds, kept 49 % accuracy
  in Lava against 85 % in torch (80 % with 0.9 * 2**15, 500 test images).
* **Scale per layer.** A layer's spikes do not change when its weights and its
  threshold are multiplied by the same factor (the dynamics are linear in u, v
  and the reset is to 0). Each layer is scaled so that its largest weight uses
  the 8-bit range (TSSL-BP; the first layer of both, where the input folding
  changed the weights), keeping the threshold mantissa <= 2**15 so that u and v
  stay far from Lava's 24-bit wrap-around. SLAYER's other layers are exported as
  trained (already on lava-dl's 8-bit grid).
* **Conv stacks (TSSL-BP).** lava-dl 0.6's netx has no pooling layer, and the
  authors' pooling has no neuron (1.1 x the sum of each k x k window), so it is
  folded into the next layer: a conv after a pool becomes a conv of stride k
  whose kernel repeats each weight over its k x k window; the dense layer after
  the last pool reads every pixel of the window. The constant input channel is
  one more image channel, its weight spread evenly over the first kernel.
* **Delays.** Lava's Dense delays every layer by one step; the torch models have
  no delay. :func:`run_lava` runs T + L steps per sample (zero input after T) and
  reads the output in steps L .. L + T - 1, which then hold the torch model's
  steps 0 .. T - 1.
* What remains is rounding: the pixels to 16 levels, weights to lava-dl's 8-bit
  grid (TSSL-BP every layer, SLAYER its first, rescaled, layer), decays to 12
  bits (1365/4096 for 1/3), and Lava's integer decay arithmetic. Lava itself
  matches a float simulation of the exported integer network for all but a few spikes
  (tests/test_baselines.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import numpy as np

from .. import lifecycle
from ..export import netx_network
from . import INPUT_MEAN, INPUT_STD

# graded input: pixel intensity 1.0 is message 15 (4 bits). Lava's 16-bit synaptic input bounds
# (input levels) x (weight levels) x (fan-in); measured on 784-32-10 (2 epochs on the embedded
# subset, 100 test images), Lava agreed with torch on 100 % (TSSL-BP) / 92 % (SLAYER) of the
# predictions at 15 levels, 93 % / 83 % at 63 and 67 % / 32 % at 255 (where the first layer's
# weights keep about 4 bits).
INPUT_LEVELS = 15
WEIGHT_MAX = 254 / 64     # largest weight on lava-dl's 8-bit grid (slayer units: 64 = 1.0)
THRESHOLD_MAX = 2 ** 15 / 64   # threshold cap (slayer units): mantissa <= 2**15, v's threshold 4x below its 2**23 wrap
SYNAPTIC_INPUT_MAX = int(0.9 * 2 ** 15)   # per-step input of a neuron, mantissa units: Lava's LIF reads
# it as int16. The 10 % margin is for images beyond the calibration set: on 500 Fashion-MNIST test images
# the largest input exceeded the largest on 256 training images by 1.2 %.
CALIBRATION_IMAGES = 1000      # training images whose spike trains bound each layer's input
INPUT_MESSAGE_BITS = 16


@dataclass
class LavaExport:
    """What :func:`export_netx` wrote: the file, per layer the scale factor applied
    to its weights and threshold, and the known differences."""
    path: Path
    steps: int
    n_layers: int
    scales: List[float] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    levels: int = 15              # graded input: pixel intensity 1.0 is this message
    input_shape: tuple = ()       # the input layer's (D + 1,) or (C + 1, H, W)


@dataclass
class ExportLayer:
    """One spiking layer of the exported network and the linear map that feeds it (slayer
    units: 64 mantissa units = 1.0)."""
    kind: str                 # 'dense': weight (N_out, N_in); 'conv': weight (out, in, k, k)
    weight: np.ndarray
    threshold: float
    scale: float              # factor applied to the trained weights and threshold
    stride: int = 1           # conv: the stride (k x k sum pooling before it folded in)
    flatten: bool = False     # dense fed by a conv layer's map (netx 'flatten' before it)


def _fold_pooling(w: np.ndarray, k: int, gain: float) -> np.ndarray:
    """Weights ``w`` (out, in, h, w) that read a k x k sum-pooled map (times ``gain``) as weights on
    the map before pooling: each weight repeated over its k x k window (a conv then takes stride k)."""
    return gain * np.kron(w, np.ones((k, k)))


def linear_maps(net, levels: int = INPUT_LEVELS) -> list:
    """The network as spiking layers, each fed by one linear map, in slayer units: ``[(kind,
    weight, stride, flatten)]``. The input normalisation is folded into the first layer (a
    constant input channel at ``levels``, see the module docstring), and each of TSSL-BP's sum
    pooling layers (no neuron) into the layer after it: a pooled conv is a conv of stride k on
    the unpooled map, a pooled dense layer reads every pixel of the pooling window."""
    nm = net.neuron_model()
    weights = [np.asarray(w, dtype=np.float64) * nm["weight_gain"] for w in net.dense_weights()]
    from .tssl_bp import POOL_GAIN
    maps, i, pool, gain = [], 0, 1, 1.0
    image = _image_shape(net)
    if image:
        c, h, wd = image
        for kind, _, k in net.stack:
            if kind == "pool":
                pool, gain, h, wd = pool * k, gain * POOL_GAIN, h // k, wd // k
                continue
            w = _fold_pooling(weights[i], pool, gain) if pool > 1 else weights[i]
            maps.append(("conv", w, pool, False))
            c, h, wd = w.shape[0], (h - weights[i].shape[2]) + 1, (wd - weights[i].shape[3]) + 1
            pool, gain, i = 1, 1.0, i + 1
        w = weights[i]
        if pool > 1:   # dense weights over the pooled (c, h, wd) map -> over the map before pooling
            w = _fold_pooling(w.reshape(len(w), c, h, wd), pool, gain).reshape(len(w), -1)
        maps.append(("dense", w, 1, True))
        i += 1
    maps += [("dense", w, 1, False) for w in weights[i:]]
    kind, w, stride, flatten = maps[0]
    # input (p/levels - m)/s from graded p = 0..levels, and a constant channel at levels whose
    # weights (spread evenly over a conv kernel) carry -m/s times the sum of each neuron's weights
    total = w.reshape(len(w), -1).sum(axis=1)
    per_weight = (-INPUT_MEAN / INPUT_STD / levels) * total / int(np.prod(w.shape[2:]))
    const = np.broadcast_to(per_weight.reshape(-1, 1, *([1] * (w.ndim - 2))), (len(w), 1, *w.shape[2:]))
    maps[0] = (kind, np.concatenate([w / (levels * INPUT_STD), const], axis=1), stride, flatten)
    return maps


def _layer_input(kind: str, w: np.ndarray, stride: int, s: np.ndarray) -> np.ndarray:
    """A layer's synaptic input for one step of presynaptic activity ``s`` (B, N_in...) (float)."""
    import torch
    if kind == "dense":
        return s.reshape(len(s), -1) @ w.reshape(len(w), -1).T
    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.as_tensor(s, dtype=torch.float64),
                                          torch.as_tensor(w), stride=stride).numpy()


def _peak_inputs(net, maps, calibration, levels: int, chunk: int = 200) -> list:
    """Per layer: the largest |synaptic input| in one step on the calibration images, from the
    torch model's own spike trains (the input is the same at every step)."""
    import torch
    peaks = [0.0] * len(maps)
    for a in range(0, len(calibration), chunk):
        cal = np.asarray(calibration[a:a + chunk])
        trains = [t.numpy() for t in net.spike_trains(torch.as_tensor(cal, dtype=torch.float32))]
        inputs = [graded_inputs(cal, levels, _image_shape(net))[..., None]] + trains[:-1]
        for k, (kind, w, stride, _) in enumerate(maps):
            for t in range(inputs[k].shape[-1]):
                drive = np.abs(_layer_input(kind, w, stride, inputs[k][..., t])).max(initial=0.0)
                peaks[k] = max(peaks[k], float(drive))
    return peaks


def _image_shape(net):
    """(C, H, W) of a conv network's input, None for a dense network."""
    if not getattr(net, "conv", None):
        return None
    return (1, *net.input_shape) if len(net.input_shape) == 2 else tuple(net.input_shape)


def lava_layers(net, calibration=None, levels: int = INPUT_LEVELS) -> List[ExportLayer]:
    """The exported network's layers (input and pooling folded in, every layer scaled).

    ``calibration``: images (n, D) whose per-step synaptic input, from the torch
    model's own spike trains, must stay within :data:`SYNAPTIC_INPUT_MAX`
    (Lava's LIF takes 16-bit input and wraps beyond); None bounds it by the
    worst case (every input at its maximum with the sign of its weight)."""
    nm = net.neuron_model()
    rescale_all = net.method == "tssl-bp"
    maps = linear_maps(net, levels)
    if calibration is not None:
        peaks = _peak_inputs(net, maps, calibration, levels)
    else:
        peaks = [float(np.abs(w.reshape(len(w), -1)).sum(axis=1).max(initial=0.0)) * (levels if k == 0 else 1)
                 for k, (_, w, _, _) in enumerate(maps)]
    out = []
    for k, ((kind, w, stride, flatten), drive) in enumerate(zip(maps, peaks)):
        scale = 1.0
        if k == 0 or rescale_all:
            peak = float(np.abs(w).max(initial=0.0))
            scale = min(WEIGHT_MAX / peak if peak > 0 else 1.0, THRESHOLD_MAX / nm["threshold"])
        if drive > 0:   # 64 mantissa units per slayer unit
            scale = min(scale, SYNAPTIC_INPUT_MAX / (64 * drive))
        out.append(ExportLayer(kind, w * scale, nm["threshold"] * scale, scale, stride, flatten))
    return out


def export_netx(net, path, calibration=None, levels: int = INPUT_LEVELS) -> LavaExport:
    """Write ``net`` (:class:`~.tssl_bp.TSSLBPNet` or :class:`~.slayer_model.SlayerNet`)
    to a netx HDF5 file: ``/layer/0`` the input (D + 1 graded channels; a conv network's
    image with one more channel), then one ``slayer.block.cuba.Conv`` or ``Dense`` block per
    spiking layer, written by its ``export_hdf5`` (a netx ``flatten`` between the last conv and
    the first dense block). ``calibration`` and ``levels``: see :func:`lava_layers` and
    :func:`graded_inputs`."""
    import h5py
    import torch

    from .slayer_model import import_slayer
    slayer = import_slayer()
    nm = net.neuron_model()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    layers = lava_layers(net, calibration, levels)
    image = _image_shape(net)
    in_shape = (image[0] + 1, *image[1:]) if image else (layers[0].weight.shape[1],)
    notes = [f"input: pixels as graded spikes 0..{levels} plus a constant channel carrying the normalisation",
             f"synaptic input per step scaled to <= {SYNAPTIC_INPUT_MAX} (16-bit in Lava) on "
             + ("the calibration images" if calibration is not None else "the worst case"),
             "decays rounded to 12 bits; Lava's integer arithmetic"]
    notes.insert(1, "weights rounded to lava-dl's 8-bit grid per layer" if net.method == "tssl-bp"
                 else "first layer's weights (input normalisation folded in) rounded to lava-dl's 8-bit grid")
    if image:
        notes.append("sum pooling folded into the next layer (a conv of stride k, a dense layer over the unpooled map)")
    params = {"current_decay": nm["current_decay"], "voltage_decay": nm["voltage_decay"]}
    with h5py.File(path, "w") as f:
        f.attrs["generator"] = "lava_ssnnbp.baselines.lava_export.export_netx"
        f.attrs["method"] = net.method
        f.attrs["steps_per_sample"] = int(net.steps)
        f.attrs["input_levels"] = int(levels)
        f.attrs["differences"] = json.dumps(notes)
        g = f.create_group("layer")
        inp = g.create_group("0")
        inp.create_dataset("type", (1,), "S10", [b"input"])
        inp.create_dataset("shape", data=np.array(in_shape))
        x = torch.zeros(1, *in_shape, 1)
        k = 1
        for layer in layers:
            w = torch.as_tensor(layer.weight, dtype=torch.float32)
            if layer.flatten:
                flat = g.create_group(str(k))
                flat.create_dataset("type", (1,), "S10", [b"flatten"])
                flat.create_dataset("shape", data=np.array([x[0, ..., 0].numel()]))
                x, k = x.reshape(1, -1, 1), k + 1
            neuron = {**params, "threshold": layer.threshold}
            if layer.kind == "conv":
                blk = slayer.block.cuba.Conv(neuron, w.shape[1], w.shape[0], w.shape[2], stride=layer.stride,
                                             weight_norm=False, delay_shift=False)
            else:
                blk = slayer.block.cuba.Dense(neuron, w.shape[1], w.shape[0], weight_norm=False, delay_shift=False)
            with torch.no_grad():
                blk.synapse.weight.copy_(w.reshape(blk.synapse.weight.shape))
                x = blk(x)   # a block learns its neuron shape from its first input
            blk.export_hdf5(g.create_group(str(k)))
            k += 1
    return LavaExport(path, int(net.steps), len(layers), [l.scale for l in layers], notes, int(levels),
                      tuple(in_shape))


def calibration_images(settings) -> np.ndarray:
    """The training images that calibrate a run's export: :data:`CALIBRATION_IMAGES` of them, drawn
    with the run's seed (never the evaluated test images)."""
    from ..data import load_dataset
    train = load_dataset(settings.dataset, "train", settings.data_dir)
    return train.subset(min(CALIBRATION_IMAGES, len(train.x)), settings.seed).x


def graded_inputs(x: np.ndarray, levels: int = INPUT_LEVELS, image_shape=None) -> np.ndarray:
    """Images (n, D) in [0, 1] -> integer messages: the pixels as 0..levels and a constant
    ``levels``; (n, D + 1), or with ``image_shape`` (C, H, W) as maps (n, C + 1, H, W)."""
    x = np.asarray(x)
    pix = np.rint(x * levels).astype(np.int32)
    if image_shape is None:
        return np.concatenate([pix, np.full((len(x), 1), levels, dtype=np.int32)], axis=1)
    c, h, w = image_shape
    return np.concatenate([pix.reshape(len(x), c, h, w), np.full((len(x), 1, h, w), levels, dtype=np.int32)], axis=1)


def run_lava(export: LavaExport, x: np.ndarray, progress: bool = False) -> np.ndarray:
    """Output spike trains (n, C, T) of the exported network in Lava's bit-accurate
    CPU simulation, for images (n, D) in [0, 1]: one sample after another, each
    T + L steps (see the module docstring), every neuron's u and v zeroed at a
    sample's first step (netx's reset) and the synapse buffers cleared by the host."""
    from ..processes._lava_runtime import import_lava_runtime
    import_lava_runtime()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    image = export.input_shape if len(export.input_shape) == 3 else None
    msgs = graded_inputs(x, export.levels, (image[0] - 1, *image[1:]) if image else None)
    if image:   # Lava's maps are (x, y, channel): W, H, C
        msgs = msgs.transpose(0, 3, 2, 1)
    n, shape = len(msgs), msgs.shape[1:]
    T, L = export.steps, export.n_layers
    window = T + L
    with netx_network(export.path, reset_interval=window, input_message_bits=INPUT_MESSAGE_BITS) as net:
        for blk in net.layers:   # every layer resets at a sample's first step (netx staggers them)
            blk.neuron.proc_params.overwrite("reset_offset", 1 % window)
        if tuple(net.inp.shape) != shape:
            raise ValueError(f"the network expects inputs of shape {tuple(net.inp.shape)}, the images give {shape}")
        C = net.out.shape[0]
        frames = np.zeros((n, window, *shape), dtype=np.int32)
        frames[:, :T] = msgs[:, None]
        src = Source(data=np.ascontiguousarray(np.moveaxis(frames.reshape(n * window, *shape), 0, -1)))
        sink = Sink(shape=(C,), buffer=n * window)
        src.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        # Lava's Dense calls its buffer a_buff, its Conv a_buf
        synapses = [(blk.synapse, "a_buff" if hasattr(blk.synapse, "a_buff") else "a_buf")
                    for blk in net.layers if getattr(blk, "synapse", None) is not None]
        zeros = [np.zeros(getattr(syn, buf).shape, dtype=np.int32) for syn, buf in synapses]
        run_cfg = Loihi2SimCfg(select_tag="fixed_pt")
        try:
            with lifecycle.worker_guard():
                src.create_runtime(run_cfg=run_cfg)
            for i in range(n):
                if i:
                    for (syn, buf), z in zip(synapses, zeros):
                        getattr(syn, buf).set(z)
                src.run(condition=RunSteps(num_steps=window, blocking=True), run_cfg=run_cfg)
                if progress and (i + 1) % 500 == 0:
                    print(f"lava: {i + 1}/{n} samples", flush=True)
            out = sink.data.get()
        finally:
            lifecycle.stop_process(src)
    raster = (out.reshape(C, n, window) != 0).transpose(1, 0, 2)
    return raster[:, :, L:L + T].astype(np.int8)
