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

    python -m benchmarks.figures fig4
    python -m benchmarks.figures fig5 --run RUNS/mnist-nowta --run-wta RUNS/mnist-wta
    python -m benchmarks.figures launch --extra "--data-dir /work/shared/data --quiet"
    python -m benchmarks.figures report && python -m benchmarks.make_results
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

from benchmarks.paper_figures import fig4, fig5, plots, report
from benchmarks.paper_figures import records as R
from benchmarks.result_files import machine_info, rerun_command, write_result
from lava_ssnnbp.cli import int_list

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FIGURES = HERE / "figures"


def _machine():
    return machine_info(load=False, affinity=sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None)


def _write_json(path: Path, obj):
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
    name = report.figure_name(key, protocol)
    return Path(args.results) / f"{name}.json", Path(args.results) / f"{name}.csv", Path(args.figures) / f"{name}.png"


def _launch(args) -> dict:
    """Settings of the printed commands; epochs only where given (else the protocol's)."""
    out = {"seeds": args.seeds, "extra": args.extra}
    if args.epochs is not None:
        out["epochs"] = args.epochs
    return out


# ------------------------------------------------------------------ fig 4
def cmd_fig4(args) -> int:
    t0 = time.time()
    res = fig4.stochastic_multiplication_errors(fig4.FIG4_VALUES, args.steps, seed=args.seed, trials=args.trials)
    summary = fig4.fig4_summary(res)
    summary.update(wall_s=round(time.time() - t0, 2), machine=_machine(),
                   written=time.strftime("%Y-%m-%dT%H:%M:%S"), command=args.command)
    js, cs, png = _paths(args, "fig4")
    _write_json(js, summary)
    _write_csv(cs, fig4.FIG4_CSV_FIELDS, summary["per_T"])
    plots.plot_fig4(summary, png)
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
    readings = {"same_weights": fig5.output_distributions(off, wta, args.temperature),
                "separate_nets": fig5.output_distributions(raw, wta, args.temperature)}
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
        "command": args.command,
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
    plots.plot_fig5(data, png, title="Fig. 5 -- " + label)
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
    records, problems = R.load_accuracy_results(args.results)
    return records, problems


def cmd_fig6(args, quiet=False, protocol=None) -> dict:
    records, problems = _collect(args)
    protocol = protocol or args.protocol
    data = R.fig6_data(records, args.dataset, args.steps, R.FIG6_MODES, _launch(args), protocol)
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
    plots.plot_fig6(data, png)
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
    data = R.fig78_data(records, args.dataset, args.steps, _launch(args), protocol=protocol)
    data.update(problems=problems + data["problems"], written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    js, cs, png = _paths(args, "fig78", protocol)
    _write_json(js, data)
    _write_csv(cs, ["mode", "T", "n_seeds", "epochs", "final_mean", "final_std", "per_seed"], _final_rows(data["series"]))
    plots.plot_fig78(data, png)
    if not quiet:
        print(f"fig78 ({args.dataset}, {data['protocol_label']}): wrote {js}, {cs}, {png}")
        _print_missing(data["missing"], data["problems"])
    return data


def cmd_ablation(args, quiet=False, protocol=None) -> dict:
    records, problems = _collect(args)
    protocol = protocol or args.protocol
    data = R.ablation_data(records, args.datasets, args.mode, args.T, _launch(args), protocol)
    data.update(problems=problems + data["problems"], written=time.strftime("%Y-%m-%dT%H:%M:%S"))
    js, cs, png = _paths(args, "ablation", protocol)
    _write_json(js, data)
    _write_csv(cs, ["dataset", "variant", "tag", "n_seeds", "epochs", "final_mean", "final_std", "paper_emnist"],
               data["rows"])
    plots.plot_ablation(data, png)
    if not quiet:
        print(f"ablation ('{args.mode}', T={args.T}, {data['protocol_label']}): wrote {js}, {cs}, {png}")
        _print_missing(data["missing"], data["problems"])
    return data


def cmd_launch(args) -> int:
    records, _ = _collect(args)
    seen, out = set(), []
    p, L = args.protocol, _launch(args)
    groups = [("Fig. 6", R.fig6_data(records, args.dataset, args.steps, R.FIG6_MODES, L, p)["missing"]),
              ("Fig. 7/8", R.fig78_data(records, args.dataset, args.steps, L, protocol=p)["missing"]),
              ("ablation", R.ablation_data(records, args.datasets, args.mode, args.T, L, p)["missing"])]
    out.append(f"# protocol '{p}': {R.get_protocol(p).label}")
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
            f"python -m benchmarks.figures fig5 --run {runs}/{args.dataset}_{args.mode}_T{args.T}_"
            f"{R.join_tag(R.get_protocol(p).tag, 'nowta')}_seed0 "
            f"--run-wta {runs}/{R.join_tag(f'{args.dataset}_{args.mode}_T{args.T}', R.get_protocol(p).tag)}_seed0{dd}"]
    print("\n".join(out))
    return 0



def cmd_report(args) -> int:
    """Fig. 4/5 and, per protocol, Figs. 6-8 and the ablation (a subset protocol
    only where it has a finished result: the full-data tables always appear)."""
    out = report.HEADER + report.fig4_section(_paths(args, "fig4")[0]) + report.fig5_section(_paths(args, "fig5")[0])
    for name in R.PROTOCOLS:
        ds = (cmd_fig6(args, True, name), cmd_fig78(args, True, name), cmd_ablation(args, True, name))
        if name == "full" or any(report.any_finished(d) for d in ds):
            out += report.fig6_section(ds[0]) + report.fig78_section(ds[1]) + report.ablation_section(ds[2])
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
    p4.add_argument("--steps", type=int_list, default=fig4.FIG4_STEPS, help="T values (default: 10,50,100,200,500,1000,5000)")
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
        p.add_argument("--steps", type=int_list, default=R.FIG6_STEPS, help="T values (default: 50,100,200,500,1000)")

    def abl_opts(p):
        p.add_argument("--datasets", type=lambda s: tuple(s.split(",")), default=R.ABLATION_DATASETS,
                       help="(default: fashion-mnist,mnist)")
        p.add_argument("--mode", default="rate", help="update rule of the ablation runs (default: %(default)s)")
        p.add_argument("-T", type=int, default=R.ABLATION_STEPS,
                       help="T of the ablation runs (default: %(default)s, the T of the main accuracy runs)")

    def proto_opts(p):
        p.add_argument("--protocol", choices=sorted(R.PROTOCOLS), default="full",
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
    args.command = rerun_command("benchmarks.figures", argv)
    if args.cmd is None:
        ap.print_help()
        return 2
    fn = {"fig4": cmd_fig4, "fig5": cmd_fig5, "fig6": cmd_fig6, "fig78": cmd_fig78, "ablation": cmd_ablation,
          "launch": cmd_launch, "report": cmd_report}[args.cmd]
    rc = fn(args)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
