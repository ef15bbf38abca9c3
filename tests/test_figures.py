"""Figures 4-8: the numbers behind them, and collectors that never invent a point."""
import dataclasses
import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.paper_figures import fig4, fig5, plots
from benchmarks.paper_figures import records as R
from benchmarks.result_files import seed_std
from lava_ssnnbp import dynamics as dyn

ROOT = Path(__file__).resolve().parents[1]


def _bench(name="figures"):
    """The benchmark module ``benchmarks.<name>``, as ``python -m benchmarks.<name>`` runs it."""
    return importlib.import_module(f"benchmarks.{name}")


# ------------------------------------------------------------------ Fig. 4
def test_fig4_uses_the_library_rule(monkeypatch):
    calls = []
    real = dyn.stochastic_numerator

    def spy(*a, **k):
        calls.append(a[3])
        return real(*a, **k)
    monkeypatch.setattr(dyn, "stochastic_numerator", spy)
    fig4.stochastic_multiplication_errors([0.2, 0.6], (7, 11), trials=3)
    assert calls == [7] * 3 + [11] * 3


def test_fig4_error_is_zero_mean_with_binomial_std():
    """Tolerances: |mean| < 4 standard errors; pooled std within 6% of
    sqrt(mean ab(1-ab) / T); per-pair stds (median) within 10%."""
    values = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
    res = fig4.stochastic_multiplication_errors(values, (20, 200), seed=3, trials=300)
    v = np.array(values)
    prod = np.outer(v, v)
    c = math.sqrt(np.mean(prod * (1 - prod)))
    assert res["fit"]["c_theory"] == pytest.approx(c)
    for r in res["per_T"]:
        T = r["T"]
        assert r["errors"].shape == (300, 7, 7)
        assert abs(r["mean"]) < 4 * r["mean_se"]
        assert r["theory_std"] == pytest.approx(c / math.sqrt(T))
        assert r["std"] == pytest.approx(r["theory_std"], rel=0.06)
        assert r["z_std"] == pytest.approx(1.0, abs=0.06)
        assert r["per_pair_std_ratio_median"] == pytest.approx(1.0, abs=0.1)
        assert r["noise_mode_std"] == pytest.approx(r["theory_std"], rel=1e-9)   # 'noise' mode uses the same std
        e = r["errors"]
        assert np.all(e[:, 0, :] == 0) and np.all(e[:, :, 0] == 0)               # a = 0: never a coincidence
        assert np.all(e[:, -1, -1] == 0)                                          # 1 x 1: always
        assert np.all(np.abs(e * T - np.rint(e * T + prod * T) + prod * T) < 1e-9)  # estimates are k / T
    assert res["fit"]["slope"] == pytest.approx(-0.5, abs=0.05)


def test_fig4_summary_histogram_and_plot(tmp_path):
    res = fig4.stochastic_multiplication_errors(fig4.FIG4_VALUES[::5], (10, 100), trials=5)
    s = fig4.fig4_summary(res, bins=21)
    json.dumps(s)                                   # JSON-able
    for r in s["per_T"]:
        h = r["hist"]
        w = h["edges"][1] - h["edges"][0]
        assert sum(h["density"]) * w == pytest.approx(1 - h["outside"] / r["n_errors"])
        assert len(h["theory_mixture_density"]) == 21
    assert plots.plot_fig4(s, tmp_path / "f4.png").stat().st_size > 1000


def test_fig4_rejects_bad_input():
    with pytest.raises(ValueError):
        fig4.stochastic_multiplication_errors([0.5, 1.5], (10,))
    with pytest.raises(ValueError):
        fig4.stochastic_multiplication_errors([0.5], (10,), trials=1)


# ------------------------------------------------------------------ Fig. 5
def test_output_distributions_hand_computed():
    raw = np.array([[3, 1, 0], [0, 2, 2], [0, 0, 0]])
    wta = np.array([[4, 0, 0], [1, 3, 0]])
    d = fig5.output_distributions(raw, wta, temperature=1.0)
    assert d["curves"]["raw"] == pytest.approx([0.625, 0.375, 0.0])     # mean of [.75 .25 0], [.5 .5 0]
    assert d["n_used"]["raw"] == 2 and d["n_silent"]["raw"] == 1          # the silent sample is left out
    assert d["curves"]["wta"] == pytest.approx([0.875, 0.125, 0.0])     # mean of [1 0 0], [.75 .25 0]
    e = math.e
    s1 = np.array([e ** 3, e, 1]) / (e ** 3 + e + 1)
    s2 = np.array([e ** 2, e ** 2, 1]) / (2 * e ** 2 + 1)
    assert d["curves"]["softmax"] == pytest.approx((s1 + s2) / 2)
    assert d["top1_share"]["raw"] == pytest.approx(0.625)
    d2 = fig5.output_distributions(raw, None, temperature=2.0)
    t1 = np.exp(np.array([1.5, 0.5, 0])); t2 = np.exp(np.array([1.0, 1.0, 0]))
    assert d2["curves"]["softmax"] == pytest.approx((t1 / t1.sum() + t2 / t2.sum()) / 2)
    assert "wta" not in d2["curves"]
    # the fitted temperature reproduces a softmax curve it was given
    target = fig5.softmax_sorted(raw, 3.0, raw.sum(1) > 0)
    t, rms = fig5.fit_softmax_temperature(raw, target, temperatures=[1.0, 2.0, 3.0, 4.0], mask=raw.sum(1) > 0)
    assert t == 3.0 and rms == pytest.approx(0.0, abs=1e-12)


def test_output_distributions_all_silent():
    d = fig5.output_distributions(np.zeros((4, 3)), np.zeros((4, 3)))
    assert d["n_used"]["raw"] == 0 and d["n_silent"]["wta"] == 4
    assert d["top1_share"]["raw"] is None and "softmax_temperature_matching_wta" not in d


# ------------------------------------------------------------------ collectors
def _acc_json(dataset, mode, T, curves, finished, epochs=3, tag="", wta=True, dropout=(0.2, 0.3), unfinished=None):
    return {"dataset": dataset, "model": "snn", "mode": mode, "steps": T, "epochs": epochs,
            "seeds_finished": finished, "test_acc_per_seed": [curves[str(s)][-1] for s in finished],
            "curves": curves, "unfinished": unfinished or {}, "wall_s_per_seed": {s: 100.0 for s in curves},
            "train_samples": 60000, "test_samples": 10000,
            "model_config": {"wta": wta, "dropout": list(dropout), "eta": 0.005, "fixed_point": False},
            "run_settings": {"batch_updates": "per-sample", "batch_size": 64, "eta_schedule": "constant"}}


@pytest.fixture
def results(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    w = lambda name, obj: (d / name).write_text(json.dumps(obj))  # noqa: E731
    w("accuracy_mnist_stochastic_T50.json",
      _acc_json("mnist", "stochastic", 50, {"0": [90.0, 92.0, 94.0], "1": [91.0, 93.0, 96.0]}, [0, 1]))
    w("accuracy_mnist_rate_T50.json", _acc_json("mnist", "rate", 50, {"0": [95.0, 96.0, 97.0]}, [0]))
    w("accuracy_mnist_noise_T50.json", _acc_json("mnist", "noise", 50, {"0": [93.0, 94.0, 95.0]}, [0]))
    # unfinished: seed 0 did 1 of 3 epochs, nothing finished
    w("accuracy_mnist_coincidence_T50.json",
      _acc_json("mnist", "coincidence", 50, {"0": [80.0]}, [], unfinished={"0": 1}))
    # listed as finished but its curve is short: must not become a point
    w("accuracy_mnist_stochastic_T100.json", _acc_json("mnist", "stochastic", 100, {"0": [90.0]}, [0]))
    (d / "accuracy_mnist_stochastic_T200.json").write_text('{"dataset": "mnist", "seeds_fin')   # killed mid-write
    (d / "accuracy_weird.json").write_text("{}")
    # ablation: a 'nowta' file whose config has WTA on is refused
    w("accuracy_mnist_rate_T50_nowta.json",
      _acc_json("mnist", "rate", 50, {"0": [97.0, 97.5, 98.0]}, [0], tag="nowta", wta=True))
    w("accuracy_mnist_rate_T50_nodropout.json",
      _acc_json("mnist", "rate", 50, {"0": [97.0, 97.5, 97.9]}, [0], dropout=(0.0, 0.0)))
    # the same runs under the subset protocol (tag sub10k) must not mix with the full-data ones
    w("accuracy_mnist_stochastic_T1000_sub10k.json",
      _acc_json("mnist", "stochastic", 1000, {"0": [93.0, 94.0, 95.0]}, [0], tag="sub10k"))
    w("accuracy_mnist_rate_T50_sub10k_nowta.json",
      _acc_json("mnist", "rate", 50, {"0": [92.0, 93.0, 94.0]}, [0], tag="sub10k_nowta", wta=False))
    return d


def test_load_accuracy_results_keeps_only_finished(results):
    recs, problems = R.load_accuracy_results(results)
    assert {r["file"] for r in recs} == {f.name for f in results.glob("accuracy_*_T*.json")} - {
        "accuracy_mnist_stochastic_T200.json"}
    assert any("T200" in p and "unreadable" in p for p in problems)
    assert any("accuracy_weird.json" in p for p in problems)
    assert any("T100.json: seed 0" in p for p in problems)
    st = R.find_record(recs, "mnist", "stochastic", 50)
    assert st["final_per_seed"] == [94.0, 96.0] and st["final_mean"] == 95.0
    assert st["final_std"] == pytest.approx(2 ** 0.5)      # the sample std over seeds (ddof = 1)
    assert R.find_record(recs, "mnist", "stochastic", 100)["curves"] == {}
    assert R.find_record(recs, "mnist", "coincidence", 50)["final_mean"] is None
    recs2, problems2 = R.load_accuracy_results(results / "nowhere")
    assert recs2 == [] and problems2


def test_fig6_and_fig78_collect_without_fabricating(results, tmp_path):
    recs, _ = R.load_accuracy_results(results)
    d = R.fig6_data(recs, "mnist", (50, 100, 200), launch={"seeds": "0", "epochs": 3, "extra": "--quiet"})
    s50 = d["series"]["stochastic"]["50"]
    assert s50["finished"] and s50["n_seeds"] == 2
    assert s50["curve_mean"] == pytest.approx([90.5, 92.5, 95.0])
    assert s50["curve_std"] == pytest.approx([0.5 * 2 ** 0.5, 0.5 * 2 ** 0.5, 2 ** 0.5])   # ddof = 1
    for mode, T in (("stochastic", "100"), ("stochastic", "200"), ("coincidence", "50"), ("rate", "100")):
        s = d["series"][mode][T]
        assert not s["finished"] and "final_mean" not in s and "curve_mean" not in s
    missing = {m["name"]: m for m in d["missing"]}
    assert "accuracy_mnist_stochastic_T50.json" not in missing
    assert missing["accuracy_mnist_coincidence_T50.json"]["status"].startswith("no seed finished")
    assert missing["accuracy_mnist_rate_T200.json"]["status"] == "not yet run"
    assert missing["accuracy_mnist_rate_T200.json"]["command"] == (
        "python -m benchmarks.accuracy --dataset mnist --mode rate --steps 200 --seeds 0 --epochs 3 "
        + " ".join(R.RUN_FLAGS) + " --quiet")
    assert plots.plot_fig6(d, tmp_path / "f6.png").exists()
    d78 = R.fig78_data(recs, "mnist", (50, 100))
    assert d78["series"]["noise"]["50"]["final_mean"] == 95.0
    assert not d78["series"]["noise"]["100"]["finished"]
    assert plots.plot_fig78(d78, tmp_path / "f78.png").exists()
    # nothing finished at all: plots still render, everything is listed as missing
    empty = R.fig6_data([], "mnist", (50,))
    assert len(empty["missing"]) == 3
    assert plots.plot_fig6(empty, tmp_path / "e6.png").exists()
    assert plots.plot_fig78(R.fig78_data([], "mnist", (50,)), tmp_path / "e78.png").exists()


def test_ablation_checks_tags_against_config(results, tmp_path):
    recs, _ = R.load_accuracy_results(results)
    d = R.ablation_data(recs, ("mnist",), "rate", 50)
    rows = {r["tag"]: r for r in d["rows"]}
    assert not rows["nowta"]["finished"] and any("contradicts" in p for p in d["problems"])
    assert rows["nodropout"]["finished"] and rows["nodropout"]["final_mean"] == 97.9
    assert rows[""]["finished"] and rows[""]["final_mean"] == 97.0    # the main T=50 run is the baseline
    assert not rows["nowta_nodropout"]["finished"]
    cmds = {m["name"]: m["command"] for m in d["missing"]}
    assert cmds["accuracy_mnist_rate_T50_nowta_nodropout.json"].endswith(
        "--tag nowta_nodropout " + " ".join(R.RUN_FLAGS) + " --no-wta --dropout 0,0")
    # seed 0 of the baseline finished: only the other asked-for seeds are launched
    assert "--seeds 1,2 " in cmds["accuracy_mnist_rate_T50.json"] and "--tag" not in cmds["accuracy_mnist_rate_T50.json"]
    assert plots.plot_ablation(d, tmp_path / "ab.png").exists()
    # 'Found': each finished variant against WTA + dropout of the same data set
    (x,) = R.ablation_differences(d["rows"])
    assert x["variant"] == rows["nodropout"]["variant"] and x["diff"] == pytest.approx(0.9)
    assert R.ablation_differences([r for r in d["rows"] if r["tag"]]) == []   # no reference, no comparison


def test_subset_protocol_collects_only_its_own_tagged_runs(results, tmp_path):
    recs, _ = R.load_accuracy_results(results)
    full = R.fig6_data(recs, "mnist", (50, 1000))
    sub = R.fig6_data(recs, "mnist", (50, 1000), protocol="sub10k")
    assert not full["series"]["stochastic"]["1000"]["finished"] and full["series"]["stochastic"]["50"]["finished"]
    assert sub["series"]["stochastic"]["1000"]["final_mean"] == 95.0 and sub["subset"] and not full["subset"]
    assert not sub["series"]["stochastic"]["50"]["finished"]          # the full-data T=50 run is not a subset run
    cmds = {m["name"]: m["command"] for m in sub["missing"]}
    assert cmds["accuracy_mnist_rate_T50_sub10k.json"].endswith(
        "--steps 50 --seeds 0,1,2 --epochs 3 --tag sub10k --train-samples 10000 --test-samples 2000 "
        + " ".join(R.RUN_FLAGS))
    assert "--seeds 1,2 --epochs 3 --tag sub10k " in cmds["accuracy_mnist_stochastic_T1000_sub10k.json"]
    ab = R.ablation_data(recs, ("mnist",), "rate", 50, protocol="sub10k")
    rows = {r["tag"]: r for r in ab["rows"]}
    assert rows["nowta"]["final_mean"] == 94.0 and not rows["nodropout"]["finished"]
    assert {m["name"]: m["command"] for m in ab["missing"]}["accuracy_mnist_rate_T50_sub10k_nodropout.json"].endswith(
        "--tag sub10k_nodropout --train-samples 10000 --test-samples 2000 " + " ".join(R.RUN_FLAGS) + " --dropout 0,0")
    e = R.fig78_data(recs, "mnist", (50,), fig8_steps=(1000,), protocol="sub10k")
    assert {m["name"]: m["command"] for m in e["missing"]}["accuracy_mnist_noise_T50_sub10k_emuT1000.json"].endswith(
        "--tag sub10k_emuT1000 --train-samples 10000 --test-samples 2000 " + " ".join(R.RUN_FLAGS) + " --noise-steps 1000")
    with pytest.raises(ValueError, match="unknown protocol 'sub5'"):
        R.fig6_data(recs, "mnist", (50,), protocol="sub5")


def test_report_and_launch_on_missing_results(results, tmp_path, capsys):
    b = _bench()
    figs, md = tmp_path / "figs", tmp_path / "extra.md"
    assert b.main(["--results", str(results), "--figures", str(figs), "report", "--output", str(md)]) == 0
    text = md.read_text()
    assert "Not yet run (`python -m benchmarks.figures fig4`)" in text
    assert "95.00 +/- 1.41 (n=2, 3 ep.)" in text            # stochastic T=50 (sample std, ddof = 1)
    assert "not yet run" in text and "contradicts" in text
    for name in ("fig6_stochastic_vs_T", "fig78_noise_vs_stochastic", "ablation_wta_dropout"):
        for stem in (name, name + "_sub10k"):      # the fixture has subset results: both protocols are reported
            assert (figs / f"{stem}.png").exists() and (results / f"{stem}.json").exists()
    assert "SUBSET: 10,000 training / 2,000 test images, 3 epochs" in text
    assert "figures/fig6_stochastic_vs_T_sub10k.png" in text
    capsys.readouterr()
    assert b.main(["--results", str(results), "launch", "--seeds", "0", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "--mode noise --steps 1000 --seeds 0 --epochs 3" in out
    assert "--mode stochastic --steps 50 " not in out        # finished: not relaunched
    assert out.count("--mode stochastic --steps 500 ") == 1  # shared by Fig. 6 and 7/8, printed once


def test_fig5_end_to_end_on_tiny_runs(tmp_path):
    """Two tiny runs on the shipped MNIST subset, then fig5 labels them as a subset."""
    from lava_ssnnbp import cli
    common = ["train", "--preset", "none", "--dataset", "default", "--train-samples", "40", "--test-samples", "20",
              "--hidden", "12",
              "--steps", "8", "--epochs", "1", "--batch-updates", "mini-batch", "--batch-size", "20", "--quiet"]
    assert cli.main(common + ["--no-wta", "--out", str(tmp_path / "a")]) == 0
    assert cli.main(common + ["--wta", "--out", str(tmp_path / "b")]) == 0
    b = _bench()
    res, figs = tmp_path / "res", tmp_path / "figs"
    assert b.main(["--results", str(res), "--figures", str(figs), "fig5", "--run", str(tmp_path / "a"),
                   "--run-wta", str(tmp_path / "b"), "--test-samples", "30"]) == 0
    d = json.loads((res / "fig5_output_distribution.json").read_text())
    assert d["subset_or_short"] and d["label"].startswith("SUBSET") and d["test_samples"] == 30
    for r in d["readings"].values():
        assert len(r["curves"]["raw"]) == 10
    assert (figs / "fig5_output_distribution.png").exists()
    with pytest.raises(SystemExit):   # runs swapped: --run must be the no-WTA one
        b.main(["--results", str(res), "fig5", "--run", str(tmp_path / "b"), "--run-wta", str(tmp_path / "a")])


def test_fig8_emulated_noise_is_collected_only_when_consistent(results):
    cur = {"0": [93.0, 94.0, 95.5]}
    good = _acc_json("mnist", "noise", 50, cur, [0], tag="emuT1000")
    good["model_config"]["noise_steps"] = 1000
    bad = _acc_json("mnist", "noise", 50, cur, [0], tag="emuT500")
    bad["model_config"]["noise_steps"] = 200
    (results / "accuracy_mnist_noise_T50_emuT1000.json").write_text(json.dumps(good))
    (results / "accuracy_mnist_noise_T50_emuT500.json").write_text(json.dumps(bad))
    recs, _ = R.load_accuracy_results(results)
    d = R.fig78_data(recs, "mnist", (50,), fig8_steps=(500, 1000, 5000))
    emu = d["series"]["noise_emulated"]
    assert emu["1000"]["final_mean"] == 95.5 and not emu["500"]["finished"] and not emu["5000"]["finished"]
    assert any("noise_steps=200" in p for p in d["problems"])
    cmds = {m["name"]: m["command"] for m in d["missing"]}
    assert cmds["accuracy_mnist_noise_T50_emuT5000.json"].endswith(
        "--tag emuT5000 " + " ".join(R.RUN_FLAGS) + " --noise-steps 5000")
    assert "--seeds 1,2 " in cmds["accuracy_mnist_noise_T50_emuT1000.json"]     # seed 0 finished
    d = R.fig78_data(recs, "mnist", (50,), launch={"seeds": "0"}, fig8_steps=(1000,))
    assert "accuracy_mnist_noise_T50_emuT1000.json" not in {m["name"] for m in d["missing"]}


def test_make_results_keeps_tagged_runs_out_of_the_main_table(tmp_path):
    """RESULTS.md's accuracy table holds the full-data main runs only; subset and
    variant runs (tagged) are reported by the figures report appended to it."""
    res = tmp_path / "results"
    res.mkdir()
    for name, tag, acc in (("accuracy_mnist_rate_T50.json", "", 97.25), ("accuracy_mnist_rate_T50_sub10k.json",
                                                                           "sub10k", 93.75)):
        r = _acc_json("mnist", "rate", 50, {"0": [90.0, acc]}, [0], epochs=2, tag=tag)
        r.update(test_acc_mean=acc, test_acc_std=0.0, best_epoch_acc_per_seed=[acc])
        (res / name).write_text(json.dumps(r))
    r = _acc_json("mnist", "rate", 50, {"0": [90.0, 96.5]}, [0], epochs=2, tag="eta0.1")
    r.update(test_acc_mean=96.5, test_acc_std=0.0, best_epoch_acc_per_seed=[96.5])
    (res / "accuracy_mnist_rate_T50_eta0.1.json").write_text(json.dumps(r))       # a hyperparameter variant
    (tmp_path / "RESULTS.extra.md").write_text("## appended figures report\n")
    out = tmp_path / "RESULTS.md"
    assert _bench("make_results").main(["--results", str(res), "--output", str(out)]) == 0
    text = out.read_text()
    assert "**97.25** (n=1)" in text and "93.75" not in text
    assert "| eta0.1 |" in text and "**96.50** (n=1)" in text
    cases = {("rate", ""): False, ("rate", "eta0.1"): False, ("rate", "sub10k"): True, ("rate", "sub10k_nowta"): True,
             ("rate", "nowta"): True, ("noise", "emuT500"): True, ("noise", "sub10k_emuT500"): True,
             (None, "lr0.003"): False, ("coincidence", "sub10k_ps_fixed"): False, ("causal", "sub10k"): False,
             ("rate", "nodropout_wu10k"): False}
    assert {c: R.is_figure_result(*c) for c in cases} == cases
    assert text.rstrip().endswith("## appended figures report")


def test_mode_differences_standard_errors():
    def st(finals, N=2000):
        return {"finished": True, "n_seeds": len(finals), "final_mean": float(np.mean(finals)),
                "final_std": seed_std(finals), "settings": {"test_samples": N}}   # as result files hold it
    one = {"stochastic": {"50": st([95.0])}, "rate": {"50": st([94.0]), "100": st([96.0])}}
    (d,) = R.mode_differences(one, "stochastic", "rate", (50, 100))     # T=100: stochastic missing
    se = 100 * np.sqrt(0.95 * 0.05 / 2000 + 0.94 * 0.06 / 2000)         # binomial, one seed each
    assert d["T"] == 50 and d["diff"] == pytest.approx(1.0) and d["se"] == pytest.approx(se)
    assert d["within_noise"]
    seeds = {"stochastic": {"50": st([96.0, 98.0])}, "rate": {"50": st([94.0, 94.0])}}
    (d,) = R.mode_differences(seeds, "stochastic", "rate", (50,))
    assert d["diff"] == pytest.approx(3.0) and d["se"] == pytest.approx(1.0) and not d["within_noise"]



@pytest.mark.parametrize("protocol, stem", [("sub10k", "mnist_stochastic_T1000"), ("sub10k", "mnist_rate_T50"),
                                            ("full", "mnist_coincidence_T50")])
def test_printed_commands_train_as_the_committed_results_did(protocol, stem):
    """A command printed by `figures.py launch` must train with the settings of the
    results already in benchmarks/results/: accuracy.py sets a result file with
    other settings aside instead of adding the new seed to it."""
    import shlex
    from lava_ssnnbp import cli
    from lava_ssnnbp.training import normalised_config, same_settings
    p = R.get_protocol(protocol)
    rec = json.loads((ROOT / "benchmarks" / "results" / f"accuracy_{R.join_tag(stem, p.tag)}.json").read_text())
    line = R.launch_command(rec["dataset"], rec["mode"], rec["steps"], p.tag, p.flags, "0", p.epochs)
    tokens = shlex.split(line)[3:]                      # after "python -m benchmarks.accuracy"
    pairs = dict(zip(tokens[::2], tokens[1::2]))
    for own in ("--seeds", "--tag"):                    # accuracy.py's own options
        pairs.pop(own, None)
    args = cli._build_parser().parse_args(["train", "--preset", "none", *[x for kv in pairs.items() for x in kv]])
    assert same_settings(rec["run_settings"], dataclasses.asdict(cli._settings_from_args(args)),
                         ("seed", "checkpoint_s", "data_dir"))
    assert args.epochs == rec["epochs"]
    assert normalised_config(cli._config_from_args(args, 784, 10).to_dict()) == normalised_config(rec["model_config"])
