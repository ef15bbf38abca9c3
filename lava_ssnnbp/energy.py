"""Energy and latency per training sample and per inference on Loihi, estimated
from counted events times published per-event figures (a model, not a measurement).

Events are counted from a network's own spikes (``count_events``: the engine
simulates samples with the trained weights, train or test thresholds) for the
learning-engine network (``LearningEngineNetwork``), per sample:

* **synaptic operations**: every spike times its fan-out -- forward W_k
  (x_k spikes x N_{k+1}), the backward copies W_l^T (d+_l and d-_l spikes x
  N_{l-1}, l >= 2), the WTA (output spikes x (C - 1)) and, when learning, the
  output's error synapses (target and output spikes into d+ and d-: 2 each);
* **neuron updates**: every compartment every time step (3 per composite neuron
  when learning, the forward neuron x only at inference), split into active
  (a compartment that spikes in the step, counted as its spikes) and inactive;
* **learning-engine updates** (training): ``learning_updates_min`` counts the
  synapses the x0-dependent products touch (each presynaptic spike of a plastic
  layer over its fan-out) plus one end-of-sample update of every plastic synapse;
  ``learning_updates_max`` counts every plastic synapse every step, what the
  rule's u0 terms cost with ``t_epoch = 1`` if the engine visits all synapses
  each epoch (as Lava's simulation does). Energy and latency are given for both;
* **spikes between cores**: every spike sent to another layer's cores (input and
  hidden x, the d spikes to the backward copies), taken as one within-tile
  send plus one tile hop (an assumption: the real hop count depends on placement);
* **embedded-core writes**: the W^T copy's weight writes per training sample,
  counted but not priced (no published per-write energy).

Per-event figures: :data:`LOIHI_2018` -- Davies et al., "Loihi: A Neuromorphic
Manycore Processor with On-Chip Learning", IEEE Micro 38(1):82-99, 2018, Table 2
(first-generation Loihi, Intel 14 nm; pre-silicon/characterisation figures, the
synaptic-op energy is the table's minimum). No comparable per-event table is
published for Loihi 2, so the estimate is for Loihi. Static and idle power are
not included. Latency: per time step, the network's work at the table's
per-event times scaled by the busiest neurocore's share of the neurons (the
cores of ``resources.estimate(..., learning_engine=True)``; cores run in
parallel, and a core's work is taken as proportional to its neurons: crude),
plus one mesh-wide barrier.

Source check (2026-12-02): the paper itself is not in ``shared/papers`` and cannot be
fetched here. SANA-FE's Loihi description (SLAM-Lab/SANA-FE, ``loihi.yaml``, which says its
figures are Davies et al. 2018's) has the same synaptic op (23.6 pJ, 3.5 ns), active
neuron update (81 pJ, 8.4 ns), within-tile spike (1.7 pJ, 2.1 ns) and tile hops
(3.0 / 4.0 pJ). It differs on the inactive neuron update (47.5 pJ, 6.1 ns against 52 pJ,
5.3 ns here) and uses one barrier time (299 ns) inside the 113-465 ns range; the synaptic
update (120 pJ, 6.1 ns) is not in it. Those figures are unconfirmed until the table is read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

import numpy as np

from .config import SSNNConfig

RENNER_2024 = {"work": "Renner et al. 2024 (Loihi, on-chip backprop)", "mnist_acc": 96.3,
               "train_mj_per_sample": 0.59, "train_ms_per_sample": 1.5, "inference_mj": 0.0025}
EMSTDP_2021 = {"work": "EMSTDP, Shrestha et al. 2021 (Loihi)", "mnist_acc": 94.7,
               "train_mj_per_sample": 8.4, "train_ms_per_sample": 20.0, "inference_mj": None}


@dataclass(frozen=True)
class EventCosts:
    """Energy (pJ) and time (ns) per event on one chip generation."""
    chip: str
    source: str
    synaptic_op_pj: float
    synaptic_update_pj: float
    neuron_update_active_pj: float
    neuron_update_inactive_pj: float
    spike_within_tile_pj: float
    tile_hop_pj: float
    synaptic_op_ns: float
    synaptic_update_ns: float
    neuron_update_active_ns: float
    neuron_update_inactive_ns: float
    barrier_ns: float


LOIHI_2018 = EventCosts(
    chip="Loihi (first generation, Intel 14 nm)",
    source="Davies et al., IEEE Micro 38(1):82-99, 2018, Table 2",
    synaptic_op_pj=23.6,            # energy per synaptic spike op (min)
    synaptic_update_pj=120.0,       # energy per synaptic update (pairwise STDP)
    neuron_update_active_pj=81.0,   # energy per neuron update, active
    neuron_update_inactive_pj=52.0,  # ... inactive
    spike_within_tile_pj=1.7,       # within-tile spike energy
    tile_hop_pj=3.5,                # energy per tile hop: 3.0 (E-W) .. 4.0 (N-S), mid value
    synaptic_op_ns=3.5,             # time per synaptic spike op (max)
    synaptic_update_ns=6.1,         # time per synaptic update (pairwise STDP)
    neuron_update_active_ns=8.4,    # time per neuron update, active
    neuron_update_inactive_ns=5.3,  # ... inactive
    barrier_ns=465.0,               # mesh-wide barrier sync, 32 tiles: 113-465 ns (the upper figure)
)


def _mean_total(counts) -> float:
    """Mean over samples of the total spikes of one layer; counts (B, N)."""
    return float(np.asarray(counts).sum(axis=-1).mean())


def count_events(cfg: SSNNConfig, res, train: bool, target_spikes: float = 0.0) -> Dict[str, float]:
    """Events per sample (means over the samples of ``res``, an engine ``SimResult``);
    ``target_spikes``: mean target spikes per training sample. In 'replay' mode the
    window's spikes (``res.window_counts``) are added to the pass's."""
    sizes, L, T = cfg.sizes, cfg.n_layers, cfg.steps
    steps = T + (cfg.replay_window if train else 0)
    x = [_mean_total(c) for c in res.x_counts]
    dp = [_mean_total(c) for c in res.dp_counts] if train else [0.0] * L
    dn = [_mean_total(c) for c in res.dn_counts] if train else [0.0] * L
    if train and res.window_counts is not None:
        wx, wp, wn = res.window_counts
        def add(pass_counts, window):     # the window may replay fewer layers (no output x)
            return [a + (_mean_total(window[i]) if i < len(window) else 0.0) for i, a in enumerate(pass_counts)]
        x, dp, dn = add(x, wx), add(dp, wp), add(dn, wn)
    fwd = sum(x[k] * sizes[k + 1] for k in range(L))
    bwd = sum((dp[l - 1] + dn[l - 1]) * sizes[l - 1] for l in range(2, L + 1)) if train else 0.0
    wta = x[L] * (sizes[-1] - 1) if cfg.wta else 0.0
    err = 2.0 * (target_spikes + x[L]) if train else 0.0
    comps = (3 if train else 1) * sum(sizes[1:])
    active = sum(x[1:]) + (sum(dp) + sum(dn) if train else 0.0)
    plastic = sum(sizes[k] * sizes[k + 1] for k in range(L))
    ev = {"synaptic_ops": fwd + bwd + wta + err, "synaptic_ops_forward": fwd, "synaptic_ops_backward": bwd,
          "neuron_updates": float(comps * steps), "neuron_updates_active": active,
          "spikes_between_cores": sum(x[:L]) + (sum(dp[1:]) + sum(dn[1:]) if train else 0.0),
          "steps": float(steps)}
    if train:
        ev["learning_updates_min"] = fwd + plastic
        ev["learning_updates_max"] = float(plastic * steps)
        ev["embedded_core_weight_writes"] = float(sum(sizes[l] * sizes[l + 1] for l in range(1, L)))
    return ev


def count_chip_events(cfg: SSNNConfig, res, train: bool, target_spikes: float = 0.0,
                      host_input_spikes: float = 0.0) -> Dict[str, float]:
    """Events per sample of the chip configuration (``cfg.loihi2``) as its Lava
    network (``LearningEngineNetwork``) runs them on a neurocore mesh: a training
    sample is T pass steps, T_s replay steps and one update step; an inference is
    T steps (a port skips the window there). ``res`` is an engine ``SimResult``
    (training: with the window's counts); ``host_input_spikes``: the input spikes
    the host sends per sample (before the relay neurons' dropout).

    * relay neurons: D compartments every step; they forward the pass's input
      spikes (after dropout) and replay their counts in the window;
    * synaptic ops: every spike over its fan-out, in the pass and in the window
      (a replayed spike reaches its synapses like any other: W_k from x_k, the
      mirrored W_k^T from the gradient spikes of layer k+1), the WTA and the
      error synapses (pass only);
    * learning engine, ``learning_updates_low``: the synapses of the window's
      presynaptic spikes (their x0 terms count the tag) plus, at the update
      step, the rows of the post neurons that fired in the window (their y0
      terms apply and clear the tag; the neurons send y0 only there);
      ``learning_updates_high``: also the synapses of every presynaptic spike of
      the pass (a learning engine that evaluates x0 terms whether or not the
      post factors are zero) and every plastic synapse at the update step;
    * host-chip spikes: the input spikes of the pass and, when training, the
      target spikes: counted, not priced (no public per-spike figure);
    * no embedded-core work: W^T learns by the mirrored rule, not by a copy."""
    sizes, L, T = cfg.sizes, cfg.n_layers, cfg.steps
    R = cfg.replay_window if train else 0
    steps = T + (R + 1 if train else 0)
    x = [_mean_total(c) for c in res.x_counts]
    dp = [_mean_total(c) for c in res.dp_counts] if train else [0.0] * L
    dn = [_mean_total(c) for c in res.dn_counts] if train else [0.0] * L
    wx = wp = wn = None
    if train and res.window_counts is not None:
        wx, wp, wn = res.window_counts
    win_x = [_mean_total(wx[k]) for k in range(L)] if wx is not None else [0.0] * L          # layers 0..L-1
    win_d = [_mean_total(wp[l]) + _mean_total(wn[l]) for l in range(L)] if wp is not None else [0.0] * L
    fwd_pass = sum(x[k] * sizes[k + 1] for k in range(L))
    fwd_win = sum(win_x[k] * sizes[k + 1] for k in range(L))
    bwd_pass = sum((dp[l - 1] + dn[l - 1]) * sizes[l - 1] for l in range(2, L + 1)) if train else 0.0
    bwd_win = sum(win_d[l - 1] * sizes[l - 1] for l in range(2, L + 1))
    wta = x[L] * (sizes[-1] - 1) if cfg.wta else 0.0
    err = 2.0 * (target_spikes + x[L]) if train else 0.0
    comps = (3 if train else 1) * sum(sizes[1:]) + sizes[0]            # composite layers, relay neurons
    active = sum(x) + (sum(dp) + sum(dn) + sum(win_x) + sum(win_d) if train else 0.0)
    ev = {"synaptic_ops": fwd_pass + fwd_win + bwd_pass + bwd_win + wta + err,
          "synaptic_ops_forward": fwd_pass + fwd_win, "synaptic_ops_backward": bwd_pass + bwd_win,
          "neuron_updates": float(comps * steps), "neuron_updates_active": active,
          "spikes_between_cores": sum(x[:L]) + sum(win_x) + (sum(dp[1:]) + sum(dn[1:]) + sum(win_d[1:]) if train else 0.0),
          "host_chip_spikes": host_input_spikes + (target_spikes if train else 0.0),
          "embedded_core_weight_writes": 0.0, "steps": float(steps)}
    if train:
        plastic = sum(sizes[k] * sizes[k + 1] for k in range(L))
        plastic += sum(sizes[k] * sizes[k + 1] for k in range(1, L))        # the mirrored copies W^T
        fired_rows = 0.0
        if wp is not None:
            for l in range(1, L + 1):                 # W_{l-1} rows: layer l's neurons that fired d in the window
                d_fired = (np.asarray(wp[l - 1]) + np.asarray(wn[l - 1])) > 0
                fired_rows += float(d_fired.sum(axis=-1).mean()) * sizes[l - 1]
                if l < L:                             # W_l^T rows: layer l's neurons that fired x or d
                    any_fired = d_fired | (np.asarray(wx[l]) > 0)
                    fired_rows += float(any_fired.sum(axis=-1).mean()) * sizes[l + 1]
        ev["learning_updates_low"] = fwd_win + bwd_win + fired_rows
        ev["learning_updates_high"] = fwd_pass + fwd_win + bwd_pass + bwd_win + plastic
    return ev


def _per_layer_cores(cfg: SSNNConfig) -> List[int]:
    from .resources import estimate
    rows = [p for p in estimate(cfg, learning_engine=True).processes if p.name.startswith(("hidden", "output"))]
    return [max(1, p.neurocores) for p in rows]


def estimate_cost(cfg: SSNNConfig, ev: Dict[str, float], costs: EventCosts = LOIHI_2018) -> Dict[str, float]:
    """Energy (mJ) and latency (ms) of one sample's events ``ev`` (``count_events``)."""
    pj = (ev["synaptic_ops"] * costs.synaptic_op_pj
          + ev["neuron_updates_active"] * costs.neuron_update_active_pj
          + (ev["neuron_updates"] - ev["neuron_updates_active"]) * costs.neuron_update_inactive_pj
          + ev["spikes_between_cores"] * (costs.spike_within_tile_pj + costs.tile_hop_pj))
    ns_work = (ev["synaptic_ops"] * costs.synaptic_op_ns
               + ev["neuron_updates_active"] * costs.neuron_update_active_ns
               + (ev["neuron_updates"] - ev["neuron_updates_active"]) * costs.neuron_update_inactive_ns)
    # the layers run in parallel, each over its cores: take the busiest layer's share per core
    cores = _per_layer_cores(cfg)
    share = max(n / c for n, c in zip(cfg.sizes[1:], cores)) / max(1, sum(cfg.sizes[1:]))
    ns_step = ns_work * share / ev["steps"] + costs.barrier_ns
    out = {"energy_mj": pj * 1e-9, "latency_ms": ns_step * ev["steps"] * 1e-6}
    if "learning_updates_low" in ev:        # the chip configuration: a low and a high bound
        for tag in ("low", "high"):
            n = ev[f"learning_updates_{tag}"]
            out[f"energy_mj_{tag}"] = (pj + n * costs.synaptic_update_pj) * 1e-9
            out[f"latency_ms_{tag}"] = (ns_step + n * costs.synaptic_update_ns * share / ev["steps"]
                                        ) * ev["steps"] * 1e-6
    if "learning_updates_min" in ev:
        for tag in ("min", "max"):
            n = ev[f"learning_updates_{tag}"]
            out[f"energy_mj_learning_{tag}"] = (pj + n * costs.synaptic_update_pj) * 1e-9
            out[f"latency_ms_learning_{tag}"] = (ns_step + n * costs.synaptic_update_ns * share / ev["steps"]
                                                 ) * ev["steps"] * 1e-6
    return out


def sample_costs(cfg: SSNNConfig, weights, x_train, y_train, x_test, seed: int = 0,
                 costs: EventCosts = LOIHI_2018, accel: Optional[bool] = False) -> dict:
    """Events, energy and latency per training sample and per inference for the
    trained ``weights`` (the engine simulates the samples; no weight changes).

    ``accel``: the engine's ``accel`` (the same counts either way). False (default):
    numpy, a few seconds for the hundred samples ``ssnnbp info --run`` counts, where
    compiling the numba loops in a fresh process takes about a minute (that compile
    was the minute ``info --run`` sat silent); None: compiled where numba is usable,
    for thousands of samples or a process that has compiled them already.
    """
    from .engine import Engine, encode_batch

    if cfg.fixed_point and max(int(np.abs(w).max(initial=0)) for w in weights) > 2 ** (cfg.weight_bits - 1) - 1:
        cfg = cfg.replace(weight_bits=9)   # trained on Lava's learning engine: its 9-bit range (no update here)
    eng = Engine(cfg, weights, seed, dtype=np.float64, accel=accel)
    ids = np.arange(len(y_train))
    batch = encode_batch(cfg, x_train, y_train, ids, seed, train=True)
    tr = eng.simulate(batch, train=True)          # 'replay': with the window's counts
    targets = float(batch.targets.sum(axis=(0, 2)).mean())
    test_ids = np.arange(len(x_test))
    tb = encode_batch(cfg, x_test, None, test_ids, seed, train=False)
    te = eng.simulate(tb, train=False, forward_only=True)
    if cfg.loihi2:
        # the host sends the input before the relay neurons' dropout: the same trains without it
        raw = encode_batch(cfg.replace(dropout=(0.0,) + tuple(cfg.dropout[1:]) if cfg.dropout else ()),
                           x_train, y_train, ids, seed, train=True)
        ev_tr = count_chip_events(cfg, tr, True, targets, float(raw.inputs.sum(axis=(0, 2)).mean()))
        ev_te = count_chip_events(cfg, te, False, 0.0, float(tb.inputs.sum(axis=(0, 2)).mean()))
    else:
        ev_tr = count_events(cfg, tr, True, targets)
        ev_te = count_events(cfg, te, False)
    return {"chip": costs.chip, "source": costs.source, "per_event": asdict(costs),
            "training_sample": {"events": ev_tr, **estimate_cost(cfg, ev_tr, costs)},
            "inference": {"events": ev_te, **estimate_cost(cfg, ev_te, costs)},
            "samples_counted": {"train": int(len(y_train)), "test": int(len(x_test))},
            "published": [RENNER_2024, EMSTDP_2021]}


def lines(result: dict) -> List[str]:
    """Human-readable summary (what ``ssnnbp info --run`` prints)."""
    t, i = result["training_sample"], result["inference"]
    if "learning_updates_low" in t["events"]:
        e = t["events"]
        return [f"Energy and latency estimate of the chip configuration on {result['chip']} ({result['source']}; "
                f"counted events x per-event figures, no static power; {result['samples_counted']['train']} training "
                f"and {result['samples_counted']['test']} test samples counted):",
                f"  per training sample ({e['steps']:.0f} steps): {e['synaptic_ops']:.0f} synaptic ops, "
                f"{e['neuron_updates']:.0f} neuron updates, {e['learning_updates_low']:.0f}..{e['learning_updates_high']:.0f} "
                f"learning-engine updates, {e['spikes_between_cores']:.0f} spikes between cores, "
                f"{e['host_chip_spikes']:.0f} host-chip spikes (not priced), no embedded-core work",
                f"    energy {t['energy_mj_low']:.4f}..{t['energy_mj_high']:.4f} mJ, "
                f"latency {t['latency_ms_low']:.3f}..{t['latency_ms_high']:.3f} ms",
                f"  per inference: {i['events']['synaptic_ops']:.0f} synaptic ops, energy {i['energy_mj']:.5f} mJ, "
                f"latency {i['latency_ms']:.3f} ms"] + [
                f"  published: {p['work']}: MNIST {p['mnist_acc']} %, {p['train_mj_per_sample']} mJ and "
                f"{p['train_ms_per_sample']} ms per training sample" for p in result["published"]]
    out = [f"Energy and latency estimate on {result['chip']} ({result['source']}; counted events x per-event "
           f"figures, no static power; {result['samples_counted']['train']} training and "
           f"{result['samples_counted']['test']} test samples counted):",
           f"  per training sample: {t['events']['synaptic_ops']:.0f} synaptic ops, "
           f"{t['events']['neuron_updates']:.0f} neuron updates ({t['events']['neuron_updates_active']:.0f} active), "
           f"{t['events']['learning_updates_min']:.0f}..{t['events']['learning_updates_max']:.0f} learning-engine "
           f"updates, {t['events']['spikes_between_cores']:.0f} spikes between cores, "
           f"{t['events']['embedded_core_weight_writes']:.0f} embedded-core weight writes (not priced)",
           f"    energy {t['energy_mj_learning_min']:.4f}..{t['energy_mj_learning_max']:.4f} mJ, "
           f"latency {t['latency_ms_learning_min']:.3f}..{t['latency_ms_learning_max']:.3f} ms",
           f"  per inference: {i['events']['synaptic_ops']:.0f} synaptic ops, {i['events']['neuron_updates']:.0f} "
           f"neuron updates, {i['events']['spikes_between_cores']:.0f} spikes between cores: "
           f"energy {i['energy_mj']:.5f} mJ, latency {i['latency_ms']:.3f} ms"]
    for p in result["published"]:
        inf = f", {p['inference_mj']} mJ per inference" if p["inference_mj"] is not None else ""
        out.append(f"  published: {p['work']}: MNIST {p['mnist_acc']} %, {p['train_mj_per_sample']} mJ and "
                   f"{p['train_ms_per_sample']} ms per training sample{inf}")
    return out


__all__ = ["EventCosts", "LOIHI_2018", "RENNER_2024", "EMSTDP_2021", "count_events", "count_chip_events", "estimate_cost",
           "sample_costs", "lines"]
