"""Copies, recognised by content: when one submission's predictions repeat those of another.

Two seeds' predictions of the same test networks (aligned, :class:`~gmn_bench.leaderboard.validate.TaskScore`)
are *the same predictions* when

* classification: every label is the same;
* regression: after standardising each (subtract its mean, divide by its standard deviation, so
  rescaling or shifting them changes nothing) every prediction is within :data:`COPY_TOLERANCE`
  of the other's, or both rank the networks identically (the same order and the same ties) and
  every prediction is within :data:`COPY_RANK_TOLERANCE` of the other's.

Noise below any rounding, a changed unit or offset, a re-spelled number or a shuffled file does
not make predictions new. Predictions two metanets can share by chance are never a copy of
anything (*uninformative*): constant ones, ones that are the same predictions (by the rule above)
as the targets themselves, and classifications with fewer than :data:`COPY_MIN_WRONG_LABELS`
wrong labels.

A task's score *copies* an earlier one (same task, same zoo) when it has informative seeds and each
of them is the same predictions as some seed of the earlier one (:func:`copies`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import rankdata

from gmn_bench.tasks import TASKS

from .validate import TaskScore

COPY_TOLERANCE = 1e-3
"""Largest difference, in standard deviations of the predictions, between the same regression predictions."""
COPY_RANK_TOLERANCE = 0.05
"""Largest difference, in standard deviations, between the same regression predictions that also rank alike."""
COPY_MIN_WRONG_LABELS = 5
"""Classification predictions within this many labels of the true ones are too common to call a copy."""


def _standardised(values: Sequence) -> np.ndarray | None:
    """``values`` minus their mean over their standard deviation; ``None`` when they do not vary."""
    values = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        spread = values.std()
        if not (np.isfinite(spread) and spread > 0):
            return None
        standard = (values - values.mean()) / spread
    return standard if np.isfinite(standard).all() else None


def same_predictions(a: Sequence, b: Sequence, regression: bool) -> bool:
    """Whether the aligned predictions ``a`` and ``b`` are the same predictions (module docstring)."""
    if not regression:
        return list(a) == list(b)
    za, zb = _standardised(a), _standardised(b)
    if za is None or zb is None:
        return False
    gap = float(np.abs(za - zb).max())
    return gap <= COPY_TOLERANCE or (gap <= COPY_RANK_TOLERANCE and
                                     np.array_equal(rankdata(a, method="dense"), rankdata(b, method="dense")))


def informative(predictions: Sequence, truth: Sequence, regression: bool) -> bool:
    """Whether ``predictions`` are more than two metanets can share by chance (module docstring)."""
    if regression:
        return _standardised(predictions) is not None and not same_predictions(predictions, truth, True)
    wrong = sum(p != t for p, t in zip(predictions, truth, strict=True))
    return len(set(predictions)) > 1 and wrong >= COPY_MIN_WRONG_LABELS


def copies(score: TaskScore, earlier: TaskScore) -> bool:
    """Whether ``score`` copies ``earlier`` (the same task, on the same zoo): each of its informative
    seeds is the same predictions as a seed of ``earlier``; a score without one copies nothing."""
    regression = TASKS[score.task].task_type == "regression"
    seeds = [p for p in score.y_pred if informative(p, score.y_true, regression)]
    return bool(seeds) and all(any(same_predictions(p, q, regression) for q in earlier.y_pred) for p in seeds)
