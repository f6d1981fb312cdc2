"""Known zoos: the registry that maps a zoo fingerprint to where the zoo lives.

A submission names its zoo by fingerprint (:func:`gmn_bench.tasks.zoo_fingerprint`) and
revision; the leaderboard re-scores it only against a zoo in this registry, loaded from the
registered location, so a submission can neither bring its own labels nor name a zoo version
nobody else can read. Known are: the embedded zoos (``cifar10-bench``, the default, and
``cifar10-shift``, the test zoo of the cross-zoo task), the published Hub zoos of :data:`HUB_ZOOS`
(with their pinned revision and fingerprint), and the zoos of the board's registry file
``zoos.json`` (board data beside ``submissions/``; ``gmn-bench leaderboard --register-zoo``).
A local zoo of the registry is fingerprinted again when the registry is read, so a folder
changed after its registration is an error, not a source of other labels.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from gmn_bench.tasks import zoo_fingerprint

from ..zoo.default import DEFAULT_ZOO, SHIFT_ZOO

REGISTRY_NAME = "zoos.json"
REGISTRY_FORMAT = "gmn-bench/zoos/v1"


class RegistryError(ValueError):
    """A registry file that cannot be used; the message names the file and the problem."""


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
def _embedded() -> tuple[KnownZoo, ...]:
    return tuple(KnownZoo.at(f"{folder.name} (embedded)", folder) for folder in (DEFAULT_ZOO, SHIFT_ZOO))


@lru_cache(maxsize=32)
def _fingerprint_of_folder(path: str, mtime_ns: int) -> str:
    return zoo_fingerprint(path)


def read_registry(path: str | Path) -> tuple[KnownZoo, ...]:
    """The zoos of the registry file ``path`` (none if there is no such file)."""
    path = Path(path)
    if not path.exists():
        return ()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("schema") != REGISTRY_FORMAT:
            raise ValueError(f"schema is not {REGISTRY_FORMAT!r}")
        zoos = tuple(KnownZoo(**entry) for entry in document["zoos"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RegistryError(f"{path} is not a zoo registry ({type(e).__name__}: {e})") from None
    for zoo in zoos:
        folder = Path(zoo.path_or_repo_id)
        if folder.is_dir() and _fingerprint_of_folder(str(folder), _newest_mtime(folder)) != zoo.fingerprint:
            raise RegistryError(f"{path}: zoo {zoo.name} at {folder} changed since it was registered "
                                f"(registered fingerprint {zoo.fingerprint}); register it again")
    return zoos


def _newest_mtime(folder: Path) -> int:
    return max((p.stat().st_mtime_ns for p in folder.glob("data/**/*.parquet")), default=0)


def register_zoo(path: str | Path, name: str, path_or_repo_id: str | Path, revision: str | None = None) -> KnownZoo:
    """Fingerprint the zoo at ``path_or_repo_id`` and ``revision`` and add it to the registry file
    ``path`` as ``name`` (replacing an entry of that fingerprint); returns it."""
    zoo = KnownZoo.at(name, path_or_repo_id, revision)
    zoos = [z for z in read_registry(path) if z.fingerprint != zoo.fingerprint] + [zoo]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"schema": REGISTRY_FORMAT, "zoos": [asdict(z) for z in zoos]}, indent=2) + "\n",
                    encoding="utf-8")
    return zoo


def known_zoos(extra: tuple[KnownZoo, ...] = (), registry: str | Path | None = None) -> dict[str, KnownZoo]:
    """``fingerprint -> KnownZoo``: the embedded zoos, :data:`HUB_ZOOS`, the zoos of the ``registry``
    file and ``extra``."""
    registered = read_registry(registry) if registry is not None else ()
    return {z.fingerprint: z for z in (*_embedded(), *HUB_ZOOS, *registered, *extra)}


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
