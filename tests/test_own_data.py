"""A data set of one's own: `ssnnbp train --dataset PATH` (a .npz file or a folder of idx files),
its record in the run folder, 'evaluate' and 'info --run' on such runs, resume, every bad input
as one line with exit 2, and the API snippets of docs/own_data.md."""
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from lava_ssnnbp import cli
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.data.idx import write_idx
from lava_ssnnbp.data.own import HELDOUT_SEED, fingerprint
from lava_ssnnbp.errors import RunError
from test_cli import one_error_line, runs_in_tmp  # noqa: F401 (runs_in_tmp: autouse, run folders in tmp)

SMALL = ["--preset", "none", "--hidden", "16", "--steps", "10", "--batch-updates", "mini-batch", "--batch-size", "8",
         "--quiet"]
ROOT = Path(__file__).resolve().parents[1]


def mnist_arrays(n=40, seed=0):
    """n class-balanced images of the embedded MNIST subset, as uint8 (n, 28, 28) and labels."""
    ds = load_dataset("default", "train").subset(n, seed)
    return np.rint(ds.x.reshape(n, 28, 28) * 255).astype(np.uint8), ds.y


def accuracy_printed(text: str) -> float:
    return float(re.search(r"accuracy ([0-9.]+)%", text).group(1))


# ------------------------------------------------------------------ the .npz route, end to end
def test_npz_trains_evaluates_describes_and_resumes(capsys, tmp_path):
    x, y = mnist_arrays(40)
    data = tmp_path / "tiny.npz"
    np.savez(data, x=x, y=y)
    assert cli.main(["train", "--dataset", str(data), *SMALL]) == 0
    out = tmp_path / "runs" / "tiny-rate-T10-seed0"        # default folder: the file's name
    printed = capsys.readouterr().out
    assert f"on {data}: 32 train / 8 test samples" in printed   # a fifth held out as the test split
    config = json.loads((out / "config.json").read_text())
    assert config["run"]["dataset"] == str(data) and config["model"]["sizes"] == [784, 16, 10]
    record = json.loads((out / "data.json").read_text())
    assert record["source"]["path"] == str(data) and record["source"]["format"] == "npz"
    assert record["source"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert record["samples"] == 32 and "held out" in record["source"]["test"]
    m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert (m["train_samples"], m["test_samples"]) == (32, 8)

    # evaluate reads the file again and reproduces the recorded test accuracy (same streams)
    assert cli.main(["evaluate", str(out), "--quiet"]) == 0
    assert accuracy_printed(capsys.readouterr().out) == pytest.approx(100 * m["test_acc"], abs=0.005)
    assert cli.main(["info", "--run", str(out)]) == 0
    info = capsys.readouterr().out
    assert f"snn on {data}, 1 epoch finished" in info
    assert f"data set {data} (npz; test split: held out" in info and "as when trained" in info

    # the same command with more epochs resumes it
    assert cli.main(["train", "--dataset", str(data), *SMALL, "--epochs", "2"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 2

    # the file changed: resume, evaluate refused in one line; info says so
    np.savez(data, x=x, y=y[::-1].copy())
    one_error_line(capsys, ["train", "--dataset", str(data), *SMALL, "--epochs", "3"], str(data), "has changed")
    one_error_line(capsys, ["evaluate", str(out)], str(data), "has changed", "--dataset")
    assert cli.main(["info", "--run", str(out)]) == 0
    assert "has changed since the run trained on it" in capsys.readouterr().out
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 2   # the refused resume changed nothing

    # the file moved: evaluate says so; --dataset with its new place evaluates it
    np.savez(data, x=x, y=y)
    moved = tmp_path / "elsewhere.npz"
    data.rename(moved)
    one_error_line(capsys, ["evaluate", str(out)], str(data), "not there any more")
    assert cli.main(["evaluate", str(out), "--dataset", str(moved), "--quiet"]) == 0
    assert f"{moved} test: accuracy" in capsys.readouterr().out
    # resuming on the moved file is another data set's path: refused, naming both
    one_error_line(capsys, ["train", "--dataset", str(moved), *SMALL, "--epochs", "3", "--out", str(out)],
                   f"trained on {data}, not {moved}")


def test_npz_with_its_own_test_split_in_float_and_image_shapes(capsys, tmp_path):
    x, y = mnist_arrays(30)
    xt, yt = mnist_arrays(20, seed=1)
    data = tmp_path / "own.npz"    # float (N, 1, 28, 28) samples and their own test split
    np.savez(data, x_train=x[:, None] / 255.0, y_train=y.astype(np.int32), x_test=xt[:, None] / 255.0, y_test=yt)
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(data), *SMALL, "--out", str(out)]) == 0
    assert "30 train / 20 test samples" in capsys.readouterr().out
    record = json.loads((out / "data.json").read_text())
    assert record["source"]["test"] == "x_test, y_test"
    test = load_dataset(data, "test")
    np.testing.assert_array_equal(test.x, (xt / 255.0).reshape(20, 784).astype(np.float32))
    assert test.input_shape == (1, 28, 28) and test.num_classes == 10


def test_idx_folder_of_other_image_size_and_classes(capsys, tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for prefix, n, gz in (("train", 24, ".gz"), ("t10k", 9, "")):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{gz}", rng.integers(0, 256, (n, 12, 10), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{gz}", (np.arange(n) % 3).astype(np.uint8))
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(folder), *SMALL, "--out", str(out)]) == 0
    assert "24 train / 9 test samples" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["model"]["sizes"] == [120, 16, 3]
    source = json.loads((out / "data.json").read_text())["source"]
    lines = "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in
                    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))
    assert source["format"] == "idx" and source["sha256"] == hashlib.sha256(lines.encode()).hexdigest()
    assert cli.main(["evaluate", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert accuracy_printed(capsys.readouterr().out) == pytest.approx(100 * m["test_acc"], abs=0.005)
    # a 28 x 28 data set does not fit this network's 120 inputs: one line
    x, y = mnist_arrays(20)
    np.savez(tmp_path / "mnist.npz", x=x, y=y)
    one_error_line(capsys, ["evaluate", str(out), "--dataset", str(tmp_path / "mnist.npz")], "784 inputs",
                   "120-16-3")
    # nor do 4 classes of 12 x 10 images its 3 output neurons
    np.savez(tmp_path / "four.npz", x=rng.integers(0, 256, (8, 12, 10), dtype=np.uint8), y=np.arange(8) % 4)
    one_error_line(capsys, ["evaluate", str(out), "--dataset", str(tmp_path / "four.npz")], "4 classes",
                   "120-16-3")


def test_held_out_split_is_fixed_balanced_and_disjoint(tmp_path):
    x, y = mnist_arrays(50)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    train, test = load_dataset(tmp_path / "d.npz", "train"), load_dataset(tmp_path / "d.npz", "test")
    assert (len(train), len(test)) == (40, 10) and np.bincount(test.y).tolist() == [1] * 10
    flat = x.reshape(50, 784).astype(np.float32) / np.float32(255)
    assert not (set(map(bytes, train.x)) & set(map(bytes, test.x)))
    assert set(map(bytes, train.x)) | set(map(bytes, test.x)) == set(map(bytes, flat))
    from lava_ssnnbp.data.core import stratified_indices
    np.testing.assert_array_equal(test.y, y[stratified_indices(y, 10, HELDOUT_SEED)])


def test_the_shipped_subset_is_a_file_in_this_format():
    import lava_ssnnbp.data as data
    path = Path(data.__file__).parent / "default_mnist_subset.npz"   # x_train, y_train, x_test, y_test
    for split in ("train", "test"):
        own, builtin = load_dataset(path, split), load_dataset("default", split)
        np.testing.assert_array_equal(own.x, builtin.x)
        np.testing.assert_array_equal(own.y, builtin.y)
        assert (own.input_shape, own.num_classes, own.source["test"]) == ((28, 28), 10, "x_test, y_test")


# ------------------------------------------------------------------ bad input: one line, exit 2, nothing written
def _npz(**arrays):
    def write(path):
        np.savez(path, **arrays)
        return path
    return write


X, Y = np.zeros((10, 4, 4), np.uint8), np.arange(10) % 2
NAN = np.full((10, 16), 0.5)
NAN[3, 2] = np.nan


@pytest.mark.parametrize("write,needles", [
    (_npz(x=NAN, y=Y), ["x holds 1 NaN or infinite values", "sample 3"]),
    (_npz(x=np.full((10, 16), 2.0), y=Y), ["outside [0, 1]", "uint8"]),
    (_npz(x=X.astype(np.int64), y=Y), ["x is int64", "uint8"]),
    (_npz(x=X, y=Y.astype(float)), ["y is float64", "integers"]),
    (_npz(x=X, y=Y - 1), ["label -1"]),
    (_npz(x=X, y=np.eye(2, dtype=int)[Y]), ["y has shape (10, 2)", "argmax"]),
    (_npz(x=X, y=Y[:9]), ["y holds 9 labels for 10 samples"]),
    (_npz(x=X[:0], y=Y[:0]), ["x holds no samples"]),
    (_npz(x=X, y=np.zeros(10, int)), ["one class only"]),
    (_npz(x=X, y=Y + 1), ["no sample of class 0", "1-based"]),
    (_npz(x=X[:1], y=Y[:1]), ["one class only"]),
    (_npz(x=X, y=Y, x_test=X), ["x_test without y_test"]),
    (_npz(x=X, y=Y, x_test=np.zeros((3, 5, 5), np.uint8), y_test=Y[:3]), ["5 x 5", "4 x 4"]),
    (_npz(x=X, y=Y, x_test=X[:3], y_test=np.array([0, 1, 2])), ["y_test has label 2", "0..1"]),
    (_npz(x=X, labels=Y), ["no array 'y'"]),
    (_npz(x=X, y=Y, names=np.array(["a", "b"])), ["unexpected array names"]),
    (_npz(x=X, y=Y, x_train=X), ["both x and x_train"]),
    (_npz(x=np.zeros((10, 1, 1, 4, 4)), y=Y), ["shape (10, 1, 1, 4, 4)"]),
    (_npz(x=np.array([None] * 10, dtype=object), y=Y), ["Python objects"]),
    (lambda p: (p.write_text("x,y\n"), p)[1], ["not a .npz file"]),
    (lambda p: p.parent / "missing.npz", ["missing.npz", "no such file"]),
])
def test_bad_npz_is_one_line_and_creates_nothing(capsys, tmp_path, write, needles):
    path = write(tmp_path / "bad.npz")
    out = tmp_path / "run"
    one_error_line(capsys, ["train", "--dataset", str(path), *SMALL, "--out", str(out)], str(path), *needles)
    assert not out.exists()


@pytest.mark.parametrize("files,needles", [
    ({"t10k-images-idx3-ubyte": X, "t10k-labels-idx1-ubyte": Y}, ["no train-images-idx3-ubyte"]),
    ({"train-images-idx3-ubyte": X}, ["train-images-idx3-ubyte without train-labels-idx1-ubyte"]),
    ({"train-images-idx3-ubyte": X, "train-images-idx3-ubyte.gz": X, "train-labels-idx1-ubyte": Y},
     ["both train-images-idx3-ubyte and train-images-idx3-ubyte.gz"]),
    ({"train-images-idx3-ubyte": X, "train-labels-idx1-ubyte": Y, "t10k-labels-idx1-ubyte": Y},
     ["t10k-labels-idx1-ubyte without t10k-images-idx3-ubyte"]),
    ({"train-images-idx3-ubyte": X, "train-labels-idx1-ubyte": Y[:8]}, ["the file holds 8 labels for 10 samples"]),
    ({"train-images-idx3-ubyte": Y, "train-labels-idx1-ubyte": Y}, ["wrong magic number"]),
    ({"train-images-idx3-ubyte": X, "train-labels-idx1-ubyte": Y + 3}, ["no sample of classes 0, 1, 2"]),
])
def test_bad_idx_folder_is_one_line(capsys, tmp_path, files, needles):
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, array in files.items():
        write_idx(folder / name, array)
    out = tmp_path / "run"
    one_error_line(capsys, ["train", "--dataset", str(folder), *SMALL, "--out", str(out)], str(folder), *needles)
    assert not out.exists()


@pytest.mark.parametrize("extra,needles", [
    (["--data-dir", "/tmp"], ["argument --data-dir", "built-in"]),
    (["--download"], ["download applies to the built-in data sets"]),
])
def test_options_of_built_in_data_sets_are_refused_with_a_path(capsys, tmp_path, extra, needles):
    np.savez(tmp_path / "d.npz", x=X, y=Y)
    out = tmp_path / "run"
    one_error_line(capsys, ["train", "--dataset", str(tmp_path / "d.npz"), *SMALL, *extra, "--out", str(out)],
                   *needles)
    assert not (out / "weights.npz").exists()


def test_unknown_name_says_a_path_is_accepted(capsys):
    one_error_line(capsys, ["train", "--dataset", "cifar"], "argument --dataset", "cifar", "mnist", ".npz")


def test_run_train_refuses_data_that_does_not_fit_or_is_not_the_settings(tmp_path):
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.runs import Run, RunSettings
    x, y = mnist_arrays(20)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    train, test = load_dataset(tmp_path / "d.npz", "train"), load_dataset(tmp_path / "d.npz", "test")
    settings = RunSettings(dataset=str(tmp_path / "d.npz"))
    with pytest.raises(RunError, match="784 inputs per sample, the network 100-8-10 takes 100"):
        Run.open(tmp_path / "a", SSNNConfig(sizes=(100, 8, 10), steps=10), settings).train(train, test, False)
    with pytest.raises(RunError, match="label 9, the network 784-8-5 has 5 output neurons"):
        Run.open(tmp_path / "b", SSNNConfig(sizes=(784, 8, 5), steps=10), settings).train(train, test, False)
    with pytest.raises(RunError, match="settings name the data set 'default'"):
        Run.open(tmp_path / "c", SSNNConfig(sizes=(784, 8, 10), steps=10), RunSettings()).train(train, test, False)


def test_fingerprint_follows_the_content(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=X, y=Y)
    first = fingerprint(path)
    assert first == {"path": str(path), "format": "npz", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    np.savez(path, x=X + 1, y=Y)
    assert fingerprint(path)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() != first["sha256"]
    assert load_dataset(path, "train").x.max() > 0      # the data read again, not the last one kept


# ------------------------------------------------------------------ docs/own_data.md
def test_the_docs_api_snippets_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "own_data.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    ns = {}
    exec(blocks[0], ns)                       # Engine.train_batch on arrays
    assert (ns["counts"].argmax(1) == ns["y"]).mean() > 0.8   # two easy classes
    exec(blocks[1], ns)                       # Run.open + Run.train on the saved arrays
    assert (len(ns["train"]), len(ns["test"])) == (48, 12)
    capsys.readouterr()
    assert cli.main(["evaluate", "runs/mine", "--quiet"]) == 0   # the run folder finds its data
    assert accuracy_printed(capsys.readouterr().out) == pytest.approx(100 * ns["metrics"][-1]["test_acc"], abs=0.005)


# ------------------------------------------------------------------ the torch baselines on one's own data
def test_conv_stack_fits_the_data_sets_own_image_shape(capsys, tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(24) % 2
    np.savez(tmp_path / "flat.npz", x=rng.random((24, 64)), y=y)
    one_error_line(capsys, ["train", "--dataset", str(tmp_path / "flat.npz"), "--model", "tssl-bp", "--conv", "4C3",
                            *SMALL, "--out", str(tmp_path / "flat")], "argument --conv", "needs images", "(64,)")
    pytest.importorskip("torch")
    np.savez(tmp_path / "img.npz", x=rng.random((24, 1, 8, 8)), y=y)
    out = tmp_path / "run"
    assert cli.main(["train", "--preset", "none", "--dataset", str(tmp_path / "img.npz"), "--model", "tssl-bp",
                     "--conv", "2C3-P2",
                     "--hidden", "8", "--steps", "5", "--batch-size", "8", "--device", "cpu", "--threads", "1",
                     "--quiet", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())["epochs"][-1]
    assert cli.main(["evaluate", str(out), "--quiet"]) == 0
    assert accuracy_printed(capsys.readouterr().out) == pytest.approx(100 * m["test_acc"], abs=0.005)
