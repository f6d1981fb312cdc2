"""Parameter prediction: checked predictions, safetensors round trip, reference scores on real
CIFAR-10, the GHN's outputs and training, and the command line end to end."""
import copy
import json
import statistics
from pathlib import Path

import datasets
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file
from torch.func import functional_call

from conftest import CIFAR, SPECS, TEST_ZOO
from foreign_architectures import ARCHITECTURES, build
from foreign_architectures import spec as foreign_spec
from gmn_bench import build_model, to_module
from gmn_bench.nets.cifar import load_cifar10, normalize
from gmn_bench.cli import main
from gmn_bench.build.recipes import load_recipe
from gmn_bench.evaluation import anchors_table, validate_results
from gmn_bench.evaluation.parameter_prediction import (ALL_FAMILIES, HELD_OUT, ScoreLog, epochs_to_reach,
                                                       training_architectures)
from gmn_bench.metanets.ghn import GHN, PRETRAINED, computational_graph, predict_parameters, train_ghn
from gmn_bench.tasks import TaskInputError
from gmn_bench.tasks.parameter_prediction import (TEST_SPLITS, ParameterPredictionTask, finetune, load_predictions,
                                                  recompute_batchnorm, save_predictions, score)
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
    out, cache = tmp_path_factory.mktemp("pp"), tmp_path_factory.mktemp("cache")
    argv = ["parameter-prediction", "--zoo", str(TEST_ZOO), "--data", str(CIFAR), "--test-limit", "100",
            "--finetune-epochs", "0", "--finetune-limit", "64", "--train-steps", "3", "--train-limit", "64",
            "--threads", "1", "--cache", str(cache), "--curve-networks", "2", "--out", str(out), "--quiet"]
    return main(argv), out, argv


def test_cli_end_to_end(cli_run, task):
    code, out, _ = cli_run
    assert code == 0
    results = validate_results(out / "results.json")  # its own schema, not the scalar tasks' one
    assert results["schema"] == "gmn-bench/parameter-prediction-results/v1" and results["task"] == "parameter-prediction"
    assert results["zoo"]["fingerprint"].startswith("sha256:") and results["metanet"]["name"] == "ghn2"
    assert results["metanet"]["n_params"] > 0 and results["metanet"]["hparams"] == GHN().hparams()
    protocol = results["protocol"]
    assert protocol[ALL_FAMILIES]["steps"] == protocol[HELD_OUT]["steps"] == 3
    assert protocol[HELD_OUT]["excluded_family"] == "vit" and "vit" not in protocol[HELD_OUT]["train_architectures"]
    assert results["task_settings"] == task.settings()
    assert results["environment"]["git_commit"] is None or len(results["environment"]["git_commit"]) == 40
    assert set(results["metrics"]) == {"predicted", "random_init", "trained"}  # no fine-tuning sources with 0 epochs
    for source, splits in results["metrics"].items():
        for split, summary in splits.items():
            ids = task.ids(split)
            values = [results["per_network"][split][m][source] for m in ids]
            specs = [json.dumps(task.networks[m].spec, sort_keys=True) for m in ids]
            assert summary["n"] == len(values) and summary["n_architectures"] == len(set(specs))
            assert summary["mean"] == pytest.approx(statistics.fmean(values))
            assert summary["std"] == (pytest.approx(statistics.stdev(values)) if len(values) > 1 else None)
            assert summary["ci_low"] <= summary["mean"] <= summary["ci_high"]
            assert summary["interval"] == ("architectures" if source == "predicted" else "networks")
            assert summary["single_class"] == sum(results["single_class"][split][m][source] for m in ids)
    assert all(len(set(results["curves"]) & set(task.ids(split))) >= min(2, len(task.ids(split)))
               for split in TEST_SPLITS)  # 2 sampled networks of each split, their training rerun
    for model_id, curve in results["curves"].items():
        assert curve["epochs"] == list(range(task.networks[model_id].hparams["epochs"] + 1))
    for split, anchors in results["anchors"].items():
        ids = [m for m in task.ids(split) if m in results["curves"]]
        reached = [epochs_to_reach(results["curves"][m]["epochs"], results["curves"][m]["accuracy"],
                                   results["per_network"][split][m]["predicted"]) for m in ids]
        saved = anchors["epochs_saved"]
        assert saved["mean"] == pytest.approx(statistics.fmean(e for e, _ in reached))
        assert saved["not_reached"] == sum(not ok for _, ok in reached) and saved["ci_low"] <= saved["mean"] <= saved["ci_high"]
        assert anchors["full_data_epochs_saved"]["mean"] <= saved["mean"] + 1e-12  # train fractions are at most 1
        assert anchors["ranking_tau"]["n_architectures"] == results["metrics"]["predicted"][split]["n_architectures"]
        assert anchors["epochs_saved"]["n"] == len(ids)
        assert "finetune_gain" not in anchors  # no fine-tuning sources with 0 epochs
    assert anchors_table(results["anchors"]).splitlines()[0].split()[2:] == list(TEST_SPLITS)
    for split in TEST_SPLITS:  # each split scored with its own GHN's predictions, saved per GHN
        ghn = HELD_OUT if split == "ood_family" else ALL_FAMILIES
        predicted = load_predictions(out / "predictions" / ghn)
        rescored = task.evaluate({m: predicted[m] for m in task.ids(split)}, split=split, progress=False)
        assert {m: r["predicted"]["accuracy"] for m, r in rescored.items()} == {
            m: r["predicted"] for m, r in results["per_network"][split].items()}


def test_a_rerun_reuses_the_ghns_and_every_logged_score(cli_run, monkeypatch):
    code, out, argv = cli_run
    before = json.loads((out / "results.json").read_text())

    def no_scoring(*args, **kwargs):
        raise AssertionError("a rerun scored a network again")

    monkeypatch.setattr("gmn_bench.tasks.parameter_prediction.score", no_scoring)
    monkeypatch.setattr("gmn_bench.evaluation.parameter_prediction.train_ghn", no_scoring)
    assert main(argv) == 0
    after = json.loads((out / "results.json").read_text())
    for key in ("per_network", "metrics", "curves", "anchors"):
        assert after[key] == before[key], key


def test_a_rerun_training_curve_starts_at_the_zoo_initialisation_and_is_deterministic(task):
    """Epoch 0 of the rerun is the zoo's own epoch-0 checkpoint (the recorded init_seed); a second rerun
    gives the same curve to the bit."""
    zoo = datasets.load_dataset(str(TEST_ZOO), "id", split="test")
    model_id = task.ids("id")[0]
    row = next(r for r in zoo if r["model_id"] == model_id and r["epoch"] == 0)
    curve = task.curves([model_id], progress=False)[model_id]
    assert curve["accuracy"][0] == score(to_module(row), *task._test_data)["accuracy"]
    assert task.curves([model_id], progress=False)[model_id] == curve


def test_score_log_keeps_finished_networks_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "log.jsonl"
    log = ScoreLog(path, {"zoo": "a"})
    log.append("net-1", {"predicted": {"accuracy": 0.5, "single_class": False}})
    log.append("net-2", {"predicted": {"accuracy": 0.25, "single_class": True}})
    with path.open("a") as f:
        f.write('{"model_id": "net-3", "sco')  # the run died mid-write
    again = ScoreLog(path, {"zoo": "a"})
    assert again.known == {"net-1": {"predicted": {"accuracy": 0.5, "single_class": False}},
                           "net-2": {"predicted": {"accuracy": 0.25, "single_class": True}}}
    again.append("net-3", {"predicted": {"accuracy": 0.1, "single_class": True}})
    assert set(ScoreLog(path, {"zoo": "a"}).known) == {"net-1", "net-2", "net-3"}
    assert ScoreLog(path, {"zoo": "b"}).known == {}  # another identity starts over


def test_trained_zoo_weights_score_clearly_above_random_init(cli_run):
    metrics = json.loads((cli_run[1] / "results.json").read_text())["metrics"]
    for split in TEST_SPLITS:
        assert metrics["trained"][split]["mean"] > metrics["random_init"][split]["mean"] + 0.08, split
        assert 0.0 <= metrics["random_init"][split]["mean"] < 0.2


def test_training_architectures_never_hold_a_scored_test_architecture(task):
    recipe = load_recipe(Path(__file__).resolve().parents[1] / "builders" / "cifar10-bench")
    tested = {json.dumps(task.networks[m].spec, sort_keys=True) for s in ("id", "ood_size") for m in task.ids(s)}
    specs = training_architectures(task, ("id", "ood_size"), recipe, draws=400)
    keys = {json.dumps(s, sort_keys=True) for s in specs}
    assert len(keys) == len(specs) and not keys & tested
    # the recipe's own space holds 12 ResNet and 24 ViT architectures in all; the widened space many more
    families = [s["family"] for s in specs]
    assert all(families.count(f) >= 10 for f in ("cnn", "mlp", "resnet", "vit")), families
    for spec in specs[::25]:
        assert build_model(spec)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    held_out = training_architectures(task, ("ood_family",), recipe, exclude_family="vit", draws=400)
    assert held_out and "vit" not in {s["family"] for s in held_out}


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6), st.floats(0.0, 1.0))
def test_epochs_to_reach_is_the_first_crossing_of_the_curve(accuracy, target):
    epochs = [0, *(2**k for k in range(len(accuracy) - 1))]
    reached, ok = epochs_to_reach(epochs, accuracy, target)
    crossing = next((i for i, a in enumerate(accuracy) if a >= target), None)
    assert ok == (crossing is not None)
    if crossing is None:
        assert reached == epochs[-1]
    elif crossing == 0:
        assert reached == epochs[0]
    else:  # on the segment into the first point at or above the target, where the line meets it
        e0, e1, a0, a1 = epochs[crossing - 1], epochs[crossing], accuracy[crossing - 1], accuracy[crossing]
        assert e0 <= reached <= e1 and a0 + (reached - e0) / (e1 - e0) * (a1 - a0) == pytest.approx(target)


def test_score_reports_single_class_networks():
    images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(20) % 10
    constant = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    with torch.no_grad():
        constant[1].weight.zero_()
        constant[1].bias.copy_(torch.arange(10.0))
    assert score(constant, images, labels) == {"accuracy": 0.1, "single_class": True}
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    assert score(linear, images, labels)["single_class"] is False


@pytest.mark.parametrize("family", sorted(ARCHITECTURES))
def test_predict_parameters_fills_the_state_dict_of_a_foreign_network(family):
    module = build(foreign_spec(family))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    state = predict_parameters(module, GHN(hidden=16, layers=1))
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in before.items()}
    assert all(torch.equal(v, module.state_dict()[k]) for k, v in before.items())  # the module is left unchanged
    assert any(not torch.equal(state[k], before[k]) for k, _ in module.named_parameters())
    module.load_state_dict(state)
    assert torch.isfinite(module.eval()(torch.randn(2, 3, 32, 32))).all()


def test_predict_parameters_refuses_a_parameter_no_operation_uses():
    class Unused(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(3 * 32 * 32, 10)
            self.spare = torch.nn.Parameter(torch.zeros(4))

        def forward(self, x):
            return self.head(x.flatten(1))

    with pytest.raises(ValueError, match="spare"):
        predict_parameters(Unused(), GHN(hidden=16, layers=1))


def test_a_saved_ghn_loads_back_and_predicts_the_same(tmp_path):
    torch.manual_seed(0)
    ghn = GHN(hidden=16, layers=1)
    loaded = GHN.load(ghn.save(tmp_path / "ghn", note="test"))
    assert loaded.hparams() == ghn.hparams() and not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(ghn.predict(SPECS["vit"]).values(), loaded.predict(SPECS["vit"]).values()))


def test_the_shipped_ghn_loads_offline_and_beats_chance_on_real_images():
    ghn = GHN.from_pretrained()
    record = json.loads((PRETRAINED / "metanet.json").read_text())
    assert record["trained"]["steps"] > 0 and record["curve"]
    images, labels = load_cifar10(str(CIFAR), "test", limit=200)
    train_images = load_cifar10(str(CIFAR), "train", limit=256)[0]
    accuracy = {}
    for family, spec in SPECS.items():  # every family: the shipped GHN trained on ResNets and ViTs too
        module = build_model(spec)
        module.load_state_dict(predict_parameters(module, ghn))
        accuracy[family] = score(recompute_batchnorm(module, train_images), images, labels)["accuracy"]
    assert min(accuracy.values()) > 0.1 and statistics.fmean(accuracy.values()) > 0.18, accuracy


def test_cli_predicts_the_parameters_of_a_foreign_network(tmp_path, capsys):
    out = tmp_path / "weights.safetensors"
    assert main(["predict-parameters", "--factory", "foreign_architectures:build", "--spec",
                 json.dumps(foreign_spec("vgg")), "--out", str(out), "--threads", "1"]) == 0
    module = build(foreign_spec("vgg"))
    module.load_state_dict(load_file(out))
    assert "wrote" in capsys.readouterr().out
    assert main(["predict-parameters", "--spec", "[1]", "--out", str(out)]) == 2
    assert main(["predict-parameters", "--factory", "foreign_architectures:nope", "--spec", "{}", "--out", str(out)]) == 2


def test_parameter_prediction_help_states_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["parameter-prediction", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 3000)", "(default: 1)", "(default: uoft-cs/cifar10)", "--threads", "--cache"):
        assert default in text
