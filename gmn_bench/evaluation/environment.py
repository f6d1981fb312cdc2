"""Where a result was measured: package, git commit, Python/torch versions, CPU, cores, GPU."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """The ``environment`` block of a results file."""
    from .. import __version__

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "gmn_bench_version": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "hardware": {"cpu": _cpu_model(), "cores": cores,
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
    }
