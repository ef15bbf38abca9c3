"""Build the tutorial notebooks from their sources (``tutorials/src/*.py``, "percent" format), and
execute them so that they are committed with their outputs (figures included).

    python tutorials/_build.py --execute [07 ...]  # build and execute (all, or those numbers): make tutorials
    python tutorials/_build.py                     # build only: the notebooks without outputs
    python tutorials/_build.py --check             # exit 1 unless every committed notebook has the cells
                                                   # of its source and the outputs of a whole execution

A source is Python with cell markers: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# `` is stripped). Edit the sources, not the notebooks.

Execution runs each notebook top to bottom in a kernel of this interpreter (the venv's), in a
temporary folder, with matplotlib's inline backend; what varies from one execution to the next
and is not output (the kernel's version record, execution timestamps) is left out, so that
executing unchanged sources changes only the lines that print measured times.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNEL = "lava-ssnnbp-venv"
CELL_TIMEOUT_S = 1800          # one cell; 06 and 07 train for minutes (longer on a loaded machine)
MAX_TEXT_CHARS = 4000          # one text output; longer ones are cut (keeps the notebooks small)
FIGURE_DPI = 80                # the inline backend's PNGs (matplotlib's default is 100)
# figures each executed notebook shows at least (tests/test_tutorials.py checks the committed ones)
MIN_IMAGES = {"01": 6, "02": 2, "03": 3, "04": 3, "05": 1, "06": 1, "07": 4}


def cells_of(text: str):
    """[(kind, source)] of a percent-format script."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build(src: Path) -> nbformat.NotebookNode:
    """The notebook of source ``src``, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    for i, (kind, body) in enumerate(cells_of(src.read_text())):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell.id = f"{src.stem[:2]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def text_of(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def without_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` as it was before execution: no outputs, no execution counts."""
    nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def output_problems(nb: nbformat.NotebookNode, min_images: int) -> list:
    """What is missing for ``nb`` to hold one whole execution: every code cell executed, in
    order, in one kernel (execution counts 1, 2, ...), no error, at least ``min_images``
    figures, text outputs no longer than MAX_TEXT_CHARS, no execution timestamps."""
    problems, images = [], 0
    code = [c for c in nb.cells if c.cell_type == "code"]
    for n, cell in enumerate(code, start=1):
        if cell.execution_count != n:
            problems.append(f"code cell {n} has execution count {cell.execution_count} (not executed in order)")
        if "execution" in cell.metadata:
            problems.append(f"code cell {n} keeps execution timestamps")
        for out in cell.outputs:
            if out.output_type == "error":
                problems.append(f"code cell {n} failed: {out.ename}: {out.evalue}")
            images += "image/png" in out.get("data", {})
            text = out.get("text", "") + out.get("data", {}).get("text/plain", "")
            if len(text) > MAX_TEXT_CHARS + 200:
                problems.append(f"code cell {n} prints {len(text)} characters (at most {MAX_TEXT_CHARS})")
    if images < min_images:
        problems.append(f"{images} figures, expected at least {min_images}")
    return problems


def check(path: Path, src: Path) -> list:
    """Problems of committed notebook ``path``: cells other than its source's, missing outputs."""
    if not path.exists():
        return [f"{path.name} is missing"]
    nb = nbformat.read(path, as_version=4)
    problems = []
    if text_of(without_outputs(nb)) != text_of(build(src)):
        problems.append(f"its cells differ from its source {src.name}")
    problems += output_problems(nb, MIN_IMAGES.get(src.stem[:2], 1))
    return [f"{path.name}: {p}" for p in problems]


def write_kernelspec(root: Path) -> Path:
    """A kernelspec under ``root`` that starts *this* interpreter, whatever other kernels
    exist, and a matplotlibrc with the figures' dpi; returns the folder to put first on
    JUPYTER_PATH (and MATPLOTLIBRC)."""
    kdir = Path(root) / "kernels" / KERNEL
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "lava-ssnnbp venv", "language": "python"}))
    (Path(root) / "matplotlibrc").write_text(f"figure.dpi: {FIGURE_DPI}\n")
    return Path(root)


def tidy(nb: nbformat.NotebookNode, metadata: dict):
    """What an execution varies that is not output: the kernel's version record in the
    notebook's metadata (back to the source's), timestamps; long text outputs are cut."""
    nb.metadata = metadata
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and len(out.text) > MAX_TEXT_CHARS:
                cut = out.text[MAX_TEXT_CHARS:].count("\n")
                out.text = out.text[:MAX_TEXT_CHARS] + f"\n[... {cut} more lines cut by tutorials/_build.py]\n"


def execute(nb: nbformat.NotebookNode, workdir: Path, kernel_root: Path, env: dict | None = None,
            timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Execute ``nb`` in place, in ``workdir``, with a kernel of this interpreter (``kernel_root``
    from :func:`write_kernelspec`); ``env``: extra environment variables for the kernel.
    Raises nbclient's CellExecutionError (with the failing cell's traceback) on an error."""
    from nbclient import NotebookClient

    metadata = dict(nb.metadata)
    saved = dict(os.environ)
    os.environ.update({"JUPYTER_PATH": os.pathsep.join(filter(None, [str(kernel_root), saved.get("JUPYTER_PATH")])),
                       "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONHASHSEED": "0",
                       "MATPLOTLIBRC": str(kernel_root),
                       **(env or {})})
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                                resources={"metadata": {"path": str(workdir)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    tidy(nb, metadata)
    return nb


def sources(names) -> list:
    """The sources, all or those whose file name starts with one of ``names`` (e.g. '07')."""
    found = sorted(SRC.glob("[0-9][0-9]_*.py"))
    picked = [s for s in found if not names or any(s.stem.startswith(n) for n in names)]
    unknown = [n for n in names if not any(s.stem.startswith(n) for s in found)]
    if unknown:
        raise SystemExit(f"error: no tutorial source starts with {', '.join(unknown)} (have: "
                         f"{', '.join(s.stem for s in found)})")
    return picked


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    flags = {a for a in args if a.startswith("-")}
    if flags - {"--check", "--execute"} or flags == {"--check", "--execute"}:
        print("usage: python tutorials/_build.py [--check | --execute [NN ...]]", file=sys.stderr)
        return 2
    srcs = sources([a for a in args if not a.startswith("-")])
    if "--check" in flags:
        problems = [p for src in srcs for p in check(HERE / (src.stem + ".ipynb"), src)]
        for p in problems:
            print(p)
        if problems:
            print("run: make tutorials   (python tutorials/_build.py --execute)")
        return 1 if problems else 0
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tutorials-") as tmp:
        kernels = write_kernelspec(Path(tmp) / "jupyter")
        for src in srcs:
            out, nb = HERE / (src.stem + ".ipynb"), build(src)
            if "--execute" in flags:
                from nbclient.exceptions import CellExecutionError
                work = Path(tmp) / src.stem
                work.mkdir()
                t0 = time.time()
                try:
                    execute(nb, work, kernels)
                except CellExecutionError as e:
                    print(f"{out.name}: FAILED, left as it was\n{e}", file=sys.stderr)
                    failed += 1
                    continue
                print(f"executed {out.relative_to(HERE.parent)} in {time.time() - t0:.0f} s")
            out.write_text(text_of(nb))
            print(f"wrote {out.relative_to(HERE.parent)} ({out.stat().st_size / 1024:.0f} KiB)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
