"""lava-dl SLAYER on the same dense networks: ``slayer.block.cuba.Dense`` blocks.

Each layer is a Dense synapse into Loihi CUBA neurons (lava-dl's own, 8-bit
weights in the forward pass, 12-bit decays), with the TSSL-BP network's decays:
current decay 1/tau_s, voltage decay 1/tau_m per step, threshold 1. No step
delay between layers (``delay_shift=False``, as in TSSL-BP; the export runs the
Lava network L steps longer instead, see :mod:`.lava_export`). Input: the
normalised image at every step, as for TSSL-BP. Loss: lava-dl's
``slayer.loss.SpikeRate`` (label neuron at ``true_rate``, the others at
``false_rate`` spikes per step, summed squared error); readout: the output spike
count. Optimiser: Adam, lr 1e-3; surrogate gradient tau_grad 0.03, scale_grad 3
(both lava-dl's tutorials'; with lava-dl's defaults 1, 1 the 784-1280-10 MNIST network
learned 10 points less in 3 epochs on 10,000 images, docs/baselines.md).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..processes._lava_runtime import import_lava_runtime
from .tssl_bp import encode_images

TRUE_RATE, FALSE_RATE = 0.8, 0.05   # spikes per step: 4 of 5 steps as TSSL-BP's desired train


def import_slayer():
    import_lava_runtime()   # lava-dl imports Lava's runtime
    from lava.lib.dl import slayer
    return slayer


class SlayerNet(torch.nn.Module):
    """Dense CUBA network ``sizes`` = (D, H..., C) built from ``slayer.block.cuba.Dense``."""

    method = "slayer"

    def __init__(self, sizes: Sequence[int], steps: int, seed: int = 0, tau_m: float = 5.0,
                 tau_s: float = 3.0, threshold: float = 1.0, tau_grad: float = 0.03, scale_grad: float = 3.0):
        super().__init__()
        slayer = import_slayer()
        self.sizes, self.steps = tuple(int(n) for n in sizes), int(steps)
        self.tau_m, self.tau_s, self.threshold = float(tau_m), float(tau_s), float(threshold)
        params = {"threshold": self.threshold, "current_decay": 1.0 / self.tau_s,
                  "voltage_decay": 1.0 / self.tau_m, "tau_grad": tau_grad, "scale_grad": scale_grad,
                  "requires_grad": False}
        with torch.random.fork_rng(devices=[]):   # the init depends on the seed only
            torch.manual_seed(int(seed))
            self.blocks = torch.nn.ModuleList(
                [slayer.block.cuba.Dense(params, n_in, n_out, weight_norm=False, delay_shift=False)
                 for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])])
        self.rate_loss = slayer.loss.SpikeRate(true_rate=TRUE_RATE, false_rate=FALSE_RATE, reduction="sum")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spikes (B, C, T) for images (B, D)."""
        s = encode_images(x, self.steps).contiguous()
        for blk in self.blocks:
            s = blk(s)
        return s

    @torch.no_grad()
    def spike_trains(self, x: torch.Tensor) -> list:
        """Every layer's spikes (B, N_l, T) on the CPU, first hidden layer to output."""
        w = self.blocks[0].synapse.weight
        x = torch.as_tensor(x, dtype=w.dtype, device=w.device)
        s, out = encode_images(x, self.steps).contiguous(), []
        for blk in self.blocks:
            s = blk(s)
            out.append(s.cpu())
        return out

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.rate_loss(out, y)

    @staticmethod
    def readout(out: torch.Tensor) -> torch.Tensor:
        """Class scores (B, C): output spike counts."""
        return out.sum(-1)

    @staticmethod
    def scores_from_spikes(spikes: np.ndarray) -> np.ndarray:
        return np.asarray(spikes, dtype=np.float64).sum(-1)

    def make_optimizer(self, lr: float) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=lr)

    def clip_gradients(self):
        pass

    def after_step(self):
        pass

    def dense_weights(self) -> list:
        """The weights the forward pass uses (lava-dl's 8-bit quantisation), (N_out, N_in) float32."""
        return [blk.synapse.pre_hook_fx(blk.synapse.weight).detach().cpu().numpy()
                .reshape(blk.synapse.weight.shape[:2]).astype(np.float32) for blk in self.blocks]

    def raw_weights(self) -> list:
        """The trained (unquantised) weights, (N_out, N_in) float32: what a checkpoint holds."""
        return [blk.synapse.weight.detach().cpu().numpy().reshape(blk.synapse.weight.shape[:2])
                .astype(np.float32) for blk in self.blocks]

    @torch.no_grad()
    def set_weights(self, weights):
        for blk, w in zip(self.blocks, weights):
            p = blk.synapse.weight
            p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype).reshape(p.shape))

    def neuron_model(self) -> dict:
        return {"current_decay": 1.0 / self.tau_s, "voltage_decay": 1.0 / self.tau_m,
                "threshold": self.threshold, "weight_gain": 1.0}
