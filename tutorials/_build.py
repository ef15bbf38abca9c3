"""Build the tutorial notebooks from their sources (``tutorials/src/*.py``, "percent" format).

    python tutorials/_build.py           # write tutorials/NN_name.ipynb (no outputs)
    python tutorials/_build.py --check   # exit 1 if a committed notebook differs from its source

A source is Python with cell markers: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# `` is stripped). Edit the sources, not the notebooks.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"


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
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    for i, (kind, body) in enumerate(cells_of(src.read_text())):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell.id = f"{src.stem[:2]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main(argv=None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    bad = 0
    for src in sorted(SRC.glob("[0-9][0-9]_*.py")):
        out = HERE / (src.stem + ".ipynb")
        text = nbformat.writes(build(src)) + "\n"
        if check:
            if not out.exists() or out.read_text() != text:
                print(f"{out.name} differs from {src.relative_to(HERE)} (run python tutorials/_build.py)")
                bad += 1
        else:
            out.write_text(text)
            print(f"wrote {out.relative_to(HERE.parent)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
