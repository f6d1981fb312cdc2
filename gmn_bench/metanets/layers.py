"""Small ``nn`` building blocks shared by the baseline metanets."""
from __future__ import annotations

from torch import nn


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int = 2) -> nn.Sequential:
    """``layers`` Linear layers (``in_dim -> hidden -> ... -> out_dim``) with ReLU between them."""
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        mods += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(dims) - 2 else [])
    return nn.Sequential(*mods)


def input_standardizer(dim: int | None = None) -> nn.Module:
    """Per-feature standardization learned from the training batches (a BatchNorm1d without affine
    parameters and with a cumulative average, so its statistics converge to the training set's)."""
    if dim is None:
        return nn.LazyBatchNorm1d(affine=False, momentum=None)
    return nn.BatchNorm1d(dim, affine=False, momentum=None)
