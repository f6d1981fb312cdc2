"""Predicted-vs-true plot of a results file (matplotlib, Agg backend), titled with its metrics."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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
