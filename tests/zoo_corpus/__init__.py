"""The zoo test corpus: what a stranger's zoo can get wrong, each case with the part of the error
message that must name it.

* :data:`BAD_ROWS`: defects of rows (one row, or the table they form), applied to a copy of
  :func:`conftest.make_rows`. Each must be refused by ``write_zoo``; where the defect can be stored
  in a parquet file (``loadable``), a zoo folder holding it (written by :func:`write_unchecked`)
  must be refused by ``load_zoo`` with the same message; and where one row is to blame
  (``row_level``), ``to_module`` of that row must refuse it too.
* :data:`BAD_FOLDERS`: defects of a zoo folder (card, data files, layout), applied to a good
  folder written by ``write_zoo``; ``load_zoo`` must refuse each with its message.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, NamedTuple
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from conftest import HYPERPARAMS, SPECS, trained_like
from gmn_bench import build_model, make_row, write_zoo
from gmn_bench.zoo import io as zoo_io


class BadRows(NamedTuple):
    mutate: Callable[[list[dict]], object]
    message: str
    row_level: bool = True  # rows[TARGET] alone is bad: to_module refuses it
    loadable: bool = True  # the defect can be stored in a parquet shard


TARGET = 0  # the row a row-level defect goes into (mlp-0 at epoch 0)
BN_ROW = 2  # a CNN with BatchNorm (integer num_batches_tracked buffer)


def _set(column: str, value, index: int = TARGET) -> Callable[[list[dict]], None]:
    return lambda rows: rows[index].__setitem__(column, value)


def _pop(column: str) -> Callable[[list[dict]], None]:
    return lambda rows: rows[TARGET].pop(column)


def _state(edit: Callable[[dict], object], index: int = TARGET) -> Callable[[list[dict]], None]:
    def mutate(rows):
        state = st_load(rows[index]["weights"])
        edit(state)
        rows[index]["weights"] = st_save(state)
    return mutate


def _other_network_under(model_id: str, spec: dict) -> Callable[[list[dict]], None]:
    """Replace the epoch-2 checkpoint of ``model_id`` by a well-formed row of another architecture."""
    def mutate(rows):
        i = next(i for i, r in enumerate(rows) if r["model_id"] == model_id and r["epoch"] == 2)
        torch.manual_seed(99)
        hyper = {k: rows[i][k] for k in (*HYPERPARAMS, "init_seed", "split_id")}
        rows[i] = make_row(model_id, spec, trained_like(build_model(spec)), epoch=2, **hyper)
    return mutate


def _copy_network_as(encode: Callable[[dict], bytes]) -> Callable[[list[dict]], None]:
    """The trained checkpoint of mlp-0 again under another id, in the test split, its weights re-encoded
    by ``encode(state)`` (same names, shapes and values; other bytes)."""
    def mutate(rows):
        _copy_network(rows)
        rows[-2]["weights"] = encode(st_load(rows[1]["weights"]))
    return mutate


def _as_float64(state: dict) -> bytes:
    return st_save({k: v.double() if v.is_floating_point() else v for k, v in state.items()})


def _copy_network(rows):
    """The trained checkpoint of mlp-0 again, under another id, in the test split."""
    rows.append({**rows[1], "model_id": "mlp-copy", "split_id": "test"})
    rows.append({**rows[0], "model_id": "mlp-copy", "split_id": "test"})


BAD_ROWS: dict[str, BadRows] = {
    # accuracies and losses
    "test-acc-above-1": BadRows(_set("test_acc", 1.5), "test_acc 1.5 is outside [0, 1]"),
    "test-acc-negative": BadRows(_set("test_acc", -0.1), "test_acc -0.1 is outside [0, 1]"),
    "test-acc-percent": BadRows(_set("test_acc", 52.0), "test_acc 52.0 is outside [0, 1]"),
    "test-acc-nan": BadRows(_set("test_acc", math.nan), "test_acc is not finite (nan)"),
    "train-acc-inf": BadRows(_set("train_acc", math.inf), "train_acc is not finite (inf)"),
    "train-acc-string": BadRows(_set("train_acc", "0.5"), "train_acc must be a real number, got str", loadable=False),
    "train-loss-negative": BadRows(_set("train_loss", -1.0), "train_loss -1.0 is outside [0, inf]"),
    "test-loss-nan": BadRows(_set("test_loss", math.nan), "test_loss is not finite"),
    # required columns and unknown ones
    "optimizer-null": BadRows(_set("optimizer", None), "missing required columns ['optimizer']"),
    "model-id-null": BadRows(_set("model_id", None), "missing required columns ['model_id']"),
    "weights-null": BadRows(_set("weights", None), "missing required columns ['weights']"),
    "epochs-missing": BadRows(_pop("epochs"), "missing required columns ['epochs']", row_level=False),
    "unknown-column": BadRows(_set("colour", "red"), "unknown columns ['colour']", loadable=False),
    # hyperparameters out of range or of the wrong type
    "learning-rate-zero": BadRows(_set("learning_rate", 0.0), "learning_rate 0.0 is outside (0, inf]"),
    "learning-rate-negative": BadRows(_set("learning_rate", -1e-3), "learning_rate -0.001 is outside (0, inf]"),
    "learning-rate-nan": BadRows(_set("learning_rate", math.nan), "learning_rate is not finite"),
    "learning-rate-string": BadRows(_set("learning_rate", "1e-3"), "learning_rate must be a real number, got str",
                                    loadable=False),
    "learning-rate-huge-int": BadRows(_set("learning_rate", 10**400), "learning_rate is beyond the range of a float",
                                      loadable=False),
    # numbers the format cannot hold exactly, or of kinds it does not take (round 3)
    "learning-rate-int-not-exact": BadRows(_set("learning_rate", 2**53 + 1), "cannot be represented exactly as a float",
                                           loadable=False),
    "learning-rate-complex": BadRows(_set("learning_rate", complex(1e-3, 0)), "learning_rate must be a real number, "
                                     "got complex", loadable=False),
    "weight-decay-longdouble-overflow": BadRows(_set("weight_decay", np.longdouble("1e4000")),
                                                "weight_decay is beyond the range of a float", loadable=False),
    "train-loss-numpy-bool": BadRows(_set("train_loss", np.bool_(True)), "train_loss must be a real number, got bool",
                                     loadable=False),
    "learning-rate-0d-tensor": BadRows(_set("learning_rate", torch.tensor(1e-3)), "learning_rate must be a number, "
                                       "got Tensor", loadable=False),
    "batch-size-numpy-float": BadRows(_set("batch_size", np.float32(32)), "batch_size must be an integer, got float32",
                                      loadable=False),
    "init-seed-over-int64-numpy": BadRows(_set("init_seed", np.uint64(2**64 - 1)), "init_seed 18446744073709551615 "
                                          "does not fit int64", loadable=False),
    "weight-decay-negative": BadRows(_set("weight_decay", -0.1), "weight_decay -0.1 is outside [0, inf]"),
    "label-smoothing-one": BadRows(_set("label_smoothing", 1.0), "label_smoothing 1.0 is outside [0, 1)"),
    "batch-size-zero": BadRows(_set("batch_size", 0), "batch_size 0 is outside [1, inf]"),
    "batch-size-float": BadRows(_set("batch_size", 32.5), "batch_size must be an integer, got float", loadable=False),
    "batch-size-bool": BadRows(_set("batch_size", True), "batch_size must be an integer, got bool", loadable=False),
    "batch-size-over-int32": BadRows(_set("batch_size", 2**31), "batch_size 2147483648 does not fit int32",
                                     loadable=False),
    "epochs-negative": BadRows(_set("epochs", -1), "epochs -1 is outside [0, inf]"),
    "train-fraction-zero": BadRows(_set("train_fraction", 0.0), "train_fraction 0.0 is outside (0, 1]"),
    "train-fraction-above-1": BadRows(_set("train_fraction", 1.5), "train_fraction 1.5 is outside (0, 1]"),
    "init-seed-negative": BadRows(_set("init_seed", -5), "init_seed -5 is outside [0, inf]"),
    "data-seed-over-int64": BadRows(_set("data_seed", 2**63), "data_seed 9223372036854775808 does not fit int64",
                                    loadable=False),
    "epoch-negative": BadRows(_set("epoch", -1), "epoch -1 is outside [0, inf]"),
    "epoch-after-epochs": BadRows(_set("epoch", 3, index=1), "epoch 3 is after the network's last epoch (epochs=2)",
                                  row_level=False),
    # ids, names and labels
    "model-id-trailing-newline": BadRows(_set("model_id", "mlp-0\n"), "model_id 'mlp-0\\n' is not letters"),
    "model-id-path": BadRows(_set("model_id", "../../etc/passwd"), "model_id '../../etc/passwd' is not letters"),
    "model-id-empty": BadRows(_set("model_id", ""), "model_id '' is not letters"),
    "model-id-bidi": BadRows(_set("model_id", "mlp\u202e0"), "is not letters"),
    "optimizer-markdown": BadRows(_set("optimizer", "adam|<b>x</b>"), "optimizer 'adam|<b>x</b>' is not a name"),
    "augmentation-nul": BadRows(_set("augmentation", "flip\x00"), "augmentation 'flip\\x00' is not a name"),
    "split-label-space": BadRows(_set("split_id", "tr ain"), "split_id 'tr ain' is not a split label", loadable=False),
    "split-label-newline": BadRows(_set("split_id", "train\n"), "split_id 'train\\n' is not a split label",
                                   loadable=False),
    "split-column-default": BadRows(_set("split_default", "train"), "split column 'split_default' is not",
                                    loadable=False),
    "split-column-upper-case": BadRows(_set("split_ID", "train"), "split column 'split_ID' is not", loadable=False),
    # architecture and its consistency with the other columns
    "family-disagrees-with-arch": BadRows(_set("family", "cnn"), "family 'cnn' is not the family of its arch ('mlp')"),
    "family-unknown": BadRows(_set("family", "transformer"), "family 'transformer' is not the family of its arch"),
    "arch-not-json": BadRows(_set("arch", "{mlp"), "bad architecture spec: architecture spec is not valid JSON"),
    "arch-bad-spec": BadRows(_set("arch", json.dumps({"family": "mlp", "depth": 0, "width": 4})),
                             "bad architecture spec: mlp spec: 'depth' must be a positive integer"),
    "arch-deep-nesting": BadRows(_set("arch", '{"family": "mlp", "depth": ' + "[" * 100_000 + "]" * 100_000 + "}"),
                                 "bad architecture spec: architecture spec is not valid JSON"),
    "arch-nesting-just-past-the-limit": BadRows(_set("arch", '{"family": "mlp", "depth": ' + "[" * 70 + "]" * 70 + "}"),
                                                "bad architecture spec: architecture spec is not valid JSON"),
    "arch-giant-integer": BadRows(_set("arch", '{"family": "mlp", "depth": 1' + "0" * 5000 + ', "width": 4}'),
                                  "bad architecture spec: architecture spec is not valid JSON"),
    "arch-integer-beyond-float": BadRows(_set("arch", '{"family": "mlp", "depth": 2, "width": 1' + "0" * 400 + "}"),
                                         "bad architecture spec: architecture spec is not valid JSON"),
    "arch-huge-exponent": BadRows(_set("arch", '{"family": "mlp", "depth": 2, "width": 4e999}'),
                                  "bad architecture spec: architecture spec is not valid JSON"),
    "arch-nan-constant": BadRows(_set("arch", '{"family": "mlp", "depth": NaN, "width": 4}'),
                                 "bad architecture spec: architecture spec is not valid JSON"),
    "arch-not-a-string": BadRows(_set("arch", {"family": "mlp"}), "arch must be a string, got dict", loadable=False),
    "arch-huge-kernel": BadRows(_set("arch", json.dumps({"family": "cnn", "channels": [2], "kernel_size": 257})),
                                "'kernel_size' must be at most 31"),
    "n-params-wrong": BadRows(_set("n_params", 1), "n_params 1 is not the parameter count of its arch"),
    # weights
    "weights-integer-dtype": BadRows(_state(lambda s: s.update({k: v.round().long() for k, v in s.items()})),
                                     "has dtype I64; the network stores torch.float32"),
    "weights-nan": BadRows(_state(lambda s: s["fc0.weight"].__setitem__((0, 0), math.nan)),
                           "tensor 'fc0.weight' has non-finite values"),
    "weights-inf": BadRows(_state(lambda s: s["head.bias"].fill_(-math.inf)), "tensor 'head.bias' has non-finite"),
    "weights-float64-beyond-float32": BadRows(_state(lambda s: s.update({"head.bias": torch.full((10,), 1e300,
                                                                                                 dtype=torch.float64)})),
                                             "tensor 'head.bias' has values beyond the range of torch.float32"),
    "weights-float64-just-past-float32": BadRows(_state(lambda s: s.update({"fc0.weight": s["fc0.weight"].double().fill_(
        3.4028236e38)})), "tensor 'fc0.weight' has values beyond the range of torch.float32"),
    "weights-bfloat16-nan": BadRows(_state(lambda s: s.update({"head.bias": torch.full((10,), math.nan,
                                                                                          dtype=torch.bfloat16)})),
                                    "tensor 'head.bias' has non-finite values"),
    "weights-float16-inf": BadRows(_state(lambda s: s.update({"head.bias": torch.full((10,), -math.inf,
                                                                                         dtype=torch.float16)})),
                                   "tensor 'head.bias' has non-finite values"),
    "weights-uint8-for-float": BadRows(_state(lambda s: s.update({"head.bias": torch.zeros(10, dtype=torch.uint8)})),
                                       "has dtype U8; the network stores torch.float32"),
    "weights-missing-tensor": BadRows(_state(lambda s: s.pop("head.bias")), "missing ['head.bias']"),
    "weights-extra-tensor": BadRows(_state(lambda s: s.update(extra=torch.zeros(1))), "unexpected ['extra']"),
    "weights-wrong-shape": BadRows(_state(lambda s: s.update({"head.bias": torch.zeros(11)})),
                                   "tensor 'head.bias' has shape (11,), the spec needs (10,)"),
    "weights-float-counter": BadRows(_state(lambda s: s.update({k: v.float() for k, v in s.items()}), BN_ROW),
                                     "num_batches_tracked' has dtype F32; the network stores torch.int64",
                                     row_level=False),
    "weights-garbage": BadRows(_set("weights", b"\x00garbage"), "weights are not readable safetensors bytes"),
    "weights-empty": BadRows(_set("weights", b""), "weights are not readable safetensors bytes"),
    "weights-not-bytes": BadRows(_set("weights", [0.1, 0.2]), "weights must be bytes, got list", loadable=False),
    # the table: checkpoints of one network, networks of one zoo
    "duplicate-checkpoint": BadRows(_set("epoch", 0, index=1), "duplicate (model_id, epoch)", row_level=False),
    "two-architectures": BadRows(_other_network_under("mlp-0", {"family": "mlp", "depth": 1, "width": 8}),
                                 "checkpoints of one network have different values: arch", row_level=False),
    "two-families": BadRows(_other_network_under("mlp-0", SPECS["cnn"]),
                            "checkpoints of one network have different values: family 'mlp' vs 'cnn'", row_level=False),
    "network-in-two-splits": BadRows(_set("split_id", "test", index=1),
                                     "checkpoints of one network have different splits: split_id",
                                     row_level=False),
    "learning-rate-differs": BadRows(_set("learning_rate", 0.5, index=1),
                                     "different values: learning_rate 0.001 vs 0.5", row_level=False),
    "init-seed-differs": BadRows(_set("init_seed", 12, index=1), "different values: init_seed 0 vs 12",
                                 row_level=False),
    "epochs-differ": BadRows(_set("epochs", 3, index=1), "different values: epochs 2 vs 3", row_level=False),
    "no-final-checkpoint": BadRows(lambda rows: rows.pop(1), "its last checkpoint is at epoch 0, not at its epochs=2",
                                   row_level=False),
    "one-network-two-ids": BadRows(_copy_network, "epoch=2: one network stored under two ids", row_level=False),
    "one-network-two-ids-other-metadata": BadRows(_copy_network_as(lambda s: st_save(s, metadata={"note": "new"})),
                                                  "epoch=2: one network stored under two ids", row_level=False),
    "one-network-two-ids-as-float64": BadRows(_copy_network_as(_as_float64), "one network stored under two ids",
                                              row_level=False),
    "one-network-two-ids-negative-zero": BadRows(_copy_network_as(lambda s: st_save({k: (v.masked_fill(v == 0, -0.0)
                                                                                       if v.is_floating_point() else v)
                                                                                      for k, v in s.items()})),
                                                 "one network stored under two ids", row_level=False),
    "split-columns-differ": BadRows(_set("split_extra", "train", index=2), "split columns ['split_extra', 'split_id'] "
                                    "differ from the first row's ['split_id']", row_level=False, loadable=False),
    "no-rows": BadRows(lambda rows: rows.clear(), "a zoo needs at least one row", row_level=False, loadable=False),
}


def write_unchecked(rows: list[dict], folder: Path) -> Path:
    """Write ``rows`` as ``write_zoo`` lays them out, skipping its checks: a zoo folder as a
    careless or hostile writer could make it."""
    with mock.patch.object(zoo_io, "check_rows", lambda rows: None), \
            mock.patch("gmn_bench.zoo.card.zoo_summary", return_value=""):
        return write_zoo(rows, folder, overwrite=True)


def _card(folder: Path) -> str:
    return (folder / "README.md").read_text()


def _edit_card(change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        text = _card(folder)
        changed = change(text)
        assert changed != text, "the card edit changed nothing"
        (folder / "README.md").write_text(changed)
    return apply


def _shard(folder: Path, split: str) -> Path:
    return next(folder.glob(f"data/id.{split}-*.parquet"))


def _edit_shard(split: str, change: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = _shard(folder, split)
        pq.write_table(change(pq.read_table(path)), path)
    return apply


def _relabel_one_row(table: pa.Table) -> pa.Table:
    labels = table.column("split_id").to_pylist()
    labels[0] = "test"
    return table.set_column(table.schema.get_field_index("split_id"), "split_id", pa.array(labels))


def _cast(column: str, dtype) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index(column)
        return table.set_column(i, column, table.column(column).cast(dtype))
    return change


def _replace_column(column: str, make: Callable[[int], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        return table.set_column(table.schema.get_field_index(column), column, make(len(table)))
    return change


def _nested(kind: pa.DataType, depth: int, wrap: Callable[[pa.DataType], pa.DataType]) -> pa.DataType:
    for _ in range(depth):
        kind = wrap(kind)
    return kind


def _deep_struct(n: int) -> pa.Array:
    """``n`` nulls of a struct nested 90 levels deep (Parquet's own limit is 100)."""
    return pa.nulls(n, type=_nested(pa.float64(), 90, lambda t: pa.struct([("a", t)])))


def _corrupt_pages(folder: Path) -> None:
    """Overwrite the data pages of a shard, keeping its footer (schema) readable."""
    path = _shard(folder, "test")
    data = bytearray(path.read_bytes())
    data[4:len(data) // 2] = b"\xff" * (len(data) // 2 - 4)
    path.write_bytes(bytes(data))


def _swap_shards(text: str) -> str:
    return text.replace("data/id.train-", "data/SWAP-").replace("data/id.test-", "data/id.train-").replace(
        "data/SWAP-", "data/id.test-")


def _empty(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


def _card_yaml(yaml_text: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        body = _card(folder).split("---", 2)[2]
        (folder / "README.md").write_text(f"---\n{yaml_text}\n---{body}")
    return apply


_NESTED = "[" * 2000 + "]" * 2000
_ALIAS_BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"]
                        + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
                        + ["configs: [*i]"])

class BadFolder(NamedTuple):
    defect: Callable[[Path], object]
    message: str
    config: str = "id"  # the config load_zoo is asked for


BAD_FOLDERS: dict[str, BadFolder] = {
    # the card
    "no-card": BadFolder(lambda f: (f / "README.md").unlink(), "is not a zoo folder: no README.md dataset card"),
    "empty-folder": BadFolder(_empty, "no README.md dataset card (the folder is empty)"),
    "card-yaml-python-tag": BadFolder(_edit_card(lambda t: t.replace("pretty_name: gmn-bench zoo",
                                                            "pretty_name: !!python/object/apply:os.system ['true']")),
                             "its YAML header cannot be read safely (ConstructorError"),
    "card-yaml-syntax": BadFolder(_edit_card(lambda t: t.replace("pretty_name: gmn-bench zoo", "pretty_name: [unclosed")),
                         "its YAML header cannot be read safely (ParserError"),
    "card-yaml-deep-nesting": BadFolder(_card_yaml(f"configs: {_NESTED}"), "its YAML header cannot be read safely"),
    "card-yaml-alias-bomb": BadFolder(_card_yaml(_ALIAS_BOMB), "aliases are not accepted"),
    "card-yaml-a-list": BadFolder(_card_yaml("- configs"), "its YAML header cannot be read safely (ValueError"),
    "card-not-utf8": BadFolder(lambda f: (f / "README.md").write_bytes(b"---\npretty_name: \xff\xfe\n---\n"),
                      "its YAML header cannot be read safely (UnicodeDecodeError"),
    "card-without-configs": BadFolder(_card_yaml("pretty_name: x"), "declares no 'configs' list"),
    "config-without-name": BadFolder(_card_yaml("configs: [{data_files: [{split: train, path: data/x.parquet}]}]"),
                            "has no config_name"),
    "config-twice": BadFolder(_edit_card(lambda t: t.replace("- config_name: id", "- config_name: default", 1)),
                     "config 'default' is declared twice"),
    "config-without-data-files": BadFolder(_card_yaml("configs: [{config_name: default}]"), "config 'default' lists no data_files"),
    "split-declared-twice": BadFolder(_edit_card(lambda t: t.replace("  - split: train\n", "  - split: test\n", 2).replace(
        "  - split: test\n", "  - split: train\n", 1)), "needs a new split name"),
    "split-name-odd": BadFolder(_edit_card(lambda t: t.replace("  - split: test\n", "  - split: te st\n")),
                       "needs a new split name"),
    "data-file-missing": BadFolder(lambda f: _shard(f, "test").unlink(), "does not exist"),
    "data-file-outside": BadFolder(_edit_card(lambda t: t.replace("- data/id.test-", "- data/../../id.test-")),
                          "is not a relative path under data/"),
    "data-file-absolute": BadFolder(_edit_card(lambda t: t.replace("- data/id.test-", "- /data/id.test-")),
                           "is not a relative path under data/"),
    "data-file-not-parquet": BadFolder(_edit_card(lambda t: t.replace("- data/id.test-00000-of-00001.parquet",
                                                             "- data/id.test-00000-of-00001.csv")),
                              "is not a .parquet file"),
    "stale-split-sizes": BadFolder(_edit_card(lambda t: t.replace("num_examples: 2\n", "num_examples: 3\n")),
                          "the card states split sizes"),
    "split-sizes-malformed": BadFolder(_edit_card(lambda t: t.replace("num_examples: 2\n", "num_examples: two\n")),
                              "split entry"),
    # splits and their data files
    "shards-swapped": BadFolder(_edit_card(_swap_shards), "the split column disagrees with its data files"),
    "shard-in-two-splits": BadFolder(_edit_card(lambda t: t.replace("    - data/id.train-00000-of-00001.parquet\n",
                                                           "    - data/id.train-00000-of-00001.parquet\n"
                                                           "    - data/id.test-00000-of-00001.parquet\n")),
                            "the split column disagrees with its data files"),
    "row-label-disagrees-with-shard": BadFolder(_edit_shard("train", _relabel_one_row),
                                       "split 'train' holds rows labelled ['test', 'train']"),
    "config-without-label-column": BadFolder(_edit_card(lambda t: t.replace("config_name: id", "config_name: ood_size")),
                                             "config 'ood_size' has no split_ood_size column", "ood_size"),
    "default-config-with-test-split": BadFolder(_edit_card(lambda t: t.replace(
        "  - split: train\n", "  - split: test\n", 1)), "the default config must have one split, train", "default"),
    # the data files
    "shard-truncated": BadFolder(lambda f: _shard(f, "test").write_bytes(_shard(f, "test").read_bytes()[:300]),
                                 "is not a readable parquet file"),
    "shard-not-parquet": BadFolder(lambda f: _shard(f, "test").write_bytes(b"PAR1 not really"),
                                   "is not a readable parquet file"),
    "shard-corrupt-pages": BadFolder(_corrupt_pages, "could not read zoo"),
    "column-wrong-type": BadFolder(_edit_shard("test", _cast("epoch", pa.float64())),
                                   "data file data/id.test-00000-of-00001.parquet: column epoch has Arrow type double, "
                                   "the format says int32"),
    "weights-large-binary": BadFolder(_edit_shard("test", _cast("weights", pa.large_binary())),
                                      "column weights has Arrow type large_binary"),
    # columns of Arrow types the format has no place for (round 3)
    "column-dictionary-encoded": BadFolder(_edit_shard("test", _cast("optimizer", pa.dictionary(pa.int32(), pa.string()))),
                                           "column optimizer has Arrow type dictionary"),
    "column-large-string": BadFolder(_edit_shard("test", _cast("model_id", pa.large_string())),
                                     "column model_id has Arrow type large_string"),
    "column-map": BadFolder(_edit_shard("test", _replace_column("learning_rate", lambda n: pa.array(
        [[("lr", 0.1)]] * n, type=pa.map_(pa.string(), pa.float64())))), "column learning_rate has Arrow type map"),
    "column-deeply-nested-struct": BadFolder(_edit_shard("test", _replace_column("test_acc", _deep_struct)),
                                             "column test_acc has Arrow type struct"),
    "column-decimal": BadFolder(_edit_shard("test", _replace_column("train_acc", lambda n: pa.array(
        [None] * n, type=pa.decimal128(10, 2)))), "column train_acc has Arrow type decimal128(10, 2)"),
    "column-time-of-day": BadFolder(_edit_shard("test", _replace_column("test_loss", lambda n: pa.array(
        [None] * n, type=pa.time64("us")))), "column test_loss has Arrow type time64[us]"),
    "column-nested-too-deep-for-parquet": BadFolder(_edit_shard("test", _replace_column("test_acc", lambda n: pa.nulls(
        n, type=_nested(pa.float64(), 150, lambda t: pa.list_(t))))), "is not a readable parquet file"),
    "column-float16": BadFolder(_edit_shard("test", _cast("learning_rate", pa.float16())),
                                "column learning_rate has Arrow type halffloat"),
    "column-null-type": BadFolder(_edit_shard("test", _replace_column("train_loss", lambda n: pa.nulls(n))),
                                  "column train_loss has Arrow type null"),
    "column-unknown": BadFolder(_edit_shard("test", lambda t: t.append_column("colour", pa.array(["red"] * len(t)))),
                       "unknown columns ['colour']"),
    "column-missing": BadFolder(_edit_shard("test", lambda t: t.drop_columns(["optimizer"])), "missing columns ['optimizer']"),
}
"""kind -> defect applied to a good zoo folder of :func:`conftest.make_rows`, part of the error message."""
