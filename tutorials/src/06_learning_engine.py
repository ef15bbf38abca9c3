# %% [markdown]
# # 6. Learning on Lava's own learning engine
#
# `LearningEngineNetwork` is SSNN-BP built from the blocks Loihi 2 runs (`docs/lava.md`, "Loihi 2:
# what runs"): every plastic synapse is Lava's `LearningDense` with the coincidence rule as a
# `Loihi3FLearningRule`, applied by **Lava's** bit-approximate learning engine; the composite neurons
# are `LearningNeuronProcess`es that send d+, d- and the sample-end flag as the third factors
# y1, y2, y3; the backward path W^T is a Lava `Dense`, copied from W after each sample by an
# embedded-core process; the WTA is a Lava `Dense`. This notebook
#
# 1. trains it for 300 samples of the embedded MNIST subset and tests it every 150 samples,
# 2. plots its accuracy and how its weights move as it learns,
# 3. checks that the backward copy is exactly W^T and that the engine with Lava's rounding
#    (`Engine(..., learning_engine='lava')`) gives the same weights bit for bit.
#
# Lava's learning engine runs at every time step over the whole synapse array, so this network is
# about ten times slower per step than `SSNNBPNetwork`: this notebook takes a few minutes on a CPU.

# %%
import numpy as np
import matplotlib.pyplot as plt

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.learning_network import LearningEngineNetwork

train = load_dataset("default", "train").subset(300, 0)
test = load_dataset("default", "test").subset(50, 0)
EVERY = 150   # test every EVERY training samples
cfg = SSNNConfig(sizes=(784, 32, 10), steps=20, fixed_point=True, mode="coincidence")
w0 = dyn.init_weights(cfg, 0)

# %% [markdown]
# ## 1. Train inside Lava, testing every 150 samples
#
# One compiled network trains and tests (the per-sample control message switches thresholds, dropout
# and the third factors off at test time: with y1 = y2 = y3 = 0 the learning engine changes nothing).

# %%
seen, accs, snapshots = [0], [], []
with LearningEngineNetwork(cfg, w0, seed=0) as net:
    accs.append(100 * np.mean(net.predict(test.x) == test.y))
    snapshots.append(net.weights)
    for a in range(0, len(train), EVERY):
        net.train(train.x[a:a + EVERY], train.y[a:a + EVERY])
        seen.append(a + EVERY)
        accs.append(100 * np.mean(net.predict(test.x) == test.y))
        snapshots.append(net.weights)
    w_lava, w_back = net.weights, net.backward_weights
    print(net, f"-- {net.time_step} Lava time steps")
for n, acc in zip(seen, accs):
    print(f"after {n:3d} training samples: {acc:5.1f}% of {len(test)} test digits")

# %% [markdown]
# ## 2. Accuracy and weights as it learns
#
# Left: test accuracy. Middle: mean absolute weight change from the initial weights, per layer, in
# weight mantissas (Lava's learning engine holds 9-bit signed weights). Right: the change of the first
# hidden units' input weights after 300 samples, as 28 x 28 images.

# %%
fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
ax[0].plot(seen, accs, "o-")
ax[0].set(xlabel="training samples", ylabel="test accuracy (%)", title="accuracy")
for k in range(cfg.n_layers):
    ax[1].plot(seen, [np.abs(s[k].astype(int) - w0[k]).mean() for s in snapshots], "o-", label=f"W{k}")
ax[1].set(xlabel="training samples", ylabel="mean |w - w0| (mantissas)", title="weight change")
ax[1].legend()
delta = (w_lava[0].astype(int) - w0[0])[:8].reshape(8, 28, 28)
grid = np.concatenate([np.concatenate(list(delta[:4]), axis=1), np.concatenate(list(delta[4:]), axis=1)])
ax[2].imshow(grid, cmap="RdBu_r", vmin=-8, vmax=8)
ax[2].set(title="W0 change of hidden units 0-7", xticks=[], yticks=[])
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The backward copy, and the engine with Lava's rounding
#
# Lava's engine rounds with one random number per learning epoch shared by all synapses; our engine
# draws one per synapse unless asked to round as Lava does. With `learning_engine='lava'` it gives the
# Lava network's weights bit for bit.

# %%
transposed = np.array_equal(w_back[1], w_lava[1].T)
print("backward copy == W1^T:", transposed)
eng = Engine(cfg, w0, seed=0, learning_engine="lava")
for a in range(0, len(train), EVERY):
    # before each block of training samples the Lava run spent a test's steps: Lava's rounding
    # numbers are drawn by time step, so the engine skips them too
    eng.lava_step_offset += len(test) * cfg.steps
    eng.train_batch(train.x[a:a + EVERY], train.y[a:a + EVERY], "per-sample")
same = all(np.array_equal(a, b) for a, b in zip(eng.weights, w_lava))
print("engine (Lava's rounding) == Lava network:", same)
assert transposed and same
