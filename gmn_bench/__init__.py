"""gmn-bench: datasets and benchmarks for weight-space learning.

Public API:

* architectures: :func:`build_model`, :func:`validate_spec`, :data:`FAMILIES`, :class:`SpecError`
* zoos: :func:`make_row`, :func:`write_zoo`, :func:`load_zoo`, :func:`to_module`,
  :class:`ZooRowError`, :class:`ZooFormatError`, and the row format in :mod:`gmn_bench.zoo_schema`
* parameter graphs: :mod:`gmn_bench.graphs` (``to_graph``, ``from_graph``), :mod:`gmn_bench.graph_data`
  (``GraphDataset``, ``graph_loader``); metanets: :mod:`gmn_bench.metanets` (``GMN``)
"""
from .architectures import FAMILIES, SpecError, build_model, count_parameters, validate_spec
from .weights import ZooRowError, to_module
from .zoo_io import ZooFormatError, load_zoo, make_row, write_zoo

__version__ = "0.1.0"
__all__ = ["FAMILIES", "SpecError", "ZooFormatError", "ZooRowError", "build_model", "count_parameters",
           "load_zoo", "make_row", "to_module", "validate_spec", "write_zoo", "__version__"]
