"""The shape of lava_ssnnbp.runs: one registry of models, learners that implement the
loop's interface, no import cycle, no private name imported across modules."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest

import procs
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.runs import MODEL_KINDS, MODELS, TORCH_MODELS, Learner, RunError, RunSettings, model_kind

PACKAGE = Path(__file__).resolve().parents[1] / "lava_ssnnbp"


def _protocol_members(proto) -> set:
    return {name for name in vars(proto) if not name.startswith("_")} | set(proto.__annotations__)


@pytest.mark.parametrize("model", ["snn", "ann", "tssl-bp", "slayer"])
def test_every_models_learner_implements_the_loops_interface(model):
    if model_kind(model).torch_baseline:
        pytest.importorskip("torch")
    cfg = SSNNConfig(sizes=(6, 5, 3), steps=5, dropout=(() if model_kind(model).torch_baseline else (0.1, 0.2)))
    settings = RunSettings(model=model, device="cpu")
    learner = model_kind(model).learner(cfg, settings, (6,))
    assert not {m for m in _protocol_members(Learner) if not hasattr(learner, m)}
    learner.restore(None)
    assert [np.shape(w) for w in learner.weights] == [(5, 6), (3, 5)] and learner.samples_seen == 0
    assert set(learner.metric_columns) >= {"epoch", "eta", "train_acc", "test_acc", "val_acc"}
    learner.close()


def test_the_registry_names_every_model_once():
    assert MODELS == tuple(MODEL_KINDS) == ("snn", "ann", "tssl-bp", "slayer")
    assert TORCH_MODELS == ("tssl-bp", "slayer")
    assert all(model_kind(name).name == name for name in MODELS)
    assert RunSettings.model in MODEL_KINDS
    with pytest.raises(ValueError, match="unknown model 'cnn'"):
        model_kind("cnn")


def test_the_registry_says_which_backends_evaluate_a_model():
    """One place decides the model/backend combinations of 'ssnnbp evaluate'."""
    for name in MODELS:
        model_kind(name).check_backend("engine")
    for name in ("snn", "tssl-bp", "slayer"):
        model_kind(name).check_backend("lava")
    with pytest.raises(RunError, match=r"invalid backend: 'lava': ann runs are evaluated with --backend engine only"):
        model_kind("ann").check_backend("lava")
    with pytest.raises(RunError, match="invalid backend: 'gpu'"):
        model_kind("snn").check_backend("gpu")


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, path.read_text()


def test_only_the_registry_tests_a_model_name():
    """Outside runs/models.py no code compares a run's model with a name; the torch
    baselines' own method names (build_net, their networks) are theirs."""
    pattern = re.compile(r"""\bmodel\s*(?:==|!=|\bin\b|\bnot in\b)\s*[("']""")
    found = [f"{path.relative_to(PACKAGE)}:{i}" for path, text in _sources() if path.name != "models.py"
             for i, line in enumerate(text.splitlines(), 1) if pattern.search(line.split("#")[0])]
    assert not found


def test_no_private_name_is_imported_from_another_module():
    """In the runs package, the baselines and their callers (the dynamics' own modules are
    another matter, refactored on their own)."""
    found = []
    for path, text in _sources():
        if path.parent.name not in ("runs", "baselines", "cli") and path.name != "training.py":
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                found += [f"{path.relative_to(PACKAGE)}: {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_time_edges(path: Path, text: str):
    """Modules of lava_ssnnbp that ``path`` imports when it is imported (top-level
    statements, not in functions or under TYPE_CHECKING)."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.parse(text).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                break
            if isinstance(sub, ast.ImportFrom) and sub.level:
                base = package.rsplit(".", sub.level - 1)[0] if sub.level > 1 else package
                target = f"{base}.{sub.module}" if sub.module else base
                yield target
                for a in sub.names:   # 'from . import x' may import the submodule x
                    if (PACKAGE.parent / (target.replace(".", "/") + f"/{a.name}.py")).exists():
                        yield f"{target}.{a.name}"
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                for name in ([a.name for a in sub.names] if isinstance(sub, ast.Import) else [sub.module or ""]):
                    if name.startswith("lava_ssnnbp."):
                        yield name


def test_no_import_cycle_at_import_time():
    graph = {}
    for path, text in _sources():
        me = _module_name(path)
        edges = set()
        for target in _import_time_edges(path, text):
            # importing a.b.c runs a.b's __init__ first (unless the importer is inside a.b)
            parts = target.split(".")
            for k in range(2, len(parts) + 1):
                pkg = ".".join(parts[:k])
                if not me.startswith(pkg + ".") and pkg != me:
                    edges.add(pkg)
        graph[me] = edges
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = "open"
        for n in graph.get(m, ()):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles
    runs = {m for m in graph if m.startswith("lava_ssnnbp.runs")}
    assert not any(n.startswith("lava_ssnnbp.baselines") for m in runs for n in graph[m])


def test_runs_import_neither_the_baselines_nor_torch_nor_lava():
    procs.python_output("import sys, lava_ssnnbp.runs, lava_ssnnbp.training; "
                        "bad = [m for m in sys.modules if m.startswith('lava_ssnnbp.baselines') "
                        "or m.split('.')[0] in ('torch', 'lava')]; print(bad); sys.exit(1 if bad else 0)")
    procs.python_output("import lava_ssnnbp.baselines.runner")   # the baselines import runs: no cycle
