"""Task splits as datasets whose items carry their targets (PyG graphs and plain torch weights)."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gmn_bench import to_module
from gmn_bench.graphs import to_graph
from gmn_bench.tasks import TaskGraphDataset, TaskWeightsDataset, get_task
from conftest import TEST_ZOO


@pytest.fixture(scope="module")
def task():
    return get_task("accuracy-prediction", zoo=TEST_ZOO)


def _norms(row):
    return Data(x=torch.stack([p.norm() for p in to_module(row).parameters()])[None])


def test_graph_items_are_parameter_graphs_with_their_target(task):
    data = TaskGraphDataset(task, "test")
    truth = task.targets("test")
    assert len(data) == len(truth) == 9
    for item, (model_id, target) in zip(data, truth.items()):
        assert item.model_id == model_id and item.y.dtype == torch.float32
        assert item.y.item() == pytest.approx(target)
        reference = to_graph(task.rows("test")[task.ids("test").index(model_id)])
        assert torch.equal(item.edge_index, reference.edge_index) and torch.equal(item.x, reference.x)
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert batch.y.shape == (4,) and batch.model_id == task.ids("test")[:4]


def test_pre_transform_runs_once_per_item_and_transform_on_every_access(task):
    calls = {"pre": 0, "every": 0}

    def pre(d):
        calls["pre"] += 1
        d.x = d.x * 2
        return d

    def every(d):
        calls["every"] += 1
        return d

    data = TaskGraphDataset(task, "validation", featurize=_norms, transform=every, pre_transform=pre)
    assert calls == {"pre": len(data), "every": 0}
    first, again = data[0], data[0]
    assert calls["every"] == 2 and torch.equal(first.x, again.x)
    assert torch.equal(first.x, 2 * _norms(task.rows("validation")[0]).x)


def test_cached_features_are_never_modified(task):
    cached = {}

    def featurize(row):
        return cached.setdefault(row["model_id"], Data(x=torch.zeros(1, 2)))

    TaskGraphDataset(task, "test", featurize=featurize)
    assert all(getattr(d, "y", None) is None and getattr(d, "model_id", None) is None for d in cached.values())


def test_classification_targets_are_class_indices():
    optimizer = get_task("hyperparameter-prediction-optimizer", zoo=TEST_ZOO)
    data = TaskGraphDataset(optimizer, "test", featurize=_norms)
    labels = [optimizer.classes[d.y.item()] for d in data]
    assert labels == list(optimizer.targets("test").values()) and data[0].y.dtype == torch.int64
    weights, y = TaskWeightsDataset(optimizer, "test")[0]
    assert optimizer.classes[y.item()] == labels[0]


def test_weights_items_are_state_dicts_or_flat_parameters_with_their_target(task):
    plain, flat = TaskWeightsDataset(task, "test"), TaskWeightsDataset(task, "test", flat=True)
    truth = list(task.targets("test").values())
    assert len(plain) == len(flat) == len(truth)
    for i in (0, len(truth) - 1):
        module = to_module(task.rows("test")[i])
        state, y = plain[i]
        assert y.item() == pytest.approx(truth[i]) and state.keys() == module.state_dict().keys()
        vector, _ = flat[i]
        assert torch.equal(vector, torch.cat([p.detach().flatten() for p in module.parameters()]))
    scaled = TaskWeightsDataset(task, "test", flat=True, transform=lambda v: v * 0)
    assert not scaled[0][0].any()
