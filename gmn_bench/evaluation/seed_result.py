"""One seed's outcome, and scoring of any split (validation included) with the task's metrics."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from ..tasks import Task, classification_metrics, regression_metrics


@dataclass
class SeedResult:
    """Test metrics and predictions of one seed; ``best_epoch`` is None for models without epochs."""

    seed: int
    metrics: dict[str, float]
    predictions: dict[str, Any]
    best_epoch: int | None
    train_seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def split_metrics(task: Task, split: str, predictions: Mapping[str, Any]) -> dict[str, float]:
    """The task's metrics of ``predictions`` (keyed by model_id, covering the split) on ``split``."""
    truth = task.targets(split)
    ids = sorted(truth)
    y_true, y_pred = [truth[m] for m in ids], [predictions[m] for m in ids]
    return (regression_metrics if task.task_type == "regression" else classification_metrics)(y_true, y_pred)
