"""Tasks on the embedded zoo: inputs, targets, prediction checks, metrics, fingerprints."""
import math
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from gmn_bench.zoo.demo import build_demo_zoo
from gmn_bench.zoo.io import load_zoo
from gmn_bench.tasks import TASKS, TaskInputError, get_task, regression_metrics, zoo_fingerprint
from conftest import TEST_ZOO


@pytest.fixture(scope="module")
def tasks():
    return {name: get_task(name, zoo=TEST_ZOO) for name in TASKS}


def test_every_task_has_disjoint_splits_of_final_checkpoints(tasks):
    for task in tasks.values():
        zoo = load_zoo(TEST_ZOO, config=task.config)
        ids = {split: task.rows(split)["model_id"] for split in ("train", "validation", "test")}
        for split, split_ids in ids.items():
            assert len(split_ids) == len(set(split_ids)) > 0, (task.name, split)
            if split != "test" or task.definition.test_zoo is None:  # a cross-zoo task tests on cifar10-shift
                final = zoo[split].filter(lambda epoch: epoch == 3, input_columns="epoch")  # the zoo's last checkpoint
                assert task.rows(split)["weights"] == final.sort("model_id")["weights"]
        assert not set(ids["train"]) & set(ids["test"]) and not set(ids["validation"]) & set(ids["test"])
        assert task.ids("test") == sorted(ids["test"]) == list(task.targets("test"))


def test_targets_follow_their_definitions(tasks):
    model_id = tasks["generalization-gap"].ids("test")[0]
    row = load_zoo(TEST_ZOO, split="train").filter(lambda m, e: m == model_id and e == 3,
                                                   input_columns=["model_id", "epoch"])[0]
    assert tasks["generalization-gap"].targets("test")[row["model_id"]] == pytest.approx(row["train_acc"] - row["test_acc"])
    assert tasks["hyperparameter-prediction-lr"].targets("test")[row["model_id"]] == pytest.approx(
        math.log10(row["learning_rate"]))
    assert tasks["hyperparameter-prediction-optimizer"].classes == ("adam", "adamw", "sgd")
    assert set(tasks["accuracy-prediction-ood-family"].rows("test")["family"]) == {"vit"}
    assert "vit" not in set(tasks["accuracy-prediction-ood-family"].rows("train")["family"])
    size = tasks["accuracy-prediction-ood-size"]
    assert min(size.rows("test")["n_params"]) > max(size.rows("train")["n_params"])


def test_perfect_and_reversed_predictions(tasks):
    task = tasks["accuracy-prediction"]
    truth = task.targets("test")
    assert task.evaluate(truth) == {"r2": 1.0, "kendall_tau": 1.0, "rmse": 0.0}
    reversed_ = {m: -v for m, v in truth.items()}
    assert task.evaluate(reversed_)["kendall_tau"] == pytest.approx(-1.0)
    constant = {m: 0.3 for m in truth}
    assert task.evaluate(constant)["kendall_tau"] == 0.0
    labels = tasks["hyperparameter-prediction-optimizer"].targets("test")
    assert tasks["hyperparameter-prediction-optimizer"].evaluate(labels) == {"accuracy": 1.0, "macro_f1": 1.0}


def test_regression_metrics_known_values():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 3.0, 2.0])
    assert m["kendall_tau"] == pytest.approx(1 / 3)
    assert m["r2"] == pytest.approx(0.0)  # squared error 2 over total variance 2
    assert m["rmse"] == pytest.approx(math.sqrt(2 / 3))


@pytest.mark.parametrize("change, message", [
    (lambda p: p.pop(next(iter(p))), "have no prediction"),
    (lambda p: p.update({"not-a-network": 0.5}), "not test networks"),
    (lambda p: p.update({next(iter(p)): float("nan")}), "not finite"),
    (lambda p: p.update({next(iter(p)): float("inf")}), "not finite"),
    (lambda p: p.update({next(iter(p)): "0.5"}), "real number"),
    (lambda p: p.update({next(iter(p)): True}), "real number"),
    (lambda p: p.update({3: 0.5}), "model_id strings"),
    (lambda p: p.update({next(iter(p)): 10**400}), "is beyond the range of a float"),
    (lambda p: p.update({next(iter(p)): 2**60 + 1}), "cannot be represented exactly as a float"),
    (lambda p: p.update({next(iter(p)): torch.tensor(0.5, dtype=torch.complex64)}), "must be a real number, got complex"),
    (lambda p: p.update({next(iter(p)): [0.5]}), "must be a real number, got list"),
])
def test_bad_predictions_are_rejected(tasks, change, message):
    predictions = dict(tasks["accuracy-prediction"].targets("test"))
    change(predictions)
    with pytest.raises(TaskInputError, match=message):
        tasks["accuracy-prediction"].evaluate(predictions)


def test_repeated_ids_and_unknown_labels_are_rejected(tasks):
    pairs = list(tasks["accuracy-prediction"].targets("test").items())
    with pytest.raises(TaskInputError, match="more than once"):
        tasks["accuracy-prediction"].evaluate(pairs + pairs[:1])
    labels = dict(tasks["hyperparameter-prediction-optimizer"].targets("test"))
    labels[next(iter(labels))] = "rmsprop"
    with pytest.raises(TaskInputError, match="must be one of"):
        tasks["hyperparameter-prediction-optimizer"].evaluate(labels)


def test_the_documented_keyed_forms_are_accepted_and_others_get_a_clear_error(tasks):
    task = tasks["accuracy-prediction"]
    truth = task.targets("test")
    expected = task.evaluate(truth)
    assert task.evaluate(pd.Series(truth)) == expected  # indexed by model_id, any order
    assert task.evaluate(pd.Series(truth).iloc[::-1]) == expected
    assert task.evaluate(list(truth.items())) == expected
    assert task.evaluate({m: np.float64(v) for m, v in truth.items()}) == expected
    assert task.evaluate({m: torch.tensor(v, dtype=torch.float64) for m, v in truth.items()}) == expected
    for aligned in (list(truth.values()), np.array(list(truth.values())), torch.tensor(list(truth.values()))):
        with pytest.raises(TaskInputError, match="predictions must be a mapping model_id -> prediction.*Evaluator"):
            task.evaluate(aligned)
    with pytest.raises(TaskInputError, match="got str"):
        task.evaluate("predictions.json")
    with pytest.raises(TaskInputError, match="got NoneType"):
        task.evaluate(None)


def test_validation_split_is_scored_like_the_test_split(tasks):
    task = tasks["accuracy-prediction"]
    assert task.evaluate(task.targets("validation"), "validation")["kendall_tau"] == pytest.approx(1.0)
    with pytest.raises(TaskInputError, match="validation networks have no prediction"):
        task.evaluate(task.targets("test"), "validation")
    with pytest.raises(TaskInputError, match="unknown split 'dev'"):
        task.evaluate(task.targets("test"), "dev")


def test_unknown_task_and_zoos_without_the_config(tmp_path):
    with pytest.raises(TaskInputError, match="unknown task"):
        get_task("accuracy-predictoin", zoo=TEST_ZOO)
    demo = build_demo_zoo(tmp_path / "demo")  # only an `id` config with train/test
    with pytest.raises(TaskInputError, match="ood_family"):
        get_task("accuracy-prediction-ood-family", zoo=demo).ids("test")
    with pytest.raises(TaskInputError, match="lacks splits"):
        get_task("accuracy-prediction", zoo=demo).ids("test")


def test_fingerprint_tracks_data_not_card(tmp_path):
    zoo = shutil.copytree(TEST_ZOO, tmp_path / "zoo")
    before = zoo_fingerprint(zoo)
    assert before == zoo_fingerprint(TEST_ZOO) and before.startswith("sha256:")
    (zoo / "README.md").write_text((zoo / "README.md").read_text() + "\nreworded\n")
    assert zoo_fingerprint(zoo) == before
    shard = next((zoo / "data").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes() + b"\0")
    assert zoo_fingerprint(zoo) != before


def test_fingerprint_of_a_hub_repo_equals_its_local_folder():
    import hashlib

    siblings = [SimpleNamespace(rfilename=p.relative_to(TEST_ZOO).as_posix(),
                                lfs=SimpleNamespace(sha256=hashlib.sha256(p.read_bytes()).hexdigest()))
                for p in TEST_ZOO.glob("data/*.parquet")]
    siblings.append(SimpleNamespace(rfilename="README.md", lfs=None))
    calls = []

    class FakeHub:
        def dataset_info(self, repo_id, revision=None, files_metadata=False):
            calls.append((repo_id, revision, files_metadata))
            return SimpleNamespace(siblings=siblings)

    assert zoo_fingerprint("org/zoo", revision="v1.0", api=FakeHub()) == zoo_fingerprint(TEST_ZOO)
    assert calls == [("org/zoo", "v1.0", True)]


@pytest.mark.parametrize("task_name, null", [("accuracy-prediction", "test_acc"), ("generalization-gap", "train_acc"),
                                             ("generalization-gap", "test_acc")])
def test_a_network_without_its_target_is_named_not_a_type_error(tmp_path, task_name, null):
    """A zoo may leave metrics null (not measured); a task on it names the network that lacks its target."""
    from gmn_bench import build_model, make_row, write_zoo

    spec = {"family": "mlp", "depth": 1, "width": 4}
    rows = []
    for i, split in enumerate(["train"] * 3 + ["validation", "test"]):
        torch.manual_seed(i)
        metrics = {"train_acc": 0.3 + 0.01 * i, "test_acc": 0.2 + 0.01 * i}
        if i == 4:
            metrics[null] = None
        rows.append(make_row(f"mlp-{i}", spec, build_model(spec), epoch=1, split_id=split, optimizer="adam",
                             learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0, batch_size=32, epochs=1,
                             augmentation="none", init_seed=i, data_seed=0, **metrics))
    task = get_task(task_name, zoo=write_zoo(rows, tmp_path / "zoo"))
    with pytest.raises(TaskInputError, match=r"network 'mlp-4' \(test split\) has no .* at its final checkpoint"):
        task.targets("train")  # any split: the task reads every target once
