"""The ssnnbp command line: end-to-end runs and one-line errors for bad input."""
import json
import os
import shutil
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

TINY = ["--preset", "none", "--dataset", "default", "--train-samples", "400", "--test-samples", "100", "--hidden", "32",
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
    (["train", *TINY, "--eta-warmup", str(10 ** 9)], ["eta_warmup", "1000000000", "never"]),
    (["train", *TINY, "--val-samples", "6000"], ["val_samples", "6000"]),
    (["nonsense"], ["nonsense"]),
    (["train", *TINY, "--model", "tssl-bp", "--conv", ""], ["argument --conv", "empty"]),
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
    # the ANN twin has no spiking network: '--backend lava' used to print its numpy accuracy
    one_error_line(capsys, ["evaluate", str(out), "--backend", "lava"], "argument --backend", "ann", "engine only")


def test_info_lists_data_sets_and_network_size(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "lava-nc 0.10.0" in out and "default" in out and "784-1280-10" in out
    assert "1016320 plastic synapses" in out


@pytest.mark.lava
def test_lava_backend_learns_the_same_weights_as_the_engine(tmp_path):
    """``--backend lava`` learns inside the Lava processes; per-sample updates in
    fixed point make it bit-identical to the engine."""
    args = ["--preset", "none", "--dataset", "default", "--train-samples", "12", "--test-samples", "10", "--hidden",
            "16", "--steps", "20", "--fixed-point", "--mode", "coincidence", "--eta", "0.5", "--quiet",
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
@pytest.mark.parametrize("sig,said", [(signal.SIGINT, "interrupted"), (signal.SIGHUP, "stopped by SIGHUP"),
                                      (signal.SIGTERM, "stopped by SIGTERM")])
def test_ctrl_c_on_a_lava_run_prints_one_line_and_leaves_no_worker(tmp_path, sig, said):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, workers
    included; a closed terminal sends SIGHUP so, and SIGTERM stops it as well. One
    line, exit status 128 + signal, no worker traceback, no worker (and so no
    shared-memory manager with its /dev/shm segments) left."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lava_ssnnbp.cli", "train", "--preset", "none", "--dataset", "default", "--backend",
           "lava",
           "--train-samples", "2000", "--test-samples", "20", "--hidden", "16", "--steps", "20", "--epochs", "50",
           "--checkpoint-every", "1e-9", "--quiet", "--out", str(out)]
    # its own process group, as in a terminal, with SIGINT's default action even when this
    # test run inherited it ignored (a background job): Python then installs KeyboardInterrupt
    main = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    workers = {}
    try:
        # a checkpoint is written after each trained batch: the Lava run has started,
        # and it cannot end by itself before the signal (50 epochs)
        # (Lava's start and first batch: seconds normally, over a minute on a loaded 2-core machine)
        assert procs.wait_for(lambda: (out / "checkpoint.npz").exists() or main.poll() is not None,
                              10 * procs.DEADLINE_S)
        assert main.poll() is None, main.communicate()
        workers = procs.descendants(main.pid)
        assert len(workers) >= 9, workers                    # 8 Lava actors + the shared-memory manager
        os.killpg(main.pid, sig)
        stdout, stderr = main.communicate(timeout=procs.DEADLINE_S)
        assert main.returncode == 128 + sig, stderr[-3000:]
        assert "Traceback" not in stdout + stderr
        assert stderr.strip().splitlines() == [
            f"ssnnbp: {said} (the last checkpoint is kept; run the same command to resume)"]
        assert procs.survivors(workers) == []
    finally:
        if main.poll() is None:
            os.killpg(main.pid, signal.SIGKILL)
            main.wait()
        procs.kill(workers)


# ------------------------------------------------------------------ bad run folders
FAST = [*TINY, "--batch-updates", "mini-batch"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A float and a fixed-point run folder (one epoch each); tests damage copies of them."""
    root = tmp_path_factory.mktemp("trained")
    for name, extra in (("float", []), ("fixed", ["--fixed-point"])):
        assert cli.main(["train", *FAST, *extra, "--out", str(root / name)]) == 0
    return root


def _npz(path, **change):
    """Rewrite an npz file with entries replaced (None: removed), as a hand edit would."""
    z = dict(np.load(path))
    for k, v in change.items():
        z.pop(k) if v is None else z.__setitem__(k, v)
    np.savez(path, **z)


def _json(path, edit):
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))


def _with(array, index, value):
    a = array.astype(np.float64)
    a[index] = value
    return a


W, C, M, K = "weights.npz", "config.json", "metrics.json", "checkpoint.npz"
DAMAGES = {   # name: (folder, file the message names, damage)
    "weights-nan": ("float", W, lambda d: _npz(d / W, w0=_with(np.load(d / W)["w0"], (0, 0), np.nan))),
    "weights-wrong-shape": ("float", W, lambda d: _npz(d / W, w0=np.load(d / W)["w0"].T)),
    "weights-extra-array": ("float", W, lambda d: _npz(d / W, notes=np.zeros(3))),
    "weights-extra-layer": ("float", W, lambda d: _npz(d / W, w2=np.zeros((10, 10)))),
    "weights-missing-layer": ("float", W, lambda d: _npz(d / W, w1=None)),
    "weights-strings": ("float", W, lambda d: _npz(d / W, w0=np.array([["a"] * 784] * 32))),
    "weights-float-in-fixed-point": ("fixed", W, lambda d: _npz(d / W, w0=np.load(d / W)["w0"] + 0.5)),
    "weights-beyond-8-bits": ("fixed", W, lambda d: _npz(d / W, w0=np.load(d / W)["w0"] * 0 + 500)),
    "weights-not-npz": ("float", W, lambda d: (d / W).write_bytes(b"garbage")),
    "weights-missing": ("float", W, lambda d: (d / W).unlink()),
    "config-seed-string": ("float", C, lambda d: _json(d / C, lambda c: c["run"].__setitem__("seed", "abc"))),
    "config-steps-string": ("float", C, lambda d: _json(d / C, lambda c: c["model"].__setitem__("steps", "20"))),
    "config-fixed-point-string": ("fixed", C,
                                  lambda d: _json(d / C, lambda c: c["model"].__setitem__("fixed_point", "False"))),
    "config-tau-nan": ("float", C, lambda d: _json(d / C, lambda c: c["model"].__setitem__("tau", float("nan")))),
    "config-unknown-parameter": ("float", C, lambda d: _json(d / C, lambda c: c["model"].__setitem__("thetaa", 3))),
    "config-run-list": ("float", C, lambda d: _json(d / C, lambda c: c.__setitem__("run", [1]))),
    "config-not-json": ("float", C, lambda d: (d / C).write_text("{not json")),
    "config-is-a-folder": ("float", C, lambda d: ((d / C).unlink(), (d / C).mkdir())),
    "config-missing": ("float", C, lambda d: (d / C).unlink()),
    "checkpoint-not-npz": ("float", K, lambda d: (d / K).write_bytes(b"PK\x03\x04 cut short")),
    "checkpoint-epoch-string": ("float", K, lambda d: _npz(d / K, epoch=np.array("x"))),
    "checkpoint-position-negative": ("float", K, lambda d: _npz(d / K, position=np.array(-5))),
    "checkpoint-position-beyond-data": ("float", K, lambda d: _npz(d / K, epoch=np.array(0),
                                                                   position=np.array(10 ** 6))),
    "checkpoint-no-samples-seen": ("float", K, lambda d: _npz(d / K, samples_seen=None)),
    "checkpoint-weights-inf": ("float", K, lambda d: _npz(d / K, w0=_with(np.load(d / K)["w0"], (1, 2), np.inf))),
    "checkpoint-extra-entry": ("float", K, lambda d: _npz(d / K, junk=np.zeros(2))),
    "checkpoint-epoch-ahead": ("float", K, lambda d: _npz(d / K, epoch=np.array(7))),
    "checkpoint-missing": ("float", K, lambda d: (d / K).unlink()),
    "metrics-not-json": ("float", M, lambda d: (d / M).write_text("{bad")),
    "metrics-a-list": ("float", M, lambda d: (d / M).write_text("[1, 2]")),
    "metrics-bad-record": ("float", M, lambda d: (d / M).write_text('{"epochs": [1]}')),
    "metrics-accuracy-nan": ("float", M, lambda d: _json(d / M, lambda m: m["epochs"][0].__setitem__("test_acc",
                                                                                                      float("nan")))),
    "metrics-epoch-renumbered": ("float", M, lambda d: _json(d / M, lambda m: m["epochs"][0].__setitem__("epoch", 2))),
    "folder-is-a-file": ("float", "", lambda d: (shutil.rmtree(d), d.write_text("not a folder"))),
}


RESUME_ONLY = {"checkpoint-position-beyond-data"}   # only training knows the training set's size


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_run_folder_is_one_line_naming_the_file(capsys, trained, tmp_path, damage):
    """evaluate, info --run and a resumed train read a run folder through one checked path."""
    from lava_ssnnbp.runs.state import read_manifest, state_folder
    which, name, hurt = DAMAGES[damage]
    run = tmp_path / "run"
    shutil.copytree(trained / which, run)
    # the committed state's files are damaged (the top-level ones are its copies for people)
    where = run if name in ("", C) else state_folder(run, read_manifest(run))
    hurt(where)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} if run.is_dir() else None
    extra = ["--fixed-point"] if which == "fixed" else []
    commands = [["evaluate", str(run), "--quiet"], ["info", "--run", str(run)]]
    if damage in RESUME_ONLY:
        commands = []
    for argv in commands + [["train", *FAST, *extra, "--epochs", "2", "--out", str(run)]]:
        line = one_error_line(capsys, argv, str(where / name))
        assert "Traceback" not in line
    if before is not None:   # the refused resume changed nothing
        assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"} == \
            {k: v for k, v in before.items() if k.name != ".lock"}


def test_intact_run_folder_is_described(capsys, trained):
    assert cli.main(["info", "--run", str(trained / "fixed")]) == 0
    out = capsys.readouterr().out
    assert f"run {trained / 'fixed'}: snn on default, 1 epoch finished" in out and "files check out" in out


# ------------------------------------------------------------------ train options and environment
@pytest.mark.parametrize("argv,needles", [
    (["--seed", "-1"], ["argument --seed", "-1"]),
    (["--wta-inhibition", "nan"], ["argument --wta-inhibition", "nan"]),
    (["--tau", "inf"], ["argument --tau", "inf"]),
    (["--theta", "-inf"], ["argument --theta"]),
    (["--checkpoint-every", "nan"], ["argument --checkpoint-every", "nan"]),
    (["--eta-decay", "nan"], ["argument --eta-decay"]),
    (["--model", "ann", "--ann-lr", "inf"], ["argument --ann-lr"]),
    (["--mode", "noise", "--noise-std", "inf"], ["argument --noise-std"]),
    (["--input-gain", "nan"], ["argument --input-gain"]),
    (["--init-gain", "0"], ["argument --init-gain"]),
    (["--fixed-point", "--weight-exp=100,100"], ["argument --weight-exp", "-8..7"]),
    (["--fixed-point", "--weight-exp=6,0"], ["argument --weight-exp", "round to 0"]),
    (["--fixed-point", "--weight-bits", "2"], ["argument --weight-exp", "saturate"]),
    (["--hidden", ""], ["argument --hidden", "''"]),
    (["--hidden", "32,,8"], ["argument --hidden"]),
    (["--hidden", "0"], ["argument --hidden", "sizes"]),
    (["--dropout", ""], ["argument --dropout"]),
    (["--steps", str(10 ** 10)], ["argument --steps", "GiB", "fits"]),
    (["--steps", str(10 ** 10), "--batch-updates", "mini-batch"], ["argument --steps", "batch 20"]),
    (["--batch-updates", "mini-batch", "--batch-size", str(10 ** 8)], ["argument --batch-size", "fits"]),
    (["--hidden", str(10 ** 8)], ["argument --hidden", "synapses", "GiB"]),
    (["--fixed-point", "--theta-hidden-grad", "1e9"], ["argument --theta-hidden-grad", "17-bit"]),
    (["--fixed-point", "--steps", "10000"], ["argument --theta", "tau = 1000"]),
    (["--fixed-point", "--wta-inhibition", "1e300"], ["argument --wta-inhibition"]),
    (["--fixed-point", "--eta", "1e-30"], ["argument --eta", "shift"]),
    (["--theta", "1e300"], ["argument --theta", "float32"]),
    (["--test-samples", "0"], ["argument --test-samples"]),
    (["--train-samples", "-4"], ["argument --train-samples"]),
])
def test_bad_train_option_names_it_and_creates_nothing(capsys, tmp_path, argv, needles):
    out = tmp_path / "run"
    line = one_error_line(capsys, ["train", *TINY, *argv, "--out", str(out)], *needles)
    assert "dropout" not in line or "--dropout" in argv
    assert not out.exists()


def test_run_folder_that_is_a_file(capsys, tmp_path, monkeypatch):
    f = tmp_path / "file"
    f.write_text("x")
    one_error_line(capsys, ["train", *TINY, "--out", str(f)], str(f), "is a file")
    one_error_line(capsys, ["train", *TINY, "--out", str(f / "sub")], str(f / "sub"), "is a file")
    monkeypatch.setenv("SSNNBP_RUNS", str(f))
    monkeypatch.setattr(cli, "RUNS_ROOT", f)
    one_error_line(capsys, ["train", *TINY], str(f), "$SSNNBP_RUNS")


@pytest.mark.parametrize("argv,option", [
    (["train", *TINY, "--out", ""], "--out"),
    (["train", *TINY, "--out", " "], "--out"),
    (["train", *TINY, "--data-dir", ""], "--data-dir"),
    (["evaluate", ""], "RUN_DIR"),
    (["info", "--run", ""], "--run"),
])
def test_an_empty_path_is_refused_not_read_as_here(capsys, tmp_path, monkeypatch, argv, option):
    """--out '' put the run folder in the working directory (or the default root)."""
    monkeypatch.chdir(tmp_path)
    one_error_line(capsys, argv, f"argument {option}", "empty")
    assert os.listdir(tmp_path) == []


def test_an_empty_runs_root_is_refused(capsys, tmp_path, monkeypatch):
    """SSNNBP_RUNS='' made the root '.', the working directory."""
    from pathlib import Path
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSNNBP_RUNS", "")
    monkeypatch.setattr(cli, "RUNS_ROOT", Path(os.environ["SSNNBP_RUNS"]).expanduser())   # as at import
    one_error_line(capsys, ["train", *TINY], "$SSNNBP_RUNS", "empty")
    assert os.listdir(tmp_path) == []


def test_data_set_with_no_samples(capsys, tmp_path):
    from lava_ssnnbp.data.idx import write_idx
    (tmp_path / "mnist").mkdir()
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / "mnist" / f"{prefix}-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))
        write_idx(tmp_path / "mnist" / f"{prefix}-labels-idx1-ubyte", np.zeros(0, np.uint8))
    one_error_line(capsys, ["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--no-verify", "--quiet",
                            "--out", str(tmp_path / "run")], "train-images-idx3-ubyte", "no samples")


def test_a_start_that_failed_does_not_block_the_corrected_command(capsys, tmp_path):
    """A folder holding only a config.json (the start failed, or was killed before
    its first checkpoint) has nothing to resume: the next command starts afresh."""
    from lava_ssnnbp.training import Run, RunSettings
    out = tmp_path / "run"
    Run.open(out, SSNNConfig(sizes=(784, 32, 10), steps=20, eta=5.0), RunSettings()).close()
    assert (out / "config.json").exists()
    assert cli.main(["train", *FAST, "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["model"]["eta"] == 0.5
    # once it has results, other parameters are refused as before
    one_error_line(capsys, ["train", *FAST, "--eta", "0.1", "--out", str(out)], "other parameters")


HOLDER = """
import sys
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.training import Run, RunSettings
run = Run.open(sys.argv[1], SSNNConfig(sizes=(784, 32, 10), steps=20), RunSettings())
print("holding", flush=True)
sys.stdin.read()   # holds the folder until killed
"""


def test_a_run_folder_is_trained_by_one_process_at_a_time(tmp_path):
    """Two real processes: while one holds a run folder, 'train' on it (with or
    without --overwrite) is refused and changes nothing; once the holder is killed
    with SIGKILL the kernel has released the lock and training proceeds."""
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        before = (out / "config.json").read_bytes()
        for extra in ([], ["--overwrite"]):
            r = subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "train", *FAST, "--out", str(out), *extra],
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 2, r.stderr
            assert r.stderr.strip() == (f"ssnnbp: error: run folder {out} is in use by another training process "
                                        f"(pid {holder.pid})")
        assert (out / "config.json").read_bytes() == before and not (out / "weights.npz").exists()
    finally:
        holder.kill()
        holder.wait()
    r = subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "train", *FAST, "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 1


# ------------------------------------------------------------------ messages and help
def _subparsers():
    p = cli._build_parser()
    return p, p._subparsers._group_actions[0].choices


def test_every_option_states_its_default():
    _, subs = _subparsers()
    for name, sub in subs.items():
        for a in sub._actions:
            if a.option_strings and a.dest != "help":
                assert "default" in (a.help or ""), f"{name} {a.option_strings[0]}"


def test_help_points_to_files_in_the_repository_and_says_each_default_once(capsys):
    from pathlib import Path
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "SPEC.md" not in text and "README.md" in text
    assert (Path(cli.__file__).parents[2] / "README.md").exists()   # lava_ssnnbp/cli/__init__.py
    wta = text.split("--wta, --no-wta")[1].split("--wta-inhibition")[0]
    assert wta.count("default") == 1 and "True" not in wta
    _, subs = _subparsers()
    data_dir = next(a for a in subs["evaluate"]._actions if a.dest == "data_dir")
    assert "default: the run's own" in data_dir.help


def test_empty_hidden_list_is_reported_as_hidden(capsys):
    line = one_error_line(capsys, ["info", "--hidden", ""], "--hidden")
    assert "dropout" not in line


def test_evaluate_rejects_zero_test_samples(capsys, trained):
    one_error_line(capsys, ["evaluate", str(trained / "float"), "--test-samples", "0"], "--test-samples", "'0'")


def test_progress_in_a_log_is_one_line_per_epoch(capsys, tmp_path):
    """Not a terminal (capsys, like a file or pipe): no live bars, one summary line per epoch."""
    argv = [a for a in FAST if a != "--quiet"]
    assert cli.main(["train", *argv, "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    cap = capsys.readouterr()
    assert "\r" not in cap.err and cap.err.strip() == ""
    epochs = [line for line in cap.out.splitlines() if line.startswith("epoch ")]
    assert [e.split(":")[0] for e in epochs] == ["epoch 1", "epoch 2"]


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A 20 + 20-sample MNIST folder whose registry entry (counts, MD5s) it matches,
    with every real search root hidden."""
    import dataclasses
    import gzip
    import hashlib
    from lava_ssnnbp.data import registry
    from lava_ssnnbp.data.idx import write_idx
    monkeypatch.delenv("SSNNBP_DATA", raising=False)
    monkeypatch.setattr(registry, "CACHE_DIR", tmp_path / "no-cache")
    monkeypatch.setattr(registry, "SYSTEM_DIR", tmp_path / "no-system")
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    md5 = {}
    for split, (img, lab) in registry.DATASETS["mnist"].files.items():
        write_idx(folder / (img + ".gz"), rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
        write_idx(folder / (lab + ".gz"), (np.arange(20) % 10).astype(np.uint8))
        for name in (img, lab):
            md5[name] = hashlib.md5(gzip.decompress((folder / (name + ".gz")).read_bytes())).hexdigest()
    info = dataclasses.replace(registry.DATASETS["mnist"], counts={"train": 20, "test": 20}, md5=md5)
    monkeypatch.setitem(registry.DATASETS, "mnist", info)
    return folder


def _info_line(capsys, name, *argv):
    assert cli.main(["info", *argv]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if line.split()[:1] == [name])


def test_info_says_where_each_data_set_is_and_if_its_checksums_pass(capsys, fake_mnist):
    import gzip
    data = str(fake_mnist.parent)
    line = _info_line(capsys, "mnist", "--data-dir", data)
    assert f"found in {fake_mnist}: train 20, test 20 samples" in line and "not verified" in line
    assert "checksums pass" in _info_line(capsys, "mnist", "--data-dir", data, "--verify")
    assert _info_line(capsys, "emnist", "--data-dir", data).split()[1:] == ["not", "found"]
    assert "embedded" in _info_line(capsys, "default")
    # one changed label, same size: only the MD5 tells
    lab = fake_mnist / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(lab.read_bytes()))
    content[-1] = (content[-1] + 1) % 10
    lab.write_bytes(gzip.compress(bytes(content)))
    assert "not verified" in _info_line(capsys, "mnist", "--data-dir", data)
    line = _info_line(capsys, "mnist", "--data-dir", data, "--verify")
    assert "checksum FAIL" in line and lab.name in line
    # a truncated file is caught without --verify
    img = fake_mnist / "train-images-idx3-ubyte.gz"
    img.write_bytes(img.read_bytes()[:-200])
    line = _info_line(capsys, "mnist", "--data-dir", data)
    assert "BROKEN" in line and img.name in line


def test_too_long_warmup_is_refused_before_the_run_folder_is_written(capsys, tmp_path):
    out = tmp_path / "run"
    one_error_line(capsys, ["train", *TINY, "--epochs", "2", "--eta-warmup", "801", "--out", str(out)],
                   "eta_warmup 801", "2 epochs x 400 samples")
    assert not out.exists()


@pytest.mark.parametrize("delay_s", [0.0, 0.03, 0.1, 0.3])
def test_ctrl_c_while_starting_is_one_line(delay_s):
    """Ctrl-C while 'ssnnbp info' loads its modules (numpy, the data sets) or runs: one
    line and exit status 130, never a KeyboardInterrupt traceback. The signal is sent
    once the process is loading numpy, which the CLI imports after its own handler."""
    import time
    cmd = [sys.executable, "-m", "lava_ssnnbp.cli", "info"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        def loading_numpy():
            try:
                return "_multiarray_umath" in open(f"/proc/{p.pid}/maps").read()
            except OSError:
                return True       # ended already
        assert procs.wait_for(lambda: loading_numpy() or p.poll() is not None)
        time.sleep(delay_s)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=procs.DEADLINE_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "Traceback" not in stdout + stderr
    if p.returncode != 0:    # it may have finished before the signal
        assert p.returncode == 130, stderr
        assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("ssnnbp: interrupted"), stderr


def test_full_standard_output_is_one_line():
    """stdout on /dev/full: one error line naming standard output, exit status 1."""
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "info"], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=procs.DEADLINE_S)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == ["ssnnbp: error: cannot write to standard output (No space left on device)"]


def test_out_of_memory_is_one_line(tmp_path):
    """An allocation the memory checks did not foresee (here: under ulimit -v) ends in one line."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2 ** 30, 3 * 2 ** 30))
    p = subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "train", "--preset", "none", "--dataset", "default",
                        "--mode", "replay",
                        "--replay-steps", "100000000", "--train-samples", "10", "--test-samples", "10", "--hidden", "16",
                        "--out", str(tmp_path / "run")], capture_output=True, text=True, preexec_fn=limit,
                       timeout=600)
    assert p.returncode in (1, 2), p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ssnnbp: error:") and "memory" in lines[0], p.stderr
