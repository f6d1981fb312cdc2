"""CIFAR-10 as uint8 tensors, through ``datasets.load_dataset`` (Hub id or local folder)."""
from __future__ import annotations

import numpy as np
import torch

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def load_cifar10(source: str = "uoft-cs/cifar10", split: str = "train", limit: int | None = None):
    """``(images, labels)``: uint8 ``N x 3 x 32 x 32`` and int64 ``N``, the first ``limit`` rows of ``split``.

    ``source`` is the Hub id (default) or a local folder with the same layout
    (config ``plain_text``, columns ``img`` and ``label``).
    """
    import datasets

    from ..progress import quiet_datasets

    with quiet_datasets():
        ds = datasets.load_dataset(source, split=split)
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    images = np.stack([np.asarray(img.convert("RGB")) for img in ds["img"]])
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.tensor(ds["label"], dtype=torch.int64)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32, standardised with the CIFAR-10 channel mean and std."""
    return (images.float() / 255.0 - MEAN) / STD
