"""Parameter prediction: checked predictions, safetensors round trip, reference scores on real
CIFAR-10, the GHN's outputs and training, and the command line end to end."""
import copy
import json
import statistics

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import functional_call

from conftest import CIFAR, SPECS, TEST_ZOO
from gmn_bench import build_model
from gmn_bench.nets.cifar import load_cifar10, normalize
from gmn_bench.cli import main
from gmn_bench.evaluation import validate_results
from gmn_bench.metanets.ghn import GHN, computational_graph, train_ghn
from gmn_bench.tasks import TaskInputError
from gmn_bench.tasks.parameter_prediction import (TEST_SPLITS, ParameterPredictionTask, finetune, load_predictions,
                                                  recompute_batchnorm, save_predictions)
from gmn_bench.nets.training import accuracy_and_loss



@pytest.fixture(scope="module")
def task():
    return ParameterPredictionTask(TEST_ZOO, data=str(CIFAR), test_limit=100, finetune_epochs=0, finetune_limit=64)


@pytest.fixture(scope="module")
def random_predictions(task):
    torch.manual_seed(0)
    return {m: dict(build_model(spec).named_parameters()) for m, spec in task.architectures().items()}


def test_task_inputs_cover_every_test_split_once(task):
    ids = task.ids()
    assert ids == sorted(set(ids)) and set(ids) == {m for s in TEST_SPLITS for m in task.ids(s)}
    assert {task.networks[m].spec["family"] for m in task.ids("ood_family")} == {"vit"}
    train = set(task.rows("train")["model_id"])
    assert train and not train & set(ids)
    assert "vit" not in set(task.rows("train")["family"])


@pytest.mark.parametrize("corrupt, message", [
    (lambda p: p.pop(sorted(p)[0]), "1 test architectures have no prediction"),
    (lambda p: p.update({"not-a-network": {}}), "not test architectures"),
    (lambda p: p[sorted(p)[0]].update({"bogus.weight": torch.zeros(1)}), "'bogus.weight' is not a parameter"),
    (lambda p: p[sorted(p)[0]].pop("head.weight"), "missing tensors ['head.weight']"),
    (lambda p: p[sorted(p)[0]].update({"head.weight": torch.zeros(3, 3)}), "'head.weight' has shape (3, 3)"),
    (lambda p: p[sorted(p)[0]]["head.bias"].__setitem__(0, float("nan")), "'head.bias' has non-finite values"),
    (lambda p: p.update({sorted(p)[0]: torch.zeros(3)}), "must be a name -> tensor mapping"),
])
def test_bad_predictions_raise_a_clear_error(task, random_predictions, corrupt, message):
    predictions = {m: {k: v.detach().clone() for k, v in s.items()} for m, s in random_predictions.items()}
    corrupt(predictions)
    with pytest.raises(TaskInputError) as err:
        task.check(predictions)
    assert message in str(err.value)
    if "head" in message:
        assert sorted(predictions)[0] in str(err.value)


def test_valid_predictions_pass_and_buffers_are_optional(task, random_predictions):
    checked = task.check(random_predictions)
    assert set(checked) == set(task.ids())
    with_buffers = {m: build_model(s).state_dict() for m, s in task.architectures().items()}
    assert set(task.check(with_buffers)) == set(checked)


@settings(max_examples=10, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9\-]{0,10}", fullmatch=True),
                       st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=3))
def test_predictions_round_trip_through_safetensors(tmp_path_factory, shapes):
    generator = torch.Generator().manual_seed(0)
    predictions = {m: {"w": torch.randn(*shape, generator=generator), "b.bias": torch.randn(shape[0], generator=generator)}
                   for m, shape in shapes.items()}
    loaded = load_predictions(save_predictions(predictions, tmp_path_factory.mktemp("pred")))
    assert set(loaded) == set(predictions)
    for m, state in predictions.items():
        assert set(loaded[m]) == set(state) and all(torch.equal(loaded[m][k], v) for k, v in state.items())


def test_a_predictions_folder_is_checked_like_a_mapping(task, random_predictions, tmp_path):
    folder = save_predictions(random_predictions, tmp_path / "pred")
    assert all(torch.equal(a, b) for m, s in task.check(folder).items() for a, b in zip(s.values(), random_predictions[m].values()))
    (folder / f"{task.ids()[0]}.safetensors").unlink()
    with pytest.raises(TaskInputError, match="test architectures have no prediction"):
        task.check(folder)
    with pytest.raises(TaskInputError, match="does not exist"):
        task.check(tmp_path / "nowhere")


@pytest.mark.parametrize("family", sorted(SPECS))
def test_ghn_predicts_every_parameter_of_every_family(family):
    spec = SPECS[family]
    predicted = GHN().predict(spec)
    module = build_model(spec)
    assert {k: tuple(v.shape) for k, v in predicted.items()} == {k: tuple(p.shape) for k, p in module.named_parameters()}
    missing, unexpected = module.load_state_dict(predicted, strict=False)
    assert not unexpected and set(missing) <= {k for k, _ in module.named_buffers()}
    assert torch.isfinite(module.eval()(torch.randn(4, 3, 32, 32))).all()


def test_computational_graph_follows_the_data_flow():
    graph = computational_graph(SPECS["resnet"], max_distance=1)
    ops = graph.data.x[:, :3].argmax(1)
    assert graph.data.num_nodes > len(graph.slots) // 2 and ops[0] == 0  # the input node comes first
    assert (graph.data.edge_attr[:, 0] == 1).all()  # max_distance 1: real edges only, both directions
    assert computational_graph(SPECS["resnet"]).data.num_edges > graph.data.num_edges  # virtual edges added


def test_a_few_ghn_steps_reduce_its_training_loss():
    images, labels = load_cifar10(str(CIFAR), "train", limit=32)
    specs = [SPECS["mlp"], SPECS["cnn"]]
    ghn = GHN(hidden=32, layers=2)
    x = normalize(images)

    def loss():
        with torch.no_grad():
            return sum(torch.nn.functional.cross_entropy(functional_call(build_model(s).train(), p, (x,)), labels)
                       for s, p in zip(specs, ghn(specs))).item()

    before = loss()
    losses = train_ghn(ghn, specs, images, labels, steps=25, meta_batch=2, batch_size=32, lr=3e-3, augmentation="none",
                       progress=False)
    assert len(losses) == 25 and sum(losses[-5:]) < sum(losses[:5])
    assert loss() < before


def test_ghn_training_is_deterministic():
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(16) % 10
    predictions = []
    for _ in range(2):
        torch.manual_seed(0)
        ghn = GHN(hidden=16, layers=1)
        train_ghn(ghn, [SPECS["cnn"], SPECS["vit"]], images, labels, steps=2, meta_batch=2, batch_size=8, progress=False)
        predictions.append(ghn.predict(SPECS["vit"]))
    assert all(torch.equal(predictions[0][k], predictions[1][k]) for k in predictions[0])


def test_finetune_follows_the_recorded_hyperparameters_and_learns():
    images, labels = load_cifar10(str(CIFAR), "train", limit=256)
    torch.manual_seed(0)
    model = build_model(SPECS["cnn"])
    hparams = dict(optimizer="adam", learning_rate=3e-3, weight_decay=0.0, batch_size=32, augmentation="flip",
                   label_smoothing=0.0)
    before = accuracy_and_loss(recompute_batchnorm(model, images), images, labels)[1]
    tuned = finetune(copy.deepcopy(model), hparams, images, labels, epochs=3, seed=0)
    again = finetune(copy.deepcopy(model), hparams, images, labels, epochs=3, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(tuned.state_dict().values(), again.state_dict().values()))
    assert accuracy_and_loss(recompute_batchnorm(tuned, images), images, labels)[1] < before - 0.05


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pp")
    code = main(["parameter-prediction", "--zoo", str(TEST_ZOO), "--data", str(CIFAR), "--test-limit", "100",
                 "--finetune-epochs", "0",
                 "--finetune-limit", "64", "--train-steps", "3", "--train-limit", "64", "--out", str(out), "--quiet"])
    return code, out


def test_cli_end_to_end(cli_run, task):
    code, out = cli_run
    assert code == 0
    results = validate_results(out / "results.json")  # its own schema, not the scalar tasks' one
    assert results["schema"] == "gmn-bench/parameter-prediction-results/v1" and results["task"] == "parameter-prediction"
    assert results["zoo"]["fingerprint"].startswith("sha256:") and results["metanet"]["name"] == "ghn2"
    assert results["metanet"]["n_params"] > 0 and results["protocol"]["steps"] == 3
    assert results["metanet"]["hparams"] == GHN().hparams() and results["task_settings"] == task.settings()
    assert results["environment"]["git_commit"] is None or len(results["environment"]["git_commit"]) == 40
    assert set(results["metrics"]) == {"predicted", "random_init", "trained"}  # no fine-tuning sources with 0 epochs
    for source, splits in results["metrics"].items():
        for split, summary in splits.items():
            values = [results["per_network"][m][source] for m in task.ids(split)]
            assert summary["n"] == len(values) and summary["mean"] == pytest.approx(statistics.fmean(values))
            assert summary["std"] == (pytest.approx(statistics.stdev(values)) if len(values) > 1 else None)
            assert summary["ci_low"] <= summary["mean"] <= summary["ci_high"]
    rescored = task.evaluate(out / "predictions", progress=False)  # the same settings score a folder identically
    assert {m: r["predicted"] for m, r in rescored.items()} == {
        m: r["predicted"] for m, r in results["per_network"].items()}
    predicted = load_predictions(out / "predictions")
    only_id = task.evaluate({m: predicted[m] for m in task.ids("id")}, split="id", progress=False)
    assert sorted(only_id) == task.ids("id") and all(only_id[m] == rescored[m] for m in only_id)


def test_trained_zoo_weights_score_clearly_above_random_init(cli_run):
    metrics = json.loads((cli_run[1] / "results.json").read_text())["metrics"]
    for split in TEST_SPLITS:
        assert metrics["trained"][split]["mean"] > metrics["random_init"][split]["mean"] + 0.08, split
        assert 0.0 <= metrics["random_init"][split]["mean"] < 0.2
