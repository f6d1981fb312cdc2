"""Time and memory limits for fuzz cases, in the test process itself (no fork, no re-import).

:func:`limited` raises :class:`CaseTimeout` in the main thread when a case runs past its time and
lowers the soft address-space limit so that a case allocating past its memory budget gets a
``MemoryError`` instead of taking the machine down; both are restored afterwards.
"""
from __future__ import annotations

import resource
import signal
from contextlib import contextmanager
from pathlib import Path


class CaseTimeout(Exception):
    """A fuzz case ran past its time limit."""


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


@contextmanager
def limited(seconds: float, memory_bytes: int):
    """Run the body with at most ``seconds`` of wall-clock time and ``memory_bytes`` more address space."""
    def expire(signum, frame):
        raise CaseTimeout(f"case ran past its {seconds} s limit")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + memory_bytes
    previous = signal.signal(signal.SIGALRM, expire)
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)
