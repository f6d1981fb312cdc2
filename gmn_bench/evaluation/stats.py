"""Uncertainty of a score: the one definition of ``std`` over seeds, and seeded bootstrap intervals
over test networks (``scipy.stats.bootstrap``, percentile method).

A results file's score on a task is the metric averaged over its seeds. Two sources of noise are
reported side by side: the spread over seeds (:func:`mean_std`, sample standard deviation) and
the uncertainty from *which* networks happen to be in the test split (:func:`interval`: the test
networks are resampled with replacement, the same resample for every seed). When networks share
what is scored (predicted weights depend on the architecture only), :func:`cluster_mean_interval`
resamples the distinct architectures instead. Two entries scored on
the same test networks are compared with a paired bootstrap (:func:`paired_difference`): both are
scored on each resample, so what the networks share cancels out; the entries are
indistinguishable when the interval of the difference contains 0.

Speed: a resample is scored from how often it draws each network (a count vector), with every
metric of :data:`~gmn_bench.tasks.metrics.METRIC_FUNCTIONS` written as a count-weighted sum
(Kendall's tau-b as quadratic forms of the pairwise sign matrices), so all resamples are scored
at once in a few matrix products. The weighted forms equal the metric on the resampled arrays up
to floating-point rounding (property-tested).
"""
from __future__ import annotations

import math
import statistics
from typing import Callable, Sequence

import numpy as np
from scipy.stats import bootstrap

CONFIDENCE = 0.95
N_RESAMPLES = 1000
SEED = 0
METHOD = "percentile bootstrap over test networks"
CLUSTER_METHOD = "percentile bootstrap over distinct architectures (cluster bootstrap)"


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (``ddof=1``) of ``values``. One value has no spread:
    its std is ``None`` (shown as "1 run", never as ``± 0``). This is the only ``std`` gmn-bench
    reports (over the seeds of a results file, over the networks of a split)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value")
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _sign_matrix(v: np.ndarray) -> np.ndarray:
    return np.sign(v[:, None] - v[None, :])


def _quadratic(counts: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return ((counts @ matrix) * counts).sum(axis=1)


def _kendall_tau(y_true, y_pred, counts):
    """Kendall's tau-b of every resample; no ranking (a constant side, or one network): 0."""
    m = counts.sum(axis=1)
    pairs = m * (m - 1) / 2
    ties_true = (_quadratic(counts, (y_true[:, None] == y_true[None, :]).astype(float)) - m) / 2
    ties_pred = (_quadratic(counts, (y_pred[:, None] == y_pred[None, :]).astype(float)) - m) / 2
    score = _quadratic(counts, _sign_matrix(y_true) * _sign_matrix(y_pred)) / 2
    denominator = np.sqrt(np.clip(pairs - ties_true, 0, None) * np.clip(pairs - ties_pred, 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, score / np.where(denominator > 0, denominator, 1), 0.0)


def _rmse(y_true, y_pred, counts):
    return np.sqrt(counts @ (y_true - y_pred) ** 2 / counts.sum(axis=1))


def _r2(y_true, y_pred, counts):
    """R² of every resample, scikit-learn's conventions: a constant truth gives 1 if predicted
    exactly, else 0; fewer than two networks give NaN."""
    m = counts.sum(axis=1)
    mean = counts @ y_true / m
    total = (counts * (y_true[None, :] - mean[:, None]) ** 2).sum(axis=1)
    residual = counts @ (y_true - y_pred) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0))
    return np.where(m > 1, r2, np.nan)


def _accuracy(y_true, y_pred, counts):
    return counts @ (y_true == y_pred).astype(float) / counts.sum(axis=1)


def _macro_f1(y_true, y_pred, counts):
    """Macro-F1 of every resample over the classes it holds (in its truth or predictions)."""
    f1_sum, present = 0.0, 0.0
    for label in np.union1d(y_true, y_pred):
        is_true, is_pred = y_true == label, y_pred == label
        tp, fp, fn = (counts @ (a & b).astype(float) for a, b in
                      ((is_true, is_pred), (~is_true, is_pred), (is_true, ~is_pred)))
        here = counts @ (is_true | is_pred).astype(float) > 0
        denominator = 2 * tp + fp + fn
        f1_sum = f1_sum + np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)
        present = present + here
    return f1_sum / present


WEIGHTED_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "r2": _r2, "kendall_tau": _kendall_tau, "rmse": _rmse, "accuracy": _accuracy, "macro_f1": _macro_f1}
"""``fn(y_true, y_pred, counts[B, n]) -> [B]``: each metric of every resample given by its counts."""


def resample_counts(index: np.ndarray, n: int) -> np.ndarray:
    """``[B, n]`` counts of each of ``n`` networks in each resample of ``index`` (``[B, n]`` or ``[n]``)."""
    index = np.atleast_2d(index).astype(int)
    counts = np.zeros((index.shape[0], n))
    np.add.at(counts, (np.arange(index.shape[0])[:, None], index), 1.0)
    return counts


def _arrays(metric: str, y_true, per_seed) -> tuple[np.ndarray, list[np.ndarray]]:
    if metric not in WEIGHTED_METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(WEIGHTED_METRICS)}")
    kind = float if metric in ("r2", "kendall_tau", "rmse") else str
    y_true = np.asarray(y_true, dtype=kind)
    per_seed = [np.asarray(p, dtype=kind) for p in per_seed]
    if not per_seed or any(p.shape != y_true.shape for p in per_seed) or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"{metric}: need one or more prediction arrays aligned with a non-empty 1-D y_true")
    return y_true, per_seed


def _seed_mean(metric: str, y_true: np.ndarray, per_seed: Sequence[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    fn = WEIGHTED_METRICS[metric]
    return lambda counts: np.mean([fn(y_true, p, counts) for p in per_seed], axis=0)


def _percentile_interval(statistic: Callable[[np.ndarray], np.ndarray], n: int, n_resamples: int, confidence: float,
                         seed: int) -> tuple[float, float]:
    """Percentile interval of ``statistic(counts)`` over ``n_resamples`` resamples of ``n`` networks."""
    def on_indices(index, axis=-1):
        index = np.moveaxis(np.asarray(index), axis, -1)
        return statistic(resample_counts(index.reshape(-1, n), n)).reshape(index.shape[:-1])

    result = bootstrap((np.arange(n),), on_indices, vectorized=True, n_resamples=n_resamples,
                       confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


def interval(metric: str, y_true: Sequence, per_seed: Sequence[Sequence], *, n_resamples: int = N_RESAMPLES,
             confidence: float = CONFIDENCE, seed: int = SEED) -> tuple[float, float]:
    """``confidence`` bootstrap interval over test networks of ``metric`` (a name of
    :data:`~gmn_bench.tasks.metrics.METRIC_FUNCTIONS`) averaged over seeds. ``per_seed`` holds each
    seed's predictions aligned with ``y_true``. Seeded: the same inputs give the same interval."""
    y_true, per_seed = _arrays(metric, y_true, per_seed)
    return _percentile_interval(_seed_mean(metric, y_true, per_seed), len(y_true), n_resamples, confidence, seed)


def mean_interval(values: Sequence[float], *, n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                  seed: int = SEED) -> tuple[float, float]:
    """``confidence`` bootstrap interval of the mean of ``values`` (one per network), seeded."""
    values = np.asarray(values, dtype=float)
    return _percentile_interval(lambda counts: counts @ values / len(values), len(values), n_resamples, confidence,
                                seed)


def cluster_mean_interval(values: Sequence[float], clusters: Sequence, *, n_resamples: int = N_RESAMPLES,
                          confidence: float = CONFIDENCE, seed: int = SEED) -> tuple[float, float]:
    """``confidence`` cluster-bootstrap interval of the mean of ``values`` (one per network):
    the distinct ``clusters`` (one label per value, e.g. the network's architecture) are resampled
    with replacement and each drawn cluster brings all its networks, the mean taken over them.
    Use it when networks of one cluster are not independent (predicted weights depend on the
    architecture only: copies of one prediction are one observation). Seeded."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) != len(clusters) or len(values) == 0:
        raise ValueError("cluster_mean_interval needs one cluster label per value and at least one value")
    codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)[1]
    sums, sizes = np.bincount(codes, weights=values), np.bincount(codes).astype(float)
    return _percentile_interval(lambda counts: counts @ sums / (counts @ sizes), len(sums), n_resamples, confidence,
                                seed)


def paired_difference(metric: str, y_true: Sequence, per_seed_a: Sequence[Sequence], per_seed_b: Sequence[Sequence], *,
                      n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                      seed: int = SEED) -> tuple[float, float, float]:
    """``(difference, low, high)``: ``metric`` of entry a minus that of entry b (each averaged over
    its seeds) on the same test networks, and its paired-bootstrap ``confidence`` interval (both
    entries scored on every resample). The entries differ significantly when the interval excludes 0."""
    y_true, per_seed_a = _arrays(metric, y_true, per_seed_a)
    _, per_seed_b = _arrays(metric, y_true, per_seed_b)
    a, b = _seed_mean(metric, y_true, per_seed_a), _seed_mean(metric, y_true, per_seed_b)
    everything = np.ones((1, len(y_true)))
    low, high = _percentile_interval(lambda counts: a(counts) - b(counts), len(y_true), n_resamples, confidence, seed)
    return float(a(everything)[0] - b(everything)[0]), low, high


def indistinguishable(low: float, high: float) -> bool:
    """Whether a paired interval of a difference contains 0 (no significant difference)."""
    return low <= 0.0 <= high or any(map(math.isnan, (low, high)))
