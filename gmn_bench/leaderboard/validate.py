"""Checking and re-scoring one submission folder; a bad one raises :class:`SubmissionError` with the reason.

Nothing a submission claims is trusted: files are read as strict JSON (no duplicate keys, no
NaN/Infinity, UTF-8), checked against :mod:`gmn_bench.leaderboard.schema`, matched to a registered zoo
(:mod:`gmn_bench.leaderboard.zoos`), and every seed's predictions are re-scored with
:meth:`gmn_bench.tasks.Task.evaluate` against that zoo's own labels, which also checks they
cover exactly the zoo's test networks. Claimed metrics that differ from the re-scored ones are
recorded in :attr:`TaskScore.mismatches`; the board only ever shows re-scored values.
"""
from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from gmn_bench.evaluation.stats import mean_std
from gmn_bench.tasks import TASKS, Task, TaskInputError, get_task

from .schema import ID_PATTERN, MANIFEST_NAME, RESULTS_SCHEMA, SUBMISSION_SCHEMA
from .zoos import KnownZoo, find_zoo, known_zoos

MAX_FILE_BYTES = 8 * 2**20
"""Largest file a submission may hold (a results file of a few thousand test networks is well below)."""
CLAIM_TOLERANCE = 1e-6
_FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,95}\.json$")


class SubmissionError(ValueError):
    """A submission the leaderboard rejects; the message says why."""


@dataclass(frozen=True)
class TaskScore:
    """One task of a submission, re-scored: per-seed metrics, their mean and sample std over seeds
    (:func:`gmn_bench.evaluation.stats.mean_std`; None for one run), and the test truth with every
    seed's predictions aligned to it (sorted ``model_id``), for intervals and paired tests."""

    task: str
    rank_metric: str
    n_params: int | None  # the metanet's size on this task (its output head depends on the task)
    seeds: tuple[int, ...]
    per_seed: tuple[dict[str, float], ...]
    mean: dict[str, float]
    std: dict[str, float | None]
    mismatches: tuple[str, ...]
    y_true: tuple = ()
    y_pred: tuple[tuple, ...] = ()

    @property
    def n_test(self) -> int:
        """The number of test networks scored."""
        return len(self.y_true)


@dataclass(frozen=True)
class Submission:
    """A submission that passed every check, with its manifest, zoo and re-scored tasks."""

    folder: Path
    manifest: dict[str, Any]
    zoo: KnownZoo
    scores: dict[str, TaskScore]

    @property
    def id(self) -> str:
        return self.manifest["id"]


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise SubmissionError(f"duplicate JSON keys {duplicates[:3]}")
    return dict(pairs)


def _no_constant(name):
    raise SubmissionError(f"non-finite number {name} (NaN/Infinity are not JSON)")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise SubmissionError(f"number {text} overflows to infinity")
    return value


def read_json(path: Path) -> Any:
    """Parse ``path`` as strict JSON: UTF-8, no duplicate keys, no NaN/Infinity or overflowing numbers."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constant, parse_float=_finite_float)
    except SubmissionError as e:
        raise SubmissionError(f"{path.name}: {e}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SubmissionError(f"{path.name}: not a JSON text ({type(e).__name__}: {str(e)[:120]})") from None


def check_schema(document: Any, schema: dict, name: str) -> None:
    """Raise :class:`SubmissionError` naming where ``document`` (called ``name``) breaks ``schema``."""
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise SubmissionError(f"{name}: schema violation at {where}: {error.message[:200]}")


def _check_files(folder: Path, max_file_bytes: int) -> set[str]:
    """Names of the plain ``.json`` files in ``folder``; anything else rejects the submission."""
    if not re.match(ID_PATTERN, folder.name):
        raise SubmissionError(f"folder name {folder.name!r} is not a submission id (pattern {ID_PATTERN})")
    if folder.is_symlink() or not folder.is_dir():
        raise SubmissionError(f"{folder.name} is not a plain folder (symlink or file)")
    names = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise SubmissionError(f"{entry.name!r} is a symbolic link; only plain files are accepted")
            if not stat.S_ISREG(info.st_mode):
                raise SubmissionError(f"{entry.name!r} is not a plain file (folders are not accepted)")
            if not _FILE_NAME.match(entry.name):
                raise SubmissionError(f"file name {entry.name!r} is not accepted: only "
                                      f"{MANIFEST_NAME} and <task>.json (lower-case letters, digits, '-')")
            if info.st_mode & 0o111:
                raise SubmissionError(f"{entry.name!r} is executable; only plain JSON files are accepted")
            if info.st_size > max_file_bytes:
                raise SubmissionError(f"{entry.name!r} is {info.st_size} bytes, over the {max_file_bytes}-byte limit")
            names.add(entry.name)
    return names


@lru_cache(maxsize=64)
def _task(name: str, zoo: KnownZoo) -> Task:
    return get_task(name, zoo=zoo.path_or_repo_id, revision=zoo.revision)


def _claims(claimed: dict, rescored: dict[str, float], where: str) -> list[str]:
    return [f"{where} {metric}: claimed {claimed[metric]!r}, re-scored {value!r}"
            for metric, value in rescored.items()
            if metric in claimed and not math.isclose(claimed[metric], value, rel_tol=0, abs_tol=CLAIM_TOLERANCE)]


def _score_task(name: str, results: dict, manifest: dict, zoo: KnownZoo) -> TaskScore:
    definition = TASKS[name]
    where = f"{name}.json"
    if results["task"] != name:
        raise SubmissionError(f"{where}: holds results of task {results['task']!r}")
    for field in ("config", "target", "task_type"):
        if results[field] != getattr(definition, field):
            raise SubmissionError(f"{where}: {field} {results[field]!r} is not {name}'s {getattr(definition, field)!r}")
    for field in ("fingerprint", "revision"):
        if results["zoo"][field] != manifest["zoo"][field]:
            raise SubmissionError(f"{where}: zoo {field} {results['zoo'][field]!r} differs from the manifest's "
                                  f"{manifest['zoo'][field]!r}")
    if results["metanet"]["name"] != manifest["metanet"]["name"]:
        raise SubmissionError(f"{where}: metanet name {results['metanet']['name']!r} is not the manifest's "
                              f"{manifest['metanet']['name']!r}")
    seeds = tuple(s["seed"] for s in results["per_seed"])
    if list(seeds) != results["seeds"]:
        raise SubmissionError(f"{where}: per_seed seeds {list(seeds)} do not match seeds {results['seeds']}")
    task = _task(name, zoo)
    per_seed, mismatches = [], []
    for entry in results["per_seed"]:
        try:
            metrics = task.evaluate(entry["predictions"])
        except TaskInputError as e:
            raise SubmissionError(f"{where} seed {entry['seed']}: {e}") from None
        per_seed.append(metrics)
        mismatches += _claims(entry["metrics"], metrics, f"seed {entry['seed']}")
    summaries = {m: mean_std([s[m] for s in per_seed]) for m in task.metrics}
    mean, std = ({m: v[i] for m, v in summaries.items()} for i in (0, 1))
    mismatches += _claims({m: v["mean"] for m, v in results["metrics"].items()}, mean, "mean")
    truth = task.targets("test")
    y_pred = tuple(tuple(entry["predictions"][m] for m in truth) for entry in results["per_seed"])
    return TaskScore(name, task.rank_metric, results["metanet"]["n_params"], seeds, tuple(per_seed), mean, std,
                     tuple(mismatches), tuple(truth.values()), y_pred)


def validate_submission(folder: str | Path, zoos: dict[str, KnownZoo] | None = None,
                        max_file_bytes: int = MAX_FILE_BYTES) -> Submission:
    """Check the submission in ``folder`` and re-score its predictions on the registered zoo
    (``zoos``: ``fingerprint -> KnownZoo``, default :func:`leaderboard.zoos.known_zoos`).
    Raises :class:`SubmissionError` with the first problem found."""
    folder = Path(folder)
    names = _check_files(folder, max_file_bytes)
    if MANIFEST_NAME not in names:
        raise SubmissionError(f"no {MANIFEST_NAME} manifest")
    manifest = read_json(folder / MANIFEST_NAME)
    check_schema(manifest, SUBMISSION_SCHEMA, MANIFEST_NAME)
    if manifest["id"] != folder.name:
        raise SubmissionError(f"manifest id {manifest['id']!r} is not the folder name {folder.name!r}")
    unknown = [t for t in manifest["tasks"] if t not in TASKS]
    if unknown:
        raise SubmissionError(f"unknown tasks {unknown}; known tasks: {sorted(TASKS)}")
    expected = {MANIFEST_NAME, *(f"{t}.json" for t in manifest["tasks"])}
    if names != expected:
        missing, extra = sorted(expected - names), sorted(names - expected)
        raise SubmissionError(f"files do not match the manifest's tasks: missing {missing}, unexpected {extra}")
    try:
        zoo = find_zoo(known_zoos() if zoos is None else zoos, manifest["zoo"]["fingerprint"], manifest["zoo"]["revision"])
    except LookupError as e:
        raise SubmissionError(str(e)) from None
    scores = {}
    for name in manifest["tasks"]:
        results = read_json(folder / f"{name}.json")
        check_schema(results, RESULTS_SCHEMA, f"{name}.json")
        scores[name] = _score_task(name, results, manifest, zoo)
    return Submission(folder, manifest, zoo, scores)
