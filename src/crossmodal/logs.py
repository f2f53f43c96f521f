"""Send a job's diagnostics to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def log_to(path: str | Path) -> Iterator[None]:
    """Redirect ``sys.stderr`` and the ``logging`` root logger to ``path`` for the block.

    An exception escaping the block is written with its traceback to the log and re-raised; its
    one-line message is also printed to the original stderr, so that the Snakemake console shows
    *what* failed (e.g. which scan) and the log holds the details.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    original = sys.stderr
    with open(path, "w", buffering=1) as handle:
        sys.stderr = handle
        handler = logging.StreamHandler(handle)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        previous_level = root.level
        root.setLevel(logging.INFO)
        try:
            yield
        except BaseException as error:
            traceback.print_exc(file=handle)
            print(f"{type(error).__name__}: {error}\n(details in {path})", file=original)
            raise
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            sys.stderr = original
