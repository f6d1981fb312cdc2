from pathlib import Path

import pytest

from gmn_bench import build_model
from gmn_bench.build.recipes import load_recipe

BUILDERS = Path(__file__).resolve().parents[1] / "builders"


@pytest.mark.parametrize("name", ["cifar10-tiny", "cifar10-diverse", "cifar10-cnn"])
def test_shipped_recipes_sample_buildable_networks(name):
    recipe = load_recipe(BUILDERS / name)
    configs = [recipe.sample(i) for i in range(40)]
    assert len({c["model_id"] for c in configs}) == 40
    for c in configs:
        build_model(c["spec"])
        assert c["epochs"] == max(recipe.checkpoint_epochs)
        assert c["optimizer"] in {"sgd", "adam", "adamw"}
    assert (BUILDERS / name / "README.md").exists()


def test_sampling_is_deterministic_and_prefix_stable():
    recipe = load_recipe(BUILDERS / "cifar10-tiny")
    assert recipe.configurations() == load_recipe(BUILDERS / "cifar10-tiny").configurations()
    assert recipe.sample(5) == recipe.configurations()[5]


def test_diverse_recipe_mixes_all_families():
    families = {c["spec"]["family"] for c in load_recipe(BUILDERS / "cifar10-diverse").configurations()[:100]}
    assert families == {"mlp", "cnn", "resnet", "vit"}


def test_cnn_recipe_has_one_architecture():
    configs = load_recipe(BUILDERS / "cifar10-cnn").configurations()[:50]
    assert len({str(c["spec"]) for c in configs}) == 1
    assert len({c["learning_rate"] for c in configs}) == 50


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('n_networks = 72\n', ''), "missing keys ['n_networks']"),
    (lambda t: t.replace('mlp = 1, cnn', 'mlp = 1, lstm = 1, cnn'), "unknown families ['lstm']"),
    (lambda t: t.replace('checkpoint_epochs = [0, 1, 3]', 'checkpoint_epochs = [3, 1]'), "increasing"),
    (lambda t: t.replace('{ int_range = [1, 2] }', '{ int_range = [2, 1] }', 1), "bad sampler"),
    (lambda t: t.replace('{ log_uniform = [3e-4, 3e-2] }', '{ log_uniform = [0.0, 3e-2] }'), "positive bounds"),
    (lambda t: t.replace('choice = [8, 16, 32]', 'choice = [0]'), "'width' must be a positive integer"),
    (lambda t: t.replace('optimizer = ', 'optimiser = '), "misses ['optimizer']"),
    (lambda t: t + "\n[[oops", "cannot read recipe"),
    (lambda t: t.replace('ood_size_min_params = 24700', 'size_quantile = 0.8'), "size_quantile is gone"),
    (lambda t: t.replace('ood_size_min_params = 24700', 'ood_size_min_params = 0.5'), "ood_size_min_params must be"),
    (lambda t: t.replace('precision = "float32"', 'precision = "float16"'), "precision must be one of"),
])
def test_bad_recipes_fail_when_loaded(tmp_path, edit, message):
    path = tmp_path / "recipe.toml"
    path.write_text(edit((BUILDERS / "cifar10-tiny" / "recipe.toml").read_text()))
    with pytest.raises(ValueError) as info:
        load_recipe(path)
    assert message in str(info.value)
