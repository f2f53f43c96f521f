"""What the ``code`` params add to building the DAG: every rule's library-code hash, from nothing.

Each computing rule's ``code`` param (``library_code`` in workflow/rules/params.smk) hashes its
entry module and every ``crossmodal`` module that one imports (:mod:`crossmodal.common.code_hash`).
A dry run of ``all`` evaluates every rule's param; this script does the same work in a fresh
:class:`~crossmodal.common.code_hash.LibraryCode` per repeat (each module read and parsed once, as in one
Snakemake process), for the entry modules the rule files name, and prints the fastest repeat.

Usage (seconds)::

    python benchmarks/code_hash.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from crossmodal.common.code_hash import LibraryCode  # noqa: E402


def rule_entries() -> list[tuple[str, ...]]:
    """The module names of every ``library_code(...)`` call in the rule files (``{fig}`` as 5-8)."""
    text = "".join(path.read_text() for path in sorted((REPO / "workflow/rules").glob("*.smk")))
    calls = [re.findall(r'"([^"]+)"', args) for args in re.findall(r"library_code\(([^)]*)\)", text)]
    return [
        tuple(name.format(fig=fig) for name in names)
        for names in calls
        for fig in ((5, 6, 7, 8) if any("{fig}" in name for name in names) else (None,))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    entries = rule_entries()
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        library = LibraryCode(REPO / "src")
        for names in entries:
            library.digest(*names)
        seconds.append(time.perf_counter() - start)
    modules = {module for names in entries for module in library.modules(*names)}
    print(f"{len(entries)} code params over {len(modules)} modules: "
          f"fastest of {args.repeats} {1000 * min(seconds):.0f} ms, slowest {1000 * max(seconds):.0f} ms")


if __name__ == "__main__":
    main()
