"""Building the board: validate every submission, keep the good ones, rank them per task.

Ranking rules (also printed on the rendered board):

* each task ranks by its ``rank_metric`` (Kendall's tau for regression, accuracy for
  classification; higher is better), re-scored by the leaderboard and averaged over seeds;
* only exactly equal scores share a rank (competition ranking: 1, 1, 3); whether two scores
  differ beyond the noise of the test networks is a statistical question, answered beside the
  ranks (:mod:`gmn_bench.leaderboard.uncertainty`), not by rounding;
* within a tie, rows are listed by earlier submission time, then metanet name, then submission id.

A submission that fails any check is left off with its reason (:class:`Rejection`); the others
are kept, so one bad folder never hides or breaks the rest of the board.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from gmn_bench.tasks import TASKS

from .validate import (
    MAX_FILE_BYTES,
    Submission,
    SubmissionError,
    TaskScore,
    validate_submission,
)
from .uncertainty import EntryStatistics, entry_statistics
from .zoos import KnownZoo


@dataclass(frozen=True)
class Entry:
    """One row of a task's table: a submission's re-scored result on that task, with its rank."""

    rank: int
    submission: Submission
    score: TaskScore

    @property
    def value(self) -> float:
        """The mean rank metric over seeds."""
        return self.score.mean[self.score.rank_metric]


@dataclass(frozen=True)
class Rejection:
    """A submission folder left off the board, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Board:
    """Ranked entries per task (tasks in :data:`gmn_bench.tasks.TASKS` order), the rejected folders,
    and each entry's statistics (``statistics[task][submission id]``)."""

    tasks: dict[str, list[Entry]]
    rejected: list[Rejection]
    statistics: dict[str, dict[str, EntryStatistics]]


def rank(submissions: list[Submission], task: str) -> list[Entry]:
    """The entries of ``task``, ordered and ranked by the rules of this module."""
    scored = [(s.scores[task].mean[s.scores[task].rank_metric], s) for s in submissions if task in s.scores]
    scored.sort(key=lambda item: (-item[0], item[1].manifest["submitted"], item[1].manifest["metanet"]["name"],
                                  item[1].id))
    entries: list[Entry] = []
    for position, (value, submission) in enumerate(scored, start=1):
        tied = position > 1 and scored[position - 2][0] == value
        entries.append(Entry(entries[-1].rank if tied else position, submission, submission.scores[task]))
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
    tasks = {name: entries for name in TASKS if (entries := rank(good, name))}
    statistics = {name: entry_statistics(entries) for name, entries in tasks.items()}
    return Board(tasks, rejected, statistics)
