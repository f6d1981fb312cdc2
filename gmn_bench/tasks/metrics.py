"""The fixed metrics of gmn-bench tasks (scikit-learn and scipy implementations).

Regression (as in the GMN paper): R², Kendall's tau-b, RMSE. Classification: accuracy and
macro-F1 (the unweighted mean F1 over the classes that occur in the targets or predictions).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.stats import kendalltau
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score

REGRESSION_METRICS = ("r2", "kendall_tau", "rmse")
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")
METRICS = {"regression": REGRESSION_METRICS, "classification": CLASSIFICATION_METRICS}
"""The metrics of each task type, in reporting order."""
RANK_METRIC = {"regression": "kendall_tau", "classification": "accuracy"}
"""The metric each task type is ranked by (higher is better)."""


def _r2(y_true, y_pred) -> float:
    return float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")


def _kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b; constant predictions (or targets) rank nothing: 0 rather than NaN."""
    tau = kendalltau(y_true, y_pred).statistic if len(y_true) > 1 else float("nan")
    return 0.0 if math.isnan(tau) else float(tau)


def _rmse(y_true, y_pred) -> float:
    return float(math.sqrt(mean_squared_error(y_true, y_pred)))


def _accuracy(y_true, y_pred) -> float:
    return float(accuracy_score(y_true, y_pred))


def _macro_f1(y_true, y_pred) -> float:
    """Macro-F1 over the classes that occur in ``y_true`` or ``y_pred``; an undefined F1 counts as 0."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


METRIC_FUNCTIONS = {"r2": _r2, "kendall_tau": _kendall_tau, "rmse": _rmse, "accuracy": _accuracy, "macro_f1": _macro_f1}
"""Every metric by name: ``fn(y_true, y_pred) -> float`` on aligned arrays."""


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    """R², Kendall's tau-b and RMSE of ``y_pred`` against ``y_true`` (every score a finite number
    that results files and rankings can hold, but R² of a single network: NaN)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return {m: METRIC_FUNCTIONS[m](y_true, y_pred) for m in REGRESSION_METRICS}


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1."""
    return {m: METRIC_FUNCTIONS[m](y_true, y_pred) for m in CLASSIFICATION_METRICS}
