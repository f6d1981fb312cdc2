"""A tiny zoo of untrained networks (one per family), for trying the zoo format end to end."""
from __future__ import annotations

from pathlib import Path

import torch

from ..nets.architectures import build_model
from .io import make_row, write_zoo

DEMO_SPECS = (
    {"family": "mlp", "depth": 2, "width": 32},
    {"family": "cnn", "channels": [8, 16], "batchnorm": True},
    {"family": "resnet", "widths": [8, 16]},
    {"family": "vit", "patch_size": 8, "dim": 16, "depth": 1, "heads": 2},
)


def build_demo_zoo(folder: str | Path, seed: int = 0) -> Path:
    """Write the demo zoo (epoch-0 weights, no metrics) to ``folder``; split ``id``: half train, half test."""
    rows = []
    for i, spec in enumerate(DEMO_SPECS):
        torch.manual_seed(seed + i)
        rows.append(make_row(
            f"demo-{spec['family']}", spec, build_model(spec), epoch=0,
            optimizer="adam", learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0, batch_size=32,
            epochs=0, augmentation="none", init_seed=seed + i, data_seed=seed, split_id="train" if i % 2 == 0 else "test",
        ))
    return write_zoo(rows, folder, name="gmn-bench demo zoo", overwrite=True,
                     description="Untrained networks, one per family, written by `gmn-bench demo`.")
