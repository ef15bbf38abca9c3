"""The tutorials (tutorials/*.ipynb) run top to bottom, are committed without outputs, and match
their sources (tutorials/src/*.py, built by tutorials/_build.py)."""
import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
KERNEL = "ssnnbp-test-venv"


def test_the_six_tutorials_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_composite_neuron", "02_on_chip_learning_in_lava", "03_wta_softmax",
                     "04_nmnist_tonic", "05_to_loihi", "06_learning_engine"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, f"cell {i} has outputs"
    assert nb["cells"][0]["cell_type"] == "markdown"


def test_notebooks_match_their_sources():
    spec = importlib.util.spec_from_file_location("tutorials_build", TUTORIALS / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.main(["--check"]) == 0, "run: python tutorials/_build.py"


@pytest.fixture(scope="module")
def venv_kernel(tmp_path_factory):
    """A kernelspec that starts *this* interpreter (the venv's), whatever other kernels exist."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    kdir = tmp_path_factory.mktemp("jupyter") / "kernels" / KERNEL
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "lava-ssnnbp venv", "language": "python"}))
    return kdir.parent.parent


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, venv_kernel, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient
    from jupyter_client.kernelspec import KernelSpecManager

    monkeypatch.setenv("JUPYTER_PATH", str(venv_kernel))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    ksm = KernelSpecManager()
    assert ksm.get_kernel_spec(KERNEL).argv[0] == sys.executable
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name=KERNEL, resources={"metadata": {"path": str(tmp_path)}})
    t0 = time.time()
    client.execute()      # raises CellExecutionError with the failing cell's traceback
    wall = time.time() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 1, "every tutorial plots something"
    print(f"{path.name}: {wall:.0f} s")
