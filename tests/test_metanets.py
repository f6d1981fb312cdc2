"""Reference metanets on the embedded zoo: features of every family, output shapes, symmetries."""
import json
import statistics

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch_geometric.data import Batch

from gmn_bench import build_model, make_row
from gmn_bench.evaluation import evaluate_metanet
from gmn_bench.metanets import (DMC, GMN, METANETS, ArchOnly, DeepSets, DeepSetsPlus, FlatMLP, Metanet,
                                MetanetNotApplicable, SklearnMetanet, StatNN, StatNNGBT, TorchMetanet, statnn_features)
from gmn_bench.metanets.baselines import ARCH_FEATURES
from gmn_bench.tasks import get_task
from conftest import TEST_ZOO

TORCH_METANETS = (GMN, DeepSets, DMC, DeepSetsPlus, StatNN)


@pytest.fixture(scope="module")
def family_rows():
    """One final-checkpoint row per family of the embedded zoo."""
    rows = {}
    for row in get_task("accuracy-prediction", zoo=TEST_ZOO).rows("train"):
        rows.setdefault(row["family"], row)
    assert sorted(rows) == ["cnn", "mlp", "resnet", "vit"]
    return rows


def _row(spec, module, model_id="net"):
    return make_row(model_id, spec, module, epoch=1, split_id="train")


@pytest.mark.parametrize("cls", TORCH_METANETS)
@pytest.mark.parametrize("out_dim", [1, 3])
def test_mixed_family_batches_have_one_output_row_per_network(cls, out_dim, family_rows):
    torch.manual_seed(0)
    metanet = cls(out_dim=out_dim).eval()
    data = [metanet.featurize(r) for r in family_rows.values()]
    assert all(torch.isfinite(d.x).all() for d in data)
    out = metanet(Batch.from_data_list(data))
    assert out.shape == (4, out_dim) and torch.isfinite(out).all()
    assert metanet.hparams()["out_dim"] == out_dim


@pytest.mark.parametrize("name", sorted(METANETS))
def test_every_registered_metanet_follows_the_contract(name):
    cls = METANETS[name]
    assert issubclass(cls, (TorchMetanet, SklearnMetanet)) and cls.name == name
    assert isinstance(cls.default_epochs, int) and cls.default_epochs >= 1 and isinstance(cls.deterministic, bool)
    metanet = cls(out_dim=2) if issubclass(cls, TorchMetanet) else cls()
    hparams = metanet.hparams()
    assert json.loads(json.dumps(hparams)) == hparams and type(metanet)(**hparams).hparams() == hparams


@pytest.mark.parametrize("cls", TORCH_METANETS + (FlatMLP,))
def test_a_saved_metanet_loads_with_its_hparams_and_weights(cls, family_rows, tmp_path):
    torch.manual_seed(0)
    row = family_rows["cnn"]
    metanet = cls(out_dim=2, hidden=32 if cls is DMC else 8).eval()  # DMC's narrowest conv has hidden/32 channels
    batch = Batch.from_data_list([metanet.featurize(row)] * 2)
    expected = metanet(batch)  # also materializes lazy layers
    metanet.save(tmp_path / "m")
    for loader in (TorchMetanet, cls):  # by registry name, or by its own class
        loaded = loader.load(tmp_path / "m")
        assert type(loaded) is cls and loaded.hparams() == metanet.hparams() and not loaded.training
        torch.testing.assert_close(loaded(batch), expected, rtol=0, atol=0)
    other = StatNN if cls is not StatNN else DeepSets
    with pytest.raises(ValueError, match=f"holds metanet '{cls.name}', not '{other.name}'"):
        other.load(tmp_path / "m")


def test_a_metanet_of_ones_own_loads_by_its_class_and_is_refused_by_the_registry(tmp_path):
    class Mine(TorchMetanet):
        name = "mine"

        def __init__(self, out_dim, width=3):
            super().__init__(out_dim=out_dim, width=width)
            self.linear = torch.nn.Linear(width, out_dim)

        def featurize(self, row):
            raise NotImplementedError

        def forward(self, batch):
            return self.linear(batch.x)

    Mine(out_dim=1, width=4).save(tmp_path / "mine")
    assert Mine.load(tmp_path / "mine").linear.in_features == 4
    with pytest.raises(ValueError, match="'mine' is not a registered torch metanet"):
        TorchMetanet.load(tmp_path / "mine")
    (tmp_path / "mine" / "metanet.json").write_text("{}")
    with pytest.raises(ValueError, match="not a gmn-bench/metanet/v1 file"):
        Mine.load(tmp_path / "mine")
    with pytest.raises(TypeError):
        Metanet()  # the contract is abstract: featurize must be defined


def test_flatmlp_reads_each_family_and_refuses_mixed_architectures(family_rows):
    for family, row in family_rows.items():
        metanet = FlatMLP(out_dim=2).eval()
        x = metanet.featurize(row).x
        assert x.shape[0] == 1
        assert x.shape[1] == sum(t.numel() for t in st_load(bytes(row["weights"])).values() if t.is_floating_point())
        FlatMLP.check_rows([row, row])
        out = metanet(Batch.from_data_list([metanet.featurize(row)] * 2))
        assert out.shape == (2, 2), family
    with pytest.raises(MetanetNotApplicable, match="mixes 4") as err:
        FlatMLP.check_rows(list(family_rows.values()))
    assert "families cnn, mlp, resnet, vit" in str(err.value) and "(2 more)" in str(err.value)
    StatNN.check_rows(list(family_rows.values()))  # no restriction declared


@pytest.mark.parametrize("cls", [DeepSets, DeepSetsPlus])
@settings(max_examples=20, deadline=None)
@given(rnd=st.randoms(use_true_random=False))
def test_deepsets_is_invariant_to_permuting_set_elements(cls, rnd):
    torch.manual_seed(1)
    spec = {"family": "cnn", "channels": [4, 6], "kernel_size": 3, "batchnorm": True, "pooling": "max"}
    metanet = cls(out_dim=2).eval()
    data = metanet.featurize(_row(spec, build_model(spec)))
    perm = list(range(data.num_nodes))
    rnd.shuffle(perm)
    permuted = data.clone()
    permuted.x = data.x[torch.tensor(perm)]
    torch.testing.assert_close(metanet(Batch.from_data_list([permuted])), metanet(Batch.from_data_list([data])))


@pytest.mark.parametrize("cls", [DeepSets, DeepSetsPlus])
def test_deepsets_is_invariant_to_permuting_hidden_neurons(cls):
    """Permuting an MLP's hidden units (a symmetry of the function) permutes parameter values only."""
    torch.manual_seed(2)
    spec = {"family": "mlp", "depth": 1, "width": 8, "activation": "relu"}
    net = build_model(spec)
    permuted = build_model(spec)
    perm = torch.randperm(8)
    with torch.no_grad():
        permuted.fc0.weight.copy_(net.fc0.weight[perm])
        permuted.fc0.bias.copy_(net.fc0.bias[perm])
        permuted.head.weight.copy_(net.head.weight[:, perm])
        permuted.head.bias.copy_(net.head.bias)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(net(x), permuted(x))
    metanet = cls(out_dim=1).eval()
    a, b = (Batch.from_data_list([metanet.featurize(_row(spec, m))]) for m in (net, permuted))
    assert not torch.equal(a.x, b.x)
    torch.testing.assert_close(metanet(a), metanet(b))


def _hand_stats(t):
    v = sorted(t.detach().double().flatten().tolist())
    q25, q50, q75 = statistics.quantiles(v, n=4, method="inclusive")
    return [statistics.fmean(v), statistics.pvariance(v), v[0], q25, q50, q75, v[-1]]


def test_statnn_features_match_a_hand_computation():
    torch.manual_seed(3)
    spec = {"family": "mlp", "depth": 1, "width": 4, "activation": "tanh"}
    net = build_model(spec)
    features = statnn_features(_row(spec, net), slots=4)
    # two layers (fc0, head): they fill the last two of four slots; the first two are empty
    expected = [0.0] * 30
    for layer in (net.fc0, net.head):
        expected += _hand_stats(layer.weight) + _hand_stats(layer.bias) + [1.0]
    np.testing.assert_allclose(features, expected, rtol=1e-9, atol=1e-12)


def test_statnn_slots_keep_the_first_and_last_layers_of_deep_networks():
    torch.manual_seed(4)
    spec = {"family": "mlp", "depth": 5, "width": 4, "activation": "relu"}
    net = build_model(spec)
    features = statnn_features(_row(spec, net), slots=4).reshape(4, 15)
    kept = [net.fc0, net.fc1, net.fc4, net.head]  # fc2 and fc3 are dropped
    for slot, layer in zip(features, kept):
        np.testing.assert_allclose(slot, _hand_stats(layer.weight) + _hand_stats(layer.bias) + [1.0], rtol=1e-9)


def test_statnn_gbt_uses_the_statnn_features(family_rows):
    gbt, nn_ = StatNNGBT(slots=6), StatNN(out_dim=1, slots=6)
    row = family_rows["vit"]
    np.testing.assert_array_equal(gbt.featurize(row), statnn_features(row, 6))
    torch.testing.assert_close(nn_.featurize(row).x, torch.from_numpy(statnn_features(row, 6)).float()[None])
    assert type(gbt.estimator("classification", 0)).__name__ == "HistGradientBoostingClassifier"
    assert gbt.estimator("regression", 5).random_state == 5 and gbt.estimator("regression", 5).early_stopping is False


@pytest.mark.parametrize("name", [n for n, cls in METANETS.items() if cls.deterministic and issubclass(cls, SklearnMetanet)])
def test_a_metanet_declared_deterministic_gives_the_same_predictions_for_every_seed(name):
    from gmn_bench.evaluation.protocol import featurize_matrix, fit_seed

    task = get_task("accuracy-prediction", zoo=TEST_ZOO)
    metanet = METANETS[name]()
    features = {s: featurize_matrix(metanet, task, s, progress=False) for s in ("train", "test")}
    first, second = (fit_seed(metanet, task, features, seed)[0] for seed in (0, 1))
    assert first.predictions == second.predictions


def test_trivial_baselines_never_read_weight_values(family_rows):
    row = family_rows["cnn"]
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in st_load(bytes(row["weights"])).items()}
    shuffled = dict(row, weights=st_save(state))
    features = ArchOnly().featurize(row)
    assert features.shape == (len(ARCH_FEATURES),)
    assert np.array_equal(features, ArchOnly().featurize(shuffled))
    assert not np.array_equal(features, ArchOnly().featurize(family_rows["resnet"]))


def test_constant_predicts_the_training_mean_once():
    task = get_task("accuracy-prediction", zoo=TEST_ZOO)
    results = evaluate_metanet(task, "constant", seeds=[0, 1], progress=False)
    mean = statistics.fmean(task.targets("train").values())
    assert results.seeds == [0] and results.deterministic
    assert list(results.per_seed[0].predictions.values()) == pytest.approx([mean] * len(task.ids("test")))
    assert results.metrics["kendall_tau"].mean == 0.0
