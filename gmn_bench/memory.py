"""Process-wide allocator settings for large, short-lived tensors (GMN's per-edge buffers).

glibc returns freed buffers above its mmap threshold to the kernel and faults them in again on the
next batch; on GMN's message passing that was half the CPU time of an epoch. :func:`keep_freed_memory`
raises the mmap threshold to its maximum (32 MiB on 64-bit) and turns trimming off with
``mallopt`` (what the ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` environment
variables do at start-up), so freed buffers stay in the heap and are reused. Every ``gmn-bench`` command calls it; library users may call it once at start-up.
It is a no-op where glibc's ``mallopt`` is not available.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)  # glibc's DEFAULT_MMAP_THRESHOLD_MAX
_NO_TRIM = -1


def keep_freed_memory() -> bool:
    """Tell glibc to keep freed buffers for reuse; returns whether both settings took effect."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mmap = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1
    return mallopt(_M_TRIM_THRESHOLD, _NO_TRIM) == 1 and mmap
