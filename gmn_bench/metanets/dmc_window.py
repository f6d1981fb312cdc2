"""``dmc-window``: this package's windowed variant of DMC (Eilertsen et al., 2020, "Classifying the
classifier: dissecting the weight space of neural networks"), a 1-D convolutional network over windows
of the flattened weights. It is not the GMN authors' DMC baseline: that is
:class:`~gmn_bench.metanets.dmc.DMC` (``dmc``), which reads whole networks with their conv stack and
readout.

A network's floating-point tensors (parameters and BatchNorm statistics, module order) are
concatenated into one sequence. As in the paper, the model reads a *window* of ``window``
consecutive values: while training, one window at a random offset per network and step (drawn
from torch's seeded generator), so every part of a long sequence is seen; in eval mode the
prediction is the mean over ``eval_windows`` evenly spaced windows covering the sequence. Shorter
sequences are zero-padded, with a second input channel marking the real values. Values are
standardized with training-set statistics. The conv stack (``channels`` per block: conv k=5,
BatchNorm, ReLU, max-pool 2) ends in global mean+max pooling and an MLP head.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data

from .base import TorchMetanet
from .layers import input_standardizer, mlp
from .tensors import flat_weights


class DMCWindow(TorchMetanet):
    """This package's windowed DMC variant (1-D CNN over windows of the flattened weight sequence); see
    the module docstring."""

    name = "dmc-window"
    default_epochs = 40  # each epoch reads new random windows; an epoch costs ~20x a DeepSets epoch

    def __init__(self, out_dim: int, window: int = 2048, channels: tuple[int, ...] = (16, 32, 64, 64, 64),
                 hidden: int = 64, eval_windows: int = 8):
        super().__init__(out_dim=out_dim, window=window, channels=list(channels), hidden=hidden,
                         eval_windows=eval_windows)
        self.window, self.eval_windows = window, eval_windows
        self.standardize = input_standardizer(1)
        blocks, c_in = [], 2
        for c in channels:
            blocks += [nn.Conv1d(c_in, c, 5, padding=2), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(2)]
            c_in = c
        self.convs = nn.Sequential(*blocks)
        self.head = mlp(2 * c_in, hidden, out_dim, layers=2)

    def featurize(self, row: Mapping) -> Data:
        """The flattened weight sequence as ``x`` ``[length, 1]`` (one "node" per value)."""
        return Data(x=flat_weights(row))

    def _offsets(self, length: int) -> list[int]:
        room = max(length - self.window, 0)
        if self.training:
            return [int(torch.randint(room + 1, ()).item())]
        count = min(self.eval_windows, room + 1)
        return sorted({round(i * room / max(count - 1, 1)) for i in range(count)})

    def forward(self, batch: Batch) -> torch.Tensor:
        values = self.standardize(batch.x)[:, 0]
        windows, owner = [], []
        for g, (start, end) in enumerate(zip(batch.ptr[:-1].tolist(), batch.ptr[1:].tolist())):
            sequence = values[start:end]
            for offset in self._offsets(len(sequence)):
                piece = sequence[offset:offset + self.window]
                padded = piece.new_zeros(2, self.window)
                padded[0, :len(piece)], padded[1, :len(piece)] = piece, 1.0
                windows.append(padded)
                owner.append(g)
        h = self.convs(torch.stack(windows))
        out = self.head(torch.cat([h.mean(-1), h.amax(-1)], dim=-1))
        owner = torch.tensor(owner, device=out.device)
        total = out.new_zeros(batch.num_graphs, out.shape[1]).index_add_(0, owner, out)
        return total / torch.bincount(owner, minlength=batch.num_graphs)[:, None]
