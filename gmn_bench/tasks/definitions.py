"""What each task predicts: :data:`TASKS` (name -> :class:`TaskDefinition`) and the splits they use.

Pure data, no zoo: :class:`gmn_bench.tasks.Evaluator` and :class:`gmn_bench.tasks.Task` both read it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..zoo.default import SHIFT_ZOO

SPLITS = ("train", "validation", "test")
"""The zoo-config splits of every regression and classification task."""
PARAMETER_PREDICTION = "parameter-prediction"
"""The name of the parameter-prediction task (:class:`gmn_bench.tasks.ParameterPredictionTask`)."""


@dataclass(frozen=True)
class TaskDefinition:
    """What a task predicts: the zoo config of its splits, the target of a row and its type, and the
    zoo columns the target is computed from (``target_columns``: never in a metanet's input view).

    ``test_zoo`` makes a cross-zoo task: it trains and selects on the train and validation splits
    of ``config`` and tests on every network of ``test_zoo`` (a zoo folder or Hub repo id, built
    from another recipe); None: the test split of ``config``, in the same zoo."""

    name: str
    config: str
    target: str
    task_type: str  # "regression" | "classification"
    target_of: Callable[[Mapping[str, Any]], Any]
    description: str
    target_columns: tuple[str, ...]
    test_zoo: str | None = None


TASKS: dict[str, TaskDefinition] = {d.name: d for d in (
    TaskDefinition("accuracy-prediction", "id", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict a network's CIFAR-10 test accuracy from its weights (in-distribution split).",
                   ("test_acc",)),
    TaskDefinition("accuracy-prediction-ood-family", "ood_family", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict test accuracy of networks of a family never seen in training (held-out family).",
                   ("test_acc",)),
    TaskDefinition("accuracy-prediction-ood-size", "ood_size", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict test accuracy of networks larger than any seen in training (size shift).", ("test_acc",)),
    TaskDefinition("accuracy-prediction-cross-zoo", "id", "test_acc", "regression", lambda r: r["test_acc"],
                   "Predict test accuracy of every network of another zoo (cifar10-shift: another recipe, seed, "
                   "training budget and architecture ranges), training and selecting on the task's zoo.",
                   ("test_acc",), test_zoo=str(SHIFT_ZOO)),
    TaskDefinition("generalization-gap", "id", "train_acc - test_acc", "regression",
                   lambda r: r["train_acc"] - r["test_acc"],
                   "Predict train minus test accuracy from the weights.", ("train_acc", "test_acc")),
    TaskDefinition("hyperparameter-prediction-optimizer", "id", "optimizer", "classification", lambda r: r["optimizer"],
                   "Predict which optimizer trained the network.", ("optimizer",)),
    TaskDefinition("hyperparameter-prediction-lr", "id", "log10(learning_rate)", "regression",
                   lambda r: math.log10(r["learning_rate"]),
                   "Predict the base-10 logarithm of the learning rate that trained the network.", ("learning_rate",)),
)}
