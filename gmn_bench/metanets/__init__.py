"""Reference metanets: models that read other networks' weights.

Torch metanets (``nn.Module``; ``name``, ``featurize(row) -> Data``, ``forward(batch)``,
``config()``, constructor ``out_dim`` + hyperparameters): :class:`GMN` (Graph Metanetwork over
parameter graphs), :class:`DeepSets`, :class:`DMC` (1-D CNN over the flattened weights),
:class:`StatNN`, :class:`FlatMLP`. Scikit-learn metanets (``name``, ``featurize(row) -> ndarray``,
``estimator(task_type, seed)``, ``config()``): :class:`StatNNGBT` and the trivial baselines
:class:`Constant` and :class:`ArchOnly` (:data:`TRIVIAL_BASELINES`: they never read a weight value).
A metanet whose seeds change nothing says so with ``deterministic = True``.
:data:`METANETS` maps each name to its class;
:func:`gmn_bench.evaluation.evaluate_metanet` runs any of them. The graph hypernetwork
:class:`gmn_bench.metanets.ghn.GHN` (architecture -> parameters) serves the parameter-prediction
task instead and is not in :data:`METANETS`.
"""
from .applicability import MetanetNotApplicable, check_applicable
from .baselines import ArchOnly, Constant
from .deepsets import DeepSets
from .dmc import DMC
from .flatmlp import FlatMLP
from .gmn import GMN
from .statnn import StatNN, StatNNGBT, statnn_features

METANETS: dict[str, type] = {cls.name: cls for cls in (GMN, DeepSets, DMC, StatNN, StatNNGBT, FlatMLP, Constant,
                                                        ArchOnly)}
TRIVIAL_BASELINES = (Constant.name, ArchOnly.name)

__all__ = ["METANETS", "TRIVIAL_BASELINES", "ArchOnly", "Constant", "DMC", "DeepSets", "FlatMLP", "GMN",
           "MetanetNotApplicable", "StatNN", "StatNNGBT",
           "check_applicable", "statnn_features"]
