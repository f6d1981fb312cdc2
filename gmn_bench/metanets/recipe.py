"""The recipe reference line: what the recorded training recipe predicts, without reading a weight.

A network's accuracy follows from how it was trained as much as from what it is. :class:`Recipe`
reads the recorded recipe (optimizer, learning rate, weight decay, label smoothing, batch size,
epochs, train fraction, augmentation: :data:`gmn_bench.tasks.RECIPE_COLUMNS`) and the
architecture features of :class:`~gmn_bench.metanets.ArchOnly` (shapes of the ``arch`` spec, never
a weight value), with gradient-boosted trees. A metanet that does not beat it reads nothing from
the weights that the recipe does not already say. Both metanets here are on the ``"recipe"`` track
(:mod:`gmn_bench.tasks.inputs`): their rows hold the recipe minus the task's own target (no
``optimizer`` when the optimizer is predicted), and never accuracies, losses or seeds.

:class:`RecipeStatNN` (diagnostic) adds the StatNN weight statistics to the same trees: its margin
over :class:`Recipe` is what the weights add beyond the recipe.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ..nets.training import AUGMENTATIONS, OPTIMIZERS
from ..tasks.inputs import RECIPE, RECIPE_COLUMNS
from .baselines import GradientBoostedTrees, arch_features
from .statnn import statnn_features

_NOT_RECORDED = -1.0
_CATEGORIES = {"optimizer": tuple(sorted(OPTIMIZERS)), "augmentation": AUGMENTATIONS}


def recipe_features(row: Mapping) -> np.ndarray:
    """The recipe columns the row has (:data:`gmn_bench.tasks.RECIPE_COLUMNS` order), as numbers:
    optimizer and augmentation one-hot over the names the builder knows (all zeros for another
    name), the other columns as recorded (trees need no rescaling); a null ``train_fraction`` (not
    recorded) is -1, outside its range (not NaN: the trees cannot bin a feature missing everywhere)."""
    out: list[float] = []
    for column in RECIPE_COLUMNS:
        if column not in row:
            continue
        value = row[column]
        if column in _CATEGORIES:
            out += [float(value == name) for name in _CATEGORIES[column]]
        else:
            out.append(_NOT_RECORDED if value is None else float(value))
    return np.array(out)


class Recipe(GradientBoostedTrees):
    """Gradient-boosted trees on :func:`recipe_features` and :func:`~gmn_bench.metanets.baselines.arch_features`:
    the recipe reference line (reads the recipe and the architecture, no weight)."""

    name = "recipe"
    track = RECIPE

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.05, min_samples_leaf: int = 5):
        super().__init__(max_iter=max_iter, learning_rate=learning_rate, min_samples_leaf=min_samples_leaf)

    def featurize(self, row: Mapping) -> np.ndarray:
        return np.concatenate([recipe_features(row), arch_features(row)])


class RecipeStatNN(Recipe):
    """:class:`Recipe`'s features plus :func:`~gmn_bench.metanets.statnn_features` (``slots`` layer
    slots of weight statistics), same trees: a diagnostic of what the weights add beyond the recipe."""

    name = "recipe+statnn"

    def __init__(self, slots: int = 8, max_iter: int = 100, learning_rate: float = 0.05, min_samples_leaf: int = 5):
        GradientBoostedTrees.__init__(self, slots=slots, max_iter=max_iter, learning_rate=learning_rate,
                                min_samples_leaf=min_samples_leaf)

    def featurize(self, row: Mapping) -> np.ndarray:
        return np.concatenate([super().featurize(row), statnn_features(row, self._hparams["slots"])])
