"""Where a zoo's files are: a local folder, or a Hugging Face Hub dataset repo at one exact revision.

A Hub zoo is read from the ``huggingface_hub`` snapshot of that revision (downloaded, or taken from
the local Hub cache when offline), never from whatever revision some cache happens to hold: a
revision that does not exist, or that is not cached while the Hub cannot be reached, is a
:class:`~gmn_bench.zoo.errors.ZooUnavailableError` naming it.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HFValidationError,
    HTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from .errors import ZooUnavailableError

ZOO_FILES = ["README.md", "data/**"]
"""What a zoo is made of (the card and the data files); plots and anything else are not downloaded."""


def local_zoo_folder(path_or_repo_id: str | Path, revision: str | None) -> Path | None:
    """``path_or_repo_id`` as a folder if it is one (``None`` if it is not a path at all and may be a
    Hub repo id); :class:`ZooUnavailableError` for a missing path, a file, or a revision given with a folder."""
    path = Path(path_or_repo_id)
    if path.is_dir():
        if revision is not None:
            raise ZooUnavailableError(f"{path} is a local folder; a revision ({revision!r}) applies only to Hub repos")
        return path
    if path.exists():
        raise ZooUnavailableError(f"{path} is a file, not a zoo folder")
    try:
        validate_repo_id(str(path_or_repo_id))
    except HFValidationError:
        raise ZooUnavailableError(f"zoo {path_or_repo_id!s}: no such folder (nor a Hub repo id)") from None
    return None


@contextmanager
def _hub_errors(repo_id: str, revision: str | None):
    at = f"revision {revision!r}" if revision else "its default revision"
    try:
        yield
    except RevisionNotFoundError as e:
        raise ZooUnavailableError(f"zoo {repo_id} has no revision {revision!r} on the Hub; check the tag, "
                                  "branch or commit") from e
    except RepositoryNotFoundError as e:
        raise ZooUnavailableError(f"zoo {repo_id} is not a local folder and no Hub dataset repo of that name "
                                  "can be read (check the repo id, or your token for a private repo)") from e
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as e:
        raise ZooUnavailableError(f"zoo {repo_id} is not a local folder, and {at} is not in the local Hub cache "
                                  "while the Hub cannot be reached (offline); connect, or pass the path of a "
                                  "local zoo folder") from e
    except (HTTPError, OSError) as e:  # HTTP client errors, no network, cache I/O
        raise ZooUnavailableError(f"zoo {repo_id} is not a local folder and could not be loaded from the Hub at "
                                  f"{at} ({type(e).__name__}: {e}); check the repo id and the network, or pass "
                                  "the path of a local zoo folder") from e


def hub_snapshot(repo_id: str, revision: str | None) -> Path:
    """The local snapshot folder of the zoo files of Hub dataset ``repo_id`` at ``revision``."""
    with _hub_errors(repo_id, revision):
        return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision, allow_patterns=ZOO_FILES))


def hub_commit(repo_id: str, revision: str | None, api: HfApi | None = None, files_metadata: bool = False):
    """``HfApi.dataset_info`` of ``repo_id`` at ``revision`` (its ``sha`` is the commit), errors named."""
    with _hub_errors(repo_id, revision):
        return (api or HfApi()).dataset_info(repo_id, revision=revision, files_metadata=files_metadata)


def hub_card(repo_id: str, revision: str | None) -> tuple[Path, set[str], str]:
    """For streaming: the folder holding the downloaded ``README.md`` of ``repo_id`` at ``revision``,
    the repo's file paths at that commit, and the commit sha."""
    info = hub_commit(repo_id, revision)
    with _hub_errors(repo_id, revision):
        readme = hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=info.sha)
    return Path(readme).parent, {s.rfilename for s in info.siblings or ()}, info.sha
