"""The library's import layers and module sizes (docs/architecture.md), read from the source.

Every module imports only from components of lower tiers (the layers below and, inside a
layer, the tiers listed before it); no modules import each other in a cycle; no module is
longer than a reader takes in at once. The graph holds every ``import`` statement, those
inside functions included (a lazy import still is a dependency), and literal
``importlib.import_module("...")`` calls; only imports under ``if TYPE_CHECKING:`` are left
out (they never run). ``benchmarks/`` and ``tests/`` are outside the library: they may import
anything of it, and nothing of the library imports them.

The checker is tested on a small package of its own (``test_checker_*``), so a broken checker
cannot pass the library silently.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package name -> its source folder (pyproject.toml's package-dir: processes/ and proc_models/
# sit at the repository root and install as lava_ssnnbp.processes / lava_ssnnbp.proc_models)
SOURCES = {"lava_ssnnbp": ROOT / "lava_ssnnbp", "lava_ssnnbp.processes": ROOT / "processes",
           "lava_ssnnbp.proc_models": ROOT / "proc_models"}

# docs/architecture.md's layers, bottom first. A component is a module or sub-package of
# lava_ssnnbp (proc_models counts as part of processes: a Process and its models are one
# family, and Lava's discovery shims in processes/<family>/models.py import the models).
# Each layer lists its components in tiers, bottom first; a component may import those of
# lower tiers only: never one of its own tier, nor one above.
LAYERS: Tuple[Tuple[str, Tuple[Tuple[str, ...], ...]], ...] = (
    ("basics", (("jit", "errors", "atomic", "memory", "fields"), ("fixed_point",))),
    ("tables", (("rates",), ("config",))),
    ("data", (("validation",), ("data",))),
    ("rules", (("dynamics",),)),
    ("compiled loops", (("accel",),)),
    ("schedulers", (("learning_engine",), ("engine", "processes"), ("lava_config",))),
    ("networks", (("lifecycle", "ann", "resources"), ("network", "export"), ("learning_network",))),
    ("runs", (("energy", "baselines"), ("runs",), ("training",))),
    ("programs", (("cli",), ("demo",))),
)

MAX_LINES = 500
# Modules being split by work under way, allowed over MAX_LINES until it merges (the lead
# empties this set at the merge; nothing else belongs here).
_BEING_SPLIT = set()

Graph = Dict[str, Dict[str, Tuple[Path, int]]]   # module -> {imported module: (file, line)}


# ---------------------------------------------------------------------------- the checker
def source_modules(sources: Dict[str, Path]) -> Dict[str, Path]:
    """{module name: file} of every ``.py`` file under the source folders."""
    out = {}
    for pkg, folder in sources.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


def _type_checking_only(tree: ast.AST) -> set:
    """ids of the nodes under ``if TYPE_CHECKING:`` (annotations' imports: they never run)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def _imported_names(node: ast.AST, module: str, is_package: bool, known) -> List[str]:
    """The module names one statement imports (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = module.split(".") if is_package else module.split(".")[:-1]
        target = node.module or ""
        if node.level:
            target = ".".join(base[:len(base) - node.level + 1] + ([target] if target else []))
        # 'from pkg import name' imports the module pkg.name where there is one, else pkg
        return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
    if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return [node.args[0].value]
    return []


def import_graph(sources: Dict[str, Path]) -> Graph:
    """Which module of the sources imports which other (with the file and line of the first import)."""
    modules = source_modules(sources)
    graph: Graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        skip = _type_checking_only(tree)
        edges = graph.setdefault(name, {})
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            for target in _imported_names(node, name, path.name == "__init__.py", modules):
                while target not in modules and "." in target:   # pkg.module.attribute -> pkg.module
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != name:
                    line = edges.get(target, (path, node.lineno))[1]
                    edges[target] = (path, min(line, node.lineno))
    return graph


def component(module: str, root: str = "lava_ssnnbp") -> Optional[str]:
    """The component of a module: lava_ssnnbp.X[...] -> X; proc_models -> processes; None for the root package."""
    parts = module.split(".")
    if parts[0] != root or len(parts) < 2:
        return None
    return "processes" if parts[1] == "proc_models" else parts[1]


def tiers(layers) -> Dict[str, Tuple[int, str]]:
    """{component: (tier number, bottom first; its layer's name)}."""
    out, n = {}, 0
    for layer, layer_tiers in layers:
        for tier in layer_tiers:
            for c in tier:
                out[c] = (n, layer)
            n += 1
    return out


def _where(path: Path, line: int, root: Path) -> str:
    return f"{path.relative_to(root) if path.is_relative_to(root) else path}:{line}"


def unplaced_components(graph: Graph, layers, root: str = "lava_ssnnbp") -> List[str]:
    """Components that no tier of ``layers`` names."""
    placed = tiers(layers)
    return sorted({c for m in graph if (c := component(m, root)) is not None} - set(placed))


def upward_imports(graph: Graph, layers, root_dir: Path, root: str = "lava_ssnnbp") -> List[str]:
    """One line per import of a component at the importer's tier or above it, with the importing file and line."""
    rank = tiers(layers)
    found = []
    for module, edges in sorted(graph.items()):
        a = component(module, root)
        for target, (path, line) in sorted(edges.items()):
            b = component(target, root)
            if a is None or b is None or a == b or a not in rank or b not in rank:
                continue
            if rank[b][0] >= rank[a][0]:
                where = "above it" if rank[b][0] > rank[a][0] else "in its own tier"
                found.append(f"{_where(path, line, root_dir)}: {module} imports {target}: '{b}' ({rank[b][1]}) is "
                             f"{where} for '{a}' ({rank[a][1]})")
    return found


def import_cycles(graph: Graph, root_dir: Path) -> List[str]:
    """One line per cycle of modules importing each other, as the chain of imports with files and lines."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack = set()
    groups = []

    def strongconnect(v):          # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(set(group))
    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    out = []
    for group in groups:               # one cycle through the group's first module, by breadth-first search
        start = min(group)
        paths = {start: [start]}
        queue = [start]
        cycle = None
        while queue and cycle is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, {})):
                if w == start:
                    cycle = paths[v] + [start]
                    break
                if w in group and w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        steps = [f"{a} ({_where(*graph[a][b], root_dir)})" for a, b in zip(cycle, cycle[1:])]
        out.append(" -> ".join(steps + [start]))
    return sorted(out)


def oversized(files: Iterable[Path], root_dir: Path, limit: int = MAX_LINES, allowed=frozenset()) -> List[str]:
    """'file: N lines' for every file over ``limit`` lines that ``allowed`` does not name."""
    out = []
    for path in sorted(files):
        rel = path.relative_to(root_dir).as_posix()
        n = len(path.read_text().splitlines())
        if n > limit and rel not in allowed:
            out.append(f"{rel}: {n} lines")
    return out


# ---------------------------------------------------------------------------- the library
@pytest.fixture(scope="module")
def graph():
    return import_graph(SOURCES)


def test_every_component_has_a_tier(graph):
    missing = unplaced_components(graph, LAYERS)
    if missing:
        pytest.fail("components in no tier of LAYERS (place each in docs/architecture.md's table and in "
                    f"LAYERS): {missing}", pytrace=False)


def test_imports_go_down_the_layers_only(graph):
    found = upward_imports(graph, LAYERS, ROOT)
    if found:
        pytest.fail("imports that do not go down the layers (docs/architecture.md):\n" + "\n".join(found),
                    pytrace=False)


def test_no_import_cycle(graph):
    found = import_cycles(graph, ROOT)
    if found:
        pytest.fail("modules that import each other in a cycle:\n" + "\n".join(found), pytrace=False)


def test_no_library_module_is_longer_than_a_reader_takes_in():
    files = [p for folder in SOURCES.values() for p in folder.rglob("*.py")]
    found = oversized(files, ROOT, MAX_LINES, _BEING_SPLIT)
    if found:
        pytest.fail(f"modules over {MAX_LINES} lines (split them along their concerns):\n" + "\n".join(found),
                    pytrace=False)


def test_the_temporary_exceptions_are_still_needed():
    """An entry of ``_BEING_SPLIT`` that is gone or short enough is stale: remove it."""
    stale = [f for f in sorted(_BEING_SPLIT)
             if not (ROOT / f).exists() or len((ROOT / f).read_text().splitlines()) <= MAX_LINES]
    if stale:
        pytest.fail(f"_BEING_SPLIT names files that are gone or no longer over {MAX_LINES} lines (remove them): "
                    f"{stale}", pytrace=False)


def test_the_library_does_not_import_benchmarks_or_tests():
    outside = []
    for folder in SOURCES.values():
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                outside += [f"{_where(path, node.lineno, ROOT)}: imports {n}" for n in names
                            if n.split(".")[0] in ("benchmarks", "tests")]
    if outside:
        pytest.fail("the library imports code outside it:\n" + "\n".join(outside), pytrace=False)


# ---------------------------------------------------------------------------- the checker itself
def _package(tmp_path: Path, files: Dict[str, str]) -> Dict[str, Path]:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {"pkg": tmp_path / "pkg"}


TOY_LAYERS = (("bottom", (("low",), ("mid",))), ("top", (("high", "side"),)))


def test_checker_finds_an_upward_import_even_inside_a_function(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from . import high\n    return high\n",          # lazy, still upward
        "mid.py": "from .low import f\n",
        "high.py": "from pkg import mid\nimport pkg.side\n",                      # same tier: not allowed either
        "side.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .high import x\n",
    })
    g = import_graph(src)
    found = upward_imports(g, TOY_LAYERS, tmp_path, root="pkg")
    assert found == ["pkg/high.py:2: pkg.high imports pkg.side: 'side' (top) is in its own tier for 'high' (top)",
                     "pkg/low.py:2: pkg.low imports pkg.high: 'high' (top) is above it for 'low' (bottom)"]
    assert "pkg.high" not in g["pkg.side"]            # annotations' imports never run: not an edge
    assert unplaced_components(g, TOY_LAYERS[:1], root="pkg") == ["high", "side"]


def test_checker_finds_a_cycle_and_names_its_chain(tmp_path):
    src = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "import os\nfrom .b import x\n",
        "b.py": "x = 1\n\ndef g():\n    import importlib\n    return importlib.import_module('pkg.sub.c')\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import y\n",
        "d.py": "from . import a\n",                      # imports into the cycle, not part of it
    })
    found = import_cycles(import_graph(src), tmp_path)
    assert found == ["pkg.a (pkg/a.py:2) -> pkg.b (pkg/b.py:5) -> pkg.sub.c (pkg/sub/c.py:1) -> pkg.a"]


def test_checker_names_a_long_module_and_its_length(tmp_path):
    src = _package(tmp_path, {"__init__.py": "", "long.py": "x = 1\n" * 501, "ok.py": "x = 1\n" * 500})
    files = list(src["pkg"].rglob("*.py"))
    assert oversized(files, tmp_path) == ["pkg/long.py: 501 lines"]
    assert oversized(files, tmp_path, allowed={"pkg/long.py"}) == []


def test_the_library_graph_is_read():
    """The real graph has the edges the layers are about (a checker reading nothing would pass)."""
    g = import_graph(SOURCES)
    assert "lava_ssnnbp.dynamics" in g["lava_ssnnbp.engine"]
    assert "lava_ssnnbp.processes.spike_io.process" in g["lava_ssnnbp.proc_models.spike_io"]
    assert "lava_ssnnbp.runs.loop" in g["lava_ssnnbp.runs"] or any(m.startswith("lava_ssnnbp.runs.")
                                                                  for m in g["lava_ssnnbp.runs"])
