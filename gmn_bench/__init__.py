"""gmn-bench: datasets and benchmarks for weight-space learning.

The package is organised by job; each sub-package's docstring says what it holds:

* :mod:`gmn_bench.nets`: architecture specs, ``build_model``, CIFAR-10, classifier training;
* :mod:`gmn_bench.zoo`: the zoo format, reading and writing zoos, splits, cards, publishing;
* :mod:`gmn_bench.build`: recipes and the crash-safe build engine;
* :mod:`gmn_bench.graphs`: parameter graphs (``to_graph``, ``from_graph``) and graph datasets;
* :mod:`gmn_bench.tasks`: standardized tasks and their fixed metrics;
* :mod:`gmn_bench.metanets`: reference metanets (GMN, DeepSets, StatNN, ...; the GHN);
* :mod:`gmn_bench.evaluation`: the standard protocol, results files, uncertainty;
* :mod:`gmn_bench.leaderboard`: submissions checked, re-scored and ranked.

The most used names are re-exported here.
"""
from .nets.architectures import FAMILIES, SpecError, build_model, count_parameters, validate_spec
from .zoo.io import ZooFormatError, ZooUnavailableError, load_zoo, make_row, write_zoo
from .zoo.weights import ZooRowError, to_module

__version__ = "0.1.0"
__all__ = ["FAMILIES", "SpecError", "ZooFormatError", "ZooRowError", "ZooUnavailableError", "build_model",
           "count_parameters", "load_zoo", "make_row", "to_module", "validate_spec", "write_zoo", "__version__"]
