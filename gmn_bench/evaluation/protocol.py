"""The standard protocol that trains a reference metanet (as in the GMN paper).

* torch metanets: Adam, batch size 32, a fixed number of epochs, the loss of the task's
  :class:`~gmn_bench.evaluation.objective.Objective`, one optimizer step per batch on the gradient
  :meth:`TorchMetanet.accumulate_gradient <gmn_bench.metanets.TorchMetanet.accumulate_gradient>` gives
  (the whole batch's, however the metanet splits it to bound memory); after every epoch the validation split is
  scored with the task's rank metric and the best epoch's test predictions are kept (ties keep
  the earlier epoch); that best validation score is the seed's model-selection score. Rows are
  featurized once (:func:`featurize_splits`: one :class:`~gmn_bench.tasks.TaskGraphDataset` per
  split, whose items carry their targets) and reused by every seed and learning rate; a seed
  fixes the initial weights and the batch order, so a rerun on the same device with the same
  thread count gives the same numbers;
* scikit-learn metanets (:class:`~gmn_bench.metanets.SklearnMetanet`): rows are featurized once;
  each seed fits a fresh estimator on the training split with one OpenMP thread (zoos are small;
  the fitted model is the same with any thread count).

The learning-rate grid and its selection on the validation split are in :mod:`.run`.
"""
from __future__ import annotations

import json
import math
import time
from typing import Any, Callable, Mapping

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from ..metanets import Metanet, SklearnMetanet, TorchMetanet
from ..tasks import SPLITS, Task, TaskGraphDataset
from .objective import Objective
from .predictors import FittedMetanet, SklearnPredictor
from .results import SeedResult

BATCH_SIZE = 32


def cached_featurizer(metanet: Metanet, cache: dict | None = None) -> Callable[[Mapping], Any]:
    """``metanet.featurize``, remembering its results in ``cache`` (a dict the caller keeps across
    the tasks of one zoo): a network already featurized by the same metanet and hyperparameters
    (``out_dim`` aside, which featurizing does not use) from the same input view (the rows are
    final checkpoints; a recipe-track view lacks the task's target columns) is not featurized again."""
    cache = {} if cache is None else cache
    hparams = {k: v for k, v in metanet.hparams().items() if k != "out_dim"}
    key = (metanet.name, json.dumps(hparams, sort_keys=True))

    def featurize(row: Mapping) -> Any:
        row_key = (*key, row["model_id"], tuple(row))
        if row_key not in cache:
            cache[row_key] = metanet.featurize(row)
        return cache[row_key]
    return featurize


def featurize_splits(metanet: TorchMetanet, task: Task, progress: bool = True,
                     cache: dict | None = None) -> dict[str, TaskGraphDataset]:
    """Every split of ``task`` featurized by ``metanet`` (see :func:`cached_featurizer` for ``cache``)."""
    out = {}
    for split in SPLITS:
        if len(task.rows(split, metanet.track)) == 0:
            raise ValueError(f"{task.name}: the {split} split of {task.zoo} is empty")
        out[split] = TaskGraphDataset(task, split, cached_featurizer(metanet, cache), progress=progress,
                                      track=metanet.track)
    return out


def _ids(data: TaskGraphDataset) -> list[str]:
    return [d.model_id for d in data]


def train_seed(metanet_cls: type[TorchMetanet], hparams: Mapping[str, Any], task: Task,
               data: Mapping[str, TaskGraphDataset], objective: Objective, seed: int, epochs: int,
               learning_rate: float, device: str = "cpu", progress: bool = True
               ) -> tuple[SeedResult, FittedMetanet, float]:
    """Train one seed of ``metanet_cls(out_dim, **hparams)`` on featurized ``data`` with Adam at
    ``learning_rate``; return its result (best-validation-epoch test predictions), the trained
    metanet with its best epoch's weights and that epoch's validation score (the task's rank metric)."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = metanet_cls(out_dim=objective.out_dim, **hparams).to(device)
    fitted = FittedMetanet(model, objective, device, BATCH_SIZE)
    train = data["train"]
    fitted.predict_data(train[:BATCH_SIZE])  # materializes lazy layers before the optimizer sees them
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    # a lone last example would break batch statistics (BatchNorm) and adds no signal: drop it
    loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, drop_last=len(train) % BATCH_SIZE == 1,
                        generator=torch.Generator().manual_seed(seed))
    val_ids, test_ids = _ids(data["validation"]), _ids(data["test"])
    best_score, best_epoch, test_predictions = -math.inf, None, None
    bar = tqdm(range(1, epochs + 1), desc=f"{task.name} {metanet_cls.name} lr {learning_rate:g} seed {seed}",
               disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        for batch in loader:
            optimizer.zero_grad()
            model.accumulate_gradient(batch, objective.loss, device)
            optimizer.step()
        val = task.evaluate(dict(zip(val_ids, fitted.predict_data(data["validation"]))), "validation")
        if val[task.rank_metric] > best_score:
            best_score, best_epoch = val[task.rank_metric], epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            test_predictions = dict(zip(test_ids, fitted.predict_data(data["test"])))
        bar.set_postfix({f"val {task.rank_metric}": f"{val[task.rank_metric]:.3f}", "best": best_epoch})
    model.load_state_dict(best_state)
    result = SeedResult(seed, task.evaluate(test_predictions), test_predictions, best_epoch,
                        time.perf_counter() - start)
    return result, fitted, best_score


def featurize_matrix(metanet: SklearnMetanet, task: Task, split: str, progress: bool = True,
                     cache: dict | None = None) -> np.ndarray:
    """``[n_rows, n_features]`` features of ``split``'s rows, in row order (``cache``: see
    :func:`cached_featurizer`)."""
    featurize = cached_featurizer(metanet, cache)
    rows = tqdm(task.rows(split, metanet.track), desc=f"featurize {metanet.name} {split}", disable=not progress,
                leave=False)
    return np.stack([featurize(row) for row in rows])


def fit_seed(metanet: SklearnMetanet, task: Task, features: Mapping[str, np.ndarray],
             seed: int) -> tuple[SeedResult, SklearnPredictor]:
    """Fit one seed on the training split; return its test result and the fitted predictor."""
    start = time.perf_counter()
    y = list(task.targets("train").values())
    with threadpool_limits(limits=1, user_api="openmp"):
        estimator = metanet.estimator(task.task_type, seed).fit(features["train"], y)
        values = estimator.predict(features["test"])
    predictions = {m: v.item() if hasattr(v, "item") else v for m, v in zip(task.ids("test"), values)}
    return (SeedResult(seed, task.evaluate(predictions), predictions, None, time.perf_counter() - start),
            SklearnPredictor(estimator, metanet.featurize, metanet.track))

