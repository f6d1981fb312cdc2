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

The authors' networks all have the same length; the changes for networks of different lengths:

* a batch's networks are laid end to end in one sequence, each starting at a multiple of
  ``2 ** pools`` (the zeros between them are never read: an unpadded convolution's output at a
  network's valid positions only reads that network's values, and every pool keeps the starts
  aligned). Each network's valid length is tracked through the stack;
* BatchNorm's batch statistics and the readout's mean cover each network's valid positions only
  (with equal lengths, exactly the authors' positions);
* a network shorter than :attr:`DMC.min_length` (2,044 values with the default stack: the shortest
  input that leaves one position after ten k=5 convolutions and eight poolings) is zero-padded at its
  end to that length, and those zeros are read as values (the authors' networks are all longer).

On equal-length inputs the outputs are the authors' (``tests/test_faithful_baselines.py``).
BatchNorm's integer ``num_batches_tracked`` is not read. This package's windowed variant is
:class:`~gmn_bench.metanets.dmc_window.DMCWindow` (``dmc-window``).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data

from .base import TorchMetanet
from .deepsets import SeqReadout
from .tensors import flat_weights

KERNEL = 5


def _block(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, KERNEL), nn.ReLU(), nn.BatchNorm1d(c_out),
                         *([nn.MaxPool1d(2)] if pool else []))


def _positions(starts: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The sequence positions ``start .. start + length - 1`` of every network, and each one's network."""
    owner = torch.repeat_interleave(torch.arange(len(lengths)), lengths)
    offsets = torch.cumsum(lengths, 0) - lengths
    return torch.arange(int(lengths.sum())) - offsets[owner] + starts[owner], owner


def _valid(starts: torch.Tensor, lengths: torch.Tensor, size: int) -> torch.Tensor:
    """``[size]`` float mask of the positions :func:`_positions` lists (+1 at each start, -1 past each end,
    summed)."""
    steps = torch.zeros(size + 1)
    steps.index_add_(0, starts, torch.ones(len(starts))).index_add_(0, starts + lengths, -torch.ones(len(starts)))
    return steps.cumsum(0)[:size]


def _batch_norm(norm: nn.BatchNorm1d, h: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``norm`` applied to ``h`` ``[1, C, T]`` with training statistics (and their running averages) over
    the ``valid`` positions only; in eval mode the running statistics, as ``norm`` itself."""
    if not norm.training:
        return norm(h)
    count = valid.sum()
    mean = (h * valid).sum((0, 2)) / count
    centered = h - mean[:, None]
    var = (centered.square() * valid).sum((0, 2)) / count
    with torch.no_grad():
        norm.num_batches_tracked.add_(1)
        norm.running_mean.lerp_(mean, norm.momentum)
        norm.running_var.lerp_(var * count / (count - 1), norm.momentum)
    return centered * torch.rsqrt(var + norm.eps)[:, None] * norm.weight[:, None] + norm.bias[:, None]


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
        self._align = 2 ** sum(pools)
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
        lengths = torch.diff(batch.ptr).cpu()
        room = (lengths.clamp(min=self.min_length) + self._align - 1) // self._align * self._align
        starts = torch.cumsum(room, 0) - room
        index = _positions(starts, lengths)[0].to(batch.x.device)
        h = batch.x.new_zeros(1, 1, int(room.sum())).index_copy(2, index, batch.x.T[None])
        lengths = lengths.clamp(min=self.min_length)
        for block in self.convs:
            conv, relu, norm, *pool = block
            h = relu(conv(h))
            lengths = lengths - (KERNEL - 1)
            h = _batch_norm(norm, h, _valid(starts, lengths, h.shape[-1]).to(h))
            if pool:
                h, starts, lengths = pool[0](h), starts // 2, lengths // 2
        index, owner = _positions(starts, lengths)
        return self.readout(h[0][:, index.to(h.device)].T, owner.to(h.device), batch.num_graphs)
