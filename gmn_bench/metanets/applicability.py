"""Whether a metanet can read a zoo at all (e.g. a flat-vector model needs one architecture)."""
from __future__ import annotations

from typing import Iterable, Mapping


class MetanetNotApplicable(ValueError):
    """A metanet cannot be used on these rows; the message says why."""


def check_applicable(metanet, rows: Iterable[Mapping]) -> None:
    """Raise :class:`MetanetNotApplicable` if ``metanet`` (class or instance) cannot read ``rows``.

    A metanet declares a restriction by defining ``check_rows(rows)`` (a classmethod); metanets
    without one apply to every zoo.
    """
    check = getattr(metanet, "check_rows", None)
    if check is not None:
        check(rows)
