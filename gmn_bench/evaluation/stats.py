"""Uncertainty of a score: the one definition of ``std`` over seeds, and seeded bootstrap intervals
over test networks (``scipy.stats.bootstrap``, percentile method).

A results file's score on a task is the metric averaged over its seeds. Two sources of noise are
reported side by side: the spread over seeds (:func:`mean_std`, sample standard deviation) and
the uncertainty from *which* networks happen to be in the test split (:func:`interval`: the test
networks are resampled with replacement, the same resample for every seed). Two entries scored on
the same test networks are compared with a paired bootstrap (:func:`paired_difference`): both are
scored on each resample, so what the networks share cancels out; the entries are
indistinguishable when the interval of the difference contains 0.
"""
from __future__ import annotations

import math
import statistics
from typing import Callable, Sequence

import numpy as np
from scipy.stats import bootstrap

from ..tasks.metrics import METRIC_FUNCTIONS

CONFIDENCE = 0.95
N_RESAMPLES = 1000
SEED = 0


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``) of ``values``; the std of one value is 0.
    This is the only ``std`` gmn-bench reports (seeds of a results file, networks of a split)."""
    values = [float(v) for v in values]
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _seed_mean(metric: Callable, y_true: np.ndarray, per_seed: Sequence[np.ndarray]) -> Callable:
    def statistic(index):
        return float(np.mean([metric(y_true[index], p[index]) for p in per_seed]))
    return statistic


def _percentile_interval(statistic: Callable, n: int, n_resamples: int, confidence: float, seed: int):
    result = bootstrap((np.arange(n),), lambda index: statistic(index.astype(int)), vectorized=False,
                       n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                       rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


def interval(metric: str, y_true: Sequence, per_seed: Sequence[Sequence], *, n_resamples: int = N_RESAMPLES,
             confidence: float = CONFIDENCE, seed: int = SEED) -> tuple[float, float]:
    """``confidence`` bootstrap interval over test networks of ``metric`` (a name of
    :data:`~gmn_bench.tasks.metrics.METRIC_FUNCTIONS`) averaged over seeds. ``per_seed`` holds each
    seed's predictions aligned with ``y_true``. Seeded: the same inputs give the same interval."""
    y_true = np.asarray(y_true)
    per_seed = [np.asarray(p) for p in per_seed]
    return _percentile_interval(_seed_mean(METRIC_FUNCTIONS[metric], y_true, per_seed), len(y_true), n_resamples,
                                confidence, seed)


def paired_difference(metric: str, y_true: Sequence, per_seed_a: Sequence[Sequence], per_seed_b: Sequence[Sequence], *,
                      n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
                      seed: int = SEED) -> tuple[float, float, float]:
    """``(difference, low, high)``: ``metric`` of entry a minus that of entry b (each averaged over
    its seeds) on the same test networks, and its paired-bootstrap ``confidence`` interval (both
    entries scored on every resample). The entries differ significantly when the interval excludes 0."""
    y_true = np.asarray(y_true)
    fn = METRIC_FUNCTIONS[metric]
    a = _seed_mean(fn, y_true, [np.asarray(p) for p in per_seed_a])
    b = _seed_mean(fn, y_true, [np.asarray(p) for p in per_seed_b])
    everything = np.arange(len(y_true))
    low, high = _percentile_interval(lambda index: a(index) - b(index), len(y_true), n_resamples, confidence, seed)
    return a(everything) - b(everything), low, high


def indistinguishable(low: float, high: float) -> bool:
    """Whether a paired interval of a difference contains 0 (no significant difference)."""
    return low <= 0.0 <= high or any(map(math.isnan, (low, high)))
