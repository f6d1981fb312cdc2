"""Human-readable views of results: the comparison table (per task, one line per metanet, one
column per metric, ``mean ± std``) and the predicted-vs-true plot of a results file.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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


def _title(results: Mapping[str, Any]) -> str:
    metrics = ", ".join(f"{m} {s['mean']:.3f}±{s['std']:.3f}" for m, s in results["metrics"].items())
    return f"{results['metanet']['name']} on {results['task']} ({len(results['seeds'])} seeds)\n{metrics}"


def plot_results(results: Mapping[str, Any], truth: Mapping[str, Any], path: str | Path) -> Path:
    """Save predicted vs true test values (every seed; a confusion matrix for classification) to ``path``."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    if results["task_type"] == "regression":
        for r in results["per_seed"]:
            ids = sorted(r["predictions"])
            ax.scatter([truth[m] for m in ids], [r["predictions"][m] for m in ids], s=18, alpha=0.7,
                       label=f"seed {r['seed']}")
        lo = min(min(truth.values()), *(min(r["predictions"].values()) for r in results["per_seed"]))
        hi = max(max(truth.values()), *(max(r["predictions"].values()) for r in results["per_seed"]))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
        ax.set_xlabel(f"true {results['target']}")
        ax.set_ylabel(f"predicted {results['target']}")
        ax.legend(fontsize=8)
    else:
        classes = sorted(set(truth.values()) | {v for r in results["per_seed"] for v in r["predictions"].values()})
        counts = Counter((truth[m], v) for r in results["per_seed"] for m, v in r["predictions"].items())
        grid = [[counts[(t, p)] for p in classes] for t in classes]
        ax.imshow(grid, cmap="Blues")
        top = max(max(row) for row in grid)
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center", color="white" if n > top / 2 else "black")
        ax.set_xticks(range(len(classes)), classes)
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted (counts over all seeds)")
        ax.set_ylabel("true")
    ax.set_title(_title(results), fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
