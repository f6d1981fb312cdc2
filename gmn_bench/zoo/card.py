"""The dataset card of a zoo (``README.md``): written by :func:`write_card` (YAML header declaring
configs, splits and features; statistics, plots and the column table below), and read back by
:func:`read_card`, which checks it before any data is read."""
from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence

import datasets
import matplotlib
import yaml
from huggingface_hub import DatasetCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .errors import ZooFormatError  # noqa: E402
from .schema import COLUMNS, SPLIT_LABEL, SPLIT_PREFIX  # noqa: E402

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


def write_card(folder: Path, rows, features, configs, index, name: str, description: str, citation: str) -> None:
    """Write ``folder/README.md`` for ``rows``: ``configs`` and ``index`` (config -> split -> paths, rows, bytes)
    as :func:`~gmn_bench.zoo.io.write_zoo` lays them out."""
    feature_yaml = datasets.DatasetInfo(features=features)._to_yaml_dict()["features"]
    dataset_info = [
        {"config_name": c["config_name"], "features": feature_yaml,
         "splits": [{"name": s, "num_bytes": e["bytes"], "num_examples": e["n"]} for s, e in sorted(index[c["config_name"]].items())]}
        for c in configs
    ]
    header = yaml.dump(
        {"pretty_name": name, "tags": ["weight-space-learning", "model-zoo", "gmn-bench"],
         "configs": configs, "dataset_info": dataset_info},
        Dumper=_NoAliasDumper, sort_keys=False,
    )
    plots = [f"![{PLOTS[Path(p).name]}]({p})" for p in write_card_plots(rows, folder)]
    body = "\n".join([f"# {name}", "", description, "", zoo_summary(rows), "", *plots, "", _columns_table(features),
                      "", "## Citation", "", citation or "See CITATION.cff of the gmn-bench package."])
    DatasetCard(f"---\n{header}---\n\n{body}\n").save(folder / "README.md")


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated sub-trees (every config's features) in full, as the Hub expects."""

    def ignore_aliases(self, data):
        return True


def _columns_table(features) -> str:
    lines = ["## Columns", "", "| column | type | description |", "|---|---|---|"]
    for column, feature in features.items():
        doc = COLUMNS[column][2] if column in COLUMNS else f"Split label of config `{column[len(SPLIT_PREFIX):]}`."
        lines.append(f"| `{column}` | {feature.dtype} | {doc} |")
    return "\n".join(lines)


def zoo_summary(rows: list[Mapping[str, Any]]) -> str:
    """Markdown statistics of a zoo: networks and rows per family, parameter counts,
    hyperparameter ranges and final-checkpoint test accuracy."""
    final = {r["model_id"]: r for r in final_checkpoints(rows)}
    lines = ["## Summary", "", f"{len(final)} networks, {len(rows)} rows (checkpoints).", "",
             "| family | networks | rows | parameters (min-max) | final test acc (mean, min-max) |",
             "|---|---|---|---|---|"]
    per_family_rows = Counter(r["family"] for r in rows)
    for family in sorted(per_family_rows):
        nets = [r for r in final.values() if r["family"] == family]
        n_params = [r["n_params"] for r in nets]
        accs = [r["test_acc"] for r in nets if r.get("test_acc") is not None]
        acc = f"{sum(accs) / len(accs):.3f} ({min(accs):.3f}-{max(accs):.3f})" if accs else "not measured"
        lines.append(f"| {family} | {len(nets)} | {per_family_rows[family]} | {min(n_params)}-{max(n_params)} | {acc} |")
    lines += ["", "| hyperparameter | values |", "|---|---|"]
    for key in ("optimizer", "learning_rate", "weight_decay", "label_smoothing", "batch_size", "epochs", "augmentation"):
        values = [r[key] for r in final.values()]
        shown = (f"{min(values):g} to {max(values):g}" if isinstance(values[0], (int, float))
                 else ", ".join(sorted(set(map(str, values)))))
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


MAX_CARD_BYTES = 4 * 2**20
"""Largest dataset card read (a card of thousands of shards is a few hundred KiB)."""


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where installed: 10x faster


def _safe_yaml(text: str):
    """Safe YAML (no tags) without aliases: a card needs none, and they can blow a few bytes up into
    billions of nodes."""
    if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=_YAML_LOADER)):
        raise yaml.YAMLError("aliases are not accepted")
    return yaml.load(text, Loader=_YAML_LOADER)


@dataclass(frozen=True)
class Card:
    """What a zoo's card declares: ``configs`` (name -> split -> data files, relative paths, in card
    order), the ``default`` config, and ``sizes`` (config -> split -> number of rows, where declared)."""

    configs: dict[str, dict[str, tuple[str, ...]]]
    default: str
    sizes: dict[str, dict[str, int]]


def _fail(where: str, message: str):
    raise ZooFormatError(f"{where}: {message}")


def _data_files(where: str, folder: Path, paths, files: set[str] | None) -> tuple[str, ...]:
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        _fail(where, f"path must be a file name or a non-empty list of them, got {paths!r:.100}")
    found = []
    for pattern in paths:
        parts = PurePosixPath(pattern).parts
        if PurePosixPath(pattern).is_absolute() or ".." in parts or parts[:1] != ("data",) or "\\" in pattern:
            _fail(where, f"data file {pattern!r:.100} is not a relative path under data/")
        if not pattern.endswith(".parquet"):
            _fail(where, f"data file {pattern!r:.100} is not a .parquet file")
        if files is None:
            matches = [p.relative_to(folder).as_posix() for p in sorted(folder.glob(pattern)) if p.is_file()]
        else:
            matches = sorted(f for f in files if fnmatch.fnmatchcase(f, pattern))
        if not matches:
            _fail(where, f"data file {pattern!r:.100} does not exist")
        found += matches
    return tuple(found)


def read_card(folder: Path, name: str, files: set[str] | None = None) -> Card:
    """Read and check the card ``folder/README.md`` of the zoo called ``name`` (in messages): safe YAML
    (no tags), a ``configs`` list whose every data file exists (among ``files``, the repo's paths,
    when given) under ``data/``, and well-formed ``dataset_info`` split sizes. Raises
    :class:`ZooFormatError` naming the problem."""
    where = f"zoo {name}: dataset card"
    readme = folder / "README.md"
    if not readme.is_file():
        raise ZooFormatError(f"zoo {name} is not a zoo folder: no README.md dataset card"
                             + ("" if any(folder.iterdir()) else " (the folder is empty)"))
    if readme.stat().st_size > MAX_CARD_BYTES:
        _fail(where, f"README.md is over {MAX_CARD_BYTES} bytes")
    try:
        match = REGEX_YAML_BLOCK.search(readme.read_text(encoding="utf-8-sig"))
        meta = _safe_yaml(match.group(2)) if match else None
        if not isinstance(meta, (dict, type(None))):
            raise ValueError(f"the header is a {type(meta).__name__}, not a mapping")
    except (yaml.YAMLError, ValueError, UnicodeDecodeError, RecursionError) as e:
        _fail(where, f"its YAML header cannot be read safely ({type(e).__name__}: {str(e)[:200]})")
    if not isinstance(meta, dict) or not isinstance(meta.get("configs"), list) or not meta["configs"]:
        _fail(where, "its YAML header declares no 'configs' list")
    configs, default = {}, None
    for entry in meta["configs"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("config_name"), str):
            _fail(where, f"config entry {entry!r:.100} has no config_name")
        config = entry["config_name"]
        if config in configs:
            _fail(where, f"config {config!r} is declared twice")
        if not isinstance(entry.get("data_files"), list) or not entry["data_files"]:
            _fail(where, f"config {config!r} lists no data_files")
        splits = {}
        for item in entry["data_files"]:
            if not isinstance(item, dict) or not isinstance(item.get("split"), str) \
                    or not SPLIT_LABEL.fullmatch(item["split"]) or item["split"] in splits:
                _fail(where, f"config {config!r}: data_files entry {item!r:.100} needs a new split name")
            splits[item["split"]] = _data_files(f"{where}, config {config!r}", folder, item.get("path"), files)
        configs[config] = splits
        if entry.get("default") is True:
            default = config
    return Card(configs, default or ("default" if "default" in configs else next(iter(configs))),
                _sizes(where, meta.get("dataset_info")))


def _sizes(where: str, info) -> dict[str, dict[str, int]]:
    infos = [info] if isinstance(info, dict) else info or []
    if not isinstance(infos, list):
        _fail(where, "dataset_info must be a list of configs")
    sizes = {}
    for entry in infos:
        splits = entry.get("splits", []) if isinstance(entry, dict) else None
        if not isinstance(splits, list):
            _fail(where, f"dataset_info entry {entry!r:.100} is malformed")
        config = entry.get("config_name", "default")
        for split in splits:
            if not isinstance(split, dict) or not isinstance(split.get("name"), str) \
                    or isinstance(split.get("num_examples"), bool) or not isinstance(split.get("num_examples"), int):
                _fail(where, f"dataset_info of config {config!r}: split entry {split!r:.100} is malformed")
            sizes.setdefault(config, {})[split["name"]] = split["num_examples"]
    return sizes
