"""Results files: one JSON Schema per format, and the typed :class:`Results` of a metanet on a task.

Two formats, each declared once, in ``schemas/`` beside this module, and read by both
``gmn-bench evaluate`` and the leaderboard (:func:`results_schema`):

* ``gmn-bench/results/v2`` (``schemas/results.json``): one metanet on one regression or
  classification task over seeds (:class:`Results`);
* ``gmn-bench/parameter-prediction-results/v1`` (``schemas/parameter-prediction-results.json``):
  predicted weights scored on CIFAR-10 (:func:`gmn_bench.evaluation.run_parameter_prediction`).

Beyond the schema, :meth:`Results.from_json` checks what a schema cannot state: ``seeds`` lists
the ``per_seed`` seeds in order, a ``deterministic`` run has one seed, every seed has the same
metrics and predicts the same ``n_test`` networks, and each summary ``mean``/``std`` is the mean and
sample standard deviation (:func:`~gmn_bench.evaluation.stats.mean_std`) of the per-seed values.
"""
from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import jsonschema
import torch

from ..tasks import TASKS, Task, zoo_fingerprint
from ..tasks.inputs import WEIGHTS
from . import stats

RESULTS_SCHEMA_ID = "gmn-bench/results/v2"
PARAMETER_PREDICTION_SCHEMA_ID = "gmn-bench/parameter-prediction-results/v1"
SCHEMA_FILES = {RESULTS_SCHEMA_ID: "results.json", PARAMETER_PREDICTION_SCHEMA_ID: "parameter-prediction-results.json"}
SCHEMA_DIR = Path(__file__).with_name("schemas")


class ResultsFormatError(ValueError):
    """A results file that does not follow its schema; the message names the file, place and problem."""


@lru_cache(maxsize=None)
def results_schema(schema_id: str = RESULTS_SCHEMA_ID) -> dict:
    """The JSON Schema of the results format ``schema_id`` (a key of :data:`SCHEMA_FILES`)."""
    if schema_id not in SCHEMA_FILES:
        raise ResultsFormatError(f"unknown results format {schema_id!r}; expected one of {sorted(SCHEMA_FILES)}")
    return json.loads((SCHEMA_DIR / SCHEMA_FILES[schema_id]).read_text())


def check_schema(document: Any, where: str = "results") -> str:
    """Check ``document`` against the schema its ``"schema"`` field names; return that id.
    Raises :class:`ResultsFormatError` naming ``where``, the place (JSON path) and the problem."""
    schema_id = document.get("schema") if isinstance(document, Mapping) else None
    if schema_id not in SCHEMA_FILES:
        raise ResultsFormatError(f"{where}: at schema: {schema_id!r} is not a results format "
                                 f"({', '.join(sorted(SCHEMA_FILES))})")
    validator = jsonschema.Draft202012Validator(results_schema(schema_id), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        e = errors[0]
        place = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ResultsFormatError(f"{where}: at {place}: {e.message}{more}")
    return schema_id


def _read(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsFormatError(f"{path}: not a readable JSON file: {e}") from e


def validate_results(results: "str | Path | Mapping[str, Any] | Results") -> dict:
    """Check a results file (path), dict or :class:`Results` of either format against its schema
    (and, for ``gmn-bench/results/v2``, for consistency: :meth:`Results.from_json`); return the dict."""
    where = str(results) if isinstance(results, (str, Path)) else "results"
    if isinstance(results, Results):
        results = results.to_json()
    document = _read(results) if isinstance(results, (str, Path)) else dict(results)
    if check_schema(document, where) == RESULTS_SCHEMA_ID:
        Results.from_json(document, where)
    return document


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """The ``environment`` block of a results file (``torch_threads``: torch's CPU threads when it was
    made, which a bitwise rerun needs)."""
    from .. import __version__

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "gmn_bench_version": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "hardware": {"cpu": _cpu_model(), "cores": cores,
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
    }


def created_now() -> str:
    """The ``created`` timestamp of a results file: UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uncertainty_settings() -> dict:
    """The ``uncertainty`` block: how the intervals of a results file were computed."""
    return {"method": stats.METHOD, "confidence": stats.CONFIDENCE, "n_resamples": stats.N_RESAMPLES,
            "seed": stats.SEED}


@dataclass(frozen=True)
class SeedResult:
    """Test metrics and predictions of one seed; ``best_epoch`` is None for models without epochs."""

    seed: int
    metrics: dict[str, float]
    predictions: dict[str, Any]
    best_epoch: int | None
    train_seconds: float


@dataclass(frozen=True)
class Summary:
    """One metric over a results file: mean and sample std over seeds (``None`` for one run) and
    the bootstrap interval over test networks of the seed-averaged metric."""

    mean: float
    std: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class ZooRef:
    """Which zoo a result was measured on."""

    path_or_repo_id: str
    revision: str | None
    fingerprint: str


@dataclass(frozen=True)
class MetanetInfo:
    """The metanet of a result: its name, parameter count (None for tree ensembles), hyperparameters,
    the fingerprint of its code (:func:`~gmn_bench.evaluation.provenance.code_fingerprint`; None when
    unknown: a class without a source file, or a file written before fingerprints) and its track (the
    input view it read, :mod:`gmn_bench.tasks.inputs`; files without one: ``"weights"``)."""

    name: str
    n_params: int | None
    hparams: dict[str, Any]
    code: dict[str, Any] | None = None
    track: str = WEIGHTS


@dataclass(frozen=True)
class Tuning:
    """A hyperparameter searched on the validation split: the grid, each value's validation
    score (per seed and mean) and the value chosen."""

    hparam: str
    grid: list[float]
    chosen: float
    selection: str
    validation: list[dict[str, Any]]


def summarize(task: Task, per_seed: Sequence[SeedResult]) -> dict[str, Summary]:
    """Every metric of ``per_seed`` (test predictions of ``task``) as a :class:`Summary`."""
    truth = task.targets("test")
    predictions = [[r.predictions[m] for m in truth] for r in per_seed]
    out = {}
    for metric in task.metrics:
        mean, std = stats.mean_std([r.metrics[metric] for r in per_seed])
        low, high = stats.interval(metric, list(truth.values()), predictions)
        out[metric] = Summary(mean, std, low, high)
    return out


@dataclass(frozen=True)
class Results:
    """One metanet on one task of one zoo: the typed form of a ``gmn-bench/results/v2`` file.

    ``zoo`` is the zoo the task trains and selects on; ``test_zoo`` the zoo it tests on when that is
    another one (a cross-zoo task, :class:`gmn_bench.tasks.CrossZooTask`), else None.

    :meth:`build` assembles it from per-seed results; :meth:`save` / :meth:`load` write and read
    the JSON file (validated both ways); :meth:`to_json` / :meth:`from_json` convert.
    """

    task: str
    config: str
    target: str
    task_type: str
    zoo: ZooRef
    metanet: MetanetInfo
    protocol: dict[str, Any]
    tuning: Tuning | None
    deterministic: bool
    per_seed: list[SeedResult]
    n_test: int
    metrics: dict[str, Summary]
    test_zoo: ZooRef | None = None
    environment: dict[str, Any] = field(default_factory=environment)
    timings: dict[str, float] = field(default_factory=dict)
    created: str = field(default_factory=created_now)
    uncertainty: dict[str, Any] = field(default_factory=uncertainty_settings)

    schema: ClassVar[str] = RESULTS_SCHEMA_ID

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.per_seed]

    @classmethod
    def build(cls, task: Task, fingerprint: str, metanet: MetanetInfo, protocol: Mapping[str, Any],
              tuning: Tuning | None, per_seed: Sequence[SeedResult], deterministic: bool,
              total_seconds: float) -> "Results":
        """The results of ``per_seed`` on ``task``, summarized (:func:`summarize`) and stamped now."""
        return cls(task.name, task.config, task.target, task.task_type,
                   ZooRef(task.zoo, task.revision, fingerprint), metanet, dict(protocol), tuning, deterministic,
                   list(per_seed), len(per_seed[0].predictions), summarize(task, per_seed), cross_zoo_ref(task),
                   timings={"total_seconds": total_seconds})

    def to_json(self) -> dict:
        """The JSON document (``schema`` first)."""
        document = {"schema": self.schema, **asdict(self)}
        document["seeds"] = self.seeds
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "results") -> "Results":
        """Validate ``document`` (schema and consistency) and return it typed; raises
        :class:`ResultsFormatError` naming ``where``, the place and the problem."""
        if check_schema(document, where) != RESULTS_SCHEMA_ID:
            raise ResultsFormatError(f"{where}: a {document['schema']} file, not {RESULTS_SCHEMA_ID}")
        problems = _consistency_problems(document)
        if problems:
            raise ResultsFormatError(f"{where}: " + "; ".join(problems))
        fields = {k: document[k] for k in ("task", "config", "target", "task_type", "protocol", "deterministic",
                                           "n_test", "environment", "timings", "created", "uncertainty")}
        tuning, test_zoo = document["tuning"], document.get("test_zoo")
        return cls(**fields, zoo=ZooRef(**document["zoo"]), metanet=MetanetInfo(**document["metanet"]),
                   test_zoo=ZooRef(**test_zoo) if test_zoo is not None else None,
                   tuning=Tuning(**tuning) if tuning is not None else None,
                   per_seed=[SeedResult(**r) for r in document["per_seed"]],
                   metrics={m: Summary(**s) for m, s in document["metrics"].items()})

    def save(self, path: str | Path) -> Path:
        """Validate and write the results as indented JSON to ``path`` (folders created); returns ``path``."""
        document = self.to_json()
        Results.from_json(document, str(path))
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Results":
        """The validated results file at ``path``."""
        return cls.from_json(_read(path), str(path))


def cross_zoo_ref(task: Task) -> ZooRef | None:
    """The test zoo of a cross-zoo task (:class:`~gmn_bench.tasks.CrossZooTask`), fingerprinted now; else None."""
    zoo, revision = getattr(task, "test_zoo", None), getattr(task, "test_revision", None)
    return None if zoo is None else ZooRef(zoo, revision, zoo_fingerprint(zoo, revision))


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _consistency_problems(results: Mapping[str, Any]) -> list[str]:
    per_seed = results["per_seed"]
    problems = []
    definition = TASKS.get(results["task"])
    cross_zoo = definition is not None and definition.test_zoo is not None
    if cross_zoo != (results.get("test_zoo") is not None):
        problems.append(f"task {results['task']} is a cross-zoo task: its results must name the test zoo (test_zoo)"
                        if cross_zoo else f"task {results['task']} tests on its own zoo, but test_zoo is set")
    if results["seeds"] != [r["seed"] for r in per_seed]:
        problems.append(f"seeds {results['seeds']} do not match the per_seed seeds {[r['seed'] for r in per_seed]}")
    if results["deterministic"] and len(per_seed) != 1:
        problems.append(f"a deterministic metanet is run once, but there are {len(per_seed)} seeds")
    for r in per_seed:
        if set(r["metrics"]) != set(results["metrics"]):
            problems.append(f"per_seed seed {r['seed']}: metrics {sorted(r['metrics'])} differ from the summary's "
                            f"{sorted(results['metrics'])}")
        if set(r["predictions"]) != set(per_seed[0]["predictions"]):
            problems.append(f"per_seed seed {r['seed']}: predicts other model ids than seed {per_seed[0]['seed']}")
    if results["n_test"] != len(per_seed[0]["predictions"]):
        problems.append(f"n_test {results['n_test']} is not the {len(per_seed[0]['predictions'])} predicted networks")
    for name, summary in results["metrics"].items():
        values = [r["metrics"].get(name) for r in per_seed]
        if None in values:
            continue
        mean, std = stats.mean_std(values)
        if not _close(summary["mean"], mean):
            problems.append(f"metrics.{name}.mean {summary['mean']} is not the mean of the per-seed values {values}")
        if not _close(summary["std"], std):
            problems.append(f"metrics.{name}.std {summary['std']} is not the sample std of the per-seed values {values}")
        if summary["ci_low"] > summary["ci_high"]:
            problems.append(f"metrics.{name}: ci_low {summary['ci_low']} is above ci_high {summary['ci_high']}")
    tuning = results["tuning"]
    if tuning is not None and tuning["chosen"] not in tuning["grid"]:
        problems.append(f"tuning.chosen {tuning['chosen']} is not in the grid {tuning['grid']}")
    return problems
