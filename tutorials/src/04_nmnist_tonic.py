# %% [markdown]
# # 4. N-MNIST with tonic: events -> frames -> SSNN-BP
#
# N-MNIST (Orchard et al. 2015) records MNIST digits with an event camera (ATIS) that moves in
# three saccades. Each recording is ~300 ms of events `(x, y, polarity, t)` on a 34 x 34 sensor,
# stored in a simple binary format (40 bits per event). SSNN-BP needs spikes per time step, so the
# events are binned into `T` frames with [tonic](https://tonic.readthedocs.io)'s `ToFrame`; a
# pixel/polarity input spikes at step `t` if it had at least one event in bin `t`. The network is
# then 2 x 34 x 34 = 2312 inputs -> hidden -> 10.
#
# **Data.** The real N-MNIST is not shipped and cannot be downloaded here. If it is found (the
# folder layout tonic uses, `<root>/NMNIST/{Train,Test}/<digit>/<nnnnn>.bin`, under
# `$SSNNBP_DATA` or `~/.cache/lava_ssnnbp`), this notebook uses a small subset of it. Otherwise it
# **writes a miniature synthetic N-MNIST itself**: digits of the embedded MNIST subset moved along
# three saccades and turned into ON/OFF events where their brightness changes, written in the
# original binary format into tonic's layout. The pipeline from the files on is exactly the one
# real N-MNIST goes through. Numbers below are for whichever data was used. About a minute.

# %%
import tempfile, time, warnings
from pathlib import Path
import numpy as np
import matplotlib.pyplot as plt

from lava_ssnnbp.data import load_dataset, search_dirs
from lava_ssnnbp.data.nmnist import find_root, tonic_dataset, write_synthetic_nmnist

warnings.filterwarnings("ignore", message="IProgress not found")   # tqdm without ipywidgets; no bars here
T = 20                       # frames (time steps) per sample
N_TRAIN, N_TEST = 400, 100
real = find_root(search_dirs(None), "train")
if real is not None and find_root(search_dirs(None), "test") is not None:
    DATA_DIR, SYNTHETIC = real, False
    print("using the real N-MNIST in", DATA_DIR)
else:
    DATA_DIR, SYNTHETIC = Path(tempfile.mkdtemp(prefix="nmnist-")), True
    mnist_tr = load_dataset("default", "train").subset(N_TRAIN, 0)
    mnist_te = load_dataset("default", "test").subset(N_TEST, 0)
    t0 = time.time()
    write_synthetic_nmnist(DATA_DIR, mnist_tr.x.reshape(-1, 28, 28), mnist_tr.y, "train", seed=0)
    write_synthetic_nmnist(DATA_DIR, mnist_te.x.reshape(-1, 28, 28), mnist_te.y, "test", seed=1)
    print(f"real N-MNIST not found: wrote {N_TRAIN} + {N_TEST} SYNTHETIC recordings to a temporary folder "
          f"({time.time() - t0:.1f} s)")
print(sorted(str(p.relative_to(DATA_DIR)) for p in (DATA_DIR / "NMNIST" / "Train").glob("*/*.bin"))[:3], "...")

# %% [markdown]
# ## Events
#
# `tonic_dataset` gives tonic's `NMNIST` dataset over that folder (it never downloads). Without a
# transform each item is a structured array of events. The event rate over time shows the three
# saccades; the events of each saccade, coloured by time, trace the digit's edges.

# %%
events_ds = tonic_dataset(DATA_DIR, "train")
ev, label = events_ds[0]
print(f"{len(events_ds)} recordings; recording 0: digit {label}, {len(ev)} events, fields {ev.dtype.names}, "
      f"t from {ev['t'].min()} to {ev['t'].max()} us")
fig, ax = plt.subplots(1, 4, figsize=(13, 3))
ax[0].hist(ev["t"] / 1000, bins=60, color="gray"); ax[0].set_xlabel("time (ms)"); ax[0].set_ylabel("events")
edges = np.linspace(ev["t"].min(), ev["t"].max() + 1, 4)
for k in range(3):
    m = (ev["t"] >= edges[k]) & (ev["t"] < edges[k + 1])
    for pol, c in ((1, "C3"), (0, "C0")):
        mm = m & (ev["p"] == pol)
        ax[k + 1].scatter(ev["x"][mm], ev["y"][mm], s=2, c=c, label="ON" if pol else "OFF")
    ax[k + 1].set_xlim(0, 33); ax[k + 1].set_ylim(33, 0); ax[k + 1].set_aspect("equal")
    ax[k + 1].set_title(f"saccade {k + 1}")
ax[1].legend(fontsize=7, loc="lower left"); plt.tight_layout(); plt.show()

# %% [markdown]
# ## Events -> frames with tonic
#
# `tonic.transforms.ToFrame(sensor_size=(34, 34, 2), n_time_bins=T)` cuts each recording into `T`
# equal time bins and counts events per pixel and polarity; we clip counts to 1 (a spike or not).
# These frames are the network's input spike trains, step by step.

# %%
import tonic.transforms

to_frame = tonic.transforms.ToFrame(sensor_size=(34, 34, 2), n_time_bins=T)
frames = np.minimum(to_frame(ev), 1)            # (T, 2, 34, 34)
print("frames:", frames.shape, f"{frames.mean():.3f} of the inputs spike per step")
fig, ax = plt.subplots(2, 8, figsize=(13, 3.4))
for j, t in enumerate(np.linspace(0, T - 1, 8).astype(int)):
    for pol in (0, 1):
        ax[pol, j].imshow(frames[t, pol], cmap="gray_r", vmin=0, vmax=1); ax[pol, j].axis("off")
    ax[0, j].set_title(f"step {t}", fontsize=8)
ax[0, 0].text(-8, 17, "OFF", rotation=90, va="center"); ax[1, 0].text(-8, 17, "ON", rotation=90, va="center")
plt.show()

# %% [markdown]
# `load_dataset('nmnist', split, data_dir, steps=T)` does exactly this for a whole split and returns
# `x` of shape (N, T, 2312) (uint8 0/1) and the labels. `verify=False` accepts a folder that is not
# the complete release (60,000 / 10,000 recordings); `cache_dir` keeps the binned frames in a
# `tonic.DiskCachedDataset`, so a second load reads them from disk instead of re-binning.

# %%
cache = Path(tempfile.mkdtemp(prefix="nmnist-cache-"))
for attempt in ("first load (bins, fills the cache)", "second load (from tonic's disk cache)"):
    t0 = time.time()
    train = load_dataset("nmnist", "train", DATA_DIR, steps=T, verify=False, max_samples=N_TRAIN, cache_dir=cache)
    print(f"{attempt}: {time.time() - t0:.1f} s")
test = load_dataset("nmnist", "test", DATA_DIR, steps=T, verify=False, max_samples=N_TEST, cache_dir=cache)
print("train", train.x.shape, "test", test.x.shape, "classes", np.bincount(train.y).tolist())

# %% [markdown]
# ## SSNN-BP on the event frames
#
# The frames replace the Bernoulli encoder: `Engine` and `SSNNBPNetwork` take inputs of shape
# (N, T, D) as spikes directly. We train a 2312-64-10 network with the batched engine for a few
# epochs (fixed point, on-chip update rule) and test after each epoch.

# %%
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine

cfg = SSNNConfig(sizes=(2312, 64, 10), steps=T, mode="coincidence", eta=0.1, fixed_point=True)
eng = Engine(cfg, seed=0)
accs = []
t0 = time.time()
for epoch in range(4):
    order = np.random.default_rng([0, epoch]).permutation(len(train))
    for a in range(0, len(order), 20):
        idx = order[a:a + 20]
        eng.train_batch(train.x[idx], train.y[idx], "mini-batch")
    counts = eng.predict_counts(test.x, np.arange(len(test)))
    accs.append(100 * np.mean(counts.argmax(1) == test.y))
    print(f"epoch {epoch + 1}: test accuracy {accs[-1]:.1f}%  ({time.time() - t0:.0f} s)")
plt.figure(figsize=(4, 3)); plt.plot(range(1, len(accs) + 1), accs, "o-")
plt.xlabel("epoch"); plt.ylabel(f"test accuracy (%), {'synthetic' if SYNTHETIC else 'real'} N-MNIST")
plt.show()

# %% [markdown]
# ## The same network in Lava
#
# `SSNNBPNetwork(cfg, weights, event_frames=True)` feeds the frames through the `SpikeInput`
# process instead of drawing Bernoulli spikes. Its output counts equal the engine's (the network
# is the same, step for step).

# %%
from lava_ssnnbp.network import SSNNBPNetwork

with SSNNBPNetwork(cfg, eng.weights, seed=0, event_frames=True) as net:
    lava_counts = net.predict_counts(test.x[:8])
print("Lava counts == engine counts on 8 test recordings:",
      np.array_equal(lava_counts, eng.predict_counts(test.x[:8], np.arange(8))))

# %% [markdown]
# **From the shell.** The same path, with a run folder, checkpoints and `--backend engine|lava`:
#
# ```bash
# ssnnbp train --preset none --dataset nmnist --data-dir /path/to/root --steps 20 --hidden 64 \
#     --fixed-point --mode coincidence --train-samples 6000 --test-samples 1000
# ```
#
# (`--no-verify` for an incomplete folder such as the synthetic one above.) Do not read the accuracy
# above as an N-MNIST result: it comes from a few hundred synthetic recordings and four epochs
# (chance is 10%; an equivalent ReLU network on the time-averaged frames of the same data reaches
# about 80%, so SSNN-BP has far from converged here). Real results need the real data set and
# full-length training.
