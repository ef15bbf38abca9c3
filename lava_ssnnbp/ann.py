"""The equivalent ANN baseline (plain numpy, no autograd framework).

An MLP with the SNN's layer sizes (e.g. 784-1280-10), ReLU hidden units,
softmax cross-entropy at the output, dropout (input 0.2, hidden 0.3 by
default, inverted: kept units are scaled by 1/(1-p) during training, which is
the same network at test time as the SNN's test-threshold scaling), He
initialisation and mini-batch SGD with optional momentum.

Weights follow the SNN's (Lava Dense) convention: ``weights[k]`` has shape
(N_{k+1}, N_k). The SNN has no biases, so neither does this baseline by
default (``use_bias=True`` adds them).

Everything random (initialisation, shuffling, dropout masks) comes from one
``numpy.random.Generator`` seeded by ``seed``, so a run is exactly
reproducible; ``state_dict()`` includes the generator state.
"""
from __future__ import annotations

import json
from typing import Optional, Sequence, Tuple

import numpy as np

# bytes while training, for the memory check before a run (float32): per weight (the weight,
# its momentum, its gradient, the update's temporaries; the float64 draw at initialisation);
# per unit of one sample (activations, dropout masks, their gradients); per input value
BYTES_PER_WEIGHT, BYTES_PER_UNIT, BYTES_PER_INPUT = 24, 32, 8


class ANN:
    """ReLU MLP with softmax cross-entropy, dropout and SGD(+momentum)."""

    def __init__(self, sizes: Sequence[int], seed: int = 0, dropout: Sequence[float] = (0.2, 0.3),
                 lr: float = 0.05, momentum: float = 0.9, batch_size: int = 64,
                 use_bias: bool = False, dtype=np.float32):
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < 2 or any(n <= 0 for n in sizes):
            raise ValueError(f"invalid sizes {sizes!r}: need >= 2 positive integers")
        dropout = tuple(float(p) for p in dropout)
        if len(dropout) not in (0, len(sizes) - 1) or any(not 0 <= p < 1 for p in dropout):
            raise ValueError(f"invalid dropout {dropout!r}: one probability in [0, 1) per layer below the output")
        if not lr > 0 or not 0 <= momentum < 1 or int(batch_size) <= 0:
            raise ValueError("need lr > 0, 0 <= momentum < 1, batch_size > 0")
        self.sizes, self.seed = sizes, int(seed)
        self.dropout = dropout
        self.lr, self.momentum, self.batch_size = float(lr), float(momentum), int(batch_size)
        self.use_bias, self.dtype = bool(use_bias), np.dtype(dtype)
        self.rng = np.random.default_rng(np.random.SeedSequence([self.seed, 4242]))
        self.weights = [(self.rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2.0 / sizes[k]))
                        .astype(self.dtype) for k in range(len(sizes) - 1)]
        self.biases = [np.zeros(sizes[k + 1], dtype=self.dtype) for k in range(len(sizes) - 1)]
        self._vw = [np.zeros_like(w) for w in self.weights]
        self._vb = [np.zeros_like(b) for b in self.biases]

    # ------------------------------------------------------------------ core
    @property
    def n_layers(self) -> int:
        return len(self.weights)

    def _drop(self, layer: int) -> float:
        return self.dropout[layer] if self.dropout else 0.0

    def forward(self, x: np.ndarray, train: bool = False, rng: Optional[np.random.Generator] = None):
        """Logits (B, C) and the cache for ``backward`` (inputs to every layer, masks)."""
        a = np.asarray(x, dtype=self.dtype)
        acts, masks = [], []
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            p = self._drop(k)
            if train and p > 0:
                m = ((rng or self.rng).random(a.shape, dtype=np.float32) >= p).astype(self.dtype) / self.dtype.type(1 - p)
                a = a * m
            else:
                m = None
            acts.append(a), masks.append(m)
            z = a @ w.T
            if self.use_bias:
                z = z + b
            a = np.maximum(z, 0) if k < self.n_layers - 1 else z
        return a, (acts, masks)

    @staticmethod
    def _softmax_xent(logits: np.ndarray, y: np.ndarray) -> Tuple[float, np.ndarray]:
        """Mean cross-entropy and its gradient w.r.t. the logits."""
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        n = len(y)
        idx = np.arange(n)
        loss = float(np.mean(np.log(s[:, 0]) - z[idx, y]))
        g = e / s
        g[idx, y] -= 1
        return loss, g / n

    def backward(self, g: np.ndarray, cache) -> Tuple[list, list]:
        """Gradients (weights, biases) from dL/dlogits ``g`` and a forward cache."""
        acts, masks = cache
        gw = [None] * self.n_layers
        gb = [None] * self.n_layers
        for k in range(self.n_layers - 1, -1, -1):
            a = acts[k]
            gw[k] = g.T @ a
            gb[k] = g.sum(axis=0)
            if k > 0:
                g = g @ self.weights[k]
                if masks[k] is not None:
                    g = g * masks[k]
                g = g * (a > 0)       # ReLU derivative of layer k's input (mask kept zeros zero)
        return gw, gb

    def loss_and_grads(self, x, y, train: bool = False, rng: Optional[np.random.Generator] = None):
        """Mean softmax cross-entropy on (x, y) and its gradients (weights, biases)."""
        y = np.asarray(y, dtype=np.int64)
        logits, cache = self.forward(x, train, rng)
        loss, g = self._softmax_xent(logits, y)
        gw, gb = self.backward(g, cache)
        return loss, gw, gb

    def step(self, gw, gb):
        """One SGD(+momentum) step: v = mu v - lr g; w += v."""
        lr, mu = self.dtype.type(self.lr), self.dtype.type(self.momentum)
        for k in range(self.n_layers):
            self._vw[k] = mu * self._vw[k] - lr * gw[k].astype(self.dtype)
            self.weights[k] += self._vw[k]
            if self.use_bias:
                self._vb[k] = mu * self._vb[k] - lr * gb[k].astype(self.dtype)
                self.biases[k] += self._vb[k]

    # ------------------------------------------------------------------ API
    def train_epoch(self, x, y, rng: Optional[np.random.Generator] = None) -> float:
        """One pass over (x, y) in shuffled mini-batches; returns the mean training loss.

        ``rng`` (shuffling and dropout) defaults to the model's own seeded generator.
        """
        rng = rng or self.rng
        x = np.asarray(x)
        y = np.asarray(y, dtype=np.int64)
        order = rng.permutation(len(y))
        total, n = 0.0, 0
        for i in range(0, len(y), self.batch_size):
            idx = order[i:i + self.batch_size]
            loss, gw, gb = self.loss_and_grads(x[idx], y[idx], train=True, rng=rng)
            self.step(gw, gb)
            total += loss * len(idx)
            n += len(idx)
        return total / max(n, 1)

    def logits(self, x, batch: int = 4096) -> np.ndarray:
        x = np.asarray(x)
        return np.concatenate([self.forward(x[i:i + batch])[0] for i in range(0, len(x), batch)]) \
            if len(x) else np.zeros((0, self.sizes[-1]), dtype=self.dtype)

    def hidden_activations(self, x) -> list:
        """ReLU outputs (B, N_l) of every hidden layer at test time (no dropout):
        the inputs of the layers above, from ``forward``'s cache."""
        return self.forward(x)[1][0][1:]

    def predict(self, x) -> np.ndarray:
        return self.logits(x).argmax(axis=1)

    def accuracy(self, x, y) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Plain numpy arrays (``np.savez(path, **ann.state_dict())``)."""
        d = {"sizes": np.array(self.sizes, dtype=np.int64),
             "dropout": np.array(self.dropout, dtype=np.float64),
             "hyper": np.array([self.lr, self.momentum, self.batch_size, float(self.use_bias), self.seed],
                               dtype=np.float64),
             "rng_state": np.array(json.dumps(self.rng.bit_generator.state))}
        for k in range(self.n_layers):
            d[f"w{k}"], d[f"b{k}"] = self.weights[k].copy(), self.biases[k].copy()
            d[f"vw{k}"], d[f"vb{k}"] = self._vw[k].copy(), self._vb[k].copy()
        return d

    def load_state_dict(self, d) -> "ANN":
        """Restore weights, momentum buffers and generator state (sizes must match)."""
        sizes = tuple(int(n) for n in np.asarray(d["sizes"]))
        if sizes != self.sizes:
            raise ValueError(f"state has sizes {sizes}, model has {self.sizes}")
        for k in range(self.n_layers):
            self.weights[k] = np.array(d[f"w{k}"], dtype=self.dtype)
            self.biases[k] = np.array(d[f"b{k}"], dtype=self.dtype)
            self._vw[k] = np.array(d[f"vw{k}"], dtype=self.dtype) if f"vw{k}" in d else np.zeros_like(self.weights[k])
            self._vb[k] = np.array(d[f"vb{k}"], dtype=self.dtype) if f"vb{k}" in d else np.zeros_like(self.biases[k])
        if "rng_state" in d:
            self.rng.bit_generator.state = json.loads(str(np.asarray(d["rng_state"])))
        return self

    @classmethod
    def from_state_dict(cls, d, dtype=np.float32) -> "ANN":
        lr, mu, bs, bias, seed = np.asarray(d["hyper"]).tolist()
        m = cls(tuple(int(n) for n in np.asarray(d["sizes"])), seed=int(seed),
                dropout=tuple(np.asarray(d["dropout"]).tolist()), lr=lr, momentum=mu,
                batch_size=int(bs), use_bias=bool(bias), dtype=dtype)
        return m.load_state_dict(d)
