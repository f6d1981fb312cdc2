"""How a torch metanet's raw output is trained and read, per task (the GMN paper's choices).

* regression with every training target in [0, 1] (accuracies): one output, sigmoid, binary
  cross-entropy;
* other regression: one output predicting the target standardized with the training split's mean
  and standard deviation, mean squared error;
* classification: one output per class (:attr:`Task.classes <gmn_bench.tasks.Task.classes>`
  order), cross-entropy.

The loss reads the targets as the task datasets carry them (``y`` of
:class:`~gmn_bench.tasks.TaskGraphDataset`: the float target, or the class index).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch
import torch.nn.functional as F

from ..tasks import Task

KINDS = ("sigmoid_bce", "standardized_mse", "cross_entropy")


@dataclass(frozen=True)
class Objective:
    """Loss and decoding of raw outputs: ``kind`` (:data:`KINDS`), output width, class labels
    (classification) and the target standardization (``standardized_mse``)."""

    kind: str
    out_dim: int
    classes: tuple[str, ...] | None = None
    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def for_task(cls, task: Task) -> "Objective":
        """The objective of ``task``, from the targets of its training split."""
        if task.task_type == "classification":
            return cls("cross_entropy", len(task.classes), tuple(task.classes))
        y = torch.tensor(list(task.targets("train").values()), dtype=torch.float64)
        if bool(((y >= 0) & (y <= 1)).all()):
            return cls("sigmoid_bce", 1)
        std = float(y.std()) if len(y) > 1 else 0.0
        return cls("standardized_mse", 1, mean=float(y.mean()), std=std if std > 0 else 1.0)

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Training loss of raw outputs ``[B, out_dim]`` against targets ``y`` ``[B]``."""
        if self.kind == "cross_entropy":
            return F.cross_entropy(output, y)
        if self.kind == "sigmoid_bce":
            return F.binary_cross_entropy_with_logits(output[:, 0], y)
        return F.mse_loss(output[:, 0], ((y.double() - self.mean) / self.std).to(output.dtype))

    def decode(self, output: torch.Tensor) -> list:
        """Predictions in the task's units: class labels, or floats."""
        if self.kind == "cross_entropy":
            return [self.classes[i] for i in output.argmax(dim=1).tolist()]
        if self.kind == "sigmoid_bce":
            return torch.sigmoid(output[:, 0]).double().tolist()
        return (output[:, 0].double() * self.std + self.mean).tolist()

    def describe(self) -> dict[str, Any]:
        """JSON-able form (results files' ``protocol``, saved metanets); :meth:`from_description` reads it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> "Objective":
        """The objective :meth:`describe` wrote."""
        if description.get("kind") not in KINDS:
            raise ValueError(f"unknown objective kind {description.get('kind')!r}; expected one of {KINDS}")
        classes = description.get("classes")
        return cls(description["kind"], int(description["out_dim"]), tuple(classes) if classes is not None else None,
                   float(description.get("mean", 0.0)), float(description.get("std", 1.0)))
