"""The standard protocol that trains a reference metanet (as in the GMN paper).

* :class:`Objective`: how a torch metanet's raw output is trained and read, per task: regression
  with every training target in [0, 1] (accuracies): one output, sigmoid, binary cross-entropy;
  other regression: one output predicting the standardized target, mean squared error;
  classification: one output per class (:attr:`Task.classes` order), cross-entropy;
* torch metanets: Adam (lr 1e-3), batch size 32, a fixed number of epochs; after every epoch the
  validation split is scored with the task's rank metric and the best epoch's test predictions
  are kept (ties keep the earlier epoch). Rows are featurized once (:func:`featurize_splits`) and
  reused by every seed; a seed fixes the initial weights and the batch order, so a rerun on the
  same device with the same thread count gives the same numbers;
* scikit-learn metanets (``featurize(row) -> ndarray``, ``estimator(task_type, seed)``): rows are
  featurized once; each seed fits a fresh estimator (``random_state=seed``) on the training split
  with one OpenMP thread (zoos are small; the fitted model is the same with any thread count).
"""
from __future__ import annotations

import json
import math
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from ..tasks import SPLITS, Task
from .predictors import FittedMetanet, SklearnPredictor, predict
from .results import SeedResult, split_metrics


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


def featurize_rows(metanet, rows: Iterable[Mapping], cache: dict | None = None, progress: bool = True,
                   desc: str = "featurize") -> list[Any]:
    """``[metanet.featurize(row) for row in rows]``; with ``cache`` (a dict the caller keeps across
    tasks of one zoo), a row already featurized by the same metanet and configuration (``out_dim``
    aside, which featurizing does not use) is taken from it. Callers must not modify the results."""
    cache = {} if cache is None else cache
    config = {k: v for k, v in metanet.config().items() if k != "out_dim"}
    key = (metanet.name, json.dumps(config, sort_keys=True))
    out = []
    for row in tqdm(rows, desc=desc, disable=not progress, leave=False):
        row_key = (*key, row["model_id"], row["epoch"])
        if row_key not in cache:
            cache[row_key] = metanet.featurize(row)
        out.append(cache[row_key])
    return out


BATCH_SIZE = 32
LEARNING_RATE = 1e-3


def featurize_splits(metanet, task: Task, objective: Objective, progress: bool = True,
                     cache: dict | None = None) -> dict[str, list[Data]]:
    """Every split's rows featurized by ``metanet`` (in row order; see :func:`featurize_rows` for
    ``cache``), each ``Data`` a copy carrying its encoded target as ``y``."""
    out = {}
    for split in SPLITS:
        rows, targets = task.rows(split), task.targets(split)
        if len(rows) == 0:
            raise ValueError(f"{task.name}: the {split} split of {task.zoo} is empty")
        features = featurize_rows(metanet, rows, cache, progress, f"featurize {metanet.name} {split}")
        out[split] = [d.clone() for d in features]
        for d, model_id in zip(out[split], rows["model_id"]):
            d.y = objective.encode(targets[model_id])
    return out


def train_seed(metanet_cls, kwargs: Mapping[str, Any], task: Task, data: Mapping[str, Sequence[Data]],
               objective: Objective, seed: int, epochs: int, device: str = "cpu",
               progress: bool = True) -> tuple[SeedResult, FittedMetanet]:
    """Train one seed of ``metanet_cls(out_dim, **kwargs)`` on featurized ``data``; return its
    result (best-validation-epoch test predictions) and the final trained metanet."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = metanet_cls(out_dim=objective.out_dim, **kwargs).to(device)
    fitted = FittedMetanet(model, objective, device, BATCH_SIZE)
    train = list(data["train"])
    fitted.predict_data(train[:BATCH_SIZE])  # materializes lazy layers before the optimizer sees them
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    # a lone last example would break batch statistics (BatchNorm) and adds no signal: drop it
    loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, drop_last=len(train) % BATCH_SIZE == 1,
                        generator=torch.Generator().manual_seed(seed))
    val_ids = task.rows("validation")["model_id"]
    best_score, best_epoch, test_predictions = -math.inf, None, None
    bar = tqdm(range(1, epochs + 1), desc=f"{task.name} {metanet_cls.name} seed {seed}", disable=not progress,
               leave=False)
    for epoch in bar:
        model.train()
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            objective.loss(model(batch), batch.y).backward()
            optimizer.step()
        val = split_metrics(task, "validation", dict(zip(val_ids, fitted.predict_data(data["validation"]))))
        if val[task.rank_metric] > best_score:
            best_score, best_epoch = val[task.rank_metric], epoch
            test_predictions = dict(zip(task.rows("test")["model_id"], fitted.predict_data(data["test"])))
        bar.set_postfix({f"val {task.rank_metric}": f"{val[task.rank_metric]:.3f}", "best": best_epoch})
    result = SeedResult(seed, task.evaluate(test_predictions), test_predictions, best_epoch,
                        time.perf_counter() - start)
    return result, fitted


def featurize_matrix(metanet, task: Task, split: str, progress: bool = True, cache: dict | None = None) -> np.ndarray:
    """``[n_rows, n_features]`` features of ``split``'s rows, in row order (``cache``: see
    :func:`featurize_rows`)."""
    return np.stack(featurize_rows(metanet, task.rows(split), cache, progress, f"featurize {metanet.name} {split}"))


def fit_seed(metanet, task: Task, features: Mapping[str, np.ndarray], seed: int) -> tuple[SeedResult, SklearnPredictor]:
    """Fit one seed on the training split; return its test result and the fitted predictor."""
    start = time.perf_counter()
    targets = task.targets("train")
    y = [targets[m] for m in task.rows("train")["model_id"]]
    with threadpool_limits(limits=1, user_api="openmp"):
        estimator = metanet.estimator(task.task_type, seed).fit(features["train"], y)
        predictions = predict(task, lambda rows: list(estimator.predict(features["test"])))  # rows: the test rows
    fitted = SklearnPredictor(estimator, metanet.featurize)
    return SeedResult(seed, task.evaluate(predictions), predictions, None, time.perf_counter() - start), fitted
