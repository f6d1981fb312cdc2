"""Reference entries the shipped code no longer makes.

A results file records the fingerprint of its metanet's code (``metanet.code``:
:func:`gmn_bench.evaluation.provenance.code_fingerprint`) and the commit that made it. A reference
entry (the board's own, :func:`gmn_bench.leaderboard.add_references`) is *stale* when, on some task,
the fingerprint of that metanet's code today differs from the recorded one, or none was recorded:
its numbers may no longer be what ``gmn-bench evaluate`` gives. A stale entry is shown, marked with
the commit it was made at, below the current entries and without a rank; ``gmn-bench leaderboard
--strict`` fails while any is left. Submissions from others are not checked: their code is theirs.
"""
from __future__ import annotations

from gmn_bench.evaluation.provenance import code_fingerprint
from gmn_bench.metanets import METANETS

from .validate import TaskScore


def stale_reason(metanet: str, score: TaskScore) -> str | None:
    """Why the reference entry of ``metanet`` scored ``score`` is stale, or ``None`` if the code of the
    registered metanet of that name still has the recorded fingerprint."""
    made = f"made at {score.commit[:12]}" if score.commit else "made at an unknown commit"
    cls = METANETS.get(metanet)
    if cls is None:
        return f"stale — gmn-bench has no metanet {metanet!r} any more ({made})"
    if score.code_fingerprint is None:
        return f"stale — {made}, before code fingerprints were recorded"
    current = code_fingerprint(cls)
    if current is None or current["fingerprint"] != score.code_fingerprint:
        return f"stale — code changed since it was {made}"
    return None
