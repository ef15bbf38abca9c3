"""N-MNIST end to end: recordings in the original binary format (written here) -> tonic ->
T event frames -> ``ssnnbp train --dataset nmnist`` with the engine and inside Lava."""
import json

import numpy as np
import pytest

from lava_ssnnbp import cli
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.data import DataError, load_dataset, registry
from lava_ssnnbp.data.nmnist import encode_events, synthetic_recording
from lava_ssnnbp.dynamics import init_weights
from lava_ssnnbp.training import load_weights
from nmnist_files import EXPECT_A, SAMPLE_A, frames, write_digit_recordings, write_nmnist
from nmnist_files import encode_events as encode_event_list

T = 12
ARGS = ["--preset", "none", "--dataset", "nmnist", "--no-verify", "--steps", str(T), "--hidden", "16", "--fixed-point",
        "--mode", "coincidence", "--eta", "0.5", "--train-samples", "12", "--test-samples", "8",
        "--batch-updates", "per-sample", "--batch-size", "6", "--seed", "0", "--quiet"]
RUN_FILES = ("config.json", "metrics.json", "metrics.csv", "learning_curve.png", "weights.npz", "checkpoint.npz")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.delenv("SSNNBP_DATA", raising=False)
    monkeypatch.setattr(registry, "CACHE_DIR", tmp_path / "no-cache")
    monkeypatch.setattr(registry, "SYSTEM_DIR", tmp_path / "no-system")
    monkeypatch.setattr(cli, "RUNS_ROOT", tmp_path / "runs")


@pytest.fixture(scope="module")
def nmnist_dir(tmp_path_factory):
    return write_digit_recordings(tmp_path_factory.mktemp("nmnist"), n_train=20, n_test=10)


def test_synthetic_recordings_are_valid_nmnist(nmnist_dir):
    files = sorted((nmnist_dir / "NMNIST" / "Train").glob("*/*.bin"))
    assert len(files) == 20 and all(f.stat().st_size % 5 == 0 for f in files)
    ds = load_dataset("nmnist", "train", nmnist_dir, steps=T, verify=False)
    assert ds.x.shape == (20, T, 2312) and ds.x.dtype == np.uint8 and set(np.unique(ds.x)) <= {0, 1}
    assert sorted(set(ds.y.tolist())) == list(range(10))
    per_step = ds.x.sum(axis=2)
    assert (per_step > 0).mean() > 0.9, "every time bin should hold events"
    # both polarities occur
    assert ds.x.reshape(20, T, 2, 34, 34).sum(axis=(0, 1, 3, 4)).min() > 0


def test_encode_events_roundtrip_through_tonic(tmp_path):
    from tonic.io import read_mnist_file
    x, y, p, t = synthetic_recording(np.eye(28), np.random.default_rng(1))
    f = tmp_path / "r.bin"
    f.write_bytes(encode_events(x, y, p, t))
    ev = read_mnist_file(str(f), dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    np.testing.assert_array_equal(ev["x"], x)
    np.testing.assert_array_equal(ev["t"], t)
    np.testing.assert_array_equal(ev["p"], p)
    assert t.max() < 300_000 and x.max() <= 33 and y.max() <= 33
    with pytest.raises(ValueError, match="out of range"):
        encode_events([0], [0], [2], [0])


@pytest.mark.parametrize("where", ["12", "3/extra", "."])
def test_a_recording_outside_a_class_folder_is_refused(tmp_path, where):
    """tonic reads the label from the last character of the folder's name: '12/' was class 2."""
    base = write_nmnist(tmp_path)
    (base / where).mkdir(parents=True, exist_ok=True)
    (base / where / "00009.bin").write_bytes(encode_event_list(SAMPLE_A))
    with pytest.raises(DataError, match=r"N-MNIST recording .*00009\.bin is not in a class folder named by one "
                                        r"digit 0-9"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)


def test_an_event_outside_the_sensor_is_refused_naming_the_file(tmp_path):
    """At the recording's last timestamp tonic drops the event (its last bin ends there), so an
    event at x = 200 on the 34-pixel sensor used to load without a word."""
    base = write_nmnist(tmp_path)
    (base / "3" / "00001.bin").write_bytes(encode_event_list([(1, 1, 0, 0), (2, 2, 1, 500), (200, 3, 1, 1000)]))
    with pytest.raises(DataError, match=r"corrupt N-MNIST file .*3/00001\.bin: event 2 at x = 200, y = 3 is "
                                        r"outside the 34 x 34 sensor"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)
    (base / "3" / "00001.bin").write_bytes(encode_event_list([(1, 34, 0, 0), (2, 2, 1, 500)]))
    with pytest.raises(DataError, match="y = 34 is outside"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)


@pytest.mark.parametrize("times", [(700, 700, 700), (700, 701, 702)])
def test_a_recording_shorter_than_its_bins_loads_into_the_first_frame(tmp_path, times):
    """All events at one timestamp (or within fewer microseconds than frames) gave tonic's bins
    zero width: the sample loaded as all zeros."""
    base = write_nmnist(tmp_path)
    events = [(1, 1, 0, times[0]), (2, 5, 1, times[1]), (33, 33, 0, times[2])]
    (base / "3" / "00001.bin").write_bytes(encode_event_list(events))
    ds = load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)
    np.testing.assert_array_equal(ds.x[0], frames({0: [(0, 1, 1), (1, 5, 2), (0, 33, 33)]}))
    np.testing.assert_array_equal(ds.x[2], frames(EXPECT_A))   # the others as before


def _train(nmnist_dir, tmp_path, backend):
    out = tmp_path / backend
    assert cli.main(["train", *ARGS, "--data-dir", str(nmnist_dir), "--backend", backend, "--out", str(out)]) == 0
    return out


def _check_run_folder(out):
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"]["sizes"] == [2312, 16, 10] and saved["model"]["steps"] == T
    assert saved["run"]["dataset"] == "nmnist"
    m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert m["train_samples"] == 12 and m["test_samples"] == 8
    w = load_weights(out / "weights.npz")
    assert [a.shape for a in w] == [(16, 2312), (10, 16)]
    cfg = SSNNConfig(sizes=(2312, 16, 10), steps=T, fixed_point=True, mode="coincidence", eta=0.5)
    assert not np.array_equal(w[0], init_weights(cfg, 0)[0]), "nothing was learned"
    return w, m


def test_train_nmnist_engine_and_evaluate(nmnist_dir, tmp_path, capsys):
    out = _train(nmnist_dir, tmp_path, "engine")
    _, m = _check_run_folder(out)
    assert cli.main(["evaluate", str(out), "--no-verify", "--test-samples", "8", "--quiet"]) == 0
    assert f"nmnist test: accuracy {100 * m['test_acc']:.2f}% on 8 samples" in capsys.readouterr().out


@pytest.mark.lava
@pytest.mark.slow
def test_train_nmnist_in_lava_equals_engine(nmnist_dir, tmp_path):
    """``--backend lava`` learns on the event frames inside the Lava processes (SpikeInput with
    event_frames=True); per-sample fixed-point updates make it bit-identical to the engine."""
    we, me = _check_run_folder(_train(nmnist_dir, tmp_path, "engine"))
    wl, ml = _check_run_folder(_train(nmnist_dir, tmp_path, "lava"))
    for a, b in zip(wl, we):
        np.testing.assert_array_equal(a, b)
    assert ml["test_acc"] == me["test_acc"] and ml["train_acc"] == me["train_acc"]


def test_tonic_disk_cache(nmnist_dir, tmp_path):
    a = load_dataset("nmnist", "test", nmnist_dir, steps=T, verify=False, cache_dir=tmp_path / "cache")
    files = list((tmp_path / "cache" / f"test-T{T}").iterdir())
    assert len(files) == 10
    b = load_dataset("nmnist", "test", nmnist_dir, steps=T, verify=False, cache_dir=tmp_path / "cache")
    c = load_dataset("nmnist", "test", nmnist_dir, steps=T, verify=False)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.x, c.x)
