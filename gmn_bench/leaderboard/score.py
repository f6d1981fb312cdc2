"""Building the board: validate every submission, keep the good ones, rank them per task.

Ranking rules (also printed on the rendered board):

* each task ranks by its ``rank_metric`` (Kendall's tau for regression, accuracy for
  classification; higher is better), re-scored by the leaderboard and averaged over seeds;
* each track (:mod:`gmn_bench.tasks.inputs`: what the metanet read) is ranked on its own: the
  ``weights`` track first, then the ``recipe`` track (metanets that also read the training recipe);
* only exactly equal scores share a rank (competition ranking: 1, 1, 3); whether two scores
  differ beyond the noise of the test networks is a statistical question, answered beside the
  ranks (:mod:`gmn_bench.leaderboard.uncertainty`), not by rounding;
* within a tie, rows are listed by the order in which the board first saw them (its ledger,
  :mod:`gmn_bench.leaderboard.ledger`; never a date the submission states), then metanet name,
  then submission id.
* a *stale* reference entry (made by metanet code that has changed since:
  :mod:`gmn_bench.leaderboard.staleness`) is not ranked: it is listed after the ranked entries,
  with the reason.

A submission that fails any check, or raises anything at all while being checked, scored or
shown (its statistics, table rows and plot bar; :func:`build_board`), is left off
with its reason (:class:`Rejection`); the others are kept, so one bad folder never hides or
breaks the rest of the board. So is a copy: a submission whose predictions on a task repeat,
seed for seed and by content (within a stated tolerance, whatever their rounding, scale or
spelling), those of a submission the board saw earlier (predictions two metanets can share by
chance aside: constant, the targets themselves, or a classification with few wrong labels; see
:mod:`gmn_bench.leaderboard.copies`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from tqdm.auto import tqdm

from gmn_bench.tasks import TASKS, TRACKS

from .copies import copies
from .ledger import Ledger, Record, utc_now
from .schema import LIMITS, Limits
from .staleness import stale_reason
from .uncertainty import EntryStatistics, entry_statistics
from .validate import Submission, SubmissionError, TaskScore, folder_digest, validate_submission
from .zoos import KnownZoo


@dataclass(frozen=True)
class Entry:
    """One row of a task's table: a submission's re-scored result on that task, with its rank and the
    board's record of it (first seen, reference)."""

    rank: int | None  # None: a stale reference entry, not ranked
    submission: Submission
    score: TaskScore
    record: Record
    stale: str | None = None  # why a reference entry is stale (gmn_bench.leaderboard.staleness)

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
    the ledger with every folder seen (to be saved with the board) and each entry's statistics
    (``statistics[task][submission id]``)."""

    tasks: dict[str, list[Entry]]
    rejected: list[Rejection]
    ledger: Ledger
    statistics: dict[str, dict[str, EntryStatistics]]


def rank(submissions: list[Submission], task: str, records: Mapping[str, Record]) -> list[Entry]:
    """The entries of ``task``, ordered and ranked by the rules of this module (``records``: the ledger's):
    the ``weights`` track, then the ``recipe`` track, each ranked from 1, stale reference entries last in their
    track, without a rank."""
    entries: list[Entry] = []
    for track in TRACKS:
        scored = []
        for s in submissions:
            if task in s.scores and s.scores[task].track == track:
                stale = stale_reason(s.manifest["metanet"]["name"], s.scores[task]) if records[s.id].reference else None
                scored.append((s.scores[task].mean[s.scores[task].rank_metric], s, stale))
        scored.sort(key=lambda item: (item[2] is not None, -item[0], records[item[1].id].sequence,
                                      item[1].manifest["metanet"]["name"], item[1].id))
        for position, (value, submission, stale) in enumerate(scored, start=1):
            tied = position > 1 and scored[position - 2][0] == value
            place = None if stale else entries[-1].rank if tied else position
            entries.append(Entry(place, submission, submission.scores[task], records[submission.id], stale))
    return entries


def _copies(good: list[Submission], records: Mapping[str, Record]) -> dict[str, str]:
    """``id -> reason`` for every submission whose predictions on some task copy those of one seen
    earlier (:func:`gmn_bench.leaderboard.copies.copies`; a copy is no original for later ones)."""
    originals: list[Submission] = []
    found = {}
    for submission in sorted(good, key=lambda s: records[s.id].sequence):
        for task, score in submission.scores.items():
            original = next((o for o in originals if task in o.scores and o.zoo.fingerprint == submission.zoo.fingerprint
                             and copies(score, o.scores[task])), None)
            if original is not None:
                found[submission.id] = (f"its {task} predictions repeat those of {original.id}, which the board saw "
                                        f"first ({records[original.id].first_seen})")
                break
        else:
            originals.append(submission)
    return found


def _check(folder: Path, zoos, limits: Limits, clock) -> Submission:
    try:
        return validate_submission(folder, zoos, limits, clock)
    except SubmissionError:
        raise
    except Exception as e:  # anything else one submission triggers must not take the board down
        raise SubmissionError(f"could not be checked ({type(e).__name__}: {str(e)[:200]})") from e


def build_board(submissions_dir: str | Path, zoos: dict[str, KnownZoo] | None = None, limits: Limits = LIMITS,
                ledger: Ledger | None = None, now: Callable[[], str] = utc_now,
                clock: Callable[[], float] = time.monotonic, progress: bool = False,
                render: Callable[[Board], object] | None = None) -> Board:
    """Validate and re-score every folder in ``submissions_dir`` (hidden files such as ``.gitkeep``
    aside), record the new ones in ``ledger`` (first seen ``now()``; default: an empty ledger) and
    rank the good ones per task. Each submission gets ``limits.seconds`` of ``clock``. The board
    returned can be shown: ``render(board)`` (default: the pages,
    :func:`gmn_bench.leaderboard.render.render_pages`) is tried, and a submission whose statistics
    or rows raise is rejected like any other check's failure."""
    if not Path(submissions_dir).is_dir():
        raise ValueError(f"{submissions_dir} is not a folder of submissions")
    ledger = Ledger(ledger.records if ledger is not None else {})
    good, rejected = [], []
    folders = [f for f in sorted(Path(submissions_dir).iterdir()) if not (f.name.startswith(".") and f.is_file())]
    for folder in tqdm(folders, desc="checking submissions", unit="submission", disable=not progress):
        try:
            submission = _check(folder, zoos, limits, clock)
            ledger.see(submission.id, submission.digest, now)
            good.append(submission)
        except SubmissionError as e:
            digest = folder_digest(folder, limits)
            if digest is not None:
                ledger.see(folder.name, digest, now)
            rejected.append(Rejection(folder.name, str(e)))
    found = _copies(good, ledger.records)
    rejected += [Rejection(s.id, found[s.id]) for s in good if s.id in found]
    if render is None:
        from .render import render_pages as render
    return _assemble([s for s in good if s.id not in found], rejected, ledger, render)


def _fault(task: str, entry: Entry, leader: Entry, ledger: Ledger, render: Callable[[Board], object]) -> str | None:
    """Why ``entry`` alone cannot be shown (its statistics, its comparison with ``leader``, its rows
    and bar rendered on a board of its own), or ``None``."""
    try:
        render(Board({task: [entry]}, [], ledger, {task: entry_statistics([entry])}))
        if leader is not entry:
            entry_statistics([leader, entry])
    except Exception as e:  # whatever one submission's rows raise rejects that submission only
        return f"{type(e).__name__}: {str(e)[:200]}"
    return None


def _assemble(good: list[Submission], rejected: list[Rejection], ledger: Ledger,
              render: Callable[[Board], object]) -> Board:
    """Rank ``good`` per task, with statistics, and check that ``render`` shows the board; when it
    raises, each submission whose rows fail on their own (:func:`_fault`) is rejected with the
    reason and the others are ranked again. A failure no submission is to blame for is raised."""
    while True:
        tasks = {name: entries for name in TASKS if (entries := rank(good, name, ledger.records))}
        try:
            board = Board(tasks, sorted(rejected, key=lambda r: r.name), ledger,
                          {name: entry_statistics(entries) for name, entries in tasks.items()})
            render(board)
            return board
        except Exception:
            faults = {e.submission.id: reason for name, entries in tasks.items() for e in entries
                      if (reason := _fault(name, e, entries[0], ledger, render)) is not None}
            if not faults:
                raise
        rejected = rejected + [Rejection(sid, f"could not be shown on the board ({reason})")
                               for sid, reason in faults.items()]
        good = [s for s in good if s.id not in faults]
