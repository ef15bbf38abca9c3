"""The benchmarks' shared result writing and the training loops' checkpoint clock."""
import json

from benchmarks.result_files import machine_info, rerun_command, train_and_read, write_result
from lava_ssnnbp.training import CheckpointClock


def test_write_result_makes_folders_and_writes_whole_json(tmp_path, capsys):
    path = write_result(tmp_path / "a" / "b" / "r.json", {"acc": 97.5, "machine": machine_info()})
    assert json.loads(path.read_text())["acc"] == 97.5
    assert capsys.readouterr().out.strip() == f"wrote {path}"
    write_result(path, {"acc": 1.0}, show="json", indent=1)
    assert json.loads(capsys.readouterr().out) == {"acc": 1.0} == json.loads(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]   # no temporary file left


def test_machine_info_leaves_the_load_out_when_asked():
    assert "load_avg_1min" in machine_info() and "load_avg_1min" not in machine_info(load=False)
    assert machine_info(load=False, torch_threads=2)["torch_threads"] == 2


def test_rerun_command_is_the_module_and_its_arguments():
    assert rerun_command("benchmarks.energy", ["--run", "/r", "--count", 200]) == \
        "python -m benchmarks.energy --run /r --count 200"
    assert rerun_command("benchmarks.energy", []) == "python -m benchmarks.energy"


def test_train_and_read_collects_a_folder_or_says_it_is_missing(tmp_path, capsys):
    assert train_and_read([], tmp_path / "none", "seed 0", collect_only=True) == (0, None, None)
    assert "no run folder" in capsys.readouterr().out
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": {"steps": 5}}))
    (run / "metrics.json").write_text(json.dumps({"epochs": [{"test_acc": 0.5}]}))
    assert train_and_read([], run, collect_only=True) == (0, {"model": {"steps": 5}}, [{"test_acc": 0.5}])


def test_train_and_read_passes_a_failed_training_on(tmp_path):
    rc, cfg, epochs = train_and_read(["train", "--dataset", "no-such-set", "--out", str(tmp_path / "r")],
                                     tmp_path / "r")
    assert rc == 2 and cfg is None and epochs is None


def test_checkpoint_clock_never_fires_at_an_epoch_end():
    always, never = CheckpointClock(-1.0), CheckpointClock(1e9)
    assert always.due(5, 10) and not always.due(10, 10)
    assert not never.due(5, 10)
    always.saved()
    assert always.due(9, 10)
