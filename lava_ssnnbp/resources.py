"""Loihi 2 resource estimate for an SSNN-BP network (a count, not a compiler).

What is counted, per process of the Lava network (``docs/lava.md`` explains
the mapping):

* **neurons**: compartments on neurocores. A composite neuron has three (the
  forward neuron x and the gradient neurons d+ and d-) when it learns on chip,
  one (x) for inference. ``SpikeInput`` and ``TargetGenerator`` are spike
  sources that run on the embedded x86 cores or the host (listed, 0 neurocores);
  ``WinnerTakeAll`` is a recurrent C x C synapse array on the output core (no
  neurons of its own).
* **synapses**: the forward arrays W_k; when learning, also a second copy of
  W_k (k >= 1) for the transposed read W_k^T (a neurocore reads synapses only
  pre -> post), the output's error synapses (target and x into d+ and d-:
  4 C), and the WTA's C (C - 1) inhibitory synapses (always).
* **synaptic memory**: synapses x weight bits, plus the learning state of every
  plastic synapse: a tag wide enough for one sample's count (coincidence mode
  counts in [-T, T], causal mode pairs in [-T(T+1)/2, T(T+1)/2], replay mode
  the window's counts in [-T_s, T_s], the other modes presynaptic spikes in
  [0, T]).
* **neuron state**: 24-bit u and v per compartment, plus the gate and dropout
  bits per composite neuron (reported, not used for the core count); in replay
  mode an 8-bit counter and a 16-bit probability register per train (x, d+,
  d-), and the input becomes a relay layer on neurocores (one neuron and one
  synapse per input, with its counter and register), since its replay must be
  generated on the cores.
* **learning engine** (``estimate(..., learning_engine=True)``, the
  ``LearningEngineNetwork`` of ``lava_ssnnbp.learning_network``): every weight
  is 9-bit signed (the width Lava's learning engine holds and clips to), every
  forward plastic synapse has Lava's 9-bit tag (``tag_1``: 8 bits plus sign)
  whatever T, and the backward copy W_k^T is a plain ``Dense`` (no tag),
  rewritten by the embedded cores after each sample -- except in the chip
  configuration (``cfg.target == "loihi2"``), where W_k^T is plastic too (it
  learns by the mirrored rule) and carries a tag like W_k.
* **neurocores** per neuron layer (partitioned by postsynaptic neuron, each
  core holding its neurons and their incoming synapses): the largest of
  compartments / neurons per core, synaptic memory / synaptic memory per core,
  and synapses / synapses per core.

The per-core limits are ASSUMPTIONS derived from Intel's public Loihi 2
figures (Intel Labs, "Taking Neuromorphic Computing to the Next Level with
Loihi 2", technology brief, 2021; also open-neuromorphic.org's Loihi 2 page):
128 neurocores per chip, up to 1M neurons and 120M synapses per chip. Spreading
the chip figures evenly gives 8192 neurons and 937,500 synapses per core. The
brief lists 192 KB of memory per neurocore, shared flexibly between synapses,
neuron state and routing; a secondary source gives 128 KB. We budget 128 KiB per
core for synapses and their learning state. Real mapping (Lava's Loihi
compiler, synapse compression, sparse formats) can differ: treat the core
count as an order-of-magnitude estimate. All limits are fields of
:class:`Loihi2Limits` and can be changed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List

from .config import SSNNConfig

UV_STATE_BITS = 48    # u and v, 24 bits each, per compartment


@dataclass(frozen=True)
class Loihi2Limits:
    """Per-chip figures (Intel) and the per-core limits we derive from them (assumptions)."""
    neurocores_per_chip: int = 128                  # Intel Loihi 2 brief
    neurons_per_chip: int = 1_048_576               # "up to 1M neurons" (brief); 8192 x 128
    synapses_per_chip: int = 120_000_000            # "up to 120M synapses" (brief)
    memory_per_core_bytes: int = 192 * 1024         # brief: 192 KB per neurocore (all uses)
    synaptic_memory_per_core_bytes: int = 128 * 1024  # ASSUMPTION: share of it for synapses + tags
    learning_tag_bits: int = 9                      # Lava's learning engine: tag 8 bits plus sign

    @property
    def neurons_per_core(self) -> int:              # ASSUMPTION: chip figure spread evenly
        return self.neurons_per_chip // self.neurocores_per_chip

    @property
    def synapses_per_core(self) -> int:             # ASSUMPTION: chip figure spread evenly
        return self.synapses_per_chip // self.neurocores_per_chip

    def describe(self) -> str:
        return (f"{self.neurocores_per_chip} neurocores/chip, {self.neurons_per_core} neurons/core, "
                f"{self.synapses_per_core} synapses/core, "
                f"{self.synaptic_memory_per_core_bytes // 1024} KiB synaptic memory/core")


LOIHI2 = Loihi2Limits()


@dataclass
class ProcessUsage:
    """Resources of one Lava process of the network."""
    name: str
    kind: str
    neurons: int = 0                 # compartments on neurocores (or spike sources when on_neurocores=False)
    synapses: int = 0                # incoming synapses held by this process's cores
    plastic_synapses: int = 0
    weight_bits: int = 0             # synapses x weight width
    learning_bits: int = 0           # tags of the plastic synapses
    state_bits: int = 0              # neuron state
    neurocores: int = 0
    on_neurocores: bool = True

    @property
    def synaptic_memory_bits(self) -> int:
        return self.weight_bits + self.learning_bits


@dataclass
class ResourceEstimate:
    sizes: tuple
    learning: bool
    weight_bits: int
    tag_bits: int
    limits: Loihi2Limits
    processes: List[ProcessUsage] = field(default_factory=list)
    learning_engine: bool = False
    mirrored: bool = False           # W^T a LearningDense of its own (the chip configuration), not a copy

    def _sum(self, attr, only_cores=False):
        return sum(getattr(p, attr) for p in self.processes if p.on_neurocores or not only_cores)

    @property
    def neurons(self) -> int:
        """Compartments on neurocores."""
        return self._sum("neurons", only_cores=True)

    @property
    def spike_sources(self) -> int:
        return sum(p.neurons for p in self.processes if not p.on_neurocores)

    @property
    def synapses(self) -> int:
        return self._sum("synapses")

    @property
    def plastic_synapses(self) -> int:
        return self._sum("plastic_synapses")

    @property
    def synaptic_memory_bits(self) -> int:
        return self._sum("weight_bits") + self._sum("learning_bits")

    @property
    def learning_bits(self) -> int:
        return self._sum("learning_bits")

    @property
    def state_bits(self) -> int:
        return self._sum("state_bits")

    @property
    def neurocores(self) -> int:
        return self._sum("neurocores")

    @property
    def chips(self) -> int:
        return max(1, math.ceil(self.neurocores / self.limits.neurocores_per_chip))

    def lines(self) -> List[str]:
        """Human-readable table (what ``ssnnbp info`` prints)."""
        backward = "W^T learned by the mirrored rule, no copy" if self.mirrored else "W^T copied by the embedded cores"
        what = (f"on-chip learning on Lava's learning engine (LearningDense; {backward})"
                if self.learning_engine else "on-chip learning" if self.learning else "inference only")
        out = [f"{what}: {'-'.join(map(str, self.sizes))}, {self.weight_bits}-bit weights"
               + (f", {self.tag_bits}-bit learning tags" if self.learning else "")]
        out.append(f"  {'process':12s} {'neurons':>8s} {'synapses':>10s} {'syn. memory':>12s} {'cores':>6s}")
        for p in self.processes:
            where = "" if p.on_neurocores else "  (spike source: embedded cores / host)"
            out.append(f"  {p.name:12s} {p.neurons:8d} {p.synapses:10d} "
                       f"{_kib(p.synaptic_memory_bits):>12s} {p.neurocores:6d}{where}")
        out.append(f"  total: {self.neurons} neurons (compartments) on neurocores + {self.spike_sources} spike "
                   f"sources, {self.synapses} synapses ({self.plastic_synapses} plastic), "
                   f"{_kib(self.synaptic_memory_bits)} synaptic memory"
                   + (f" (of which learning tags {_kib(self.learning_bits)})" if self.learning else "")
                   + f", neuron state {_kib(self.state_bits)}; "
                   f"{self.neurocores} neurocores = {self.chips} chip{'s' if self.chips > 1 else ''}")
        if self.learning and self.tag_bits > self.limits.learning_tag_bits:
            out.append(f"  note: one sample's count needs {self.tag_bits}-bit tags, more than the learning "
                       f"engine's {self.limits.learning_tag_bits}: long samples' counts would clip (T <= 255)")
        return out


REPLAY_STATE_BITS = 8 + 16    # replay mode, per train: the sample's spike counter and the probability register


def _kib(bits: int) -> str:
    return f"{bits / 8 / 1024:.1f} KiB"


def tag_bits(cfg: SSNNConfig) -> int:
    """Width of the per-synapse learning tag that holds one sample's count."""
    if cfg.mode in ("coincidence", "replay"):                # signed count in [-T, T] (replay: T_s)
        return math.ceil(math.log2(2 * cfg.learning_steps + 1))
    if cfg.mode == "causal":                                 # pre-before-post pairs: |count| <= T (T + 1) / 2
        return math.ceil(math.log2(cfg.steps * (cfg.steps + 1) + 1))
    return max(1, math.ceil(math.log2(cfg.steps + 1)))       # presynaptic spikes in [0, T]


def _cores(compartments: int, synapses: int, mem_bits: int, lim: Loihi2Limits) -> int:
    if compartments == 0 and synapses == 0:
        return 0
    return max(1,
               math.ceil(compartments / lim.neurons_per_core),
               math.ceil(mem_bits / (8 * lim.synaptic_memory_per_core_bytes)),
               math.ceil(synapses / lim.synapses_per_core))


LEARNING_ENGINE_WEIGHT_BITS = 9   # Lava's learning engine: 8 bits plus sign (constants.W_WEIGHTS_S)


def estimate(cfg: SSNNConfig, learning: bool = True, limits: Loihi2Limits = LOIHI2,
             learning_engine: bool = False) -> ResourceEstimate:
    """Loihi 2 resources of the SSNN-BP network ``cfg`` (see the module docstring).
    ``learning_engine``: the LearningEngineNetwork's widths (implies ``learning``)."""
    learning = learning or learning_engine
    sizes, L = cfg.sizes, cfg.n_layers
    wb = LEARNING_ENGINE_WEIGHT_BITS if learning_engine else cfg.weight_bits
    tb = limits.learning_tag_bits if learning_engine else (tag_bits(cfg) if learning else 0)
    est = ResourceEstimate(tuple(sizes), learning, wb, tb, limits, learning_engine=learning_engine,
                           mirrored=learning_engine and cfg.loihi2)
    replay = learning and cfg.mode == "replay"
    if replay:    # the inputs replay their counts: relay neurons on the cores, fed 1:1 by the injected spikes
        p = ProcessUsage("input", "SpikeInput", neurons=sizes[0], synapses=sizes[0], weight_bits=sizes[0] * wb,
                         state_bits=sizes[0] * (UV_STATE_BITS + REPLAY_STATE_BITS))
        p.neurocores = _cores(p.neurons, p.synapses, p.synaptic_memory_bits, limits)
        est.processes.append(p)
    else:
        est.processes.append(ProcessUsage("input", "SpikeInput", neurons=sizes[0], on_neurocores=False))
    if learning:
        est.processes.append(ProcessUsage("target", "TargetGenerator", neurons=sizes[-1], on_neurocores=False))
    comp = 3 if learning else 1
    for l in range(1, L + 1):
        n = sizes[l]
        fwd = sizes[l - 1] * n                                   # W_{l-1}: into layer l
        bwd = n * sizes[l + 1] if (learning and l < L) else 0    # copy of W_l for W_l^T (d of layer l+1 -> layer l)
        # the learning-engine network's W^T: a plain Dense rewritten by the embedded cores, or in the chip
        # configuration a LearningDense of its own (the mirrored rule), with a tag like W's
        plastic = (fwd + (bwd if est.mirrored or not learning_engine else 0)) if learning else 0
        fixed = 0
        if l == L:
            fixed += n * (n - 1) if cfg.wta else 0               # WTA on the output core
            fixed += 4 * n if learning else 0                    # target, x -> d+, d-
        syn = fwd + bwd + fixed
        p = ProcessUsage(f"hidden{l}" if l < L else "output",
                         "CompositeNeuron" if l < L else "OutputCompositeNeuron",
                         neurons=comp * n, synapses=syn, plastic_synapses=plastic,
                         weight_bits=syn * wb, learning_bits=plastic * tb,
                         state_bits=n * (comp * UV_STATE_BITS + (2 if learning else 0)
                                         + (3 * REPLAY_STATE_BITS if replay else 0)))
        p.neurocores = _cores(p.neurons, p.synapses, p.synaptic_memory_bits, limits)
        est.processes.append(p)
    return est


__all__ = ["Loihi2Limits", "LOIHI2", "ProcessUsage", "ResourceEstimate", "estimate", "tag_bits"]
