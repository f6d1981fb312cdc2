"""The zoo shipped in the package: present, small, readable offline, and honest about its data."""
import datasets

from gmn_bench import load_zoo, to_module
from gmn_bench.zoo.default import DEFAULT_ZOO
from gmn_bench.build.recipes import load_recipe
from conftest import SPECS  # noqa: F401  (conftest sets the offline cache first)

from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "builders" / "cifar10-tiny"


def test_default_zoo_is_small_and_complete():
    size = sum(p.stat().st_size for p in DEFAULT_ZOO.rglob("*") if p.is_file())
    assert size < 15 * 2**20
    recipe = load_recipe(RECIPE)
    rows = load_zoo(DEFAULT_ZOO, split="train")
    assert len(rows) == recipe.n_networks * len(recipe.checkpoint_epochs)
    assert set(rows["family"]) == {"mlp", "cnn", "resnet", "vit"}
    assert datasets.get_dataset_config_names(str(DEFAULT_ZOO)) == ["default", "id", "ood_family", "ood_size"]
    assert set(load_zoo(DEFAULT_ZOO, config="ood_family", split="test")["family"]) == {"vit"}


def test_default_zoo_card_records_the_subset():
    card = (DEFAULT_ZOO / "README.md").read_text()
    assert "trained on 4,660 CIFAR-10 training images and scored on 846 test images" in card
    assert "plots/accuracy_histogram.png" in card


def test_default_zoo_networks_learned_something():
    rows = load_zoo(DEFAULT_ZOO, split="train")
    final = [r for r in rows if r["epoch"] == max(rows["epoch"])]
    assert sum(r["test_acc"] for r in final) / len(final) > 0.2  # chance is 0.1
    for r in final[:8]:
        to_module(r)
