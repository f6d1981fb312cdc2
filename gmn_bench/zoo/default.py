"""The zoos shipped inside the package: the final checkpoints of ``cifar10-bench`` (1,040 networks
trained on all 50,000 CIFAR-10 training images; see its dataset card), the default of every task,
and of ``cifar10-shift`` (200 networks of another recipe), the test zoo of the cross-zoo task. They
need no network, so examples, the main job and the leaderboard run anywhere."""
from __future__ import annotations

from pathlib import Path

DEFAULT_ZOO = Path(__file__).resolve().parents[1] / "zoos" / "cifar10-bench"
SHIFT_ZOO = DEFAULT_ZOO.with_name("cifar10-shift")
