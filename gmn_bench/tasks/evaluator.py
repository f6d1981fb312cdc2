"""An evaluator in the style of the Open Graph Benchmark's: ``Evaluator(task_name).eval(input_dict)``.

It is pure: it needs no zoo, only the truth and the predictions, aligned (element ``i`` of
``y_pred`` predicts the network of element ``i`` of ``y_true``). :meth:`gmn_bench.tasks.Task.evaluate`
aligns predictions keyed by ``model_id`` with a zoo's truth and calls it, so every score in
gmn-bench comes from here.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from gmn_bench.intake import tensor_to_numpy

from .checks import TaskInputError, check_value
from .definitions import PARAMETER_PREDICTION, TASKS
from .metrics import METRIC_FUNCTIONS, METRICS, RANK_METRIC

ARRAY_FORMS = "a list, a numpy array, a torch tensor or a pandas Series"


def _values(task: str, key: str, values: Any) -> np.ndarray:
    """``values`` (one of :data:`ARRAY_FORMS`, shape ``[n]`` or ``[n, 1]``) as a 1-D numpy array."""
    if isinstance(values, torch.Tensor):
        values = tensor_to_numpy(values)
    elif type(values).__name__ == "Series" and hasattr(values, "to_numpy"):  # pandas, without importing it
        values = values.to_numpy()
    elif isinstance(values, (list, tuple)):
        values = np.array([tensor_to_numpy(v) if isinstance(v, torch.Tensor) else v for v in values], dtype=object)
    elif not isinstance(values, np.ndarray):
        raise TaskInputError(f"{task}: {key} must be {ARRAY_FORMS}, got {type(values).__name__}")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or len(values) == 0:
        raise TaskInputError(f"{task}: {key} must hold one value per network (shape [n] or [n, 1], n >= 1), "
                             f"got shape {tuple(values.shape)}")
    return values


def _labels(task: str, key: str, values: np.ndarray) -> tuple[np.ndarray, type]:
    """Class labels: all strings or all integers; returns them and their kind."""
    items = values.tolist()
    for kind in (str, int):
        if all(isinstance(v, kind) and not isinstance(v, bool) for v in items):
            return np.array(items), kind
    bad = next(v for v in items if not isinstance(v, (str, int)) or isinstance(v, bool))
    raise TaskInputError(f"{task}: {key} must hold class labels, all strings or all integers; found {bad!r:.80}")


class Evaluator:
    """The metrics of one task (a name of :data:`gmn_bench.tasks.TASKS`) for aligned truth and predictions.

    >>> Evaluator("accuracy-prediction").eval({"y_true": [0.1, 0.5, 0.3], "y_pred": [0.2, 0.4, 0.35]})
    {'r2': 0.71875, 'kendall_tau': 1.0, 'rmse': 0.08660254037844385}
    """

    def __init__(self, task_name: str):
        if task_name == PARAMETER_PREDICTION:
            raise TaskInputError(f"{task_name} is scored by running the predicted networks on CIFAR-10: "
                                 "use gmn_bench.tasks.ParameterPredictionTask(...).evaluate")
        if task_name not in TASKS:
            raise TaskInputError(f"unknown task {task_name!r}; expected one of {sorted(TASKS)}")
        self.name = task_name
        self.task_type = TASKS[task_name].task_type
        self.metrics: tuple[str, ...] = METRICS[self.task_type]
        self.rank_metric: str = RANK_METRIC[self.task_type]

    @property
    def expected_input_format(self) -> str:
        """What :meth:`eval` takes, in words."""
        values = ("finite real numbers (the target " + TASKS[self.name].target + ")"
                  if self.task_type == "regression" else
                  "class labels, all strings (e.g. 'adam') or all integers, the same kind in both")
        return (f"==== Expected input format of Evaluator({self.name!r})\n"
                "{'y_true': y_true, 'y_pred': y_pred}: each " + ARRAY_FORMS + " of shape [n] or [n, 1], "
                f"aligned (y_pred[i] predicts the network of y_true[i]), holding {values}. "
                "Two pandas Series must share their index.")

    @property
    def expected_output_format(self) -> str:
        """What :meth:`eval` returns, in words."""
        return (f"==== Expected output format of Evaluator({self.name!r})\n"
                "{" + ", ".join(f"'{m}': float" for m in self.metrics) + "}; "
                f"ranked by {self.rank_metric!r} (higher is better)")

    def eval(self, input_dict: Mapping[str, Any]) -> dict[str, float]:
        """``{metric: value}`` for ``input_dict = {"y_true": ..., "y_pred": ...}`` (see
        :attr:`expected_input_format`); :class:`TaskInputError` naming the problem otherwise."""
        if not isinstance(input_dict, Mapping) or set(input_dict) != {"y_true", "y_pred"}:
            got = sorted(map(str, input_dict)) if isinstance(input_dict, Mapping) else type(input_dict).__name__
            raise TaskInputError(f"{self.name}: eval takes {{'y_true': ..., 'y_pred': ...}}, got {got}")
        true, pred = input_dict["y_true"], input_dict["y_pred"]
        if all(type(v).__name__ == "Series" for v in (true, pred)) and not true.index.equals(pred.index):
            raise TaskInputError(f"{self.name}: y_true and y_pred are pandas Series with different indexes; "
                                 "align them first (e.g. y_pred.loc[y_true.index])")
        y_true, y_pred = _values(self.name, "y_true", true), _values(self.name, "y_pred", pred)
        if len(y_true) != len(y_pred):
            raise TaskInputError(f"{self.name}: y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
        if self.task_type == "classification":
            (y_true, kind_true), (y_pred, kind_pred) = (_labels(self.name, k, v) for k, v in
                                                        (("y_true", y_true), ("y_pred", y_pred)))
            if kind_true is not kind_pred:
                raise TaskInputError(f"{self.name}: y_true holds {kind_true.__name__} labels but y_pred "
                                     f"{kind_pred.__name__} labels")
        else:
            y_true, y_pred = (np.array([check_value(self.name, f"{key}[{i}]", v, "regression")
                                        for i, v in enumerate(values.tolist())])
                              for key, values in (("y_true", y_true), ("y_pred", y_pred)))
        return {m: METRIC_FUNCTIONS[m](y_true, y_pred) for m in self.metrics}
