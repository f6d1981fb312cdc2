import copy

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from gmn_bench import load_zoo
from gmn_bench.graphs.dataset import GraphDataset, graph_cache_key, graph_loader
from gmn_bench.graphs import to_graph
from conftest import TEST_ZOO

KEYS = ("x", "edge_index", "edge_type", "edge_kernel", "weight_values")


def _assert_same_graph(a, b):
    assert a.family == b.family and a.num_nodes == b.num_nodes
    for key in KEYS:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_cache_builds_each_graph_once_and_serves_identical_graphs(rows, tmp_path):
    cached = GraphDataset(rows, cache_dir=tmp_path)
    first = [cached[i] for i in range(len(cached))]
    distinct = len({graph_cache_key(r) for r in rows})  # the fixture's two checkpoints share weights
    assert distinct == len(rows) // 2
    assert cached.builds == distinct == len(list(tmp_path.glob("*.safetensors")))
    again = GraphDataset(rows, cache_dir=tmp_path)  # a new process would see the same files
    second = [again[i] for i in range(len(again))]
    assert again.builds == 0
    for a, b, row in zip(first, second, rows):
        _assert_same_graph(b, to_graph(row))
        _assert_same_graph(a, b)


def test_changed_weights_get_a_new_key_so_stale_graphs_are_never_served(rows, tmp_path):
    row = rows[2]
    GraphDataset([row], cache_dir=tmp_path)[0]
    state = st_load(bytes(row["weights"]))
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = state[name] + 1.0
    changed = {**copy.deepcopy(row), "weights": st_save(state)}
    assert graph_cache_key(changed) != graph_cache_key(row)
    assert graph_cache_key({**row, "arch": row["arch"].replace(": ", ":  ")}) == graph_cache_key(row)  # canonical JSON
    ds = GraphDataset([changed], cache_dir=tmp_path)
    _assert_same_graph(ds[0], to_graph(changed))
    assert ds.builds == 1


def test_cache_files_are_safetensors_with_a_format_tag(rows, tmp_path):
    GraphDataset(rows[:1], cache_dir=tmp_path)[0]
    (path,) = tmp_path.glob("*.safetensors")
    assert set(st_load(path.read_bytes())) == set(KEYS)
    assert path.read_bytes()[8:9] == b"{"  # safetensors: 8-byte header length, then a JSON header
    path.write_bytes(st_save({k: torch.zeros(1) for k in KEYS}))  # a file of another format is refused
    with pytest.raises(ValueError, match="format"):
        GraphDataset(rows[:1], cache_dir=tmp_path)[0]


def test_loader_over_the_embedded_zoo(tmp_path):
    loader = graph_loader(TEST_ZOO, config="id", split="test", batch_size=8, cache_dir=tmp_path)
    batches = list(loader)
    rows = load_zoo(TEST_ZOO, config="id", split="test")
    distinct = len({graph_cache_key(r) for r in rows})  # identical checkpoints share one file
    assert sum(b.num_graphs for b in batches) == len(rows)
    assert loader.dataset.builds == distinct == len(list(tmp_path.glob("*.safetensors")))
    assert [f for b in batches for f in b.family] == rows["family"]
    assert {f for b in batches for f in b.family} == {"mlp", "cnn", "resnet", "vit"}
    again = list(loader)
    assert loader.dataset.builds == distinct  # second epoch: every graph from the cache
    for a, b in zip(batches, again):
        _assert_same_graph(a, b)
    _assert_same_graph(batches[0].get_example(0), to_graph(rows[0]))


def test_shuffled_loader_is_seeded(tmp_path):
    def order(**kwargs):
        loader = graph_loader(TEST_ZOO, split="validation", batch_size=5, cache_dir=tmp_path, **kwargs)
        return [float(g.weight_values.sum()) for b in loader for g in b.to_data_list()]

    plain, shuffled = order(), order(shuffle=True, seed=3)
    assert shuffled == order(shuffle=True, seed=3)
    assert shuffled != plain and sorted(shuffled) == sorted(plain)
