"""The compiled loops' disk cache (lava_ssnnbp.accel.cache): a second process loads every
loop it trains with and compiles none, with the same results bit for bit; the cache key
follows every source the loops are compiled from; old source versions are pruned; a cache
folder that cannot be written means compiling per process, not a failure."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
from lava_ssnnbp.accel import cache  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lava_ssnnbp"

# A tiny training run of the chip configuration (fixed point, replay: the composite, replay
# and block-update loops), in a fresh process; one JSON line of what it did.
TRAIN = r"""
import hashlib, json, sys
import numpy as np
from lava_ssnnbp.accel import cache
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.runs import Run, RunSettings, load_weights
from test_training import blobs

out = sys.argv[1]
run = Run.open(out, SSNNConfig.loihi2_config(sizes=(16, 12, 3), steps=10), RunSettings(epochs=1, seed=3),
               overwrite=True)
metrics = run.train(blobs(12, 1), blobs(6, 2), progress=True)
digest = hashlib.sha256()
for w in load_weights(out + "/weights.npz"):
    digest.update(np.ascontiguousarray(w).tobytes())
loaded, compiled = cache.cache_counts()
print("RESULT " + json.dumps({"weights": digest.hexdigest(), "loaded": loaded, "compiled": compiled,
                              "metrics": metrics[-1]}))
"""


def _run(code, tmp_path, cache_dir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "LAVA_SSNNBP_NUMBA"))}
    env.update(LAVA_SSNNBP_NUMBA_CACHE=str(cache_dir), PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    return proc.stdout, json.loads(result[-1][len("RESULT "):])


def _files(folder: Path):
    return {p.relative_to(folder): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_second_process_compiles_nothing_and_trains_the_same(tmp_path):
    store = tmp_path / "cache"
    out1, first = _run(TRAIN, tmp_path, store, str(tmp_path / "run1"))
    written = _files(store)
    assert first["compiled"] > 0 and first["loaded"] == 0
    assert any(p.suffix == ".nbc" for p in written)
    assert "compiling the numba loops (first run after an install or edit" in out1
    m = first["metrics"]          # samples/s leaves the compile seconds out of the epoch's wall time
    assert m["samples_per_s"] > m["train_samples"] / m["train_wall_s"]

    out2, second = _run(TRAIN, tmp_path, store, str(tmp_path / "run2"))
    assert second["compiled"] == 0 and second["loaded"] > 0
    assert "compiling" not in out2
    assert second["weights"] == first["weights"]
    after = _files(store)         # nothing rewritten or added but the estimate of the first run's compile time
    assert {p: v for p, v in after.items() if p.name != cache.ESTIMATE_FILE} == \
        {p: v for p, v in written.items() if p.name != cache.ESTIMATE_FILE}


@pytest.mark.slow
def test_a_cache_folder_that_cannot_be_written_compiles_per_process(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = ("import json, numpy as np\n"
            "from lava_ssnnbp.accel import cache, layers\n"
            "rng = np.random.default_rng(0)\n"
            "x, dp, dn = (rng.random((5, n)) < 0.5 for n in (7, 4, 4))\n"
            "got = layers.coincidences(x, dp, dn)\n"
            "want = (dp.astype(np.int64) - dn).T @ x.astype(np.int64)\n"
            "print('RESULT ' + json.dumps({'same': bool((got == want).all()), 'root': str(cache.cache_root()),\n"
            "      'path': layers._coincidences.stats.cache_path, 'counts': cache.cache_counts()}))\n")
    _, result = _run(code, tmp_path, blocker / "sub")
    assert result == {"same": True, "root": "None", "path": None, "counts": [0, 1]}
    assert blocker.read_text() == "not a folder"


def test_the_loops_sources_are_the_rules_and_what_they_import():
    names = {p.relative_to(PACKAGE).as_posix() for p in cache.source_files(PACKAGE / "accel" / "sample.py")}
    rules = {f"dynamics/{p.name}" for p in (PACKAGE / "dynamics").glob("*.py")}
    assert rules | {"jit.py", "fixed_point.py", "config.py", "accel/layers.py", "accel/sample.py",
                    "accel/cache.py"} <= names
    assert not names & {"runs/loop.py", "cli.py", "engine.py"}


def test_an_edit_of_any_source_of_the_loops_changes_the_cache_key(tmp_path):
    copy = tmp_path / "lava_ssnnbp"
    shutil.copytree(PACKAGE, copy, ignore=lambda folder, names: [   # the sources alone
        n for n in names if n == "__pycache__" or (not n.endswith(".py") and not (Path(folder) / n).is_dir())])
    module = copy / "accel" / "sample.py"

    def key():
        return cache.files_digest(cache.source_files(module, copy), copy)
    original = key()
    assert original == cache.source_stamp(str(PACKAGE / "accel" / "sample.py"))   # the key of the real tree
    keys = {original}
    for name in ("dynamics/neurons.py", "dynamics/replay.py", "jit.py", "fixed_point.py", "accel/layers.py",
                 "accel/sample.py"):
        path = copy / name
        text = path.read_text()
        path.write_text(text + "\n# an edit\n")
        keys.add(key())
        path.write_text(text)
        assert key() == original
    assert len(keys) == 7                             # each edit a key of its own
    (copy / "runs" / "loop.py").write_text("# not a source of the loops\n")
    assert key() == original


def test_old_source_versions_are_pruned_and_the_present_one_kept(tmp_path):
    olds = []
    for i in range(cache.KEEP_VERSIONS + 2):
        old = tmp_path / f"sample-{i:024x}"
        old.mkdir()
        (old / "entry.nbc").write_bytes(b"x")
        os.utime(old, (time.time() - 1000 + i, time.time() - 1000 + i))    # i = 0 the least recently used
        olds.append(old)
    other = tmp_path / "layers-0123"
    other.mkdir()
    folder = cache.prepare_folder(tmp_path, "sample", "f" * 64)
    assert folder.is_dir() and folder.name.startswith("sample-")
    kept = sorted(p for p in tmp_path.glob("sample-*") if p != folder)
    assert kept == olds[-(cache.KEEP_VERSIONS - 1):]  # the most recently used, with the present one KEEP_VERSIONS
    assert other.is_dir()
    assert cache.prepare_folder(tmp_path, "sample", "f" * 64) == folder
    assert np.all([p.is_dir() for p in kept])
