"""Results files (``gmn-bench/results/v1``): assemble, write, read back and validate.

The format is the JSON Schema ``results_schema.json`` beside this module, plus consistency
checks a schema cannot state (:func:`validate_results`): ``seeds`` lists the ``per_seed``
seeds in order, every seed has the same metrics and predicts the same model ids, and the
summary ``metrics`` are the mean and standard deviation of the per-seed values.
"""
from __future__ import annotations

import json
import math
import statistics
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import jsonschema

from ..tasks import Task
from .environment import environment
from .seed_result import SeedResult

SCHEMA_ID = "gmn-bench/results/v1"
SCHEMA_PATH = Path(__file__).with_name("results_schema.json")


class ResultsFormatError(ValueError):
    """A results file that does not follow the schema; the message names the file, place and problem."""


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
