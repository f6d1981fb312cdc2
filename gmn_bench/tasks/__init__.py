"""Standardized weight-space tasks and their fixed metrics.

* :func:`get_task` / :data:`TASKS`: accuracy prediction (in-distribution and each
  out-of-distribution config), generalization gap, hyperparameter prediction; a :class:`Task`
  gives a split's rows (its input view, :class:`InputRows`: what a metanet may read, no label or
  recipe column; :mod:`.inputs`), ids and targets, and :meth:`Task.evaluate` checks predictions keyed by
  ``model_id`` and scores them; a :class:`CrossZooTask` trains on one zoo and tests on another;
* :class:`Evaluator`: the same metrics, OGB-style, for aligned ``y_true``/``y_pred`` (no zoo);
* :class:`TaskGraphDataset` / :class:`TaskWeightsDataset`: a task split as a dataset whose items
  carry their target ``y``;
* :class:`ParameterPredictionTask` (:mod:`.parameter_prediction`): architectures in, state_dicts
  out, scored by CIFAR-10 accuracy with and without a short fine-tuning;
* :class:`BaseTask`: what every task shares (zoo, revision, splits, ``ids``, ``evaluate(predictions,
  split)`` and one check of ids); :func:`zoo_fingerprint`: the content hash results files record.
"""
from ..zoo.io import zoo_fingerprint
from .checks import TaskInputError
from .datasets import TaskGraphDataset, TaskWeightsDataset
from .definitions import PARAMETER_PREDICTION, SPLITS, TASKS, TaskDefinition
from .evaluator import Evaluator
from .inputs import INPUT_COLUMNS, RECIPE_COLUMNS, TRACKS, HiddenColumnError, InputRow, InputRows
from .metrics import METRICS, RANK_METRIC, classification_metrics, regression_metrics
from .parameter_prediction import ParameterPredictionTask
from .task import BaseTask, CrossZooTask, Task, final_checkpoint_rows, get_task

__all__ = ["BaseTask", "CrossZooTask", "Evaluator", "HiddenColumnError", "INPUT_COLUMNS", "InputRow", "InputRows",
           "METRICS", "PARAMETER_PREDICTION", "ParameterPredictionTask", "RANK_METRIC", "RECIPE_COLUMNS", "SPLITS",
           "TASKS", "TRACKS", "Task", "TaskDefinition", "TaskGraphDataset", "TaskInputError", "TaskWeightsDataset",
           "classification_metrics", "final_checkpoint_rows", "get_task", "regression_metrics", "zoo_fingerprint"]
