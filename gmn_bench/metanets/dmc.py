"""DMC, the deep meta-classifier (Eilertsen et al., 2020), as the GMN authors wrote it: a 1-D CNN over
the whole flattened network.

Follows ``DMCCNN`` of ``cptq/asymmetric-networks``, file ``metanet/models.py``, commit
``7895e5c6ce6691d4b5a090d1527207d789dad93f`` (the GMN authors' public metanet code), as their
``metanet/train.py`` builds it for ``--model dmc``: ``DMCCNN(1, hidden, 1, conv_num_layers=10)`` with
``hidden = 64`` (``paper_scripts/final_dmc.sh``). Input handling as theirs (``sd_to_input``): the raw
values of every tensor of the network, concatenated in state_dict order, unstandardized, one input
channel. The stack: six blocks Conv1d(k=5, no padding) -> ReLU -> BatchNorm1d -> MaxPool1d(2) with
``1 -> hidden/32 -> hidden/16 -> ... -> hidden`` channels, then ``conv_layers - 6`` blocks of
``hidden`` channels (every second one pooled); the readout is the authors' ``DSSeqReadout``
(:class:`~gmn_bench.metanets.deepsets.SeqReadout`, two layers): Linear -> LayerNorm -> ReLU at every
position, the mean over the positions, Linear -> LayerNorm -> ReLU -> Linear.

The authors' networks all have the same length and their forward reads a dense ``[B, N]`` batch. The
one change for networks of different lengths: a batch is zero-padded at the end to its longest
network (and to at least :attr:`DMC.min_length`, 2,044 values with the default stack: the shortest
input that leaves one position after ten k=5 convolutions and eight poolings), and the authors'
module runs on it unchanged. So, as their code would on such a batch, BatchNorm's batch statistics
and the readout's mean also cover the padding, and a network's output depends on how much shorter it
is than its batch's longest network (in eval mode too: :class:`~gmn_bench.evaluation.FittedMetanet`
predicts in a fixed order, batches of 32, so its predictions are reproducible). Pooling each network
over its own positions instead (this class up to commit ``a749bdc``) loses 0.118 Kendall tau on the
embedded zoo (paired, n = 208, 4 seeds each; ``docs/results.md``).

On the same batches the outputs are the authors' (``tests/test_faithful_baselines.py``). BatchNorm's
integer ``num_batches_tracked`` is not read. The flattened networks are padded per batch, so a batch
costs its size times its longest network.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_dense_batch

from .base import TorchMetanet
from .deepsets import SeqReadout
from .tensors import flat_weights

KERNEL = 5


def _block(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, KERNEL), nn.ReLU(), nn.BatchNorm1d(c_out),
                         *([nn.MaxPool1d(2)] if pool else []))


class DMC(TorchMetanet):
    """The GMN authors' DMC baseline over whole networks; see the module docstring."""

    name = "dmc"
    default_epochs = 40

    def __init__(self, out_dim: int, hidden: int = 64, conv_layers: int = 10):
        if conv_layers < 6 or hidden < 32:
            raise ValueError(f"DMC: needs conv_layers >= 6 and hidden >= 32, got {conv_layers} and {hidden}")
        super().__init__(out_dim=out_dim, hidden=hidden, conv_layers=conv_layers)
        widths = [1] + [hidden // 2 ** k for k in range(5, -1, -1)]
        pools = [True] * 6 + [i % 2 == 1 for i in range(conv_layers - 6)]
        widths += [hidden] * (conv_layers - 6)
        self.convs = nn.ModuleList(_block(a, b, pool) for a, b, pool in zip(widths, widths[1:], pools))
        self.readout = SeqReadout(hidden, hidden, out_dim, num_layers=2)
        self.min_length = self._shortest_input(pools)

    @staticmethod
    def _shortest_input(pools: list[bool]) -> int:
        length = 1
        for pool in reversed(pools):
            length = length * (2 if pool else 1) + KERNEL - 1
        return length

    def featurize(self, row: Mapping) -> Data:
        """The flattened network as ``x`` ``[length, 1]`` (one "node" per value)."""
        return Data(x=flat_weights(row))

    def forward(self, batch: Batch) -> torch.Tensor:
        h = to_dense_batch(batch.x[:, 0], batch.batch, batch_size=batch.num_graphs)[0]
        h = nn.functional.pad(h, (0, max(0, self.min_length - h.shape[1])))[:, None]
        for block in self.convs:
            h = block(h)
        return self.readout.post_pool(self.readout.pre_pool(h.transpose(1, 2)).mean(1))  # the authors' dense readout
