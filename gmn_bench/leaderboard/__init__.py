"""The gmn-bench leaderboard: submissions checked, re-scored and ranked per task.

* :func:`package_submission`, :func:`write_submission`, :func:`open_pull_request`,
  :func:`add_references` (:mod:`gmn_bench.leaderboard.submit`): results files -> submission;
* :func:`validate_submission`, :class:`SubmissionError` (:mod:`gmn_bench.leaderboard.validate`), the
  format and its limits in :mod:`gmn_bench.leaderboard.schema` and the zoo registry in
  :mod:`gmn_bench.leaderboard.zoos`;
* :func:`build_board` (:mod:`gmn_bench.leaderboard.score`, which states the ranking, tie and copy
  rules; what the board says about uncertainty beside the ranks: :mod:`gmn_bench.leaderboard.uncertainty`),
  the board's own record of its submissions (:mod:`gmn_bench.leaderboard.ledger`) and
  :func:`write_board` (:mod:`gmn_bench.leaderboard.render`): ``README.md`` and ``index.html``;
* :func:`rebuild`: all of it (``gmn-bench leaderboard`` / ``python -m gmn_bench.leaderboard``).

Board data lives in ``./leaderboard/`` of the working directory by default: ``submissions/<id>/``,
the ledger ``ledger.json`` and the zoo registry ``zoos.json`` beside it.
"""
from pathlib import Path

from .cli import BOARD_DIR
from .ledger import LEDGER_NAME, Ledger, Record
from .render import write_board
from .score import Board, Entry, Rejection, build_board
from .submit import (
    Package,
    add_references,
    open_pull_request,
    package_submission,
    write_submission,
)
from .validate import Submission, SubmissionError, validate_submission
from .zoos import REGISTRY_NAME, KnownZoo, known_zoos, register_zoo

SUBMISSIONS = BOARD_DIR / "submissions"


def rebuild(submissions_dir: str | Path = SUBMISSIONS, out_dir: str | Path = BOARD_DIR, progress: bool = True) -> Board:
    """Validate, re-score and rank every submission in ``submissions_dir`` against the known zoos
    (with the registry ``zoos.json`` beside it), record new ones in the ledger ``ledger.json`` beside
    it, and write the board (``README.md``, ``index.html``) into ``out_dir``; returns the board
    (with its rejections). A submission that fails anywhere, its rows and plot included, is only
    rejected; the pages and the ledger are written all or none."""
    data = Path(submissions_dir).parent
    board = build_board(submissions_dir, known_zoos(registry=data / REGISTRY_NAME),
                        ledger=Ledger.load(data / LEDGER_NAME), progress=progress)
    write_board(board, out_dir, ledger=data / LEDGER_NAME)
    return board


__all__ = ["Board", "Entry", "BOARD_DIR", "KnownZoo", "LEDGER_NAME", "Ledger", "Package", "REGISTRY_NAME", "Record",
           "Rejection", "SUBMISSIONS", "Submission", "SubmissionError", "add_references", "build_board", "known_zoos",
           "open_pull_request", "package_submission", "rebuild", "register_zoo", "validate_submission", "write_board",
           "write_submission"]
