"""Write zoos as Hub-style dataset folders and load them with ``datasets``.

A zoo folder is laid out exactly like a Hugging Face Hub dataset repo::

    README.md      dataset card (:mod:`.card`); its YAML declares configs, their splits and features
    plots/*.png    the card's plots
    data/<labels>-NNNNN-of-NNNNN.parquet

Every row is stored once, in the shard of its combination of split labels (``<labels>`` is e.g.
``id.train-ood_family.test-ood_size.train``); each config's splits list the shards that hold their
label. So ``datasets.load_dataset(<folder>, <config>)`` and ``datasets.load_dataset("<org>/<name>",
<config>)`` read it the same way once it is uploaded.
"""
from __future__ import annotations

import hashlib
import math
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import datasets

from ..nets.architectures import count_parameters, spec_to_json
from .card import write_card
from .schema import COLUMNS, REQUIRED, SPLIT_PREFIX, features_for, split_columns
from .weights import state_dict_to_bytes

DEFAULT_CONFIG = "default"


class ZooFormatError(ValueError):
    """Rows or files that do not follow the zoo format."""


class ZooUnavailableError(RuntimeError):
    """A zoo that is neither a local folder nor reachable on the Hub; the message says which and why."""


def make_row(model_id: str, spec: Mapping[str, Any], module, *, epoch: int, **columns) -> dict:
    """One zoo row for ``module`` (built from ``spec``) at ``epoch``; ``columns`` gives the rest."""
    return {
        "model_id": model_id,
        "family": spec["family"],
        "arch": spec_to_json(spec),
        "epoch": epoch,
        "weights": state_dict_to_bytes(module),
        "n_params": count_parameters(module),
        **columns,
    }


def _check_rows(rows: list[dict]) -> list[str]:
    if not rows:
        raise ZooFormatError("a zoo needs at least one row")
    names = list(rows[0])
    seen = set()
    for i, row in enumerate(rows):
        where = f"row {i} (model_id={row.get('model_id')!r}, epoch={row.get('epoch')!r})"
        unknown = set(row) - set(COLUMNS) - set(split_columns(row))
        if unknown:
            raise ZooFormatError(f"{where}: unknown columns {sorted(unknown)}; split labels must start with {SPLIT_PREFIX!r}")
        missing = [c for c in REQUIRED if row.get(c) is None]
        if missing:
            raise ZooFormatError(f"{where}: missing required columns {missing}")
        if split_columns(row) != split_columns(names):
            raise ZooFormatError(f"{where}: split columns {split_columns(row)} differ from the first row's {split_columns(names)}")
        key = (row["model_id"], row["epoch"])
        if key in seen:
            raise ZooFormatError(f"{where}: duplicate (model_id, epoch)")
        seen.add(key)
    _check_splits_do_not_leak(rows)
    return split_columns(names)


def _check_splits_do_not_leak(rows: list[dict]) -> None:
    for column in split_columns(rows[0]):
        labels = defaultdict(set)
        for row in rows:
            labels[row["model_id"]].add(row[column])
        leaking = {m: sorted(map(str, s)) for m, s in labels.items() if len(s) > 1}
        if leaking:
            raise ZooFormatError(f"{column}: checkpoints of one network fall in several splits: {leaking}")


def _write_shards(ds: datasets.Dataset, folder: Path, stem: str, rows_per_shard: int) -> list[Path]:
    n_shards = max(1, math.ceil(len(ds) / rows_per_shard))
    paths = [folder / f"{stem}-{i:05d}-of-{n_shards:05d}.parquet" for i in range(n_shards)]
    for i, path in enumerate(paths):
        ds.shard(n_shards, i, contiguous=True).to_parquet(str(path))
    return paths


def write_zoo(
    rows: Iterable[Mapping[str, Any]],
    folder: str | Path,
    *,
    name: str = "gmn-bench zoo",
    description: str = "",
    citation: str = "",
    rows_per_shard: int = 500,
    overwrite: bool = False,
) -> Path:
    """Write ``rows`` to ``folder`` laid out as a Hub dataset repo, with a dataset card.

    Without split-label columns the zoo has one config, ``default``, with a single
    ``train`` split. Each ``split_<name>`` column adds a config ``<name>`` whose splits are
    that column's labels, and ``default`` holds every row (as ``train``). Every row is
    stored once: rows are grouped by their combination of split labels into
    ``data/<labels>-NNNNN-of-NNNNN.parquet`` shards, and each config's splits list the
    shards that carry their label. Rows are checked first: required columns, no duplicate
    (model_id, epoch), and all checkpoints of a network in the same split.
    """
    rows = [dict(r) for r in rows]
    splits = _check_rows(rows)
    folder = Path(folder)
    if folder.exists():
        if not overwrite:
            raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
        shutil.rmtree(folder)
    (folder / "data").mkdir(parents=True)
    features = features_for(rows[0])
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row[c] for c in splits)].append({c: row.get(c) for c in features})
    # per config and split: shard paths, row count, arrow bytes
    index = defaultdict(lambda: defaultdict(lambda: {"paths": [], "n": 0, "bytes": 0}))
    for labels, group in sorted(groups.items()):
        ds = datasets.Dataset.from_list(group, features=features)
        stem = "-".join(f"{c[len(SPLIT_PREFIX):]}.{label}" for c, label in zip(splits, labels)) or "train"
        paths = _write_shards(ds, folder / "data", stem, rows_per_shard)
        for config, split in [(DEFAULT_CONFIG, "train")] + [(c[len(SPLIT_PREFIX):], l) for c, l in zip(splits, labels)]:
            entry = index[config][split]
            entry["paths"] += [p.relative_to(folder).as_posix() for p in paths]
            entry["n"] += len(ds)
            entry["bytes"] += ds.data.nbytes
    configs = [{"config_name": config,
                "data_files": [{"split": split, "path": sorted(e["paths"])} for split, e in sorted(by_split.items())]}
               for config, by_split in index.items()]
    configs[0]["default"] = True
    write_card(folder, rows, features, configs, index, name, description, citation)
    return folder


def load_zoo(
    path_or_repo_id: str | Path,
    config: str | None = None,
    split: str | None = None,
    revision: str | None = None,
    streaming: bool = False,
    cache_dir: str | None = None,
):
    """Load a zoo with ``datasets.load_dataset``: a Hub repo id or a local zoo folder.

    Returns a ``Dataset``/``DatasetDict`` (or their iterable forms with ``streaming=True``).
    A local folder is always re-read from its files (never a stale cache). A folder whose
    shards cannot be read raises :class:`ZooFormatError`; a repo id that cannot be reached or
    found raises :class:`ZooUnavailableError`.
    """
    local = Path(path_or_repo_id).is_dir()
    try:
        return datasets.load_dataset(
            str(path_or_repo_id), name=config, split=split, revision=revision, streaming=streaming,
            cache_dir=cache_dir,
            # the datasets cache does not notice a rewritten local folder: always re-read local files
            download_mode="force_redownload" if local and not streaming else None,
        )
    except (ConnectionError, datasets.exceptions.DatasetNotFoundError) as e:
        raise ZooUnavailableError(
            f"zoo {path_or_repo_id!s} is not a local folder and could not be loaded from the Hub ({e}); "
            "check the repo id and the network, or pass the path of a local zoo folder"
        ) from e
    except datasets.exceptions.DatasetGenerationError as e:
        raise ZooFormatError(
            f"could not read zoo {path_or_repo_id!s} (config={config}, split={split}): {e.__cause__ or e}"
        ) from e


def zoo_fingerprint(path_or_repo_id: str | Path, revision: str | None = None, api=None) -> str:
    """``sha256:<hex>`` over the zoo's data files (their paths and the sha256 of their bytes).

    A local folder hashes its ``data/**/*.parquet`` files; a Hub repo id uses the sha256 the Hub
    keeps for each LFS-stored parquet file (``HfApi.dataset_info(files_metadata=True)``), so a
    folder and the repo it was uploaded to have the same fingerprint. The card is not included:
    rewording it does not change the data.
    """
    local = Path(path_or_repo_id)
    if local.is_dir():
        files = {p.relative_to(local).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted(local.glob("data/**/*.parquet"))}
    else:
        from huggingface_hub import HfApi

        info = (api or HfApi()).dataset_info(str(path_or_repo_id), revision=revision, files_metadata=True)
        files = {s.rfilename: s.lfs.sha256 for s in info.siblings
                 if s.rfilename.startswith("data/") and s.rfilename.endswith(".parquet") and s.lfs is not None}
    if not files:
        raise ZooFormatError(f"{path_or_repo_id}: no data/*.parquet files to fingerprint")
    digest = hashlib.sha256("".join(f"{path}\t{sha}\n" for path, sha in sorted(files.items())).encode())
    return f"sha256:{digest.hexdigest()}"
