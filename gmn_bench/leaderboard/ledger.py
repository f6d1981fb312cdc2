"""The board's own record of its submissions (``ledger.json``, board data beside ``submissions/``).

A submission states when it was packaged, but anyone can write any date, so the board dates
entries by its own record instead: the first time a rebuild saw the folder (its ``sequence`` in
the order the board saw submissions, and the board's clock then), with a sha256 of its files. A
folder whose files change is seen anew: a new sequence number and date. Whether an entry is a
reference entry is recorded here too, only by :func:`gmn_bench.leaderboard.add_references` (the
maintainers' ``--add-reference``), never taken from a manifest.

Commit ``ledger.json`` with the board (and keep it in the board's Hub repo): rebuilding from the
same ledger and submissions gives the same pages.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

LEDGER_NAME = "ledger.json"
LEDGER_FORMAT = "gmn-bench/ledger/v1"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class LedgerError(ValueError):
    """A ledger file that is not the board's record; the message says what is wrong."""


@dataclass(frozen=True)
class Record:
    """What the board knows of one submission: when it first saw it, its files then, and whether it is a reference."""

    sequence: int
    first_seen: str
    digest: str
    reference: bool = False


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise LedgerError(f"not a gmn-bench ledger: expected {what}")


def utc_now() -> str:
    """The board's clock: now, UTC, to the second (``2026-11-23T06:00:00Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Ledger:
    """``submission id -> Record``, read from and written to ``ledger.json``."""

    def __init__(self, records: dict[str, Record] | None = None):
        self.records: dict[str, Record] = dict(records or {})

    @classmethod
    def load(cls, path: str | Path) -> "Ledger":
        """The ledger in ``path``; an empty one if there is no such file."""
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            _require(isinstance(document, dict) and document.get("schema") == LEDGER_FORMAT,
                     f"schema {LEDGER_FORMAT!r}")
            records = {sid: Record(**fields) for sid, fields in document["submissions"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise LedgerError(f"{path} is not a gmn-bench ledger ({type(e).__name__}: {e})") from None
        for sid, r in records.items():
            where = f"{path}: {sid}:"
            _require(isinstance(r.sequence, int) and not isinstance(r.sequence, bool), f"{where} integer sequence")
            _require(isinstance(r.first_seen, str) and bool(_TIME.fullmatch(r.first_seen)), f"{where} first_seen time")
            _require(isinstance(r.digest, str) and bool(_DIGEST.fullmatch(r.digest)), f"{where} sha256 digest")
            _require(isinstance(r.reference, bool), f"{where} boolean reference")
        _require(len({r.sequence for r in records.values()}) == len(records), f"{path}: distinct sequence numbers")
        return cls(records)

    def text(self) -> str:
        """The ledger file's text: sorted, indented JSON (the same records give the same bytes)."""
        document = {"schema": LEDGER_FORMAT, "submissions": {sid: asdict(r) for sid, r in sorted(self.records.items())}}
        return json.dumps(document, indent=2) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the ledger (:meth:`text`) to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(), encoding="utf-8")
        return path

    def see(self, submission_id: str, digest: str, now: Callable[[], str] = utc_now, reference: bool = False) -> Record:
        """The record of ``submission_id`` with files ``digest``: kept if the board saw these files
        before, else a new one (next sequence number, first seen ``now()``). ``reference`` marks the
        record as a reference entry (:func:`gmn_bench.leaderboard.add_references` only)."""
        record = self.records.get(submission_id)
        if record is None or record.digest != digest:
            sequence = 1 + max((r.sequence for r in self.records.values()), default=0)
            record = Record(sequence, now(), digest, reference)
        elif reference and not record.reference:
            record = Record(record.sequence, record.first_seen, digest, True)
        self.records[submission_id] = record
        return record
