"""The weight-update rules: Eq. 10's coincidence counts (and the causal variant),
Eq. 9's rate product, the stochastic estimate, pair blocks on the learning
support, and the update itself (float, or fixed point with stochastic rounding).

The update's arithmetic (``fixed_weight_update``, ``float_weight_update``) is a
rule that ``accel`` compiles into its in-place block update; ``learn`` and the
pair counts take such compiled helpers as arguments (``add_block``,
``pair_counter``), never on their own."""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from .. import fixed_point as fxp
from .. import jit
from ..config import SSNNConfig
from ..rates import effective_eta, learning_shift, update_denominator
from .encoders import bernoulli_trains
from .randomness import STREAM_NOISE, STREAM_ROUNDING, STREAM_STOCHASTIC, sample_rng
from .synapses import gradient_sign


def coincidence_numerator(x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray,
                          pair_counter=None) -> np.ndarray:
    """Eq. 10 counts: sum over steps (and samples) of (d+ - d-)_post(t) x_pre(t).

    Histories have shape (T, ..., N). Each synapse needs only the two spikes at
    its own ends in the same step: spatially and temporally local.
    One float32 GEMM over the presynaptic units that spiked and the postsynaptic
    units whose gradient neurons spiked (exact for counts < 2**24); or, for large
    boolean histories, ``pair_counter(x, dp, dn)`` when given (event-driven, e.g.
    ``accel.coincidences``: the same integers). int64 result.
    """
    npre, npost = x_hist.shape[-1], dp_hist.shape[-1]
    x = np.asarray(x_hist).reshape(-1, npre)
    dp = np.asarray(dp_hist).reshape(-1, npost)
    dn = np.asarray(dn_hist).reshape(-1, npost)
    if (pair_counter is not None and x.dtype == bool and dp.dtype == bool and dn.dtype == bool
            and x.shape[0] * npre * npost >= 1 << 20):
        return pair_counter(x, dp, dn)
    out = np.zeros((npost, npre), dtype=np.int64)
    post, pre = learning_support(x, dp, dn)
    if pre.size == 0 or post.size == 0:
        return out
    sub_post, sub_pre = 2 * post.size < npost, 4 * pre.size < 3 * npre   # gathering pays
    if sub_post:
        dp, dn = dp[:, post], dn[:, post]
    if sub_pre:
        x = x[:, pre]
    if dp.dtype == bool and dn.dtype == bool:
        d = gradient_sign(dp, dn).astype(np.float32)
    else:
        d = dp.astype(np.float32) - dn.astype(np.float32)
    c = np.rint(d.T @ x.astype(np.float32)).astype(np.int64)
    if sub_post and sub_pre:
        out[np.ix_(post, pre)] = c
    elif sub_post:
        out[post] = c
    elif sub_pre:
        out[:, pre] = c
    else:
        out = c
    return out


def causal_numerator(x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray,
                     pair_counter=None) -> np.ndarray:
    """'causal' counts: sum over steps of (d+ - d-)_post(t) times the presynaptic
    spikes of this sample up to and including step t, i.e. every pre-before-post
    spike pair (an STDP window as long as the sample). Histories (T, ..., N).

    Eq. 10 pairs only spikes of the same step, which equals the product of rates
    only for trains uncorrelated in time; the network's are not (front-loaded
    inputs, gradient spikes late: ``benchmarks/update_fidelity.py``). Counting the
    earlier presynaptic spikes too recovers most of Eq. 9's D X pairs (0.8-0.96 of
    them on trained networks), so the update is normalised like the rate rule (by
    T^2). Local in space and time: the synapse needs its presynaptic count so far
    (the rate rule's counter) at each postsynaptic gradient spike. (Integer
    histories: ``pair_counter`` does not apply.)"""
    return coincidence_numerator(np.cumsum(np.asarray(x_hist, dtype=np.int32), axis=0), dp_hist, dn_hist)


# Modes whose numerator is accumulated step by step from pairs of spikes (the engine
# records the spike histories for them, the Lava synapse counts them every step).
PAIR_NUMERATORS = {"coincidence": coincidence_numerator, "causal": causal_numerator,
                   "replay": coincidence_numerator}   # 'replay': pairs of the replay window, not the pass


class PairBlock(NamedTuple):
    """One learning epoch's pair counts on the only synapses they can change:
    rows ``post`` and columns ``pre`` of ``learning_support``, ``counts``
    (len(post), len(pre)) int64. Counting just this block saves allocating and
    zeroing the whole (N_post, N_pre) array per sample."""
    post: np.ndarray
    pre: np.ndarray
    counts: np.ndarray
    shape: tuple            # (N_post, N_pre) of the whole synapse layer

    def dense(self) -> np.ndarray:
        """The whole (N_post, N_pre) int64 pair-count array (zero off the block)."""
        out = np.zeros(self.shape, dtype=np.int64)
        out[np.ix_(self.post, self.pre)] = self.counts
        return out


def pair_block(mode: str, x_hist: np.ndarray, dp_hist: np.ndarray, dn_hist: np.ndarray,
               pair_counter=None) -> PairBlock:
    """``PAIR_NUMERATORS[mode]`` of spike histories (T, ..., N) on their learning
    support only: the same integers as the full numerator's block. ``pair_counter``:
    as in ``coincidence_numerator``."""
    x, dp, dn = (np.asarray(h) for h in (x_hist, dp_hist, dn_hist))
    npre, npost = x.shape[-1], dp.shape[-1]
    post, pre = learning_support(*(h.reshape(-1, h.shape[-1]) for h in (x, dp, dn)))
    if post.size == 0 or pre.size == 0:
        return PairBlock(post, pre, np.zeros((post.size, pre.size), dtype=np.int64), (npost, npre))
    x = x[..., pre] if pre.size < npre else x          # time stays the first axis ('causal' sums along it)
    dp, dn = (dp[..., post], dn[..., post]) if post.size < npost else (dp, dn)
    return PairBlock(post, pre, PAIR_NUMERATORS[mode](x, dp, dn, pair_counter), (npost, npre))


def rate_numerator(x_count: np.ndarray, dp_count: np.ndarray, dn_count: np.ndarray) -> np.ndarray:
    """Eq. 9 counts: (D+ - D-) outer X per sample, summed over samples.
    Counts have shape (B, N) (spikes per sample)."""
    d = (dp_count.astype(np.float64) - dn_count).reshape(-1, dp_count.shape[-1])
    return np.rint(d.T @ x_count.reshape(-1, x_count.shape[-1]).astype(np.float64)).astype(np.int64)


def stochastic_numerator(x_count, dp_count, dn_count, steps: int, rng: np.random.Generator,
                         pair_counter=None) -> np.ndarray:
    """RPU-style rule: coincidences of fresh independent Bernoulli trains whose
    rates are the sample's measured rates (count / T). Counts (B, N).
    ``pair_counter``: as in ``coincidence_numerator``."""
    bx = bernoulli_trains(x_count / steps, steps, rng)
    bp = bernoulli_trains(dp_count / steps, steps, rng)
    bn = bernoulli_trains(dn_count / steps, steps, rng)
    return coincidence_numerator(bx, bp, bn, pair_counter)


def stochastic_noise_std(x_count, dp_count, dn_count, steps: int) -> np.ndarray:
    """Std (N_post, N_pre) of the stochastic rule's estimate of rate_numerator/(2T^2).

    Per step the product b_x (b_+ - b_-) is in {-1, 0, 1} with mean
    mu = r_x (r_+ - r_-) and variance r_x (r_+ + r_- - 2 r_+ r_-) - mu^2; the
    estimate averages T steps and halves (Eq. 8). Samples add variances.
    """
    rx = x_count.astype(np.float64) / steps
    rp = dp_count.astype(np.float64) / steps
    rn = dn_count.astype(np.float64) / steps
    a = rp + rn - 2 * rp * rn
    b = rp - rn
    # sum_b [rx a - rx^2 b^2] as GEMMs over the batch
    var = (a.T @ rx) - (b.T ** 2 @ rx ** 2)
    return np.sqrt(np.maximum(var, 0.0) / (4.0 * steps))


def fixed_point_step(numerator: np.ndarray, cfg: SSNNConfig, k: int, rng: np.random.Generator) -> np.ndarray:
    """The mantissa change (int64) of a fixed-point update of synapse layer k:
    stochastic_round(numerator / 2**shift), before saturation."""
    return fxp.stochastic_shift(numerator, learning_shift(cfg.eta, cfg.learning_steps, cfg.mode, cfg.exp_of(k)), rng)


def rounding_rng(seed: int, first_sample: int, k: int) -> np.random.Generator:
    """The stream of synapse layer k's stochastic rounding after sample ``first_sample``."""
    return sample_rng(seed, first_sample, STREAM_ROUNDING + k)


@jit.rule
def fixed_weight_update(w, dm, lo, hi):
    """A fixed-point weight after an update of ``dm`` mantissa steps: w + dm
    saturated to [lo, hi] (never wrapping)."""
    return np.minimum(np.maximum(w + dm, lo), hi)


@jit.rule
def float_weight_update(w, dw, eta):
    """A float weight after an update: w + eta dw, in float64 (``dw`` =
    numerator / denominator, float64); stored back in the weights' type."""
    return w + eta * dw


def apply_update(w: np.ndarray, numerator: np.ndarray, cfg: SSNNConfig, k: int,
                 rng: Optional[np.random.Generator] = None, noise_std=None) -> np.ndarray:
    """New weights of synapse layer k after one learning epoch.

    Float: w + eta * (numerator / denominator + noise).
    Fixed: mantissa + stochastic_round(numerator / 2**shift), saturating at the
    weight width (never wrapping).
    """
    if cfg.fixed_point:
        dm = fixed_point_step(numerator, cfg, k, rng)
        hi = 2 ** (cfg.weight_bits - 1) - 1
        return fixed_weight_update(w.astype(np.int64), dm, -hi, hi).astype(np.int32)
    dw = numerator / update_denominator(cfg.mode, cfg.learning_steps)
    if noise_std is not None:
        dw = dw + rng.standard_normal(dw.shape) * noise_std
    return float_weight_update(w, dw, cfg.eta).astype(w.dtype)


def learning_numerator(cfg: SSNNConfig, k: int, x_count, dp_count, dn_count, seed: int,
                       first_sample: int, coincidences=None, pair_counter=None) -> np.ndarray:
    """Update numerator of synapse layer ``k`` for the rule in ``cfg.mode``.

    The one definition shared by ``Engine.apply`` and the Lava
    ``CoincidenceDense`` model. Counts have shape (B, N) (B = 1 on chip);
    ``coincidences`` is the accumulated pair count of ``PAIR_NUMERATORS``
    (needed in 'coincidence' and 'causal' mode only); ``first_sample`` names
    the random streams; ``pair_counter``: as in ``coincidence_numerator``.
    """
    if cfg.mode in PAIR_NUMERATORS:
        if coincidences is None:
            raise ValueError(f"{cfg.mode!r} mode needs the accumulated pair counts")
        return np.asarray(coincidences, dtype=np.int64)
    if cfg.mode == "stochastic":
        rng = sample_rng(seed, first_sample, STREAM_STOCHASTIC + k)
        return stochastic_numerator(x_count, dp_count, dn_count, cfg.steps, rng, pair_counter)
    if cfg.mode in ("rate", "noise"):   # 'noise' adds its Gaussian in update_weights
        return rate_numerator(x_count, dp_count, dn_count)
    raise ValueError(f"unknown update mode {cfg.mode!r}")


def update_weights(w: np.ndarray, numerator: np.ndarray, cfg: SSNNConfig, k: int,
                   x_count, dp_count, dn_count, seed: int, first_sample: int) -> np.ndarray:
    """``apply_update`` with the random streams of sample ``first_sample``: rounding
    (fixed point) or, in 'noise' mode, the Gaussian noise. Shared by
    ``Engine.apply`` and the Lava ``CoincidenceDense`` model."""
    rng = rounding_rng(seed, first_sample, k)
    noise = None
    if cfg.mode == "noise":
        if cfg.noise_std is not None:
            noise = cfg.noise_std * np.sqrt(np.shape(x_count)[0])
        else:   # the stochastic rule's std at T_s = noise_steps: variance ~ 1/T_s
            noise = stochastic_noise_std(x_count, dp_count, dn_count, cfg.steps)
            if cfg.noise_steps is not None:
                noise *= np.sqrt(cfg.steps / cfg.noise_steps)
        rng = sample_rng(seed, first_sample, STREAM_NOISE + k)
    return apply_update(w, numerator, cfg, k, rng, noise)


def learning_support(x_count, dp_count, dn_count):
    """(post, pre) indices of the synapses whose update can be non-zero in this
    learning epoch: presynaptic units that spiked and postsynaptic units whose
    gradient neurons spiked. Counts (B, N) or spike histories (M, N)."""
    x, dp, dn = (np.asarray(c) for c in (x_count, dp_count, dn_count))
    if x.ndim == dp.ndim == dn.ndim == 2 and len(x) == len(dp) == len(dn) == 1:   # one sample: no reduction
        return np.flatnonzero((dp[0] != 0) | (dn[0] != 0)), np.flatnonzero(x[0])
    pre = np.flatnonzero(np.any(x, axis=0))
    post = np.flatnonzero(np.any(dp, axis=0) | np.any(dn, axis=0))
    return post, pre


def learn(w: np.ndarray, cfg: SSNNConfig, k: int, x_count, dp_count, dn_count, seed: int,
          first_sample: int, coincidences=None, inplace: bool = False, add_block=None,
          pair_counter=None, shared_random: Optional[float] = None) -> np.ndarray:
    """New weights of synapse layer ``k`` after one learning epoch:
    ``learning_numerator`` then ``update_weights``. Used by ``Engine.apply`` and
    the Lava ``CoincidenceDense`` model alike.

    ``rate``, ``coincidence`` and ``causal`` updates touch only the block of synapses given
    by ``learning_support``: the numerator is zero elsewhere, and a zero
    numerator changes no weight (float: w + eta * 0 == w; fixed: the stochastic
    rounding of 0 is 0). In floating point the result is the full update's
    array; in fixed point the rounding draws one random number per synapse of
    the block, so it is the full update's in distribution. A sample activates
    few units, which makes per-sample updates cheap. ``stochastic`` and
    ``noise`` draw random numbers for every synapse and take the full path.
    ``coincidences``: the full pair-count array, or a :class:`PairBlock` of
    this support. ``inplace``: update ``w`` itself (block modes) instead of a copy.
    ``add_block`` (optional, ``accel.add_block``): adds the block's update to the
    weights in place, rounded as here, where ``block_update_fits``; ``pair_counter``
    (optional, ``accel.coincidences``): counts the 'stochastic' trains' pairs.

    ``shared_random`` (a number in [0, 1); fixed point, 'coincidence' and 'replay'):
    round as Lava's learning engine does (the chip configuration,
    ``Engine(learning_engine='lava')``): that one number for every synapse of the
    epoch (``fxp.epoch_stochastic_shift``) instead of the per-synapse rounding
    stream, and weights clipped to the engine's -256..255 instead of ``cfg.weight_bits``.
    """
    if shared_random is not None and not (cfg.fixed_point and cfg.mode in ("coincidence", "replay")):
        raise ValueError("Lava's learning engine rounds fixed-point 'coincidence' and 'replay' updates, not "
                         f"{'fixed' if cfg.fixed_point else 'floating'}-point {cfg.mode!r}")
    if cfg.mode not in ("rate", *PAIR_NUMERATORS):
        num = learning_numerator(cfg, k, x_count, dp_count, dn_count, seed, first_sample, coincidences, pair_counter)
        return update_weights(w, num, cfg, k, x_count, dp_count, dn_count, seed, first_sample)
    if cfg.mode in PAIR_NUMERATORS and coincidences is None:
        raise ValueError(f"{cfg.mode!r} mode needs the accumulated pair counts")
    post, pre = learning_support(x_count, dp_count, dn_count)
    out = w if inplace else np.array(w, copy=True)
    if post.size and pre.size:
        block = None if isinstance(coincidences, PairBlock) else np.ix_(post, pre)
        if cfg.mode == "rate":
            num = rate_numerator(x_count[:, pre], dp_count[:, post], dn_count[:, post])
        elif isinstance(coincidences, PairBlock):
            if not (np.array_equal(coincidences.post, post) and np.array_equal(coincidences.pre, pre)):
                raise ValueError("the pair counts' block is not the learning support of these counts")
            num = coincidences.counts
        else:
            num = np.asarray(coincidences)[block].astype(np.int64)
        fits = add_block is not None and block_update_fits(out, cfg)   # the same update, without gathering the block
        if shared_random is not None:
            delta = fxp.epoch_stochastic_shift(num, learning_shift(cfg.eta, cfg.learning_steps, cfg.mode,
                                                                   cfg.exp_of(k)), shared_random)
            if fits:
                add_block(out, post, pre, delta, True, weight_range=(fxp.LAVA_WEIGHT_MIN, fxp.LAVA_WEIGHT_MAX))
            else:
                block = np.ix_(post, pre)
                out[block] = fixed_weight_update(out[block].astype(np.int64), delta, fxp.LAVA_WEIGHT_MIN,
                                                 fxp.LAVA_WEIGHT_MAX).astype(np.int32)
        elif fits:
            delta = fixed_point_step(num, cfg, k, rounding_rng(seed, first_sample, k)) if cfg.fixed_point else num
            add_block(out, post, pre, delta, cfg.fixed_point, cfg.weight_bits, cfg.eta,
                      update_denominator(cfg.mode, cfg.learning_steps))
        else:
            block = np.ix_(post, pre)
            out[block] = update_weights(out[block], num, cfg, k, x_count, dp_count, dn_count, seed, first_sample)
    return out


def block_update_fits(w, cfg: SSNNConfig) -> bool:
    """Whether an in-place block update (``learn``'s ``add_block``) applies to weights
    ``w``: a 2-D array of the engine's arithmetic (int32 mantissas, or float)."""
    return (type(w) is np.ndarray and w.ndim == 2 and w.dtype == (np.int32 if cfg.fixed_point else w.dtype)
            and w.dtype.kind in ("i" if cfg.fixed_point else "f"))
