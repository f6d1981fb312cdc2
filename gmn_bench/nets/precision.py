"""Training precision: float32, or bfloat16 autocast mixed precision, chosen per family.

``bfloat16`` wraps the forward pass and the loss in ``torch.autocast(device, dtype=torch.bfloat16)``:
matrix products and convolutions run in bfloat16, while the weights, the optimizer state and the
accuracy evaluation stay float32. On one CPU type a bfloat16 run is as reproducible as a float32 one
(bitwise, one thread), but its weights differ from the float32 run's.

``auto`` (:func:`resolve_precision`) picks bfloat16 only where it makes training faster: on a CPU with
bfloat16 matrix units (:func:`cpu_has_bfloat16`) for the families in :data:`BFLOAT16_FASTER_ON_CPU`, and
on a GPU that supports bfloat16 (Ampere or newer). Everything else trains in float32 (GPUs without
bfloat16 too: float16 needs loss scaling, which the builder does not implement).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import torch

PRECISIONS = ("auto", "float32", "bfloat16")
"""What a build may ask for; ``auto`` resolves per family and device (:func:`resolve_precision`)."""
TRAINING_PRECISIONS = ("float32", "bfloat16")
"""What a network can be trained in (and what a built zoo's ``precision`` column records)."""

BFLOAT16_FASTER_ON_CPU = frozenset({"cnn", "resnet"})
"""Families that train clearly faster under bfloat16 autocast on a CPU with bfloat16 matrix units
(``benchmarks/build_rate.py --precision``; issue 24's measurement on an AMX CPU, one thread: CNN
1.6-2.5x, ResNet 2.2x). MLPs gained 1.3x on tiny steps (not worth giving up float32) and ViTs were
2.3x slower, so both stay float32. (Without bfloat16 units, where ``auto`` never picks it, bfloat16 is
emulated: 0.24-0.29x for CNN, ResNet and ViT and 0.95x for MLP on an AVX2 AMD EPYC, same benchmark.)"""

_BFLOAT16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_has_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bfloat16 matrix instructions (``amx_bf16`` or ``avx512_bf16`` among the
    ``flags`` of ``cpuinfo``). False where the file cannot be read (not Linux)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return not _BFLOAT16_CPU_FLAGS.isdisjoint(flags)


def resolve_precision(precision: str, family: str, device: str) -> str:
    """The precision a ``family`` network trains in on ``device`` (``cpu`` or ``cuda``) when a build
    asks for ``precision`` (one of :data:`PRECISIONS`): ``float32`` and ``bfloat16`` as asked, ``auto``
    as the module docstring says."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS}")
    if precision != "auto":
        return precision
    if device == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if family in BFLOAT16_FASTER_ON_CPU and cpu_has_bfloat16() else "float32"


def check_precision(precision: str) -> None:
    """Raise ``ValueError`` unless ``precision`` is one of :data:`TRAINING_PRECISIONS`."""
    if precision not in TRAINING_PRECISIONS:
        raise ValueError(f"unknown training precision {precision!r}; expected one of {TRAINING_PRECISIONS}")


def autocast(precision: str, device: str) -> AbstractContextManager:
    """The context to run a training step's forward pass and loss in: bfloat16 autocast on
    ``device`` for ``bfloat16``, nothing (plain float32) for ``float32``."""
    check_precision(precision)
    return torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16")
