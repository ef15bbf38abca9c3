"""Batched scheduler: the same per-step math as the Lava processes, on many samples at once.

The schedule is exactly the Lava network's (see ``lava_ssnnbp.network``):
at step t every synapse first emits what it accumulated at t-1 (Lava's Dense
one-step delay, also for the backward path and the WTA), then every
composite-neuron layer steps on those inputs, then synapses take in this step's
spikes. Synapse buffers are cleared at the start of each sample, and weights
change only at the end of a learning epoch (one sample of T steps), so samples
are independent given the weights.

``batch_updates='per-sample'`` applies each sample's update before the next
sample (the on-chip behaviour; the batch dimension is then 1).
``batch_updates='mini-batch'`` simulates B samples with the same weights and
applies the sum of their updates once.

Two implementations of the same rules: numpy (``dynamics``, step by step on
arrays) and the compiled schedulers of ``accel`` (numba). ``Engine(..., accel=)``
chooses; the results are the same (fixed point bit for bit, float up to the
order of synaptic sums).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from . import accel as _accel
from . import dynamics as dyn
from .config import SSNNConfig
from .validation import SEED, check_dtype, check_integer, check_samples


@dataclass
class SampleBatch:
    """Encoded inputs of B samples: spikes (T, B, D), targets (T, B, C), keep-masks."""
    inputs: np.ndarray
    targets: np.ndarray
    keeps: List[Optional[np.ndarray]]   # per neuron layer below the output: (B, N) or None
    sample_ids: Optional[np.ndarray] = None   # name the samples' random streams (the replay window's)


@dataclass
class SimResult:
    out_counts: np.ndarray              # (B, C) output spike counts
    x_counts: List[np.ndarray]          # per neuron layer 0..L: (B, N)
    dp_counts: List[np.ndarray]         # per neuron layer 1..L (index l-1): (B, N)
    dn_counts: List[np.ndarray]
    numerators: Optional[list] = None   # pair modes: dynamics.PairBlock per synapse layer
    spikes: Optional[dict] = None       # full histories when record=True
    window_counts: Optional[tuple] = None  # 'replay': (x, dp, dn) counts of the replay trains, as above


def _concatenate(results: List[SimResult]) -> SimResult:
    """The counts of samples simulated one after another, as one batch."""
    def cat(per_result):
        return [np.concatenate(layer) for layer in zip(*per_result)]
    return SimResult(np.concatenate([r.out_counts for r in results]), cat(r.x_counts for r in results),
                     cat(r.dp_counts for r in results), cat(r.dn_counts for r in results))


def _sum_blocks(blocks: list) -> "dyn.PairBlock":
    """The sum of pair-count blocks of one synapse layer, on the union of their supports."""
    if len(blocks) == 1:
        return blocks[0]
    post = np.unique(np.concatenate([b.post for b in blocks]))
    pre = np.unique(np.concatenate([b.pre for b in blocks]))
    counts = np.zeros((post.size, pre.size), dtype=np.int64)
    for b in blocks:
        counts[np.ix_(np.searchsorted(post, b.post), np.searchsorted(pre, b.pre))] += b.counts
    return dyn.PairBlock(post, pre, counts, blocks[0].shape)


def encode_batch(cfg: SSNNConfig, x: np.ndarray, y: Optional[np.ndarray], sample_ids, seed: int,
                 train: bool) -> SampleBatch:
    """Draw every sample's spikes and masks from its own random streams
    (``dynamics.encode_sample``: at test, ``train`` False, the inputs come from the
    streams of ``seed + TEST_SEED_OFFSET``; ``seed`` is the run's seed either way).

    ``x``: images (B, D) in [0, 1], or event frames (B, T, D) already in spikes;
    ``y``: labels (B,), needed for training only (targets).
    """
    T, B = cfg.steps, len(sample_ids)
    C = cfg.sizes[-1]
    inputs = np.empty((T, B, cfg.sizes[0]), dtype=bool)
    targets = np.zeros((T, B, C), dtype=bool)
    for b, sid in enumerate(sample_ids):
        inputs[:, b], target = dyn.encode_sample(seed, int(sid), train, T, x[b], cfg.input_gain,
                                                 y[b] if train else None, C, cfg.target_rate)
        if train:
            targets[:, b] = target
    keeps: List[Optional[np.ndarray]] = [None] * cfg.n_layers
    if train:
        for l in range(cfg.n_layers):
            p = cfg.drop(l)
            if p > 0:
                keeps[l] = np.stack([dyn.sample_keep_mask(seed, int(sid), l, cfg.sizes[l], p, cfg.loihi2)
                                     for sid in sample_ids])
        if keeps[0] is not None:
            inputs &= keeps[0][None]
    return SampleBatch(inputs, targets, keeps, np.asarray(sample_ids, dtype=np.int64))


def replay_draws(cfg: SSNNConfig, counts: dict, seed: int, sample_index: int, layer: int):
    """The replay window's plan and random numbers of one neuron layer and sample:
    ``dynamics.replay_draws`` (a stream per sample), or in the chip configuration
    ``dynamics.replay_draws_loihi2`` (a generator per neuron)."""
    draws = dyn.replay_draws_loihi2 if cfg.loihi2 else dyn.replay_draws
    return draws(counts, cfg.steps, cfg.replay_window, seed, sample_index, layer)


class _Laps:
    """Adds the CPU time since the last lap to ``timer[name]`` (no-op without a timer)."""

    def __init__(self, timer: Optional[dict]):
        self.timer, self.t = timer, time.process_time() if timer is not None else 0.0

    def __call__(self, name: str):
        if self.timer is not None:
            now = time.process_time()
            self.timer[name] = self.timer.get(name, 0.0) + now - self.t
            self.t = now


class Engine:
    """Simulates and trains an SSNN-BP network on batches of samples.

    ``weights[k]`` has shape (N_{k+1}, N_k) (Lava's Dense convention), float or
    integer mantissas in fixed point. Floating point computes in ``dtype``:
    float32 (default) for speed, float64 to reproduce the Lava float models'
    spikes (fixed point computes in int32 whatever ``dtype``, bit-exact either
    way); any other dtype is a ValueError (``validation.check_dtype``). ``seed``:
    an integer >= 0, it names every random stream.

    ``accel``: run the compiled schedulers of ``lava_ssnnbp.accel`` (numba):
    True (numba must be importable), False (numpy alone: ``dynamics`` step by
    step), or None (default): where ``accel.available()`` -- numba importable and
    not switched off (``LAVA_SSNNBP_NUMBA=0``, ``accel.set_enabled(False)``),
    decided at each call. The results do not depend on it (fixed point bit for
    bit; float up to the order of synaptic sums).
    """

    def __init__(self, cfg: SSNNConfig, weights=None, seed: int = 0, dtype=np.float32,
                 learning_engine: Optional[str] = None, lava_step_offset: int = 0,
                 accel: Optional[bool] = None):
        if accel is not None and not isinstance(accel, (bool, np.bool_)):   # not 0/1: a thread count?
            raise ValueError(f"accel must be None, True or False, not {accel!r}")
        if accel and not _accel.usable():
            raise ValueError("accel=True needs numba, which cannot be imported here")
        self.accel = None if accel is None else bool(accel)
        self.cfg, self.seed = cfg, check_integer("seed", seed, 0, SEED)
        dtype = check_dtype(cfg, dtype)
        self.dtype = np.int32 if cfg.fixed_point else dtype
        ws = dyn.check_weights(cfg, weights) if weights is not None else dyn.init_weights(cfg, seed)
        self.weights = [np.array(w, dtype=self.dtype) for w in ws]
        self.samples_seen = 0   # global sample counter: names the random streams of learning
        # learning_engine='lava': round and clip as Lava's bit-approximate learning engine does
        # (dynamics.learn(..., shared_random=); one shared random per Lava time step), to compare
        # bit for bit with LearningEngineNetwork; lava_step_offset: Lava steps run before sample 0
        if learning_engine not in (None, "lava"):
            raise ValueError(f"learning_engine must be None or 'lava', not {learning_engine!r}")
        if cfg.loihi2:   # the chip configuration: always the learning engine's arithmetic
            learning_engine = "lava"
        if learning_engine == "lava" and not (cfg.fixed_point and cfg.mode in ("coincidence", "replay")):
            raise ValueError("learning_engine='lava' needs fixed point and mode 'coincidence' or 'replay'")
        self.learning_engine = learning_engine
        self.lava_step_offset = check_integer("lava_step_offset", lava_step_offset, 0)
        self._lava_randoms = None

    def compiled(self) -> bool:
        """Whether this engine runs the compiled schedulers now (see ``accel``)."""
        return _accel.available() if self.accel is None else self.accel

    # ------------------------------------------------------------------ simulate
    def simulate(self, batch: SampleBatch, train: bool, record: bool = False,
                 forward_only: bool = False, timer: Optional[dict] = None) -> SimResult:
        """Run T steps on a batch. ``train`` selects train-time thresholds and
        collects what the update rule needs; ``record`` keeps all spike trains.
        ``forward_only`` (ignored when ``train`` or ``record``): skip the gradient
        neurons and the backward path, which cannot change the output spikes;
        the result's gradient counts are then zero.

        Speed (the results are those of the step-by-step schedule): the first
        synapse layer's drive depends on the input spikes only, so it is computed
        for all steps at once (``dynamics.forward_drive_many``: event-driven or one
        GEMM); fixed-point sums run through float BLAS where that is exact
        (``dynamics.exact_float_weights``); compiled (``compiled()``), a training
        pass of a one-hidden-layer net runs in one call
        (``accel.simulate_one_hidden_layer``), and otherwise the step functions of
        ``accel.step_functions()`` replace ``dynamics``' (layer steps in one pass,
        coincidences and sparse drives counted event by event).

        ``timer`` (optional dict): CPU seconds are added to its entries 'input
        drive', 'simulation' and 'replay window' (``benchmarks/profile_sample.py``).
        """
        cfg, W, fixed = self.cfg, self.weights, self.cfg.fixed_point
        L, T, B = cfg.n_layers, cfg.steps, batch.inputs.shape[1]
        sizes = cfg.sizes
        full = train or record or not forward_only
        lap = _Laps(timer)
        compiled = self.compiled()
        if train and not record and not cfg.stochastic_firing and L == 2 and compiled:
            consts = self._composite_consts()
            if None not in consts:
                return self._simulate_one_hidden_layer(batch, consts, lap)
        step = _accel.step_functions() if compiled else dyn    # the same step functions, compiled or numpy
        params = [dyn.neuron_params(cfg, l, train) for l in range(1, L + 1)]
        states = [dyn.composite_state((B, sizes[l]), fixed, self.dtype) for l in range(1, L + 1)]
        zeros = lambda n: np.zeros((B, n), dtype=self.dtype)  # noqa: E731
        inputs = batch.inputs
        # stochastic firing (training only): every layer's random numbers, (T, B, 3, N)
        fire = [np.stack([dyn.firing_randoms(self.seed, int(sid), l, T, sizes[l]) for sid in batch.sample_ids],
                         axis=1) for l in range(1, L + 1)] if train and cfg.stochastic_firing else None
        # synapse 0 -> layer 1 for every step at once (one-step delay: step t sees inputs[t-1])
        drive0 = None if T == 1 else step.forward_drive_many(
            W[0], inputs[:-1].reshape(-1, sizes[0]), fixed, cfg.exp_of(0)).reshape(T - 1, B, sizes[1])
        lap("input drive")
        wf = [None] + [dyn.exact_float_weights(W[k], max(sizes[k], sizes[k + 1])) if fixed else None
                       for k in range(1, L)]
        no_drive = zeros(sizes[1])
        fwd_buf = [None] + [zeros(sizes[k + 1]) for k in range(1, L)]  # synapse k -> layer k+1
        bwd_buf = [zeros(sizes[k]) for k in range(L)]                   # synapse k -> layer k (k >= 1)
        wta_buf = zeros(sizes[-1])
        coinc = train and cfg.mode in dyn.PAIR_NUMERATORS and not cfg.replay_window
        want_hist = coinc or record
        hist = {}
        if want_hist:
            hist["x0"] = inputs.copy() if record else inputs
            for l in range(1, L + 1):
                if record or l < L:
                    hist[f"x{l}"] = np.zeros((T, B, sizes[l]), dtype=bool)
                hist[f"dp{l}"] = np.zeros((T, B, sizes[l]), dtype=bool)
                hist[f"dn{l}"] = np.zeros((T, B, sizes[l]), dtype=bool)
        x_counts = [inputs.sum(axis=0, dtype=np.int64)] + [np.zeros((B, n), dtype=np.int64) for n in sizes[1:]]
        dp_counts = [np.zeros((B, n), dtype=np.int64) for n in sizes[1:]]
        dn_counts = [np.zeros((B, n), dtype=np.int64) for n in sizes[1:]]
        for t in range(T):
            xs = [inputs[t]]
            dps, dns = [], []
            for l in range(1, L + 1):
                st, p = states[l - 1], params[l - 1]
                a = (drive0[t - 1] if t else no_drive) if l == 1 else fwd_buf[l - 1]
                if l == L and cfg.wta:
                    a = a + wta_buf
                if not full:
                    xu, xv, x = step.forward_step(st.xu, st.xv, a, p)
                    states[l - 1] = st._replace(xu=xu, xv=xv)
                    xs.append(x)
                    continue
                rand = fire[l - 1][t] if fire is not None else None
                if l < L:
                    st, x, dp, dn = step.hidden_step(st, a, bwd_buf[l], p,
                                                     batch.keeps[l] if train else None, rand)
                else:
                    st, x, dp, dn = step.output_step(st, a, batch.targets[t], p, rand)
                states[l - 1] = st
                xs.append(x), dps.append(dp), dns.append(dn)
            # synapses take in this step's spikes; emitted next step
            for k in range(1, L):
                fwd_buf[k] = dyn.forward_drive(W[k], xs[k], fixed, cfg.exp_of(k), wf[k])
                if full:
                    bwd_buf[k] = dyn.backward_drive(W[k], dps[k], dns[k], fixed, cfg.exp_of(k), wf[k])
            if cfg.wta:
                wta_buf = dyn.wta_drive(xs[L], cfg.wta_inhibition, fixed).astype(self.dtype)
            for l in range(1, L + 1):
                x_counts[l] += xs[l]
            if full:
                for l in range(L):
                    dp_counts[l] += dps[l]
                    dn_counts[l] += dns[l]
            if want_hist:
                for l in range(1, L + 1):
                    if f"x{l}" in hist:
                        hist[f"x{l}"][t] = xs[l]
                    hist[f"dp{l}"][t] = dps[l - 1]
                    hist[f"dn{l}"][t] = dns[l - 1]
        res = SimResult(x_counts[L], x_counts, dp_counts, dn_counts)
        if coinc:
            res.numerators = [step.pair_block(cfg.mode, hist[f"x{k}"], hist[f"dp{k + 1}"], hist[f"dn{k + 1}"])
                              for k in range(L)]
        if record:
            res.spikes = hist
        lap("simulation")
        return self._replay(res, batch, lap) if train else res

    def _composite_consts(self) -> list:
        """The train-time ``dynamics.composite_consts`` of every neuron layer, kept
        while ``self.cfg`` is the same object (computing them costs more than a
        compiled step)."""
        if getattr(self, "_consts_of", None) is not self.cfg:
            self._consts = [dyn.composite_consts(dyn.neuron_params(self.cfg, l, True), self.dtype)
                            for l in range(1, self.cfg.n_layers + 1)]
            self._consts_of = self.cfg
        return self._consts

    def _simulate_one_hidden_layer(self, batch: SampleBatch, consts, lap) -> SimResult:
        """``simulate`` for training a network with one hidden layer (the paper's):
        the whole T-step loop in one compiled call
        (``accel.simulate_one_hidden_layer``: the input drive, both
        layers, the WTA and, for 'coincidence', the pair counts on the learning
        support; a batch split over ``accel.threads()``), the same per-step
        schedule and arithmetic (fixed point bit for bit, float up to the order
        of synaptic sums; tested against the step-by-step loop). It removes the
        loop's per-step Python cost, which dominates with one sample (per-sample
        updates), and beats its vectorised arithmetic at B = 64 as well (2.5x,
        784-1280-10, T = 100, measured in one run)."""
        cfg, fixed = self.cfg, self.cfg.fixed_point
        pairs = cfg.mode in dyn.PAIR_NUMERATORS and not cfg.replay_window
        counted = pairs and dyn.PAIR_NUMERATORS[cfg.mode] is dyn.coincidence_numerator   # in the kernel
        counts, blocks, hist = _accel.simulate_one_hidden_layer(
            batch.inputs, self.weights[0], cfg.exp_of(0), self.weights[1], batch.keeps[1], batch.targets,
            dyn.wta_weight(cfg.wta_inhibition, fixed) if cfg.wta else None, cfg.exp_of(1), fixed,
            consts[0], consts[1], want_pairs=counted, want_hist=pairs and not counted, weight_bits=cfg.weight_bits)
        xc1, dpc1, dnc1, xc2, dpc2, dnc2 = counts
        x0 = batch.inputs.sum(axis=0, dtype=np.int64)
        res = SimResult(xc2, [x0, xc1, xc2], [dpc1, dpc2], [dnc1, dnc2], numerators=blocks)
        if hist is not None:             # 'causal': pairs with every earlier input spike, from the trains
            hx1, hdp1, hdn1, hdp2, hdn2 = hist
            res.numerators = [dyn.pair_block(cfg.mode, batch.inputs, hdp1, hdn1),
                              dyn.pair_block(cfg.mode, hx1, hdp2, hdn2)]
        lap("simulation")
        return self._replay(res, batch, lap)

    def _replay(self, res: SimResult, batch: SampleBatch, lap=None) -> SimResult:
        """'replay' mode: the replay window after the pass. Every neuron layer replays
        its counts of the pass as Bernoulli trains (``dynamics.replay_trains``: x for
        layers 0..L-1, d+ and d- for layers 1..L), and each synapse layer counts the
        coincidences of the trains at its ends (Eq. 10). Other modes: ``res`` as is."""
        cfg = self.cfg
        W = cfg.replay_window
        if not W:
            return res
        T, L, ids, seed = cfg.steps, cfg.n_layers, batch.sample_ids, self.seed
        if self.compiled():
            return self._replay_compiled(res, ids, lap)
        trains = []
        for l in range(L + 1):
            counts = {"x": res.x_counts[l]} if l < L else {}
            if l:
                counts.update(dp=res.dp_counts[l - 1], dn=res.dn_counts[l - 1])
            per = [dyn.replay_fire(*replay_draws(cfg, {t: c[b] for t, c in counts.items()}, seed, int(sid), l))
                   for b, sid in enumerate(ids)]
            trains.append({t: np.stack([p[t] for p in per], axis=1) for t in counts})
        rx = [trains[l]["x"] for l in range(L)]
        rp = [trains[l]["dp"] for l in range(1, L + 1)]
        rn = [trains[l]["dn"] for l in range(1, L + 1)]
        res.numerators = [dyn.pair_block(cfg.mode, rx[k], rp[k], rn[k]) for k in range(L)]
        res.window_counts = tuple([r.sum(axis=0, dtype=np.int64) for r in trains] for trains in (rx, rp, rn))
        if lap is not None:
            lap("replay window")
        return res

    def _replay_compiled(self, res: SimResult, sample_ids, lap=None) -> SimResult:
        """``_replay`` in compiled code (``accel.replay_pair_block``), sample by
        sample: the same random numbers (``dynamics.replay_draws``), trains and pair
        counts; a batch's counts are summed on the union of the samples' supports."""
        cfg, L = self.cfg, self.cfg.n_layers
        per = []                                  # per sample, per synapse layer: (x, d+, d- counts, block)
        for b, sid in enumerate(sample_ids):
            draws = []
            for l in range(L + 1):
                counts = {"x": res.x_counts[l][b]} if l < L else {}
                if l:
                    counts.update(dp=res.dp_counts[l - 1][b], dn=res.dn_counts[l - 1][b])
                draws.append(replay_draws(cfg, counts, self.seed, int(sid), l))
            per.append([_accel.replay_pair_block(*draws[k], *draws[k + 1]) for k in range(L)])
        res.window_counts = tuple([np.stack([p[k][i] for p in per]) for k in range(L)] for i in range(3))
        res.numerators = [_sum_blocks([p[k][3] for p in per]) for k in range(L)]
        if lap is not None:
            lap("replay window")
        return res

    # ------------------------------------------------------------------ learn
    def apply(self, res: SimResult, first_sample: int):
        """Apply one learning epoch's update (summed over the batch)."""
        xc, dpc, dnc = res.window_counts or (res.x_counts, res.dp_counts, res.dn_counts)
        compiled = self.compiled()     # the update added in place and pairs counted event by event, compiled
        add_block, pair_counter = (_accel.add_block, _accel.coincidences) if compiled else (None, None)
        shared = self._lava_random(first_sample) if self.learning_engine == "lava" else None
        for k in range(self.cfg.n_layers):
            coinc = res.numerators[k] if res.numerators is not None else None
            self.weights[k] = dyn.learn(self.weights[k], self.cfg, k, xc[k], dpc[k], dnc[k], self.seed, first_sample,
                                        coinc, inplace=True, add_block=add_block, pair_counter=pair_counter,
                                        shared_random=shared)

    def _lava_random(self, first_sample: int) -> float:
        """The number Lava's learning engine rounds this sample's update with: its draw
        at the Lava time step of the sample's last step (the sample's learning epoch)."""
        from . import learning_engine as le
        if self._lava_randoms is None:
            self._lava_randoms = le.EpochRandoms()
        return self._lava_randoms.draw(self.lava_step_offset + (first_sample + 1) * self.cfg.steps_per_sample)

    def train_batch(self, x, y, batch_updates: str = "per-sample") -> SimResult:
        """Train on samples (B, ...) in order and return their spike counts.

        'per-sample' (default, the on-chip schedule) updates the weights after
        every sample; 'mini-batch' simulates all B with the same weights and
        applies the sum of their updates. The per-sample result concatenates the
        samples' counts (no coincidence numerators: they were used one by one).
        """
        if batch_updates not in ("per-sample", "mini-batch"):
            raise ValueError(f"batch_updates must be 'per-sample' or 'mini-batch', not {batch_updates!r}")
        x, y, _ = check_samples(self.cfg, x, y, train=True,
                                memory_batch=1 if batch_updates == "per-sample" else len(x))
        if batch_updates == "per-sample" and len(y) > 1:
            return _concatenate([self._train_checked(x[i:i + 1], y[i:i + 1]) for i in range(len(y))])
        return self._train_checked(x, y)

    def _train_checked(self, x, y) -> SimResult:
        """``train_batch`` of samples already checked, as one mini-batch."""
        n = len(y)
        ids = np.arange(self.samples_seen, self.samples_seen + n)
        batch = encode_batch(self.cfg, x, y, ids, self.seed, train=True)
        res = self.simulate(batch, train=True)
        self.apply(res, int(ids[0]))
        self.samples_seen += n
        return res

    # predict_counts and predict_labels are SSNNBPNetwork's calls, same ids and streams; predict
    # keeps returning every layer's counts (its callers read x_counts), where the network's gives labels
    def predict(self, x, sample_ids=None) -> SimResult:
        """Spike counts of every layer at test time (no dropout, no learning): a
        ``SimResult``, not labels as ``SSNNBPNetwork.predict`` (use ``predict_labels``).
        Input spikes from the test streams ``(seed + TEST_SEED_OFFSET, sample_ids[i])``;
        ``sample_ids`` default 0..n-1."""
        x, _, sample_ids = check_samples(self.cfg, x, None, sample_ids, train=False, memory_batch=len(x))
        batch = encode_batch(self.cfg, x, None, sample_ids, self.seed, train=False)
        return self.simulate(batch, train=False, forward_only=True)

    def predict_counts(self, x, sample_ids=None) -> np.ndarray:
        """Output spike counts (n, C) at test time (no dropout, no learning); ``sample_ids``
        as in ``predict``."""
        return self.predict(x, sample_ids).out_counts

    def predict_labels(self, x, sample_ids=None) -> np.ndarray:
        """Predicted classes (n,): the argmax of ``predict_counts`` (ties: the lowest class)."""
        return np.argmax(self.predict_counts(x, sample_ids), axis=1)
