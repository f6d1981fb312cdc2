"""How a torch metanet's raw output is trained and read, per task (the GMN paper's protocol).

* regression with every training target in [0, 1] (accuracies): one output, sigmoid, binary
  cross-entropy;
* other regression: one output predicting the target standardized with the training mean and
  standard deviation, mean squared error;
* classification: one output per class (:attr:`Task.classes` order), cross-entropy.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F


class Objective:
    """Target encoding, loss and decoding of raw outputs for one task's training targets."""

    def __init__(self, task_type: str, train_targets: Sequence[Any], classes: Sequence[str] | None = None):
        self.task_type = task_type
        if task_type == "classification":
            self.kind, self.classes = "cross_entropy", list(classes)
            self.out_dim = len(self.classes)
            return
        y = torch.tensor([float(v) for v in train_targets], dtype=torch.float64)
        self.out_dim = 1
        if bool(((y >= 0) & (y <= 1)).all()):
            self.kind, self.mean, self.std = "sigmoid_bce", 0.0, 1.0
        else:
            std = float(y.std()) if len(y) > 1 else 0.0
            self.kind, self.mean, self.std = "standardized_mse", float(y.mean()), std if std > 0 else 1.0

    def encode(self, target: Any) -> torch.Tensor:
        """The training label of one target: a class index, or a (standardized) float."""
        if self.kind == "cross_entropy":
            return torch.tensor([self.classes.index(target)])
        return torch.tensor([(float(target) - self.mean) / self.std], dtype=torch.float32)

    def loss(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "cross_entropy":
            return F.cross_entropy(output, y)
        if self.kind == "sigmoid_bce":
            return F.binary_cross_entropy_with_logits(output[:, 0], y)
        return F.mse_loss(output[:, 0], y)

    def decode(self, output: torch.Tensor) -> list:
        """Predictions in the task's units: class labels, or floats."""
        if self.kind == "cross_entropy":
            return [self.classes[i] for i in output.argmax(dim=1).tolist()]
        if self.kind == "sigmoid_bce":
            return torch.sigmoid(output[:, 0]).double().tolist()
        return (output[:, 0].double() * self.std + self.mean).tolist()

    def describe(self) -> Mapping[str, Any]:
        """JSON-able summary recorded in results files."""
        if self.kind == "standardized_mse":
            return {"loss": self.kind, "target_mean": self.mean, "target_std": self.std}
        return {"loss": self.kind}
