"""Which library code a workflow job runs, and one hash of its source: a result follows its code.

Snakemake reruns a job when its params change, but it does not see the library code a job's
script imports. Every computing rule therefore has a param ``code``: the hash of the source of
its entry module (the module of the function its script runs, e.g. ``crossmodal.training.train``)
and of every ``crossmodal`` module that module imports, directly or through another one. Editing
``loss.py`` changes the hash of the training jobs (``train`` imports ``loss``) and reruns them;
``touch loss.py`` changes no hash and reruns nothing; editing ``evaluate.py`` reruns the
forests, not the training, which does not import it.

The module set is read from the ``import`` statements (:mod:`ast`, nothing imported: building
the DAG must not pay for torch or matplotlib), never from a hand-written list, so a new or
renamed helper cannot be forgotten. Imports anywhere in a module count (also inside functions),
as do the packages' ``__init__.py`` files, which run on import. Only modules of the
``crossmodal`` package are followed: a third-party library's version is the software
environment's business. An import Python resolves only at run time (``importlib``) is invisible
here: a rule names such a module as a second entry module. A dispatcher that imports one
module per wildcard value (``figures.fig_plot``) names the module its job runs as an entry and
the others as ``skip``.

Hand-written on :mod:`ast` rather than the standard library's :mod:`modulefinder`, which follows
every third-party import too (numpy, torch, scikit-learn) and, on this project's environment,
stopped with an AttributeError on a namespace package (tried).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

from crossmodal.common.errors import InputError

PACKAGE = "crossmodal"


class LibraryCode:
    """The modules of the ``crossmodal`` source tree under ``src_dir``, each read at most once.

    One instance serves every job of a workflow: a module's imports and its source's hash are
    computed once, however many jobs run it (the source is taken not to change meanwhile).

    Args:
        src_dir: the directory that holds the ``crossmodal`` package (``src/`` of a checkout).
    """

    def __init__(self, src_dir: str | Path):
        self.src_dir = Path(src_dir)
        self._imports: dict[str, set[str]] = {}
        self._digests: dict[str, str] = {}
        self._totals: dict[tuple[tuple[str, ...], frozenset[str]], str] = {}

    def path(self, module: str) -> Path | None:
        """The source file of ``module`` (``a/b.py`` or ``a/b/__init__.py``), or None if absent."""
        base = self.src_dir.joinpath(*module.split("."))
        for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def is_package(self, module: str) -> bool:
        return self.src_dir.joinpath(*module.split("."), "__init__.py").is_file()

    def imports(self, module: str) -> set[str]:
        """The ``crossmodal`` modules that ``module``'s source imports (not followed further).

        Recognizes ``import crossmodal.a.b``, ``from crossmodal.a import b`` (``b`` a module or
        a name defined in ``a``) and relative imports (``from . import b``, ``from ..a import
        c``), anywhere in the module.

        Raises:
            InputError: ``module`` has no source file, or it imports a ``crossmodal`` module
                that has none.
        """
        self._read(module)
        return self._imports[module]

    def _read(self, module: str) -> None:
        """Read ``module``'s source once: the hash of its bytes and the modules it imports."""
        if module in self._imports:
            return
        path = self.path(module)
        if path is None:
            raise InputError(f"library code: module {module} not found under {self.src_dir}")
        source = path.read_bytes()
        tree = ast.parse(source, filename=str(path))
        package = module if self.is_package(module) else module.rpartition(".")[0]
        found = set()
        for node in _statements(tree.body):
            found |= self._named_by(node, package)
        for name in sorted(found):
            if self.path(name) is None:
                raise InputError(f"library code: {path} imports {name}, which has no source file")
        self._digests[module] = hashlib.sha256(source).hexdigest()
        self._imports[module] = found

    def _named_by(self, node: ast.AST, package: str) -> set[str]:
        """The ``crossmodal`` modules an import statement ``node`` of ``package`` names."""
        if isinstance(node, ast.Import):
            return {alias.name for alias in node.names if _in_package(alias.name)}
        if not isinstance(node, ast.ImportFrom):
            return set()
        if node.level == 0:
            base = node.module or ""
        else:
            parts = package.split(".")
            anchor = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{anchor}.{node.module}" if node.module else anchor
        if not _in_package(base):
            return set()
        submodules = {f"{base}.{alias.name}" for alias in node.names}
        return {base} | {name for name in submodules if self.path(name) is not None}

    def modules(self, *entries: str, skip: Iterable[str] = ()) -> list[str]:
        """``entries``, every ``crossmodal`` module they import transitively, and their packages.

        Args:
            entries: module names, e.g. ``"crossmodal.training.train"``.
            skip: modules not followed unless they are entries: the alternatives a dispatcher
                imports of which one job runs one (``crossmodal.figures.fig_plot`` imports the
                drawing modules of Figs. 5-8; the job of Fig. 7 runs ``fig7_plot`` only, so an
                edit of ``fig6_plot`` must not rerun it).

        Returns:
            Sorted module names (a package by its own name, for its ``__init__.py``).

        Raises:
            InputError: an entry module, or a module one imports, has no source file.
        """
        skipped = set(skip) - set(entries)
        seen: set[str] = set()
        pending = list(entries)
        while pending:
            module = pending.pop()
            if module in seen or module in skipped:
                continue
            if not _in_package(module):
                raise InputError(f"library code: {module!r} is not a module of {PACKAGE}")
            seen.add(module)
            parts = module.split(".")
            pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
            pending.extend(self.imports(module) - seen)
        return sorted(seen)

    def digest(self, *entries: str, skip: Iterable[str] = ()) -> str:
        """The hash of the source of :meth:`modules` ``(*entries, skip=skip)``: a job's ``code`` param.

        It changes when a module's content changes or a module joins or leaves the set, not when
        a file is merely touched, and not when the checkout moves (names, not paths, are hashed).

        Args:
            entries: module names, e.g. ``"crossmodal.training.train"``.
            skip: see :meth:`modules`.

        Returns:
            16 hexadecimal digits (of a SHA-256).

        Raises:
            InputError: an entry module, or a module one imports, has no source file.
        """
        key = (entries, frozenset(skip))
        if key not in self._totals:
            total = hashlib.sha256()
            for module in self.modules(*entries, skip=skip):
                total.update(f"{module}\0{self._digests[module]}\n".encode())
            self._totals[key] = total.hexdigest()[:16]
        return self._totals[key]


def _statements(body: list[ast.stmt]):
    """Every statement of ``body``, nested ones included (an import is a statement, so the
    expressions, most of a module's nodes, need not be visited)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, field, []))


def _in_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")
