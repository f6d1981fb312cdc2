"""The evaluation harness on the test zoo: runner (learning-rate grid, deterministic metanets), results
files, any-predictor evaluation, saved metanets, CLI."""
import json
import math
import statistics

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from gmn_bench import build_model, make_row, write_zoo
from gmn_bench.cli import main
from gmn_bench.evaluation import (FittedMetanet, Objective, Results, ResultsFormatError, SklearnPredictor,
                                  comparison_table, evaluate_metanet, featurize_splits, predict, save_results,
                                  planned_runs, train_seed, validate_results)
from gmn_bench.evaluation.stats import paired_difference
from gmn_bench.metanets import StatNN
from gmn_bench.tasks import TaskInputError, get_task
from conftest import TEST_ZOO

HYPERPARAMS = dict(optimizer="adam", learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0, batch_size=32,
                   epochs=1, augmentation="none", data_seed=0)
GRID = (1e-3, 1e-2)


@pytest.fixture(scope="module")
def task():
    return get_task("accuracy-prediction", zoo=TEST_ZOO)


@pytest.fixture(scope="module")
def statnn_run(task, tmp_path_factory):
    results = evaluate_metanet(task, "statnn", seeds=[0, 1], epochs=2, lr_grid=GRID, progress=False)
    path = save_results(results, task, tmp_path_factory.mktemp("results"))
    return results, path


def test_runner_writes_a_valid_results_file_with_a_plot(statnn_run, task):
    results, path = statnn_run
    assert path.name == "accuracy-prediction__statnn.json" and path.with_suffix(".png").stat().st_size > 0
    assert Results.load(path) == results and validate_results(path) == json.loads(json.dumps(results.to_json()))
    assert results.seeds == [0, 1] and results.metanet.name == "statnn" and not results.deterministic
    assert results.metanet.n_params == sum(p.numel() for p in StatNN(out_dim=1).parameters())
    assert results.zoo.fingerprint.startswith("sha256:") and results.protocol["objective"]["kind"] == "sigmoid_bce"
    assert results.n_test == len(task.ids("test")) == 9
    for seed in results.per_seed:
        assert list(seed.predictions) == task.ids("test")
        assert all(0 < v < 1 for v in seed.predictions.values())
        assert seed.best_epoch in (1, 2)
        assert seed.metrics == task.evaluate(seed.predictions)
    for metric, summary in results.metrics.items():
        values = [s.metrics[metric] for s in results.per_seed]
        assert summary.mean == pytest.approx(statistics.fmean(values))
        assert summary.std == pytest.approx(statistics.stdev(values))  # sample std, ddof=1
        assert summary.ci_low <= summary.ci_high


def test_learning_rate_is_chosen_once_on_validation_and_recorded(statnn_run):
    results, _ = statnn_run
    tuning = results.tuning
    assert tuning.hparam == "learning_rate" and tuning.grid == list(GRID)
    assert [v["value"] for v in tuning.validation] == list(GRID)
    means = [v["mean"] for v in tuning.validation]
    assert tuning.chosen == GRID[means.index(max(means))] == results.protocol["learning_rate"]
    for v in tuning.validation:  # the grid runs on the first seed; the second seed trains at the chosen rate only
        assert v["per_seed"] == [v["mean"]]
    assert results.seeds == [0, 1]


def test_rerun_gives_identical_numbers(statnn_run, task):
    again = evaluate_metanet(task, "statnn", seeds=[0, 1], epochs=2, lr_grid=GRID, progress=False)
    assert [(s.seed, s.metrics, s.predictions, s.best_epoch) for s in again.per_seed] == \
        [(s.seed, s.metrics, s.predictions, s.best_epoch) for s in statnn_run[0].per_seed]
    assert again.metrics == statnn_run[0].metrics and again.tuning == statnn_run[0].tuning


def test_the_comparison_table_marks_each_metanet_against_the_best_on_the_same_networks(statnn_run, task):
    constant = evaluate_metanet(task, "constant", progress=False)
    best, other = sorted([statnn_run[0], constant], key=lambda r: -r.metrics["kendall_tau"].mean)
    table = comparison_table([statnn_run[0], constant], [task])
    truth = task.targets("test")
    aligned = [[[s.predictions[m] for m in truth] for s in r.per_seed] for r in (other, best)]
    difference, low, high = paired_difference("kendall_tau", list(truth.values()), *aligned)
    lines = {line.split()[0]: line for line in table.splitlines()[3:5]}
    assert "  best  " in lines[best.metanet.name]
    assert f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]" in lines[other.metanet.name]
    assert ("≈" in lines[other.metanet.name]) == (low <= 0 <= high)
    assert " - " in comparison_table([statnn_run[0], constant]).splitlines()[4]  # no truth given: no comparison


def test_the_comparison_table_compares_each_track_with_its_own_best(statnn_run, task):
    recipe = evaluate_metanet(task, "recipe", progress=False)  # reads the training recipe: never the weights' best
    table = comparison_table([statnn_run[0], recipe], [task])
    lines = {line.split()[0]: line.split() for line in table.splitlines()[3:5]}
    assert lines["statnn"][1] == "weights" and lines["recipe"][1] == "recipe"
    assert "best" in lines["statnn"] and "best" in lines["recipe"]


def test_a_deterministic_metanet_runs_once_and_classification_predicts_labels():
    optimizer = get_task("hyperparameter-prediction-optimizer", zoo=TEST_ZOO)
    results = evaluate_metanet(optimizer, "statnn-gbt", seeds=[0, 1, 2], hparams={"max_iter": 10}, progress=False)
    assert results.deterministic and results.seeds == [0] and results.tuning is None
    assert all(s.std is None for s in results.metrics.values())  # one run: no spread, never "± 0"
    assert set(results.per_seed[0].predictions.values()) <= set(optimizer.classes)
    assert results.metanet.n_params is None and results.per_seed[0].best_epoch is None
    assert "1 (deterministic)" in comparison_table([results]) and "(1 run)" in comparison_table([results])
    lr = get_task("hyperparameter-prediction-lr", zoo=TEST_ZOO)
    results = evaluate_metanet(lr, "deepsets", seeds=[3], epochs=1, lr_grid=[1e-3], progress=False)
    assert results.protocol["objective"]["kind"] == "standardized_mse"
    assert list(results.per_seed[0].predictions) == lr.ids("test")


def test_objectives_read_the_targets_the_datasets_carry(task):
    assert Objective.for_task(task).kind == "sigmoid_bce"
    acc = Objective("sigmoid_bce", 1)
    assert acc.decode(torch.zeros(2, 1)) == [0.5, 0.5]
    lr = Objective.for_task(get_task("hyperparameter-prediction-lr", zoo=TEST_ZOO))
    assert lr.kind == "standardized_mse" and lr.std > 0
    raw = torch.tensor([-3.0, -2.0])
    standardized = ((raw.double() - lr.mean) / lr.std).float()
    assert lr.loss(standardized[:, None], raw).item() == pytest.approx(0.0, abs=1e-10)
    assert lr.decode(standardized[:, None]) == pytest.approx([-3.0, -2.0], abs=1e-5)
    cls = Objective.for_task(get_task("hyperparameter-prediction-optimizer", zoo=TEST_ZOO))
    assert cls.out_dim == 3 and cls.decode(torch.tensor([[0.0, 1.0, 0.0], [2.0, 1.0, 0.0]])) == ["adamw", "adam"]
    assert Objective.from_description(json.loads(json.dumps(cls.describe()))) == cls


def _broken(results, edit):
    broken = json.loads(json.dumps(results.to_json()))
    edit(broken)
    return broken


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.pop("zoo"), "at (top level): 'zoo' is a required property"),
    (lambda r: r["per_seed"][0]["metrics"].update(r2="high"), "at per_seed/0/metrics/r2: 'high' is not of type 'number'"),
    (lambda r: r["zoo"].update(fingerprint="md5:1"), "at zoo/fingerprint"),
    (lambda r: r.update(schema="gmn-bench/results/v1"), "at schema: 'gmn-bench/results/v1' is not a results format"),
    (lambda r: r["metanet"].pop("hparams"), "'hparams' is a required property"),
    (lambda r: r.update(seeds=[0, 7]), "do not match the per_seed seeds"),
    (lambda r: r["metrics"]["rmse"].update(mean=123.0), "metrics.rmse.mean 123.0 is not the mean"),
    (lambda r: r["metrics"]["rmse"].update(std=0.0), "metrics.rmse.std 0.0 is not the sample std"),
    (lambda r: r["per_seed"][1]["predictions"].popitem(), "predicts other model ids than seed 0"),
    (lambda r: r.update(n_test=8), "n_test 8 is not the 9 predicted networks"),
    (lambda r: r.update(deterministic=True), "a deterministic metanet is run once, but there are 2 seeds"),
    (lambda r: r["tuning"].update(chosen=0.5), "tuning.chosen 0.5 is not in the grid"),
    (lambda r: r["metrics"]["r2"].update(ci_low=1e9), "ci_low 1000000000.0 is above ci_high"),
])
def test_bad_results_fail_validation_with_a_clear_message(statnn_run, edit, message):
    with pytest.raises(ResultsFormatError, match="results: ") as err:
        validate_results(_broken(statnn_run[0], edit))
    assert message in str(err.value)


def test_unreadable_results_file_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsFormatError, match="bad.json: not a readable JSON file"):
        Results.load(bad)


def test_any_predictor_is_evaluated_by_the_task(task):
    train = task.targets("train")
    mean = float(np.mean(list(train.values())))
    as_dict = task.evaluate(predict(task, lambda rows: {m: mean for m in rows["model_id"]}))
    assert as_dict == task.evaluate({m: mean for m in task.ids("test")})
    assert task.evaluate(predict(task, lambda rows: [mean] * len(rows))) == as_dict

    def featurize(row):
        return np.array([math.log(row["n_params"]), len(row["weights"])])

    rows = task.rows("train")
    ridge = Ridge(alpha=1.0).fit(np.stack([featurize(r) for r in rows]), [train[m] for m in rows["model_id"]])
    expected = task.evaluate(dict(zip(task.ids("test"), ridge.predict(np.stack([featurize(r) for r in task.rows("test")])))))
    assert task.evaluate(predict(task, (ridge, featurize))) == \
        task.evaluate(predict(task, SklearnPredictor(ridge, featurize))) == expected


def test_predict_rejects_wrong_predictors(task):
    with pytest.raises(TaskInputError, match="returned 2 values for 9 test rows"):
        predict(task, lambda rows: [0.5, 0.5])
    with pytest.raises(TaskInputError, match="needs its featurizer"):
        predict(task, Ridge())
    with pytest.raises(TaskInputError, match="not test networks"):
        task.evaluate(predict(task, lambda rows: {**{m: 0.5 for m in rows["model_id"]}, "not-a-net": 0.5}))


def test_flatmlp_runs_on_a_single_architecture_zoo(tmp_path):
    spec = {"family": "mlp", "depth": 1, "width": 4, "activation": "relu"}
    rows = []
    for i, split in enumerate(["train"] * 6 + ["validation"] * 2 + ["test"] * 2):
        torch.manual_seed(i)
        rows.append(make_row(f"mlp-{i}", spec, build_model(spec), epoch=1, train_acc=0.2 + 0.03 * i,
                             test_acc=0.1 + 0.02 * i, split_id=split, init_seed=i, **HYPERPARAMS))
    one_arch = get_task("accuracy-prediction", zoo=write_zoo(rows, tmp_path / "zoo"))
    results = evaluate_metanet(one_arch, "flatmlp", seeds=[0], epochs=2, lr_grid=[1e-3], progress=False)
    validate_results(results.to_json())
    assert list(results.per_seed[0].predictions) == ["mlp-8", "mlp-9"] and results.n_test == 2
    assert results.metanet.n_params > 4 * 3072
    assert "flatmlp" in comparison_table([results])


def test_a_trained_metanet_is_a_predictor_saved_and_loaded_with_its_hparams(task, tmp_path):
    objective = Objective.for_task(task)
    data = featurize_splits(StatNN(out_dim=1, hidden=16), task, progress=False)
    result, fitted, _ = train_seed(StatNN, {"hidden": 16}, task, data, objective, seed=0, epochs=3,
                                   learning_rate=1e-2, progress=False)
    assert task.evaluate(predict(task, fitted)) == result.metrics  # the fitted metanet is its best epoch's
    folder = fitted.save(tmp_path / "statnn")
    assert sorted(p.name for p in folder.iterdir()) == ["metanet.json", "weights.safetensors"]
    loaded = FittedMetanet.load(folder)
    assert type(loaded.module) is StatNN and loaded.module.hparams() == {"out_dim": 1, "hidden": 16, "layers": 3,
                                                                         "slots": 8}
    assert loaded.objective == objective and predict(task, loaded) == result.predictions


def test_cli_evaluates_one_task_with_one_baseline_and_prints_n_and_intervals(tmp_path, capsys):
    out, saved = tmp_path / "results", tmp_path / "metanets"
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "statnn", "--seeds",
                 "2", "--epochs", "1", "--lr-grid", "1e-3", "--out", str(out), "--save-metanets", str(saved),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    results = Results.load(out / "accuracy-prediction__statnn.json")
    assert results.seeds == [0, 1] and results.tuning.grid == [1e-3]
    assert (out / "accuracy-prediction__statnn.png").exists()
    assert sorted(p.name for p in (saved / "accuracy-prediction__statnn").iterdir()) == ["seed-0", "seed-1"]
    assert "accuracy-prediction: mean ± std over seeds [95% CI over the n test networks]" in printed
    assert "vs best: kendall_tau minus the best entry's of the same track, paired 95% CI" in printed
    tau = results.metrics["kendall_tau"]
    line = next(x for x in printed.splitlines() if x.startswith("statnn "))
    assert line.split()[1:5] == ["weights", "9", "2", "0.001"]
    assert f"{tau.mean:.3f} ± {tau.std:.3f} [{tau.ci_low:.3f}, {tau.ci_high:.3f}]" in line


@pytest.mark.parametrize("argv, message", [
    (["--task", "accuracy"], "unknown task ['accuracy']"),
    (["--metanet", "gmn2"], "unknown metanet ['gmn2']"),
    (["--task", "accuracy-prediction", "--metanet", "flatmlp"], "flatmlp reads one architecture"),
    (["--lr-grid", "0.001,fast"], "--lr-grid takes comma-separated finite positive learning rates"),
    (["--lr-grid", "-1"], "--lr-grid takes comma-separated finite positive learning rates"),
    (["--lr-grid", "1e-3,inf"], "--lr-grid takes comma-separated finite positive learning rates"),
    (["--lr-grid", "nan"], "--lr-grid takes comma-separated finite positive learning rates"),
    (["--metanet", "statnn", "--epochs", "gmn=3"], "unknown metanet in --epochs ['gmn']"),
])
def test_cli_names_bad_requests(tmp_path, capsys, argv, message):
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--out", str(tmp_path), "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, message", [
    ({"lr_grid": [1e-3, math.inf]}, "lr_grid must hold one or more finite positive learning rates"),
    ({"lr_grid": [math.nan]}, "lr_grid must hold one or more finite positive learning rates"),
    ({"lr_grid": [True]}, "lr_grid must hold one or more finite positive learning rates"),
    ({"lr_grid": ["1e-3"]}, "lr_grid must hold one or more finite positive learning rates"),
    ({"lr_grid": []}, "lr_grid must hold one or more finite positive learning rates"),
    ({"seeds": [0, 0]}, "seeds must be one or more distinct non-negative integers"),
    ({"seeds": [-1]}, "seeds must be one or more distinct non-negative integers"),
    ({"seeds": [0.5]}, "seeds must be one or more distinct non-negative integers"),
    ({"epochs": 0}, "epochs must be a positive integer or None"),
    ({"epochs": 2.5}, "epochs must be a positive integer or None"),
])
def test_evaluate_metanet_rejects_a_bad_protocol_before_any_work(task, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluate_metanet(task, "statnn", progress=False, **kwargs)


def test_cli_all_skips_metanets_that_cannot_read_the_zoo(tmp_path, capsys, monkeypatch):
    from gmn_bench.metanets import METANETS

    for name in set(METANETS) - {"statnn-gbt", "flatmlp"}:  # keep it short: one metanet that applies, one that does not
        monkeypatch.delitem(METANETS, name)
    assert main(["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "all", "--seeds", "1",
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "skipped flatmlp on accuracy-prediction: flatmlp reads one architecture" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy-prediction__statnn-gbt.json",
                                                          "accuracy-prediction__statnn-gbt.png"]


def test_cli_workers_run_jobs_in_processes_with_the_same_results(tmp_path, capsys):
    """--workers 2: each (task, metanet) evaluation in its own spawned process; files and table as one by one."""
    common = ["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction,accuracy-prediction-ood-family",
              "--metanet", "statnn,arch-only", "--seeds", "2", "--epochs", "statnn=1", "--lr-grid", "1e-3", "--threads", "1",
              "--quiet"]
    tables = {}
    for workers in ("1", "2"):
        assert main([*common, "--out", str(tmp_path / workers), "--workers", workers]) == 0
        printed = capsys.readouterr().out
        tables[workers] = printed[printed.index("accuracy-prediction: mean"):]
    assert tables["1"] == tables["2"] and "accuracy-prediction-ood-family:" in tables["2"]
    names = sorted(p.name for p in (tmp_path / "2").glob("*.json"))
    assert names == sorted(p.name for p in (tmp_path / "1").glob("*.json")) and len(names) == 4
    for name in names:
        one, two = Results.load(tmp_path / "1" / name), Results.load(tmp_path / "2" / name)
        assert [s.predictions for s in one.per_seed] == [s.predictions for s in two.per_seed]
    assert [s.best_epoch for s in Results.load(tmp_path / "2" / "accuracy-prediction__statnn.json").per_seed] == [1, 1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_shows_one_overall_bar_and_a_line_per_result_and_quiet_shows_nothing(tmp_path, capsys, workers):
    """One bar over every training run of the request (statnn: 2 learning rates on seed 0, then seed 1; the
    deterministic constant: 1 run), with time elapsed and left, and one line per finished result; --quiet: none."""
    common = ["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "statnn,constant",
              "--seeds", "2", "--epochs", "1", "--lr-grid", "1e-3,3e-3", "--workers", workers]
    assert main([*common, "--out", str(tmp_path / "shown")]) == 0
    shown = capsys.readouterr()
    lines = shown.out[:shown.out.index("accuracy-prediction: mean")].strip().splitlines()
    assert sorted(lines) == [f"wrote {tmp_path / 'shown' / f'accuracy-prediction__{m}.json'}"  # as they finish
                             for m in ("constant", "statnn")]
    final = shown.err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("evaluate: 100%") and "4/4 runs" in final and "elapsed" in final and "left" in final
    assert "Generating" not in shown.err and "seed" not in shown.err  # no datasets bars, no per-epoch bars
    assert main([*common, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.lstrip().startswith("accuracy-prediction: mean")
    assert quiet.out[quiet.out.index("accuracy-prediction: mean"):] == shown.out[shown.out.index("accuracy-prediction: mean"):]


def test_planned_runs_counts_the_runs_evaluate_metanet_makes(task):
    runs = []
    evaluate_metanet(task, "statnn", seeds=[0, 1, 2], epochs=1, lr_grid=[1e-3, 3e-3], progress=False,
                     on_run=lambda: runs.append(1))
    evaluate_metanet(task, "constant", seeds=[0, 1, 2], progress=False, on_run=lambda: runs.append(2))
    assert runs == [1] * 4 + [2] and planned_runs("statnn", 3, 2) == 4 and planned_runs("constant", 3, 2) == 1


def test_the_protocol_steps_once_per_batch_over_its_micro_batches(task, monkeypatch):
    """Every training batch is run in the parts micro_batches gives, then one optimizer step."""
    from torch_geometric.data import Batch

    parts_seen, steps = [], []

    class Halves(StatNN):
        def micro_batches(self, batch):
            graphs = batch.to_data_list()
            parts = [Batch.from_data_list(graphs[:len(graphs) // 2]), Batch.from_data_list(graphs[len(graphs) // 2:])]
            parts_seen.append([p.num_graphs for p in parts])
            return parts

    step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: steps.append(1) or step(self, *a, **k))
    data = featurize_splits(Halves(out_dim=1, hidden=16), task, progress=False)
    result, _, _ = train_seed(Halves, {"hidden": 16}, task, data, Objective.for_task(task), seed=0, epochs=2,
                              learning_rate=1e-2, progress=False)
    n_train = len(data["train"])
    assert len(parts_seen) == len(steps) == 2 * math.ceil(n_train / 32)
    assert sum(map(sum, parts_seen)) == 2 * n_train and math.isfinite(result.metrics["r2"])


def test_cli_resume_keeps_finished_results_of_the_same_request_only(tmp_path, capsys):
    common = ["evaluate", "--zoo", str(TEST_ZOO), "--task", "accuracy-prediction", "--metanet", "statnn,constant",
              "--epochs", "1", "--lr-grid", "1e-3", "--out", str(tmp_path), "--resume"]
    assert main([*common, "--seeds", "2"]) == 0
    first = capsys.readouterr().out
    assert "kept" not in first and first.count("wrote") == 2
    statnn = tmp_path / "accuracy-prediction__statnn.json"
    written = statnn.stat().st_mtime_ns
    assert main([*common, "--seeds", "2"]) == 0
    again = capsys.readouterr().out
    assert again.count("kept") == 2 and statnn.stat().st_mtime_ns == written
    assert again[again.index("accuracy-prediction: mean"):] == first[first.index("accuracy-prediction: mean"):]
    assert main([*common, "--seeds", "3"]) == 0  # statnn's request changed; the deterministic constant's did not
    changed = capsys.readouterr().out
    assert f"wrote {statnn}" in changed and "kept" in changed and Results.load(statnn).seeds == [0, 1, 2]
    statnn.write_text("{not json")
    assert main([*common, "--seeds", "3"]) == 0 and f"wrote {statnn}" in capsys.readouterr().out
