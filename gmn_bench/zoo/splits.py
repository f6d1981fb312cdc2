"""Fixed split assignment for a zoo: in-distribution by a stable hash of ``model_id``, and
out-of-distribution configs (a held-out family, a size shift).

Every label is a function of one network alone -- its ``model_id``, ``family`` and ``n_params``
and constants fixed in the recipe (the ``id`` shares, the held-out family, the size threshold)
-- never of the rest of the zoo. So all checkpoints of one network fall in the same split, and a
network keeps its labels when the zoo is rebuilt in part or grows in a new revision. The price:
a split's share of a zoo is its expected share, not an exact count (a zoo of ``n`` networks has
about ``fraction * n`` test networks, and a tiny zoo may have none).
"""
from __future__ import annotations

import hashlib
from typing import Sequence

ID_FRACTIONS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))
OOD_VALIDATION_SHARE = 0.1
"""The share of the networks outside an OOD test set that goes to validation (by hash)."""


def stable_unit(model_id: str, salt: str = "gmn-bench") -> float:
    """A number in [0, 1) fixed by ``model_id`` alone (sha256, independent of Python's hash seed)."""
    digest = hashlib.sha256(f"{salt}:{model_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def id_split(model_id: str, fractions: Sequence[tuple[str, float]] = ID_FRACTIONS) -> str:
    """The in-distribution label of one network: the first of ``fractions`` (label, share) whose
    cumulative share exceeds :func:`stable_unit` of ``model_id`` (default: below 0.8 ``train``,
    below 0.9 ``validation``, else ``test``)."""
    unit, edge = stable_unit(model_id), 0.0
    for label, fraction in fractions:
        edge += fraction
        if unit < edge:
            return label
    return fractions[-1][0]  # shares summing to 1 up to rounding


def _train_or_validation(model_id: str, salt: str) -> str:
    return "validation" if stable_unit(model_id, salt) < OOD_VALIDATION_SHARE else "train"


def held_out_family_split(model_id: str, family: str, held_out: str) -> str:
    """``test`` for the held-out family; the others split train/validation by hash (90/10)."""
    return "test" if family == held_out else _train_or_validation(model_id, "ood-family")


def size_split(model_id: str, n_params: int, min_params: int) -> str:
    """``test`` for a network of at least ``min_params`` parameters (the threshold a recipe fixes:
    ``ood_size_min_params``); the smaller ones split train/validation by hash (90/10)."""
    return "test" if n_params >= min_params else _train_or_validation(model_id, "ood-size")


def assign_splits(rows: list[dict], held_out_family: str | None = "vit", ood_size_min_params: int | None = None,
                  id_fractions: Sequence[tuple[str, float]] = ID_FRACTIONS) -> list[dict]:
    """Add split-label columns to zoo rows, in place; returns ``rows``: ``split_id`` (expected shares
    ``id_fractions``, :func:`id_split`), ``split_ood_family`` if ``held_out_family`` is present in the
    rows (:func:`held_out_family_split`) and ``split_ood_size`` if ``ood_size_min_params`` is given
    (:func:`size_split`)."""
    shares = dict(id_fractions)
    if set(shares) != {"train", "validation", "test"} or min(shares.values()) <= 0 or abs(sum(shares.values()) - 1) > 1e-9:
        raise ValueError(f"id_fractions must give positive train, validation and test shares summing to 1, "
                         f"got {id_fractions!r}")
    if ood_size_min_params is not None and (isinstance(ood_size_min_params, bool)
                                            or not isinstance(ood_size_min_params, int) or ood_size_min_params < 1):
        raise ValueError(f"ood_size_min_params must be a positive integer, got {ood_size_min_params!r}")
    families = {r["family"] for r in rows}
    for row in rows:
        row["split_id"] = id_split(row["model_id"], id_fractions)
        if held_out_family in families:
            row["split_ood_family"] = held_out_family_split(row["model_id"], row["family"], held_out_family)
        if ood_size_min_params is not None:
            row["split_ood_size"] = size_split(row["model_id"], row["n_params"], ood_size_min_params)
    return rows
