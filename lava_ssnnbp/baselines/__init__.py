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
