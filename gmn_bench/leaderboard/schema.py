"""The documented format of a submission (JSON Schema, draft 2020-12) and the limits on its size.

A submission is one folder ``submissions/<submission-id>/`` holding exactly:

* ``submission.json``: the manifest, :data:`SUBMISSION_SCHEMA` (metanet name, parameter count,
  paper and code links, authors, zoo repo id / revision / fingerprint, the submitter's own
  packaging time, tasks);
* ``<task>.json`` for every task the manifest lists: the ``gmn-bench evaluate`` results file,
  :data:`RESULTS_SCHEMA` (the one schema of the format, ``gmn_bench/evaluation/schemas/results.json``),
  whose ``per_seed[*].predictions`` map every test ``model_id`` to a prediction (a number, or a
  class label for classification tasks).

Nothing else: no other names, sub-folders, links or executable files, and nothing beyond
:data:`LIMITS`. The predictions are re-scored by the leaderboard; the ``metrics`` a file claims are
only compared with them. What a submission cannot state about itself is kept by the board
(:mod:`gmn_bench.leaderboard.ledger`): when it was first seen, and whether it is a reference entry.

Patterns are ECMA-262 regular expressions, as JSON Schema defines them: ``$`` matches only at the
very end of the text (the board's validator holds Python to that; see
:func:`gmn_bench.leaderboard.validate.check_schema`).
"""
from __future__ import annotations

from dataclasses import dataclass

from gmn_bench.evaluation.results import results_schema

SUBMISSION_FORMAT = "gmn-bench/submission/v2"
RESULTS_SCHEMA = results_schema()
MANIFEST_NAME = "submission.json"
ID_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]|\.(?!\.)){0,95}$"
"""Submission ids: lower-case letters, digits, ``-``, ``_`` and single dots; at most 96 characters."""
TASK_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,95}$"
_NO_CONTROL = "\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
"""Control, format (bidi overrides, zero-width) and line-separator characters: never in submitted text."""


@dataclass(frozen=True)
class Limits:
    """What one submission may hold, so that none can hold up the board (checked before any scoring)."""

    file_bytes: int = 8 * 2**20  # one results file of a few thousand test networks is far below
    files: int = 16  # entries in the folder (the manifest and one results file per task)
    depth: int = 16  # nesting of JSON objects and arrays
    seeds: int = 20  # seeds per results file
    predictions: int = 50_000  # predictions per seed
    key_chars: int = 200  # characters of a JSON object key
    seconds: float = 10.0  # wall-clock time to check and re-score one submission


LIMITS = Limits()

_URL = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": r"^https?://[^\s\"'<>\\" + _NO_CONTROL + "]+$",
                                     "maxLength": 500}]}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^" + _NO_CONTROL + "]+$"}
_FINGERPRINT = {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}$"}
_REVISION = {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 1, "maxLength": 100,
                                          "pattern": "^[^" + _NO_CONTROL + "]+$"}]}
_N_PARAMS = {"type": ["integer", "null"], "minimum": 0, "maximum": 2**53}  # null: no parameter count (e.g. trees)

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
    "required": ["schema", "id", "metanet", "authors", "zoo", "submitted", "tasks"],
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
        "zoo": {**ZOO_SCHEMA, "additionalProperties": False},
        "submitted": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                      "description": "when the submitter packaged it (their clock): shown nowhere, ranks nothing"},
        "tasks": {"type": "array", "minItems": 1, "maxItems": 64, "uniqueItems": True,
                  "items": {"type": "string", "pattern": TASK_NAME_PATTERN}},
    },
}
