# %% [markdown]
# # 2. On-chip learning in Lava
#
# Here a small SSNN-BP network learns to classify MNIST digits **inside Lava processes**: the
# forward pass, the spiking backward pass and the weight updates all run in the ProcessModels of
# Lava's CPU simulator, at every time step, one sample after another (as on a chip). The host only
# streams samples in and reads spike counts out.
#
# The network is `SpikeInput -> CoincidenceDense -> CompositeNeuron -> CoincidenceDense ->
# OutputCompositeNeuron (+ WinnerTakeAll, TargetGenerator)`; each `CoincidenceDense` holds one weight
# array, reads it forwards (`W x`) and backwards (`W^T (d+ - d-)`), and at the end of each sample
# changes every weight by the number of coincidences of its presynaptic `x` spike with its
# postsynaptic `d+` (adds) or `d-` (subtracts) spikes (`mode='coincidence'`, the paper's Eq. 10).
#
# We train the same network twice, in floating point and in Loihi-like fixed point (8-bit weights,
# integer neuron state), and watch accuracy and weights as it learns. About a minute on a CPU.

# %%
import time
import numpy as np
import matplotlib.pyplot as plt

from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.network import SSNNBPNetwork

train = load_dataset("default", "train").subset(160, seed=0)   # class-balanced, shipped with the package
test = load_dataset("default", "test").subset(50, seed=0)
ROUNDS, PER_ROUND = 4, 40
# dropout regularises long runs; on 160 samples it only slows learning down, so it is off here
base = SSNNConfig(sizes=(784, 32, 10), steps=20, mode="coincidence", eta=0.5, dropout=(0.0, 0.0))
print(base)

# %% [markdown]
# ## Training inside Lava
#
# `SSNNBPNetwork` builds the processes and compiles them once. `net.train(x, y)` sends each sample
# with `learn=True`: target spikes on, dropout on, training thresholds, and a weight update per
# sample in Lava's learning phase. `net.predict_counts(x)` sends `learn=False` to the **same**
# compiled network: test thresholds, no dropout, no learning. Weights are read back from the
# synapse processes with `net.weights`.

# %%
def learn_in_lava(cfg):
    hist = {"samples": [], "acc": [], "dw": [], "weights": []}
    t0 = time.time()
    with SSNNBPNetwork(cfg, seed=0) as net:
        w_init = net.weights
        for r in range(ROUNDS + 1):
            if r:
                sl = slice((r - 1) * PER_ROUND, r * PER_ROUND)
                net.train(train.x[sl], train.y[sl])            # one weight update per sample, in Lava
            counts = net.predict_counts(test.x)
            w = net.weights
            hist["samples"].append(net.samples_seen)
            hist["acc"].append(100 * np.mean(counts.argmax(1) == test.y))
            hist["dw"].append([np.abs(a.astype(float) - b).mean() for a, b in zip(w, w_init)])
            hist["weights"].append(w)
            print(f"{'fixed' if cfg.fixed_point else 'float'}: {net.samples_seen:4d} samples seen, "
                  f"test accuracy {hist['acc'][-1]:5.1f}%  ({time.time() - t0:.0f} s)")
    return hist

runs = {"float": learn_in_lava(base), "fixed point": learn_in_lava(base.replace(fixed_point=True))}

# %% [markdown]
# ## Accuracy and weights while learning
#
# Left: test accuracy on 50 held-out digits after every 40 training samples (chance is 10%).
# Right: the mean absolute change of each weight array since the start, in units of a weight
# (fixed-point mantissas are divided by 64, the mantissa of 1.0). Both precisions learn alike;
# the 8-bit weights change in steps of 1/64 with stochastic rounding.

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
for name, h in runs.items():
    ax[0].plot(h["samples"], h["acc"], "o-", label=name)
    scale = 64.0 if name == "fixed point" else 1.0
    dw = np.array(h["dw"]) / scale
    for k in range(dw.shape[1]):
        ax[1].plot(h["samples"], dw[:, k], "o-" if k == 0 else "s--", label=f"{name}, W{k}")
ax[0].axhline(10, c="gray", ls=":", label="chance"); ax[0].set_xlabel("training samples (inside Lava)")
ax[0].set_ylabel("test accuracy (%)"); ax[0].legend()
ax[1].set_xlabel("training samples"); ax[1].set_ylabel("mean |W - W_init| (weight units)"); ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# What did the hidden units learn? Each image below is the change of one hidden unit's 784 input
# weights (fixed-point run, first 8 units), red = increased, blue = decreased. After a few dozen
# samples the updates already trace digit strokes: the coincidence rule moves weights only where
# input pixels were active while that unit's gradient neurons fired.

# %%
h = runs["fixed point"]
delta = (h["weights"][-1][0].astype(float) - h["weights"][0][0]) / 64
lim = np.abs(delta[:8]).max()
fig, ax = plt.subplots(1, 8, figsize=(12, 1.8))
for j in range(8):
    ax[j].imshow(delta[j].reshape(28, 28), cmap="bwr", vmin=-lim, vmax=lim)
    ax[j].set_title(f"unit {j}", fontsize=8); ax[j].axis("off")
plt.show()
vals, cnt = np.unique(h["weights"][-1][1], return_counts=True)
print("output weights are integer mantissas in", vals.min(), "...", vals.max(), "(8-bit: -127..127)")

# %% [markdown]
# ## The same learning, without Lava
#
# The batched `Engine` runs the very same per-step functions outside Lava. With per-sample updates
# and the same seed it reproduces the Lava run exactly: in fixed point the weights are equal bit for
# bit (the tests check this on every change). The engine is what trains on full data sets; Lava is
# where the on-chip algorithm lives.

# %%
from lava_ssnnbp.engine import Engine

eng = Engine(base.replace(fixed_point=True), seed=0)
eng.train_batch(train.x, train.y, batch_updates="per-sample")
same = all(np.array_equal(a, b) for a, b in zip(eng.weights, runs["fixed point"]["weights"][-1]))
print("engine weights == Lava weights after", len(train.y), "samples:", same)

# %% [markdown]
# **Takeaways.** Learning happens in the processes, sample by sample, with spikes only and updates
# that are local to each synapse. Fixed point (what Loihi would hold) learns like float. With more
# data the same network keeps improving; `ssnnbp train --backend lava` runs this loop on a data set
# and writes a run folder, and `--backend engine` trains the identical model much faster.
