"""How sure each position on the board is (computed by :mod:`gmn_bench.evaluation.stats`, seeded).

For every entry of a task:

* ``interval``: the 95% bootstrap interval of its score over the test networks;
* ``vs_leader``: its score minus the leader's (the first entry on the same zoo), with a paired
  bootstrap interval on the same test networks; when the interval contains 0 the entry is
  *statistically indistinguishable* from the leader (None for the leader itself);
* ``margin``: the same paired difference to the best trivial baseline on its zoo, the best
  reference entry whose metanet is one of :data:`gmn_bench.metanets.TRIVIAL_BASELINES` (None for
  a trivial baseline, or when its zoo has none).
* ``over_recipe``: the same paired difference to the recipe reference line on its zoo, the best
  reference entry of :data:`gmn_bench.metanets.RECIPE_BASELINE` (trees on the recorded training
  recipe and the architecture, no weight; None for that entry itself, or when its zoo has none).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from gmn_bench.evaluation.stats import indistinguishable, interval, paired_difference
from gmn_bench.metanets import RECIPE_BASELINE, TRIVIAL_BASELINES

from .validate import TaskScore


@dataclass(frozen=True)
class Comparison:
    """A paired difference of rank scores on the same test networks, with its bootstrap interval."""

    difference: float
    low: float
    high: float

    @property
    def indistinguishable(self) -> bool:
        """Whether the interval contains 0: no significant difference."""
        return indistinguishable(self.low, self.high)


@dataclass(frozen=True)
class EntryStatistics:
    """One entry's interval, its comparison with the leader and its margins over the trivial baselines
    and over the recipe reference line."""

    interval: tuple[float, float]
    vs_leader: Comparison | None
    margin: Comparison | None
    over_recipe: Comparison | None = None

    @property
    def ties_leader(self) -> bool:
        """The leader itself, or statistically indistinguishable from it."""
        return self.vs_leader is None or self.vs_leader.indistinguishable


def is_trivial(entry) -> bool:
    """A reference entry (by the board's ledger) of a trivial baseline (:data:`gmn_bench.metanets.TRIVIAL_BASELINES`)."""
    return entry.record.reference and entry.submission.manifest["metanet"]["name"] in TRIVIAL_BASELINES


def is_recipe(entry) -> bool:
    """A reference entry (by the board's ledger) of the recipe line (:data:`gmn_bench.metanets.RECIPE_BASELINE`)."""
    return entry.record.reference and entry.submission.manifest["metanet"]["name"] == RECIPE_BASELINE


def _compare(a: TaskScore, b: TaskScore) -> Comparison:
    return Comparison(*paired_difference(a.rank_metric, a.y_true, a.y_pred, b.y_pred))


def entry_statistics(entries: Sequence) -> dict[str, EntryStatistics]:
    """``submission id -> EntryStatistics`` for the ranked ``entries`` of one task (best first)."""
    leaders: dict[str, TaskScore] = {}
    floors: dict[str, TaskScore] = {}
    recipes: dict[str, TaskScore] = {}
    for e in sorted(entries, key=lambda e: -e.value):  # the best floor of a zoo, whatever its track
        if is_trivial(e):
            floors.setdefault(e.submission.zoo.fingerprint, e.score)
        if is_recipe(e):
            recipes.setdefault(e.submission.zoo.fingerprint, e.score)
    for e in entries:
        leaders.setdefault(e.submission.zoo.fingerprint, e.score)
    out = {}
    for e in entries:
        zoo = e.submission.zoo.fingerprint
        leader, floor, recipe = leaders[zoo], floors.get(zoo), recipes.get(zoo)
        out[e.submission.id] = EntryStatistics(
            interval(e.score.rank_metric, e.score.y_true, e.score.y_pred),
            None if leader is e.score else _compare(e.score, leader),
            None if floor is None or is_trivial(e) else _compare(e.score, floor),
            None if recipe is None or recipe is e.score else _compare(e.score, recipe))
    return out
