"""A run folder's state is committed atomically (lava_ssnnbp.runs.state): a fault or a kill
at any write leaves the previous state whole and resumable, readers beside a training
run never see a mix of two states, a folder moved mid-run keeps its run, and folders
written before state.json still resume."""
import contextlib
import dataclasses
import errno
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lava_ssnnbp.errors import RunFault
from lava_ssnnbp.runs import Run, RunError, RunSettings, load_weights, read_run_folder, state as state_mod
from lava_ssnnbp.runs.state import STATE_NAMES, read_manifest, state_folder

from test_training import CFG, TEST, TRAIN, run_to_end

SETTINGS = RunSettings(epochs=2, batch_size=8, batch_updates="mini-batch", checkpoint_s=1e-6, seed=3)
ONE_EPOCH = dataclasses.replace(SETTINGS, epochs=1)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: its weights and how many writes its commits made."""
    out = tmp_path_factory.mktemp("ref")
    calls = []
    run = Run.open(out, CFG, SETTINGS)
    with pytest.MonkeyPatch.context() as mp:   # the training's writes (config.json is written by open)
        for name in ("write_synced", "_link_or_copy", "replace_file"):
            real = getattr(state_mod, name)
            mp.setattr(state_mod, name, lambda *a, _real=real, _name=name, **k: (calls.append(_name), _real(*a, **k))[1])
        run.train(TRAIN, TEST, progress=False)
    return {"weights": load_weights(out / "weights.npz"), "metrics": run.metrics, "writes": len(calls)}


def _same_run(out, ref):
    for a, b in zip(load_weights(out / "weights.npz"), ref["weights"]):
        np.testing.assert_array_equal(a, b)
    strip = lambda m: [{k: v for k, v in r.items() if "wall" not in k and k != "samples_per_s"} for r in m]  # noqa: E731
    assert strip(read_run_folder(out).metrics) == strip(ref["metrics"])


def test_layout_one_committed_generation_and_its_copies(tmp_path):
    run_to_end(tmp_path, SETTINGS)
    m = read_manifest(tmp_path)
    committed = state_folder(tmp_path, m)
    assert set(m.files) == set(STATE_NAMES) and m.run_id == json.loads((tmp_path / "config.json").read_text())["run_id"]
    for name in m.files:   # the top-level files are the committed ones (hard links), nothing else left over
        assert os.path.samefile(tmp_path / name, committed / name)
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == [f"{m.generation - 1:06d}", f"{m.generation:06d}"]
    assert not [p for p in tmp_path.rglob("*.tmp")]
    assert oct((tmp_path / "weights.npz").stat().st_mode & 0o777) != oct(0o600)   # readable by others, as open() makes


FAULT_POINTS = [0, 1, 2, 5, 9, 17, 30, -7, -3, -1]   # indices into the reference run's writes


@pytest.mark.parametrize("fault", ["ENOSPC", "kill"])
@pytest.mark.parametrize("at", FAULT_POINTS)
def test_a_fault_at_any_write_leaves_the_last_state_whole(tmp_path, reference, fault, at):
    """A full disk (OSError) or a kill (an exception that unwinds nothing of ours) at the
    at-th write of the run's commits: the folder reads back whole as the last committed
    state, nothing half-written is visible, and running again ends as the uninterrupted run."""
    at = at % reference["writes"]
    count = [0]

    class Killed(BaseException):
        pass

    def failing(real):
        def call(*a, **k):
            count[0] += 1
            if count[0] == at + 1:
                if fault == "ENOSPC":
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                raise Killed
            return real(*a, **k)
        return call
    before = {}
    run = Run.open(tmp_path, CFG, SETTINGS)
    before["manifest"] = None
    with pytest.MonkeyPatch.context() as mp:
        for name in ("write_synced", "_link_or_copy", "replace_file"):
            mp.setattr(state_mod, name, failing(getattr(state_mod, name)))
        with pytest.raises(RunFault if fault == "ENOSPC" else Killed) as e:
            run.train(TRAIN, TEST, progress=False,
                      on_batch=lambda done: before.__setitem__("manifest", read_manifest(tmp_path)))
        if fault == "ENOSPC":
            assert "No space left on device" in str(e.value) and "is whole" in str(e.value)
        run.close()
    m = read_manifest(tmp_path)
    if m is not None:   # the state is the last one committed, and it reads back checked
        assert m.generation <= (before["manifest"].generation + 1 if before["manifest"] else 1)
        folder = read_run_folder(tmp_path)
        assert folder.checkpoint is not None
    if fault == "ENOSPC":   # a failed write removes its temporaries (a kill's are removed by the next run)
        assert not list(tmp_path.rglob("*.tmp"))
    run_to_end(tmp_path, SETTINGS)
    _same_run(tmp_path, reference)
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_real_write_limit_ends_in_one_line_and_the_run_resumes(tmp_path, reference):
    """A real OS fault (RLIMIT_FSIZE: writes past the limit fail with EFBIG, as a full disk
    fails them with ENOSPC) in 'ssnnbp train': one line, exit 1, and the run resumes."""
    args = [sys.executable, "-m", "lava_ssnnbp.cli", "train", "--preset", "none", "--dataset", "default", "--hidden",
            "64", "--steps", "10",
            "--train-samples", "40", "--test-samples", "20", "--epochs", "1", "--seed", "1", "--quiet",
            "--out", str(tmp_path / "run")]
    # numba off: its disk cache, written when a kernel compiles, would meet the limit first
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LAVA_SSNNBP_NUMBA": "0"}

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))   # config.json fits, weights (400 kB) do not
    p = subprocess.run(args, capture_output=True, text=True, env=env, preexec_fn=limit, timeout=600)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 1, p.stderr
    assert len(lines) == 1 and lines[0].startswith("ssnnbp: error: run folder") and "File too large" in lines[0]
    assert read_manifest(tmp_path / "run") is None           # nothing committed, nothing half there
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    assert len(read_run_folder(tmp_path / "run").metrics) == 1


def test_readers_beside_a_training_run_see_whole_states(tmp_path):
    """'evaluate' and 'info --run' read through read_run_folder while 'ssnnbp train' commits
    a checkpoint after every batch: every read is one whole committed state."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "lava_ssnnbp.cli", "train", "--preset", "none", "--dataset", "default", "--hidden",
            "32", "--steps",
            "10", "--train-samples", "300", "--test-samples", "20", "--epochs", "3", "--seed", "1", "--quiet",
            "--batch-updates", "mini-batch", "--batch-size", "4", "--checkpoint-every", "0.000001",
            "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen, errors = set(), []
    try:
        while proc.poll() is None:
            if read_manifest(out) is None:
                continue
            try:
                f = read_run_folder(out)
            except RunError as e:
                errors.append(str(e))
                continue
            ck = f.checkpoint
            seen.add((int(ck["epoch"]), int(ck["position"])))
            assert int(ck["epoch"]) == len(f.metrics)   # committed together
    finally:
        proc.kill() if proc.poll() is None else None
        stderr = proc.communicate()[1]
    assert proc.returncode == 0, stderr
    assert errors == []
    assert len(read_run_folder(out).metrics) == 3
    assert seen   # the reader did read while the run wrote


def test_a_folder_moved_mid_run_keeps_its_run(tmp_path, reference):
    """The run writes through the folder's descriptor: moved mid-run, the folder at its new
    place receives the whole run, and nothing is written at the old path."""
    old, new = tmp_path / "old", tmp_path / "moved" / "here"
    new.parent.mkdir()
    run = Run.open(old, CFG, SETTINGS)

    def move(done):
        if done == 16 and old.exists():   # in the first epoch
            os.rename(old, new)
    run.train(TRAIN, TEST, progress=False, on_batch=move)
    assert not old.exists()
    _same_run(new, reference)
    assert len(Run.open(new, CFG, SETTINGS).metrics) == 2   # and it resumes where it is


def _as_older_version(folder: Path):
    """The folder as versions before state.json wrote it: the files at the top only."""
    for name in STATE_NAMES:
        if (folder / name).exists():
            data = (folder / name).read_bytes()
            (folder / name).unlink()
            (folder / name).write_bytes(data)
    (folder / "state.json").unlink()
    shutil.rmtree(folder / "state")
    saved = json.loads((folder / "config.json").read_text())
    del saved["run_id"]
    (folder / "config.json").write_text(json.dumps(saved))


def test_a_folder_from_before_state_json_resumes(tmp_path, reference):
    run_to_end(tmp_path, ONE_EPOCH)
    _as_older_version(tmp_path)
    assert len(read_run_folder(tmp_path).metrics) == 1
    run_to_end(tmp_path, SETTINGS)
    assert read_manifest(tmp_path) is not None     # its next commit moved it to the new layout
    _same_run(tmp_path, reference)


def test_an_older_folder_killed_before_its_first_checkpoint_trains_again(tmp_path, reference):
    """Before state.json, a kill between an epoch's metrics and its first checkpoint left
    metrics and weights without a checkpoint: that is trained again from the start, not refused."""
    run_to_end(tmp_path, ONE_EPOCH)
    _as_older_version(tmp_path)
    (tmp_path / "checkpoint.npz").unlink()
    run_to_end(tmp_path, SETTINGS)
    _same_run(tmp_path, reference)


def test_a_state_from_another_run_is_refused(tmp_path):
    run_to_end(tmp_path / "a", ONE_EPOCH)
    run_to_end(tmp_path / "b", ONE_EPOCH)
    shutil.copy(tmp_path / "b" / "config.json", tmp_path / "a" / "config.json")
    with pytest.raises(RunError, match=r"state.json: belongs to run \w+, but config.json is run \w+'s"):
        read_run_folder(tmp_path / "a")


def test_a_damaged_state_file_is_one_error(tmp_path):
    run_to_end(tmp_path, ONE_EPOCH)
    for text, why in (("{", "not valid JSON"), ('{"format": 1, "generation": 0, "files": []}', "generation 0"),
                      ('{"format": 1, "generation": 2, "files": ["../x"]}', "files must be")):
        (tmp_path / "state.json").write_text(text)
        with pytest.raises(RunError, match=why):
            read_run_folder(tmp_path)


@pytest.mark.parametrize("name,content,why", [
    ("config.json", '{"model": {"steps": ' + "9" * 5000 + "}}", "not valid JSON"),
    ("config.json", "[" * 200_000 + "]" * 200_000, "not valid JSON"),
    ("config.json", None, "not a regular file"),
    ("state.json", None, "not a regular file"),
])
def test_pathological_run_files_are_one_error(tmp_path, name, content, why):
    """A 5,000-digit integer, 200,000 nested arrays, or a FIFO (whose read would block for
    good) where a run folder keeps a file: one RunError naming it."""
    run_to_end(tmp_path, ONE_EPOCH)
    (tmp_path / name).unlink()
    if content is None:
        os.mkfifo(tmp_path / name)
    else:
        (tmp_path / name).write_text(content)
    with pytest.raises(RunError, match=f"{name}: .*{why}"):
        read_run_folder(tmp_path)


# ------------------------------------------------------------------ read-only and immutable folders
QUICK = ["--preset", "none", "--dataset", "default", "--train-samples", "40", "--test-samples", "20", "--hidden", "16", "--steps", "5",
         "--batch-updates", "mini-batch", "--quiet"]


@contextlib.contextmanager
def immutable(path):
    """``chattr +i path`` for the block: no process may write there, root included (a plain
    chmod does not stop root); skipped where chattr is missing or the file system refuses it."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    p = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"chattr +i failed here ({p.stderr.strip()}): no immutable folders to test with")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def _one_error(capsys, argv, rc, *needles):
    from lava_ssnnbp import cli
    capsys.readouterr()
    assert cli.main(argv) == rc
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ssnnbp: error: run folder "), err
    for n in needles:
        assert n in err[0], err


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_immutable_folders_end_in_one_line_and_lose_nothing(tmp_path, capsys):
    """A folder no process may write (chattr +i: root too): a new run into it and a resume of the
    run in it are refused before anything starts (exit 2, naming the folder); a run whose state
    folder is immutable fails at its first commit (exit 1, naming it), keeps its last state and
    resumes once the folder is writable again; 'evaluate' only reads, and reads as before."""
    from lava_ssnnbp import cli
    empty = tmp_path / "empty"
    empty.mkdir()
    with immutable(empty):
        _one_error(capsys, ["train", *QUICK, "--out", str(empty)], 2, str(empty), "not writable")
        _one_error(capsys, ["train", *QUICK, "--out", str(empty / "run")], 2, str(empty), "not writable")
    assert list(empty.iterdir()) == []

    out = tmp_path / "run"
    assert cli.main(["train", *QUICK, "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--test-samples", "20", "--quiet"]) == 0
    said = capsys.readouterr().out
    before = _files(out)
    with immutable(out):
        _one_error(capsys, ["train", *QUICK, "--epochs", "2", "--out", str(out)], 2, str(out), "not writable")
        assert cli.main(["evaluate", str(out), "--test-samples", "20", "--quiet"]) == 0
        assert capsys.readouterr().out == said
    assert _files(out) == before

    generation = read_manifest(out).generation
    for name in ("state", "state.json"):
        with immutable(out / name):
            _one_error(capsys, ["train", *QUICK, "--epochs", "2", "--out", str(out)], 1, f"cannot write {name} ",
                       f"generation {generation} is kept")
        assert read_manifest(out).generation == generation and len(read_run_folder(out).metrics) == 1
    assert cli.main(["train", *QUICK, "--epochs", "2", "--out", str(out)]) == 0
    assert len(read_run_folder(out).metrics) == 2
