"""benchmarks/ scripts: accuracy.py merges seeds and never loses one; activity.py reports spikes;
inference_steps.py tests trained networks at other T."""
import importlib
import json
import numpy as np

import pytest


def _script(name):
    """The benchmark module ``benchmarks.<name>``, as ``python -m benchmarks.<name>`` runs it."""
    return importlib.import_module(f"benchmarks.{name}")


def _rejects(mod, args, capsys, *bad_options):
    """Each bad option list makes ``mod.main(args + bad)`` exit 2 with one line naming its first option."""
    capsys.readouterr()
    for bad in bad_options:
        with pytest.raises(SystemExit) as e:
            mod.main([*args, *bad])
        err = capsys.readouterr().err
        assert e.value.code == 2 and bad[0] in err and "Traceback" not in err


@pytest.fixture(scope="module")
def acc():
    return _script("accuracy")


def _record(final, finished=True):
    return {"finished": finished, "final_acc": final, "best_acc": final, "curve": [final - 1, final], "wall_s": 60.0,
            "train_samples": 100, "test_samples": 50, "machine": {}, "written": f"2026-11-25T10:00:{int(final):02d}"}


def _settings(eta):
    from lava_ssnnbp.config import SSNNConfig
    cfg = SSNNConfig(sizes=(784, 32, 10), steps=20, eta=eta).to_dict()
    return {"dataset": "mnist", "model": "snn", "mode": "rate", "steps": 20, "epochs": 2,
            "model_config": json.loads(json.dumps(cfg)), "run_settings": {"batch_size": 32}, "extra_args": []}


def test_seeds_merge_and_other_settings_are_moved_aside(acc, tmp_path):
    path = tmp_path / "accuracy_mnist_rate_T20.json"
    acc.merge_seed(path, 0, _record(90.0), _settings(0.3))
    # the same settings spelled differently on the command line, another checkpoint interval: merged
    r = acc.merge_seed(path, 1, _record(92.0), {**_settings(0.3), "extra_args": ["--eta", "0.3"],
                                                "run_settings": {"batch_size": 32, "checkpoint_s": 5.0}})
    assert r["seeds_finished"] == [0, 1] and r["test_acc_mean"] == 91.0
    assert r["test_acc_std"] == pytest.approx(2 ** 0.5)    # the sample std over seeds (ddof = 1)
    r = acc.merge_seed(path, 2, _record(50.0, finished=False), _settings(0.3))
    assert r["seeds_finished"] == [0, 1] and r["unfinished"] == {"2": 2}
    # another eta: the old seeds are not dropped but moved to replaced/
    r = acc.merge_seed(path, 0, _record(95.0), _settings(0.1))
    assert r["seeds_finished"] == [0] and r["test_acc_mean"] == 95.0
    moved = list((tmp_path / "replaced").glob("accuracy_mnist_rate_T20.*.json"))
    assert len(moved) == 1
    old = json.loads(moved[0].read_text())
    assert old["seeds_finished"] == [0, 1] and old["model_config"]["eta"] == 0.3
    assert not list(tmp_path.glob("*.tmp*"))
    # another batch size trains differently: moved aside too
    r = acc.merge_seed(path, 1, _record(93.0), {**_settings(0.1), "run_settings": {"batch_size": 64}})
    assert r["seeds_finished"] == [1] and len(list((tmp_path / "replaced").glob("*.json"))) == 2


def test_collecting_an_unchanged_seed_again_leaves_the_file_as_it_was(acc, tmp_path):
    path = tmp_path / "accuracy_mnist_rate_T20.json"
    acc.merge_seed(path, 0, _record(90.0), _settings(0.3))
    acc.merge_seed(path, 1, _record(92.0), _settings(0.3))
    before = path.read_bytes()
    later = {**_record(92.0), "written": "2026-11-26T11:19:00"}   # the same run, collected a day later
    r = acc.merge_seed(path, 1, later, _settings(0.3))
    assert path.read_bytes() == before and r["per_seed"]["1"]["written"] == "2026-11-25T10:00:92"
    # a run folder written after a setting was added names it (at its default); still the same run
    acc.merge_seed(path, 0, _record(90.0), {**_settings(0.3), "run_settings": {"batch_size": 32, "eta_warmup": 0}})
    assert path.read_bytes() == before
    r = acc.merge_seed(path, 1, {**later, "wall_s": 61.0}, _settings(0.3))   # a real change is written
    assert json.loads(path.read_text())["per_seed"]["1"]["wall_s"] == 61.0
    assert r["per_seed"]["1"]["written"] == "2026-11-26T11:19:00"


def test_activity_script_on_a_tiny_run(tmp_path, capsys):
    from lava_ssnnbp import cli
    run = tmp_path / "runs" / "default_rate_T10_seed0"
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--train-samples", "200", "--test-samples",
                     "50", "--hidden",
                     "16", "--steps", "10", "--epochs", "1", "--batch-updates", "mini-batch", "--quiet",
                     "--out", str(run)]) == 0
    ann = tmp_path / "runs" / "default_ann_T10_seed0"      # an ANN twin: left out unless named
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--model", "ann", "--train-samples", "200",
                     "--test-samples", "50", "--hidden", "16", "--epochs", "1", "--quiet", "--out", str(ann)]) == 0
    out = tmp_path / "activity.json"
    out.write_text(json.dumps({"runs": [{"run": "an_earlier_run", "layers": []}]}))   # kept, not analysed again
    act = _script("activity")
    assert act.main(["--root", str(tmp_path / "runs"), "--test-samples", "50", "--out", str(out)]) == 0
    r = json.loads(out.read_text())["runs"]
    assert [x["run"] for x in r] == ["an_earlier_run", run.name]
    assert act.main([str(run), "--test-samples", "50", "--out", str(out)]) == 0          # replaced, not doubled
    r = json.loads(out.read_text())["runs"]
    assert [x["run"] for x in r] == ["an_earlier_run", run.name]
    r = r[1:]
    assert len(r[0]["layers"]) == 3
    assert r[0]["layers"][1]["neurons"] == 16 and 0 <= r[0]["layers"][1]["never_active"] <= 16
    assert f"{r[0]['test_acc']:.2f}%" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:          # nothing to analyse: a clear exit, no traceback
        act.main(["--root", str(tmp_path / "empty"), "--out", str(out)])
    assert e.value.code == 2
    # an ANN run named explicitly: its ReLU units, scored with the accuracy its training recorded
    assert act.main([str(ann), "--test-samples", "50", "--out", str(out)]) == 0
    a = {x["run"]: x for x in json.loads(out.read_text())["runs"]}[ann.name]
    recorded = json.loads((ann / "metrics.json").read_text())["epochs"][-1]["test_acc"]
    assert a["model"] == "ann" and a["test_acc"] == pytest.approx(100 * recorded)
    hid = a["layers"][1]
    assert hid["neurons"] == 16 and 0 < hid["active_fraction"] < 1 and hid["spikes_per_sample"] is None


def test_silent_neurons_script(tmp_path, capsys):
    sn = _script("silent_neurons")
    out = tmp_path / "results" / "silent_neurons_default.json"
    common = ["--hidden", "24", "--steps", "10", "--samples", "96", "--every", "32", "--probe", "40",
              "--batch", "16", "--out", str(out)]
    assert sn.main(common + ["--warmup", str(10 ** 9)]) == 0
    r = json.loads(out.read_text())
    assert [t["schedule"] for t in r["traces"]] == list(sn.SCHEDULES) and out.with_suffix(".png").exists()
    starts = {json.dumps(t["points"][0]) for t in r["traces"]}
    assert len(starts) == 1                                   # the same initial weights for every schedule
    by = {t["schedule"]: t for t in r["traces"]}
    assert [p["samples"] for p in by["mini-batch"]["points"]] == [0, 32, 64, 96]
    assert by["per-sample"]["batch"] == 1 and by["mini-batch-eta/3"]["eta"] == pytest.approx(0.1)
    # a warm-up longer than the run keeps eta ~ 0: the silent count does not move
    warm = by["mini-batch-warmup"]["points"]
    assert {p["silent"] for p in warm} == {warm[0]["silent"]}
    assert all(0 <= p["silent"] <= 24 and 0 <= p["active_fraction"] <= 1 for t in r["traces"] for p in t["points"])
    md = tmp_path / "RESULTS.md"                                 # RESULTS.md shows each schedule's end count
    assert _script("make_results").main(["--results", str(out.parent), "--output", str(md)]) == 0
    section = md.read_text().split("silenced at the start")[1]
    for t in r["traces"]:
        assert f"| {t['schedule']} | {t['eta']:g} | {t['batch']} |" in section
        assert f" | {t['points'][-1]['silent']} | {100 * t['points'][-1]['active_fraction']:.1f} % |" in section
    with pytest.raises(SystemExit) as e:
        sn.main(common + ["--schedules", "mini-batch,sgd"])
    assert e.value.code == 2 and "sgd" in capsys.readouterr().err


def test_inference_steps_script_on_a_tiny_run(tmp_path, capsys):
    from lava_ssnnbp import cli
    run = tmp_path / "default_rate_T20_seed0"
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--train-samples", "400", "--test-samples",
                     "100", "--hidden", "32", "--steps", "20", "--batch-size", "20", "--eta", "0.5", "--epochs", "2",
                     "--batch-updates", "mini-batch", "--quiet", "--out", str(run)]) == 0
    recorded = json.loads((run / "metrics.json").read_text())["epochs"][-1]["test_acc"]
    out = tmp_path / "inference_steps.json"
    mod = _script("inference_steps")
    assert mod.main([str(run), "--steps", "20,60", "--test-samples", "100", "--out", str(out)]) == 0
    rows = {r["steps"]: r for r in json.loads(out.read_text())["rows"]}
    assert sorted(rows) == [20, 60] and all(r["trained_steps"] == 20 for r in rows.values())
    assert rows[20]["test_acc"] == pytest.approx(100 * recorded, abs=0.005)   # at its own T: the recorded number
    assert recorded > 0.4 and rows[60]["test_acc"] > 40                       # still a working network (chance: 10)
    assert mod.main([str(run), "--steps", "60", "--test-samples", "100", "--out", str(out)]) == 0
    assert len(json.loads(out.read_text())["rows"]) == 2                      # merged, not appended twice
    capsys.readouterr()
    _rejects(mod, [str(run), "--out", str(out)], capsys, ["--steps", "0"], ["--steps", "a,b"])


def test_weight_precision_script_rounds_a_float_run(tmp_path, capsys):
    from lava_ssnnbp import cli
    run = tmp_path / "default_coincidence_T20_seed0"
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--train-samples", "400", "--test-samples",
                     "100", "--hidden",
                     "32", "--steps", "20", "--batch-size", "20", "--eta", "0.5", "--epochs", "1", "--mode",
                     "coincidence", "--batch-updates", "mini-batch", "--quiet", "--out", str(run)]) == 0
    recorded = json.loads((run / "metrics.json").read_text())["epochs"][-1]["test_acc"]
    out = tmp_path / "weight_precision.json"
    mod = _script("weight_precision")
    assert mod.main([str(run), "--formats", "9:-1,-1", "4:3,3", "--test-samples", "100", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 5                                                # as trained + 2 formats x 2 simulators
    got = {(r["bits"], r["simulator"]): r for r in rows}
    assert got[None, "float"]["test_acc"] == pytest.approx(100 * recorded, abs=0.005)   # the run's own number
    assert got[9, "fixed"]["test_acc"] > 40 and got[9, "float"]["test_acc"] > 40        # still a working network
    assert all(a >= b for a, b in zip(got[4, "fixed"]["saturated_pct"], got[9, "fixed"]["saturated_pct"]))
    assert got[4, "fixed"]["saturated_pct"] == got[4, "float"]["saturated_pct"]        # the same rounded weights
    assert mod.main([str(run), "--formats", "9:-1,-1", "--test-samples", "100", "--out", str(out)]) == 0
    assert len(json.loads(out.read_text())["rows"]) == 5                 # merged, not appended twice
    capsys.readouterr()
    _rejects(mod, [str(run), "--out", str(out)], capsys, ["--formats", "9:x"], ["--formats", "1:0,0"],
             ["--formats", "9:0"])


def test_update_events_script_counts_the_roundings_of_a_learning_epoch(tmp_path, capsys):
    import numpy as np
    from lava_ssnnbp import cli
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.engine import Engine, encode_batch
    from lava_ssnnbp.training import load_weights
    run = tmp_path / "default_coincidence_T20_fixed_seed0"
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--train-samples", "200", "--test-samples",
                     "50", "--hidden", "32", "--steps", "20", "--eta", "0.5", "--epochs", "1", "--mode", "coincidence",
                     "--fixed-point", "--quiet", "--out", str(run)]) == 0
    out = tmp_path / "update_events.json"
    mod = _script("update_events")
    assert mod.main([str(run), "--samples", "8", "--epochs-of", "1,2,8", "--out", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    ev = {e["samples_per_epoch"]: e["events_per_sample"] for e in row["epochs"]}
    # per sample: the engine's own pair counts of the first 8 training samples, counted here
    cfg = SSNNConfig.from_dict(json.loads((run / "config.json").read_text())["model"])
    eng, train = Engine(cfg, load_weights(run / "weights.npz"), 0), load_dataset("default", "train", steps=20)
    nz = np.zeros(2)
    for i in range(8):
        res = eng.simulate(encode_batch(cfg, train.x[i:i + 1], train.y[i:i + 1], np.arange(i, i + 1), 0, True), True)
        nz += [np.count_nonzero(res.numerators[k].dense()) for k in range(2)]
    assert ev[1] == pytest.approx(list(nz / 8)) and nz.min() > 0
    for k in range(2):                  # a sum of counts has at most as many non-zeros as its terms together
        assert ev[8][k] <= ev[2][k] <= ev[1][k]
    capsys.readouterr()
    _rejects(mod, [str(run), "--out", str(out)], capsys, ["--epochs-of", "4"], ["--epochs-of", "1,x"],
             ["--samples", "2", "--epochs-of", "1,4"])


def test_throughput_script_keeps_points_it_does_not_remeasure(tmp_path):
    tp = _script("throughput")
    out = tmp_path / "throughput.json"
    common = ["--hidden", "16", "--steps", "5", "--modes", "rate", "--precisions", "float", "--arith", "event",
              "--seconds", "0.2", "--snntorch-batch", "0", "--out", str(out)]
    tp.main(common + ["--batch-sizes", "1,4"])
    first = json.loads(out.read_text())["points"]
    assert [p["batch"] for p in first] == [1, 4] and all(p["samples_per_s"] > 0 and p["measured"] for p in first)
    tp.main(common + ["--batch-sizes", "4"])                     # re-measure one point: the other stays
    second = json.loads(out.read_text())["points"]
    assert [p["batch"] for p in second] == [1, 4] and second[0] == first[0] and second[1]["samples"] > 0
    tp.main(["--hidden", "8"] + common[2:] + ["--batch-sizes", "4"])      # another network: no mixing
    assert [p["batch"] for p in json.loads(out.read_text())["points"]] == [4]
    # other images: no mixing (the earlier file is relabelled as measured on MNIST, so that the
    # test needs no data beyond the embedded set)
    out.write_text(json.dumps({**json.loads(out.read_text()), "dataset": "mnist"}))
    tp.main(["--hidden", "8"] + common[2:] + ["--batch-sizes", "1"])
    assert [p["batch"] for p in json.loads(out.read_text())["points"]] == [1]


def test_throughput_measures_the_chip_configuration_per_sample_in_fixed_point_only(tmp_path):
    """'loihi2' first or after another mode, with several batch sizes: one point, B = 1, fixed point."""
    tp = _script("throughput")
    out = tmp_path / "throughput.json"
    for modes in ("loihi2,rate", "rate,loihi2"):
        tp.main(["--hidden", "16", "--steps", "5", "--modes", modes, "--precisions", "float,fixed", "--arith", "dense",
                 "--batch-sizes", "1,4", "--seconds", "0.2", "--snntorch-batch", "0", "--out", str(out)])
        points = sorted((p["mode"], p["precision"], p["batch"]) for p in json.loads(out.read_text())["points"])
        assert points == [("loihi2", "fixed", 1), ("rate", "fixed", 1), ("rate", "fixed", 4), ("rate", "float", 1),
                          ("rate", "float", 4)], modes


def test_accuracy_records_validation_and_results_show_it(tmp_path, capsys):
    acc = _script("accuracy")
    res = tmp_path / "results"
    args = ["--dataset", "default", "--model", "ann", "--epochs", "1", "--seeds", "0,1", "--runs",
            str(tmp_path / "runs"), "--results", str(res), "--train-samples", "300", "--test-samples", "100",
            "--quiet"]
    assert acc.main(args + ["--val-samples", "200", "--tag", "val"]) == 0
    r = json.loads((res / "accuracy_default_ann_T100_val.json").read_text())
    per_seed = [json.loads((tmp_path / "runs" / f"default_ann_T100_val_seed{s}" / "metrics.json").read_text())
                ["epochs"][-1]["val_acc"] * 100 for s in (0, 1)]
    assert r["val_acc_per_seed"] == pytest.approx(per_seed) and r["val_acc_mean"] == pytest.approx(np.mean(per_seed))
    assert acc.main(args + ["--tag", "noval"]) == 0                 # without held-out images: no validation keys
    assert "val_acc_mean" not in json.loads((res / "accuracy_default_ann_T100_noval.json").read_text())
    out = tmp_path / "RESULTS.md"
    assert _script("make_results").main(["--results", str(res), "--output", str(out)]) == 0
    text = out.read_text()
    section = text[text.index("## Validation"):]
    assert f"{r['val_acc_mean']:.2f} +/- {r['val_acc_std']:.2f}" in section and "| 200 |" in section
    assert "noval" not in section


def test_update_fidelity_script_on_a_tiny_run(tmp_path, capsys):
    """A coarser gradient threshold leaves more open hidden neurons with a zero count;
    the coincidence-vs-rate comparison covers both synapse layers."""
    import shutil
    from lava_ssnnbp import cli
    run = tmp_path / "run"
    assert cli.main(["train", "--preset", "none", "--dataset", "default", "--train-samples", "300", "--test-samples",
                     "50", "--hidden",
                     "24", "--steps", "20", "--epochs", "1", "--batch-updates", "mini-batch", "--quiet",
                     "--out", str(run)]) == 0
    fid = _script("update_fidelity")
    coarse = tmp_path / "coarse"
    shutil.copytree(run, coarse)
    cfg = json.loads((coarse / "config.json").read_text())
    cfg["model"]["theta_hidden_grad"] = 4.0
    (coarse / "config.json").write_text(json.dumps(cfg))
    zero = {}
    for r in (run, coarse):
        assert fid.main([str(r), "--samples", "200", "--results", str(tmp_path)]) == 0
        out = json.loads((tmp_path / "update_fidelity_default_rate.json").read_text())
        g = out["hidden_gradient"]
        assert out["samples"] == 192 and 0 <= g["all"]["open_with_zero_count"] <= 1    # whole batches of 32
        assert -1 <= g["update_cosine_mean_min"][1] <= g["update_cosine_mean_min"][0] <= 1
        assert [c["synapse_layer"] for c in out["coincidence_vs_rate"]] == [0, 1]
        for c in out["coincidence_vs_rate"]:
            assert -1 <= c["cosine_mean_min"][0] <= 1 and -1 <= c["causal_cosine_mean_min"][0] <= 1
            assert sum(c["presynaptic_spikes_per_quarter"]) == pytest.approx(1, abs=1e-3)
        zero[r.name] = g["all"]["open_with_zero_count"]
    assert zero["coarse"] > zero["run"]
    assert "of open hidden neurons get a zero net gradient count" in capsys.readouterr().out
    assert fid.main([str(run), "--samples", "32", "--results", str(tmp_path), "--tag", "early"]) == 0
    tagged = json.loads((tmp_path / "update_fidelity_default_rate_early.json").read_text())
    assert tagged["samples"] == 32 and tagged["run_settings"]["train_samples"] == 300
    with pytest.raises(SystemExit):
        fid.main([str(tmp_path / "missing")])


def test_profile_sample_splits_a_training_sample_into_stages(tmp_path):
    """The stages are the engine's own path: its weights equal train_batch's, and
    only 'replay' spends time in the replay window."""
    ps = _script("profile_sample")
    out = tmp_path / "profile.json"
    ps.main(["--dataset", "default", "--hidden", "16", "--steps", "8", "--samples", "6", "--batch-sizes", "1,3",
             "--precisions", "fixed", "--modes", "coincidence,replay", "--out", str(out)])
    points = json.loads(out.read_text())["points"]
    assert [(p["mode"], p["batch"]) for p in points] == [("coincidence", 1), ("coincidence", 3),
                                                         ("replay", 1), ("replay", 3)]
    assert all(p["same_weights_as_train_batch"] and p["samples"] == 6 for p in points)
    assert all((p["ms_per_sample"]["replay window"] > 0) == (p["mode"] == "replay") for p in points)


def test_a_run_forked_at_an_epoch_boundary_equals_the_run_trained_from_the_start(tmp_path, capsys):
    """fork_run.py: a constant-eta run forked after epoch 1 into a step schedule
    and resumed is, weight for weight, the step-schedule run trained from the start."""
    from lava_ssnnbp import cli
    from lava_ssnnbp.training import load_weights
    fork = _script("fork_run")
    common = ["train", "--preset", "none", "--target", "loihi2", "--hidden", "24", "--steps", "12", "--train-samples",
              "40", "--test-samples", "20", "--quiet", "--seed", "3"]
    step = ["--eta-schedule", "step", "--eta-step", "1", "--eta-decay", "0.5"]
    assert cli.main([*common, "--epochs", "1", "--out", str(tmp_path / "const")]) == 0
    assert cli.main([*common, "--epochs", "2", *step, "--out", str(tmp_path / "fresh")]) == 0
    assert fork.main([str(tmp_path / "const"), str(tmp_path / "fork"), "--epoch", "1", *step[:2],
                      "--eta-step", "1", "--eta-decay", "0.5"]) == 0
    assert cli.main([*common, "--epochs", "2", *step, "--out", str(tmp_path / "fork")]) == 0
    a, b = load_weights(tmp_path / "fresh" / "weights.npz"), load_weights(tmp_path / "fork" / "weights.npz")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert json.loads((tmp_path / "fork" / "config.json").read_text())["forked_from"]["after_epoch"] == 1
    capsys.readouterr()
    # a schedule that differs before the fork point is refused
    assert fork.main([str(tmp_path / "fresh"), str(tmp_path / "bad"), "--epoch", "2", "--eta-schedule", "constant"]) == 2
    assert "differ in epoch 2" in capsys.readouterr().err


def test_speed_ab_compares_two_checkouts_turn_by_turn(tmp_path, capsys):
    """speed_ab runs one worker per checkout in alternating turns and writes both rates and their
    ratio (this checkout against itself here: a real run, one point, two short rounds)."""
    from pathlib import Path
    mod = _script("speed_ab")
    root = Path(mod.__file__).resolve().parents[1]
    out = tmp_path / "ab.json"
    mod.main(["--before", str(root), "--after", str(root), "--points", "coincidence:2", "--samples-per-turn", "2",
              "--rounds", "2", "--out", str(out)])
    point, = json.loads(out.read_text())["points"]
    assert (point["mode"], point["batch"], point["samples_per_turn"], point["rounds"]) == ("coincidence", 2, 2, 2)
    assert point["before_samples_per_cpu_s"] > 0 and point["after_samples_per_cpu_s"] > 0
    assert point["speed_ratio"] == pytest.approx(point["after_samples_per_cpu_s"] / point["before_samples_per_cpu_s"],
                                                 rel=0.01)
    _rejects(mod, ["--before", str(root)], capsys, ["--points", "magic:1"], ["--points", "replay:0"],
             ["--rounds", "1"], ["--after", str(tmp_path)])


def test_speed_ab_refuses_a_checkout_that_cannot_build_the_network(tmp_path, capsys):
    """Both workers get the point's SSNNConfig fields; a checkout whose SSNNConfig lacks one would
    build another network, so the comparison stops with one line (exit 2) instead."""
    from pathlib import Path
    mod = _script("speed_ab")
    root = Path(mod.__file__).resolve().parents[1]
    old = tmp_path / "old" / "lava_ssnnbp"
    old.mkdir(parents=True)
    (old / "__init__.py").write_text("")
    (old / "config.py").write_text("import dataclasses\n\n\n@dataclasses.dataclass\nclass SSNNConfig:\n"
                                   "    sizes: tuple = (784, 10)\n    steps: int = 100\n")
    assert mod.main(["--before", str(old.parent), "--after", str(root), "--points", "coincidence:1",
                     "--rounds", "2", "--out", str(tmp_path / "ab.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no field" in err and "target" in err
    assert not (tmp_path / "ab.json").exists()


def test_results_md_gives_each_chip_row_the_eta_its_shift_applies(tmp_path):
    """The chip table's base eta comes from each run's own configuration: the same eta
    0.3 is a shift that applies 0.39 at T_s = 50 and 0.31 at T_s = 20."""
    import shutil
    from pathlib import Path
    mod = _script("make_results")
    res = tmp_path / "results"
    res.mkdir()
    here = Path(mod.__file__).resolve().parent / "results"
    for name in ("accuracy_mnist_replay_T50_step7_loihi2.json", "accuracy_mnist_replay_T50_step7_ts20_loihi2.json"):
        shutil.copy(here / name, res / name)
    assert mod.main(["--results", str(res), "--output", str(tmp_path / "R.md")]) == 0
    rows = [line for line in (tmp_path / "R.md").read_text().splitlines() if line.startswith("| mnist | 50 |")]
    assert [r.split(" | ")[2:4] for r in rows] == [["50", "0.391, step: x0.5 every 7 epochs"],
                                                   ["20", "0.312, step: x0.5 every 7 epochs"]]


def test_results_md_puts_the_replay_window_sweep_in_its_own_table_with_its_energy(tmp_path):
    """Chip runs tagged sub10k_ts<T_s> form the accuracy-against-T_s table, sorted by T_s, with the
    energy priced for that T_s (or 'not priced'), and stay out of the full-data chip table."""
    import shutil
    from pathlib import Path
    mod = _script("make_results")
    res = tmp_path / "results"
    res.mkdir()
    here = Path(mod.__file__).resolve().parent / "results"
    shutil.copy(here / "accuracy_mnist_replay_T50_step7_loihi2.json", res / "accuracy_mnist_replay_T50_sub10k_ts50_loihi2.json")
    shutil.copy(here / "accuracy_mnist_replay_T50_step7_ts20_loihi2.json",
                res / "accuracy_mnist_replay_T50_sub10k_ts20_loihi2.json")
    priced = {"training_mJ_per_sample": {"low": 0.125, "high": 0.5}, "training_ms_per_sample": {"low": 1.0, "high": 2.0}}
    (res / "energy_ts_sweep.json").write_text(json.dumps({"T_s=20": priced}))
    assert mod.main(["--results", str(res), "--output", str(tmp_path / "R.md")]) == 0
    text = (tmp_path / "R.md").read_text()
    table = text[text.index("### Accuracy and energy against the replay window"):].split("\n\n")[2].splitlines()[2:]
    cells = [line.split(" | ") for line in table]
    assert [c[0] for c in cells] == ["| 20", "| 50"] and [c[1] for c in cells] == ["71", "101"]
    assert cells[0][5] == "0.125..0.500" and cells[1][5] == "not priced"
    assert "| mnist | 50 |" not in text                   # no full-data chip row: the sweep is its own table


def test_results_md_sets_the_diagnostics_beside_the_chip_run_of_their_seed(tmp_path):
    """The diagnostics table reads seed 0 of each run from its file, subtracts the chip run's seed 0,
    and lists a diagnostic without a finished result as not finished (never a number)."""
    import shutil
    from pathlib import Path
    mod = _script("make_results")
    res = tmp_path / "results"
    res.mkdir()
    here = Path(mod.__file__).resolve().parent / "results"
    chip, w9 = "accuracy_mnist_replay_T50_step7_loihi2.json", "accuracy_mnist_replay_T50_ps_w9_fixed.json"
    for name in (chip, w9):
        shutil.copy(here / name, res / name)
    unfinished = json.loads((here / w9).read_text())
    unfinished["per_seed"]["0"]["finished"] = False
    (res / "accuracy_mnist_replay_T50_ps.json").write_text(json.dumps(unfinished))
    assert mod.main(["--results", str(res), "--output", str(tmp_path / "R.md")]) == 0
    text = (tmp_path / "R.md").read_text()
    table = text[text.index("### Where the shortfall is"):].split("\n\n")[2].splitlines()[2:]
    rows = {line.split(" | ")[-1].strip("` |"): line.split(" | ") for line in table}
    chip_acc = json.loads((here / chip).read_text())["per_seed"]["0"]["final_acc"]
    w9_acc = json.loads((here / w9).read_text())["per_seed"]["0"]["final_acc"]
    assert rows[chip][3] == "per sample" and rows[chip][7:9] == [f"{chip_acc:.2f}", "-"]
    assert rows[w9][7:9] == [f"{w9_acc:.2f}", f"{w9_acc - chip_acc:+.2f}"]
    assert rows["accuracy_mnist_replay_T50_ps.json"][7] == "not finished (no result yet)"
    assert rows["accuracy_mnist_replay_T50_ps_w16_fixed.json"][7] == "not finished (no result yet)"
    assert "fashion-mnist" not in "".join(table)           # no chip run of Fashion-MNIST here: no rows
