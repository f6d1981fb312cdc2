"""StatNN (Unterthiner et al., 2020, "Predicting neural network accuracy from weights").

Features: for each layer with a weight matrix or kernel (Linear/Conv2d, in module order), the
:data:`~gmn_bench.metanets.tensors.STATISTICS` of its weight and of its bias (zeros if it has
none) and a presence flag: ``2 * 7 + 1 = 15`` numbers per layer slot, ``slots`` slots.

Fixed slots for networks of any depth (deterministic): the last ``slots // 2`` layers fill the
last slots, ending with the output layer in the final slot; the first layers (at most
``slots - slots // 2``) fill the first slots; unused slots in between are zeros with presence
0, and middle layers that do not fit are dropped.

:class:`StatNN` is the MLP on these features; :class:`StatNNGBT` the gradient-boosted trees
(scikit-learn ``HistGradientBoosting*``) on the same features.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from .base import TorchMetanet
from .baselines import GradientBoostedTrees
from .layers import input_standardizer, mlp
from .tensors import STATISTICS, layer_tensors, tensor_statistics

SLOT_FEATURES = (*(f"weight_{s}" for s in STATISTICS), *(f"bias_{s}" for s in STATISTICS), "present")
_WEIGHT_KINDS = ("linear_weight", "conv_weight")


def _layer_features(row: Mapping) -> list[np.ndarray]:
    by_layer: dict[int, dict[str, torch.Tensor]] = {}
    for t in layer_tensors(row):
        by_layer.setdefault(t.layer, {})[t.kind] = t.values
    features = []
    for tensors in by_layer.values():
        weight = next((tensors[k] for k in _WEIGHT_KINDS if k in tensors), None)
        if weight is None:
            continue
        bias = tensor_statistics(tensors["bias"]) if "bias" in tensors else np.zeros(len(STATISTICS))
        features.append(np.concatenate([tensor_statistics(weight), bias, [1.0]]))
    return features


def statnn_features(row: Mapping, slots: int = 8) -> np.ndarray:
    """The StatNN feature vector of a zoo row: ``slots * 15`` float64 values (module docstring)."""
    layers = _layer_features(row)
    n_back = min(slots // 2, len(layers))
    back = layers[len(layers) - n_back:]
    front = layers[:len(layers) - n_back][:slots - slots // 2]
    pad = [np.zeros(len(SLOT_FEATURES))] * (slots - len(front) - len(back))
    return np.concatenate(front + pad + back)


class StatNN(TorchMetanet):
    """MLP on :func:`statnn_features` (standardized with training-set statistics)."""

    name = "statnn"

    def __init__(self, out_dim: int, hidden: int = 64, layers: int = 3, slots: int = 8):
        super().__init__(out_dim=out_dim, hidden=hidden, layers=layers, slots=slots)
        self.slots = slots
        in_dim = slots * len(SLOT_FEATURES)
        self.net = nn.Sequential(input_standardizer(in_dim), mlp(in_dim, hidden, out_dim, layers=layers))

    def featurize(self, row: Mapping) -> Data:
        return Data(x=torch.from_numpy(statnn_features(row, self.slots)).float()[None])

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.net(batch.x)


class StatNNGBT(GradientBoostedTrees):
    """Gradient-boosted trees on :func:`statnn_features` (a scikit-learn metanet; see
    :class:`~gmn_bench.metanets.baselines.GradientBoostedTrees`: deterministic, evaluated once)."""

    name = "statnn-gbt"

    def __init__(self, slots: int = 8, max_iter: int = 100, learning_rate: float = 0.05, min_samples_leaf: int = 5):
        super().__init__(slots=slots, max_iter=max_iter, learning_rate=learning_rate, min_samples_leaf=min_samples_leaf)

    def featurize(self, row: Mapping) -> np.ndarray:
        return statnn_features(row, self._hparams["slots"])

