"""The documented format of a submission (JSON Schema, draft 2020-12).

A submission is one folder ``submissions/<submission-id>/`` holding exactly:

* ``submission.json``: the manifest, :data:`SUBMISSION_SCHEMA` (metanet name, parameter count,
  paper and code links, authors, zoo repo id / revision / fingerprint, submission time, tasks);
* ``<task>.json`` for every task the manifest lists: the ``gmn-bench evaluate`` results file,
  :data:`RESULTS_SCHEMA` (the one schema of the format, ``gmn_bench/evaluation/schemas/results.json``),
  whose ``per_seed[*].predictions`` map every test ``model_id`` to a prediction (a number, or a
  class label for classification tasks).

Nothing else: no other names, sub-folders, links or executable files. The predictions are
re-scored by the leaderboard; the ``metrics`` a file claims are only compared with them.
"""
from __future__ import annotations

from gmn_bench.evaluation.results import results_schema

SUBMISSION_FORMAT = "gmn-bench/submission/v1"
RESULTS_SCHEMA = results_schema()
MANIFEST_NAME = "submission.json"
ID_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]|\.(?!\.)){0,95}$"
"""Submission ids: lower-case letters, digits, ``-``, ``_`` and single dots; at most 96 characters."""
TASK_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,95}$"

_URL = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": r"^https?://[^\s\"'<>]+$", "maxLength": 500}]}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
_FINGERPRINT = {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}$"}
_REVISION = {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 1, "maxLength": 100}]}
_N_PARAMS = {"type": ["integer", "null"], "minimum": 0}  # null: no parameter count (e.g. tree ensembles)

ZOO_SCHEMA = {
    "type": "object",
    "required": ["path_or_repo_id", "revision", "fingerprint"],
    "properties": {"path_or_repo_id": {"type": "string", "minLength": 1, "maxLength": 500},
                   "revision": _REVISION, "fingerprint": _FINGERPRINT},
}

SUBMISSION_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "gmn-bench leaderboard submission manifest",
    "type": "object",
    "required": ["schema", "id", "metanet", "authors", "zoo", "submitted", "tasks", "reference"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SUBMISSION_FORMAT},
        "id": {"type": "string", "pattern": ID_PATTERN},
        "metanet": {
            "type": "object",
            "required": ["name", "n_params", "paper", "code"],
            "additionalProperties": False,
            "properties": {"name": _TEXT, "n_params": _N_PARAMS, "paper": _URL, "code": _URL},
        },
        "authors": {"type": "array", "minItems": 1, "maxItems": 50, "items": _TEXT},
        "zoo": ZOO_SCHEMA,
        "submitted": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"},
        "tasks": {"type": "array", "minItems": 1, "uniqueItems": True,
                  "items": {"type": "string", "pattern": TASK_NAME_PATTERN}},
        "reference": {"type": "boolean"},
    },
}
