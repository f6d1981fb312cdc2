"""Reference metanets: models that read other networks' weights.

The contract every metanet follows is :class:`Metanet` (:mod:`.base`): ``name``, ``featurize``,
``hparams()``, ``default_epochs``, ``deterministic`` (a seed changes nothing) and the zoo check
``check_rows``; a :class:`TorchMetanet` adds ``forward`` and save/load, a :class:`SklearnMetanet`
adds ``estimator``. Torch metanets: :class:`GMN` (Graph Metanetwork over parameter graphs),
:class:`DeepSets` and :class:`DMC` (1-D CNN over the flattened weights) as the GMN authors wrote
them, this package's variant :class:`DeepSetsPlus`, :class:`StatNN`,
:class:`FlatMLP`. Scikit-learn metanets: :class:`StatNNGBT`, the trivial baselines
:class:`Constant` and :class:`ArchOnly` (:data:`TRIVIAL_BASELINES`: they never read a weight value)
and, on the ``"recipe"`` track (they also read the recorded training recipe), the recipe reference
line :class:`Recipe` (:data:`RECIPE_BASELINE`, no weight either) and the diagnostic
:class:`RecipeStatNN` (recipe plus weight statistics). :data:`REFERENCE_LINES`: every metanet that
reads no weight value, run on every task next to the others.
:data:`METANETS` maps each name to its class (:func:`gmn_bench.evaluation.evaluate_metanet` runs any
of them, or any other :class:`Metanet` subclass). The graph hypernetwork
:class:`gmn_bench.metanets.ghn.GHN` (architecture -> parameters) serves the parameter-prediction
task instead and is not in :data:`METANETS`.
"""
from .base import (
    DEFAULT_EPOCHS,
    Metanet,
    MetanetNotApplicable,
    SklearnMetanet,
    TorchMetanet,
)
from .baselines import ArchOnly, Constant
from .deepsets import DeepSets
from .deepsets_plus import DeepSetsPlus
from .dmc import DMC
from .flatmlp import FlatMLP
from .gmn import GMN
from .recipe import Recipe, RecipeStatNN
from .statnn import StatNN, StatNNGBT, statnn_features

METANETS: dict[str, type[Metanet]] = {cls.name: cls for cls in (GMN, DeepSets, DMC, DeepSetsPlus, StatNN,
                                                                 StatNNGBT, FlatMLP, Constant, ArchOnly, Recipe,
                                                                 RecipeStatNN)}
TRIVIAL_BASELINES = (Constant.name, ArchOnly.name)
"""The metanets that read neither a weight value nor the recipe: the floor every other metanet must beat."""
RECIPE_BASELINE = Recipe.name
"""The recipe reference line: what the training recipe and the architecture predict, without a weight."""
REFERENCE_LINES = (*TRIVIAL_BASELINES, RECIPE_BASELINE)
"""Every metanet that reads no weight value (the board's reference lines)."""

__all__ = ["DEFAULT_EPOCHS", "METANETS", "RECIPE_BASELINE", "REFERENCE_LINES", "TRIVIAL_BASELINES", "ArchOnly",
           "Constant", "DMC", "DeepSets", "DeepSetsPlus", "FlatMLP", "GMN", "Metanet",
           "MetanetNotApplicable", "Recipe", "RecipeStatNN", "SklearnMetanet", "StatNN", "StatNNGBT", "TorchMetanet",
           "statnn_features"]
