"""Write zoos as Hub-style dataset folders and load them with ``datasets``, checked both ways.

A zoo folder is laid out exactly like a Hugging Face Hub dataset repo::

    README.md      dataset card (:mod:`.card`); its YAML declares configs, their splits and features
    plots/*.png    the card's plots
    data/<labels>-NNNNN-of-NNNNN.parquet

Every row is stored once, in the shard of its combination of split labels (``<labels>`` is e.g.
``id.train-ood_family.test-ood_size.train``); each config's splits list the shards that hold their
label. So ``datasets.load_dataset(<folder>, <config>)`` and ``datasets.load_dataset("<org>/<name>",
<config>)`` read it the same way once it is uploaded. Rows are checked by the same rules
(:mod:`gmn_bench.zoo.checks`) when written and when loaded; a load also checks the card
(:func:`gmn_bench.zoo.card.read_card`), the column types, the card's split sizes and that every
row's split label is the split it was read from.
"""
from __future__ import annotations

import copy
import hashlib
import math
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from ..nets.architectures import count_parameters, spec_to_json
from ..progress import quiet_datasets
from .card import Card, read_card, write_card
from .checks import check_row, check_rows
from .errors import ZooFormatError, ZooRowError, ZooUnavailableError  # noqa: F401  (re-exported)
from .hub import hub_card, hub_commit, hub_snapshot, local_zoo_folder
from .schema import COLUMNS, SPLIT_COLUMN, SPLIT_PREFIX, features_for, split_columns
from .weights import state_dict_to_bytes

DEFAULT_CONFIG = "default"


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
    (model_id, epoch), and all checkpoints of a network in the same split; see
    :mod:`gmn_bench.zoo.checks` for every rule.
    """
    rows = [dict(r) for r in rows]
    check_rows(rows)
    splits = split_columns(rows[0])
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
    """Load a zoo, a local zoo folder or a Hub repo id at ``revision``, with ``datasets.load_dataset``.

    Returns a ``DatasetDict`` of ``config``'s splits (the card's default config if ``None``), or
    the ``Dataset`` of ``split``. Before anything is returned the zoo is checked: the card
    (:func:`~gmn_bench.zoo.card.read_card`), the column types, the split sizes the card states,
    every row's split label against the split it was read from, and every row and the table
    they form by the rules of :mod:`gmn_bench.zoo.checks`, as :func:`write_zoo` checks them.
    With ``streaming=True`` the iterable forms are returned and each row is checked as it is
    read (the whole-table rules need a full read: load without streaming to apply them).

    A local folder is always re-read from its files (never a stale cache). A Hub zoo is read
    from the ``huggingface_hub`` snapshot of exactly ``revision``: a revision that does not exist,
    a missing path, or a repo that cannot be reached raises :class:`ZooUnavailableError`; a zoo
    that breaks the format raises :class:`ZooFormatError` (:class:`ZooRowError` for a bad row).
    """
    name = str(path_or_repo_id)
    folder = local_zoo_folder(path_or_repo_id, revision)
    if folder is None and streaming:
        return _stream_from_hub(name, config, split, revision)
    fresh = folder is not None  # a local folder may have been rewritten since the datasets cache saw it
    folder = folder or hub_snapshot(name, revision)
    card = read_card(folder, name)
    config = _config(card, config, name)
    if streaming:
        _check_data_files(folder, card, config, name)
        stream = _load(str(folder), name, config, streaming=True, cache_dir=cache_dir)
        return _checked_stream(stream, config, split, name)
    key = (str(folder.resolve()), config, cache_dir, _file_signature(folder, card, config))
    if key not in _CHECKED:
        _check_data_files(folder, card, config, name)
        data = _load(str(folder), name, config, cache_dir=cache_dir,
                     download_mode="force_redownload" if fresh else None)
        _check_loaded(data, card, config, name)
        _CHECKED[key] = data
        while len(_CHECKED) > _MAX_CHECKED:
            _CHECKED.pop(next(iter(_CHECKED)))
    data = datasets.DatasetDict({s: copy.copy(ds) for s, ds in _CHECKED[key].items()})  # callers may set_format
    return data if split is None else _split(data, split, config, name)


_CHECKED: dict[tuple, datasets.DatasetDict] = {}
"""Configs loaded and checked in this process, keyed by folder, config and the files' identity
(size, modification time, inode): a rewritten file is read and checked again."""
_MAX_CHECKED = 8


def _file_signature(folder: Path, card: Card, config: str) -> tuple:
    paths = ["README.md", *sorted({p for paths in card.configs[config].values() for p in paths})]
    return tuple((p, (st := (folder / p).stat()).st_size, st.st_mtime_ns, st.st_ino) for p in paths)


def zoo_configs(path_or_repo_id: str | Path, revision: str | None = None) -> list[str]:
    """The configs the zoo's card declares, the default first (the card is checked, the data not read)."""
    name = str(path_or_repo_id)
    card = read_card(local_zoo_folder(path_or_repo_id, revision) or hub_snapshot(name, revision), name)
    return [card.default, *(c for c in card.configs if c != card.default)]


def _config(card: Card, config: str | None, name: str) -> str:
    config = card.default if config is None else config
    if config not in card.configs:
        raise ZooFormatError(f"config {config!r} not found in zoo {name}; it has configs {list(card.configs)}")
    return config


def _split(data, split: str, config: str, name: str):
    if split not in data:
        raise ZooFormatError(f"split {split!r} not found in config {config!r} of zoo {name}; it has {sorted(data)}")
    return data[split]


def _load(path: str, name: str, config: str, **kwargs):
    try:  # split sizes are verified by _check_loaded, with a clearer message
        with quiet_datasets():
            return datasets.load_dataset(path, name=config, verification_mode="no_checks", **kwargs)
    except (ValueError, OSError, TypeError, KeyError, datasets.exceptions.DatasetsError, pa.ArrowException) as e:
        raise ZooFormatError(f"could not read zoo {name} (config={config}): {e.__cause__ or e}") from e


def _check_data_files(folder: Path, card: Card, config: str, name: str) -> None:
    """The columns and Arrow types of every data file of ``config``, from the parquet footers (before
    ``datasets`` reads them, and maybe casts them to the card's features)."""
    for split, paths in card.configs[config].items():
        for path in paths:
            where = f"zoo {name} (config {config}, split {split}): data file {path}"
            try:
                schema = pq.read_schema(folder / path)
            except (pa.ArrowException, OSError, ValueError, RecursionError) as e:
                raise ZooFormatError(f"{where} is not a readable parquet file ({type(e).__name__}: {e})"[:500]) from e
            _check_arrow_types(schema, where)


def _check_arrow_types(schema: pa.Schema, where: str) -> None:
    """Each column of a data file: one the format knows, of exactly its Arrow type (no dictionary
    encoding, large or nested variants, ...), compared as Arrow types, before ``datasets`` maps them."""
    names = schema.names
    unknown = [c for c in names if c not in COLUMNS and not SPLIT_COLUMN.fullmatch(c)]
    missing = [c for c, column in COLUMNS.items() if not column.nullable and c not in names]
    if unknown or missing:
        raise ZooFormatError(f"{where}: unknown columns {unknown[:5]}, missing columns {missing}")
    expected = features_for(names).arrow_schema
    for field in schema:
        wanted = expected.field(field.name).type
        if field.type != wanted:
            raise ZooFormatError(f"{where}: column {field.name} has Arrow type {str(field.type)[:80]}, "
                                 f"the format says {wanted}")


def _check_features(features: datasets.Features, where: str) -> None:
    unknown = [c for c in features if c not in COLUMNS and not SPLIT_COLUMN.fullmatch(c)]
    missing = [c for c, column in COLUMNS.items() if not column.nullable and c not in features]
    if unknown or missing:
        raise ZooFormatError(f"{where}: unknown columns {unknown[:5]}, missing columns {missing}")
    expected = features_for(features)
    for column, feature in features.items():
        if feature != expected[column]:
            raise ZooFormatError(f"{where}: column {column} is {feature}, the format says {expected[column]}")


def _check_labels(labels: set, config: str, split: str, where: str) -> None:
    """Rows of ``config``'s split ``split`` must carry that split's label (``default``: one ``train`` split)."""
    if labels != {split}:
        raise ZooFormatError(f"{where}: split {split!r} holds rows labelled {sorted(map(str, labels))[:5]} in "
                             f"{SPLIT_PREFIX}{config}: the split column disagrees with its data files")


def _label_column(features: datasets.Features, config: str, where: str) -> str | None:
    if config == DEFAULT_CONFIG:
        return None
    if SPLIT_PREFIX + config not in features:
        raise ZooFormatError(f"{where}: config {config!r} has no {SPLIT_PREFIX}{config} column of split labels")
    return SPLIT_PREFIX + config


def _rows(ds: datasets.Dataset) -> Iterator[dict]:
    """The rows of a freshly loaded ``ds``; the weights as zero-copy buffers of its Arrow data."""
    columns = ds.remove_columns("weights").to_dict()
    weights = (value.as_buffer() for chunk in ds.data.column("weights").chunks for value in chunk)
    for i, buffer in enumerate(weights):
        yield {**{c: values[i] for c, values in columns.items()},
               "weights": None if buffer is None else memoryview(buffer)}


def _check_loaded(data: datasets.DatasetDict, card: Card, config: str, name: str) -> None:
    where = f"zoo {name} (config {config})"
    if config == DEFAULT_CONFIG and list(data) != ["train"]:
        raise ZooFormatError(f"{where}: the default config must have one split, train, not {sorted(data)}")
    for split, ds in data.items():
        _check_features(ds.features, f"{where}, split {split}")
        column = _label_column(ds.features, config, where)
        if column is not None:
            _check_labels(set(ds.unique(column)), config, split, where)
    declared = card.sizes.get(config)
    actual = {split: len(ds) for split, ds in data.items()}
    if declared is not None and declared != actual:
        raise ZooFormatError(f"{where}: the card states split sizes {declared}, the data files hold {actual} "
                             "(a stale card?)")
    try:
        check_rows(row for ds in data.values() for row in _rows(ds))
    except ZooFormatError as e:
        raise type(e)(f"{where}: {e}") from None


def _checked_stream(data: datasets.IterableDatasetDict, config: str, split: str | None, name: str):
    where = f"zoo {name} (config {config})"

    def check(row: dict, split: str, column: str | None) -> dict:
        try:
            check_row(row)
            if column is not None:
                _check_labels({row[column]}, config, split, where)
        except ZooFormatError as e:
            raise type(e)(f"{where}, split {split}: {e}") from None
        return row

    checked = datasets.IterableDatasetDict({
        s: ds.map(check, fn_kwargs={"split": s, "column": _label_column(ds.features, config, where)},
                  features=ds.features)
        for s, ds in data.items()})
    for s, ds in checked.items():
        _check_features(ds.features, f"{where}, split {s}")
    return checked if split is None else _split(checked, split, config, name)


def _stream_from_hub(repo_id: str, config: str | None, split: str | None, revision: str | None):
    folder, files, commit = hub_card(repo_id, revision)  # the exact commit: a missing revision fails here
    card = read_card(folder, repo_id, files=files)
    config = _config(card, config, repo_id)
    return _checked_stream(_load(repo_id, repo_id, config, revision=commit, streaming=True), config, split, repo_id)


def zoo_fingerprint(path_or_repo_id: str | Path, revision: str | None = None, api=None) -> str:
    """``sha256:<hex>`` over the zoo's data files (their paths and the sha256 of their bytes).

    A local folder hashes its ``data/**/*.parquet`` files; a Hub repo id uses the sha256 the Hub
    keeps for each LFS-stored parquet file (``HfApi.dataset_info(files_metadata=True)``), so a
    folder and the repo it was uploaded to have the same fingerprint. The card is not included:
    rewording it does not change the data.
    """
    local = local_zoo_folder(path_or_repo_id, revision)
    if local is not None:
        files = {p.relative_to(local).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in sorted(local.glob("data/**/*.parquet"))}
    else:
        info = hub_commit(str(path_or_repo_id), revision, api=api, files_metadata=True)
        files = {s.rfilename: s.lfs.sha256 for s in info.siblings
                 if s.rfilename.startswith("data/") and s.rfilename.endswith(".parquet") and s.lfs is not None}
    if not files:
        raise ZooFormatError(f"{path_or_repo_id}: no data/*.parquet files to fingerprint")
    digest = hashlib.sha256("".join(f"{path}\t{sha}\n" for path, sha in sorted(files.items())).encode())
    return f"sha256:{digest.hexdigest()}"
