"""Fixed split assignment for a zoo: in-distribution by a stable hash of ``model_id``, and
out-of-distribution configs (a held-out family, a size shift).

Every function labels *networks* (by ``model_id``), so all checkpoints of one network
always fall in the same split. The labels depend only on the set of ids (and sizes), never
on row order.
"""
from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

ID_FRACTIONS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))


def stable_unit(model_id: str, salt: str = "gmn-bench") -> float:
    """A number in [0, 1) fixed by ``model_id`` alone (sha256, independent of Python's hash seed)."""
    digest = hashlib.sha256(f"{salt}:{model_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def id_splits(model_ids, fractions: Sequence[tuple[str, float]] = ID_FRACTIONS) -> dict[str, str]:
    """In-distribution split labels: networks ordered by a stable hash of their id, then cut at
    the cumulative ``fractions``, so even a small zoo gets its exact share of test networks."""
    ordered = sorted(set(model_ids), key=stable_unit)
    labels, start, edge = {}, 0, 0.0
    for label, fraction in fractions:
        edge += fraction
        end = len(ordered) if label == fractions[-1][0] else round(edge * len(ordered))
        labels.update((m, label) for m in ordered[start:end])
        start = end
    return labels


def held_out_family_split(model_id: str, family: str, held_out: str) -> str:
    """``test`` for the held-out family; the others split train/validation by hash (90/10)."""
    if family == held_out:
        return "test"
    return "validation" if stable_unit(model_id, "ood-family") < 0.1 else "train"


def size_shift_splits(n_params: Mapping[str, int], test_quantile: float = 0.8) -> dict[str, str]:
    """Networks at or above the ``test_quantile`` of parameter count are ``test``; the smaller
    ones split train/validation by hash (90/10). ``n_params`` maps model_id -> parameter count."""
    if not n_params:
        return {}
    sizes = sorted(n_params.values())
    threshold = sizes[min(len(sizes) - 1, int(test_quantile * len(sizes)))]
    return {
        m: "test" if n >= threshold else ("validation" if stable_unit(m, "ood-size") < 0.1 else "train")
        for m, n in n_params.items()
    }


def assign_splits(rows: list[dict], held_out_family: str | None = "vit", size_quantile: float = 0.8,
                  id_fractions: Sequence[tuple[str, float]] = ID_FRACTIONS) -> list[dict]:
    """Add ``split_id`` (shares ``id_fractions``), ``split_ood_family`` (if ``held_out_family`` is present
    in the rows) and ``split_ood_size`` (if the networks differ in size) columns to zoo rows, in place;
    returns ``rows``."""
    families = {r["family"] for r in rows}
    n_params = {r["model_id"]: r["n_params"] for r in rows}
    sizes = size_shift_splits(n_params, size_quantile) if len(set(n_params.values())) > 1 else {}
    in_distribution = id_splits(n_params, id_fractions)
    for row in rows:
        row["split_id"] = in_distribution[row["model_id"]]
        if held_out_family in families:
            row["split_ood_family"] = held_out_family_split(row["model_id"], row["family"], held_out_family)
        if sizes:
            row["split_ood_size"] = sizes[row["model_id"]]
    return rows
