"""``make demo`` (lava_ssnnbp/demo.py) at a tiny size: what a newcomer reads -- every term of
the run's line explained, the test accuracy before learning next to after (engine and Lava
parts) with chance level, and why train accuracy reads below test."""
import re

import numpy as np
import pytest

from lava_ssnnbp import demo, dynamics as dyn
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.runs import read_run_folder

pytestmark = [pytest.mark.lava, pytest.mark.slow]

TINY = ["--epochs", "1", "--hidden", "16", "--train-samples", "60", "--test-samples", "20", "--steps", "12",
        "--lava-samples", "3", "--lava-test-samples", "4"]


def test_demo_explains_its_terms_and_prints_accuracy_before_and_after_learning(tmp_path, capsys):
    run = tmp_path / "run"
    assert demo.main([*TINY, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    folder = read_run_folder(run)
    label = next(line for line in out.splitlines() if line.startswith("SSNN-BP "))
    assert "784-16-10 replay T=12 fixed, chip configuration loihi2 on default" in label
    terms = demo.run_terms(folder.cfg, folder.settings)
    for term, meaning in terms:
        assert term in label or term == "epoch N", f"explains {term!r}, which the run's line does not show"
        assert f"  {term:18s} {meaning}\n" in out
    assert [t for t, _ in terms][:4] == ["784-16-10", "replay", "T=12", "fixed"] and "epoch 1: train" in out

    # part 1: before learning = the run's initial weights on its test images, after = its metrics
    m = re.search(r"test accuracy on 20 images: before learning ([\d.]+)% \(random initial weights; "
                  r"chance: 10\.0%, 10 classes\), after 1 epoch ([\d.]+)%", out)
    assert m, out
    test = load_dataset("default", "test").subset(20, 0)
    initial = Engine(folder.cfg, dyn.init_weights(folder.cfg, 0), 0).predict_labels(test.x)
    assert m.group(1) == f"{100 * np.mean(initial == test.y):.2f}"
    assert m.group(2) == f"{100 * folder.metrics[-1]['test_acc']:.2f}"
    assert "with dropout (20% of the input spikes and 30% of the hidden spikes removed at random)" in out
    assert ("train below test: " if folder.metrics[-1]["train_acc"] < folder.metrics[-1]["test_acc"]
            else "train vs test: ") + "'train' scores each training image on the pass that learns from it" in out

    # part 2: before learning (the initial weights) next to Lava's and the engine's after, and chance
    m = re.search(r"test accuracy on 4 images: before learning ([\d.]+)% \(the initial weights, both networks', "
                  r"tested in the engine; chance: 10\.0%\), after 3 training images:\n"
                  r"  Lava: +([\d.]+)% .*\n  engine: +([\d.]+)% ", out)
    assert m, out
    small = demo.lava_check_config(folder.cfg)   # part 1's configuration at preset lava-chip-small's size
    assert (small.sizes, small.steps, small.replay_steps, small.target) == ((784, 64, 10), 12, 8, "loihi2")
    assert "== 2. the chip configuration at 784-64-10, T = 12, replay window 8 (preset lava-chip-small)" in out
    first = load_dataset("default", "test")   # the check tests the first images
    initial = Engine(small, dyn.init_weights(small, 0), 0).predict_labels(first.x[:4])
    assert m.group(1) == f"{100 * np.mean(initial == first.y[:4]):.1f}" and m.group(2) == m.group(3)
    assert "weights identical in Lava and the engine: True" in out and "same predictions: True" in out


def test_train_vs_test_note_names_the_configured_dropout():
    from lava_ssnnbp.config import SSNNConfig
    note = demo.train_vs_test_note(SSNNConfig(sizes=(4, 3, 3, 2), dropout=(0.1, 0.0, 0.25)))
    assert "10% of the input spikes and 25% of the hidden layer 2 spikes" in note and "without dropout" in note
    assert "dropout" not in demo.train_vs_test_note(SSNNConfig(sizes=(4, 3, 2), dropout=(0.0, 0.0)))


def test_ctrl_c_in_the_lava_check_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch):
    """The Lava part can take minutes on a loaded machine; Ctrl-C there ends the demo in one
    line (exit 130), not a KeyboardInterrupt traceback, and leaves part 1's run folder whole."""
    run = tmp_path / "demo_run"

    def interrupted(*args, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(demo, "lava_check", interrupted)
    assert demo.main([*TINY, "--out", str(run)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("interrupted: the Lava check stopped") and "Traceback" not in "\n".join(err)
    assert read_run_folder(run).weights is not None
