"""Uncertainty: the one std, seeded bootstrap intervals over test networks, paired differences."""
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmn_bench.evaluation import stats
from gmn_bench.tasks.metrics import METRIC_FUNCTIONS

_VALUES = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0, -0.3])  # few distinct values: ties are common
_LABELS = st.sampled_from(["adam", "sgd", "adamw"])


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_weighted_metrics_equal_the_metric_on_the_resampled_networks(data):
    metric = data.draw(st.sampled_from(sorted(stats.WEIGHTED_METRICS)))
    values = _LABELS if metric in ("accuracy", "macro_f1") else _VALUES
    n = data.draw(st.integers(2, 12))
    y_true = np.array(data.draw(st.lists(values, min_size=n, max_size=n)))
    y_pred = np.array(data.draw(st.lists(values, min_size=n, max_size=n)))
    index = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n)))
    weighted = stats.WEIGHTED_METRICS[metric](y_true, y_pred, stats.resample_counts(index, n))[0]
    direct = METRIC_FUNCTIONS[metric](y_true[index], y_pred[index])
    assert weighted == pytest.approx(direct, abs=1e-9, nan_ok=True)


def test_mean_std_is_the_sample_std_and_one_run_has_none():
    assert stats.mean_std([1.0, 2.0, 4.0]) == (pytest.approx(7 / 3), pytest.approx(statistics.stdev([1, 2, 4])))
    assert stats.mean_std([0.5]) == (0.5, None)
    with pytest.raises(ValueError):
        stats.mean_std([])


def _noisy(n, noise, seed):
    rng = np.random.default_rng(seed)
    y = rng.random(n)
    return y, [y + rng.normal(0, noise, n) for _ in range(3)]


def test_interval_is_seeded_brackets_the_score_and_narrows_with_more_networks():
    y, per_seed = _noisy(40, 0.2, 0)
    low, high = stats.interval("kendall_tau", y, per_seed)
    assert (low, high) == stats.interval("kendall_tau", y, per_seed)
    assert (low, high) != stats.interval("kendall_tau", y, per_seed, seed=1)
    score = np.mean([METRIC_FUNCTIONS["kendall_tau"](y, p) for p in per_seed])
    assert low < score < high
    big_y, big = _noisy(400, 0.2, 0)
    big_low, big_high = stats.interval("kendall_tau", big_y, big)
    assert big_high - big_low < (high - low) / 2
    values = np.arange(10.0)
    low, high = stats.mean_interval(values)
    assert low < values.mean() < high and stats.mean_interval(np.full(5, 0.3)) == pytest.approx((0.3, 0.3))


def test_paired_difference_tells_apart_what_differs_and_only_that():
    rng = np.random.default_rng(1)
    y = rng.random(60)
    good, bad = ([y + rng.normal(0, noise, 60) for _ in range(3)] for noise in (0.05, 0.6))
    difference, low, high = stats.paired_difference("kendall_tau", y, good, bad)
    assert difference > 0 and low > 0 and not stats.indistinguishable(low, high)
    same = stats.paired_difference("kendall_tau", y, good, good)
    assert same == (0.0, 0.0, 0.0) and stats.indistinguishable(*same[1:])
    nudged = [p + 1e-4 * np.sin(np.arange(60)) for p in good]
    assert stats.indistinguishable(*stats.paired_difference("kendall_tau", y, good, nudged)[1:])


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        stats.interval("auc", [0.1, 0.2], [[0.1, 0.2]])
    with pytest.raises(ValueError, match="aligned with a non-empty 1-D y_true"):
        stats.interval("r2", [0.1, 0.2], [[0.1]])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=12))
def test_cluster_interval_with_one_network_per_cluster_is_the_network_interval(values):
    labels = [f"{i:03d}" for i in range(len(values))]  # sorted as the values: the same resamples
    assert stats.cluster_mean_interval(values, labels) == pytest.approx(stats.mean_interval(values))


def test_cluster_interval_counts_copies_of_one_architecture_once():
    rng = np.random.default_rng(0)
    per_architecture = rng.uniform(0, 1, 10)
    values = np.repeat(per_architecture, 8) + rng.normal(0, 0.01, 80)  # 8 near-copies of each of 10 architectures
    clusters = np.repeat(np.arange(10), 8)
    low, high = stats.cluster_mean_interval(values, clusters)
    net_low, net_high = stats.mean_interval(values)
    assert low <= values.mean() <= high and high - low > 2 * (net_high - net_low)
    assert stats.cluster_mean_interval(values, clusters) == (low, high)  # seeded
    with pytest.raises(ValueError, match="one cluster label per value"):
        stats.cluster_mean_interval(values, clusters[:-1])
