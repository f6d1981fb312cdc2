"""Plots for a zoo's dataset card: final test accuracy per family, and accuracy vs parameter count."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PLOTS = {"accuracy_histogram.png": "Final test accuracy per family",
         "accuracy_vs_params.png": "Final test accuracy vs parameter count"}


def final_checkpoints(rows: Sequence[Mapping]) -> list[Mapping]:
    """The last-epoch row of every network."""
    final: dict = {}
    for row in rows:
        if row["model_id"] not in final or row["epoch"] > final[row["model_id"]]["epoch"]:
            final[row["model_id"]] = row
    return list(final.values())


def write_card_plots(rows: Sequence[Mapping], folder: Path) -> list[str]:
    """Write the card's PNG plots under ``folder/plots``; returns their paths relative to ``folder``.
    Nothing is drawn when no row has a measured test accuracy."""
    final = [r for r in final_checkpoints(rows) if r.get("test_acc") is not None]
    if not final:
        return []
    families = sorted({r["family"] for r in final})
    (folder / "plots").mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([[r["test_acc"] for r in final if r["family"] == f] for f in families], bins=20, label=families, stacked=True)
    ax.set(xlabel="final test accuracy", ylabel="networks", title=PLOTS["accuracy_histogram.png"])
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "plots" / "accuracy_histogram.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for f in families:
        ax.scatter([r["n_params"] for r in final if r["family"] == f], [r["test_acc"] for r in final if r["family"] == f],
                   label=f, s=12)
    ax.set(xscale="log", xlabel="trainable parameters", ylabel="final test accuracy", title=PLOTS["accuracy_vs_params.png"])
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "plots" / "accuracy_vs_params.png", dpi=100)
    plt.close(fig)
    return [f"plots/{name}" for name in PLOTS]
