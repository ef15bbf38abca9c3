"""Fig. 4 of the paper: the error of the stochastic multiplication.

Every product a*b of the grid [0, 0.02, ..., 0.98] is estimated by the library's
own rule (:func:`lava_ssnnbp.dynamics.stochastic_numerator`: coincidences of
fresh, independent Bernoulli(a) and Bernoulli(b) trains of length T) divided by
T. Theory: the estimate is the mean of T Bernoulli(ab) draws, so its error is
zero-mean with std sqrt(ab (1 - ab) / T) per pair; pooled over the grid the std
is sqrt(mean_ab[ab (1 - ab)] / T) = c / sqrt(T).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

FIG4_VALUES = np.round(np.arange(50) * 0.02, 10)          # [0, 0.02, ..., 0.98]
FIG4_STEPS = (10, 50, 100, 200, 500, 1000, 5000)


def _fig4_rng(seed: int, steps: int, trial: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 4, steps, trial])))


def stochastic_products(values: Sequence[float], steps: int, rng: np.random.Generator) -> np.ndarray:
    """One stochastic estimate of every product values[i] * values[j], shape (n, n).

    Uses the library's learning rule itself: ``dynamics.stochastic_numerator``
    with presynaptic rate a (``x_count = a T``), postsynaptic d+ rate b
    (``dp_count = b T``) and no d-, so the numerator is the number of
    coincidences of independent Bernoulli(a) and Bernoulli(b) trains of length
    T; divided by T it estimates a*b. Entry [i, j] estimates values[i] (post)
    times values[j] (pre). As in the network, one presynaptic train is shared by
    all synapses of its row, so estimates in one row/column are correlated.
    """
    from lava_ssnnbp import accel
    from lava_ssnnbp import dynamics as dyn
    v = np.asarray(values, dtype=np.float64).reshape(1, -1)
    counts = v * steps
    num = dyn.stochastic_numerator(counts, counts, np.zeros_like(counts), steps, rng,
                                   pair_counter=accel.coincidences if accel.available() else None)
    return num / steps


def stochastic_multiplication_errors(values: Sequence[float] = FIG4_VALUES,
                                     steps_list: Sequence[int] = FIG4_STEPS,
                                     seed: int = 0, trials: int = 20) -> dict:
    """Errors of the stochastic multiplication of all pairs of ``values``, per T.

    Returns ``{"values", "products", "per_T": [...], "fit"}``; each ``per_T``
    entry holds ``errors`` (trials, n, n) and the statistics: pooled mean and
    std, its standard error (from per-trial means, since errors within a trial
    are correlated), the theoretical pooled std sqrt(mean ab(1-ab) / T), the std
    that ``noise`` mode uses (``dynamics.stochastic_noise_std``, in product
    units), the std of errors standardised per pair by sqrt(ab(1-ab)/T), excess
    kurtosis (pooled and standardised) and the fraction of exact zeros (pairs
    with a = 0 or b = 0). ``fit``: least-squares line through log std vs log T
    (slope; theory -1/2) and c in c/sqrt(T) (theory sqrt(mean ab(1-ab))).
    """
    from lava_ssnnbp import dynamics as dyn
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or np.any(values < 0) or np.any(values > 1):
        raise ValueError("values must be a non-empty 1-D array of probabilities in [0, 1]")
    if trials < 2:
        raise ValueError("need trials >= 2 (the standard error uses per-trial means)")
    prod = np.outer(values, values)
    pvar = prod * (1 - prod)                     # variance of one Bernoulli(ab) draw
    c_theory = float(np.sqrt(pvar.mean()))
    nz = pvar > 0
    out = []
    for T in steps_list:
        T = int(T)
        errs = np.stack([stochastic_products(values, T, _fig4_rng(seed, T, k)) - prod for k in range(trials)])
        e = errs.ravel()
        std = float(e.std())
        m2 = float(np.mean((e - e.mean()) ** 2))
        trial_means = errs.reshape(trials, -1).mean(axis=1)
        z = (errs[:, nz] / np.sqrt(pvar[nz] / T)).ravel()
        counts = values.reshape(1, -1) * T
        noise_std = 2.0 * dyn.stochastic_noise_std(counts, counts, np.zeros_like(counts), T)
        pair_std = errs.std(axis=0, ddof=1)[nz] / np.sqrt(pvar[nz] / T)
        out.append({
            "T": T, "errors": errs, "n_errors": int(e.size), "trials": int(trials),
            "mean": float(e.mean()), "mean_se": float(trial_means.std(ddof=1) / np.sqrt(trials)),
            "std": std, "theory_std": c_theory / math.sqrt(T),
            "std_ratio": std / (c_theory / math.sqrt(T)),
            "noise_mode_std": float(np.sqrt(np.mean(noise_std ** 2))),
            "z_std": float(z.std()),
            "per_pair_std_ratio_median": float(np.median(pair_std)),
            "kurtosis_pooled": float(np.mean((e - e.mean()) ** 4) / m2 ** 2 - 3.0) if m2 > 0 else float("nan"),
            "kurtosis_standardised": float(np.mean((z - z.mean()) ** 4) / z.var() ** 2 - 3.0) if z.var() > 0 else float("nan"),
            "exact_zero_frac": float(np.mean(e == 0)),
            "min": float(e.min()), "max": float(e.max()),
        })
    Ts = np.array([r["T"] for r in out], dtype=np.float64)
    stds = np.array([r["std"] for r in out])
    fit = {"c_theory": c_theory}
    if len(out) >= 2 and np.all(stds > 0):
        slope, icept = np.polyfit(np.log(Ts), np.log(stds), 1)
        fit.update(slope=float(slope), slope_theory=-0.5,
                   c_fit=float(np.exp(np.mean(np.log(stds) + 0.5 * np.log(Ts)))))  # best c for fixed slope -1/2
    return {"values": values, "products": prod, "per_T": out, "fit": fit, "seed": seed}


def fig4_summary(res: dict, bins: int = 61) -> dict:
    """JSON-able summary of :func:`stochastic_multiplication_errors`: statistics
    and a density histogram per T over +-4.5 theoretical stds (errors outside
    are counted in ``outside``), and the normal-mixture density that theory
    predicts (each pair N(0, ab(1-ab)/T), averaged over the grid)."""
    prod = res["products"]
    pvar = (prod * (1 - prod)).ravel()
    rows = []
    for r in res["per_T"]:
        e = r["errors"].ravel()
        half = 4.5 * r["theory_std"]
        edges = np.linspace(-half, half, bins + 1)
        dens, _ = np.histogram(e, bins=edges, density=False)
        width = edges[1] - edges[0]
        centres = 0.5 * (edges[1:] + edges[:-1])
        s2 = pvar[pvar > 0] / r["T"]
        mix = np.mean(np.exp(-centres[:, None] ** 2 / (2 * s2[None])) / np.sqrt(2 * np.pi * s2[None]), axis=1)
        mix *= np.mean(pvar > 0)     # the a=0 / b=0 pairs sit in a point mass at 0
        row = {k: v for k, v in r.items() if k != "errors"}
        row["hist"] = {"edges": edges.tolist(), "density": (dens / (e.size * width)).tolist(),
                       "outside": int(np.sum(np.abs(e) > half)),
                       "theory_mixture_density": mix.tolist()}
        rows.append(row)
    return {"values": [float(v) for v in res["values"]], "n_pairs": int(prod.size), "seed": res["seed"],
            "rule": "lava_ssnnbp.dynamics.stochastic_numerator(a*T, b*T, 0, T) / T - a*b",
            "per_T": rows, "fit": res["fit"]}


FIG4_CSV_FIELDS = ("T", "n_errors", "trials", "mean", "mean_se", "std", "theory_std", "std_ratio",
                   "noise_mode_std", "z_std", "per_pair_std_ratio_median", "kurtosis_pooled",
                   "kurtosis_standardised", "exact_zero_frac", "min", "max")
