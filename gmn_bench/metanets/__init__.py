"""Reference metanets: models that read other networks' weights.

The contract every metanet follows is :class:`Metanet` (:mod:`.base`): ``name``, ``featurize``,
``hparams()``, ``default_epochs``, ``deterministic`` and the zoo check ``check_rows``; a
:class:`TorchMetanet` adds ``forward`` and save/load, a :class:`SklearnMetanet` adds ``estimator``.
Torch metanets: :class:`GMN` (Graph Metanetwork over parameter graphs), :class:`DeepSets`,
:class:`StatNN`, :class:`FlatMLP`; scikit-learn: :class:`StatNNGBT`. :data:`METANETS` maps each
name to its class (:func:`gmn_bench.evaluation.evaluate_metanet` runs any of them, or any other
:class:`Metanet` subclass); :data:`TRIVIAL_BASELINES` names the reference entries every other
metanet must beat. The graph hypernetwork :class:`gmn_bench.metanets.ghn.GHN` (architecture ->
parameters) serves the parameter-prediction task instead and is not in :data:`METANETS`.
"""
from .base import DEFAULT_EPOCHS, Metanet, MetanetNotApplicable, SklearnMetanet, TorchMetanet
from .deepsets import DeepSets
from .flatmlp import FlatMLP
from .gmn import GMN
from .statnn import StatNN, StatNNGBT, statnn_features

METANETS: dict[str, type[Metanet]] = {cls.name: cls for cls in (GMN, DeepSets, StatNN, StatNNGBT, FlatMLP)}
TRIVIAL_BASELINES = ("constant", "arch-only")
"""Metanets that read no weight (a constant; architecture features only): the floor of every board."""

__all__ = ["DEFAULT_EPOCHS", "METANETS", "TRIVIAL_BASELINES", "DeepSets", "FlatMLP", "GMN", "Metanet",
           "MetanetNotApplicable", "SklearnMetanet", "StatNN", "StatNNGBT", "TorchMetanet", "statnn_features"]
