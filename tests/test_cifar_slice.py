"""The CIFAR-10 slice the tests read: the Hub layout of uoft-cs/cifar10, class-balanced prefixes, and (with the full
training set beside the checkout) exactly what scripts/make_cifar10_slice.py makes from it."""
import importlib.util
from collections import Counter
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import CIFAR, FULL_CIFAR
from gmn_bench.nets.cifar import load_cifar10

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_cifar10_slice.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_cifar10_slice", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_slice_has_the_hub_layout_and_reads_with_load_dataset():
    card = yaml.safe_load((CIFAR / "README.md").read_text().split("---")[1])
    assert card["configs"][0]["config_name"] == "plain_text"
    assert {f["split"]: f["path"] for f in card["configs"][0]["data_files"]} == {"train": "plain_text/train-*",
                                                                              "test": "plain_text/test-*"}
    for split, n in (("train", 1000), ("test", 500)):
        ds = datasets.load_dataset(str(CIFAR), split=split)
        assert len(ds) == n and list(ds.features) == ["img", "label"]
        assert ds.features["label"].names[:2] == ["airplane", "automobile"]
        assert ds[0]["img"].size == (32, 32)
        assert set(pq.read_schema(next((CIFAR / "plain_text").glob(f"{split}-*.parquet"))).names) == {"img", "label"}


@pytest.mark.parametrize("split,n", [("train", 256), ("test", 120)])
def test_every_prefix_of_ten_images_is_class_balanced(split, n):
    _, labels = load_cifar10(str(CIFAR), split, limit=n)
    counts = Counter(labels.tolist())
    assert sorted(counts) == list(range(10)) and max(counts.values()) - min(counts.values()) <= 1


def test_too_few_images_of_a_class_is_an_error():
    table = pq.read_table(next((CIFAR / "plain_text").glob("test-*.parquet")))
    with pytest.raises(ValueError, match="fewer than 51"):
        _script().first_per_class(table, 51)


@pytest.mark.full_data
def test_the_slice_is_what_the_script_makes_from_the_full_training_set(tmp_path):
    assert FULL_CIFAR.is_dir(), f"the full CIFAR-10 copy is not at {FULL_CIFAR} (set GMN_BENCH_FULL_CIFAR)"
    _script().make_slice(FULL_CIFAR, tmp_path, 100, 50, "../shared/cifar10-fulltrain")
    assert (tmp_path / "README.md").read_text() == (CIFAR / "README.md").read_text()
    for split in ("train", "test"):
        name = f"plain_text/{split}-00000-of-00001.parquet"
        assert pq.read_table(tmp_path / name).equals(pq.read_table(CIFAR / name))
