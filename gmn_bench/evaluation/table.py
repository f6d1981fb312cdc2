"""The comparison table: per task, one row per metanet and one column per metric (``mean ± std``)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence


def _block(task: str, results: Sequence[Mapping[str, Any]]) -> list[str]:
    metrics = list(results[0]["metrics"])
    header = [f"{task} ({len(results[0]['seeds'])} seeds)"] + metrics
    body = [[r["metanet"]["name"]] + [f"{r['metrics'][m]['mean']:.3f} ± {r['metrics'][m]['std']:.3f}" for m in metrics]
            for r in results]
    widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header] + body]
    return [lines[0], "  ".join("-" * w for w in widths)] + lines[1:]


def comparison_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Plain text: a block per task (first-seen order), rows metanets, columns the task's metrics."""
    tasks = list(dict.fromkeys(r["task"] for r in results))
    blocks = [_block(t, [r for r in results if r["task"] == t]) for t in tasks]
    return "\n\n".join("\n".join(b) for b in blocks)
