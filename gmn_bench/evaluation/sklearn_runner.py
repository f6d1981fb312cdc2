"""Fitting scikit-learn metanets (``featurize(row) -> ndarray``, ``estimator(task_type, seed)``).

Rows are featurized once; each seed fits a fresh estimator (``random_state=seed``) on the
training split and predicts the test split. The validation split is not used (no epochs).
Fitting uses one OpenMP thread: zoos are small, and thread start-up (and contention on a
shared machine) would dominate; the fitted model is the same with any thread count.
"""
from __future__ import annotations

import time
from typing import Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from ..tasks import Task
from .features import featurize_rows
from .predictors import SklearnPredictor, predict
from .seed_result import SeedResult


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
