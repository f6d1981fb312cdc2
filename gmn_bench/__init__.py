"""gmn-bench: datasets and benchmarks for weight-space learning.

Public API:

* architectures: :func:`build_model`, :func:`validate_spec`, :data:`FAMILIES`, :class:`SpecError`
* zoos: :func:`make_row`, :func:`write_zoo`, :func:`load_zoo`, :func:`to_module`,
  :class:`ZooRowError`, :class:`ZooFormatError`, :class:`ZooUnavailableError`, and the row format in
  :mod:`gmn_bench.zoo_schema`
* parameter graphs: :mod:`gmn_bench.graphs` (``to_graph``, ``from_graph``), :mod:`gmn_bench.graph_data`
  (``GraphDataset``, ``graph_loader``)
* tasks and scoring: :mod:`gmn_bench.tasks` (``get_task``, ``Task.evaluate``, ``ParameterPredictionTask``),
  :mod:`gmn_bench.evaluation` (``score``, ``evaluate_metanet``, ``validate_results``)
* reference metanets: :mod:`gmn_bench.metanets` (``GMN``, ``DeepSets``, ``StatNN``, ``StatNNGBT``,
  ``FlatMLP``; the graph hypernetwork ``metanets.ghn.GHN``)
* building zoos: :mod:`gmn_bench.recipes`, :mod:`gmn_bench.build`; publishing: :mod:`gmn_bench.publish`
"""
from .architectures import FAMILIES, SpecError, build_model, count_parameters, validate_spec
from .weights import ZooRowError, to_module
from .zoo_io import ZooFormatError, ZooUnavailableError, load_zoo, make_row, write_zoo

__version__ = "0.1.0"
__all__ = ["FAMILIES", "SpecError", "ZooFormatError", "ZooRowError", "ZooUnavailableError", "build_model",
           "count_parameters", "load_zoo", "make_row", "to_module", "validate_spec", "write_zoo", "__version__"]
