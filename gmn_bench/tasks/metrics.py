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


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float]:
    """R², Kendall's tau-b and RMSE of ``y_pred`` against ``y_true``.

    Constant predictions (or targets) rank nothing: their tau is defined as 0 rather than NaN,
    so every score stays a finite number that results files and rankings can hold.
    """
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    tau = kendalltau(y_true, y_pred).statistic if len(y_true) > 1 else float("nan")
    return {
        "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"),
        "kendall_tau": 0.0 if math.isnan(tau) else float(tau),
        "rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))),
    }


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1 (classes that occur in ``y_true`` or ``y_pred``; an undefined F1 counts as 0)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }
