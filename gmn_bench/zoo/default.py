"""The zoo shipped inside the package: ``cifar10-tiny`` trained on the 4,660-image CIFAR-10
subset (see its dataset card). It needs no network, so examples and the main command run anywhere."""
from __future__ import annotations

from pathlib import Path

DEFAULT_ZOO = Path(__file__).resolve().parents[1] / "zoos" / "cifar10-tiny"
