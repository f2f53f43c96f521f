"""How an error reaches the console: a few lines naming the cause; the details go to a log.

Two places report errors. A job's script runs its library call inside :func:`log_to`: the log
file gets the traceback and everything logged; the console gets one line. An
:class:`~crossmodal.common.errors.InputError` (bad data or configuration) then ends the job with exit
status 1 and no traceback, since the message names the file, scan or key at fault; any other
exception is a bug and keeps its traceback. Before any job runs, the Snakefile's checks and the
workflow's input and params functions run inside :func:`exit_on_input_error`, which stops
Snakemake with the message alone.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path
from typing import Iterator

from crossmodal.common.errors import InputError


@contextlib.contextmanager
def log_to(path: str | Path) -> Iterator[None]:
    """Redirect ``sys.stderr`` and the ``logging`` root logger to ``path`` for the block.

    An exception escaping the block is written with its traceback to the log, and its one-line
    message, with the log's path, to the original stderr, so that the Snakemake console shows
    *what* failed (e.g. which scan) and the log holds the details.

    Raises:
        SystemExit: (status 1, nothing more printed) for an ``InputError``.
        BaseException: any other exception, re-raised with its traceback.
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
            if isinstance(error, InputError):
                raise SystemExit(1) from None
            raise
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            sys.stderr = original


@contextlib.contextmanager
def exit_on_input_error() -> Iterator[None]:
    """Stop Snakemake with an ``InputError``'s message alone (checks run before any job).

    Snakemake reports an exception raised in the Snakefile or in an input or params function
    under a header of its own, with a traceback; ``SystemExit`` passes through its handlers, so
    the message is the first line of the error and the exit status is 1.

    Raises:
        SystemExit: with ``"InputError: <message>"`` for an ``InputError``; other exceptions
            pass unchanged.
    """
    try:
        yield
    except InputError as error:
        raise SystemExit(f"InputError: {error}") from None
