"""The networks a zoo holds: architecture specs and ``build_model`` (:mod:`.architectures`), CIFAR-10
as tensors (:mod:`.cifar`), and the classifier training toolkit shared by zoo builds and
parameter-prediction fine-tuning (:mod:`.training`)."""
from .architectures import (
           FAMILIES,
           SpecError,
           build_model,
           count_parameters,
           spec_to_json,
           validate_spec,
)
from .cifar import load_cifar10
from .factories import model_factory
from .training import train_network

__all__ = ["FAMILIES", "SpecError", "build_model", "count_parameters", "load_cifar10", "model_factory", "spec_to_json",
           "train_network", "validate_spec"]
