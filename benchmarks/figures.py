"""Figures 4-8 of the paper and the WTA / dropout ablation, from real runs.

Subcommands (numbers go to benchmarks/results/, PNGs to benchmarks/figures/):

  fig4      runs the stochastic-multiplication experiment with the library's own
            rule for T in 10..5000 and writes fig4_stochastic_error.{json,csv,png}
  fig5      evaluates two run folders of 'ssnnbp train' (one --no-wta, one --wta)
            on the test set and writes fig5_output_distribution.{json,csv,png}
  fig6      collects accuracy_<ds>_{stochastic,coincidence,rate}_T<T>.json
            (benchmarks/accuracy.py) into fig6_stochastic_vs_T.{json,csv,png}
  fig78     collects 'noise' vs 'stochastic' results into fig78_noise_vs_stochastic.*
  ablation  collects the WTA x dropout variants (tags nowta, nodropout,
            nowta_nodropout) into ablation_wta_dropout.*
  launch    prints the benchmarks/accuracy.py command of every missing result
  report    refreshes fig6, fig78 and ablation and writes benchmarks/RESULTS.extra.md
            (appended to RESULTS.md by make_results.py) from whatever exists

The collectors never invent a point: only seeds that finished all epochs are
plotted; what is missing is listed, with the command that produces it.

Examples::

    python benchmarks/figures.py fig4
    python benchmarks/figures.py fig5 --run RUNS/mnist-nowta --run-wta RUNS/mnist-wta
    python benchmarks/figures.py launch --extra "--data-dir /work/shared/data --quiet"
    python benchmarks/figures.py report && python benchmarks/make_results.py
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing

from lava_ssnnbp import figures as F  # noqa: E402
from lava_ssnnbp.cli import int_list  # noqa: E402

RESULTS = HERE / "results"
FIGURES = HERE / "figures"
NAMES = {"fig4": "fig4_stochastic_error", "fig5": "fig5_output_distribution", "fig6": "fig6_stochastic_vs_T",
         "fig78": "fig78_noise_vs_stochastic", "ablation": "ablation_wta_dropout"}


def _machine():
    from lava_ssnnbp.result_files import machine_info
    return machine_info(load=False, affinity=sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None)


def _write_json(path: Path, obj):
    from lava_ssnnbp.result_files import write_result
    write_result(path, obj, show=None, default=_json_default, unchanged_but="written")   # a rerun does not churn the date


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


def _write_csv(path: Path, fields, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _paths(args, key, protocol="full"):
    name = _name(key, protocol)
    return Path(args.results) / f"{name}.json", Path(args.results) / f"{name}.csv", Path(args.figures) / f"{name}.png"


def _name(key, protocol="full") -> str:
    """File stem of a figure: its NAMES entry, plus '_<tag>' for a subset protocol."""
    return F.join_tag(NAMES[key], F.get_protocol(protocol).tag)


def _launch(args) -> dict:
    """Settings of the printed commands; epochs only where given (else the protocol's)."""
    out = {"seeds": args.seeds, "extra": args.extra}
    if args.epochs is not None:
        out["epochs"] = args.epochs
    return out


# ------------------------------------------------------------------ fig 4
def cmd_fig4(args) -> int:
    t0 = time.time()
    res = F.stochastic_multiplication_errors(F.FIG4_VALUES, args.steps, seed=args.seed, trials=args.trials)
    summary = F.fig4_summary(res)
    summary.update(wall_s=round(time.time() - t0, 2), machine=_machine(),
                   written=time.strftime("%Y-%m-%dT%H:%M:%S"), command=" ".join(sys.argv))
    js, cs, png = _paths(args, "fig4")
    _write_json(js, summary)
    _write_csv(cs, F.FIG4_CSV_FIELDS, summary["per_T"])
    F.plot_fig4(summary, png)
    print(f"{'T':>5} {'mean':>9} {'+-se':>8} {'std':>8} {'theory':>8} {'ratio':>6} {'noise-mode':>10} {'kurt(z)':>7}")
    for r in summary["per_T"]:
        print(f"{r['T']:5d} {r['mean']:9.5f} {r['mean_se']:8.5f} {r['std']:8.5f} {r['theory_std']:8.5f} "
              f"{r['std_ratio']:6.3f} {r['noise_mode_std']:10.5f} {r['kurtosis_standardised']:7.3f}")
    fit = summary["fit"]
    print(f"log-log slope {fit.get('slope', float('nan')):.4f} (ideal -0.5); c fitted {fit.get('c_fit', float('nan')):.4f} "
          f"vs theory {fit['c_theory']:.4f}; {summary['wall_s']} s")
    print(f"wrote {js}, {cs}, {png}")
    return 0


# ------------------------------------------------------------------ fig 5
def _load_run(path):
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.training import load_weights
    p = Path(path).expanduser()
    if not (p / "config.json").exists() or not (p / "weights.npz").exists():
        raise SystemExit(f"figures.py: error: {p} is not a finished 'ssnnbp train' run folder "
                         f"(needs config.json and weights.npz)")
    saved = json.loads((p / "config.json").read_text())
    if saved.get("run", {}).get("model") == "ann":
        raise SystemExit(f"figures.py: error: {p} holds an ANN run; Fig. 5 needs SSNN-BP runs")
    metrics = json.loads((p / "metrics.json").read_text())["epochs"] if (p / "metrics.json").exists() else []
    return p, SSNNConfig.from_dict(saved["model"]), load_weights(p / "weights.npz"), saved, metrics


def _run_info(p, cfg, saved, metrics):
    from lava_ssnnbp.data import DATASETS
    rs = saved.get("run", {})
    full = DATASETS.get(rs.get("dataset"), None)
    n_train = metrics[-1]["train_samples"] if metrics else None
    return {"folder": str(p), "dataset": rs.get("dataset"), "mode": cfg.mode, "steps": cfg.steps, "wta": cfg.wta,
            "dropout": list(cfg.dropout), "eta": cfg.eta, "batch_updates": rs.get("batch_updates"),
            "batch_size": rs.get("batch_size"), "seed": rs.get("seed", 0),
            "epochs_done": len(metrics), "epochs_planned": rs.get("epochs"), "train_samples": n_train,
            "full_train_set": bool(full and n_train == full.counts["train"]),
            "test_acc_during_training": metrics[-1]["test_acc"] if metrics else None,
            "test_samples_during_training": metrics[-1]["test_samples"] if metrics else None,
            "train_wall_s": round(sum(m["train_wall_s"] for m in metrics), 1) if metrics else None,
            "sizes": list(cfg.sizes)}


def cmd_fig5(args) -> int:
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import accuracy_from_counts, evaluate_counts
    p_raw, cfg_raw, w_raw, s_raw, m_raw = _load_run(args.run)
    p_wta, cfg_wta, w_wta, s_wta, m_wta = _load_run(args.run_wta)
    if cfg_raw.wta or not cfg_wta.wta:
        raise SystemExit(f"figures.py: error: --run must be trained --no-wta and --run-wta with --wta "
                         f"(got wta={cfg_raw.wta} and wta={cfg_wta.wta})")
    if cfg_raw.sizes != cfg_wta.sizes:
        raise SystemExit(f"figures.py: error: the runs have different networks {cfg_raw.sizes} vs {cfg_wta.sizes}")
    name = args.dataset or s_raw.get("run", {}).get("dataset") or "mnist"
    data_dir = args.data_dir or s_raw.get("run", {}).get("data_dir")
    test = load_dataset(name, "test", data_dir)
    n_full = len(test)
    if args.test_samples:
        test = test.subset(args.test_samples, 0)
    t0 = time.time()
    seed_r, seed_w = s_raw.get("run", {}).get("seed", 0), s_wta.get("run", {}).get("seed", 0)
    kw = dict(batch_size=args.batch_size, progress=False)
    raw = evaluate_counts(cfg_raw, w_raw, test.x, seed_r, **kw)
    wta = evaluate_counts(cfg_wta, w_wta, test.x, seed_w, **kw)
    off = evaluate_counts(cfg_wta.replace(wta=False), w_wta, test.x, seed_w, **kw)
    wall = time.time() - t0
    readings = {"same_weights": F.output_distributions(off, wta, args.temperature),
                "separate_nets": F.output_distributions(raw, wta, args.temperature)}
    info_raw, info_wta = _run_info(p_raw, cfg_raw, s_raw, m_raw), _run_info(p_wta, cfg_wta, s_wta, m_wta)
    short = not (info_raw["full_train_set"] and info_wta["full_train_set"]) or len(test) < n_full
    tr = {i["train_samples"] for i in (info_raw, info_wta)}
    ep = {i["epochs_done"] for i in (info_raw, info_wta)}
    label = (f"{'SUBSET / SHORT PROOF RUNS: ' if short else ''}{name} test set, {len(test)} of {n_full} samples; "
             f"nets trained on {'/'.join(map(str, sorted(tr)))} samples for {'/'.join(map(str, sorted(ep)))} "
             f"epoch(s), T={cfg_raw.steps}, '{cfg_raw.mode}' updates" + (f"; {args.label}" if args.label else ""))
    data = {
        "figure": "Fig. 5: sorted, normalised output distribution", "label": label, "subset_or_short": short,
        "dataset": name, "test_samples": len(test), "test_samples_full": n_full,
        "normalisation": ("per test sample: output spike counts sorted descending and divided by their sum "
                          "(samples with no output spike left out), then averaged over samples"),
        "softmax": (f"softmax(raw counts / {args.temperature:g}) per sample, sorted, averaged over the same samples "
                    "as 'raw': temperature in output spikes, i.e. at 1 the raw spike counts are the logits; "
                    "'softmax_temperature_matching_wta' is the temperature (least squares) that best reproduces "
                    "the WTA curve, a description rather than a prediction"),
        "readings": readings,
        "reading_descriptions": {
            "same_weights": "raw = the WTA-trained net with lateral inhibition switched off at test; wta = the same "
                            "weights with inhibition (the paper: 'softmax outputs on the same raw spiking output "
                            "(without inhibitory lateral connections)')",
            "separate_nets": "raw = a second net trained and run without WTA (MSE-like loss); wta = the WTA net"},
        "accuracy": {"raw_no_wta_net": accuracy_from_counts(raw, test.y), "wta": accuracy_from_counts(wta, test.y),
                     "wta_weights_inhibition_off": accuracy_from_counts(off, test.y)},
        "mean_output_spikes": {"raw_no_wta_net": float(raw.sum(1).mean()), "wta": float(wta.sum(1).mean()),
                               "wta_weights_inhibition_off": float(off.sum(1).mean())},
        "runs": {"no_wta": info_raw, "wta": info_wta},
        "eval_wall_s": round(wall, 1), "machine": _machine(), "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": " ".join(sys.argv),
    }
    js, cs, png = _paths(args, "fig5")
    _write_json(js, data)
    curves = {}
    for key, d in readings.items():
        for k, v in d["curves"].items():
            curves[f"{key}:{k}"] = v
        if "softmax_temperature_matching_wta" in d:
            curves[f"{key}:softmax_fitted"] = d["softmax_temperature_matching_wta"]["curve"]
    C = len(readings["same_weights"]["curves"]["raw"])
    _write_csv(cs, ["rank", *curves], [{"rank": i + 1, **{k: v[i] for k, v in curves.items()}} for i in range(C)])
    F.plot_fig5(data, png, title="Fig. 5 -- " + label)
    print(label)
    for k, v in curves.items():
        print(f"  {k:30s} " + " ".join(f"{x:.3f}" for x in v))
    for key, d in readings.items():
        fit = d.get("softmax_temperature_matching_wta")
        if fit:
            print(f"  {key}: softmax temperature matching WTA {fit['temperature_spikes']:.3g} spikes "
                  f"(rms {fit['rms_distance']:.4f})")
    print("  accuracy: " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in data["accuracy"].items())
          + f"; eval {wall:.1f} s")
    print(f"wrote {js}, {cs}, {png}")
    return 0


# ------------------------------------------------------------------ collectors
def _print_missing(missing, problems=()):
    for p in problems:
        print(f"  problem: {p}")
    if not missing:
        print("  nothing missing")
        return
    print(f"  missing ({len(missing)}); commands to launch them:")
    for m in missing:
        print(f"    # {m['name']}: {m['status']}")
        print(f"    {m['command']}")


def _collect(args):
    records, problems = F.load_accuracy_results(args.results)
    return records, problems


def cmd_fig6(args, quiet=False, protocol=None) -> dict:
    records, problems = _collect(args)
    protocol = protocol or args.protocol
    data = F.fig6_data(records, args.dataset, args.steps, F.FIG6_MODES, _launch(args), protocol)
    data.update(problems=problems, written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    js, cs, png = _paths(args, "fig6", protocol)
    _write_json(js, data)
    rows = []
    for mode, per_T in data["series"].items():
        for T, s in per_T.items():
            if s["finished"]:
                for e, (m, sd) in enumerate(zip(s["curve_mean"], s["curve_std"]), 1):
                    rows.append({"mode": mode, "T": T, "epoch": e, "n_seeds": s["n_seeds"], "test_acc_mean": m,
                                 "test_acc_std": sd})
    _write_csv(cs, ["mode", "T", "epoch", "n_seeds", "test_acc_mean", "test_acc_std"], rows)
    F.plot_fig6(data, png)
    if not quiet:
        print(f"fig6 ({args.dataset}, {data['protocol_label']}): {sum(s['finished'] for v in data['series'].values() for s in v.values())} "
              f"finished results; wrote {js}, {cs}, {png}")
        _print_missing(data["missing"], problems)
    return data


def _final_rows(series):
    rows = []
    for mode, per_T in series.items():
        for T, s in per_T.items():
            if s["finished"]:
                rows.append({"mode": mode, "T": T, "n_seeds": s["n_seeds"], "epochs": s["epochs"],
                             "final_mean": s["final_mean"], "final_std": s["final_std"],
                             "per_seed": " ".join(f"{a:.2f}" for a in s["final_per_seed"])})
    return rows


def cmd_fig78(args, quiet=False, protocol=None) -> dict:
    records, problems = _collect(args)
    protocol = protocol or args.protocol
    data = F.fig78_data(records, args.dataset, args.steps, _launch(args), protocol=protocol)
    data.update(problems=problems + data["problems"], written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    js, cs, png = _paths(args, "fig78", protocol)
    _write_json(js, data)
    _write_csv(cs, ["mode", "T", "n_seeds", "epochs", "final_mean", "final_std", "per_seed"], _final_rows(data["series"]))
    F.plot_fig78(data, png)
    if not quiet:
        print(f"fig78 ({args.dataset}, {data['protocol_label']}): wrote {js}, {cs}, {png}")
        _print_missing(data["missing"], data["problems"])
    return data


def cmd_ablation(args, quiet=False, protocol=None) -> dict:
    records, problems = _collect(args)
    protocol = protocol or args.protocol
    data = F.ablation_data(records, args.datasets, args.mode, args.T, _launch(args), protocol)
    data.update(problems=problems + data["problems"], written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    js, cs, png = _paths(args, "ablation", protocol)
    _write_json(js, data)
    _write_csv(cs, ["dataset", "variant", "tag", "n_seeds", "epochs", "final_mean", "final_std", "paper_emnist"],
               data["rows"])
    F.plot_ablation(data, png)
    if not quiet:
        print(f"ablation ('{args.mode}', T={args.T}, {data['protocol_label']}): wrote {js}, {cs}, {png}")
        _print_missing(data["missing"], data["problems"])
    return data


def cmd_launch(args) -> int:
    records, _ = _collect(args)
    seen, out = set(), []
    p, L = args.protocol, _launch(args)
    groups = [("Fig. 6", F.fig6_data(records, args.dataset, args.steps, F.FIG6_MODES, L, p)["missing"]),
              ("Fig. 7/8", F.fig78_data(records, args.dataset, args.steps, L, protocol=p)["missing"]),
              ("ablation", F.ablation_data(records, args.datasets, args.mode, args.T, L, p)["missing"])]
    out.append(f"# protocol '{p}': {F.get_protocol(p).label}")
    for title, missing in groups:
        new = [m for m in missing if m["name"] not in seen]
        seen.update(m["name"] for m in new)
        out.append(f"# {title}: {len(new)} missing" + (" (plus those shared with Fig. 6)" if len(new) < len(missing) else ""))
        for m in new:
            out.append(f"# {m['name']}: {m['status']}")
            out.append(m["command"])
    runs = Path(os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs")) / "bench"
    tok = args.extra.split()
    dd = f" --data-dir {tok[tok.index('--data-dir') + 1]}" if "--data-dir" in tok[:-1] else ""
    out += ["# Fig. 5 from full runs, once the ablation's mnist runs have finished (seed 0 of each):",
            f"python benchmarks/figures.py fig5 --run {runs}/{args.dataset}_{args.mode}_T{args.T}_"
            f"{F.join_tag(F.get_protocol(p).tag, 'nowta')}_seed0 "
            f"--run-wta {runs}/{F.join_tag(f'{args.dataset}_{args.mode}_T{args.T}', F.get_protocol(p).tag)}_seed0{dd}"]
    print("\n".join(out))
    return 0


# ------------------------------------------------------------------ report
def _md_fig4(args) -> list:
    js = _paths(args, "fig4")[0]
    out = ["### Fig. 4: error of the stochastic multiplication", ""]
    if not js.exists():
        return out + ["Not yet run (`python benchmarks/figures.py fig4`).", ""]
    d = json.loads(js.read_text())
    rows, fit = d["per_T"], d["fit"]
    out += [f"All {d['n_pairs']} products a*b of [0, 0.02, ..., 0.98], each estimated {rows[0]['trials']} times by the "
            "library's own rule (`dynamics.stochastic_numerator`: coincidences of independent Bernoulli(a) and "
            "Bernoulli(b) trains of T steps, divided by T); error = estimate - a*b. Theory: the estimate is the mean "
            "of T Bernoulli(ab) draws, std sqrt(ab(1-ab)/T) per pair, pooled over the grid "
            f"{fit['c_theory']:.4f}/sqrt(T). 'noise-mode std' is what `noise` mode adds "
            "(`dynamics.stochastic_noise_std`, in product units). Standard errors of the mean come from per-trial "
            "means (one presynaptic train is shared by a row of synapses, as in the network). "
            f"Wall time {d['wall_s']} s on one core.", "",
            "| T | errors | mean error (+/- s.e.) | std measured | std theory | ratio | noise-mode std | "
            "excess kurtosis, pooled | excess kurtosis, per-pair standardised |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['T']} | {r['n_errors']} | {r['mean']:+.5f} +/- {r['mean_se']:.5f} | {r['std']:.5f} | "
                   f"{r['theory_std']:.5f} | {r['std_ratio']:.3f} | {r['noise_mode_std']:.5f} | "
                   f"{r['kurtosis_pooled']:.2f} | {r['kurtosis_standardised']:.2f} |")
    zmax = max(abs(r["mean"]) / r["mean_se"] for r in rows)
    kz = ", ".join(f"{r['kurtosis_standardised']:.2f}" for r in rows if r["T"] >= 100)
    rat = [r["std_ratio"] for r in rows]
    v = np.asarray(d["values"])
    zero_pairs = 1.0 - np.mean(np.outer(v, v) > 0)
    slope_ok = abs(fit["slope"] + 0.5) < 0.02
    ratio_ok = all(abs(x - 1) < 0.05 for x in rat)
    out += ["", "![Fig. 4](figures/fig4_stochastic_error.png)", "",
            f"**Found:** the error is {'zero-mean' if zmax < 3 else 'NOT zero-mean'} (largest |mean|/s.e. over T: "
            f"{zmax:.1f}) and its std {'follows' if slope_ok and ratio_ok else 'deviates from'} 1/sqrt(T): the "
            f"log-log slope is {fit['slope']:.3f} (ideal -0.5), measured/theory std ratios {min(rat):.3f}-{max(rat):.3f}; "
            "`noise` mode's Gaussian has the theoretical std by construction, so at equal T it matches the measured "
            f"error to within these ratios. Per pair the error approaches a Gaussian as T grows (standardised excess "
            f"kurtosis {kz} for T >= 100; {rows[0]['kurtosis_standardised']:.2f} at T = {rows[0]['T']}, where the "
            "counts are few and discrete). Pooled over the grid it is a mixture of normals of different widths "
            f"(pooled excess kurtosis about {np.mean([r['kurtosis_pooled'] for r in rows]):.1f}, plus a point mass "
            f"at 0 from the {100 * zero_pairs:.1f}% of pairs with a = 0 or b = 0), so the paper's 'additive "
            "zero-mean Gaussian' describes each synapse's error, not the pooled histogram.", ""]
    return out


def _md_fig5(args) -> list:
    js = _paths(args, "fig5")[0]
    out = ["### Fig. 5: output distribution, raw vs softmax vs WTA", ""]
    if not js.exists():
        return out + ["Not yet run (`python benchmarks/figures.py fig5 --run RUN_NO_WTA --run-wta RUN_WTA`).", ""]
    d = json.loads(js.read_text())
    runs, acc, spk = d["runs"], d["accuracy"], d["mean_output_spikes"]
    out += [f"**{d['label']}.**" if d["subset_or_short"] else d["label"] + ".", "",
            f"Runs: no-WTA `{runs['no_wta']['folder']}`, WTA `{runs['wta']['folder']}` "
            f"(eta {runs['wta']['eta']}, {runs['wta']['batch_updates']} B={runs['wta']['batch_size']}; training "
            f"{runs['no_wta']['train_wall_s']} s and {runs['wta']['train_wall_s']} s); test-set evaluation of the "
            f"three outputs {d['eval_wall_s']} s. Normalisation: {d['normalisation']}. Softmax: {d['softmax']}.", "",
            "Two readings of 'raw spiking output': (a) " + d["reading_descriptions"]["same_weights"] + "; (b) "
            + d["reading_descriptions"]["separate_nets"] + ".", "",
            "| reading | curve | shares of ranks 1 / 2 / 3 | test acc. % | mean output spikes |", "|---|---|---|---|---|"]
    src = {"same_weights": ("wta_weights_inhibition_off", "wta"), "separate_nets": ("raw_no_wta_net", "wta")}
    found = []
    for key, (rk, wk) in src.items():
        r = d["readings"][key]
        c, fit = r["curves"], r.get("softmax_temperature_matching_wta")
        rows = [("raw", c["raw"], acc[rk], spk[rk]),
                (f"softmax(raw / {r['temperature_spikes']:g} spike)", c["softmax"], None, None)]
        if fit:
            rows.append((f"softmax(raw / {fit['temperature_spikes']:.2g} spikes), fitted to WTA", fit["curve"], None, None))
        rows.append(("WTA", c["wta"], acc[wk], spk[wk]))
        tag = "(a)" if key == "same_weights" else "(b)"
        for name, cur, a, sp in rows:
            out.append(f"| {tag} | {name} | {cur[0]:.3f} / {cur[1]:.3f} / {cur[2]:.3f} | "
                       f"{'' if a is None else f'{100 * a:.2f}'} | {'' if sp is None else f'{sp:.1f}'} |")
        found.append(f"{tag} top-1 share raw {c['raw'][0]:.3f}, softmax(T=1 spike) {c['softmax'][0]:.3f}, "
                     f"WTA {c['wta'][0]:.3f}" + (f"; the softmax temperature closest to WTA is "
                                                  f"{fit['temperature_spikes']:.2g} spikes (rms {fit['rms_distance']:.3f})"
                                                  if fit else ""))
    out += ["", "![Fig. 5](figures/fig5_output_distribution.png)", "",
            f"**Found (from these {'short proof runs' if d['subset_or_short'] else 'runs'}):** " + "; ".join(found)
            + ". Whether softmax 'looks like' WTA depends on its temperature, which the paper does not state; "
              "with the raw counts as logits it is sharper than WTA, and no temperature reproduces WTA's tail "
              "(softmax gives every silent neuron the same non-zero share).", ""]
    return out


def _fmt_stat(s):
    if not s["finished"]:
        return "not yet run"
    sd = f" +/- {s['final_std']:.2f}" if s["n_seeds"] > 1 else ""
    return f"{s['final_mean']:.2f}{sd} (n={s['n_seeds']}, {s['epochs']} ep.)"


def _wall(s):
    if not s["finished"] or not s["wall_s_per_seed"]:
        return ""
    w = float(np.mean(list(s["wall_s_per_seed"].values())))
    return f"{w / 3600:.1f} h/seed" if w >= 3600 else f"{w / 60:.0f} min/seed"


def _settings(s):
    if not s["finished"]:
        return ""
    st = s["settings"]
    sub = f", {st['train_samples']} train (subset)" if st["train_samples"] and st["train_samples"] < 60000 else ""
    return f"{st['batch_updates']} B={st['batch_size']}, eta {st['eta']}{sub}"


def _heading(title, d) -> str:
    return f"### {title} ({d['protocol_label']})"


def _img(key, d, alt) -> str:
    return f"![{alt}](figures/{_name(key, d['protocol'])}.png)"


def _protocol_line(d) -> str:
    p = F.get_protocol(d["protocol"])
    return (f"**{p.label}** (result files tagged `{p.tag}`, commands with `{' '.join(p.flags)}`): "
            "a cheaper protocol than the paper's, for the comparison across T; not comparable with full-data "
            "numbers. " if p.tag else "")


def _found(d, pairs) -> list:
    """'Found:' lines: each pair of modes compared at every T where both finished."""
    lines = []
    for a, b in pairs:
        diffs = F.mode_differences(d["series"], a, b, d["steps"])
        if diffs:
            lines.append(f"`{a}` - `{b}`: " + "; ".join(
                f"T = {x['T']}: {x['diff']:+.2f} +/- {x['se']:.2f}{' (within noise)' if x['within_noise'] else ''}"
                for x in diffs))
    if not lines:
        return []
    return ["**Found** (difference of final accuracies in points, +/- one standard error: from the seeds where "
            "both have >= 2, else the test set's binomial error; 'within noise' = less than 2 s.e.): "
            + ". ".join(lines) + ".", ""]


def _md_fig6(d) -> list:
    tag = F.get_protocol(d["protocol"]).tag
    out = [_heading("Fig. 6: learning with stochastic (and coincidence) updates vs T", d), "",
           f"{_protocol_line(d)}{d['dataset']}, final test accuracy % (mean +/- std over finished seeds). "
           f"Generated from `benchmarks/results/accuracy_<dataset>_<mode>_T<T>{'_' + tag if tag else ''}.json`.", "",
           "| T | " + " | ".join(d["modes"]) + " | settings | wall time |", "|---" * (len(d["modes"]) + 3) + "|"]
    any_ = False
    for T in d["steps"]:
        ss = [d["series"][m][str(T)] for m in d["modes"]]
        any_ |= any(s["finished"] for s in ss)
        fin = next((s for s in ss if s["finished"]), None)
        out.append(f"| {T} | " + " | ".join(_fmt_stat(s) for s in ss) + f" | {_settings(fin) if fin else ''} | "
                   + ", ".join(f"{m} {_wall(s)}" for m, s in zip(d["modes"], ss) if s["finished"]) + " |")
    out += ["", _img("fig6", d, "Fig. 6") if any_ else
            "Figure: not yet run (no finished result).", ""]
    out += _found(d, (("stochastic", "rate"), ("coincidence", "rate")))
    if d["missing"]:
        out += [f"Not yet run, unfinished or short of seeds: {', '.join(m['name'] for m in d['missing'])} "
                f"(`python benchmarks/figures.py launch --protocol {d['protocol']}` prints the commands).", ""]
    return out


def _md_fig78(d) -> list:
    modes = ("stochastic", "noise", "rate")
    out = [_heading("Fig. 7/8: `noise` mode vs real `stochastic` updates at equal T", d), "",
           f"{_protocol_line(d)}{d['dataset']}, final test accuracy % (mean +/- std over finished seeds). {d['note']}",
           "",
           "| T | stochastic | noise | rate (reference) |", "|---|---|---|---|"]
    any_ = False
    for T in d["steps"]:
        ss = [d["series"][m][str(T)] for m in modes]
        any_ |= any(s["finished"] for s in ss)
        out.append(f"| {T} | " + " | ".join(_fmt_stat(s) for s in ss) + " |")
    emu = d["series"].get("noise_emulated", {})
    any_ |= any(s["finished"] for s in emu.values())
    out += ["", _img("fig78", d, "Fig. 7/8") if any_ else
            "Figure: not yet run (no finished result).", ""]
    out += _found(d, (("noise", "stochastic"),))
    base = d.get("fig8_base_steps", 50)
    out += [f"Fig. 8 (the paper's emulation of long T): `noise` mode simulated at T = {base} with the noise of "
            f"T_s steps (`--noise-steps T_s`, results tagged `{F.join_tag(F.get_protocol(d['protocol']).tag, 'emuT')}"
            "<T_s>`):", "",
            "| T_s | noise at T = " + str(base) + " with T_s's noise |", "|---|---|"]
    out += [f"| {Ts} | {_fmt_stat(s)} |" for Ts, s in emu.items()] + [""]
    for p in d.get("problems", []):
        out.append(f"- problem: {p}")
    if d["missing"]:
        out += [f"Not yet run, unfinished or short of seeds: {', '.join(m['name'] for m in d['missing'])}.", ""]
    return out


def _md_ablation(d) -> list:
    out = [_heading("Ablation: WTA and dropout", d), "",
           f"{_protocol_line(d)}'{d['mode']}' updates, T={d['steps']}; final test accuracy % "
           "(mean +/- std over finished seeds). "
           "Paper (EMNIST balanced): MSE 81.26 -> MSE + dropout 84.48 -> WTA + dropout 85.76.", "",
           "| data set | variant | tag | ours | paper (EMNIST) | wall time |", "|---|---|---|---|---|---|"]
    any_ = False
    for r in d["rows"]:
        any_ |= r["finished"]
        pe = f"{r['paper_emnist']:.2f}" if r["paper_emnist"] is not None else "-"
        out.append(f"| {r['dataset']} | {r['variant']} | {r['tag'] or '(none)'} | {_fmt_stat(r)} | {pe} | {_wall(r)} |")
    out += ["", _img("ablation", d, "ablation") if any_ else "Figure: not yet run (no finished result).", ""]
    diffs = F.ablation_differences(d["rows"])
    if diffs:
        out += ["**Found** (each variant minus WTA + dropout on the same data set, points +/- one standard error; "
                "'within noise' = less than 2 s.e.): " + "; ".join(
                    f"{x['dataset']} {x['variant']}: {x['diff']:+.2f} +/- {x['se']:.2f}"
                    f"{' (within noise)' if x['within_noise'] else ''}" for x in diffs) + ".", ""]
    for p in d.get("problems", []):
        out.append(f"- problem: {p}")
    return out


def _any_finished(d) -> bool:
    rows = d.get("rows") or [s for per_T in d["series"].values() for s in per_T.values()]
    return any(s["finished"] for s in rows)


def cmd_report(args) -> int:
    """Fig. 4/5 and, per protocol, Figs. 6-8 and the ablation (a subset protocol
    only where it has a finished result: the full-data tables always appear)."""
    out = ["## Stochastic spike-coincidence learning vs T (paper Figs. 4-8) and the WTA / dropout ablation", "",
           "Generated by `python benchmarks/figures.py report` from the files in `benchmarks/results/`; only "
           "finished runs appear, everything else says so. Each table's **Found** line states the differences "
           "its runs show; what they add up to (does stochastic learning reach the rate rule, at which T, does "
           "the noise model predict it, why the on-chip rule stays below) is written out in "
           "[`docs/findings.md`](../docs/findings.md), 'Stochastic learning vs T'.", ""]
    out += _md_fig4(args) + _md_fig5(args)
    for name in F.PROTOCOLS:
        ds = (cmd_fig6(args, True, name), cmd_fig78(args, True, name), cmd_ablation(args, True, name))
        if name == "full" or any(_any_finished(d) for d in ds):
            out += _md_fig6(ds[0]) + _md_fig78(ds[1]) + _md_ablation(ds[2])
    dest = Path(args.output)
    dest.write_text("\n".join(out).rstrip() + "\n")
    print(f"wrote {dest}")
    return 0


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=str(RESULTS), help="folder of the JSON/CSV results (default: %(default)s)")
    ap.add_argument("--figures", default=str(FIGURES), help="folder of the PNGs (default: %(default)s)")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")

    p4 = sub.add_parser("fig4", help="run the stochastic-multiplication error experiment")
    p4.add_argument("--steps", type=int_list, default=F.FIG4_STEPS, help="T values (default: 10,50,100,200,500,1000,5000)")
    p4.add_argument("--trials", type=int, default=200, help="estimates of each product per T (default: %(default)s)")
    p4.add_argument("--seed", type=int, default=0)

    p5 = sub.add_parser("fig5", help="output distribution of a no-WTA and a WTA run on the test set")
    p5.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder trained with --no-wta")
    p5.add_argument("--run-wta", required=True, metavar="RUN_DIR", help="run folder trained with --wta")
    p5.add_argument("--dataset", default=None, help="data set (default: the runs')")
    p5.add_argument("--data-dir", default=None)
    p5.add_argument("--test-samples", type=int, default=None, help="class-balanced test subset (default: all)")
    p5.add_argument("--temperature", type=float, default=1.0,
                    help="softmax temperature in output spikes; 1 = raw counts as logits (default: %(default)s)")
    p5.add_argument("--batch-size", type=int, default=256)
    p5.add_argument("--label", default="", help="extra text for the title and the JSON label")

    def launch_opts(p):
        g = p.add_argument_group("commands printed for missing results")
        g.add_argument("--seeds", default="0,1,2", help="(default: %(default)s)")
        g.add_argument("--epochs", type=int, default=None,
                       help="(default: the protocol's: 20 for 'full', as the paper's Fig. 7b; 3 for 'sub10k')")
        g.add_argument("--extra", default="", help="appended to each command, e.g. \"--data-dir DIR --quiet\" (the "
                                                   "protocol's training settings are always there)")

    def fig_opts(p):
        p.add_argument("--dataset", default="mnist", help="(default: %(default)s)")
        p.add_argument("--steps", type=int_list, default=F.FIG6_STEPS, help="T values (default: 50,100,200,500,1000)")

    def abl_opts(p):
        p.add_argument("--datasets", type=lambda s: tuple(s.split(",")), default=F.ABLATION_DATASETS,
                       help="(default: fashion-mnist,mnist)")
        p.add_argument("--mode", default="rate", help="update rule of the ablation runs (default: %(default)s)")
        p.add_argument("-T", type=int, default=F.ABLATION_STEPS,
                       help="T of the ablation runs (default: %(default)s, the T of the main accuracy runs)")

    def proto_opts(p):
        p.add_argument("--protocol", choices=sorted(F.PROTOCOLS), default="full",
                       help="which runs: 'full' (full data, 20 epochs) or 'sub10k' (10,000 training / 2,000 test "
                            "images, 3 epochs; result files tagged sub10k) (default: %(default)s)")

    p6 = sub.add_parser("fig6", help="collect stochastic / coincidence / rate accuracy vs T")
    fig_opts(p6), proto_opts(p6), launch_opts(p6)
    p78 = sub.add_parser("fig78", help="collect noise vs stochastic accuracy vs T")
    fig_opts(p78), proto_opts(p78), launch_opts(p78)
    pab = sub.add_parser("ablation", help="collect the WTA x dropout ablation")
    abl_opts(pab), proto_opts(pab), launch_opts(pab)
    pl = sub.add_parser("launch", help="print the commands of all missing results")
    fig_opts(pl), abl_opts(pl), proto_opts(pl), launch_opts(pl)
    pr = sub.add_parser("report", help="refresh the collected figures of every protocol and write RESULTS.extra.md")
    fig_opts(pr), abl_opts(pr), launch_opts(pr)
    pr.add_argument("--output", default=str(HERE / "RESULTS.extra.md"), help="(default: %(default)s)")

    args = ap.parse_args(argv)
    if args.cmd is None:
        ap.print_help()
        return 2
    fn = {"fig4": cmd_fig4, "fig5": cmd_fig5, "fig6": cmd_fig6, "fig78": cmd_fig78, "ablation": cmd_ablation,
          "launch": cmd_launch, "report": cmd_report}[args.cmd]
    rc = fn(args)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
