"""The zoo shipped in the package: the benchmark zoo's final checkpoints, within the size budget,
readable offline, with the spread of targets and the split sizes the benchmark promises."""
import statistics
from collections import Counter
from pathlib import Path

import datasets

from gmn_bench import load_zoo, to_module
from gmn_bench.build.recipes import load_recipe
from gmn_bench.zoo import assign_splits
from gmn_bench.zoo.default import DEFAULT_ZOO, SHIFT_ZOO
from conftest import SPECS  # noqa: F401  (conftest sets the offline cache first)

BUILDERS = Path(__file__).resolve().parents[1] / "builders"
RECIPE = load_recipe(BUILDERS / "cifar10-bench")


def test_default_zoo_holds_every_network_of_its_recipe_once_within_the_size_budget():
    size = sum(p.stat().st_size for p in DEFAULT_ZOO.rglob("*") if p.is_file())
    assert size < 60 * 10**6
    rows = load_zoo(DEFAULT_ZOO, split="train").remove_columns(["weights"])
    expected = {c["model_id"]: c["epochs"] for c in RECIPE.configurations()}
    assert len(rows) == RECIPE.n_networks >= 1000
    assert dict(zip(rows["model_id"], rows["epoch"])) == expected  # each network's final checkpoint, once
    assert datasets.get_dataset_config_names(str(DEFAULT_ZOO)) == ["default", "id", "ood_family", "ood_size"]


def test_targets_spread_from_chance_with_every_family_across_the_range():
    rows = load_zoo(DEFAULT_ZOO, split="train").select_columns(["family", "test_acc"])
    accs = rows["test_acc"]
    q1, _, q3 = statistics.quantiles(accs, n=4)
    assert min(accs) <= 0.11 and max(accs) >= 0.55 and q3 - q1 >= 0.10
    for family in ("mlp", "cnn", "resnet", "vit"):
        mine = [a for a, f in zip(accs, rows["family"]) if f == family]
        assert len(mine) >= 200 and max(mine) - min(mine) >= 0.3, family


def test_splits_are_sized_for_statistics():
    def networks(config):
        return {split: len(ds) for split, ds in load_zoo(DEFAULT_ZOO, config=config).items()}

    assert networks("id")["test"] >= 150 and networks("id")["validation"] >= 100
    assert networks("ood_family")["test"] >= 150 and networks("ood_size")["test"] >= 150
    held_out = load_zoo(DEFAULT_ZOO, config="ood_family", split="test")["family"]
    assert Counter(held_out) == {"vit": len(held_out)}


def test_default_zoo_card_states_the_data_the_cost_and_the_copy():
    card = (DEFAULT_ZOO / "README.md").read_text()
    assert "50,000 CIFAR-10 training images" in card
    assert "measured on 1,000 test images (the first 1,000 of CIFAR-10's 10,000-image test set" in card
    assert "## Training cost" in card and "final checkpoint only" in card
    assert "plots/accuracy_histogram.png" in card and "plots/accuracy_vs_params.png" in card


def test_default_zoo_networks_rebuild():
    rows = load_zoo(DEFAULT_ZOO, config="id", split="test")
    for family in ("mlp", "cnn", "resnet", "vit"):
        to_module(next(r for r in rows if r["family"] == family))


def _labels(rows):
    return [{c: v for c, v in r.items() if c.startswith("split_")} for r in rows]


def test_every_embedded_zoo_holds_its_recipes_networks_in_float32_with_the_labels_its_rules_give():
    for folder in (DEFAULT_ZOO, SHIFT_ZOO):
        recipe = load_recipe(BUILDERS / folder.name)
        rows = [dict(r) for r in load_zoo(folder, split="train").remove_columns(["weights"])]
        assert sorted(r["model_id"] for r in rows) == [c["model_id"] for c in recipe.configurations()]
        assert {r["precision"] for r in rows} == {"float32"}
        unlabelled = [{c: v for c, v in r.items() if not c.startswith("split_")} for r in rows]
        assert _labels(rows) == _labels(assign_splits(unlabelled, recipe.held_out_family, recipe.ood_size_min_params,
                                                      recipe.id_fractions)), folder.name


def test_the_cross_zoo_test_zoo_is_small_and_spans_every_family():
    assert sum(p.stat().st_size for p in SHIFT_ZOO.rglob("*") if p.is_file()) < 15 * 10**6
    rows = load_zoo(SHIFT_ZOO, split="train").select_columns(["family", "test_acc"])
    assert set(rows["family"]) == {"mlp", "cnn", "resnet", "vit"} and len(rows) >= 200
    assert max(rows["test_acc"]) - min(rows["test_acc"]) >= 0.25
