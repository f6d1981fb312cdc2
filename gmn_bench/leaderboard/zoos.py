"""Known zoos: the registry that maps a zoo fingerprint to where the zoo lives.

A submission names its zoo by fingerprint (:func:`gmn_bench.tasks.zoo_fingerprint`) and
revision; the leaderboard re-scores it only against a zoo in this registry, loaded from the
registered location, so a submission can neither bring its own labels nor name a zoo version
nobody else can read. The embedded zoo is always known; published Hub zoos are added to
:data:`HUB_ZOOS` with their pinned revision and fingerprint.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gmn_bench.tasks import zoo_fingerprint

from ..zoo.default import DEFAULT_ZOO


@dataclass(frozen=True)
class KnownZoo:
    """A registered zoo: display name, Hub repo id or folder, revision and content fingerprint."""

    name: str
    path_or_repo_id: str
    revision: str | None
    fingerprint: str

    @classmethod
    def at(cls, name: str, path_or_repo_id: str | Path, revision: str | None = None) -> "KnownZoo":
        """The zoo at ``path_or_repo_id`` and ``revision``, fingerprinted now."""
        return cls(name, str(path_or_repo_id), revision, zoo_fingerprint(path_or_repo_id, revision=revision))


HUB_ZOOS: tuple[KnownZoo, ...] = ()


@lru_cache(maxsize=None)
def _embedded() -> KnownZoo:
    return KnownZoo.at("cifar10-tiny (embedded)", DEFAULT_ZOO)


def known_zoos(extra: tuple[KnownZoo, ...] = ()) -> dict[str, KnownZoo]:
    """``fingerprint -> KnownZoo``: the embedded zoo, :data:`HUB_ZOOS` and ``extra``."""
    return {z.fingerprint: z for z in (_embedded(), *HUB_ZOOS, *extra)}


def find_zoo(zoos: dict[str, KnownZoo], fingerprint: str, revision: str | None) -> KnownZoo:
    """The zoo of ``zoos`` with ``fingerprint`` at ``revision``; ``LookupError`` naming the mismatch otherwise."""
    zoo = zoos.get(fingerprint)
    if zoo is None:
        raise LookupError(f"unknown zoo fingerprint {fingerprint!r}; known zoos: "
                          + ", ".join(f"{z.name} ({f})" for f, z in zoos.items()))
    if zoo.revision != revision:
        raise LookupError(f"zoo {zoo.name} ({fingerprint}) is registered at revision {zoo.revision!r}, "
                          f"not the stated revision {revision!r}")
    return zoo
