"""The zoo shipped inside the package: the final checkpoints of ``cifar10-bench`` (1,040 networks
trained on all 50,000 CIFAR-10 training images; see its dataset card). It needs no network, so
examples, the main job and the leaderboard run anywhere."""
from __future__ import annotations

from pathlib import Path

DEFAULT_ZOO = Path(__file__).resolve().parents[1] / "zoos" / "cifar10-bench"
