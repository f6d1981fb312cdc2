"""DeepSets as the GMN authors wrote it: every value of the flattened network is a set element.

Follows ``DSSeqReadout`` of ``cptq/asymmetric-networks``, file ``metanet/models.py``, commit
``7895e5c6ce6691d4b5a090d1527207d789dad93f`` (Lim et al., the GMN authors' public metanet code), as
their ``metanet/train.py`` builds it for ``--model deepsets``: ``DSSeqReadout(1, hidden, 1,
num_layers=3)`` with ``hidden = 64`` (``paper_scripts/final_deepsets.sh``). Input handling as theirs
(``sd_to_input``): the raw values of every tensor of the network, concatenated, unstandardized, one
scalar per element. ``pre_pool`` (Linear, LayerNorm, ReLU) embeds each element, a mean over the
network's elements pools them and ``post_pool`` (``num_layers - 1`` blocks of Linear, LayerNorm, ReLU,
then a Linear) maps the mean to the output (Zaheer et al., 2017).

The only change: the authors' networks all have the same length and are pooled over a ``[B, N, D]``
tensor; here each network is pooled over its own elements (a scatter mean over a ``torch_geometric``
batch), so networks of different lengths share a batch. On equal-length inputs the outputs are the
authors' (``tests/test_faithful_baselines.py``). BatchNorm's integer ``num_batches_tracked`` is not
read (:func:`~gmn_bench.metanets.tensors.flat_weights`). This package's richer variant is
:class:`~gmn_bench.metanets.deepsets_plus.DeepSetsPlus` (``deepsets-plus``).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import global_mean_pool

from .base import TorchMetanet
from .tensors import flat_weights


def _linear_norm_relu(in_dim: int, out_dim: int) -> list[nn.Module]:
    return [nn.Linear(in_dim, out_dim), nn.LayerNorm(out_dim), nn.ReLU()]


class SeqReadout(nn.Module):
    """The authors' ``DSSeqReadout`` over a ragged batch: ``forward(x [n, in_dim], index [n], size)`` embeds
    every element with ``pre_pool``, means the elements of each of the ``size`` sets (``index``: each
    element's set) and returns ``post_pool`` of the means, ``[size, out_dim]``. Submodule names are the
    authors', so their state dicts load unchanged."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, num_layers: int = 2):
        super().__init__()
        self.pre_pool = nn.Sequential(*_linear_norm_relu(in_dim, hidden))
        blocks = [m for _ in range(num_layers - 1) for m in _linear_norm_relu(hidden, hidden)]
        self.post_pool = nn.Sequential(*blocks, nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
        return self.post_pool(global_mean_pool(self.pre_pool(x), index, size=size))


class DeepSets(TorchMetanet):
    """The GMN authors' DeepSets baseline; see the module docstring."""

    name = "deepsets"
    default_epochs = 40  # as dmc: both read every value of every network (the authors' train.py: 50)

    def __init__(self, out_dim: int, hidden: int = 64, num_layers: int = 3):
        super().__init__(out_dim=out_dim, hidden=hidden, num_layers=num_layers)
        self.readout = SeqReadout(1, hidden, out_dim, num_layers)

    def featurize(self, row: Mapping) -> Data:
        """The flattened network as ``x`` ``[length, 1]``, one element per value."""
        return Data(x=flat_weights(row))

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.readout(batch.x, batch.batch, batch.num_graphs)
