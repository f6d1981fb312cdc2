"""The ``gmn-bench submit`` and ``gmn-bench leaderboard`` commands (run where ``./leaderboard`` is the board folder).

Argument definitions import nothing heavy; each command imports the leaderboard when it runs.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

BOARD_DIR = Path("leaderboard")
"""Where the board's data lives by default: ``./leaderboard`` of the working directory (the
repository root holds the project's board), never inside the installed package."""


def add_submit_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmn-bench submit``."""
    parser.add_argument("results", nargs="+",
                        help="results JSON files of one metanet (one per task) from gmn-bench evaluate")
    parser.add_argument("--author", action="append", required=True, help="an author (repeat for several)")
    parser.add_argument("--code", default=None, help="http(s) link to the metanet's code")
    parser.add_argument("--paper", default=None, help="http(s) link to the paper")
    parser.add_argument("--repo-id", default=None,
                        help="leaderboard Hub dataset repo: open a pull request there (needs --token or HF_TOKEN)")
    parser.add_argument("--token", default=None, help="Hugging Face token (default: the HF_TOKEN variable)")
    parser.add_argument("--out", default=str(BOARD_DIR / "submissions"),
                        help="without --repo-id: submissions folder to write into (default: ./leaderboard/submissions)")


def run_submit(args: argparse.Namespace) -> int:
    """Package and check the submission, then open a Hub pull request or write it locally."""
    from .submit import open_pull_request, package_submission, write_submission
    from .zoos import REGISTRY_NAME, known_zoos

    token = args.token or os.environ.get("HF_TOKEN")
    if args.token and not args.repo_id:
        raise ValueError("--token is for a Hub pull request: give the leaderboard's --repo-id too")
    if args.repo_id and not token:
        raise ValueError(f"a pull request to {args.repo_id} needs a Hub token (--token or HF_TOKEN)")
    zoos = known_zoos(registry=Path(args.out).parent / REGISTRY_NAME)
    package = package_submission(args.results, authors=args.author, code=args.code, paper=args.paper, zoos=zoos)
    if args.repo_id:
        print(f"submission {package.id}: opened {open_pull_request(package, args.repo_id, token=token)}")
    else:
        folder = write_submission(package, args.out)
        print(f"submission {package.id} written to {folder}; rebuild the board with: gmn-bench leaderboard")
    return 0


def add_leaderboard_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmn-bench leaderboard``."""
    parser.add_argument("--submissions", default=str(BOARD_DIR / "submissions"), help="submissions folder")
    parser.add_argument("--out", default=str(BOARD_DIR), help="where README.md and index.html go")
    parser.add_argument("--add-reference", metavar="DIR", default=None,
                        help="first add the results files under DIR as reference entries (one per metanet)")
    parser.add_argument("--reference-code", default=None, help="code link recorded for the reference entries")
    parser.add_argument("--register-zoo", metavar="ZOO", default=None,
                        help="first register the zoo ZOO (folder or Hub repo id) in the board's zoos.json")
    parser.add_argument("--zoo-name", default=None, help="display name of the zoo registered (default: ZOO)")
    parser.add_argument("--zoo-revision", default=None, help="Hub revision of the zoo registered (pin a commit)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when any submission is rejected or any reference entry is stale "
                             "(its metanet's code changed since it was made)")


def run_leaderboard(args: argparse.Namespace) -> int:
    """Rebuild the board; print each task's leader, every stale reference entry and every rejected
    submission with its reason."""
    from . import LEDGER_NAME, REGISTRY_NAME, add_references, known_zoos, rebuild, register_zoo
    from .escape import visible  # submitted text never reaches the terminal raw (escape sequences)

    registry = Path(args.submissions).parent / REGISTRY_NAME
    if args.register_zoo:
        zoo = register_zoo(registry, args.zoo_name or args.register_zoo, args.register_zoo, args.zoo_revision)
        print(f"registered zoo {zoo.name} ({zoo.fingerprint}) in {registry}")
    if args.add_reference:
        for folder in add_references(args.add_reference, args.submissions, code=args.reference_code,
                                     zoos=known_zoos(registry=registry)):
            print(f"added reference submission {folder}")
    board = rebuild(args.submissions, args.out)
    for task, entries in board.tasks.items():
        best = entries[0]
        print(f"{task}: {len(entries)} entries, first {visible(best.submission.manifest['metanet']['name'])} "
              f"({best.score.rank_metric} {best.value:.4f})")
        for entry in entries:
            if entry.stale:
                print(f"  {entry.submission.id}: {visible(entry.stale)}")
            for mismatch in entry.score.mismatches:
                print(f"  note: {entry.submission.id} claims differ from re-scored values: {visible(mismatch)}")
    for rejection in board.rejected:
        print(f"rejected {visible(rejection.name)}: {visible(rejection.reason)}")
    print(f"wrote {args.out}/README.md and {args.out}/index.html; the board's ledger: "
          f"{Path(args.submissions).parent / LEDGER_NAME}")
    stale = any(entry.stale for entries in board.tasks.values() for entry in entries)
    return 1 if args.strict and (board.rejected or stale) else 0
