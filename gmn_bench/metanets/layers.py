"""Small ``nn`` building blocks shared by the metanets."""
from __future__ import annotations

import torch
from torch import nn


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int = 2, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """``layers`` Linear layers (``in_dim -> hidden -> ... -> out_dim``) with ``activation`` between them."""
    dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        mods += [nn.Linear(a, b)] + ([activation()] if i < len(dims) - 2 else [])
    return nn.Sequential(*mods)


def input_standardizer(dim: int | None = None) -> nn.Module:
    """Per-feature standardization learned from the training batches (a BatchNorm1d without affine
    parameters and with a cumulative average, so its statistics converge to the training set's)."""
    if dim is None:
        return nn.LazyBatchNorm1d(affine=False, momentum=None)
    return nn.BatchNorm1d(dim, affine=False, momentum=None)


class RunningStandardize(nn.Module):
    """Each feature minus its running mean, divided by its running standard deviation.

    The statistics are exponential moving averages (weight ``momentum``; the first training batch sets
    them) over training batches, and are applied alike in training and evaluation, without gradient.
    Unlike BatchNorm, an example's output therefore never depends on the other examples of its batch and
    does not shift when the model switches from batch to running statistics for evaluation.
    """

    def __init__(self, dim: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("started", torch.tensor(False))

    def update(self, z: torch.Tensor) -> None:
        """Move the statistics towards the mean and variance of the batch ``z`` ``[n, dim]`` (set them, on
        the first batch); a batch of one example has no variance and changes nothing."""
        if z.shape[0] > 1:
            with torch.no_grad():
                weight = self.momentum if bool(self.started) else 1.0
                self.mean.lerp_(z.mean(0), weight)
                self.var.lerp_(z.var(0), weight)
                self.started.fill_(True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` standardized; in training mode the statistics are first updated from ``z`` (:meth:`update`)."""
        if self.training:
            self.update(z)
        return (z - self.mean) * torch.rsqrt(self.var + self.eps)
