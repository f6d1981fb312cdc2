"""The gmn-bench leaderboard: submissions checked, re-scored and ranked per task.

* :func:`package_submission`, :func:`write_submission`, :func:`open_pull_request`,
  :func:`add_references` (:mod:`gmn_bench.leaderboard.submit`): results files -> submission;
* :func:`validate_submission`, :class:`SubmissionError` (:mod:`gmn_bench.leaderboard.validate`), the
  format in :mod:`gmn_bench.leaderboard.schema` and the zoo registry in :mod:`gmn_bench.leaderboard.zoos`;
* :func:`build_board` (:mod:`gmn_bench.leaderboard.score`, which states the ranking rules; the uncertainty shown beside them: :mod:`gmn_bench.leaderboard.uncertainty`) and
  :func:`write_board` (:mod:`gmn_bench.leaderboard.render`): ``README.md`` and ``index.html``;
* :func:`rebuild`: all of it (``gmn-bench leaderboard`` / ``python -m gmn_bench.leaderboard``).

Submissions live in ``./leaderboard/submissions/<submission-id>/`` of the working directory by default.
"""
from pathlib import Path

from .cli import BOARD_DIR
from .score import Board, Entry, Rejection, build_board
from .render import write_board
from .submit import (
    Package,
    add_references,
    open_pull_request,
    package_submission,
    write_submission,
)
from .validate import Submission, SubmissionError, validate_submission
from .zoos import KnownZoo, known_zoos

SUBMISSIONS = BOARD_DIR / "submissions"


def rebuild(submissions_dir: str | Path = SUBMISSIONS, out_dir: str | Path = BOARD_DIR, progress: bool = True) -> Board:
    """Validate, re-score and rank every submission in ``submissions_dir`` and write the board
    (``README.md``, ``index.html``) into ``out_dir``; returns the board (with its rejections)."""
    board = build_board(submissions_dir, progress=progress)
    write_board(board, out_dir)
    return board


__all__ = ["Board", "Entry", "BOARD_DIR", "KnownZoo", "Package", "Rejection", "SUBMISSIONS", "Submission",
           "SubmissionError", "add_references", "build_board", "known_zoos", "open_pull_request",
           "package_submission", "rebuild", "validate_submission", "write_board", "write_submission"]
