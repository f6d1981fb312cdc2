"""Checking and re-scoring one submission folder; a bad one raises :class:`SubmissionError` with the reason.

Nothing a submission claims is trusted: its folder may hold only plain, small JSON files
(:data:`~gmn_bench.leaderboard.schema.LIMITS`), read as strict JSON (UTF-8, no duplicate keys, no
NaN/Infinity, no numbers beyond float or safe-integer range, bounded nesting and key length),
checked against :mod:`gmn_bench.leaderboard.schema`, matched to a registered zoo
(:mod:`gmn_bench.leaderboard.zoos`), and every seed's predictions are re-scored with
:meth:`gmn_bench.tasks.Task.evaluate` against that zoo's own labels, which also checks they cover
exactly the zoo's test networks (for a cross-zoo task: every network of the registered test zoo its
results name). Claimed metrics that differ from the re-scored ones are recorded
in :attr:`TaskScore.mismatches`; the board only ever shows re-scored values, and refuses a
submission whose re-scored metrics are not finite. Checking one submission stops with an error
after :attr:`Limits.seconds`.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import stat
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import jsonschema

from gmn_bench.evaluation.stats import mean_std
from gmn_bench.intake import json_loads
from gmn_bench.tasks import TASKS, Task, TaskInputError, get_task
from gmn_bench.tasks.inputs import WEIGHTS

from .escape import is_blank, visible
from .schema import ID_PATTERN, LIMITS, MANIFEST_NAME, RESULTS_SCHEMA, SUBMISSION_SCHEMA, Limits
from .zoos import KnownZoo, find_zoo, known_zoos

MAX_FILE_BYTES = LIMITS.file_bytes
"""Largest file a submission may hold (a results file of a few thousand test networks is well below)."""
CLAIM_TOLERANCE = 1e-6
_FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,95}\.json")


class SubmissionError(ValueError):
    """A submission the leaderboard rejects; the message says why."""


@dataclass(frozen=True)
class TaskScore:
    """One task of a submission, re-scored: per-seed metrics, their mean and sample std over seeds
    (:func:`gmn_bench.evaluation.stats.mean_std`; None for one run), and the test truth with every
    seed's predictions aligned to it (sorted ``model_id``), for intervals, paired tests and copies
    (:mod:`gmn_bench.leaderboard.copies`)."""

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
    commit: str | None = None  # the gmn-bench commit that made the results file
    code_fingerprint: str | None = None  # of the metanet's code then (gmn_bench.evaluation.provenance)
    track: str = WEIGHTS  # the input view the metanet read (gmn_bench.tasks.inputs)

    @property
    def n_test(self) -> int:
        """The number of test networks scored."""
        return len(self.y_true)


@dataclass(frozen=True)
class Submission:
    """A submission that passed every check, with its manifest, zoo, re-scored tasks and files' digest."""

    folder: Path
    manifest: dict[str, Any]
    zoo: KnownZoo
    scores: dict[str, TaskScore]
    digest: str = ""

    @property
    def id(self) -> str:
        return self.manifest["id"]


class Deadline:
    """The time one submission may take; :meth:`check` raises :class:`SubmissionError` once it is over.
    The board's own work done for it (:meth:`excluded`) does not count."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self._clock = seconds, clock
        self._end = clock() + seconds

    @contextmanager
    def excluded(self):
        """Time spent inside is the board's, not the submission's: loading a registered zoo's task and test
        labels, which is cached per (task, zoo) and so bounded by the registry, not by what a submission sends."""
        start = self._clock()
        try:
            yield
        finally:
            self._end += self._clock() - start

    def check(self, where: str) -> None:
        if self._clock() > self._end:
            raise SubmissionError(f"checking took more than the {self.seconds:g} s a submission may take "
                                  f"(stopped at {where})")


def parse_json(data: bytes, name: str, limits: Limits = LIMITS) -> Any:
    """Parse ``data`` (the file ``name``) as strict JSON (:func:`gmn_bench.intake.json_loads`) within
    ``limits``: UTF-8, no duplicate or over-long keys, no NaN/Infinity, no float overflow, no
    integer beyond 2**53, bounded nesting."""
    def pairs_hook(pairs):
        document = dict(pairs)
        if len(document) != len(pairs):
            duplicates = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
            raise SubmissionError(f"duplicate JSON keys {[d[:40] for d in duplicates[:3]]}")
        if max(map(len, document), default=0) > limits.key_chars:
            raise SubmissionError(f"a JSON key is longer than {limits.key_chars} characters")
        return document

    return json_loads(data, name, SubmissionError, limits.depth, object_pairs_hook=pairs_hook)


def _read_bounded(path: Path, limit: int, follow_symlinks: bool) -> bytes:
    """The bytes of the regular file ``path`` if it holds at most ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise SubmissionError(f"{path.name!r} is not a plain file")
            data = f.read(limit + 1)
    except OSError as e:
        raise SubmissionError(f"cannot read {path.name!r} ({e.strerror or type(e).__name__})") from None
    if len(data) > limit:
        raise SubmissionError(f"{path.name!r} is over the {limit}-byte limit")
    return data


def read_json(path: str | Path, limits: Limits = LIMITS) -> Any:
    """Read and parse the JSON file ``path`` (e.g. a results file to submit) as :func:`parse_json` does."""
    path = Path(path)
    return parse_json(_read_bounded(path, limits.file_bytes, follow_symlinks=True), path.name, limits)


def _python_pattern(pattern: str) -> str:
    """An ECMA-262 pattern (JSON Schema's dialect) for Python's ``re``: a final ``$`` means the very
    end of the text there, where Python's ``$`` also matches before a trailing newline."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


def _ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(_python_pattern(pattern), instance):
        yield jsonschema.ValidationError(f"{instance[:80]!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


def check_schema(document: Any, schema: dict, name: str) -> None:
    """Raise :class:`SubmissionError` naming where ``document`` (called ``name``) breaks ``schema``
    (patterns matched with JSON Schema's ECMA-262 meaning)."""
    error = jsonschema.exceptions.best_match(_Validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(str(p)[:40] for p in error.absolute_path) or "top level"
        raise SubmissionError(f"{name}: schema violation at {where}: {error.message[:200]}")


def _files(folder: Path, limits: Limits) -> dict[str, bytes]:
    """``name -> bytes`` of the plain ``.json`` files in ``folder``; anything else rejects the submission."""
    if not re.fullmatch(_python_pattern(ID_PATTERN), folder.name):
        raise SubmissionError(f"folder name {folder.name[:100]!r} is not a submission id (pattern {ID_PATTERN})")
    if folder.is_symlink() or not folder.is_dir():
        raise SubmissionError(f"{folder.name} is not a plain folder (symlink or file)")
    files = {}
    with os.scandir(folder) as entries:
        for count, entry in enumerate(entries, start=1):
            if count > limits.files:
                raise SubmissionError(f"more than {limits.files} entries in the folder")
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise SubmissionError(f"{entry.name[:100]!r} is a symbolic link; only plain files are accepted")
            if not stat.S_ISREG(info.st_mode):
                raise SubmissionError(f"{entry.name[:100]!r} is not a plain file (folders are not accepted)")
            if not _FILE_NAME.fullmatch(entry.name):
                raise SubmissionError(f"file name {entry.name[:100]!r} is not accepted: only "
                                      f"{MANIFEST_NAME} and <task>.json (lower-case letters, digits, '-')")
            if info.st_mode & 0o111:
                raise SubmissionError(f"{entry.name!r} is executable; only plain JSON files are accepted")
            if info.st_size > limits.file_bytes:
                raise SubmissionError(f"{entry.name!r} is {info.st_size} bytes, "
                                      f"over the {limits.file_bytes}-byte limit")
            files[entry.name] = _read_bounded(folder / entry.name, limits.file_bytes, follow_symlinks=False)
    return files


def files_digest(files: dict[str, bytes]) -> str:
    """``sha256:<hex>`` over the names and bytes of a submission's files."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return f"sha256:{digest.hexdigest()}"


def folder_digest(folder: str | Path, limits: Limits = LIMITS) -> str | None:
    """:func:`files_digest` of a submission folder, or ``None`` if it is not one the board can read."""
    try:
        return files_digest(_files(Path(folder), limits))
    except (SubmissionError, OSError):
        return None


@lru_cache(maxsize=64)
def _task(name: str, zoo: KnownZoo, test_zoo: KnownZoo | None) -> Task:
    if test_zoo is None:
        return get_task(name, zoo=zoo.path_or_repo_id, revision=zoo.revision)
    return get_task(name, zoo=zoo.path_or_repo_id, revision=zoo.revision, test_zoo=test_zoo.path_or_repo_id,
                    test_revision=test_zoo.revision)


@lru_cache(maxsize=64)
def _truth(name: str, zoo: KnownZoo, test_zoo: KnownZoo | None) -> dict[str, Any]:
    return _task(name, zoo, test_zoo).targets("test")


def _test_zoo(name: str, results: dict, zoos: dict[str, KnownZoo]) -> KnownZoo | None:
    """The registered zoo a cross-zoo task's results were tested on (None for any other task)."""
    where, stated = f"{name}.json", results.get("test_zoo")
    if TASKS[name].test_zoo is None:
        if stated is not None:
            raise SubmissionError(f"{where}: names a test zoo, but {name} tests on its own zoo's test split")
        return None
    if stated is None:
        raise SubmissionError(f"{where}: {name} is a cross-zoo task; its results must name the test zoo (test_zoo)")
    try:
        return find_zoo(zoos, stated["fingerprint"], stated["revision"])
    except LookupError as e:
        raise SubmissionError(f"{where}: test zoo: {e}") from None


def _check_counts(results: Any, where: str, limits: Limits) -> None:
    """Bound the work a results file asks for, before any schema or scoring looks at it."""
    if not isinstance(results, dict):
        return
    for field in ("seeds", "per_seed"):
        if isinstance(results.get(field), list) and len(results[field]) > limits.seeds:
            raise SubmissionError(f"{where}: {len(results[field])} {field}, more than the {limits.seeds} allowed")
    for entry in results.get("per_seed") or ():
        if isinstance(entry, dict) and isinstance(entry.get("predictions"), dict) \
                and len(entry["predictions"]) > limits.predictions:
            raise SubmissionError(f"{where}: {len(entry['predictions'])} predictions in one seed, more than the "
                                  f"{limits.predictions} allowed")


def _claims(claimed: dict, rescored: dict[str, float], where: str) -> list[str]:
    return [f"{where} {metric}: claimed {claimed[metric]!r}, re-scored {value!r}"
            for metric, value in rescored.items()
            if metric in claimed and not math.isclose(claimed[metric], value, rel_tol=0, abs_tol=CLAIM_TOLERANCE)]


def _finite_metrics(metrics: dict[str, float], where: str) -> dict[str, float]:
    bad = {m: v for m, v in metrics.items() if not math.isfinite(v)}
    if bad:
        raise SubmissionError(f"{where}: re-scored metrics are not finite numbers ({bad}); predictions this far "
                              "from the targets cannot be ranked")
    return metrics


def _score_task(name: str, results: dict, manifest: dict, zoo: KnownZoo, deadline: Deadline,
                zoos: dict[str, KnownZoo]) -> TaskScore:
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
    test_zoo = _test_zoo(name, results, zoos)
    with deadline.excluded():
        task, truth = _task(name, zoo, test_zoo), _truth(name, zoo, test_zoo)
    per_seed, mismatches = [], []
    for entry in results["per_seed"]:
        deadline.check(f"{where} seed {entry['seed']}")
        try:
            metrics = task.evaluate(entry["predictions"])
        except TaskInputError as e:
            raise SubmissionError(f"{where} seed {entry['seed']}: {e}") from None
        per_seed.append(_finite_metrics(metrics, f"{where} seed {entry['seed']}"))
        mismatches += _claims(entry["metrics"], metrics, f"seed {entry['seed']}")
    summaries = {m: mean_std([s[m] for s in per_seed]) for m in task.metrics}
    mean = _finite_metrics({m: v[0] for m, v in summaries.items()}, f"{where} mean")
    std = {m: v[1] for m, v in summaries.items()}
    _finite_metrics({m: v for m, v in std.items() if v is not None}, f"{where} std")
    mismatches += _claims({m: v["mean"] for m, v in results["metrics"].items()}, mean, "mean")
    y_pred = tuple(tuple(entry["predictions"][m] for m in truth) for entry in results["per_seed"])
    return TaskScore(name, task.rank_metric, results["metanet"]["n_params"], seeds, tuple(per_seed), mean, std,
                     tuple(mismatches), tuple(truth.values()), y_pred,
                     results["environment"]["git_commit"], (results["metanet"].get("code") or {}).get("fingerprint"),
                     results["metanet"].get("track", WEIGHTS))


def _check_manifest(manifest: Any, folder: Path) -> None:
    check_schema(manifest, SUBMISSION_SCHEMA, MANIFEST_NAME)
    if manifest["id"] != folder.name:
        raise SubmissionError(f"manifest id {manifest['id']!r} is not the folder name {folder.name!r}")
    try:
        datetime.strptime(manifest["submitted"], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise SubmissionError(f"{MANIFEST_NAME}: submitted {manifest['submitted']!r} is not a date and time") from None
    texts = [("metanet name", manifest["metanet"]["name"]),
             *((f"author {i}", author) for i, author in enumerate(manifest["authors"], start=1))]
    for what, text in texts:
        if is_blank(text):
            raise SubmissionError(f"{MANIFEST_NAME}: {what} {visible(text)!r} is blank: it has no visible character")
    unknown = [t for t in manifest["tasks"] if t not in TASKS]
    if unknown:
        raise SubmissionError(f"unknown tasks {unknown}; known tasks: {sorted(TASKS)}")


def validate_submission(folder: str | Path, zoos: dict[str, KnownZoo] | None = None, limits: Limits = LIMITS,
                        clock: Callable[[], float] = time.monotonic) -> Submission:
    """Check the submission in ``folder`` within ``limits`` and re-score its predictions on the
    registered zoo (``zoos``: ``fingerprint -> KnownZoo``, default :func:`leaderboard.zoos.known_zoos`).
    Raises :class:`SubmissionError` with the first problem found, or once ``limits.seconds`` of
    ``clock`` have passed."""
    deadline = Deadline(limits.seconds, clock)
    folder = Path(folder)
    files = _files(folder, limits)
    if MANIFEST_NAME not in files:
        raise SubmissionError(f"no {MANIFEST_NAME} manifest")
    manifest = parse_json(files[MANIFEST_NAME], MANIFEST_NAME, limits)
    _check_manifest(manifest, folder)
    expected = {MANIFEST_NAME, *(f"{t}.json" for t in manifest["tasks"])}
    if set(files) != expected:
        missing, extra = sorted(expected - set(files)), sorted(set(files) - expected)
        raise SubmissionError(f"files do not match the manifest's tasks: missing {missing}, unexpected {extra}")
    zoos = known_zoos() if zoos is None else zoos
    try:
        zoo = find_zoo(zoos, manifest["zoo"]["fingerprint"], manifest["zoo"]["revision"])
    except LookupError as e:
        raise SubmissionError(str(e)) from None
    scores = {}
    for name in manifest["tasks"]:
        deadline.check(f"{name}.json")
        results = parse_json(files[f"{name}.json"], f"{name}.json", limits)
        _check_counts(results, f"{name}.json", limits)
        check_schema(results, RESULTS_SCHEMA, f"{name}.json")
        scores[name] = _score_task(name, results, manifest, zoo, deadline, zoos)
    return Submission(folder, manifest, zoo, scores, files_digest(files))
