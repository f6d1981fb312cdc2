"""``deepsets-plus``: this package's DeepSets variant over a network's parameters, every parameter value
(or order statistic) a set element with extra features. It is not the GMN authors' DeepSets baseline:
that is :class:`~gmn_bench.metanets.deepsets.DeepSets` (``deepsets``), one raw value per element.

An element is ``[value, relative layer position, one-hot tensor kind, log10(tensor size)]``
(:data:`ELEMENT_FEATURES`); ``phi`` embeds each element, a sum or mean pool aggregates them and
``rho`` maps the pooled vector to the output. The output is invariant to any permutation of the
elements (Zaheer et al., 2017). Tensors with more than ``max_per_tensor`` values are summarised
by that many evenly spaced order statistics (sorted values), which keeps the set small and is
itself invariant to permuting the tensor's values.
"""
from __future__ import annotations

import math
from typing import Mapping

import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_add_pool, global_mean_pool

from .base import TorchMetanet
from .layers import input_standardizer, mlp
from .tensors import TENSOR_KINDS, layer_tensors

ELEMENT_FEATURES = ("value", "layer_position", *(f"kind_{k}" for k in TENSOR_KINDS), "log10_numel")
_POOLS = {"sum": global_add_pool, "mean": global_mean_pool}


def _order_statistics(values: torch.Tensor, k: int) -> torch.Tensor:
    if values.numel() <= k:
        return values
    index = torch.linspace(0, values.numel() - 1, k).round().long()
    return values.sort().values[index]


class DeepSetsPlus(TorchMetanet):
    """This package's DeepSets variant; see the module docstring for the set elements."""

    name = "deepsets-plus"

    def __init__(self, out_dim: int, hidden: int = 32, pool: str = "mean", max_per_tensor: int = 64):
        if pool not in _POOLS:
            raise ValueError(f"DeepSetsPlus: pool must be one of {sorted(_POOLS)}, got {pool!r}")
        super().__init__(out_dim=out_dim, hidden=hidden, pool=pool, max_per_tensor=max_per_tensor)
        self.max_per_tensor = max_per_tensor
        self.standardize = input_standardizer(len(ELEMENT_FEATURES))
        self.phi = mlp(len(ELEMENT_FEATURES), hidden, hidden, layers=2)
        self.rho = mlp(hidden, hidden, out_dim, layers=2)
        self.pool = _POOLS[pool]

    def featurize(self, row: Mapping) -> Data:
        tensors = layer_tensors(row)
        last_layer = max(max(t.layer for t in tensors), 1)
        parts = []
        for t in tensors:
            values = _order_statistics(t.values, self.max_per_tensor)
            feats = torch.zeros(values.numel(), len(ELEMENT_FEATURES))
            feats[:, 0] = values
            feats[:, 1] = t.layer / last_layer
            feats[:, 2 + TENSOR_KINDS.index(t.kind)] = 1.0
            feats[:, -1] = math.log10(t.values.numel())
            parts.append(feats)
        return Data(x=torch.cat(parts))

    def forward(self, batch: Batch) -> torch.Tensor:
        h = self.phi(self.standardize(batch.x))
        return self.rho(self.pool(h, batch.batch, size=batch.num_graphs))
