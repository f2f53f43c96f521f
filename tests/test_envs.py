"""The conda environments of the rules (`snakemake --sdm conda`) hold what their code imports.

For every rule: its `conda:` file exists, and every third-party module imported by its script and,
transitively, by the crossmodal modules the script imports is a dependency of that environment.
The environments' version bounds agree with pyproject.toml. Conda itself is not needed.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
RULES_DIR = REPO / "workflow" / "rules"

# import name -> conda-forge package name (where they differ; otherwise the lower-cased name)
CONDA_NAME = {
    "sklearn": "scikit-learn",
    "SimpleITK": "simpleitk",
    "torch": "pytorch",
    "torchvision": "torchvision",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "skimage": "scikit-image",
    "cv2": "opencv",
    "mpl_toolkits": "matplotlib",
}
# pyproject (PyPI) name -> conda-forge name, where they differ
PIP_TO_CONDA = {"torch": "pytorch", "SimpleITK": "simpleitk", "PyYAML": "pyyaml"}
# provided by the Snakemake running the rule, not by the environment
PROVIDED = {"snakemake"}


def rule_blocks() -> list[tuple[str, Path, str]]:
    """(rule name, .smk file, text of the rule) for every rule of workflow/rules/*.smk."""
    blocks = []
    for smk in sorted(RULES_DIR.glob("*.smk")):
        text = smk.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^rule (\w+):", text, re.M)]
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
            blocks.append((name, smk, text[start:end]))
    return blocks


def directive(block: str, name: str) -> str | None:
    """The quoted value of a one-line directive (e.g. ``conda:`` / ``script:``) in a rule."""
    match = re.search(rf"^\s+{name}:\s*\n\s+\"([^\"]+)\"", block, re.M)
    return match.group(1) if match else None


def module_file(module: str) -> Path | None:
    """The source file of a crossmodal module (``crossmodal.a.b``), None if there is none."""
    base = SRC.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1])
    return ".".join(parts[:-1])


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """Top-level third-party names and crossmodal modules imported anywhere in ``path``.

    Also follows ``importlib.import_module("crossmodal....")`` calls: a literal name, or every
    module whose name starts with the literal prefix of an f-string.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    external: set[str] = set()
    internal: set[str] = set()
    package = _package_of(path) if path.is_relative_to(SRC) else ""

    def add(module: str) -> None:
        top = module.split(".")[0]
        if top == "crossmodal":
            internal.add(module)
        elif top not in sys.stdlib_module_names:
            external.add(top)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            add(module)
            if module.split(".")[0] == "crossmodal":
                for alias in node.names:  # `from crossmodal.x import y` may import module x.y
                    if module_file(f"{module}.{alias.name}"):
                        internal.add(f"{module}.{alias.name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                prefix = arg.values[0].value
                if prefix.startswith("crossmodal."):
                    parent, _, stem = prefix.rpartition(".")
                    folder = SRC.joinpath(*parent.split("."))
                    for candidate in folder.glob(f"{stem}*.py"):
                        internal.add(f"{parent}.{candidate.stem}")
    return external, internal


def third_party_imports(script: Path) -> dict[str, set[str]]:
    """Third-party top-level module -> the files importing it, for a script and what it imports
    from crossmodal (transitively, parent packages' __init__ included)."""
    found: dict[str, set[str]] = {}
    todo = [script]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        external, internal = imports_of(path)
        for name in external:
            found.setdefault(name, set()).add(str(path.relative_to(REPO)))
        for module in internal:
            parts = module.split(".")
            for i in range(1, len(parts) + 1):
                source = module_file(".".join(parts[:i]))
                if source is not None:
                    todo.append(source)
    return found


def env_packages(env_file: Path) -> dict[str, str]:
    """conda package name -> version spec ("" when unpinned) of an environment file."""
    env = yaml.safe_load(env_file.read_text())
    packages = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a `pip:` section
            for pip_dep in dep.get("pip", []):
                name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)", pip_dep).groups()
                packages[PIP_TO_CONDA.get(name, name).lower()] = spec.strip()
            continue
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)", dep).groups()
        packages[name.lower()] = spec.strip()
    return packages


RULES = rule_blocks()


def test_rule_files_parse_into_every_rule():
    names = {name for name, _, _ in RULES}
    # the stages of docs/architecture.md: a regex that stopped matching would make the
    # environment test below check nothing
    assert {"synthesize", "ingest", "normalize", "folds", "sample_patches", "train",
            "evaluate", "cell", "pairs", "table", "fig_plot"} <= names


@pytest.mark.parametrize("name,smk,block", RULES, ids=[r[0] for r in RULES])
def test_rule_environment_has_every_imported_package(name, smk, block):
    conda = directive(block, "conda")
    script = directive(block, "script")
    assert conda, f"rule {name} ({smk.name}) has no conda: directive"
    assert script, f"rule {name} ({smk.name}) has no script: directive"
    env_file = (smk.parent / conda).resolve()
    script_file = (smk.parent / script).resolve()
    assert env_file.is_file(), f"rule {name}: conda environment {env_file} does not exist"
    if not script_file.is_file():
        pytest.skip(f"rule {name}: script {script_file.relative_to(REPO)} not written yet")
    packages = env_packages(env_file)
    assert "python" in packages, f"{env_file.name} does not pin python"
    missing = {
        CONDA_NAME.get(module, module.lower()): sorted(files)
        for module, files in third_party_imports(script_file).items()
        if module not in PROVIDED and CONDA_NAME.get(module, module.lower()) not in packages
    }
    assert not missing, (
        f"rule {name}: {env_file.relative_to(REPO)} lacks conda package(s) imported by its code: "
        + "; ".join(f"{pkg} (imported in {', '.join(files)})" for pkg, files in missing.items())
    )


def test_library_never_imports_snakemake():
    offenders = [
        str(path.relative_to(REPO))
        for path in (SRC / "crossmodal").rglob("*.py")
        if "snakemake" in imports_of(path)[0]
    ]
    assert offenders == []


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_environment_bounds_match_pyproject(env_file):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_bounds = {}
    for requirement in project["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)", requirement).groups()
        pip_bounds[PIP_TO_CONDA.get(name, name).lower()] = spec.strip()
    packages = env_packages(env_file)
    for package, spec in packages.items():
        if package in pip_bounds and package != "snakemake":
            assert spec == pip_bounds[package], (
                f"{env_file.name}: {package}{spec} but pyproject.toml says {pip_bounds[package]}"
            )
    python_floor = re.search(r">=\s*([\d.]+)", project["requires-python"]).group(1)
    env_python = re.search(r"[\d.]+", packages["python"]).group(0)
    assert tuple(map(int, env_python.split("."))) >= tuple(map(int, python_floor.split(".")))


def test_import_scanner_follows_library_imports(tmp_path):
    """The scanner itself: third-party names from a script and from the modules it reaches."""
    script = REPO / "workflow" / "scripts" / "fig_plot.py"
    if not script.is_file():
        pytest.skip("workflow/scripts/fig_plot.py not written yet")
    found = third_party_imports(script)
    # fig_plot dispatches through its table of crossmodal.figures.fig{N}_plot, which draw with
    # matplotlib: found in the modules it imports
    assert "matplotlib" in found
    assert any("fig5_plot.py" in f or "style.py" in f for f in found["matplotlib"])
    assert "snakemake" not in found
