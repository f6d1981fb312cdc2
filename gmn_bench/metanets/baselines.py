"""Trivial baselines: what any metanet must beat to show it reads something from the weights.

* :class:`Constant`: predicts the training split's mean target (regression) or its most frequent
  class (classification), whatever the network;
* :class:`ArchOnly`: gradient-boosted trees on features of the architecture alone (family, parameter
  count, layer counts, fan-in/fan-out and kernel sizes, all read from tensor *shapes*), never a
  weight value. A metanet that does not beat it learns nothing beyond "which architecture is this".

Both are scikit-learn metanets (:class:`~gmn_bench.metanets.SklearnMetanet`) and deterministic:
their seed changes nothing (the trees have no early stopping and no subsampling).
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from ..nets.architectures import FAMILIES
from .base import SklearnMetanet
from ..zoo.weights import architecture_module
from .tensors import module_tensors

ARCH_FEATURES = (*(f"family_{f}" for f in FAMILIES), "log10_params", "layers", "linear_layers", "conv_layers",
                 "norm_tensors", "log2_max_fan_in", "log2_mean_fan_in", "log2_max_fan_out", "log2_mean_fan_out",
                 "max_kernel", "log2_input_features")


def arch_features(row: Mapping) -> np.ndarray:
    """:data:`ARCH_FEATURES` of a zoo row's network, from its family and the tensor shapes of its
    ``arch`` only (the network is rebuilt from the spec: the row's weights are never read)."""
    tensors = module_tensors(architecture_module(row))
    weights = [t for t in tensors if t.kind in ("linear_weight", "conv_weight")]
    fan_in = [math.prod(t.shape[1:]) for t in weights]
    fan_out = [t.shape[0] for t in weights]
    family = row["family"]
    return np.array([
        *(float(family == f) for f in FAMILIES),
        math.log10(sum(t.values.numel() for t in tensors if t.kind not in ("running_mean", "running_var"))),
        len({t.layer for t in weights}),
        sum(t.kind == "linear_weight" for t in weights),
        sum(t.kind == "conv_weight" for t in weights),
        sum(t.kind == "norm_weight" for t in tensors),
        math.log2(max(fan_in)), math.log2(float(np.mean(fan_in))),
        math.log2(max(fan_out)), math.log2(float(np.mean(fan_out))),
        max((t.shape[-1] for t in weights if t.kind == "conv_weight"), default=1),
        math.log2(fan_in[0]),
    ])


class Constant(SklearnMetanet):
    """The training split's mean target or most frequent class, for every network."""

    name = "constant"
    deterministic = True

    def featurize(self, row: Mapping) -> np.ndarray:
        return np.zeros(1)

    def estimator(self, task_type: str, seed: int):
        return DummyClassifier(strategy="most_frequent") if task_type == "classification" else DummyRegressor()


TREE_HPARAMS = ("max_iter", "learning_rate", "min_samples_leaf")
"""The hyperparameters of :class:`GradientBoostedTrees` passed to the estimator."""


class GradientBoostedTrees(SklearnMetanet):
    """A scikit-learn metanet whose estimator is ``HistGradientBoostingRegressor`` (regression) or
    ``...Classifier`` built with its :data:`TREE_HPARAMS`, without early stopping: with fewer than
    200,000 training networks (no subsampled binning) nothing in it is random (``deterministic``).
    Subclasses define ``featurize`` and pass every hyperparameter up to ``__init__``."""

    deterministic = True

    def estimator(self, task_type: str, seed: int):
        cls = HistGradientBoostingClassifier if task_type == "classification" else HistGradientBoostingRegressor
        return cls(random_state=seed, early_stopping=False, **{k: self._hparams[k] for k in TREE_HPARAMS})


class ArchOnly(GradientBoostedTrees):
    """Gradient-boosted trees (scikit-learn ``HistGradientBoosting*``) on :func:`arch_features`."""

    name = "arch-only"

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.05, min_samples_leaf: int = 5):
        super().__init__(max_iter=max_iter, learning_rate=learning_rate, min_samples_leaf=min_samples_leaf)

    def featurize(self, row: Mapping) -> np.ndarray:
        return arch_features(row)
