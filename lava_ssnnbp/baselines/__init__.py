"""Offline-trained baselines on the same networks and data: TSSL-BP and lava-dl SLAYER.

Both are trained in torch (imported only when one of them is used: ``import
lava_ssnnbp`` and ``import lava_ssnnbp.baselines`` stay free of torch and Lava),
export to netx HDF5 with lava-dl's own ``export_hdf5`` and run in Lava
(:mod:`.lava_export`).

* ``tssl-bp`` (:mod:`.tssl_bp`): Zhang & Li, NeurIPS 2020, as in the authors'
  code (github.com/stonezwr/TSSL-BP): LIF neurons (tau_m), first-order PSP
  kernel (tau_s), the kernel loss against a desired spike train, AdamW.
* ``slayer`` (:mod:`.slayer_model`): ``lava.lib.dl.slayer.block.cuba.Dense``
  blocks (Loihi CUBA neurons with the same decays), spike-rate loss, Adam.

Both read images as the TSSL-BP authors do: the normalised pixel value
``(x - 0.1307) / 0.3081`` is the input "spike" at every one of the T steps
(direct, real-valued encoding), filtered by the synaptic kernel like any spike.
"""
from __future__ import annotations

import math
import re
from typing import List, Optional, Sequence, Tuple

METHODS = ("tssl-bp", "slayer")

# the authors' FashionMNIST_400_400.yaml / MNIST_CNN.yaml: lr 0.0005, tau_m 5, tau_s 3, threshold 1
DEFAULT_LR = {"tssl-bp": 5e-4, "slayer": 1e-3}
INPUT_MEAN, INPUT_STD = 0.1307, 0.3081   # the authors' transforms.Normalize, for MNIST and Fashion-MNIST alike


def torch_device(name: str = "auto"):
    """``torch.device``: 'auto' is the GPU when there is one, else the CPU."""
    import torch
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: no CUDA GPU is available (use 'cpu' or 'auto')")
    return torch.device(name)


def parse_conv(spec: str) -> List[Tuple[str, int, int]]:
    """A conv stack in the authors' notation, e.g. '15C5-P2-40C5-P2': ``[('conv', 15, 5),
    ('pool', 0, 2), ...]`` (conv: output channels, kernel size, stride 1, no padding;
    pool: k x k sum pooling, stride k). A ValueError names a bad token."""
    layers = []
    for tok in spec.split("-"):
        m = re.fullmatch(r"(\d+)[cC](\d+)|[pP](\d+)", tok.strip())
        if m is None or (m.group(1) and (int(m.group(1)) < 1 or int(m.group(2)) < 1)) or (m.group(3) and int(m.group(3)) < 1):
            raise ValueError(f"{spec!r}: bad layer {tok!r} (write e.g. 15C5-P2-40C5-P2: NcK conv, Pk pooling)")
        layers.append(("conv", int(m.group(1)), int(m.group(2))) if m.group(1) else ("pool", 0, int(m.group(3))))
    if not any(kind == "conv" for kind, _, _ in layers):
        raise ValueError(f"{spec!r}: no conv layer")
    return layers


def _conv_maps(spec: Optional[str], input_shape: Sequence[int]) -> list:
    """``[(kernel shape or None, (c, h, w) of the map it makes), ...]``: the input's map first
    (no kernel), then each conv (kernel (out, in, k, k)) and pooling layer's; a ValueError if
    the stack does not fit images ``input_shape`` (see :func:`conv_shapes`)."""
    if spec and len(input_shape) not in (2, 3):
        raise ValueError(f"{spec!r}: a conv stack needs images, (H, W) or (C, H, W); these samples are "
                         f"{tuple(input_shape)} (store x as (N, H, W) or (N, C, H, W))")
    c, h, w = (1, *input_shape) if len(input_shape) == 2 else tuple(input_shape) if len(input_shape) == 3 \
        else (math.prod(input_shape), 1, 1)
    maps = [(None, (c, h, w))]
    for kind, n, k in parse_conv(spec) if spec else []:
        kernel = None
        if kind == "conv":
            kernel = (n, c, k, k)
            c, h, w = n, h - k + 1, w - k + 1
        else:
            if h % k or w % k:
                raise ValueError(f"{spec!r}: {k} x {k} pooling does not tile a {h} x {w} map")
            h, w = h // k, w // k
        if h < 1 or w < 1:
            raise ValueError(f"{spec!r}: the maps shrink to nothing on {tuple(input_shape)} images")
        maps.append((kernel, (c, h, w)))
    return maps


def conv_shapes(spec: Optional[str], input_shape: Sequence[int]):
    """``(kernel shapes (out, in, k, k) of the conv layers, flattened output size)`` of a conv
    stack on images ``input_shape`` ((H, W) or (C, H, W); without a stack, flat samples (D,)
    too); a ValueError if it does not fit."""
    maps = _conv_maps(spec, input_shape)
    return [kernel for kernel, _ in maps if kernel is not None], math.prod(maps[-1][1])


def weight_shapes(sizes: Sequence[int], spec: Optional[str], input_shape: Sequence[int]) -> list:
    """Shapes of a baseline's weight arrays w0, w1, ...: conv kernels, then dense (N_out, N_in)
    layers; with a conv stack, the first dense layer takes its flattened output."""
    kernels, flat = conv_shapes(spec, input_shape)
    ins = [flat if spec else sizes[0], *sizes[1:-1]]
    return kernels + [(n_out, n_in) for n_in, n_out in zip(ins, sizes[1:])]


# ------------------------------------------------------------------ memory (CPU)
# Bytes a baseline needs on the CPU, measured (peak resident memory, torch 2.3, float32;
# docs/reliability.md): per weight in training (the weight, its gradient, the optimiser's two
# moments and its temporaries, 24 to 32; a checkpoint's copies of weights and moments and its
# archive in memory, 16 to 28; slayer's blocks allocate more while they are built); per neuron
# and time step of one sample (the forward pass's state that the backward pass keeps; at test
# time without it); per input value and time step (the encoded image and its PSP).
TRAIN_BYTES_PER_WEIGHT = {"tssl-bp": 56, "slayer": 72}
TRAIN_BYTES_PER_UNIT_STEP = 100
TEST_BYTES_PER_UNIT_STEP = 60
BYTES_PER_INPUT_STEP = 16


def memory_per_step(sizes: Sequence[int], spec: Optional[str], input_shape: Sequence[int], train: bool) -> int:
    """Bytes one sample needs per time step in a baseline (see the constants above): its
    input, every conv and pooling map, every dense layer's neurons."""
    maps = _conv_maps(spec, input_shape)
    units = sum(math.prod(shape) for _, shape in maps[1:]) + sum(sizes[1:])
    inputs = math.prod(maps[0][1]) if spec else sizes[0]
    return BYTES_PER_INPUT_STEP * inputs + (TRAIN_BYTES_PER_UNIT_STEP if train else TEST_BYTES_PER_UNIT_STEP) * units
