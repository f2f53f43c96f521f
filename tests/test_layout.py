"""The package layout follows the pipeline: no module imports a later stage, and no circle.
The README's layout names every file of the folders it lists file by file, and the modules the
workflow imports to build its DAG load no heavy library.

Read from the source with :mod:`ast` (nothing imported). The stages in order, each allowed to
import itself and the stages before it: common → data → training → evaluation → reporting and
figures (peers: neither imports the other) → studies. That the library never imports the workflow
(snakemake) is tests/test_envs.py's.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "crossmodal"
#: stage package -> level; a module may import a package of its own level only if it is its own
LEVELS = {"common": 0, "data": 1, "training": 2, "evaluation": 3, "reporting": 4, "figures": 4, "studies": 5}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """The modules (or packages) of ``crossmodal`` and the third-party top-level names imported."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.add(name if name in MODULES else base)
    return found


def _owner(name: str) -> str | None:
    """The module of ``MODULES`` that an imported dotted name is (or lies in)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts) or None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        targets = {_owner(name) for name in _imports(module, path) if name.split(".")[0] == "crossmodal"}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_module_lies_in_a_stage_package_with_a_docstring():
    stages = {_stage(m) for m in MODULES} - {None}
    assert stages == set(LEVELS), sorted(stages ^ set(LEVELS))
    for stage in LEVELS:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text()))
        assert doc and "import" in doc, f"crossmodal/{stage}/__init__.py says what it owns and may import"


def test_no_module_imports_a_later_stage_or_a_peer():
    upward = []
    for module, targets in _graph().items():
        stage = _stage(module)
        for target in targets:
            other = _stage(target)
            if stage is None:  # crossmodal/__init__.py runs with every module: it imports nothing
                upward.append((module, target))
            elif other is None or (other != stage and LEVELS[other] >= LEVELS[stage]):
                upward.append((module, target))
    assert not upward, "imports of a later stage (or a peer): " + ", ".join(f"{a} -> {b}" for a, b in upward)


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circle = path[path.index(target):] + [target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_checks_see_an_upward_import_and_a_circle(monkeypatch):
    """The checks themselves: a data module importing training, and two modules importing each other."""
    fake = dict(_graph())
    fake["crossmodal.data.folds"] = fake["crossmodal.data.folds"] | {"crossmodal.training.network"}
    fake["crossmodal.training.network"] = fake["crossmodal.training.network"] | {"crossmodal.data.folds"}
    monkeypatch.setattr(sys.modules[__name__], "_graph", lambda: fake)
    with pytest.raises(AssertionError, match="crossmodal.data.folds -> crossmodal.training.network"):
        test_no_module_imports_a_later_stage_or_a_peer()
    with pytest.raises(pytest.fail.Exception, match="import circle"):
        test_no_import_circle()


def _files(folder: str) -> list[str]:
    """The files of a folder of the checkout: committed ones in a git checkout (a file being
    written is not the README's business yet), else what the folder holds."""
    repo = SRC.parent
    run = subprocess.run(["git", "ls-files", folder], cwd=repo, capture_output=True, text=True)
    if run.returncode == 0 and run.stdout.strip():
        return run.stdout.split()
    return [str(p.relative_to(repo)) for p in sorted((repo / folder).iterdir()) if p.is_file()]


def test_the_readme_layout_names_every_rule_file_config_benchmark_and_tool():
    readme = (SRC.parent / "README.md").read_text()
    block = readme[readme.index("## Layout"):]
    block = block[: block.index("```", block.index("```") + 3)]
    files = [f for folder in ("workflow/rules", "configs", "benchmarks", "tools") for f in _files(folder)]
    unnamed = [f for f in files if Path(f).name not in block]
    assert files and not unnamed, f"README.md's layout does not name {unnamed}"


def test_building_the_dag_loads_no_torch_scipy_or_scikit_learn():
    """The library modules the Snakefile and the rule files import at start-up (every Snakemake
    start, dry runs included) bring none of the heavy libraries; read from the rule files."""
    repo = SRC.parent
    sources = [repo / "Snakefile", *sorted((repo / "workflow" / "rules").glob("*.smk"))]
    modules = sorted({m for path in sources
                      for m in re.findall(r"^from (crossmodal[.\w]*) import", path.read_text(), re.M)})  # fmt: skip
    assert "crossmodal.studies.ablation" in modules and "crossmodal.training.method" in modules
    check = (f"import sys; sys.path.insert(0, {str(SRC)!r}); "
             + "".join(f"import {m}; " for m in modules)
             + "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy', 'sklearn', 'matplotlib'}))")
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
