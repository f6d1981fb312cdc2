"""The standard training protocol for torch metanets (as in the GMN paper).

Adam (lr 1e-3), batch size 32, the task's :class:`Objective`, a fixed number of epochs; after
every epoch the validation split is scored with the task's rank metric and the best epoch's
test predictions are kept (ties keep the earlier epoch). Rows are featurized once by
:func:`featurize_splits` and reused by every seed; a seed fixes the initial weights and the
batch order, so a rerun on the same device with the same thread count gives the same numbers.
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping, Sequence

import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from ..tasks import SPLITS, Task
from .features import featurize_rows
from .objectives import Objective
from .predictors import FittedMetanet
from .seed_result import SeedResult, split_metrics

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
