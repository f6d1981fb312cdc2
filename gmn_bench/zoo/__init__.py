"""The zoo format and its files: one row per (network, checkpoint epoch) (:mod:`.schema`) and its
rules, checked wherever rows enter (:mod:`.checks`), Hub-layout folders written and read with
``datasets`` (:mod:`.io`) from a local folder or an exact Hub revision (:mod:`.hub`), weights as
safetensors bytes and checked rebuilding of a row's network (:mod:`.weights`), fixed splits
(:mod:`.splits`), the dataset card (:mod:`.card`), publishing with ``huggingface_hub``
(:mod:`.publish`) and the embedded default zoo (:mod:`.default`)."""
from .checks import check_row, check_rows
from .default import DEFAULT_ZOO
from .errors import ZooFormatError, ZooRowError, ZooUnavailableError
from .io import load_zoo, make_row, write_zoo, zoo_configs, zoo_fingerprint
from .splits import assign_splits
from .weights import to_module

__all__ = ["DEFAULT_ZOO", "ZooFormatError", "ZooRowError", "ZooUnavailableError", "assign_splits", "check_row",
           "check_rows", "load_zoo", "make_row", "to_module", "write_zoo", "zoo_configs", "zoo_fingerprint"]
