"""Run folders, schedules, checkpoints and exact resume after a kill."""
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.training import (Run, RunError, RunSettings, eta_at, eta_factor, load_npz, load_weights,
                                  epoch_order)

CFG = SSNNConfig(sizes=(16, 12, 3), steps=20, eta=0.5, dropout=(0.1, 0.2))


def blobs(n, seed, d=16, c=3):
    """Three separable clusters of pixel intensities in [0, 1]."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).random((c, d))
    y = rng.integers(0, c, n)
    x = np.clip(centres[y] + 0.1 * rng.standard_normal((n, d)), 0, 1).astype(np.float32)
    return SimpleNamespace(x=x, y=y.astype(np.int64))


TRAIN, TEST = blobs(96, 1), blobs(50, 2)


class Stop(Exception):
    pass


def run_to_end(out, settings, cfg=CFG, **kw):
    run = Run.open(out, cfg, settings, **kw)
    run.train(TRAIN, TEST, progress=False)
    return run


@pytest.mark.parametrize("batch_updates,warmup", [("mini-batch", 0), ("per-sample", 0), ("mini-batch", 150)])
def test_killed_run_resumes_exactly(tmp_path, batch_updates, warmup):
    s = RunSettings(epochs=2, batch_size=8, batch_updates=batch_updates, checkpoint_s=1e-6, seed=3,
                    eta_warmup=warmup)
    ref = run_to_end(tmp_path / "ref", s)

    def kill_after_three_batches(done):
        if done >= 24:
            raise Stop
    run = Run.open(tmp_path / "killed", CFG, s)
    with pytest.raises(Stop):   # killed mid-way through the first epoch
        run.train(TRAIN, TEST, progress=False, on_batch=kill_after_three_batches)
    ck = load_npz(tmp_path / "killed" / "checkpoint.npz")
    assert int(ck["position"]) == 16 and int(ck["epoch"]) == 0   # the third batch was lost
    resumed = run_to_end(tmp_path / "killed", s)

    for a, b in zip(load_weights(ref.out / "weights.npz"), load_weights(resumed.out / "weights.npz")):
        np.testing.assert_array_equal(a, b)
    strip = lambda m: [{k: v for k, v in r.items() if "wall" not in k and k != "samples_per_s"} for r in m]  # noqa: E731
    assert strip(ref.metrics) == strip(resumed.metrics)


def test_run_folder_contents(tmp_path):
    s = RunSettings(epochs=2, batch_size=16, batch_updates="mini-batch", seed=0)
    run = run_to_end(tmp_path, s)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["model"]["sizes"] == [16, 12, 3] and cfg["run"]["seed"] == 0
    assert cfg["versions"]["lava-nc"] == "0.10.0"
    rows = (tmp_path / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("epoch,")
    assert (tmp_path / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ws = load_weights(tmp_path / "weights.npz")
    assert [w.shape for w in ws] == [(12, 16), (3, 12)]
    assert [m["epoch"] for m in run.metrics] == [1, 2]
    # blobs are easy: the network must have learned them
    assert run.metrics[-1]["test_acc"] > 0.8


def test_more_epochs_continue_a_finished_run(tmp_path):
    s1 = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run_to_end(tmp_path / "a", s1)
    s2 = RunSettings(epochs=2, batch_size=16, batch_updates="mini-batch")
    cont = run_to_end(tmp_path / "a", s2)
    ref = run_to_end(tmp_path / "b", s2)
    assert len(cont.metrics) == 2
    for a, b in zip(load_weights(ref.out / "weights.npz"), load_weights(cont.out / "weights.npz")):
        np.testing.assert_array_equal(a, b)


def test_other_parameters_in_folder_refused_unless_overwrite(tmp_path):
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run_to_end(tmp_path, s)
    with pytest.raises(RunError, match="other parameters"):
        Run.open(tmp_path, CFG.replace(eta=0.1), s)
    run = Run.open(tmp_path, CFG.replace(eta=0.1), s, overwrite=True)
    assert run.metrics == [] and not (tmp_path / "checkpoint.npz").exists()


def test_run_from_an_older_version_resumes(tmp_path):
    """A parameter added to SSNNConfig/RunSettings after a run started counts as its default."""
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run_to_end(tmp_path, s)
    saved = json.loads((tmp_path / "config.json").read_text())
    del saved["model"]["noise_steps"], saved["run"]["eta_schedule"]      # as an older version wrote it
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert len(Run.open(tmp_path, CFG, RunSettings(epochs=2, batch_size=16, batch_updates="mini-batch")).metrics) == 1
    with pytest.raises(RunError, match="other parameters"):     # a default that differs still counts
        Run.open(tmp_path, CFG.replace(noise_steps=500), s)
    saved["model"]["no_such_parameter"] = 1
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(RunError, match="config.json: unknown model parameter no_such_parameter"):
        Run.open(tmp_path, CFG, s)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run = Run.open(tmp_path, CFG, s)
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(RunError, match="checkpoint.npz: not a readable npz"):
        run.train(TRAIN, TEST, progress=False)


def test_npz_with_object_array_is_not_unpickled(tmp_path):
    p = tmp_path / "weights.npz"
    np.savez(p, w0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(RunError, match="not a readable npz"):
        load_weights(p)


def test_eta_schedules():
    s = RunSettings(epochs=4, eta_schedule="step", eta_decay=0.5, eta_step=2)
    assert [eta_at(1.0, s, e) for e in range(4)] == [1.0, 1.0, 0.5, 0.5]
    s = RunSettings(epochs=4, eta_schedule="exponential", eta_decay=0.5)
    assert [eta_at(1.0, s, e) for e in range(3)] == [1.0, 0.5, 0.25]
    s = RunSettings(epochs=4, eta_schedule="cosine")
    assert eta_at(1.0, s, 0) == 1.0 and eta_at(1.0, s, 2) == pytest.approx(0.5)
    assert eta_at(1.0, RunSettings(), 7) == 1.0


@pytest.mark.parametrize("other", [{"backend": "lava", "batch_updates": "per-sample"}, {"model": "ann"}])
def test_eta_warmup_only_where_it_is_applied(other):
    with pytest.raises(RunError, match="eta_warmup"):
        RunSettings(eta_warmup=100, **other)


def test_eta_warmup_ramps_per_batch(tmp_path):
    """A run with a warm-up learns exactly as an engine whose eta is set by hand
    before each batch to eta * (samples so far, this batch included) / warm-up."""
    assert [eta_factor(RunSettings(eta_warmup=40), n) for n in (10, 40, 90)] == [0.25, 1.0, 1.0]
    assert eta_factor(RunSettings(), 1) == 1.0
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch", seed=2, eta_warmup=40)
    run = run_to_end(tmp_path, s)
    eng = Engine(CFG, seed=2)
    for start in range(0, 96, 16):
        idx = epoch_order(2, 0, 96)[start:start + 16]
        eng.cfg = CFG.replace(eta=CFG.eta * min(1.0, (start + 16) / 40))
        eng.train_batch(TRAIN.x[idx], TRAIN.y[idx], "mini-batch")
    no_warmup = run_to_end(tmp_path / "plain", RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch", seed=2))
    for a, b, c in zip(load_weights(run.out / "weights.npz"), eng.weights,
                       load_weights(no_warmup.out / "weights.npz")):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_epoch_order_is_a_permutation_per_seed_and_epoch():
    a, b = epoch_order(0, 0, 50), epoch_order(0, 1, 50)
    assert sorted(a) == list(range(50)) and not np.array_equal(a, b)
    np.testing.assert_array_equal(a, epoch_order(0, 0, 50))


@pytest.mark.parametrize("field,value", [("epochs", 0), ("backend", "gpu"), ("batch_updates", "sum"),
                                         ("batch_size", 0), ("eta_schedule", "linear"), ("eta_decay", 1.5),
                                         ("eta_warmup", -1), ("eta_warmup", 0.5)])
def test_bad_settings_name_the_field(field, value):
    with pytest.raises(RunError, match=field):
        RunSettings(**{field: value})


def test_save_json_leaves_a_file_that_differs_only_in_its_date(tmp_path):
    from lava_ssnnbp.training import save_json
    path = tmp_path / "result.json"
    assert save_json(path, {"acc": 95.0, "written": "day 1"}, unchanged_but="written")
    before = path.read_bytes()
    assert not save_json(path, {"acc": 95.0, "written": "day 2"}, unchanged_but="written")
    assert path.read_bytes() == before
    assert save_json(path, {"acc": 95.5, "written": "day 2"}, unchanged_but="written")   # a new number is written
    assert json.loads(path.read_text()) == {"acc": 95.5, "written": "day 2"}
    assert save_json(path, {"acc": 95.5, "written": "day 3"})   # without the option: always written
    assert json.loads(path.read_text())["written"] == "day 3"
    path.write_text("{half a fi")   # an unreadable old file is replaced, not an error
    assert save_json(path, {"acc": 1.0, "written": "day 4"}, unchanged_but="written")


def test_config_json_records_the_eta_fixed_point_applies(tmp_path):
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch", seed=0)
    Run.open(tmp_path / "float", CFG, s)
    assert "fixed_point_effective_eta" not in json.loads((tmp_path / "float" / "config.json").read_text())
    cfg = CFG.replace(fixed_point=True, mode="coincidence", eta=0.3)
    Run.open(tmp_path / "fixed", cfg, s)
    etas = json.loads((tmp_path / "fixed" / "config.json").read_text())["fixed_point_effective_eta"]
    assert len(etas) == cfg.n_layers
    for eta in etas:   # the nearest power-of-two step: within sqrt(2) of eta, counts / 2**k exactly
        assert 0.3 / 2 ** 0.5 <= eta <= 0.3 * 2 ** 0.5
        k = np.log2(2 * cfg.steps / 64 / eta)
        assert k == round(k)


def test_a_run_holds_its_folder_until_training_ends(tmp_path):
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run = Run.open(tmp_path, CFG, s)
    with pytest.raises(RunError, match=rf"{tmp_path} is in use by .*\(pid {os.getpid()}\)"):
        Run.open(tmp_path, CFG, s)
    run.train(TRAIN, TEST, progress=False)        # releases the folder when done
    Run.open(tmp_path, CFG, s).close()
    run = Run.open(tmp_path, CFG, s)
    with pytest.raises(RunError, match="empty"):  # ... and when it fails
        run.train(SimpleNamespace(x=TRAIN.x[:0], y=TRAIN.y[:0]), TEST, progress=False)
    Run.open(tmp_path, CFG, s).close()


def test_killed_between_an_epochs_metrics_and_its_checkpoint(tmp_path):
    """The checkpoint is written just after metrics.json: a kill in between leaves it
    one epoch behind. The resumed run trains that epoch again (no duplicate row) and
    ends exactly as an uninterrupted one."""
    s = RunSettings(epochs=1, batch_size=8, batch_updates="mini-batch", checkpoint_s=1e-6, seed=3)
    ref = run_to_end(tmp_path / "ref", s)
    out, kept = tmp_path / "killed", {}

    def keep_mid_epoch_checkpoint(done):
        if done == 24:
            kept["ck"] = (out / "checkpoint.npz").read_bytes()
    Run.open(out, CFG, s).train(TRAIN, TEST, progress=False, on_batch=keep_mid_epoch_checkpoint)
    (out / "checkpoint.npz").write_bytes(kept["ck"])
    resumed = run_to_end(out, s)
    assert [m["epoch"] for m in resumed.metrics] == [1]
    for a, b in zip(load_weights(ref.out / "weights.npz"), load_weights(out / "weights.npz")):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_beyond_the_training_set_is_refused(tmp_path):
    s = RunSettings(epochs=1, batch_size=8, batch_updates="mini-batch", checkpoint_s=1e-6)

    def stop(done):
        if done >= 48:
            raise Stop
    with pytest.raises(Stop):
        Run.open(tmp_path, CFG, s).train(TRAIN, TEST, progress=False, on_batch=stop)
    small = SimpleNamespace(x=TRAIN.x[:20], y=TRAIN.y[:20])
    with pytest.raises(RunError, match=r"was trained on another training set .*data.json"):
        Run.open(tmp_path, CFG, s).train(small, TEST, progress=False)
    (tmp_path / "data.json").unlink()      # as a folder from before data.json: the position still tells
    with pytest.raises(RunError, match=r"checkpoint.npz: position 40 is beyond the 20 training samples"):
        Run.open(tmp_path, CFG, s).train(small, TEST, progress=False)


def test_a_run_resumed_on_other_samples_is_refused(tmp_path):
    """The same data set name over other files (e.g. --no-verify on a folder holding
    another data set): the training set's fingerprint differs, the resume is refused."""
    s = RunSettings(epochs=2, batch_size=16, batch_updates="mini-batch")
    run_to_end(tmp_path, RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch"))
    other = blobs(96, 7)
    with pytest.raises(RunError, match="another training set"):
        Run.open(tmp_path, CFG, s).train(other, TEST, progress=False)
    assert len(run_to_end(tmp_path, s).metrics) == 2     # the same samples resume


def test_read_run_folder_checks_weights_against_the_config(tmp_path):
    from lava_ssnnbp.training import read_run_folder
    s = RunSettings(epochs=1, batch_size=16, batch_updates="mini-batch")
    run_to_end(tmp_path, s)
    folder = read_run_folder(tmp_path)
    assert folder.cfg == CFG and folder.settings == s and len(folder.metrics) == 1
    assert [w.shape for w in folder.weights] == [(12, 16), (3, 12)]
    np.savez(tmp_path / "weights.npz", w0=folder.weights[0], w1=folder.weights[1][:, :5])
    with pytest.raises(RunError, match=r"weights.npz: weights of layer 1 must have shape \(3, 12\)"):
        read_run_folder(tmp_path)
    with pytest.raises(RunError, match=r"weights.npz: weights of layer 1.*; pass --overwrite"):
        Run.open(tmp_path, CFG, s)


def test_diverging_training_stops_with_one_error_and_saves_nothing(tmp_path):
    s = RunSettings(epochs=1, batch_size=16, model="ann", ann_lr=1e300)
    with pytest.raises(RunError, match="diverged in epoch 1.*1e\\+300"):
        run_to_end(tmp_path, s)
    assert not (tmp_path / "weights.npz").exists() and not (tmp_path / "metrics.json").exists()
    run_to_end(tmp_path, RunSettings(epochs=1, batch_size=16, model="ann"))   # nothing blocks the corrected run


def test_forked_children_do_not_keep_a_run_folder_locked(tmp_path):
    """Lava's worker processes are forked from the training process: they must not
    hold its folder after it dies (an inherited descriptor would keep the lock)."""
    from lava_ssnnbp.training import RunLock
    lock = RunLock(tmp_path)
    started_r, started_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:               # os.fork has run the at-fork handlers when it returns here
        try:
            os.close(stop_w)
            os.write(started_w, b"1")
            os.read(stop_r, 1)     # lives on until the parent closes its end of the pipe
        finally:
            os._exit(0)
    os.close(started_w)
    os.close(stop_r)
    try:
        assert os.read(started_r, 1) == b"1"
        with pytest.raises(RunError, match="in use"):
            RunLock(tmp_path)
        lock.release()         # the parent gives the folder up while the child still runs
        RunLock(tmp_path).release()
    finally:
        os.close(stop_w)
        os.close(started_r)
        os.waitpid(pid, 0)
