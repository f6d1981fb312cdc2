"""What a metanet reads: the input view of a task's rows. No label, recipe, seed or split column is
reachable through any public path that hands rows to a metanet; the recipe track adds the recipe,
minus the task's own target; targets come only from ``task.targets``."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from torch_geometric.data import Data

from conftest import CIFAR, TEST_ZOO
from gmn_bench.evaluation import evaluate_metanet, predict
from gmn_bench.evaluation.predictors import SklearnPredictor
from gmn_bench.metanets import METANETS, SklearnMetanet, TorchMetanet
from gmn_bench.tasks import (INPUT_COLUMNS, RECIPE_COLUMNS, TASKS, HiddenColumnError, ParameterPredictionTask,
                             TaskGraphDataset, TaskWeightsDataset, get_task)
from gmn_bench.zoo.io import load_zoo
from gmn_bench.zoo.schema import COLUMNS

ZOO_COLUMNS = load_zoo(TEST_ZOO, split="train").column_names
# every column of the format but the inputs (train_fraction too, which this zoo leaves out), and the split labels
HIDDEN = sorted(set(COLUMNS) - set(INPUT_COLUMNS) | {c for c in ZOO_COLUMNS if c.startswith("split_")})
LABELS = sorted(set(HIDDEN) - set(RECIPE_COLUMNS))  # hidden on the recipe track too


def test_the_hidden_columns_are_every_label_recipe_seed_and_split_column():
    assert set(ZOO_COLUMNS) - set(INPUT_COLUMNS) <= set(HIDDEN)
    assert {"split_id", "split_ood_family", "split_ood_size"} <= set(HIDDEN)
    assert {"test_acc", "train_acc", "test_loss", "train_loss", "epoch", "init_seed", "data_seed"} <= set(LABELS)


@pytest.fixture(scope="module")
def task():
    return get_task("accuracy-prediction", zoo=TEST_ZOO)


def _reader(column):
    """A featurizer that reads ``column`` of its row."""
    def featurize(row):
        return row[column]
    return featurize


class _ReadsSklearn(SklearnMetanet):
    name = "reads-column"
    deterministic = True

    def __init__(self, column: str):
        super().__init__(column=column)

    def featurize(self, row):
        return np.array([float(len(row["weights"])), row[self._hparams["column"]]])

    def estimator(self, task_type, seed):
        return Ridge()


class _ReadsTorch(TorchMetanet):
    name = "reads-column-torch"

    def __init__(self, out_dim: int, column: str = "test_acc"):
        super().__init__(out_dim=out_dim, column=column)

    def featurize(self, row):
        return Data(x=row[self._hparams["column"]])

    def forward(self, batch):
        raise AssertionError("never reached: featurizing fails first")


class _ChecksRows(_ReadsSklearn):
    name = "checks-rows"
    column = "test_acc"

    @classmethod
    def check_rows(cls, rows):
        for row in rows:
            row[cls.column]


PATHS = {
    "rows[column]": lambda task, c: task.rows("train")[c],
    "rows[i][column]": lambda task, c: task.rows("test")[0][c],
    "row.get(column)": lambda task, c: task.rows("validation")[0].get(c),
    "iterated row": lambda task, c: [row[c] for row in task.rows("train")],
    "rows.select_columns": lambda task, c: task.rows("train").select_columns(["model_id", c]),
    "predict(callable)": lambda task, c: predict(task, lambda rows: [r[c] for r in rows]),
    "predict(estimator, featurize)": lambda task, c: predict(task, (Ridge(), _reader(c))),
    "predict(SklearnPredictor)": lambda task, c: predict(task, SklearnPredictor(Ridge(), _reader(c))),
    "TaskGraphDataset": lambda task, c: TaskGraphDataset(task, "train", _reader(c)),
    "TaskWeightsDataset.rows": lambda task, c: TaskWeightsDataset(task, "test").rows[0][c],
    "protocol, scikit-learn metanet": lambda task, c: evaluate_metanet(task, _ReadsSklearn, hparams={"column": c},
                                                                      progress=False),
    "protocol, torch metanet": lambda task, c: evaluate_metanet(task, _ReadsTorch, hparams={"column": c}, seeds=[0],
                                                                epochs=1, lr_grid=[1e-3], progress=False),
    "metanet check_rows": lambda task, c: evaluate_metanet(task, type("C", (_ChecksRows,), {"column": c}),
                                                           progress=False),
    "parameter-prediction train rows": lambda task, c: ParameterPredictionTask(TEST_ZOO, data=str(CIFAR)).rows(
        "train")[0][c],
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("column", HIDDEN)
def test_every_hidden_column_is_a_clear_error_on_every_path(task, path, column):
    with pytest.raises(HiddenColumnError, match=f"'{column}' is a label/recipe column; metanets of the 'weights' "
                                                "track read only model_id, family, arch, n_params, weights; "
                                                r"targets come from task.targets\(split\)") as error:
        PATHS[path](task, column)
    assert isinstance(error.value, KeyError)


def test_the_view_holds_exactly_the_input_columns(task):
    rows = task.rows("train")
    assert rows.column_names == list(INPUT_COLUMNS) and rows.track == "weights"
    row = rows[0]
    assert list(row) == list(INPUT_COLUMNS) and len(row) == 5 and "test_acc" not in row
    assert set(dict(row)) == set(INPUT_COLUMNS)
    assert rows["model_id"] == task.ids("train") == [r["model_id"] for r in rows]
    assert rows.select([2, 0])["model_id"] == [rows[2]["model_id"], rows[0]["model_id"]]
    with pytest.raises(HiddenColumnError, match="'nonsense' is not an input column"):
        row["nonsense"]
    with pytest.raises(HiddenColumnError, match="'arch' was left out by select_columns; these rows hold model_id"):
        rows.select_columns(["model_id"])[0]["arch"]


def test_reading_the_answer_no_longer_scores(task):
    """The issue's example: a predictor that returned each row's test accuracy scored tau 1.0."""
    with pytest.raises(HiddenColumnError, match="test_acc"):
        predict(task, lambda rows: [r["test_acc"] for r in rows])


@pytest.mark.parametrize("name", TASKS)
def test_the_recipe_track_adds_the_recipe_without_the_tasks_target(name):
    task = get_task(name, zoo=TEST_ZOO)
    rows = task.rows("test", track="recipe")
    targets = set(TASKS[name].target_columns)
    assert rows.column_names == [c for c in (*INPUT_COLUMNS, *RECIPE_COLUMNS) if c in ZOO_COLUMNS and c not in targets]
    row = rows[0]
    for column in sorted(targets & set(RECIPE_COLUMNS)):
        with pytest.raises(HiddenColumnError, match=f"'{column}' is this task's target"):
            row[column]
    for column in LABELS:
        with pytest.raises(HiddenColumnError, match=f"'{column}' is a label column .* the 'recipe' track"):
            row[column]
    if name == "hyperparameter-prediction-optimizer":
        assert "optimizer" not in row and "learning_rate" in row
    if name == "hyperparameter-prediction-lr":
        assert "learning_rate" not in row and "optimizer" in row


def test_unknown_tracks_are_refused(task):
    with pytest.raises(ValueError, match="unknown track 'labels'"):
        task.rows("train", track="labels")


def test_every_registered_metanet_declares_a_known_track():
    assert {cls.track for cls in METANETS.values()} == {"weights", "recipe"}
    assert {n for n, cls in METANETS.items() if cls.track == "recipe"} == {"recipe", "recipe+statnn"}
