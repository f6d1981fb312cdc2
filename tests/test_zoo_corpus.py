"""Every defect of the zoo corpus is refused with an error naming it, on write, on load and by to_module;
and rows the format allows load back unchanged."""
from unittest import mock

import pytest
import torch

from conftest import make_rows
from gmn_bench import ZooFormatError, ZooRowError, load_zoo, to_module, write_zoo
from zoo_corpus import BAD_FOLDERS, BAD_ROWS, TARGET, write_unchecked


@pytest.fixture(autouse=True)
def _no_card_plots():
    with mock.patch("gmn_bench.zoo.card.write_card_plots", return_value=[]):  # speed: plots are not under test
        yield


def _message(error_type, call, *args, **kwargs) -> str:
    with pytest.raises(error_type) as info:
        call(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("kind", BAD_ROWS)
def test_bad_rows_are_refused_on_write_on_load_and_by_to_module(kind, tmp_path):
    case = BAD_ROWS[kind]
    rows = make_rows()
    case.mutate(rows)
    assert case.message in _message(ZooFormatError, write_zoo, rows, tmp_path / "written")
    assert not (tmp_path / "written").exists()
    if case.row_level:
        message = _message(ZooRowError, to_module, rows[TARGET])
        assert case.message in message and "model_id=" in message
    if case.loadable:
        folder = write_unchecked(rows, tmp_path / "zoo")
        assert case.message in _message(ZooFormatError, load_zoo, folder, config="id")


@pytest.mark.parametrize("kind", [k for k, case in BAD_ROWS.items() if case.row_level and case.loadable][:5])
def test_streaming_checks_each_row_as_it_is_read(kind, tmp_path):
    rows = make_rows()
    BAD_ROWS[kind].mutate(rows)
    stream = load_zoo(write_unchecked(rows, tmp_path / "zoo"), config="id", streaming=True)
    message = _message(ZooFormatError, lambda: [r for split in stream.values() for r in split])
    assert BAD_ROWS[kind].message in message


@pytest.mark.parametrize("kind", BAD_FOLDERS)
def test_bad_zoo_folders_are_refused_naming_the_problem(kind, tmp_path):
    folder = write_zoo(make_rows(), tmp_path / "zoo")
    case = BAD_FOLDERS[kind]
    case.defect(folder)
    assert case.message in _message(ZooFormatError, load_zoo, folder, config=case.config)


def test_the_corpus_is_large_enough():
    assert len(BAD_ROWS) + len(BAD_FOLDERS) >= 40


def test_rows_the_format_allows_round_trip(tmp_path):
    rows = make_rows()
    rows[0]["train_fraction"] = rows[1]["train_fraction"] = 0.5  # optional column, present on some rows only
    rows[2]["weights"] = _half_precision(rows[2]["weights"])
    rows[3]["weights"] = rows[2]["weights"]
    for row in rows:
        row["test_acc"], row["train_loss"] = (None, None) if row["epoch"] == 0 else (row["test_acc"], 0)
    loaded = load_zoo(write_zoo(rows, tmp_path / "zoo"), split="train")
    by_key = {(r["model_id"], r["epoch"]): r for r in loaded}
    for row in rows:
        back = by_key[(row["model_id"], row["epoch"])]
        assert back["weights"] == row["weights"] and back["test_acc"] == row["test_acc"]
        assert to_module(back).state_dict().keys() == to_module(row).state_dict().keys()


def _half_precision(weights: bytes) -> bytes:
    from safetensors.torch import load, save

    return save({k: v.half() if v.is_floating_point() else v for k, v in load(weights).items()})


def test_a_missing_path_a_file_or_a_revision_of_a_folder_is_a_clear_error(tmp_path):
    from gmn_bench import ZooUnavailableError

    (tmp_path / "file.txt").write_text("x")
    assert "no such folder" in _message(ZooUnavailableError, load_zoo, tmp_path / "missing")
    assert "is a file, not a zoo folder" in _message(ZooUnavailableError, load_zoo, tmp_path / "file.txt")
    folder = write_zoo(make_rows(), tmp_path / "zoo")
    assert "applies only to Hub repos" in _message(ZooUnavailableError, load_zoo, folder, revision="v1")
    assert "config 'nope' not found" in _message(ZooFormatError, load_zoo, folder, config="nope")
    assert "split 'dev' not found" in _message(ZooFormatError, load_zoo, folder, config="id", split="dev")


def test_to_module_leaves_the_random_state_alone(rows):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    to_module({**rows[4], "arch": rows[4]["arch"]})
    assert torch.equal(torch.rand(3), expected)
