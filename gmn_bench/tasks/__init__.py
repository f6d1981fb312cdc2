"""Standardized weight-space tasks and their fixed metrics.

* :func:`get_task` / :data:`TASKS`: accuracy prediction (in-distribution and each
  out-of-distribution config), generalization gap, hyperparameter prediction;
* :meth:`Task.evaluate`: checks predictions keyed by ``model_id`` and scores them;
* :class:`ParameterPredictionTask` (:mod:`.parameter_prediction`): architectures in, state_dicts
  out, scored by CIFAR-10 accuracy with and without a short fine-tuning;
* :func:`zoo_fingerprint`: the content hash that results files record.
"""
from ..zoo.io import zoo_fingerprint
from .metrics import (
           CLASSIFICATION_METRICS,
           REGRESSION_METRICS,
           classification_metrics,
           regression_metrics,
)
from .parameter_prediction import ParameterPredictionTask
from .task import (
           SPLITS,
           TASKS,
           Task,
           TaskDefinition,
           TaskInputError,
           final_checkpoint_rows,
           get_task,
)

__all__ = ["CLASSIFICATION_METRICS", "ParameterPredictionTask", "REGRESSION_METRICS", "SPLITS", "TASKS", "Task", "TaskDefinition",
           "TaskInputError", "classification_metrics", "final_checkpoint_rows", "get_task", "regression_metrics",
           "zoo_fingerprint"]
