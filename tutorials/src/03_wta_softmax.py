# %% [markdown]
# # 3. Winner-take-all as a softmax approximation
#
# Backpropagation with a softmax cross-entropy loss sends `label - softmax(z)` down from the output.
# SSNN-BP's output gradient neurons send `label spikes - output spikes`, so the output *spike
# counts* should behave like a softmax of the drives: they should be normalised and concentrated on
# the strongest class. Plain IF neurons are not: their counts are a ReLU of each drive,
# independently. The paper adds lateral inhibition among output neurons (Eq. 2): each output spike
# sends `-w_inh` to every **other** output neuron (one step later). The total inhibition a neuron
# receives grows with the activity of all the others, like the denominator of a softmax.
#
# This notebook shows the effect on fixed drives, then on a trained network (the paper's Fig. 5:
# the sorted, normalised output distribution with WTA, raw, and softmax). Numpy only, ~30 s.

# %%
import numpy as np
import matplotlib.pyplot as plt

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import SSNNConfig

T = 100
cfg = SSNNConfig(sizes=(1, 10), steps=T, dropout=())   # only the output layer matters here
p = dyn.neuron_params(cfg, layer=1, train=False)
print(f"w_inh = {cfg.wta_inhibition}, theta = {cfg.theta}, T = {T}")

def output_counts(drive_per_step, wta: bool, w_inh=cfg.wta_inhibition):
    """Spike counts of 10 output neurons under constant drives, with or without WTA (one-step delay)."""
    u = v = np.zeros(10); inh = np.zeros(10); c = np.zeros(10, int)
    for t in range(T):
        u, v, x = dyn.forward_step(u, v, drive_per_step + inh, p)
        inh = dyn.wta_drive(x, w_inh, fixed=False) if wta else np.zeros(10)
        c += x
    return c

# %% [markdown]
# ## Fixed drives
#
# Ten output neurons get constant drives (the leading class a little stronger than the next).
# Without WTA each fires in proportion to its own drive; with WTA the leader suppresses the
# others and takes most of the spikes. The dashed line is `softmax(beta * z)` with beta fitted to
# the WTA counts: the inhibited distribution has the softmax's shape.

# %%
z = np.array([0.9, 0.75, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.0])   # drive per step (weight units)
raw, wta = output_counts(z, False), output_counts(z, True)

def softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)

def fit_beta(target, logits, betas=np.linspace(0.1, 60, 600)):
    err = [np.sum((softmax(b * logits) - target) ** 2) for b in betas]
    return betas[int(np.argmin(err))]

beta = fit_beta(wta / wta.sum(), z)
x = np.arange(10)
plt.figure(figsize=(6, 3.5))
plt.bar(x - 0.2, raw / raw.sum(), 0.4, label=f"no WTA ({raw.sum()} spikes)")
plt.bar(x + 0.2, wta / wta.sum(), 0.4, label=f"WTA ({wta.sum()} spikes)")
plt.plot(x, softmax(beta * z), "k--o", ms=3, label=f"softmax({beta:.1f} z)")
plt.xlabel("output neuron (by drive)"); plt.ylabel("share of output spikes"); plt.legend(); plt.show()
print("counts without WTA:", raw.tolist()); print("counts with WTA:   ", wta.tolist())

# %% [markdown]
# The strength of the inhibition sets the "temperature": stronger inhibition, sharper distribution.

# %%
plt.figure(figsize=(6, 3.2))
for w_inh in (0.0, 1.0, 2.5, 5.0):
    c = output_counts(z, True, w_inh)
    plt.plot(x, c / max(c.sum(), 1), "o-", label=f"w_inh = {w_inh}  (top share {c[0] / max(c.sum(), 1):.2f})")
plt.xlabel("output neuron (by drive)"); plt.ylabel("share of output spikes"); plt.legend(fontsize=8); plt.show()

# %% [markdown]
# ## In a trained network (the paper's Fig. 5)
#
# We train a 784-64-10 network with WTA in the engine (a few seconds on 2,000 digits of the embedded
# MNIST subset), then present 300 test digits twice with the same weights and input spikes: with the
# WTA (as trained) and without it. For each digit the output counts are normalised and sorted, then
# averaged over digits. The softmax curve is `softmax(beta * raw rates)` with beta fitted to the
# WTA curve.

# %%
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.engine import Engine

train = load_dataset("default", "train").subset(2000, 0)
test = load_dataset("default", "test").subset(300, 0)
net_cfg = SSNNConfig(sizes=(784, 64, 10), steps=30, mode="coincidence", eta=0.2)
eng = Engine(net_cfg, seed=0)
for a in range(0, len(train), 20):
    eng.train_batch(train.x[a:a + 20], train.y[a:a + 20], "mini-batch")
ids = np.arange(len(test))
c_wta = eng.predict_counts(test.x, ids)
c_raw = Engine(net_cfg.replace(wta=False), eng.weights, seed=0).predict_counts(test.x, ids)
for name, c in (("WTA", c_wta), ("no WTA", c_raw)):
    print(f"{name:7s} test accuracy {100 * np.mean(c.argmax(1) == test.y):.1f}%, "
          f"mean output spikes per digit {c.sum(1).mean():.1f}")

# %%
def sorted_share(c):
    keep = c.sum(1) > 0
    s = c[keep] / c[keep].sum(1, keepdims=True)
    return -np.sort(-s, axis=1).mean(0)

rates = c_raw / net_cfg.steps
share_wta, share_raw = sorted_share(c_wta), sorted_share(c_raw)
betas = np.linspace(0.5, 80, 400)
err = [np.sum((-np.sort(-softmax(b * rates), axis=1).mean(0) - share_wta) ** 2) for b in betas]
b_fit = betas[int(np.argmin(err))]
share_soft = -np.sort(-softmax(b_fit * rates), axis=1).mean(0)
plt.figure(figsize=(6, 3.5))
plt.plot(range(1, 11), share_wta, "o-", label="WTA (SSNN-BP output)")
plt.plot(range(1, 11), share_soft, "k--", label=f"softmax({b_fit:.0f} x raw rates)")
plt.plot(range(1, 11), share_raw, "s-", label="raw (no WTA)")
plt.xlabel("rank of output neuron (per digit)"); plt.ylabel("mean share of output spikes")
plt.legend(); plt.show()

# %% [markdown]
# With WTA the winner takes most of the spikes and the tail is pushed down, which is the shape of a
# softmax; without it, the counts are spread in proportion to each neuron's own drive. During
# training this is what turns `label - output` into an approximation of the softmax
# cross-entropy gradient (without WTA the loss is MSE-like).
#
# Does it help accuracy? The paper reports EMNIST 84.5% -> 85.8% with WTA. To measure it, train
# with `--wta` and `--no-wta` (`ssnnbp train --help`); on a few thousand samples and one seed the
# difference is within noise, so we do not claim a number here.
