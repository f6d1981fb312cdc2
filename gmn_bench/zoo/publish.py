"""Publish a zoo folder as a versioned Hugging Face Hub dataset repo (or a dry run to a folder)."""
from __future__ import annotations

import shutil
from pathlib import Path

from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from .io import load_zoo

IGNORE = ["*.parts/**", "**/.cache/**", "**/__pycache__/**"]


class PublishError(RuntimeError):
    """Publishing cannot proceed; the message says why and what to do."""


def _check_zoo(folder: Path) -> None:
    if not (folder / "README.md").exists() or not any(folder.glob("data/*.parquet")):
        raise PublishError(f"{folder} is not a zoo folder (needs README.md and data/*.parquet; see gmn-bench build)")
    load_zoo(folder)  # must read back with datasets before anyone else tries


def dry_run(folder: str | Path, target: str | Path) -> Path:
    """Copy exactly what :func:`publish` would upload into ``target`` (a Hub-like folder) and check it loads."""
    folder, target = Path(folder), Path(target)
    _check_zoo(folder)
    if target.exists():
        raise PublishError(f"{target} exists; choose a new folder for the dry run")
    shutil.copytree(folder, target, ignore=shutil.ignore_patterns("*.parts", ".cache", "__pycache__"))
    load_zoo(target)
    return target


def publish(folder: str | Path, repo_id: str, tag: str, *, token: str | None = None, private: bool = False,
            api: HfApi | None = None) -> str:
    """Create (if needed) the dataset repo ``repo_id``, upload ``folder`` and tag the commit ``tag``.

    Refuses to overwrite an existing tag. Large folders go through ``upload_large_folder``
    (resumable, multi-worker). Returns the tagged commit's URL. Without network access it
    fails at once with :class:`PublishError`.
    """
    folder = Path(folder)
    _check_zoo(folder)
    api = api or HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        refs = api.list_repo_refs(repo_id, repo_type="dataset")
        if tag in {t.name for t in refs.tags}:
            raise PublishError(f"{repo_id} already has tag {tag!r}; zoo versions are immutable, choose a new tag")
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        if size > 1 << 30:
            api.upload_large_folder(repo_id=repo_id, folder_path=folder, repo_type="dataset", ignore_patterns=IGNORE)
            commit = api.list_repo_commits(repo_id, repo_type="dataset")[0].commit_id
        else:
            commit = api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="dataset", ignore_patterns=IGNORE,
                                       commit_message=f"Publish zoo {tag}").oid
        api.create_tag(repo_id, tag=tag, revision=commit, repo_type="dataset", tag_message=f"gmn-bench zoo {tag}")
    except PublishError:
        raise
    except HfHubHTTPError as e:
        raise PublishError(f"the Hub refused the upload to {repo_id}: {e}") from e
    except Exception as e:  # no network: DNS/connect errors come from the HTTP client
        raise PublishError(f"cannot reach the Hugging Face Hub to publish {repo_id} ({type(e).__name__}: {e}); "
                           "check the network, or use --dry-run DIR to write the repo locally") from e
    return f"https://huggingface.co/datasets/{repo_id}/tree/{tag}"
