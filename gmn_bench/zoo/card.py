"""The dataset card of a zoo (``README.md``): Hub YAML metadata, how to read the zoo with plain
``datasets``, statistics of the networks, plots and the column reference, written by
:func:`write_card`; and read back by :func:`read_card`, which checks it before any data is read.

Statistics use each network's *final* checkpoint (the one every task reads). The plots, under
``plots/``: final test accuracy per family (one histogram panel each, with n) and final test
accuracy against parameter count.
"""
from __future__ import annotations

import fnmatch
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence

import datasets
import matplotlib
import yaml
from huggingface_hub import DatasetCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from .errors import ZooFormatError
from .schema import COLUMNS, SPLIT_LABEL, SPLIT_PREFIX, split_columns

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PLOTS = {"accuracy_histogram.png": "Final test accuracy per family",
         "accuracy_vs_params.png": "Final test accuracy vs parameter count"}
TAGS = ["weight-space-learning", "model-zoo", "gmn-bench"]
_HYPERPARAMETERS = ("optimizer", "learning_rate", "weight_decay", "label_smoothing", "batch_size", "epochs",
                    "augmentation", "train_fraction")


def final_checkpoints(rows: Sequence[Mapping]) -> list[Mapping]:
    """The last-epoch row of every network."""
    final: dict = {}
    for row in rows:
        if row["model_id"] not in final or row["epoch"] > final[row["model_id"]]["epoch"]:
            final[row["model_id"]] = row
    return list(final.values())


def write_card(folder: Path, rows: Sequence[Mapping], features: datasets.Features, configs: list[dict],
               index: Mapping, name: str, description: str, citation: str) -> None:
    """Write ``folder/README.md`` (and its plots) for a zoo written by :func:`gmn_bench.zoo.write_zoo`:
    ``configs`` are the Hub ``configs`` entries, ``index[config][split]`` holds ``n`` and ``bytes``."""
    feature_yaml = datasets.DatasetInfo(features=features)._to_yaml_dict()["features"]
    dataset_info = [
        {"config_name": c["config_name"], "features": feature_yaml,
         "splits": [{"name": s, "num_bytes": e["bytes"], "num_examples": e["n"]}
                    for s, e in sorted(index[c["config_name"]].items())]}
        for c in configs
    ]
    header = yaml.dump({"pretty_name": name, "tags": TAGS, "configs": configs, "dataset_info": dataset_info},
                       Dumper=_NoAliasDumper, sort_keys=False)
    plots = [f"![{PLOTS[Path(p).name]}]({p})" for p in write_card_plots(rows, folder)]
    config_names = [c["config_name"] for c in configs]
    body = "\n\n".join([f"# {name}", description, _usage(config_names), zoo_summary(rows), _splits_table(rows),
                        *plots, _columns_table(features),
                        "## Citation\n\n" + (citation or "See CITATION.cff of the gmn-bench package.")])
    DatasetCard(f"---\n{header}---\n\n{body}\n").save(folder / "README.md")


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated sub-trees (every config's features) in full, as the Hub expects."""

    def ignore_aliases(self, data):
        return True


def _usage(config_names: Sequence[str]) -> str:
    config = "id" if "id" in config_names else config_names[0]
    return "\n".join([
        "## Reading it", "",
        "With plain `datasets` (a Hub repo id, or this folder's path), and the three lines that turn a row "
        "into a working `torch.nn.Module`:", "",
        "```python",
        "import json",
        "from datasets import load_dataset",
        "from safetensors.torch import load",
        "from gmn_bench import build_model",
        "",
        f'zoo = load_dataset("<repo id or folder>", "{config}", split="train")   # one row per (network, checkpoint)',
        "row = zoo[0]",
        'net = build_model(json.loads(row["arch"]))       # the architecture',
        'net.load_state_dict(load(row["weights"]))       # its weights at checkpoint row["epoch"]',
        "net.eval()",
        "```", "",
        "`gmn_bench.to_module(row)` does the same with every name, shape and value checked. Configs: "
        + ", ".join(f"`{c}`" for c in config_names) + " (each split-label column `split_<name>` is a config "
        "`<name>`; `default` holds every row). The gmn-bench tasks use each network's final checkpoint.",
    ])


def _quartiles(values: Sequence[float]) -> str:
    q1, q2, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return f"{min(values):.3f} / {q1:.3f} / {q2:.3f} / {q3:.3f} / {max(values):.3f}"


def zoo_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown statistics of a zoo: networks, checkpoints and parameter counts per family, the
    distribution of final test accuracy (min / quartiles / max), hyperparameter ranges and the
    networks per family trained in each precision."""
    final = final_checkpoints(rows)
    epochs = sorted({r["epoch"] for r in rows})
    lines = ["## Summary", "",
             f"{len(final)} networks, {len(rows)} rows (checkpoints at epochs {', '.join(map(str, epochs))}).", "",
             "| family | networks | rows | parameters (min-max) | final test acc: min / q1 / median / q3 / max |",
             "|---|---|---|---|---|"]
    per_family_rows = Counter(r["family"] for r in rows)
    for family in [*sorted(per_family_rows), "all"]:
        nets = [r for r in final if family in (r["family"], "all")]
        n_params = [r["n_params"] for r in nets]
        accs = [r["test_acc"] for r in nets if r.get("test_acc") is not None]
        count = len(rows) if family == "all" else per_family_rows[family]
        lines.append(f"| {family} | {len(nets)} | {count} | {min(n_params):,}-{max(n_params):,} | "
                     f"{_quartiles(accs) if accs else 'not measured'} |")
    lines += ["", "| hyperparameter | values |", "|---|---|"]
    for key in _HYPERPARAMETERS:
        values = [r[key] for r in final if r.get(key) is not None]
        if values:
            shown = (f"{min(values):g} to {max(values):g}" if isinstance(values[0], (int, float))
                     else ", ".join(sorted(set(map(str, values)))))
            lines.append(f"| {key} | {shown} |")
    return "\n".join(lines + ["", _precision_table(final)])


def _precision_table(final: Sequence[Mapping[str, Any]]) -> str:
    """Networks per family and training precision (``not recorded`` where the column is null or absent)."""
    counts = Counter((r["family"], r.get("precision") or "not recorded") for r in final)
    precisions = sorted({p for _, p in counts})
    lines = ["| family | " + " | ".join(f"{p} networks" for p in precisions) + " |",
             "|---|" + "---|" * len(precisions)]
    for family in sorted({f for f, _ in counts}):
        lines.append(f"| {family} | " + " | ".join(str(counts[family, p]) for p in precisions) + " |")
    return "\n".join(lines)


def _splits_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns = split_columns(rows[0])
    if not columns:
        return "## Splits\n\nNone: the `default` config holds every row as `train`."
    final = final_checkpoints(rows)
    lines = ["## Splits (networks)", "", "| config | " + " | ".join(("train", "validation", "test")) + " |",
             "|---|---|---|---|"]
    for column in columns:
        counts = Counter(r[column] for r in final)
        lines.append(f"| `{column[len(SPLIT_PREFIX):]}` | " + " | ".join(str(counts[s]) for s in
                                                                          ("train", "validation", "test")) + " |")
    return "\n".join(lines)


def _columns_table(features) -> str:
    lines = ["## Columns", "", "| column | type | description |", "|---|---|---|"]
    for column, feature in features.items():
        doc = COLUMNS[column].description if column in COLUMNS else f"Split label of config `{column[len(SPLIT_PREFIX):]}`."
        lines.append(f"| `{column}` | {feature.dtype} | {doc} |")
    return "\n".join(lines)


def write_card_plots(rows: Sequence[Mapping], folder: Path) -> list[str]:
    """Write the card's PNG plots under ``folder/plots``; returns their paths relative to ``folder``.
    Nothing is drawn when no row has a measured test accuracy."""
    final = [r for r in final_checkpoints(rows) if r.get("test_acc") is not None]
    if not final:
        return []
    families = sorted({r["family"] for r in final})
    (folder / "plots").mkdir(exist_ok=True)
    accs = {f: [r["test_acc"] for r in final if r["family"] == f] for f in families}
    fig, axes = plt.subplots(len(families), 1, figsize=(6, 1.2 + 1.3 * len(families)), sharex=True, squeeze=False)
    bins = [i / 40 for i in range(int(max(r["test_acc"] for r in final) * 40) + 2)]
    for ax, family in zip(axes[:, 0], families):
        ax.hist(accs[family], bins=bins, color=f"C{families.index(family)}")
        ax.axvline(0.1, color="grey", lw=0.8, ls="--")  # chance on 10 classes
        ax.set_ylabel("networks")
        ax.set_title(f"{family} (n = {len(accs[family])})", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("final test accuracy (dashed: chance)")
    fig.suptitle(f"{PLOTS['accuracy_histogram.png']} (n = {len(final)})", fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "plots" / "accuracy_histogram.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for f in families:
        ax.scatter([r["n_params"] for r in final if r["family"] == f], accs[f], label=f"{f} (n = {len(accs[f])})", s=8,
                   alpha=0.7)
    ax.set(xscale="log", xlabel="trainable parameters", ylabel="final test accuracy",
           title=f"{PLOTS['accuracy_vs_params.png']} (n = {len(final)})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "plots" / "accuracy_vs_params.png", dpi=100)
    plt.close(fig)
    return [f"plots/{name}" for name in PLOTS]


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
