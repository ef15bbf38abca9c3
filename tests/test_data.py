"""Data layer: idx reader and its failure modes, search order, downloads, EMNIST, N-MNIST via tonic,
the embedded default set, and (when $SSNNBP_DATA has them) the real MNIST / Fashion-MNIST files."""
import dataclasses
import gzip
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lava_ssnnbp.data import DATASETS, DataError, Dataset, load_dataset, search_dirs
from lava_ssnnbp.data import registry
from lava_ssnnbp.data.idx import write_idx
from nmnist_files import EXPECT_A, EXPECT_B, SAMPLE_A, SAMPLE_B, encode_events, frames, write_nmnist

REAL_DATA = os.environ.get("SSNNBP_DATA")  # read before the isolation fixture clears it
IMG, LAB = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real search root leaks in: $SSNNBP_DATA unset, cache and system folders empty."""
    monkeypatch.delenv("SSNNBP_DATA", raising=False)
    monkeypatch.setattr(registry, "CACHE_DIR", tmp_path / "no-cache")
    monkeypatch.setattr(registry, "SYSTEM_DIR", tmp_path / "no-system")


def small_set(n=20, classes=10, seed=0, size=(28, 28)):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, *size), dtype=np.uint8),
            (np.arange(n) % classes).astype(np.uint8))


def write_pair(folder, images, labels, names=(IMG, LAB), gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    write_idx(folder / (names[0] + ext), images)
    write_idx(folder / (names[1] + ext), labels)
    return folder / (names[0] + ext), folder / (names[1] + ext)


# --- idx reader and bad files ---------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_small_idx_roundtrip(tmp_path, gz):
    imgs, labs = small_set()
    write_pair(tmp_path / "mnist", imgs, labs, gz=gz)
    ds = load_dataset("mnist", "test", tmp_path, verify=False)
    assert isinstance(ds, Dataset) and len(ds) == 20 and ds.kind == "image"
    assert ds.x.dtype == np.float32 and ds.x.shape == (20, 784) and ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.x, imgs.reshape(20, 784) / np.float32(255))
    np.testing.assert_array_equal(ds.y, labs)
    assert ds.input_shape == (28, 28) and ds.input_size == 784 and ds.num_classes == 10


def test_missing_file_names_file_and_searched_folders(tmp_path, monkeypatch):
    env = tmp_path / "envroot"
    monkeypatch.setenv("SSNNBP_DATA", str(env))
    with pytest.raises(DataError) as e:
        load_dataset("mnist", "test", tmp_path / "given")
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte(.gz) not found" in msg
    assert str(tmp_path / "given" / "mnist") in msg and str(env / "mnist") in msg
    assert str(tmp_path / "no-cache" / "mnist") in msg and "SSNNBP_DATA" in msg
    assert "\n" not in msg


def test_missing_labels_beside_images(tmp_path):
    imgs, labs = small_set()
    img, lab = write_pair(tmp_path / "mnist", imgs, labs)
    lab.unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\(\.gz\) not found in .*mnist"):
        load_dataset("mnist", "test", tmp_path, verify=False)


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_file(tmp_path, gz):
    imgs, labs = small_set()
    write_pair(tmp_path / "mnist", imgs, labs, gz=False)
    raw = tmp_path / "mnist" / IMG
    content = raw.read_bytes()
    full = len(content)
    if gz:
        raw.unlink()
        (tmp_path / "mnist" / (IMG + ".gz")).write_bytes(gzip.compress(content[:-100]))
    else:
        raw.write_bytes(content[:-100])
    with pytest.raises(DataError, match=f"truncated: expected {full} bytes, got {full - 100}"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_a_gzip_bomb_is_never_inflated(tmp_path, monkeypatch):
    """A .gz labels file whose header promises 10 labels but which inflates to 256 MiB: the
    reader stops one byte past the promise (one DataError), so the rest is never inflated."""
    from lava_ssnnbp.data import idx
    imgs, labs = small_set()
    _, lab = write_pair(tmp_path / "mnist", imgs, labs, gz=False)
    bomb = lab.read_bytes() + bytes(256 << 20)
    lab.unlink()
    (tmp_path / "mnist" / (lab.name + ".gz")).write_bytes(gzip.compress(bomb, compresslevel=1))
    del bomb
    asked = []
    real = idx.read_bytes
    monkeypatch.setattr(idx, "read_bytes", lambda path, limit=None: (asked.append(limit), real(path, limit))[1])
    with pytest.raises(DataError, match="trailing data after the"):
        load_dataset("mnist", "test", tmp_path, verify=False)
    assert asked and None not in asked and max(asked) <= len(imgs) * 28 * 28 + 17   # never the whole file


def test_an_idx_header_promising_more_than_memory_is_one_error(tmp_path):
    """Dimensions of 2**32 - 1 each (2**96 bytes: an int64 product would overflow)."""
    import struct
    imgs, labs = small_set()
    img, _ = write_pair(tmp_path / "mnist", imgs, labs, gz=False)
    img.write_bytes(struct.pack(">4I", 2051, 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1) + bytes(100))
    with pytest.raises(DataError, match=r"header promises 4294967295x4294967295x4294967295 bytes .*damaged"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_trailing_bytes(tmp_path):
    imgs, labs = small_set()
    _, lab = write_pair(tmp_path / "mnist", imgs, labs, gz=False)
    lab.write_bytes(lab.read_bytes() + b"\0\0")
    with pytest.raises(DataError, match="trailing data"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_wrong_magic(tmp_path):
    imgs, labs = small_set()
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / (IMG + ".gz"), labs)  # a labels file under the images name
    write_idx(folder / (LAB + ".gz"), labs)
    with pytest.raises(DataError, match=r"t10k-images.*wrong magic number 2049 \(expected 2051"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_checksum_mismatch(tmp_path):
    imgs, labs = small_set()
    img, _ = write_pair(tmp_path / "mnist", imgs, labs)
    with pytest.raises(DataError) as e:
        load_dataset("mnist", "test", tmp_path, verify=True)
    msg = str(e.value)
    assert "checksum mismatch" in msg and str(img) in msg
    assert DATASETS["mnist"].md5[IMG] in msg
    import hashlib
    actual = hashlib.md5(gzip.decompress(img.read_bytes())).hexdigest()
    assert actual in msg
    load_dataset("mnist", "test", tmp_path, verify=False)  # verify=False skips the md5


def test_count_mismatch(tmp_path):
    imgs, labs = small_set()
    write_pair(tmp_path / "mnist", imgs, labs[:-1])
    with pytest.raises(DataError, match="has 20 images but .* has 19 labels"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_wrong_image_size(tmp_path):
    imgs, labs = small_set(size=(27, 28))
    write_pair(tmp_path / "mnist", imgs, labs)
    with pytest.raises(DataError, match="images are 27x28, expected 28x28"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_label_out_of_range(tmp_path):
    imgs, labs = small_set()
    labs[3] = 10
    write_pair(tmp_path / "mnist", imgs, labs)
    with pytest.raises(DataError, match="label 10 out of range for 10 classes"):
        load_dataset("mnist", "test", tmp_path, verify=False)


@pytest.mark.parametrize("damage", ["not-gzip", "cut", "flipped-crc"])
def test_corrupt_gzip(tmp_path, damage):
    imgs, labs = small_set()
    img, _ = write_pair(tmp_path / "mnist", imgs, labs)
    data = bytearray(img.read_bytes())
    if damage == "not-gzip":
        data = bytearray(b"definitely not gzip data")
    elif damage == "cut":
        data = data[: len(data) // 2]
    else:
        data[-6] ^= 0xFF  # CRC32 trailer
    img.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"corrupt gzip file {img}"):
        load_dataset("mnist", "test", tmp_path, verify=False)


def test_unknown_name_and_split():
    with pytest.raises(DataError, match="valid names: default, emnist, fashion-mnist, mnist, nmnist"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="unknown split 'val'"):
        load_dataset("default", "val")


# --- search order -----------------------------------------------------------------------------

def test_search_dirs_order(tmp_path, monkeypatch):
    monkeypatch.setenv("SSNNBP_DATA", f"{tmp_path / 'b'}{os.pathsep}{tmp_path / 'c'}")
    assert search_dirs(tmp_path / "a") == [tmp_path / "a", tmp_path / "b", tmp_path / "c",
                                           registry.CACHE_DIR, registry.SYSTEM_DIR]
    assert search_dirs()[0] == tmp_path / "b"


def test_search_order_data_dir_before_env_before_cache(tmp_path, monkeypatch):
    for root, label in (("given", 1), ("env", 2), ("no-cache", 3)):
        imgs, labs = small_set(n=5)
        write_pair(tmp_path / root / "mnist", imgs, np.full(5, label, np.uint8))
    monkeypatch.setenv("SSNNBP_DATA", str(tmp_path / "env"))
    assert load_dataset("mnist", "test", tmp_path / "given", verify=False).y[0] == 1
    assert load_dataset("mnist", "test", verify=False).y[0] == 2
    monkeypatch.delenv("SSNNBP_DATA")
    assert load_dataset("mnist", "test", verify=False).y[0] == 3


def test_files_directly_in_data_dir_and_torchvision_layout(tmp_path):
    imgs, labs = small_set(n=5)
    write_pair(tmp_path / "flat", imgs, labs)
    assert len(load_dataset("mnist", "test", tmp_path / "flat", verify=False)) == 5
    write_pair(tmp_path / "tv" / "FashionMNIST" / "raw", imgs, labs, gz=False)
    assert len(load_dataset("fashion-mnist", "test", tmp_path / "tv", verify=False)) == 5


# --- EMNIST -------------------------------------------------------------------------------------

def emnist_names(split):
    return DATASETS["emnist"].files[split]


def test_emnist_transposed_and_47_classes(tmp_path):
    # EMNIST stores each image column-major: the file holds img.T. Make images whose rows differ.
    img = np.zeros((3, 28, 28), np.uint8)
    img[0, 2, :] = 255          # a horizontal bar in row 2
    img[1, :, 5] = 128          # a vertical bar in column 5
    img[2] = np.arange(28, dtype=np.uint8)[:, None] * 9  # brightness grows down the rows
    labs = np.array([0, 46, 20], np.uint8)
    write_pair(tmp_path / "emnist", img.transpose(0, 2, 1), labs, names=emnist_names("test"))
    # No per-file md5 is known for EMNIST, so verify=True checks counts and would reject 3 samples.
    ds = load_dataset("emnist", "test", tmp_path, verify=False)
    assert ds.num_classes == 47 and ds.input_shape == (28, 28)
    np.testing.assert_array_equal(ds.x.reshape(3, 28, 28), img / np.float32(255))
    np.testing.assert_array_equal(ds.y, [0, 46, 20])
    with pytest.raises(DataError, match="has 3 samples, expected 18800"):
        load_dataset("emnist", "test", tmp_path, verify=True)


def test_emnist_label_range_and_gzip_layout(tmp_path):
    imgs, _ = small_set(n=4)
    write_pair(tmp_path / "gzip", imgs, np.array([0, 1, 2, 47], np.uint8), names=emnist_names("train"))
    with pytest.raises(DataError, match="label 47 out of range for 47 classes"):
        load_dataset("emnist", "train", tmp_path, verify=False)


# --- downloads (no network: file:// mirrors) ------------------------------------------------------

def test_download_failure_is_dataerror(tmp_path, monkeypatch):
    bad = dataclasses.replace(DATASETS["mnist"], urls=((tmp_path / "nowhere").as_uri() + "/",))
    monkeypatch.setitem(DATASETS, "mnist", bad)
    with pytest.raises(DataError, match="could not download t10k-images"):
        load_dataset("mnist", "test", tmp_path / "dest", download=True)
    assert list((tmp_path / "dest" / "mnist").iterdir()) == []  # no partial files left


def test_download_from_mirror_checks_md5_before_keeping(tmp_path, monkeypatch):
    imgs, labs = small_set()
    mirror = tmp_path / "mirror"
    write_pair(mirror, imgs, labs)
    info = dataclasses.replace(DATASETS["fashion-mnist"], urls=(mirror.as_uri() + "/",))
    monkeypatch.setitem(DATASETS, "fashion-mnist", info)
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset("fashion-mnist", "test", tmp_path / "dest", download=True, verify=True)
    assert list((tmp_path / "dest" / "fashion-mnist").iterdir()) == []
    ds = load_dataset("fashion-mnist", "test", tmp_path / "dest", download=True, verify=False)
    np.testing.assert_array_equal(ds.y, labs)
    assert sorted(p.name for p in (tmp_path / "dest" / "fashion-mnist").iterdir()) == [IMG + ".gz", LAB + ".gz"]


def test_emnist_download_extracts_balanced_files(tmp_path, monkeypatch):
    imgs, labs = small_set(n=6)
    src = tmp_path / "src"
    img, lab = write_pair(src, imgs, labs, names=emnist_names("test"))
    archive = tmp_path / "gzip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (img, lab):
            zf.write(f, "gzip/" + f.name)
    monkeypatch.setitem(DATASETS, "emnist", dataclasses.replace(DATASETS["emnist"], urls=(archive.as_uri(),)))
    ds = load_dataset("emnist", "test", tmp_path / "dest", download=True, verify=False)
    np.testing.assert_array_equal(ds.x.reshape(6, 28, 28), imgs.transpose(0, 2, 1) / np.float32(255))
    assert not (tmp_path / "dest" / "emnist" / "gzip.zip").exists()


# --- embedded default set and subsets -----------------------------------------------------------

def test_default_set_shapes_and_balance():
    tr, te = load_dataset("default", "train"), load_dataset("default", "test")
    assert tr.x.shape == (6000, 784) and te.x.shape == (1000, 784)
    assert tr.x.dtype == np.float32 and 0 <= tr.x.min() and tr.x.max() <= 1 and tr.x.max() == 1
    assert tr.y.dtype == np.int64 and tr.num_classes == 10 and tr.input_size == 784
    assert np.bincount(tr.y).tolist() == [600] * 10 and np.bincount(te.y).tolist() == [100] * 10
    assert 0.10 < tr.x.mean() < 0.16  # MNIST mean intensity is about 0.13
    assert load_dataset("default", "test", steps=5).x.shape == (1000, 784)  # steps ignored


def test_subset_deterministic_and_balanced():
    ds = load_dataset("default", "train")
    a, b, c = ds.subset(100, seed=3), ds.subset(100, seed=3), ds.subset(100, seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    assert len(a) == 100 and np.bincount(a.y, minlength=10).tolist() == [10] * 10
    assert np.bincount(ds.subset(25).y, minlength=10).max() <= 3
    assert ds.subset(6000) is ds and ds.subset(10**6) is ds
    assert a.name == "default" and a.num_classes == 10
    assert len(load_dataset("default", "test", max_samples=50)) == 50


# --- real data (only when $SSNNBP_DATA holds it) ------------------------------------------------

def _real(sub):
    return pytest.mark.skipif(not (REAL_DATA and (Path(REAL_DATA) / sub).is_dir()),
                              reason=f"set SSNNBP_DATA to a folder holding {sub}/ to run")


@_real("mnist")
def test_real_mnist_test_split():
    ds = load_dataset("mnist", "test", REAL_DATA, verify=True)
    assert ds.x.shape == (10000, 784) and ds.x.dtype == np.float32
    assert np.bincount(ds.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@_real("fashion-mnist")
def test_real_fashion_mnist_test_split():
    ds = load_dataset("fashion-mnist", "test", REAL_DATA, verify=True)
    assert ds.x.shape == (10000, 784) and np.bincount(ds.y).tolist() == [1000] * 10


# --- N-MNIST through tonic ----------------------------------------------------------------------

def test_nmnist_encoding_matches_tonic_reader(tmp_path):
    from tonic.io import read_mnist_file
    f = tmp_path / "a.bin"
    f.write_bytes(encode_events(SAMPLE_A + [(1, 2, 1, 2**23 - 1)]))
    ev = read_mnist_file(str(f), dtype=np.dtype([("x", int), ("y", int), ("t", int), ("p", int)]))
    assert [tuple(map(int, (e["x"], e["y"], e["p"], e["t"]))) for e in ev] == SAMPLE_A + [(1, 2, 1, 2**23 - 1)]


@pytest.mark.parametrize("layout", ["root", "nmnist-subfolder-via-env"])
def test_nmnist_frames_from_original_format(tmp_path, monkeypatch, layout):
    if layout == "root":
        write_nmnist(tmp_path / "d")
        ds = load_dataset("nmnist", "test", tmp_path / "d", steps=4, verify=False)
    else:
        write_nmnist(tmp_path / "env" / "nmnist")
        monkeypatch.setenv("SSNNBP_DATA", str(tmp_path / "env"))
        ds = load_dataset("nmnist", "test", steps=4, verify=False)
    assert ds.kind == "events" and ds.input_shape == (2, 34, 34) and ds.input_size == 2312
    assert ds.x.shape == (3, 4, 2312) and ds.x.dtype == np.uint8 and ds.y.dtype == np.int64
    assert ds.y.tolist() == [3, 7, 7] and ds.num_classes == 10
    np.testing.assert_array_equal(ds.x[0], frames(EXPECT_A))
    np.testing.assert_array_equal(ds.x[1], frames(EXPECT_B))
    np.testing.assert_array_equal(ds.x[2], frames(EXPECT_A))


def test_nmnist_errors(tmp_path):
    with pytest.raises(DataError, match=r"N-MNIST test set not found; searched: .*Expected layout .*NMNIST"):
        load_dataset("nmnist", "test", tmp_path, steps=4)
    base = write_nmnist(tmp_path)
    with pytest.raises(DataError, match="steps"):
        load_dataset("nmnist", "test", tmp_path)
    with pytest.raises(DataError, match="holds 3 .bin recordings, expected 10000"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=True)
    (base / "3" / "00001.bin").write_bytes(encode_events(SAMPLE_A)[:-2])
    with pytest.raises(DataError, match="corrupt N-MNIST file .*00001.bin.*multiple of 5"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)
    (base / "3" / "00001.bin").write_bytes(encode_events([(40, 1, 0, 0), (1, 1, 0, 500)]))  # x outside 34
    with pytest.raises(DataError, match="corrupt N-MNIST file .*00001.bin"):
        load_dataset("nmnist", "test", tmp_path, steps=4, verify=False)


def test_nmnist_max_samples_reads_a_balanced_subset(tmp_path):
    write_nmnist(tmp_path)
    ds = load_dataset("nmnist", "test", tmp_path, steps=4, verify=False, max_samples=2)
    assert sorted(ds.y.tolist()) == [3, 7] and ds.x.shape == (2, 4, 2312)


def test_nmnist_download_failure_is_dataerror(tmp_path, monkeypatch):
    import tonic.datasets
    monkeypatch.setattr(tonic.datasets.NMNIST, "test_url", (tmp_path / "nowhere.zip").as_uri())
    with pytest.raises(DataError, match="N-MNIST download to .* failed"):
        load_dataset("nmnist", "test", tmp_path / "dest", steps=4, download=True)
