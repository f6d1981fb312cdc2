"""Results files (``gmn-bench/results/v1``): one seed's outcome, where it was measured, and the
file itself: assemble, write, read back and validate.

The format is the JSON Schema ``results_schema.json`` beside this module, plus consistency
checks a schema cannot state (:func:`validate_results`): ``seeds`` lists the ``per_seed``
seeds in order, every seed has the same metrics and predicts the same model ids, and the
summary ``metrics`` are the mean and standard deviation of the per-seed values.
"""
from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import jsonschema
import torch

from ..tasks import Task, classification_metrics, regression_metrics

SCHEMA_ID = "gmn-bench/results/v1"
SCHEMA_PATH = Path(__file__).with_name("results_schema.json")


class ResultsFormatError(ValueError):
    """A results file that does not follow the schema; the message names the file, place and problem."""


@dataclass
class SeedResult:
    """Test metrics and predictions of one seed; ``best_epoch`` is None for models without epochs."""

    seed: int
    metrics: dict[str, float]
    predictions: dict[str, Any]
    best_epoch: int | None
    train_seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def split_metrics(task: Task, split: str, predictions: Mapping[str, Any]) -> dict[str, float]:
    """The task's metrics of ``predictions`` (keyed by model_id, covering the split) on ``split``."""
    truth = task.targets(split)
    ids = sorted(truth)
    y_true, y_pred = [truth[m] for m in ids], [predictions[m] for m in ids]
    return (regression_metrics if task.task_type == "regression" else classification_metrics)(y_true, y_pred)


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
    """The ``environment`` block of a results file."""
    from .. import __version__

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "gmn_bench_version": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "hardware": {"cpu": _cpu_model(), "cores": cores,
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
    }


def created_now() -> str:
    """The ``created`` timestamp of a results file: UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def results_schema() -> dict:
    """The JSON Schema of results files."""
    return json.loads(SCHEMA_PATH.read_text())


def summarize(per_seed: Sequence[SeedResult]) -> dict[str, dict[str, float]]:
    """``{metric: {"mean", "std"}}`` over seeds (population standard deviation; 0 for one seed)."""
    names = per_seed[0].metrics
    return {m: {"mean": statistics.fmean(r.metrics[m] for r in per_seed),
                "std": statistics.pstdev([r.metrics[m] for r in per_seed])} for m in names}


def make_results(task: Task, fingerprint: str, metanet: Mapping[str, Any], protocol: Mapping[str, Any],
                 per_seed: Sequence[SeedResult], total_seconds: float) -> dict:
    """A results dict (``metanet`` holds ``name``, ``n_params``, ``config``)."""
    return {
        "schema": SCHEMA_ID,
        "task": task.name, "config": task.config, "target": task.target, "task_type": task.task_type,
        "zoo": {"path_or_repo_id": task.zoo, "revision": task.revision, "fingerprint": fingerprint},
        "metanet": dict(metanet),
        "protocol": dict(protocol),
        "seeds": [r.seed for r in per_seed],
        "per_seed": [r.to_json() for r in per_seed],
        "metrics": summarize(per_seed),
        "environment": environment(),
        "timings": {"total_seconds": total_seconds},
        "created": created_now(),
    }


def _consistency_problems(results: Mapping[str, Any]) -> list[str]:
    per_seed = results["per_seed"]
    problems = []
    if results["seeds"] != [r["seed"] for r in per_seed]:
        problems.append(f"seeds {results['seeds']} do not match the per_seed seeds {[r['seed'] for r in per_seed]}")
    for r in per_seed:
        if set(r["metrics"]) != set(results["metrics"]):
            problems.append(f"per_seed seed {r['seed']}: metrics {sorted(r['metrics'])} differ from the summary's "
                            f"{sorted(results['metrics'])}")
        if set(r["predictions"]) != set(per_seed[0]["predictions"]):
            problems.append(f"per_seed seed {r['seed']}: predicts other model ids than seed {per_seed[0]['seed']}")
    for name, summary in results["metrics"].items():
        values = [r["metrics"].get(name) for r in per_seed]
        if None not in values and not math.isclose(summary["mean"], statistics.fmean(values), rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"metrics.{name}.mean {summary['mean']} is not the mean of the per-seed values {values}")
    return problems


def validate_results(results: str | Path | Mapping[str, Any]) -> dict:
    """Check a results file (path) or dict against the schema and for consistency; return the dict.

    Raises :class:`ResultsFormatError` naming the file, the place (JSON path) and the problem.
    """
    where = str(results) if isinstance(results, (str, Path)) else "results"
    if isinstance(results, (str, Path)):
        try:
            results = json.loads(Path(results).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ResultsFormatError(f"{where}: not a readable JSON file: {e}") from e
    validator = jsonschema.Draft202012Validator(results_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        place = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ResultsFormatError(f"{where}: at {place}: {e.message}{more}")
    problems = _consistency_problems(results)
    if problems:
        raise ResultsFormatError(f"{where}: " + "; ".join(problems))
    return dict(results)


def write_results(results: Mapping[str, Any], path: str | Path) -> Path:
    """Validate ``results`` and write it as indented JSON to ``path`` (folders created)."""
    validate_results(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
