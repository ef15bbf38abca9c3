# %% [markdown]
# # 1. The composite neuron: forward and gradient spike trains of one unit
#
# SSNN-BP replaces every unit of a multilayer network by a **composite neuron**: a forward
# integrate-and-fire neuron `x` that carries the activation, and two gradient neurons `d+` and
# `d-` that carry the positive and negative halves of the back-propagated error. All three run at
# the same time, every time step, with spikes only.
#
# This notebook drives one unit by hand with the library's per-step functions
# (`lava_ssnnbp.dynamics`, the same code the Lava ProcessModels and the batched engine call) and
# plots what each of its three neurons does. Everything here is numpy; it runs in seconds.

# %%
import numpy as np
import matplotlib.pyplot as plt

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp.config import SSNNConfig

T = 100
cfg = SSNNConfig(sizes=(1, 1, 1), steps=T, theta=5.0)   # one input, one hidden, one output unit
print(f"T = {T} steps, tau = {cfg.tau_steps} steps, du = {cfg.du:.4f}, theta = {cfg.theta}")

# %% [markdown]
# ## The forward neuron `x`: a current-based integrate-and-fire neuron
#
# Each input spike of weight `w` enters the synaptic current `u`, which decays with time constant
# tau; the voltage `v` integrates `u` without leak. The scaling is chosen so that one spike of
# weight `w` eventually adds exactly `w` to `v` (the paper's kernel 1 - exp(-t/tau)). When `v`
# crosses theta the neuron spikes and, by default, the threshold is *subtracted*. Below: a
# Bernoulli input train of weight 1.5 drives one neuron.

# %%
rng = np.random.default_rng(0)
inp = rng.random(T) < 0.6
w = 1.5
u = v = np.zeros(1)
us, vs, xs = [], [], []
for t in range(T):
    u, v, s = dyn.if_step(u, v, np.array([w * inp[t]]), cfg.du, cfg.theta, reset="subtract")
    us.append(u[0]), vs.append(v[0]), xs.append(s[0])
xs = np.array(xs)

fig, ax = plt.subplots(3, 1, figsize=(8, 5), sharex=True)
ax[0].eventplot(np.flatnonzero(inp), color="k"); ax[0].set_ylabel("input")
ax[1].plot(us, label="u (current)"); ax[1].plot(vs, label="v (voltage)")
ax[1].axhline(cfg.theta, ls="--", c="gray", label="theta"); ax[1].legend(loc="upper right")
ax[2].eventplot(np.flatnonzero(xs), color="C3"); ax[2].set_ylabel("x spikes"); ax[2].set_xlabel("time step")
plt.tight_layout(); plt.show()
print(f"input drive {w * inp.sum():.1f}, output spikes {xs.sum()}  (drive / theta = {w * inp.sum() / cfg.theta:.1f})")

# %% [markdown]
# Because the threshold is subtracted, nothing of the drive is lost: once the current has been
# integrated, the spike count is `floor(max(0, drive) / theta)`. The rate is a **ReLU** of the
# input, which is what lets the spiking network stand in for a ReLU network trained by
# backpropagation. Reset to zero (Lava's standard LIF) throws the overshoot away at every spike and
# bends the curve. (Below the drive arrives in the first half of the sample, so that the kernel has
# time to deliver all of it; the input encoder front-loads its spikes for the same reason.)

# %%
def rate(total_drive, reset, n=T):
    a = np.where(np.arange(n) < n // 2, total_drive / (n // 2), 0.0)   # current in the first half
    u = v = np.zeros(1); c = 0
    for t in range(n):
        u, v, s = dyn.if_step(u, v, a[t:t + 1], cfg.du, cfg.theta, reset=reset)
        c += int(s[0])
    return c

drives = np.linspace(-20, 120, 36)
plt.figure(figsize=(5, 3.5))
for reset in ("subtract", "zero"):
    plt.plot(drives, [rate(d, reset) for d in drives], "o-", ms=3, label=f"reset = {reset}")
plt.plot(drives, np.maximum(drives, 0) / cfg.theta, "k--", label="ReLU(drive) / theta")
plt.xlabel("total input drive over the sample"); plt.ylabel("spikes per sample"); plt.legend(); plt.show()

# %% [markdown]
# ## The output unit: `d+` and `d-` carry label minus output
#
# At the output, `d+` is driven by (target spikes - output spikes) and `d-` by the opposite, through
# the same kernel, with threshold theta_N = 1. The target is a Bernoulli train of rate 0.5 on the
# label neuron. Over the sample, `(#d+ - #d-)` tracks `(#target - #x)`: the error, as spikes.
# Here the unit is the label neuron and fires too little, so `d+` fires.

# %%
def run_output(drive_per_step, target_rate=0.5, seed=1):
    p = dyn.neuron_params(cfg, layer=cfg.n_layers, train=True)   # the output layer (thresholds, gain)
    st = dyn.composite_state((1,), fixed=False)
    tgt = dyn.encode_target(0, T, 1, target_rate, np.random.default_rng(seed))
    rec = {k: [] for k in ("target", "x", "dp", "dn")}
    for t in range(T):
        st, x, dp, dn = dyn.output_step(st, np.array([drive_per_step]), tgt[t], p)
        for k, s in zip(rec, (tgt[t], x, dp, dn)):
            rec[k].append(bool(s[0]))
    return {k: np.array(v) for k, v in rec.items()}

def raster(rec, title):
    fig, ax = plt.subplots(figsize=(8, 2.2))
    for i, (k, c) in enumerate(zip(rec, ("k", "C3", "C2", "C0"))):
        ax.eventplot(np.flatnonzero(rec[k]), lineoffsets=i, colors=c)
    ax.set_yticks(range(len(rec))); ax.set_yticklabels(list(rec)); ax.set_xlabel("time step")
    ax.set_title(title + "  counts: " + ", ".join(f"{k} {rec[k].sum()}" for k in rec), fontsize=9)
    plt.tight_layout(); plt.show()

for drive in (0.5, 4.0):
    rec = run_output(drive)
    raster(rec, f"output unit, drive {drive}/step:")
    print(f"#target - #x = {rec['target'].sum() - rec['x'].sum():+d},   #d+ - #d- = {rec['dp'].sum() - rec['dn'].sum():+d}")

# %% [markdown]
# ## A hidden unit: gated gradient neurons
#
# A hidden unit's `d+`/`d-` integrate the error sent down through the *same* weights,
# `W^T (d+ - d-)` of the layer above, with opposite signs. Their spikes pass only once `x` has
# spiked in this sample: the gate is the ReLU derivative (a unit that stays silent has zero
# slope and must not learn). Below, a positive backward drive arrives from step 0, but the forward
# drive only from step 30 and `x` needs a while to reach threshold; `d+` integrates all along
# (grey: what it would fire) but its spikes pass only after the gate opens (orange line).

# %%
p = dyn.neuron_params(cfg, layer=1, train=True)
st = dyn.composite_state((1,), fixed=False)
fwd = np.where(np.arange(T) >= 30, 0.6, 0.0)   # forward drive starts at step 30
bwd = np.full(T, 0.25)                          # backward drive W^T (d+ - d-) from above
rec = {k: [] for k in ("x", "dp", "dn", "dp ungated")}
gate_open = None
pu = pv = np.zeros(1)
for t in range(T):
    st, x, dp, dn = dyn.hidden_step(st, np.array([fwd[t]]), np.array([bwd[t]]), p)
    pu, pv, free = dyn.if_step(pu, pv, np.array([bwd[t]]), p.du, p.theta_d)   # d+ without the gate
    for k, s in zip(rec, (x, dp, dn, free)):
        rec[k].append(bool(s[0]))
    if gate_open is None and st.gate[0]:
        gate_open = t
rec = {k: np.array(v) for k, v in rec.items()}
fig, ax = plt.subplots(figsize=(8, 2.2))
for i, (k, c) in enumerate(zip(rec, ("C3", "C2", "C0", "0.7"))):
    ax.eventplot(np.flatnonzero(rec[k]), lineoffsets=i, colors=c)
ax.axvline(gate_open - 0.5, c="orange", ls="--", lw=1, label="gate opens (first x spike)")
ax.set_xlim(-1, T); ax.set_yticks(range(4)); ax.set_yticklabels(list(rec))
ax.legend(loc="upper left", fontsize=8); ax.set_xlabel("time step"); plt.tight_layout(); plt.show()
print(f"gate opens at step {gate_open}; d+ would have fired {rec['dp ungated'].sum()} times, "
      f"passed {rec['dp'].sum()}")

# %% [markdown]
# ## The same unit in fixed point
#
# The fixed-point model uses only integers of Loihi's widths: `du` becomes a 12-bit register,
# thresholds 17-bit mantissas compared as `v > vth << 6`, weights 8-bit mantissas (64 = 1.0).
# Configured with reset to zero it is Lava's bit-accurate LIF, bit for bit (a test checks this).
# Its spikes follow the float neuron closely:

# %%
fcfg = cfg.replace(fixed_point=True)
pf = dyn.neuron_params(fcfg, layer=1, train=True)
print(f"du register {pf.du} (effective decay {(pf.du + 1) / 4096:.4f} vs float {cfg.du:.4f}), "
      f"threshold mantissa {pf.theta_x}")
uf = vf = np.zeros(1, dtype=np.int32); xf = []
for t in range(T):
    a = np.array([int(round(w * 64)) * int(inp[t])])        # weight 1.5 = mantissa 96
    uf, vf, s = dyn.if_step(uf, vf, a, pf.du, pf.theta_x, reset="subtract", fixed=True)
    xf.append(bool(s[0]))
xf = np.array(xf)
fig, ax = plt.subplots(figsize=(8, 1.6))
ax.eventplot([np.flatnonzero(xs), np.flatnonzero(xf)], colors=["C3", "C1"])
ax.set_yticks([0, 1]); ax.set_yticklabels(["float", "fixed"]); ax.set_xlabel("time step")
plt.tight_layout(); plt.show()
print(f"float {xs.sum()} spikes, fixed point {xf.sum()} spikes, same steps: {(xs == xf).mean():.0%}")

# %% [markdown]
# **Takeaways.** `x` is a rate-ReLU; `d+ - d-` at the output is label minus output, at a hidden
# unit it is the back-propagated error gated by the ReLU derivative; and each synapse can update
# its weight from the two spikes at its own ends (presynaptic `x`, postsynaptic `d±`). The next
# notebook puts many such units into Lava processes and lets them learn.
