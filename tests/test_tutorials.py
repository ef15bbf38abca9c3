"""The tutorials (tutorials/*.ipynb) are committed with the outputs of a whole execution, match
their sources (tutorials/src/*.py, built by tutorials/_build.py), and run top to bottom."""
import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
# what 07 does at the test's reduced size (the embedded MNIST subset, 600 samples, 64 hidden units)
SMALL = {"SSNNBP_TUTORIAL_SMALL": "1"}


def _load_build():
    spec = importlib.util.spec_from_file_location("tutorials_build", TUTORIALS / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


build = _load_build()


def test_the_seven_tutorials_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_composite_neuron", "02_on_chip_learning_in_lava", "03_wta_softmax",
                     "04_nmnist_tonic", "05_to_loihi", "06_learning_engine", "07_chip_configuration_mnist"]
    assert sorted(build.MIN_IMAGES) == [p.stem[:2] for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_the_outputs_of_one_execution(path):
    """Every code cell executed in order (counts 1, 2, ...), no error, the figures, no timestamps."""
    nb = build.nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert build.output_problems(nb, build.MIN_IMAGES[path.stem[:2]]) == []


def test_a_notebook_without_outputs_is_reported():
    nb = build.nbformat.read(TUTORIALS / "07_chip_configuration_mnist.ipynb", as_version=4)
    assert build.output_problems(nb, 4) == []
    stripped = build.without_outputs(nb)
    problems = build.output_problems(stripped, 4)
    assert "code cell 1 has execution count None (not executed in order)" in problems
    assert "0 figures, expected at least 4" in problems
    nb.cells[-2].outputs.append(build.nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[]))
    assert any("failed: ValueError: x" in p for p in build.output_problems(nb, 4))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_the_cells_of_its_source(path):
    src = TUTORIALS / "src" / (path.stem + ".py")
    assert build.check(path, src) == [], "run: make tutorials"


def test_a_changed_source_or_notebook_is_reported(tmp_path):
    src = TUTORIALS / "src" / "07_chip_configuration_mnist.py"
    committed = TUTORIALS / "07_chip_configuration_mnist.ipynb"
    edited = tmp_path / src.name
    edited.write_text(src.read_text().replace("SEED, EPOCHS = 0, 3", "SEED, EPOCHS = 0, 4"))
    assert [p for p in build.check(committed, edited) if "cells differ" in p]
    nb = json.loads(committed.read_text())
    nb["cells"][1]["source"] = "".join(nb["cells"][1]["source"]) + "\nprint('not in the source')"
    changed = tmp_path / committed.name
    changed.write_text(json.dumps(nb))
    assert [p for p in build.check(changed, src) if "cells differ" in p]
    assert build.main(["--check"]) == 0


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    kernels = build.write_kernelspec(tmp_path / "jupyter")
    assert json.loads((kernels / "kernels" / build.KERNEL / "kernel.json").read_text())["argv"][0] == sys.executable
    nb = build.build(TUTORIALS / "src" / (path.stem + ".py"))
    t0 = time.time()
    build.execute(nb, tmp_path, kernels, env=SMALL)   # raises CellExecutionError with the failing cell
    print(f"{path.name}: {time.time() - t0:.0f} s")
    assert build.output_problems(nb, build.MIN_IMAGES[path.stem[:2]]) == []
