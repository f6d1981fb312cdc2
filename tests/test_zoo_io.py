import json

import datasets
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from gmn_bench import ZooFormatError, ZooRowError, load_zoo, to_module, write_zoo
from gmn_bench.zoo.weights import state_dict_to_bytes
from gmn_bench.zoo.schema import COLUMNS

X = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def test_round_trip_gives_identical_outputs(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    loaded = datasets.load_dataset(str(folder), name="id")  # the plain datasets call, as for a Hub repo
    assert {s: len(d) for s, d in loaded.items()} == {"train": 6, "test": 2}
    originals = {(r["model_id"], r["epoch"]): r for r in rows}
    for split in loaded.values():
        for row in split:
            original = to_module(originals[(row["model_id"], row["epoch"])])
            rebuilt = to_module(row)
            assert torch.equal(rebuilt(X), original(X))
            assert row["weights"] == originals[(row["model_id"], row["epoch"])]["weights"]


def test_card_declares_configs_splits_and_every_column(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo", name="tiny", description="A test zoo.")
    card = (folder / "README.md").read_text()
    assert datasets.get_dataset_config_names(str(folder)) == ["default", "id"]
    assert sorted(datasets.get_dataset_split_names(str(folder), "id")) == ["test", "train"]
    for column in COLUMNS:
        assert f"| `{column}` |" in card
    assert "| vit | 1 | 2 |" in card and "A test zoo." in card
    assert "*id0" not in card  # no YAML aliases: every config spells out its features
    for plot in ("plots/accuracy_histogram.png", "plots/accuracy_vs_params.png"):
        assert f"]({plot})" in card and (folder / plot).read_bytes().startswith(b"\x89PNG")


def test_default_config_holds_every_row_without_copies(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    assert len(load_zoo(folder, split="train")) == len(rows)
    shards = sorted(p.name for p in folder.glob("data/*.parquet"))
    assert shards == ["id.test-00000-of-00001.parquet", "id.train-00000-of-00001.parquet"]


def test_zoo_without_split_columns(rows, tmp_path):
    for row in rows:
        del row["split_id"]
    ds = load_zoo(write_zoo(rows, tmp_path / "zoo", rows_per_shard=3), split="train")
    assert len(ds) == len(rows) and len(list((tmp_path / "zoo" / "data").glob("train-*.parquet"))) == 3
    assert ds.features["weights"] == datasets.Value("binary")


def test_streaming_mode_matches_map_mode(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    streamed = list(load_zoo(folder, config="id", split="train", streaming=True))
    mapped = load_zoo(folder, config="id", split="train")
    assert [r["model_id"] for r in streamed] == mapped["model_id"]
    assert torch.equal(to_module(streamed[0])(X), to_module(mapped[0])(X))


def test_rewritten_folder_is_not_served_from_cache(rows, tmp_path):
    folder = tmp_path / "zoo"
    assert len(load_zoo(write_zoo(rows, folder), split="train")) == 8
    assert len(load_zoo(write_zoo(rows[:2], folder, overwrite=True), split="train")) == 2


def test_truncated_shard_raises(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    shard = next(folder.glob("data/id.test-*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(ZooFormatError, match="is not a readable parquet file"):
        load_zoo(folder, config="id")


def test_write_refuses_to_overwrite_by_default(rows, tmp_path):
    write_zoo(rows, tmp_path / "zoo")
    with pytest.raises(FileExistsError):
        write_zoo(rows, tmp_path / "zoo")


@pytest.mark.parametrize("mutate, message", [
    (lambda rows: rows[0].pop("optimizer"), "missing required columns ['optimizer']"),
    (lambda rows: rows[1].update(epoch=0), "duplicate (model_id, epoch)"),
    (lambda rows: rows[1].update(split_id="test"), "checkpoints of one network have different splits"),
    (lambda rows: rows[0].update(colour="red"), "unknown columns ['colour']"),
    (lambda rows: rows.clear(), "at least one row"),
    (lambda rows: rows[0].update(precision="fp8"), "precision 'fp8' is not one of float32, bfloat16, float16"),
    (lambda rows: rows[1].update(precision="bfloat16"), "checkpoints of one network have different values"),
])
def test_bad_rows_are_rejected_on_write(rows, tmp_path, mutate, message):
    mutate(rows)
    with pytest.raises(ZooFormatError) as info:
        write_zoo(rows, tmp_path / "zoo")
    assert message in str(info.value)


def _with_state(row, edit):
    state = st_load(row["weights"])
    edit(state)
    return {**row, "weights": st_save(state)}


@pytest.mark.parametrize("corrupt, message", [
    (lambda r: _with_state(r, lambda s: s.pop("head.bias")), "missing ['head.bias']"),
    (lambda r: _with_state(r, lambda s: s.update(extra=torch.zeros(1))), "unexpected ['extra']"),
    (lambda r: _with_state(r, lambda s: s.update({"head.bias": torch.zeros(11)})), "'head.bias' has shape (11,)"),
    (lambda r: _with_state(r, lambda s: s["fc0.weight"].__setitem__((0, 0), float("nan"))), "'fc0.weight' has non-finite"),
    (lambda r: _with_state(r, lambda s: s["fc1.bias"].__setitem__(0, float("inf"))), "'fc1.bias' has non-finite"),
    (lambda r: {**r, "weights": b"garbage"}, "not readable safetensors"),
    (lambda r: {**r, "arch": json.dumps({"family": "mlp", "depth": 0, "width": 4})}, "bad architecture spec"),
    (lambda r: {**r, "arch": "{"}, "bad architecture spec"),
])
def test_bad_rows_fail_to_load_naming_the_row(rows, corrupt, message):
    bad = corrupt(rows[0])
    with pytest.raises(ZooRowError) as info:
        to_module(bad)
    assert "model_id='mlp-0' epoch=0" in str(info.value) and message in str(info.value)


def test_weights_bytes_are_deterministic(rows):
    module = to_module(rows[2])
    assert state_dict_to_bytes(module) == state_dict_to_bytes(module) == rows[2]["weights"]


def test_several_split_configs_store_each_row_once(rows, tmp_path):
    for i, row in enumerate(rows):
        row["split_ood_family"] = "test" if row["family"] == "vit" else "train"
    folder = write_zoo(rows, tmp_path / "zoo")
    assert sum(len(datasets.Dataset.from_parquet(str(p))) for p in folder.glob("data/*.parquet")) == len(rows)
    assert datasets.get_dataset_config_names(str(folder)) == ["default", "id", "ood_family"]
    ood = load_zoo(folder, config="ood_family")
    assert set(ood["test"]["family"]) == {"vit"} and len(ood["train"]) == 6
    assert len(load_zoo(folder, config="id", split="train")) == 6


def test_a_checked_config_is_reused_until_its_files_change_and_callers_do_not_share_formats(rows, tmp_path):
    folder = write_zoo(rows, tmp_path / "zoo")
    first = load_zoo(folder, config="id", split="train")
    first.set_format("numpy")
    again = load_zoo(folder, config="id", split="train")
    assert first.format["type"] == "numpy" and again.format["type"] is None and len(again) == len(first)
    rows[0]["test_acc"] = 0.99
    rows[1]["test_acc"] = 0.99
    write_zoo(rows, folder, overwrite=True)
    assert 0.99 in load_zoo(folder, config="id", split="train")["test_acc"]
