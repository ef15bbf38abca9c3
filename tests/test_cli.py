"""The ssnnbp command line: end-to-end runs and one-line errors for bad input."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import procs
import pytest

from lava_ssnnbp import cli
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.dynamics import init_weights
from lava_ssnnbp.training import load_weights

TINY = ["--dataset", "default", "--train-samples", "400", "--test-samples", "100", "--hidden", "32",
        "--steps", "20", "--batch-size", "20", "--eta", "0.5", "--quiet"]


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    """Default run folders go to a temporary root, never to ~/ssnnbp-runs."""
    monkeypatch.setattr(cli, "RUNS_ROOT", tmp_path / "runs")


def one_error_line(capsys, argv, *needles):
    rc = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("ssnnbp: error:"), err
    for n in needles:
        assert n in err[0], err
    return err[0]


@pytest.mark.parametrize("argv,needles", [
    (["train", "--steps", "-5"], ["steps", "-5"]),
    (["train", "--steps", "0"], ["steps"]),
    (["train", "--theta", "0"], ["theta"]),
    (["train", "--theta", "nan"], ["theta"]),
    (["train", "--dataset", "cifar"], ["cifar", "mnist"]),
    (["train", "--mode", "magic"], ["magic"]),
    (["train", "--frobnicate"], ["--frobnicate"]),
    (["train", "--dropout", "0.2,x"], ["dropout"]),
    (["train", "--dropout", "0.2,1.5"], ["dropout"]),
    (["train", "--dropout", "0.1,0.1,0.1"], ["dropout"]),
    (["train", "--epochs", "0"], ["epochs"]),
    (["train", "--batch-size", "0"], ["batch_size"]),
    (["train", "--fixed-point", "--mode", "noise"], ["noise"]),
    (["train", "--backend", "lava", "--batch-updates", "mini-batch", *TINY], ["per-sample"]),
    (["evaluate", "/nonexistent/run"], ["/nonexistent/run", "config.json"]),
    (["evaluate", "/nonexistent/run", "--steps", "x"], ["--steps", "x"]),
    (["info", "--run", "/nonexistent/run"], ["/nonexistent/run", "config.json"]),
    (["train", *TINY, "--val-samples", "0"], ["val_samples"]),
    (["train", *TINY, "--val-samples", "6000"], ["val_samples", "6000"]),
    (["nonsense"], ["nonsense"]),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needles):
    one_error_line(capsys, argv, *needles)


@pytest.mark.parametrize("content", ['{"model": "x"}', '{"run": {}}', "[1, 2]", "{not json"])
def test_run_folder_with_a_bad_config_is_one_line(capsys, tmp_path, content):
    (tmp_path / "config.json").write_text(content)
    for argv in (["evaluate", str(tmp_path)], ["info", "--run", str(tmp_path)]):
        one_error_line(capsys, argv, "config.json")


def test_missing_data_names_file_and_folders(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SSNNBP_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    line = one_error_line(capsys, ["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "given")])
    assert "train-images" in line and str(tmp_path / "given") in line and str(tmp_path / "env") in line


def test_no_traceback_from_a_real_process():
    r = subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "train", "--steps", "-1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_help_states_defaults_and_units(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--steps", "--mode", "--eta", "--batch-updates", "--backend", "--dropout", "--fixed-point",
                   "--wta", "--eta-schedule", "--out"):
        assert option in text
    assert "default: 100" in text and "time steps" in text


def test_train_then_evaluate_and_resume(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--epochs", "2", "--batch-updates", "mini-batch", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())["epochs"]
    assert len(metrics) == 2 and f"{100 * metrics[-1]['test_acc']:.2f}%" in printed
    assert metrics[-1]["test_acc"] > 0.4       # 10 classes: chance is 0.1
    for f in ("config.json", "metrics.csv", "learning_curve.png", "weights.npz", "checkpoint.npz"):
        assert (out / f).exists(), f
    # evaluate reproduces the number the run recorded (same test streams)
    assert cli.main(["evaluate", str(out), "--test-samples", "100", "--quiet"]) == 0
    assert f"{100 * metrics[-1]['test_acc']:.2f}%" in capsys.readouterr().out
    # evaluated for more steps than it was trained with: the weights still work (the
    # time constant scales with T) and less encoding noise cannot hurt much
    acc = {}
    for T in (8, 40):
        assert cli.main(["evaluate", str(out), "--test-samples", "300", "--steps", str(T), "--quiet"]) == 0
        line = capsys.readouterr().out
        assert f"T = {T}" in line
        acc[T] = float(line.split("accuracy ")[1].split("%")[0])
    assert acc[40] > 40 and acc[40] >= acc[8] - 3
    one_error_line(capsys, ["evaluate", str(out), "--steps", "0"], "steps")
    # the same command with more epochs continues the run
    w2 = load_weights(out / "weights.npz")
    assert cli.main(["train", *TINY, "--epochs", "3", "--batch-updates", "mini-batch", "--out", str(out)]) == 0
    assert "resuming" in capsys.readouterr().out
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 3
    assert not all(np.array_equal(a, b) for a, b in zip(w2, load_weights(out / "weights.npz")))
    # other parameters in the same folder: refused, one line
    one_error_line(capsys, ["train", *TINY, "--eta", "0.1", "--out", str(out)], "--overwrite")


def test_validation_split_is_held_out_and_scored(capsys, tmp_path):
    from lava_ssnnbp.data import load_dataset
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--val-samples", "200", "--batch-updates", "mini-batch", "--out", str(out)]) == 0
    assert "400 train / 200 validation" in capsys.readouterr().out
    m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert m["val_samples"] == 200 and 0.2 < m["val_acc"] <= 1 and m["train_samples"] == 400
    full = load_dataset("default", "train")
    rest, val = full.split_off(200, cli.VAL_SEED)
    assert len(rest) + len(val) == len(full) and np.bincount(val.y).min() == 20      # class-balanced
    assert not (set(map(bytes, val.x)) & set(map(bytes, rest.x)))                  # disjoint images
    assert np.array_equal(full.split_off(200, cli.VAL_SEED)[1].y, val.y)           # the same for every run


def test_evaluate_activity_reports_spikes_per_layer(capsys, tmp_path):
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import SpikeActivity, evaluate_counts
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--epochs", "1", "--batch-updates", "mini-batch", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--test-samples", "100", "--activity", "--quiet"]) == 0
    rows = {int(line.split()[0]): line.split() for line in capsys.readouterr().out.splitlines()
            if line.split() and line.split()[0].isdigit()}
    assert sorted(rows) == [0, 1, 2]
    # the output layer's spikes per sample are those of the counts the accuracy comes from
    cfg = SSNNConfig.from_dict(json.loads((out / "config.json").read_text())["model"])
    test = load_dataset("default", "test").subset(100, 0)
    counts = evaluate_counts(cfg, load_weights(out / "weights.npz"), test.x, 0, progress=False)
    assert float(rows[2][2]) == pytest.approx(counts.sum(axis=1).mean(), abs=0.05)
    assert float(rows[0][6]) == pytest.approx(float(rows[0][2]) * cfg.sizes[1], rel=1e-3)   # spikes x fan-out
    # silent weights: no hidden spike, every hidden neuron reported as never active
    act = SpikeActivity(cfg)
    zero = [np.zeros_like(w) for w in load_weights(out / "weights.npz")]
    evaluate_counts(cfg, zero, test.x[:20], 0, progress=False, activity=act)
    hid = act.summary()[1]
    assert hid["spikes_per_sample"] == 0 and hid["never_active"] == cfg.sizes[1] and hid["active_fraction"] == 0
    assert act.summary()[0]["spikes_per_sample"] > 0 and act.samples == 20
    one_error_line(capsys, ["evaluate", str(out), "--activity", "--backend", "lava"], "--activity", "engine")


def test_ann_twin_trains_on_the_same_pipeline(capsys, tmp_path):
    out = tmp_path / "ann"
    assert cli.main(["train", *TINY, "--model", "ann", "--ann-lr", "0.1", "--epochs", "2", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())["epochs"]
    assert metrics[-1]["test_acc"] > 0.5
    assert cli.main(["evaluate", str(out), "--test-samples", "100", "--quiet"]) == 0
    assert f"{100 * metrics[-1]['test_acc']:.2f}%" in capsys.readouterr().out


def test_info_lists_data_sets_and_network_size(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "lava-nc 0.10.0" in out and "default" in out and "784-1280-10" in out
    assert "1016320 plastic synapses" in out


@pytest.mark.lava
def test_lava_backend_learns_the_same_weights_as_the_engine(tmp_path):
    """``--backend lava`` learns inside the Lava processes; per-sample updates in
    fixed point make it bit-identical to the engine."""
    args = ["--dataset", "default", "--train-samples", "12", "--test-samples", "10", "--hidden", "16",
            "--steps", "20", "--fixed-point", "--mode", "coincidence", "--eta", "0.5", "--quiet",
            "--batch-updates", "per-sample", "--batch-size", "6"]
    assert cli.main(["train", *args, "--backend", "lava", "--out", str(tmp_path / "lava")]) == 0
    assert cli.main(["train", *args, "--backend", "engine", "--out", str(tmp_path / "engine")]) == 0
    wl, we = load_weights(tmp_path / "lava" / "weights.npz"), load_weights(tmp_path / "engine" / "weights.npz")
    for a, b in zip(wl, we):
        np.testing.assert_array_equal(a, b)
    cfg = SSNNConfig(sizes=(784, 16, 10), steps=20, fixed_point=True, mode="coincidence", eta=0.5)
    assert not np.array_equal(wl[0], init_weights(cfg, 0)[0]), "nothing was learned"
    ml = json.loads((tmp_path / "lava" / "metrics.json").read_text())["epochs"][-1]
    me = json.loads((tmp_path / "engine" / "metrics.json").read_text())["epochs"][-1]
    assert ml["test_acc"] == me["test_acc"] and ml["train_acc"] == me["train_acc"]


@pytest.mark.lava
def test_ctrl_c_on_a_lava_run_prints_one_line_and_leaves_no_worker(tmp_path):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, workers
    included. One line, exit status 130, no worker traceback, no worker left."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lava_ssnnbp.cli", "train", "--dataset", "default", "--backend", "lava",
           "--train-samples", "2000", "--test-samples", "20", "--hidden", "16", "--steps", "20", "--epochs", "50",
           "--checkpoint-every", "1e-9", "--quiet", "--out", str(out)]
    main = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)          # its own process group, as in a terminal
    workers = {}
    try:
        # a checkpoint is written after each trained batch: the Lava run has started,
        # and it cannot end by itself before the signal (50 epochs)
        assert procs.wait_for(lambda: (out / "checkpoint.npz").exists() or main.poll() is not None)
        assert main.poll() is None, main.communicate()
        workers = procs.descendants(main.pid)
        assert len(workers) >= 9, workers                    # 8 Lava actors + the shared-memory manager
        os.killpg(main.pid, signal.SIGINT)
        stdout, stderr = main.communicate(timeout=procs.DEADLINE_S)
        assert main.returncode == 130, stderr[-3000:]
        assert "Traceback" not in stdout + stderr
        assert stderr.strip().splitlines() == [
            "ssnnbp: interrupted (the last checkpoint is kept; run the same command to resume)"]
        assert procs.survivors(workers) == []
    finally:
        if main.poll() is None:
            os.killpg(main.pid, signal.SIGKILL)
            main.wait()
        procs.kill(workers)
