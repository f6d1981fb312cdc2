"""Packaging a submission from ``gmn-bench evaluate`` results files, and sending it.

:func:`package_submission` bundles the results files of one metanet (one per task; each holds
the per-seed test-split predictions keyed by ``model_id``) with a manifest (metanet name and
parameter count, paper and code links, authors, zoo repo id / revision / fingerprint) and
checks the bundle exactly as the leaderboard will (:func:`leaderboard.validate.validate_submission`).
It then goes either into a local ``submissions/<id>/`` folder (:func:`write_submission`) or to
a pull request on the leaderboard's Hub dataset repo (:func:`open_pull_request`), where the same
files land under ``submissions/<id>/``. Reference entries are added only by the maintainers
(:func:`add_references`), which records them as such in the board's ledger.
"""
from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from .ledger import LEDGER_NAME, Ledger, utc_now
from .schema import MANIFEST_NAME, RESULTS_SCHEMA, SUBMISSION_FORMAT
from .validate import SubmissionError, check_schema, files_digest, read_json, validate_submission
from .zoos import KnownZoo

REFERENCE_AUTHORS = ("gmn-bench developers",)


@dataclass(frozen=True)
class Package:
    """A checked submission: its id and ``file name -> bytes`` (manifest and one results file per task)."""

    id: str
    files: dict[str, bytes]


def _timestamp(moment: datetime | str | None) -> str:
    if moment is None:
        moment = datetime.now(timezone.utc)
    elif isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise SubmissionError(f"submission time {moment} has no time zone")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "metanet"


def _shared(results: dict[str, dict], field: str, key: str):
    values = {json.dumps(r[field][key]) for r in results.values()}
    if len(values) > 1:
        raise SubmissionError(f"the results files disagree on {field}.{key}: {sorted(values)}")
    return next(iter(results.values()))[field][key]


def package_submission(results_paths: Iterable[str | Path], *, authors: Sequence[str], code: str | None = None,
                       paper: str | None = None, submitted: datetime | str | None = None,
                       zoos: dict[str, KnownZoo] | None = None) -> Package:
    """Bundle the results files of one metanet on one zoo (one file per task) into a submission
    and check it as the leaderboard will (``zoos``: the board's known zoos); raises
    :class:`SubmissionError` naming any problem. ``submitted`` (default: now) is the packaging time
    the manifest states; the board dates entries by its own record, not by it."""
    raw, results = {}, {}
    for path in map(Path, results_paths):
        document = read_json(path)
        check_schema(document, RESULTS_SCHEMA, str(path))
        if document["task"] in results:
            raise SubmissionError(f"two results files for task {document['task']!r} (second: {path})")
        raw[document["task"]], results[document["task"]] = path.read_bytes(), document
    if not results:
        raise SubmissionError("no results files given")
    name = _shared(results, "metanet", "name")
    # a task's output head sizes the metanet (3 optimizer classes vs 1 regression output): keep the largest
    n_params = max((r["metanet"]["n_params"] for r in results.values() if r["metanet"]["n_params"] is not None),
                   default=None)
    zoo = {k: _shared(results, "zoo", k) for k in ("path_or_repo_id", "revision", "fingerprint")}
    when = _timestamp(submitted)
    digest = hashlib.sha256()
    for task in sorted(raw):
        digest.update(task.encode() + b"\0" + raw[task] + b"\0")
    digest.update(json.dumps([when, list(authors), code, paper]).encode())
    manifest = {"schema": SUBMISSION_FORMAT, "id": f"{when[:10].replace('-', '')}-{_slug(name)}-{digest.hexdigest()[:8]}",
                "metanet": {"name": name, "n_params": n_params, "paper": paper, "code": code},
                "authors": list(authors), "zoo": zoo, "submitted": when, "tasks": sorted(results)}
    files = {MANIFEST_NAME: (json.dumps(manifest, indent=2) + "\n").encode(),
             **{f"{task}.json": raw[task] for task in sorted(raw)}}
    package = Package(manifest["id"], files)
    with tempfile.TemporaryDirectory() as tmp:
        validate_submission(_write(package, Path(tmp)), zoos)
    return package


def _write(package: Package, submissions_dir: Path) -> Path:
    folder = submissions_dir / package.id
    folder.mkdir(parents=True)
    for name, content in package.files.items():
        (folder / name).write_bytes(content)
    return folder


def write_submission(package: Package, submissions_dir: str | Path) -> Path:
    """Write ``package`` to ``submissions_dir/<id>/`` (refusing to overwrite one) and return the folder."""
    folder = Path(submissions_dir) / package.id
    if folder.exists():
        raise FileExistsError(f"{folder} already exists")
    return _write(package, Path(submissions_dir))


def open_pull_request(package: Package, repo_id: str, token: str | None = None, api=None) -> str:
    """Open a pull request adding ``package`` under ``submissions/<id>/`` of the Hub dataset repo
    ``repo_id``; returns the pull request's URL. ``api`` defaults to ``HfApi(token=token)``."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = api or HfApi(token=token)
    operations = [CommitOperationAdd(path_in_repo=f"submissions/{package.id}/{name}", path_or_fileobj=content)
                  for name, content in package.files.items()]
    info = api.create_commit(repo_id=repo_id, repo_type="dataset", operations=operations, create_pr=True,
                             commit_message=f"Leaderboard submission {package.id}",
                             commit_description="Submitted with `gmn-bench submit`; the leaderboard re-scores it.")
    return info.pr_url


def add_references(results_dir: str | Path, submissions_dir: str | Path, code: str | None = None,
                   paper: str | None = None, zoos: dict[str, KnownZoo] | None = None,
                   ledger_path: str | Path | None = None, now=utc_now) -> list[Path]:
    """Add the reference metanets' results (every ``*.json`` results file under ``results_dir``)
    as submissions, one per metanet, and record them as reference entries, first seen ``now()``, in
    the board's ledger (``ledger_path``, default ``ledger.json`` beside ``submissions_dir``)."""
    ledger_path = Path(ledger_path) if ledger_path is not None else Path(submissions_dir).parent / LEDGER_NAME
    by_metanet: dict[str, list[Path]] = {}
    for path in sorted(Path(results_dir).rglob("*.json")):
        document = read_json(path)
        check_schema(document, RESULTS_SCHEMA, str(path))
        by_metanet.setdefault(document["metanet"]["name"], []).append(path)
    if not by_metanet:
        raise SubmissionError(f"no results files under {results_dir}")
    ledger = Ledger.load(ledger_path)
    folders = []
    for paths in by_metanet.values():
        package = package_submission(paths, authors=REFERENCE_AUTHORS, code=code, paper=paper, zoos=zoos)
        folders.append(write_submission(package, submissions_dir))
        ledger.see(package.id, files_digest(package.files), now, reference=True)
    ledger.save(ledger_path)
    return folders
