"""Keep freed memory in the process on Linux (glibc), so that training does not page-fault.

A training step allocates and frees the same few megabytes of activations every update. glibc
hands blocks above its mmap threshold back to the kernel when they are freed, so the next update
maps them again and touches every page afresh: about 1,400 page faults per update of the default
network (M = 2), which cost several milliseconds on the virtual machines these pipelines run on
(docs/performance.md, "The training step"). Raising the mmap and trim thresholds keeps the blocks
in the heap for reuse. It changes no result, only where memory comes from.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

# mallopt parameters (glibc's <malloc.h>)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# the largest mmap threshold glibc accepts (HEAP_MAX / 2 on 64-bit); blocks above it still map
_MMAP_THRESHOLD = 32 * 1024 * 1024
_TRIM_THRESHOLD = 1024 * 1024 * 1024


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (no-op elsewhere).

    Returns:
        True if both settings were taken (Linux with glibc), False otherwise.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    if not ok:
        log.debug("mallopt refused the thresholds; freed memory goes back to the kernel")
    return ok
