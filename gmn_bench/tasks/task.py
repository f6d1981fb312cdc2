"""Standardized weight-space tasks: what is predicted, from which rows, scored how.

A :class:`Task` fixes the zoo (repo id or folder, and revision), the zoo config whose
train/validation/test splits it uses, the input (each network's *final checkpoint* row, so a
network is one example and predictions are keyed by ``model_id``), the target and the metrics.
:meth:`Task.evaluate` is the only scorer: like the Open Graph Benchmark's ``Evaluator`` it
checks the predictions before scoring them and raises :class:`TaskInputError` on any problem.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import datasets

from ..zoo.default import DEFAULT_ZOO
from ..zoo.io import load_zoo
from .metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    classification_metrics,
    regression_metrics,
)

SPLITS = ("train", "validation", "test")


class TaskInputError(ValueError):
    """Predictions (or a task request) that cannot be scored; the message says why."""


@dataclass(frozen=True)
class TaskDefinition:
    """What a task predicts: the zoo config of its splits, the target of a row and its type."""

    name: str
    config: str
    target: str
    task_type: str  # "regression" | "classification"
    target_of: Callable[[Mapping[str, Any]], Any]
    description: str


TASKS: dict[str, TaskDefinition] = {d.name: d for d in (
    TaskDefinition("accuracy-prediction", "id", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict a network's CIFAR-10 test accuracy from its weights (in-distribution split)."),
    TaskDefinition("accuracy-prediction-ood-family", "ood_family", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict test accuracy of networks of a family never seen in training (held-out family)."),
    TaskDefinition("accuracy-prediction-ood-size", "ood_size", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict test accuracy of networks larger than any seen in training (size shift)."),
    TaskDefinition("generalization-gap", "id", "train_acc - test_acc", "regression",
                   lambda r: r["train_acc"] - r["test_acc"],
                   "Predict train minus test accuracy from the weights."),
    TaskDefinition("hyperparameter-prediction-optimizer", "id", "optimizer", "classification", lambda r: r["optimizer"],
                   "Predict which optimizer trained the network."),
    TaskDefinition("hyperparameter-prediction-lr", "id", "log10(learning_rate)", "regression",
                   lambda r: math.log10(r["learning_rate"]),
                   "Predict the base-10 logarithm of the learning rate that trained the network."),
)}


def final_checkpoint_rows(ds: datasets.Dataset) -> datasets.Dataset:
    """The rows of ``ds`` holding each network's last checkpoint, ordered by ``model_id``."""
    ids, epochs = ds["model_id"], ds["epoch"]
    last: dict[str, int] = {}
    for i, (model_id, epoch) in enumerate(zip(ids, epochs)):
        if model_id not in last or epoch > epochs[last[model_id]]:
            last[model_id] = i
    return ds.select([last[m] for m in sorted(last)])


def load_task_config(task: str, zoo: str, config: str, revision: str | None, splits) -> datasets.DatasetDict:
    """Config ``config`` of ``zoo`` for task ``task``; :class:`TaskInputError` if the zoo lacks the
    config or any of ``splits``."""
    try:
        data = load_zoo(zoo, config=config, revision=revision)
    except ValueError as e:
        if "BuilderConfig" in str(e) or "not found" in str(e):
            raise TaskInputError(f"task {task!r} needs zoo config {config!r}, which {zoo} lacks: {e}") from e
        raise
    missing = [s for s in splits if s not in data]
    if missing:
        raise TaskInputError(f"task {task!r}: zoo {zoo} config {config!r} lacks splits {missing}")
    return data


class Task:
    """A task bound to one zoo (a Hub repo id or a local zoo folder) at one revision."""

    def __init__(self, definition: TaskDefinition, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None):
        self.definition = definition
        self.zoo = str(zoo)
        self.revision = revision

    name = property(lambda self: self.definition.name)
    config = property(lambda self: self.definition.config)
    target = property(lambda self: self.definition.target)
    task_type = property(lambda self: self.definition.task_type)

    @property
    def metrics(self) -> tuple[str, ...]:
        return REGRESSION_METRICS if self.task_type == "regression" else CLASSIFICATION_METRICS

    @property
    def rank_metric(self) -> str:
        """The metric leaderboards rank by (higher is better)."""
        return "kendall_tau" if self.task_type == "regression" else "accuracy"

    @cached_property
    def _splits(self) -> dict[str, datasets.Dataset]:
        zoo = load_task_config(self.name, self.zoo, self.config, self.revision, SPLITS)
        return {split: final_checkpoint_rows(zoo[split]) for split in SPLITS}

    @cached_property
    def classes(self) -> tuple[str, ...] | None:
        """Sorted class labels over the whole zoo (classification), else None."""
        if self.task_type != "classification":
            return None
        return tuple(sorted({str(self.definition.target_of(r)) for s in SPLITS for r in self._label_rows(s)}))

    def _label_rows(self, split: str) -> Iterable[dict]:
        ds = self._splits[split]
        return ds.remove_columns([c for c in ("weights", "arch") if c in ds.column_names])

    def rows(self, split: str) -> datasets.Dataset:
        """Input rows of ``split`` (train/validation/test): each network's final checkpoint."""
        if split not in SPLITS:
            raise TaskInputError(f"unknown split {split!r}; expected one of {SPLITS}")
        return self._splits[split]

    def targets(self, split: str) -> dict[str, float | str]:
        """``model_id -> target`` for ``split``."""
        cast = str if self.task_type == "classification" else float
        return {r["model_id"]: cast(self.definition.target_of(r)) for r in self._label_rows(split)}

    def test_ids(self) -> list[str]:
        """The ``model_id`` of every test example, sorted."""
        return sorted(self.rows("test")["model_id"])

    def evaluate(self, predictions: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, float]:
        """Score test-split predictions keyed by ``model_id`` (a mapping, or ``(model_id, value)``
        pairs, where repeated ids are caught). Every test id must appear exactly once, with no
        extras; values must be finite real numbers (regression) or known class labels
        (classification). Returns ``{metric: value}`` for :attr:`metrics`."""
        checked = self._check(predictions)
        truth = self.targets("test")
        ids = sorted(truth)
        y_true, y_pred = [truth[m] for m in ids], [checked[m] for m in ids]
        if self.task_type == "regression":
            return regression_metrics(y_true, y_pred)
        return classification_metrics(y_true, y_pred)

    def _check(self, predictions) -> dict[str, Any]:
        pairs = list(predictions.items() if isinstance(predictions, Mapping) else predictions)
        checked: dict[str, Any] = {}
        for model_id, value in pairs:
            if not isinstance(model_id, str):
                raise TaskInputError(f"{self.name}: prediction keys must be model_id strings, got {model_id!r}")
            if model_id in checked:
                raise TaskInputError(f"{self.name}: model_id {model_id!r} is predicted more than once")
            checked[model_id] = self._check_value(model_id, value)
        expected = set(self.test_ids())
        missing, extra = sorted(expected - set(checked)), sorted(set(checked) - expected)
        if missing:
            raise TaskInputError(f"{self.name}: {len(missing)} test networks have no prediction, e.g. {missing[:3]}")
        if extra:
            raise TaskInputError(f"{self.name}: {len(extra)} predictions are not test networks of this zoo, e.g. {extra[:3]}")
        return checked

    def _check_value(self, model_id: str, value: Any):
        if self.task_type == "classification":
            if not isinstance(value, str) or value not in self.classes:
                raise TaskInputError(f"{self.name}: prediction for {model_id!r} must be one of {list(self.classes)}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TaskInputError(f"{self.name}: prediction for {model_id!r} must be a real number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise TaskInputError(f"{self.name}: prediction for {model_id!r} is not finite ({value!r})")
        return float(value)


def get_task(name: str, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None) -> Task:
    """The task ``name`` (a key of :data:`TASKS`) on ``zoo`` (Hub repo id or folder; default: the
    embedded zoo) at ``revision``. Raises :class:`TaskInputError` for an unknown name."""
    if name not in TASKS:
        raise TaskInputError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    return Task(TASKS[name], zoo, revision)
