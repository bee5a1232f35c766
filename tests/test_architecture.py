"""The house plan of ``docs/dev/architecture.md``, kept true: every module has a layer and
imports only from its own layer or the ones below, and no import (at module level or
inside a function) closes a circle."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "harvest"

#: Layers from the ground floor up; a module may import its own layer and those below.
#: A name covers the module and, for a package, everything inside it. Modules being
#: added by parallel work (weighting, regression, association, quantiles, sensitive,
#: disclosure, writers) have their place already.
LAYERS = [
    ("ground", ["harvest._errors", "harvest._options", "harvest._hadamard", "harvest._core",
                "harvest._codes", "harvest._dist", "harvest.writers"]),
    ("kernels", ["harvest._domains", "harvest.intervals", "harvest.replicates",
                 "harvest._stages"]),
    ("data", ["harvest.instruments", "harvest.indicators", "harvest.io", "harvest.datasets",
              "harvest.prepare", "harvest.simulate", "harvest._simulate_sensitive"]),
    ("estimators", ["harvest.compare", "harvest.weighting", "harvest.weighting_spec",
                    "harvest.regression",
                    "harvest.association", "harvest.quantiles", "harvest.sensitive",
                    "harvest.forced_labour", "harvest.contrasts"]),
    ("base", ["harvest._base"]),
    ("designs", ["harvest.replicate_design", "harvest.design"]),
    ("publication", ["harvest.tables", "harvest.disclosure",
                     "harvest.plot"]),
    ("analysis", ["harvest.bayes", "harvest.plan"]),
    ("applications", ["harvest.report", "harvest.cli", "harvest"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """Index in LAYERS of the longest name that covers ``module`` (KeyError if none)."""
    best = None
    for rank, (_, names) in enumerate(LAYERS):
        for name in names:
            covers = module == name or (name != "harvest" and module.startswith(name + "."))
            if covers and (best is None or len(name) > best[1]):
                best = (rank, len(name))
    if best is None:
        raise KeyError(module)
    return best[0]


def imports_of(module: str) -> set[str]:
    """The harvest modules ``module`` imports anywhere in its code (not in docstrings)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "harvest")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "harvest":
                continue
            submodules = [f"{source}.{a.name}" for a in node.names
                          if f"{source}.{a.name}" in MODULES]
            # "from harvest import plot" imports the submodule, not the package's names
            if len(submodules) < len(node.names):
                found.add(source)
            found.update(submodules)
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def test_layer_table_parses_real_modules():
    assert {"harvest._codes", "harvest._base", "harvest.design", "harvest.compare"} <= set(GRAPH)
    assert "harvest._codes" in GRAPH["harvest.design"]
    assert "harvest.plot" in GRAPH["harvest.bayes.summary"]  # a lazy import is seen


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports_and_has_a_layer(module):
    importlib.import_module(module)
    try:
        layer_of(module)
    except KeyError:
        pytest.fail(f"{module} has no layer: add it to LAYERS in tests/test_architecture.py "
                    "and to docs/dev/architecture.md")


def test_imports_point_down_or_sideways():
    upward = []
    for module, deps in GRAPH.items():
        for dep in sorted(deps):
            if layer_of(dep) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {dep} "
                              f"({LAYERS[layer_of(dep)][0]})")
    assert upward == [], "imports that run back up:\n" + "\n".join(upward)


def test_no_import_circle():
    """Depth-first search for a cycle, lazy imports included."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for dep in sorted(GRAPH.get(module, ())):
            if dep not in GRAPH:
                continue
            if state.get(dep) == "open":
                circle = stack[stack.index(dep):] + [dep]
                pytest.fail("import circle: " + " -> ".join(circle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_checks_can_fail():
    """A module that is nowhere in the table, and an upward import, are caught."""
    with pytest.raises(KeyError):
        layer_of("harvest.somewhere_new")
    assert layer_of("harvest.design") > layer_of("harvest._codes")
    assert layer_of("harvest.bayes.fit") == layer_of("harvest.bayes")
    assert layer_of("harvest") == len(LAYERS) - 1
