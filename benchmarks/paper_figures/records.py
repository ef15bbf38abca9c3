"""Figs. 6-8 of the paper and the WTA / dropout ablation, collected from the
accuracy results of ``benchmarks/accuracy.py``.

Fig. 6 -- test accuracy per epoch for ``stochastic`` (and ``coincidence``)
updates at several T, next to ``rate``; Fig. 7/8 -- ``noise`` mode against real
``stochastic`` at equal T; ablation -- WTA and dropout on/off. All three only
*collect* the JSON files written by ``benchmarks/accuracy.py``
(``accuracy_<dataset>_<mode>_T<T>[_<tag>].json``); nothing is plotted that did
not finish, and what is missing is listed with the command that runs it. The
protocols say how the runs behind them train.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks.result_files import seed_std

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
    parts = ["python -m benchmarks.accuracy", f"--dataset {dataset}", f"--mode {mode}", f"--steps {steps}",
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
