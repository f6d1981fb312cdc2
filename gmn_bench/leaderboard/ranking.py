"""Building the board: validate every submission, keep the good ones, rank them per task, and say
how sure each position is.

Ranking rules (also printed on the rendered board):

* each task ranks by its ``rank_metric`` (Kendall's tau for regression, accuracy for
  classification; higher is better), re-scored by the leaderboard and averaged over seeds;
  exactly equal scores share a rank (competition ranking: 1, 1, 3), listed by earlier submission
  time, then metanet name, then submission id;
* every entry carries the 95% bootstrap interval of its score over the test networks
  (:func:`gmn_bench.evaluation.stats.interval`);
* every entry is compared with the leader (the first entry on the same zoo) by a paired bootstrap
  on the same test networks (:func:`~gmn_bench.evaluation.stats.paired_difference`): when the
  interval of the difference contains 0 the entry is *statistically indistinguishable* from the
  leader;
* every entry shows its margin over the best trivial baseline on its zoo (the best reference entry
  whose metanet is one of :data:`gmn_bench.metanets.TRIVIAL_BASELINES`), with the same paired interval.

A submission that fails any check is left off with its reason (:class:`Rejection`); the others
are kept, so one bad folder never hides or breaks the rest of the board.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from gmn_bench.evaluation.stats import indistinguishable, interval, paired_difference
from gmn_bench.metanets import TRIVIAL_BASELINES
from gmn_bench.tasks import TASKS

from .validate import (
    MAX_FILE_BYTES,
    Submission,
    SubmissionError,
    TaskScore,
    validate_submission,
)
from .zoos import KnownZoo


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
class Entry:
    """One line of a task's table: a submission's re-scored result on that task, with its rank,
    the interval of its score, its comparison with the leader (None for the leader itself) and its
    margin over the best trivial baseline (None for a trivial baseline, or when its zoo has none)."""

    rank: int
    submission: Submission
    score: TaskScore
    interval: tuple[float, float]
    vs_leader: Comparison | None
    margin: Comparison | None

    @property
    def value(self) -> float:
        """The mean rank metric over seeds."""
        return self.score.mean[self.score.rank_metric]

    @property
    def ties_leader(self) -> bool:
        """The leader itself, or statistically indistinguishable from it."""
        return self.vs_leader is None or self.vs_leader.indistinguishable


@dataclass(frozen=True)
class Board:
    """Ranked entries per task (tasks in :data:`gmn_bench.tasks.TASKS` order) and the rejected folders."""

    tasks: dict[str, list[Entry]]
    rejected: list[Rejection]


@dataclass(frozen=True)
class Rejection:
    """A submission folder left off the board, and why."""

    name: str
    reason: str


def is_trivial(submission: Submission) -> bool:
    """A reference entry of a trivial baseline (:data:`gmn_bench.metanets.TRIVIAL_BASELINES`)."""
    return submission.manifest["reference"] and submission.manifest["metanet"]["name"] in TRIVIAL_BASELINES


def _compare(a: TaskScore, b: TaskScore) -> Comparison:
    return Comparison(*paired_difference(a.rank_metric, a.y_true, a.y_pred, b.y_pred))


def rank(submissions: list[Submission], task: str) -> list[Entry]:
    """The entries of ``task``, ordered, ranked and compared by the rules of this module."""
    scored = [s for s in submissions if task in s.scores]
    scored.sort(key=lambda s: (-s.scores[task].mean[s.scores[task].rank_metric], s.manifest["submitted"],
                               s.manifest["metanet"]["name"], s.id))
    leaders: dict[str, Submission] = {}
    trivial: dict[str, Submission] = {}
    for s in scored:
        leaders.setdefault(s.zoo.fingerprint, s)
        if is_trivial(s):
            trivial.setdefault(s.zoo.fingerprint, s)
    entries: list[Entry] = []
    for position, s in enumerate(scored, start=1):
        score = s.scores[task]
        tied = position > 1 and score.mean[score.rank_metric] == entries[-1].value
        leader, floor = leaders[s.zoo.fingerprint], trivial.get(s.zoo.fingerprint)
        entries.append(Entry(
            entries[-1].rank if tied else position, s, score,
            interval(score.rank_metric, score.y_true, score.y_pred),
            None if leader is s else _compare(score, leader.scores[task]),
            None if floor is None or is_trivial(s) else _compare(score, floor.scores[task])))
    return entries


def build_board(submissions_dir: str | Path, zoos: dict[str, KnownZoo] | None = None,
                max_file_bytes: int = MAX_FILE_BYTES, progress: bool = False) -> Board:
    """Validate and re-score every folder in ``submissions_dir`` (hidden files such as
    ``.gitkeep`` aside) and rank the good ones per task."""
    if not Path(submissions_dir).is_dir():
        raise ValueError(f"{submissions_dir} is not a folder of submissions")
    good, rejected = [], []
    folders = [f for f in sorted(Path(submissions_dir).iterdir()) if not (f.name.startswith(".") and f.is_file())]
    for folder in tqdm(folders, desc="checking submissions", unit="submission", disable=not progress):
        try:
            good.append(validate_submission(folder, zoos, max_file_bytes))
        except (SubmissionError, OSError) as e:
            rejected.append(Rejection(folder.name, str(e)))
    tasks = {name: rank(good, name) for name in TASKS}
    return Board({name: entries for name, entries in tasks.items() if entries}, rejected)
