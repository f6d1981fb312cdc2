"""The checks every task runs on predictions before scoring them (one place, shared by all tasks).

* :func:`keyed_by_model_id`: predictions keyed by ``model_id`` (a mapping, a pandas ``Series``
  indexed by ``model_id``, or ``(model_id, value)`` pairs) -> a dict; repeated ids are an error;
* :func:`check_ids`: exactly the expected networks, no missing, no extra;
* :func:`check_value`: one prediction is a real number a float holds exactly
  (regression, :func:`gmn_bench.intake.real`) or a class label (classification).

Each raises :class:`TaskInputError` with a message naming the task and the network.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

from gmn_bench.intake import real


class TaskInputError(ValueError):
    """Predictions (or a task request) that cannot be scored; the message says why."""


KEYED_FORMS = "a mapping model_id -> prediction, a pandas Series indexed by model_id, or (model_id, prediction) pairs"


def _pairs(task: str, predictions: Any) -> Iterable:
    if isinstance(predictions, Mapping):
        return predictions.items()
    if type(predictions).__name__ == "Series" and hasattr(predictions, "index"):  # pandas, without importing it
        return predictions.items()
    if isinstance(predictions, (str, bytes, np.ndarray, torch.Tensor)) or not isinstance(predictions, Iterable):
        raise TaskInputError(f"{task}: predictions must be {KEYED_FORMS}; got {type(predictions).__name__} "
                             "(for arrays aligned with the truth use gmn_bench.tasks.Evaluator)")
    return predictions


def keyed_by_model_id(task: str, predictions: Any) -> dict[str, Any]:
    """``{model_id: prediction}`` from any of :data:`KEYED_FORMS`; :class:`TaskInputError` for
    another type, a key that is not a ``model_id`` string, a malformed pair or a repeated id."""
    out: dict[str, Any] = {}
    for item in _pairs(task, predictions):
        if not isinstance(item, tuple) or len(item) != 2:
            raise TaskInputError(f"{task}: predictions must be {KEYED_FORMS}; found the item {item!r:.80} (for "
                                 "values aligned with the truth use gmn_bench.tasks.Evaluator)")
        model_id, value = item
        if not isinstance(model_id, str):
            raise TaskInputError(f"{task}: prediction keys must be model_id strings, got {model_id!r:.80}")
        if model_id in out:
            raise TaskInputError(f"{task}: model_id {model_id!r} is predicted more than once")
        out[model_id] = value
    return out


def check_ids(task: str, given: Iterable[str], expected: Iterable[str], what: str = "test networks") -> None:
    """Raise :class:`TaskInputError` unless ``given`` holds every id of ``expected`` and no other."""
    given, expected = set(given), set(expected)
    missing, extra = sorted(expected - given), sorted(given - expected)
    if missing:
        raise TaskInputError(f"{task}: {len(missing)} {what} have no prediction, e.g. {missing[:3]}")
    if extra:
        raise TaskInputError(f"{task}: {len(extra)} predictions are not {what} of this zoo, e.g. {extra[:3]}")


def check_value(task: str, where: str, value: Any, task_type: str, classes: Iterable[str] | None = None):
    """``value`` (``where`` names it in errors, e.g. "the prediction for 'net-3'") as a float
    (regression) or a label (classification: a string, of ``classes`` when given);
    :class:`TaskInputError` otherwise."""
    if task_type == "classification":
        value = value.item() if isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 0 else value
        if not isinstance(value, str) or (classes is not None and value not in classes):
            wanted = f"one of {list(classes)}" if classes is not None else "a class label (string)"
            raise TaskInputError(f"{task}: {where} must be {wanted}, got {value!r:.80}")
        return str(value)
    return real(value, f"{task}: {where}", TaskInputError)
