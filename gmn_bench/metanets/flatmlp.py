"""FlatMLP: an MLP on a network's flattened weights, for zoos of one architecture only.

The input is every floating-point tensor of the state_dict (parameters and BatchNorm running
statistics) flattened and concatenated in module order, standardized per coordinate with
training-set statistics. Its length depends on the architecture, so :meth:`FlatMLP.check_rows`
refuses zoos that mix architectures.
"""
from __future__ import annotations

import json
from typing import Iterable, Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data

from .base import MetanetNotApplicable, TorchMetanet
from .layers import input_standardizer, mlp
from .tensors import layer_tensors


class FlatMLP(TorchMetanet):
    """MLP on the flattened weight vector (single-architecture zoos)."""

    name = "flatmlp"

    def __init__(self, out_dim: int, hidden: int = 64, layers: int = 2):
        super().__init__(out_dim=out_dim, hidden=hidden, layers=layers)
        self.standardize = input_standardizer()
        self.first = nn.LazyLinear(hidden)
        self.rest = mlp(hidden, hidden, out_dim, layers=layers)

    @classmethod
    def check_rows(cls, rows: Iterable[Mapping]) -> None:
        """Raise :class:`MetanetNotApplicable` unless every row has the same ``arch``."""
        archs = sorted({row["arch"] for row in rows})
        if len(archs) > 1:
            shown = "; ".join(archs[:2]) + (f"; ... ({len(archs) - 2} more)" if len(archs) > 2 else "")
            families = sorted({json.loads(a)["family"] for a in archs})
            raise MetanetNotApplicable(f"{cls.name} reads one architecture, but this zoo mixes {len(archs)} "
                                       f"(families {', '.join(families)}): {shown}")

    def featurize(self, row: Mapping) -> Data:
        return Data(x=torch.cat([t.values for t in layer_tensors(row)])[None])

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.rest(torch.relu(self.first(self.standardize(batch.x))))
