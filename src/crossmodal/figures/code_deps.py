"""Which source files a figure job runs, so that the workflow can list them as its inputs.

Snakemake reruns a job when an input is newer than its outputs, but it does not see the library
code a script imports. The figure rules therefore list, as inputs, the figure's module and every
module of this package it imports (directly or through another one). Reading the ``import``
statements (rather than keeping a hand-written list in the rule file) means that a new shared
helper cannot be forgotten: a figure job depends on exactly the package files it imports.

Hand-written on ``ast`` rather than the standard library's ``modulefinder``: modulefinder
follows every third-party import too (numpy, matplotlib, scikit-learn) and, on this project's
environment, stopped with an AttributeError on a namespace package (tried); reading the few
files of this package takes milliseconds per rule (measured: 26 ms for fig8_data on a busy
2-core machine).

Only modules of ``crossmodal.figures`` are followed. Other ``crossmodal`` modules (errors, seeds,
the network) are shared with training and evaluation; listing them would let an edit to, say,
``errors.py`` rerun the expensive Fig. 8 forests, which is not what a user editing a figure wants.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from crossmodal.errors import InputError

PACKAGE = "crossmodal.figures"


def _imported_siblings(source: str, filename: str) -> set[str]:
    """Names of the ``crossmodal.figures`` modules imported by ``source``.

    Recognizes ``import crossmodal.figures.x``, ``from crossmodal.figures.x import ...``,
    ``from crossmodal.figures import x``, ``from . import x`` and ``from .x import ...``, anywhere
    in the module (also inside functions).
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    names.add(alias.name[len(PACKAGE) + 1 :].split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module is not None:
                if node.module == PACKAGE:
                    names.update(alias.name for alias in node.names)
                elif node.module.startswith(PACKAGE + "."):
                    names.add(node.module[len(PACKAGE) + 1 :].split(".")[0])
            elif node.level == 1:
                if node.module is None:
                    names.update(alias.name for alias in node.names)
                else:
                    names.add(node.module.split(".")[0])
    return names


def module_files(module: str, package_dir: str | Path) -> list[str]:
    """The source files a figure module runs: itself and its imports within the package.

    Args:
        module: module name inside ``crossmodal.figures``, e.g. ``"fig7_plot"``.
        package_dir: the directory of the package's source (``src/crossmodal/figures`` of the
            checkout the workflow runs from).

    Returns:
        Paths (as given by ``package_dir``) of ``<module>.py`` and every module of the package
        it imports transitively, sorted; ``__init__.py`` is not included.

    Raises:
        InputError: ``<module>.py`` (or a module it imports from the package) does not exist.
    """
    package_dir = Path(package_dir)
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = package_dir / f"{name}.py"
        if not path.is_file():
            raise InputError(
                f"figure code: module {PACKAGE}.{name} not found at {path}; the figure rules need "
                f"one module per figure (fig{{N}}_data.py, fig{{N}}_plot.py) in {package_dir}"
            )
        seen.add(name)
        pending.extend(_imported_siblings(path.read_text(), str(path)) - seen)
    return sorted(str(package_dir / f"{name}.py") for name in seen)


def code_inputs(
    modules: list[str], package_dir: str | Path, start: str | Path | None = None
) -> list[str]:
    """The ``code`` inputs of a figure rule: :func:`module_files` of each module, as relative paths.

    Relative paths keep a job's input list the same when the checkout moves (Snakemake reruns a
    job whose set of inputs changed).

    Args:
        modules: module names inside ``crossmodal.figures``, e.g. ``["fig_plot", "fig7_plot"]``.
        package_dir: the package's source directory in the checkout the workflow runs from.
        start: directory the paths are relative to (default: the working directory, where
            Snakemake resolves relative inputs).

    Returns:
        Sorted, deduplicated relative paths.

    Raises:
        InputError: a module does not exist.
    """
    files = {f for module in modules for f in module_files(module, package_dir)}
    return sorted(os.path.relpath(f, start) for f in files)
