"""The evaluation harness on the embedded zoo: runner, results files, any-predictor scoring, CLI."""
import json
import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from gmn_bench import build_model, make_row, write_zoo
from gmn_bench.cli import main
from gmn_bench.evaluation import (Objective, ResultsFormatError, SklearnPredictor, comparison_table, evaluate_metanet,
                                  featurize_splits, save_results, score, train_seed, validate_results)
from gmn_bench.metanets import StatNN
from gmn_bench.tasks import TaskInputError, get_task
from conftest import TEST_ZOO

HYPERPARAMS = dict(optimizer="adam", learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0, batch_size=32,
                   epochs=1, augmentation="none", data_seed=0)


@pytest.fixture(scope="module")
def task():
    return get_task("accuracy-prediction", zoo=TEST_ZOO)


@pytest.fixture(scope="module")
def statnn_run(task, tmp_path_factory):
    results = evaluate_metanet(task, "statnn", seeds=[0, 1], epochs=2, progress=False)
    path = save_results(results, task, tmp_path_factory.mktemp("results"))
    return results, path


def test_runner_writes_a_valid_results_file_with_a_plot(statnn_run, task):
    results, path = statnn_run
    assert path.name == "accuracy-prediction__statnn.json" and path.with_suffix(".png").stat().st_size > 0
    loaded = validate_results(path)
    assert loaded == json.loads(json.dumps(results))
    assert loaded["seeds"] == [0, 1] and loaded["metanet"]["name"] == "statnn"
    assert loaded["metanet"]["n_params"] == sum(p.numel() for p in StatNN(out_dim=1).parameters())
    assert loaded["zoo"]["fingerprint"].startswith("sha256:") and loaded["protocol"]["loss"] == "sigmoid_bce"
    for seed in loaded["per_seed"]:
        assert sorted(seed["predictions"]) == task.test_ids()
        assert all(0 < v < 1 for v in seed["predictions"].values())
        assert seed["best_epoch"] in (1, 2)
        assert seed["metrics"] == task.evaluate(seed["predictions"])
    assert loaded["metrics"]["kendall_tau"]["mean"] == pytest.approx(
        np.mean([s["metrics"]["kendall_tau"] for s in loaded["per_seed"]]))


def test_rerun_gives_identical_numbers(statnn_run, task):
    again = evaluate_metanet(task, "statnn", seeds=[0, 1], epochs=2, progress=False)
    assert again["per_seed"] == [dict(s, train_seconds=a["train_seconds"])
                                 for s, a in zip(statnn_run[0]["per_seed"], again["per_seed"])]
    assert again["metrics"] == statnn_run[0]["metrics"]


def test_classification_and_sklearn_metanets_predict_labels_and_values():
    optimizer = get_task("hyperparameter-prediction-optimizer", zoo=TEST_ZOO)
    results = evaluate_metanet(optimizer, "statnn-gbt", seeds=[0], metanet_kwargs={"max_iter": 10}, progress=False)
    validate_results(results)
    assert set(results["per_seed"][0]["predictions"].values()) <= set(optimizer.classes)
    assert results["metanet"]["n_params"] is None and results["per_seed"][0]["best_epoch"] is None
    lr = get_task("hyperparameter-prediction-lr", zoo=TEST_ZOO)
    results = evaluate_metanet(lr, "deepsets", seeds=[3], epochs=1, progress=False)
    assert results["protocol"]["loss"] == "standardized_mse"
    assert sorted(results["per_seed"][0]["predictions"]) == lr.test_ids()


def test_objectives_follow_the_protocol():
    acc = Objective("regression", [0.1, 0.4, 0.3])
    assert acc.kind == "sigmoid_bce" and acc.decode(torch.zeros(2, 1)) == [0.5, 0.5]
    lr = Objective("regression", [-3.0, -1.0])
    assert lr.kind == "standardized_mse" and (lr.mean, lr.std) == (-2.0, math.sqrt(2))
    assert lr.decode(lr.encode(-1.5)[None]) == pytest.approx([-1.5])
    cls = Objective("classification", ["adam", "sgd"], classes=("adam", "sgd"))
    assert cls.out_dim == 2 and cls.decode(torch.tensor([[0.0, 1.0], [2.0, 1.0]])) == ["sgd", "adam"]


def _broken(results, edit):
    broken = json.loads(json.dumps(results))
    edit(broken)
    return broken


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("zoo"), "at (top level): 'zoo' is a required property"),
    (lambda r: r["per_seed"][0]["metrics"].update(r2="high"), "at per_seed/0/metrics/r2: 'high' is not of type 'number'"),
    (lambda r: r["zoo"].update(fingerprint="md5:1"), "at zoo/fingerprint"),
    (lambda r: r.update(schema="gmn-bench/results/v0"), "at schema"),
    (lambda r: r.update(seeds=[0, 7]), "do not match the per_seed seeds"),
    (lambda r: r["metrics"]["rmse"].update(mean=123.0), "metrics.rmse.mean 123.0 is not the mean"),
    (lambda r: r["per_seed"][1]["predictions"].popitem(), "predicts other model ids than seed 0"),
])
def test_bad_results_fail_validation_with_a_clear_message(statnn_run, edit, message):
    with pytest.raises(ResultsFormatError, match="results: ") as err:
        validate_results(_broken(statnn_run[0], edit))
    assert message in str(err.value)


def test_unreadable_results_file_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="bad.json: not a readable JSON file"):
        validate_results(bad)


def test_score_accepts_functions_and_fitted_sklearn_models(task):
    train = task.targets("train")
    mean = float(np.mean(list(train.values())))
    as_dict = score(task, lambda rows: {m: mean for m in rows["model_id"]})
    assert as_dict == task.evaluate({m: mean for m in task.test_ids()})
    assert score(task, lambda rows: [mean] * len(rows)) == as_dict

    def featurize(row):
        return np.array([math.log(row["n_params"]), row["epochs"]])

    rows = task.rows("train")
    ridge = Ridge(alpha=1.0).fit(np.stack([featurize(r) for r in rows]), [train[m] for m in rows["model_id"]])
    expected = task.evaluate(dict(zip(task.rows("test")["model_id"],
                                      ridge.predict(np.stack([featurize(r) for r in task.rows("test")])).tolist())))
    assert score(task, (ridge, featurize)) == score(task, SklearnPredictor(ridge, featurize)) == expected


def test_score_rejects_wrong_predictions(task):
    with pytest.raises(TaskInputError, match="not test networks"):
        score(task, lambda rows: {**{m: 0.5 for m in rows["model_id"]}, "not-a-net": 0.5})
    with pytest.raises(TaskInputError, match="have no prediction"):
        score(task, lambda rows: {m: 0.5 for m in rows["model_id"][1:]})
    with pytest.raises(TaskInputError, match="returned 2 values for 7 test rows"):
        score(task, lambda rows: [0.5, 0.5])
    with pytest.raises(TaskInputError, match="needs its featurizer"):
        score(task, Ridge())


def test_flatmlp_runs_on_a_single_architecture_zoo(tmp_path):
    spec = {"family": "mlp", "depth": 1, "width": 4, "activation": "relu"}
    rows = []
    for i, split in enumerate(["train"] * 6 + ["validation"] * 2 + ["test"] * 2):
        torch.manual_seed(i)
        rows.append(make_row(f"mlp-{i}", spec, build_model(spec), epoch=1, train_acc=0.2 + 0.03 * i, test_acc=0.1 + 0.02 * i, split_id=split, init_seed=i, **HYPERPARAMS))
    one_arch = get_task("accuracy-prediction", zoo=write_zoo(rows, tmp_path / "zoo"))
    results = evaluate_metanet(one_arch, "flatmlp", seeds=[0], epochs=2, progress=False)
    validate_results(results)
    assert sorted(results["per_seed"][0]["predictions"]) == ["mlp-8", "mlp-9"]
    assert results["metanet"]["n_params"] > 4 * 3072
    assert "flatmlp" in comparison_table([results])


def test_cli_evaluates_one_task_with_one_baseline(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "statnn", "--seeds",
                 "1", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert validate_results(out / "accuracy-prediction__statnn.json")["seeds"] == [0]
    assert (out / "accuracy-prediction__statnn.png").exists()
    assert "accuracy-prediction (1 seeds)" in printed and "\nstatnn " in printed and "kendall_tau" in printed


@pytest.mark.parametrize("argv, message", [
    (["--task", "accuracy"], "unknown task ['accuracy']"),
    (["--metanet", "gmn2"], "unknown metanet ['gmn2']"),
    (["--task", "accuracy-prediction", "--metanet", "flatmlp"], "flatmlp reads one architecture"),
])
def test_cli_names_bad_requests(tmp_path, capsys, argv, message):
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--out", str(tmp_path), "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_all_skips_metanets_that_cannot_read_the_zoo(tmp_path, capsys, monkeypatch):
    from gmn_bench.metanets import METANETS

    for name in set(METANETS) - {"statnn-gbt", "flatmlp"}:  # keep it short: one metanet that applies, one that does not
        monkeypatch.delitem(METANETS, name)
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "all", "--seeds", "1",
                 "--out", str(tmp_path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "skipped flatmlp on accuracy-prediction: flatmlp reads one architecture" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy-prediction__statnn-gbt.json",
                                                          "accuracy-prediction__statnn-gbt.png"]


def test_score_accepts_a_trained_torch_metanet(task):
    objective = Objective(task.task_type, task.targets("train").values())
    data = featurize_splits(StatNN(out_dim=1), task, objective, progress=False)
    result, fitted = train_seed(StatNN, {}, task, data, objective, seed=0, epochs=1, progress=False)
    assert result.best_epoch == 1
    assert score(task, fitted) == result.metrics  # a FittedMetanet is a rows -> predictions callable
