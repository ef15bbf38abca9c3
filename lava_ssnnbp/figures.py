"""Figures 4-8 of the paper (and the WTA / dropout ablation) from real runs.

Pure functions that turn measurements into the numbers behind each figure, and
plot functions (matplotlib, imported lazily, Agg backend) that draw them.
``benchmarks/figures.py`` is the command line around them.

* Fig. 4 -- error of the stochastic multiplication. Every product a*b of the
  grid [0, 0.02, ..., 0.98] is estimated by the library's own rule
  (:func:`lava_ssnnbp.dynamics.stochastic_numerator`: coincidences of fresh,
  independent Bernoulli(a) and Bernoulli(b) trains of length T) divided by T.
  Theory: the estimate is the mean of T Bernoulli(ab) draws, so its error is
  zero-mean with std sqrt(ab (1 - ab) / T) per pair; pooled over the grid the
  std is sqrt(mean_ab[ab (1 - ab)] / T) = c / sqrt(T).
* Fig. 5 -- sorted, normalised output distribution over a test set: raw
  spiking output (network trained and run without WTA), softmax of it, and the
  output of a network with WTA. See :func:`output_distributions` for the
  normalisation and the softmax temperature.
* Fig. 6 -- test accuracy per epoch for ``stochastic`` (and ``coincidence``)
  updates at several T, next to ``rate``; Fig. 7/8 -- ``noise`` mode against
  real ``stochastic`` at equal T; ablation -- WTA and dropout on/off. All three
  only *collect* the JSON files written by ``benchmarks/accuracy.py``
  (``accuracy_<dataset>_<mode>_T<T>[_<tag>].json``); nothing is plotted that
  did not finish, and what is missing is listed with the command that runs it.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .result_files import seed_std

# ------------------------------------------------------------------ constants
FIG4_VALUES = np.round(np.arange(50) * 0.02, 10)          # [0, 0.02, ..., 0.98]
FIG4_STEPS = (10, 50, 100, 200, 500, 1000, 5000)
FIG6_STEPS = (50, 100, 200, 500, 1000)
FIG6_MODES = ("stochastic", "coincidence", "rate")
FIG78_MODES = ("noise", "stochastic")
FIG8_BASE_T = 50                                           # the paper's Fig. 8: 50-step simulations ...
FIG8_STEPS = (50, 100, 200, 500, 1000, 2000, 5000, 10000)  # ... with the noise of T_s steps
ABLATION_DATASETS = ("fashion-mnist", "mnist")
ABLATION_STEPS = 50     # the T of the main accuracy runs, whose WTA + dropout results are the ablation's baseline
# (tag, label, wta, dropout on, extra 'ssnnbp train' flags). The tag is the
# suffix of the accuracy JSON's name; the collector checks that the JSON's model
# config really has the stated WTA / dropout setting.
ABLATION_VARIANTS = (
    ("nowta_nodropout", "MSE-like (no WTA), no dropout", False, False, ("--no-wta", "--dropout", "0,0")),
    ("nowta", "MSE-like (no WTA) + dropout", False, True, ("--no-wta",)),
    ("nodropout", "WTA (softmax-CE-like), no dropout", True, False, ("--dropout", "0,0")),
    ("", "WTA (softmax-CE-like) + dropout", True, True, ()),
)
PAPER_ABLATION_EMNIST = {"nowta_nodropout": 81.26, "nowta": 84.48, "": 85.76}  # EMNIST balanced, %


@dataclass(frozen=True)
class Protocol:
    """How the runs behind a figure are trained. ``tag`` prefixes the tag of every
    result file (``accuracy_<ds>_<mode>_T<T>_<tag>[_<variant>].json``); ``epochs``
    and ``flags`` go into the commands printed for missing results; ``label`` is
    shown on every table and plot made from them."""
    name: str
    tag: str
    epochs: int
    flags: Tuple[str, ...]
    label: str


# How every run behind the figures (and the accuracy table) trains: summed updates of
# 32 samples (a CPU needs the batch; docs/findings.md measures what it changes), eta 0.3
# cosine. The printed commands carry them: accuracy.py moves a result file with other
# settings aside rather than mixing seeds trained differently.
RUN_FLAGS = ("--eta", "0.3", "--eta-schedule", "cosine", "--batch-updates", "mini-batch", "--batch-size", "32")

PROTOCOLS = {
    "full": Protocol("full", "", 20, RUN_FLAGS, "full data sets, 20 epochs"),
    # A 2-core CPU cannot run the paper's 20-epoch full-data grid up to T = 1000
    # (~10 h per seed at T = 1000), so the long-T comparison also has a subset protocol.
    "sub10k": Protocol("sub10k", "sub10k", 3, ("--train-samples", "10000", "--test-samples", "2000", *RUN_FLAGS),
                       "SUBSET: 10,000 training / 2,000 test images, 3 epochs"),
}


def get_protocol(protocol) -> Protocol:
    """A :class:`Protocol` from itself or its name (clear error for unknown names)."""
    if isinstance(protocol, Protocol):
        return protocol
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    return PROTOCOLS[protocol]


def is_figure_result(mode: Optional[str], tag: str) -> bool:
    """Whether a result (its update mode and file tag) is one the figures report
    collects -- a Fig. 6-8 point of a subset protocol, an ablation variant, a Fig. 8
    emulation -- rather than a row of the main accuracy table: untagged runs,
    hyperparameter variants such as 'eta0.1', and other modes or settings run on a
    subset (e.g. 'sub10k_ps_fixed', or 'causal' mode on 'sub10k')."""
    if not tag:
        return False
    for p in PROTOCOLS.values():
        if tag == p.tag and mode in (*FIG6_MODES, *FIG78_MODES):
            return True
        if mode == "rate" and tag in {join_tag(p.tag, v[0]) for v in ABLATION_VARIANTS if v[0]}:
            return True
        if mode == "noise" and re.fullmatch(re.escape(join_tag(p.tag, "emuT")) + r"\d+", tag):
            return True
    return False


def join_tag(*parts: str) -> str:
    """Tags joined by '_' with empty parts left out: ('sub10k', 'nowta') -> 'sub10k_nowta'."""
    return "_".join(p for p in parts if p)


# ============================================================ Fig. 4
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
    from . import accel
    from . import dynamics as dyn
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
    from . import dynamics as dyn
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


# ============================================================ Fig. 5
def sorted_normalised(counts: np.ndarray) -> Tuple[np.ndarray, int, int]:
    """Per sample: sort the output counts descending and divide by their sum;
    average over samples. Samples with no output spike at all cannot be
    normalised and are left out (their number is returned).
    Returns (mean curve (C,), samples used, silent samples)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError("counts must have shape (N, C)")
    tot = c.sum(axis=1)
    keep = tot > 0
    if not np.any(keep):
        return np.full(c.shape[1], np.nan), 0, int(c.shape[0])
    p = -np.sort(-c[keep], axis=1) / tot[keep, None]
    return p.mean(axis=0), int(keep.sum()), int((~keep).sum())


def softmax_sorted(counts: np.ndarray, temperature: float = 1.0, mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Mean over samples of sort-descending(softmax(counts / temperature)).
    ``temperature`` is in output spikes per sample: temperature 1 uses the raw
    spike counts as the logits. ``mask`` selects the samples (default: all)."""
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    c = np.asarray(counts, dtype=np.float64)
    if mask is not None:
        c = c[mask]
    if c.shape[0] == 0:
        return np.full(c.shape[1], np.nan)
    z = c / temperature
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return (-np.sort(-p, axis=1)).mean(axis=0)


def fit_softmax_temperature(counts: np.ndarray, target: np.ndarray,
                            temperatures: Optional[Sequence[float]] = None, mask=None) -> Tuple[float, float]:
    """The temperature (spikes) whose sorted softmax curve of ``counts`` is
    closest (least squares) to ``target``; a description, not a prediction.
    Returns (temperature, rms distance)."""
    temps = np.logspace(-1.5, 2.5, 161) if temperatures is None else np.asarray(temperatures, float)
    d = [float(np.sqrt(np.mean((softmax_sorted(counts, t, mask) - target) ** 2))) for t in temps]
    k = int(np.argmin(d))
    return float(temps[k]), d[k]


def output_distributions(raw_counts: np.ndarray, wta_counts: Optional[np.ndarray] = None,
                         temperature: float = 1.0) -> dict:
    """Fig. 5 curves from output spike counts (N, C) on the same test images.

    ``raw``: sorted, sum-normalised counts of the network without WTA;
    ``softmax``: sorted softmax(raw_counts / temperature) (temperature in spikes;
    1 means the raw counts are the logits), over the same samples as ``raw``
    (samples with no output spike are left out of both); ``wta``: sorted,
    sum-normalised counts of the network with WTA. Also the top-1 share of each
    curve, and the softmax temperature that best matches the WTA curve.
    """
    raw_curve, n_raw, silent_raw = sorted_normalised(raw_counts)
    mask = np.asarray(raw_counts).sum(axis=1) > 0
    out = {"temperature_spikes": float(temperature),
           "curves": {"raw": raw_curve.tolist(), "softmax": softmax_sorted(raw_counts, temperature, mask).tolist()},
           "n_used": {"raw": n_raw, "softmax": n_raw}, "n_silent": {"raw": silent_raw, "softmax": silent_raw}}
    if wta_counts is not None:
        wta_curve, n_w, silent_w = sorted_normalised(wta_counts)
        out["curves"]["wta"] = wta_curve.tolist()
        out["n_used"]["wta"], out["n_silent"]["wta"] = n_w, silent_w
        if n_raw and n_w:
            t_fit, rms = fit_softmax_temperature(raw_counts, wta_curve, mask=mask)
            out["softmax_temperature_matching_wta"] = {"temperature_spikes": t_fit, "rms_distance": rms,
                                                       "curve": softmax_sorted(raw_counts, t_fit, mask).tolist()}
    out["top1_share"] = {k: (float(v[0]) if not math.isnan(v[0]) else None) for k, v in out["curves"].items()}
    return out


# ============================================================ accuracy results (Fig. 6-8, ablation)
_NAME = re.compile(r"^accuracy_(?P<dataset>[^_]+)_(?P<mode>[^_]+)_T(?P<T>\d+)(?:_(?P<tag>.+))?$")


def parse_result_name(stem: str) -> Optional[Tuple[str, str, int, str]]:
    """(dataset, mode, T, tag) from a result file's stem, None if it is not one."""
    m = _NAME.match(stem)
    if not m:
        return None
    return m["dataset"], m["mode"], int(m["T"]), m["tag"] or ""


def load_accuracy_results(results_dir) -> Tuple[List[dict], List[str]]:
    """Read every ``accuracy_*.json`` of ``benchmarks/accuracy.py`` in ``results_dir``.

    Returns (records, problems). A record keeps only what finished: the
    test-accuracy curves of the finished seeds (per epoch, %), their final
    accuracies, and the settings. Files that cannot be read, or that lack the
    keys, become a line in ``problems`` instead of a record: nothing is guessed.
    """
    records, problems = [], []
    d = Path(results_dir)
    if not d.is_dir():
        return records, [f"{d}: no such folder"]
    for f in sorted(d.glob("accuracy_*.json")):
        key = parse_result_name(f.stem)
        if key is None:
            problems.append(f"{f.name}: name does not follow accuracy_<dataset>_<mode>_T<T>[_<tag>].json")
            continue
        try:
            r = json.loads(f.read_text())
            finished = [int(s) for s in r["seeds_finished"]]
            curves_all = r.get("curves") or {}
            mc, rs = r.get("model_config") or {}, r.get("run_settings") or {}
            epochs = int(r["epochs"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            problems.append(f"{f.name}: unreadable ({type(e).__name__}: {e})")
            continue
        dataset, mode, T, tag = key
        if r.get("model") == "ann":
            mode = "ann"
        curves = {}
        for s in finished:
            c = curves_all.get(str(s))
            if not c or len(c) < epochs:
                problems.append(f"{f.name}: seed {s} is listed as finished but its curve has "
                                f"{len(c or [])} of {epochs} epochs; left out")
                continue
            curves[s] = [float(a) for a in c[:epochs]]
        finals = [c[-1] for c in curves.values()]
        records.append({
            "file": f.name, "dataset": dataset, "mode": mode, "steps": T, "tag": tag,
            "fixed_point": bool(mc.get("fixed_point", False)), "wta": mc.get("wta"),
            "noise_steps": mc.get("noise_steps"),
            "dropout": mc.get("dropout"), "eta": mc.get("eta"), "epochs": epochs,
            "batch_updates": rs.get("batch_updates"), "batch_size": rs.get("batch_size"),
            "eta_schedule": rs.get("eta_schedule"),
            "train_samples": r.get("train_samples"), "test_samples": r.get("test_samples"),
            "seeds_finished": sorted(curves), "curves": curves, "final_per_seed": finals,
            "final_mean": float(np.mean(finals)) if finals else None,
            "final_std": seed_std(finals),
            "unfinished": r.get("unfinished") or {},
            "wall_s_per_seed": {str(k): float(v) for k, v in (r.get("wall_s_per_seed") or {}).items()
                                if int(k) in curves},
            "written": r.get("written"),
        })
    return records, problems


def find_record(records: Iterable[dict], dataset: str, mode: str, steps: int, tag: str = "",
                fixed_point: bool = False) -> Optional[dict]:
    for r in records:
        if (r["dataset"], r["mode"], r["steps"], r["tag"], r["fixed_point"]) == (dataset, mode, steps, tag, fixed_point):
            return r
    return None


def launch_command(dataset: str, mode: str, steps: int, tag: str = "", flags: Sequence[str] = (),
                   seeds: str = "0,1,2", epochs: int = 20, extra: str = "") -> str:
    """The ``benchmarks/accuracy.py`` line that writes the result the collectors expect."""
    parts = ["python benchmarks/accuracy.py", f"--dataset {dataset}", f"--mode {mode}", f"--steps {steps}",
             f"--seeds {seeds}", f"--epochs {epochs}"]
    if tag:
        parts.append(f"--tag {tag}")
    parts += list(flags)
    if extra:
        parts.append(extra)
    return " ".join(parts)


def _stats(rec: Optional[dict]) -> dict:
    """Per-epoch mean/std over the finished seeds, and the final accuracy."""
    if rec is None or not rec["curves"]:
        return {"finished": False, "n_seeds": 0}
    curves = np.array(list(rec["curves"].values()))        # (seeds, epochs), same length by construction
    return {"finished": True, "n_seeds": int(curves.shape[0]), "seeds": rec["seeds_finished"],
            "epochs": int(curves.shape[1]),
            "curve_mean": curves.mean(axis=0).tolist(), "curve_std": (curves.std(axis=0, ddof=1) if len(curves) > 1 else 0 * curves[0]).tolist(),
            "final_mean": rec["final_mean"], "final_std": rec["final_std"], "final_per_seed": rec["final_per_seed"],
            "best_epoch_mean": float(curves.max(axis=1).mean()),
            "wall_s_per_seed": rec["wall_s_per_seed"], "file": rec["file"],
            "settings": {k: rec[k] for k in ("eta", "eta_schedule", "batch_updates", "batch_size", "train_samples",
                                             "test_samples", "wta", "dropout")}}


def _missing_entry(rec, dataset, mode, steps, tag, flags, launch, protocol: Protocol) -> Optional[dict]:
    """None if every seed asked for (``launch['seeds']``, default 0,1,2) has finished,
    else why not and the command that runs the rest (the protocol's flags and
    epochs, unless ``launch`` overrides the epochs)."""
    launch = {"epochs": protocol.epochs, "seeds": "0,1,2", **(launch or {})}
    asked = [int(v) for v in str(launch["seeds"]).split(",") if v.strip()]
    done = set(rec["seeds_finished"]) if rec is not None else set()
    left = [s for s in asked if s not in done]
    if not left:
        return None
    if rec is None:
        why = "not yet run"
    elif done:
        why = f"seeds {sorted(done)} finished, {left} not yet"
    else:
        why = "no seed finished" + (f" (unfinished seeds, epochs done: {rec['unfinished']})" if rec["unfinished"] else "")
    name = f"accuracy_{dataset}_{mode}_T{steps}{'_' + tag if tag else ''}.json"
    return {"name": name, "status": why, "partial": bool(done),
            "command": launch_command(dataset, mode, steps, tag, (*protocol.flags, *flags),
                                      **{**launch, "seeds": ",".join(map(str, left))})}


def _mode_series(records, dataset, modes, steps_list, launch, protocol: Protocol):
    """Per (mode, T): the statistics of the finished seeds, and what is missing."""
    series, missing = {}, []
    for mode in modes:
        series[mode] = {}
        for T in steps_list:
            rec = find_record(records, dataset, mode, T, protocol.tag)
            series[mode][str(T)] = _stats(rec)
            m = _missing_entry(rec, dataset, mode, T, protocol.tag, (), launch, protocol)
            if m:
                missing.append(m)
    return series, missing


def _protocol_info(p: Protocol) -> dict:
    return {"protocol": p.name, "protocol_label": p.label, "subset": bool(p.tag)}


def fig6_data(records: List[dict], dataset: str = "mnist", steps_list: Sequence[int] = FIG6_STEPS,
              modes: Sequence[str] = FIG6_MODES, launch: Optional[dict] = None, protocol="full") -> dict:
    """Fig. 6: per (mode, T), the per-epoch test accuracy (mean/std over finished
    seeds) and the final accuracy; plus the list of missing results."""
    p = get_protocol(protocol)
    series, missing = _mode_series(records, dataset, modes, steps_list, launch, p)
    return {"dataset": dataset, "steps": list(steps_list), "modes": list(modes), "series": series, "missing": missing,
            **_protocol_info(p)}


def stat_difference(sa: dict, sb: dict) -> dict:
    """Final mean accuracy of result ``sa`` minus ``sb`` (points, both finished)
    and its standard error: from the seed-to-seed std where both have >= 2 seeds,
    else from the test set's binomial error sqrt(p (1 - p) / N) of each result.
    ``within_noise``: |difference| < 2 standard errors."""
    var = 0.0
    for st in (sa, sb):
        n, N = st["n_seeds"], st["settings"].get("test_samples") or 10000
        p = st["final_mean"] / 100
        seed_var = st["final_std"] ** 2 / n if n > 1 else None      # final_std: the sample std (ddof = 1)
        var += seed_var if seed_var is not None and sa["n_seeds"] > 1 and sb["n_seeds"] > 1 \
            else 1e4 * p * (1 - p) / (N * n)
    diff, se = sa["final_mean"] - sb["final_mean"], math.sqrt(var)
    return {"diff": diff, "se": se, "within_noise": abs(diff) < 2 * se, "n": (sa["n_seeds"], sb["n_seeds"])}


def mode_differences(series: dict, a: str, b: str, steps_list: Sequence) -> List[dict]:
    """``stat_difference`` of modes ``a`` and ``b`` at every T where both finished."""
    out = []
    for T in steps_list:
        sa, sb = series.get(a, {}).get(str(T)), series.get(b, {}).get(str(T))
        if sa and sb and sa["finished"] and sb["finished"]:
            out.append({"T": int(T), "a": a, "b": b, **stat_difference(sa, sb)})
    return out


def ablation_differences(rows: List[dict]) -> List[dict]:
    """Per data set: every finished variant minus the finished WTA + dropout row
    (the paper's configuration), as ``stat_difference``."""
    out = []
    for ref in rows:
        if not (ref["wta"] and ref["dropout"] and ref["finished"]):
            continue
        for r in rows:
            if r is not ref and r["dataset"] == ref["dataset"] and r["finished"]:
                out.append({"dataset": r["dataset"], "variant": r["variant"], **stat_difference(r, ref)})
    return out


def fig78_data(records: List[dict], dataset: str = "mnist", steps_list: Sequence[int] = FIG6_STEPS,
               launch: Optional[dict] = None, fig8_steps: Sequence[int] = FIG8_STEPS,
               fig8_base: int = FIG8_BASE_T, protocol="full") -> dict:
    """Fig. 7/8: final accuracy (mean, std over finished seeds) of ``noise`` and
    ``stochastic`` mode at equal T, with ``rate`` at the same T as reference.

    ``noise_emulated`` (the paper's Fig. 8): ``noise`` mode simulated at
    ``fig8_base`` steps with the noise of T_s steps, from results tagged
    ``emuT<T_s>`` (after the protocol's tag) whose model config has ``noise_steps == T_s``.
    """
    p = get_protocol(protocol)
    series, missing = _mode_series(records, dataset, FIG78_MODES + ("rate",), steps_list, launch, p)
    for m in missing:
        m["shared_with_fig6"] = "_noise_" not in m["name"]
    problems = []
    series["noise_emulated"] = {}
    for Ts in fig8_steps:
        tag = join_tag(p.tag, f"emuT{Ts}")
        rec = find_record(records, dataset, "noise", fig8_base, tag)
        if rec is not None and rec["curves"] and rec.get("noise_steps") != Ts:
            problems.append(f"{rec['file']}: model config has noise_steps={rec.get('noise_steps')}, "
                            f"its tag says {Ts}; left out")
            rec = None
        series["noise_emulated"][str(Ts)] = _stats(rec)
        m = _missing_entry(rec, dataset, "noise", fig8_base, tag, ("--noise-steps", str(Ts)), launch, p)
        if m:
            missing.append(m)
    return {"dataset": dataset, "steps": list(steps_list), "series": series, "missing": missing,
            "problems": problems, "fig8_base_steps": fig8_base, "fig8_steps": list(fig8_steps), **_protocol_info(p),
            "note": "'noise' mode simulates the network at the same T as 'stochastic' and adds Gaussian noise "
                    "of the stochastic rule's own std (dynamics.stochastic_noise_std) to the rate update."}


def ablation_data(records: List[dict], datasets: Sequence[str] = ABLATION_DATASETS, mode: str = "rate",
                  steps: int = ABLATION_STEPS, launch: Optional[dict] = None, protocol="full") -> dict:
    """WTA x dropout ablation table per data set; results whose model config
    contradicts their tag are refused (listed in ``problems``)."""
    p = get_protocol(protocol)
    rows, missing, problems = [], [], []
    for ds in datasets:
        for variant, label, wta, drop, flags in ABLATION_VARIANTS:
            tag = join_tag(p.tag, variant)
            rec = find_record(records, ds, mode, steps, tag)
            if rec is not None and rec["curves"]:
                has_drop = rec["dropout"] is None or any(float(p) > 0 for p in rec["dropout"])
                if rec["wta"] is not None and (bool(rec["wta"]) != wta or has_drop != drop):
                    problems.append(f"{rec['file']}: model config (wta={rec['wta']}, dropout={rec['dropout']}) "
                                    f"contradicts its tag '{variant or '(none)'}'; left out")
                    rec = None
            st = _stats(rec)
            rows.append({"dataset": ds, "tag": variant, "variant": label, "wta": wta, "dropout": drop, **st,
                         "paper_emnist": PAPER_ABLATION_EMNIST.get(variant)})
            m = _missing_entry(rec, ds, mode, steps, tag, flags, launch, p)
            if m:
                missing.append(m)
    return {"mode": mode, "steps": steps, "rows": rows, "missing": missing, "problems": problems, **_protocol_info(p)}


# ============================================================ plotting
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _log_T_axis(ax, Ts):
    """Log-scaled T axis ticked at the T values themselves (not just at powers of 10)."""
    from matplotlib.ticker import NullFormatter
    ax.set_xscale("log")
    if Ts:
        ax.set_xlim(min(Ts) / 1.3, max(Ts) * 1.3)
    ax.set_xticks(list(Ts))
    ax.set_xticklabels([str(T) for T in Ts], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("T (steps)")


def _sub(data: dict) -> str:
    """'; SUBSET: ...' for plots of a subset protocol, '' for full data."""
    return f"; {data['protocol_label']}" if data.get("subset") else ""


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    _plt().close(fig)
    return path


def plot_fig4(summary: dict, path):
    """Histograms of the error per T and pooled std vs T (log-log) with the
    theoretical c/sqrt(T) line."""
    plt = _plt()
    rows = summary["per_T"]
    n = len(rows) + 1
    ncol = 4
    nrow = int(math.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), dpi=110)
    axes = np.atleast_1d(axes).ravel()
    for ax, r in zip(axes, rows):
        h = r["hist"]
        edges = np.asarray(h["edges"])
        ctr = 0.5 * (edges[1:] + edges[:-1])
        ax.stairs(h["density"], edges, fill=True, alpha=0.45, label="measured")
        ax.plot(ctr, h["theory_mixture_density"], "k-", lw=1, label="theory (per-pair normal)")
        s = r["std"]
        ax.plot(ctr, np.exp(-ctr ** 2 / (2 * s * s)) / np.sqrt(2 * np.pi * s * s), "r:", lw=1,
                label="Gaussian, measured std")
        ax.set_title(f"T = {r['T']}: std {r['std']:.4f}", fontsize=9)
        ax.set_xlabel("stochastic product - a*b", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6, loc="upper left")
    ax = axes[len(rows)]
    T = np.array([r["T"] for r in rows], float)
    ax.loglog(T, [r["std"] for r in rows], "o", label="measured std")
    ax.loglog(T, [r["noise_mode_std"] for r in rows], "x", label="'noise' mode std")
    tt = np.logspace(np.log10(T.min() / 1.5), np.log10(T.max() * 1.5), 50)
    c = summary["fit"]["c_theory"]
    ax.loglog(tt, c / np.sqrt(tt), "k-", lw=1, label=f"ideal {c:.3f}/sqrt(T)")
    if "slope" in summary["fit"]:
        ax.set_title(f"fitted slope {summary['fit']['slope']:.3f} (ideal -0.5)", fontsize=9)
    ax.set_xlabel("T (steps)", fontsize=8)
    ax.set_ylabel("std of error", fontsize=8)
    ax.legend(fontsize=6)
    ax.tick_params(labelsize=7)
    for ax in axes[len(rows) + 1:]:
        ax.axis("off")
    fig.suptitle(f"Fig. 4: stochastic multiplication of all {summary['n_pairs']} products of "
                 f"[0, 0.02, ..., 0.98] (library rule, {rows[0]['trials']} trials each)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


FIG5_READINGS = (
    ("same_weights", "(a) one WTA-trained net: raw = lateral inhibition switched off at test"),
    ("separate_nets", "(b) two nets: raw = net trained and run without WTA"),
)


def plot_fig5(data: dict, path, title: str = ""):
    """Sorted, normalised output distribution: raw vs softmax vs WTA, one panel
    per reading of 'raw' (``data['readings']``, see ``benchmarks/figures.py fig5``)."""
    plt = _plt()
    readings = [(k, lab) for k, lab in FIG5_READINGS if k in data["readings"]]
    fig, axes = plt.subplots(1, len(readings), figsize=(5.6 * len(readings), 4.2), dpi=120, squeeze=False)
    for ax, (key, lab) in zip(axes[0], readings):
        d = data["readings"][key]
        C = len(d["curves"]["raw"])
        ids = np.arange(1, C + 1)
        styles = {"raw": ("o-", "raw spiking output"),
                  "softmax": ("s--", f"softmax(raw counts / {d['temperature_spikes']:g} spike)"),
                  "wta": ("^-", "WTA output")}
        for k, (st, name) in styles.items():
            if k in d["curves"]:
                ax.plot(ids, d["curves"][k], st, label=f"{name} (top-1 {d['curves'][k][0]:.2f})")
        fit = d.get("softmax_temperature_matching_wta")
        if fit:
            ax.plot(ids, fit["curve"], ":", color="grey",
                    label=f"softmax, temperature fitted to WTA: {fit['temperature_spikes']:.2g} spikes")
        ax.set_xlabel("output neuron, sorted by response")
        ax.set_ylabel("share of the sample's output spikes")
        ax.set_xticks(ids)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(lab, fontsize=8)
    fig.suptitle(title or "Fig. 5", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_fig6(data: dict, path, title: str = ""):
    """(a)/(b) test accuracy per epoch per T for stochastic and coincidence (mean
    +/- std band where several seeds finished); (c) final accuracy vs T with rate."""
    plt = _plt()
    modes = [m for m in ("stochastic", "coincidence") if m in data["series"]]
    fig, axes = plt.subplots(1, len(modes) + 1, figsize=(4.4 * (len(modes) + 1), 3.8), dpi=110)
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("viridis")
    Ts = data["steps"]
    for ax, mode in zip(axes, modes):
        any_ = False
        for i, T in enumerate(Ts):
            s = data["series"][mode][str(T)]
            if not s["finished"]:
                continue
            any_ = True
            ep = np.arange(1, s["epochs"] + 1)
            m, sd = np.array(s["curve_mean"]), np.array(s["curve_std"])
            col = cmap(i / max(len(Ts) - 1, 1))
            ax.plot(ep, m, "-o", ms=3, color=col, label=f"T={T} (n={s['n_seeds']})")
            if s["n_seeds"] > 1:
                ax.fill_between(ep, m - sd, m + sd, color=col, alpha=0.2)
        r = data["series"].get("rate", {})
        for i, T in enumerate(Ts):
            s = r.get(str(T), {"finished": False})
            if s["finished"]:
                ax.plot(np.arange(1, s["epochs"] + 1), s["curve_mean"], "--", lw=0.9,
                        color=cmap(i / max(len(Ts) - 1, 1)), alpha=0.8)
        if not any_:
            ax.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"'{mode}' updates ({data['dataset']}); dashed: 'rate' at the same T", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        if any_:
            ax.legend(fontsize=7)
    ax = axes[-1]
    any_ = False
    for mode, mk in (("stochastic", "o-"), ("coincidence", "s-"), ("rate", "k^--")):
        if mode not in data["series"]:
            continue
        pts = [(T, s["final_mean"], s["final_std"]) for T in Ts
               for s in [data["series"][mode][str(T)]] if s["finished"]]
        if pts:
            any_ = True
            x, y, e = zip(*pts)
            ax.errorbar(x, y, yerr=e, fmt=mk, capsize=3, label=mode)
    _log_T_axis(ax, Ts)
    ax.set_ylabel("final test accuracy (%)")
    ax.set_title("final accuracy vs T (mean +/- std over seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    if any_:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title or f"Fig. 6: learning with stochastic weight updates vs T ({data['dataset']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_fig78(data: dict, path, title: str = ""):
    """Final accuracy (mean +/- std) and its std over seeds vs T: noise vs stochastic (rate for reference)."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8), dpi=110)
    any_ = False
    labels = {"noise_emulated": f"noise, {data.get('fig8_base_steps', 50)}-step sim. with T's noise (Fig. 8)"}
    for mode, mk in (("stochastic", "o-"), ("noise", "s-"), ("noise_emulated", "v:"), ("rate", "k^--")):
        pts = [(int(T), s["final_mean"], s["final_std"], s["n_seeds"]) for T, s in data["series"].get(mode, {}).items()
               if s["finished"]]
        if not pts:
            continue
        any_ = True
        x, y, e, n = zip(*sorted(pts))
        a1.errorbar(x, y, yerr=e, fmt=mk, capsize=3, label=labels.get(mode, mode))
        multi = [(xi, ei) for xi, ei, ni in zip(x, e, n) if ni > 1]
        if multi:
            a2.plot(*zip(*multi), mk, label=labels.get(mode, mode))
    Ts = sorted({int(T) for per_T in data["series"].values() for T in per_T})
    for ax, yl in ((a1, "final test accuracy (%)"), (a2, "std over seeds (points)")):
        _log_T_axis(ax, Ts)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no finished run" if not any_ else "no result with >= 2 seeds yet",
                    ha="center", va="center", transform=ax.transAxes)
    a1.set_title("mean +/- std over seeds", fontsize=9)
    a2.set_title("stability (runs with >= 2 finished seeds)", fontsize=9)
    fig.suptitle(title or f"Fig. 7/8: 'noise' mode vs real 'stochastic' updates at equal T ({data['dataset']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_ablation(data: dict, path, title: str = ""):
    """Bar chart: final accuracy per variant and data set (only finished runs)."""
    plt = _plt()
    dss = sorted({r["dataset"] for r in data["rows"]})
    fig, axes = plt.subplots(1, len(dss), figsize=(4.6 * len(dss), 3.6), dpi=110, squeeze=False)
    for ax, ds in zip(axes[0], dss):
        rows = [r for r in data["rows"] if r["dataset"] == ds]
        fin = [r["final_mean"] for r in rows if r["finished"]]
        lo = min(fin) - 3 if fin else 0
        for i, r in enumerate(rows):
            if r["finished"]:
                ax.bar(i, r["final_mean"], yerr=r["final_std"] if r["n_seeds"] > 1 else None, capsize=3)
                ax.text(i, lo + 0.3, f"{r['final_mean']:.2f}\n(n={r['n_seeds']})", ha="center", va="bottom",
                        fontsize=7, color="white")
            else:
                ax.text(i, 0.5, "not\nrun", ha="center", va="bottom", fontsize=7, transform=ax.get_xaxis_transform())
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([f"{'WTA' if r['wta'] else 'no WTA'},\n{'dropout' if r['dropout'] else 'no dropout'}"
                            for r in rows], fontsize=7)
        if fin:
            ax.set_ylim(lo, min(100, max(fin) + 2))
        ax.set_ylabel("final test accuracy (%)")
        ax.set_title(ds, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or f"WTA / dropout ablation ('{data['mode']}' updates, T={data['steps']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
