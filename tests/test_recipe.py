"""The recipe reference line: trees on the recorded recipe and the architecture, no weight; the
recipe+statnn diagnostic adds weight statistics. Both on the recipe track, recorded in results."""
import json

import numpy as np
import pytest

from conftest import TEST_ZOO
from gmn_bench.evaluation import Results, evaluate_metanet, save_results
from gmn_bench.metanets import METANETS, RECIPE_BASELINE, REFERENCE_LINES, ArchOnly, Recipe, RecipeStatNN
from gmn_bench.metanets.recipe import recipe_features
from gmn_bench.nets.training import AUGMENTATIONS, OPTIMIZERS
from gmn_bench.tasks import get_task


@pytest.fixture(scope="module")
def rows():
    return {name: get_task(name, zoo=TEST_ZOO).rows("test", track="recipe")[0]
            for name in ("accuracy-prediction", "hyperparameter-prediction-optimizer", "hyperparameter-prediction-lr")}


def test_recipe_features_are_the_recipe_without_the_tasks_target(rows):
    full = recipe_features(rows["accuracy-prediction"])
    # optimizer and augmentation one-hot; learning rate, weight decay, label smoothing, batch size, epochs and
    # the train fraction (a column of every zoo written since it was added; -1 where not recorded)
    assert len(full) == len(OPTIMIZERS) + len(AUGMENTATIONS) + 6
    assert full[:len(OPTIMIZERS)].sum() == 1.0
    assert len(recipe_features(rows["hyperparameter-prediction-optimizer"])) == len(full) - len(OPTIMIZERS)
    assert len(recipe_features(rows["hyperparameter-prediction-lr"])) == len(full) - 1
    row = rows["accuracy-prediction"]
    assert full[len(OPTIMIZERS)] == row["learning_rate"] and len(Recipe().featurize(row)) == len(full) + len(
        ArchOnly().featurize(row))


def test_an_unknown_name_is_all_zeros_and_an_unrecorded_fraction_out_of_range():
    row = {"optimizer": "lion", "learning_rate": 0.1, "train_fraction": None, "augmentation": "flip"}
    features = recipe_features(row)
    assert not features[:len(OPTIMIZERS)].any() and features[len(OPTIMIZERS) + 1] == -1.0
    assert list(features[-len(AUGMENTATIONS):]) == [float(a == "flip") for a in AUGMENTATIONS]


def test_recipe_reads_no_weight_and_recipe_statnn_does(rows):
    row = dict(rows["accuracy-prediction"])
    swapped = {**row, "weights": b"not safetensors"}  # never parsed
    assert np.array_equal(Recipe().featurize(swapped), Recipe().featurize(row))
    same_arch = next(r for r in get_task("accuracy-prediction", zoo=TEST_ZOO).rows("train", track="recipe")
                     if r["arch"] == row["arch"] and r["weights"] != row["weights"])
    moved = {**row, "weights": same_arch["weights"]}
    assert not np.array_equal(RecipeStatNN().featurize(moved), RecipeStatNN().featurize(row))
    assert np.array_equal(RecipeStatNN().featurize(row)[:len(Recipe().featurize(row))], Recipe().featurize(row))


def test_the_recipe_line_is_a_reference_line_on_the_recipe_track():
    assert RECIPE_BASELINE == "recipe" and REFERENCE_LINES == ("constant", "arch-only", "recipe")
    assert METANETS["recipe"] is Recipe and METANETS["recipe+statnn"] is RecipeStatNN
    assert Recipe.track == RecipeStatNN.track == "recipe" and Recipe.deterministic and RecipeStatNN.deterministic


@pytest.mark.parametrize("task_name", ["accuracy-prediction", "hyperparameter-prediction-optimizer"])
def test_results_record_the_track(task_name, tmp_path):
    task = get_task(task_name, zoo=TEST_ZOO)
    result = evaluate_metanet(task, "recipe", seeds=[0, 1], progress=False)
    assert result.metanet.track == "recipe" and result.seeds == [0]
    path = save_results(result, task, tmp_path)
    assert json.loads(path.read_text())["metanet"]["track"] == "recipe"
    assert Results.load(path).metanet.track == "recipe"
    earlier = json.loads(path.read_text())
    del earlier["metanet"]["track"]  # a file written before tracks: the weights track
    assert Results.from_json(earlier).metanet.track == "weights"
    assert evaluate_metanet(task, "constant", progress=False).metanet.track == "weights"
