"""TSSL-BP (Zhang & Li, NeurIPS 2020), dense layers, in torch.

Written after the paper and the authors' code (github.com/stonezwr/TSSL-BP,
``functions/tsslbp.py``, ``functions/loss_f.py``, ``main.py``); times in steps.

Forward, per layer and step t (tensors (B, N, T))::

    du_t = -u_{t-1} / tau_m + c_t           c = W a_in: the input current
    u_t  = u_{t-1} + du_t                   membrane before reset
    s_t  = u_t > threshold                  spike; then u is reset to 0
    a_t  = (1 - 1/tau_s) a_{t-1} + s_t / tau_s     the PSP, the layer's output

so the response kernel of one spike is eps(k) = (1/tau_s)(1 - 1/tau_s)^k,
k = 0, 1, ... steps after it. The image is the network's input "spike" at every
step, normalised as the authors do, and filtered by the same kernel.

Backward (:class:`_TSSLNeuron`), from g_t = dL/da_t, with G_t = sum_k eps(k) g_{t+k}:

* inter-neuron: a spike at t moves with the membrane, dt/du = -1/du_t; the
  authors' code takes dL/du_t = G_t * min(1/du_t, 8) at a spike;
* intra-neuron: theta carries the gradient of the neuron's next spike back in
  time: through the leak, (1 - 1/tau_m) per step without a spike, and through the
  reset of a spike at t, u_t (1/tau_m) / du_t;
* a neuron whose PSP is below 1/(4 tau_s) at t (silent lately) gets the
  surrogate G_t * sigmoid'((u_t - threshold)/0.2) / 0.2 instead, so it can learn
  to fire.

Loss ("kernel"): 1/2 sum over batch, classes and steps of (a_out - PSP of the
desired train)^2; the label neuron's desired train is 0,1,1,1,1 repeated (T < 10)
or 0,1 repeated (T >= 10), the others' is silent. Readout: argmax over classes of
the output PSP summed over the T steps (the authors' ``spike_counts``).
Optimiser: AdamW (lr 5e-4, torch's weight decay 0.01), gradient norm clipped to
1, weights clipped to [-4, 4] after each step, Kaiming-normal init, no biases.

Conv stacks (the CNN rows, e.g. MNIST 15C5-P2-40C5-P2-300): a conv layer is the
same neuron fed by a 2-D convolution of the input PSPs at every step (stride 1,
no padding, torch's default init as the authors'); a pooling layer has no neuron:
it passes 1.1 x the sum of each k x k window of PSPs on (the authors' PoolLayer).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from . import INPUT_MEAN, INPUT_STD

SURROGATE_WIDTH = 0.2      # the authors' a: sigmoid'((u - threshold) / a) / a for silent neurons
INV_DU_MAX = 8.0           # the authors' clamp of 1/du at a spike
WEIGHT_CLIP = 4.0          # |w| <= 4 after every step (authors' weight_clipper)
GRAD_CLIP_NORM = 1.0
POOL_GAIN = 1.1            # the authors' pooling weight (PoolLayer's default theta)


def psp_kernel(steps: int, tau_s: float) -> torch.Tensor:
    """eps(k) = (1/tau_s)(1 - 1/tau_s)^k, k = 0..steps-1: the PSP k steps after a spike."""
    return (1.0 / tau_s) * (1.0 - 1.0 / tau_s) ** torch.arange(steps, dtype=torch.float64)


def psp(spikes: torch.Tensor, tau_s: float) -> torch.Tensor:
    """PSP of spike trains (..., T): a_t = (1 - 1/tau_s) a_{t-1} + s_t / tau_s."""
    out, a = [], torch.zeros_like(spikes[..., 0])
    for t in range(spikes.shape[-1]):
        a = a * (1.0 - 1.0 / tau_s) + spikes[..., t] / tau_s
        out.append(a)
    return torch.stack(out, dim=-1)


def lif_forward(current: torch.Tensor, tau_m: float, tau_s: float, threshold: float):
    """LIF with reset to zero on input currents (B, N, T): ``(u, du, spikes, psp)``,
    u the membrane before reset and du its change in each step."""
    u = torch.zeros_like(current[..., 0])
    us, dus, ss = [], [], []
    for t in range(current.shape[-1]):
        du = current[..., t] - u / tau_m
        u = u + du
        s = (u > threshold).to(current.dtype)
        us.append(u), dus.append(du), ss.append(s)
        u = u * (1.0 - s)
    spikes = torch.stack(ss, dim=-1)
    return torch.stack(us, dim=-1), torch.stack(dus, dim=-1), spikes, psp(spikes, tau_s)


def tssl_input_gradient(g: torch.Tensor, u, du, spikes, a, tau_m: float, tau_s: float,
                        threshold: float) -> torch.Tensor:
    """dL/dc (B, N, T) for input currents c, from g = dL/da: the TSSL-BP rule (module docstring)."""
    T = g.shape[-1]
    eps = psp_kernel(T, tau_s).to(g)
    G = torch.stack([(g[..., t:] * eps[:T - t]).sum(-1) for t in range(T)], dim=-1)
    inv_du = torch.where(spikes > 0, torch.clamp(1.0 / du, max=INV_DU_MAX), torch.zeros_like(du))
    z = torch.clamp((threshold - u) / SURROGATE_WIDTH, -8.0, 8.0)
    surrogate = torch.sigmoid(z) * (1 - torch.sigmoid(z)) / SURROGATE_WIDTH
    silent = a < 1.0 / (4.0 * tau_s)
    leak = 1.0 - 1.0 / tau_m
    grad = torch.zeros_like(g)
    theta = torch.zeros_like(g[..., 0])   # dL/du of the neuron's next spike, carried back in time
    for t in range(T - 1, -1, -1):
        s = spikes[..., t]
        gt = s * inv_du[..., t] * G[..., t]
        if t < T - 1:
            gt = gt + theta * (s * u[..., t] * inv_du[..., t] / tau_m + leak * (1.0 - s))
        theta = gt * s + theta * (1.0 - s) * leak
        grad[..., t] = torch.where(silent[..., t], G[..., t] * surrogate[..., t], gt)
    return grad


class _TSSLNeuron(torch.autograd.Function):
    """A layer of TSSL-BP neurons: input currents (B, N, T) -> PSPs (B, N, T)."""

    @staticmethod
    def forward(ctx, current, tau_m, tau_s, threshold):
        u, du, spikes, a = lif_forward(current, tau_m, tau_s, threshold)
        ctx.save_for_backward(u, du, spikes, a)
        ctx.params = (tau_m, tau_s, threshold)
        return a

    @staticmethod
    def backward(ctx, g):
        u, du, spikes, a = ctx.saved_tensors
        return tssl_input_gradient(g, u, du, spikes, a, *ctx.params), None, None, None


def desired_train(steps: int) -> np.ndarray:
    """The label neuron's desired spike train (T,): the authors' 0,1,1,1,1 (T < 10)
    or 0,1 (T >= 10) pattern, repeated and cut to T steps."""
    unit = [0, 1, 1, 1, 1] if steps < 10 else [0, 1]
    return np.resize(np.array(unit, dtype=np.float32), steps)


def encode_images(x: torch.Tensor, steps: int) -> torch.Tensor:
    """Images (B, D) in [0, 1] -> the network's input (B, D, T): the normalised
    pixel at every step (the authors' direct encoding)."""
    z = (x - INPUT_MEAN) / INPUT_STD
    return z.unsqueeze(-1).expand(*z.shape, steps)


def _per_step(fn, a: torch.Tensor) -> torch.Tensor:
    """Apply an image operation ``fn`` (N, C, H, W) -> (N, C', H', W') to every step of a (B, C, H, W, T)."""
    B, T = a.shape[0], a.shape[-1]
    y = fn(a.permute(0, 4, 1, 2, 3).reshape(B * T, *a.shape[1:4]))
    return y.reshape(B, T, *y.shape[1:]).permute(0, 2, 3, 4, 1)


def sum_pool(a: torch.Tensor, k: int) -> torch.Tensor:
    """The authors' pooling layer: POOL_GAIN x the sum of each k x k window of PSPs, no neuron."""
    return _per_step(lambda z: torch.nn.functional.avg_pool2d(z, k) * (k * k * POOL_GAIN), a)


class TSSLBPNet(torch.nn.Module):
    """TSSL-BP network: an optional conv stack (``conv`` = '15C5-P2-40C5-P2', the authors'
    notation), then dense layers ``sizes`` = (D, H..., C). Weights ``w0, w1, ...``: conv
    kernels (out, in, k, k) first, then dense (N_out, N_in)."""

    method = "tssl-bp"

    def __init__(self, sizes: Sequence[int], steps: int, seed: int = 0, tau_m: float = 5.0,
                 tau_s: float = 3.0, threshold: float = 1.0, conv: Optional[str] = None,
                 input_shape: Sequence[int] = (28, 28)):
        super().__init__()
        from . import parse_conv, weight_shapes
        self.sizes, self.steps = tuple(int(n) for n in sizes), int(steps)
        self.tau_m, self.tau_s, self.threshold = float(tau_m), float(tau_s), float(threshold)
        self.conv, self.input_shape = conv, tuple(input_shape)
        self.stack = parse_conv(conv) if conv else []
        gen = torch.Generator().manual_seed(int(seed))
        params = []
        for shape in weight_shapes(self.sizes, conv, self.input_shape):
            fan_in = int(np.prod(shape[1:]))
            if len(shape) == 4:   # torch's Conv3d default (the authors' conv layers): U(-1/sqrt(fan_in), +)
                w = (torch.rand(shape, generator=gen) * 2 - 1) / fan_in ** 0.5
            else:                 # kaiming_normal_ (fan_in, gain sqrt 2), as the authors' LinearLayer
                w = torch.randn(shape, generator=gen) * (2.0 / fan_in) ** 0.5
            params.append(torch.nn.Parameter(w))
        self.weights = torch.nn.ParameterList(params)
        self.register_buffer("target", torch.from_numpy(desired_train(self.steps)), persistent=False)

    def _run(self, x: torch.Tensor, spiking):
        """The forward pass with ``spiking(current) -> PSP`` as every layer's neuron."""
        a = psp(encode_images(x, self.steps), self.tau_s)
        i = 0
        if self.stack:
            c, h, w = (1, *self.input_shape) if len(self.input_shape) == 2 else self.input_shape
            a = a.reshape(a.shape[0], c, h, w, self.steps)
            for kind, _, k in self.stack:
                if kind == "conv":
                    kernel = self.weights[i]
                    a = spiking(_per_step(lambda z: torch.nn.functional.conv2d(z, kernel), a))
                    i += 1
                else:
                    a = sum_pool(a, k)
            a = a.reshape(a.shape[0], -1, self.steps)
        for w in list(self.weights)[i:]:
            a = spiking(torch.einsum("oi,bit->bot", w, a))
        return a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output PSPs (B, C, T) for images (B, D)."""
        return self._run(x, lambda c: _TSSLNeuron.apply(c, self.tau_m, self.tau_s, self.threshold))

    @torch.no_grad()
    def spike_trains(self, x: torch.Tensor) -> list:
        """Every spiking layer's spikes (B, N_l..., T) on the CPU, first to output, same forward pass."""
        x = torch.as_tensor(x, dtype=self.weights[0].dtype, device=self.weights[0].device)
        out = []

        def spiking(c):
            _, _, s, a = lif_forward(c, self.tau_m, self.tau_s, self.threshold)
            out.append(s.cpu())
            return a
        self._run(x, spiking)
        return out

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The kernel loss 1/2 sum (a_out - PSP(desired))^2, summed over the batch."""
        desired = torch.zeros_like(out)
        desired[torch.arange(len(y)), y] = self.target.to(out)
        return 0.5 * ((out - psp(desired, self.tau_s)) ** 2).sum()

    @staticmethod
    def readout(out: torch.Tensor) -> torch.Tensor:
        """Class scores (B, C): the output PSP summed over steps."""
        return out.sum(-1)

    def scores_from_spikes(self, spikes: np.ndarray) -> np.ndarray:
        """The readout computed from output spike trains (B, C, T), e.g. Lava's."""
        return self.readout(psp(torch.as_tensor(spikes, dtype=torch.float64), self.tau_s)).numpy()

    def make_optimizer(self, lr: float) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=lr, betas=(0.9, 0.999))

    def clip_gradients(self):
        torch.nn.utils.clip_grad_norm_(self.parameters(), GRAD_CLIP_NORM)

    @torch.no_grad()
    def after_step(self):
        for w in self.weights:
            w.clamp_(-WEIGHT_CLIP, WEIGHT_CLIP)

    def dense_weights(self) -> list:
        """Weights as numpy float32, first layer first (conv kernels, then dense (N_out, N_in))."""
        return [w.detach().cpu().numpy().astype(np.float32) for w in self.weights]

    raw_weights = dense_weights   # what a checkpoint holds (no quantisation in training)

    @torch.no_grad()
    def set_weights(self, weights):
        """Copy weight arrays (as :meth:`dense_weights` gives them) into the network."""
        for p, w in zip(self.weights, weights):
            p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))

    def neuron_model(self) -> dict:
        """The neuron for export: decays per step, threshold, the kernel's weight scale."""
        return {"current_decay": 1.0 / self.tau_s, "voltage_decay": 1.0 / self.tau_m,
                "threshold": self.threshold, "weight_gain": 1.0 / self.tau_s}
