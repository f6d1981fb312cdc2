"""The cross-zoo task on two tiny zoos written here: train/validation from one zoo, every network of the
other as the test split, results that name both zoos, and the leaderboard re-scoring against the second."""
import json

import pytest
import torch

from conftest import HYPERPARAMS, SPECS
from gmn_bench import build_model, make_row
from gmn_bench.evaluation import Results, ResultsFormatError, evaluate_metanet, save_results
from gmn_bench.leaderboard.score import build_board
from gmn_bench.leaderboard.submit import package_submission, write_submission
from gmn_bench.leaderboard.validate import SubmissionError
from gmn_bench.leaderboard.zoos import KnownZoo, known_zoos
from gmn_bench.tasks import TASKS, CrossZooTask, TaskInputError, get_task, zoo_fingerprint
from gmn_bench.zoo import assign_splits
from gmn_bench.zoo.io import write_zoo

CROSS = "accuracy-prediction-cross-zoo"
SHARES = (("train", 0.5), ("validation", 0.25), ("test", 0.25))


def _write(folder, prefix: str, n: int, seed: int, epochs=(2,)):
    rows = []
    for i in range(n):
        family = list(SPECS)[i % 4]
        torch.manual_seed(seed + i)
        module = build_model(SPECS[family])
        for epoch in epochs:
            rows.append(make_row(f"{prefix}-{i:02d}", SPECS[family], module, epoch=epoch, init_seed=i,
                                 train_acc=0.5, test_acc=round(0.1 + 0.8 * ((7 * i) % n) / n + 0.01 * epoch, 4),
                                 train_loss=1.0, test_loss=1.2, **{**HYPERPARAMS, "epochs": epochs[-1]}))
    return write_zoo(assign_splits(rows, id_fractions=SHARES), folder, name=prefix, overwrite=True), rows


@pytest.fixture(scope="module")
def zoos(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoos")
    source, source_rows = _write(root / "source", "src", 16, seed=0)
    target, target_rows = _write(root / "target", "tgt", 8, seed=100, epochs=(0, 1))
    return source, source_rows, target, target_rows


def test_the_task_trains_on_one_zoo_and_tests_on_every_network_of_the_other(zoos):
    source, source_rows, target, target_rows = zoos
    task = get_task(CROSS, zoo=source, test_zoo=target)
    assert isinstance(task, CrossZooTask) and task.test_zoo == str(target)
    for split in ("train", "validation"):
        assert task.ids(split) == sorted(r["model_id"] for r in source_rows if r["split_id"] == split) != []
    finals = {r["model_id"]: r["test_acc"] for r in target_rows if r["epoch"] == 1}
    assert task.ids("test") == sorted(finals) and task.targets("test") == finals  # every network, final checkpoint
    final_weights = {r["model_id"]: r["weights"] for r in target_rows if r["epoch"] == 1}
    assert dict(zip(task.rows("test")["model_id"], task.rows("test")["weights"])) == final_weights
    assert task.evaluate(finals)["kendall_tau"] == pytest.approx(1.0)
    with pytest.raises(TaskInputError, match="networks of the test zoo"):
        task.evaluate({m: 0.5 for m in task.ids("validation")})


def test_the_default_test_zoo_is_the_definitions_and_a_zoo_cannot_test_itself(zoos):
    source, *_ = zoos
    assert get_task(CROSS, zoo=source).test_zoo == TASKS[CROSS].test_zoo
    with pytest.raises(TaskInputError, match="holds 12 networks of"):  # its train and validation networks
        get_task(CROSS, zoo=source, test_zoo=source).ids("test")
    with pytest.raises(TaskInputError, match="only a cross-zoo task takes a test zoo"):
        get_task("accuracy-prediction", zoo=source, test_zoo=source)


@pytest.fixture(scope="module")
def results(zoos, tmp_path_factory):
    source, _, target, _ = zoos
    task = get_task(CROSS, zoo=source, test_zoo=target)
    out = tmp_path_factory.mktemp("results")
    return {name: save_results(evaluate_metanet(task, name, seeds=[0], progress=False), task, out)
            for name in ("arch-only", "constant")}


def test_results_name_both_zoos_and_must_name_the_test_zoo(zoos, results):
    source, _, target, _ = zoos
    loaded = Results.load(results["arch-only"])
    assert loaded.zoo.fingerprint == zoo_fingerprint(source) and loaded.zoo.path_or_repo_id == str(source)
    assert (loaded.test_zoo.path_or_repo_id, loaded.test_zoo.fingerprint) == (str(target), zoo_fingerprint(target))
    assert loaded.n_test == 8
    document = json.loads(results["arch-only"].read_text())
    with pytest.raises(ResultsFormatError, match="must name the test zoo"):
        Results.from_json({**document, "test_zoo": None})
    with pytest.raises(ResultsFormatError, match="tests on its own zoo, but test_zoo is set"):
        Results.from_json({**document, "task": "accuracy-prediction"})


def _submit(paths, zoos, tmp_path):
    package = package_submission(paths, authors=["Test"], zoos=zoos)
    write_submission(package, tmp_path / "submissions")
    return build_board(tmp_path / "submissions", zoos=zoos)


def test_the_board_rescores_against_the_registered_test_zoo(zoos, results, tmp_path):
    source, _, target, target_rows = zoos
    registered = known_zoos(extra=(KnownZoo.at("source", source), KnownZoo.at("target", target)))
    board = _submit([results["arch-only"]], registered, tmp_path)
    assert not board.rejected
    (entry,) = board.tasks[CROSS]
    claimed = Results.load(results["arch-only"]).metrics["kendall_tau"].mean
    assert entry.value == pytest.approx(claimed)
    assert entry.score.y_true == tuple(r["test_acc"] for r in sorted(target_rows, key=lambda r: r["model_id"])
                                       if r["epoch"] == 1)
    with pytest.raises(SubmissionError, match="test zoo: unknown zoo fingerprint"):
        package_submission([results["constant"]], authors=["Test"],
                           zoos=known_zoos(extra=(KnownZoo.at("source", source),)))
