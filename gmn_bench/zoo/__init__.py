"""The zoo format and its files: one row per (network, checkpoint epoch) (:mod:`.schema`), Hub-layout
folders written and read with ``datasets`` (:mod:`.io`), weights as safetensors bytes and checked
rebuilding of a row's network (:mod:`.weights`), fixed splits (:mod:`.splits`), the dataset card
(:mod:`.card`), publishing with ``huggingface_hub`` (:mod:`.publish`) and the embedded default zoo
(:mod:`.default`)."""
from .default import DEFAULT_ZOO
from .io import (
           ZooFormatError,
           ZooUnavailableError,
           load_zoo,
           make_row,
           write_zoo,
           zoo_fingerprint,
)
from .splits import assign_splits
from .weights import ZooRowError, to_module

__all__ = ["DEFAULT_ZOO", "ZooFormatError", "ZooRowError", "ZooUnavailableError", "assign_splits", "load_zoo",
           "make_row", "to_module", "write_zoo", "zoo_fingerprint"]
