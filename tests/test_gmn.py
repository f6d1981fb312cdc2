import copy
import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.loader import DataLoader

from conftest import SPECS, trained_like
from gmn_bench import build_model, make_row
from gmn_bench.graphs.parameter_graph import to_graph
from gmn_bench.metanets import GMN
from spec_strategies import ANY_SPEC


pytestmark = pytest.mark.usefixtures("one_thread")


def _gmn(seed=0, **kwargs):
    torch.manual_seed(seed)
    return GMN(hidden=16, layers=2, **kwargs).double().eval()


def _double(g):
    g = g.clone()
    g.x, g.weight_values = g.x.double(), g.weight_values.double()
    return g


def _hidden_units(module, spec):
    """(tensors indexed by a hidden unit in dim 0, tensors indexed by it in dim 1) for each permutable layer."""
    def norm_tensors(norm):
        return [norm.weight, norm.bias, norm.running_mean, norm.running_var] if hasattr(norm, "running_mean") else []

    family = spec["family"]
    if family == "mlp":
        layers = [getattr(module, f"fc{i}") for i in range(module.depth)] + [module.head]
        return [([a.weight, a.bias], [b.weight]) for a, b in zip(layers, layers[1:])]
    if family == "cnn":
        convs = list(module.convs)
        nxt = [layer.conv.weight for layer in convs[1:]] + [module.head.weight]
        return [([c.conv.weight] + ([c.conv.bias] if c.conv.bias is not None else []) + norm_tensors(c.norm), [w])
                for c, w in zip(convs, nxt)]
    if family == "resnet":
        return [([b.conv1.weight, *norm_tensors(b.bn1)], [b.conv2.weight]) for b in module.blocks]
    if family == "vit":
        return [([b.fc1.weight, b.fc1.bias], [b.fc2.weight]) for b in module.blocks]
    raise AssertionError(family)


def _permuted(module, spec, generator, fix_consumer=True):
    """Copy of ``module`` with the hidden units of every permutable layer permuted (function-preserving
    when ``fix_consumer``; otherwise each layer's units are rolled by one and their consumers are not)."""
    out = copy.deepcopy(module)
    with torch.no_grad():
        for rows, cols in _hidden_units(out, spec):
            n = rows[0].shape[0]
            perm = torch.randperm(n, generator=generator) if fix_consumer else torch.roll(torch.arange(n), 1)
            for t in rows:
                t.copy_(t[perm])
            for t in cols if fix_consumer else []:
                t.copy_(t[:, perm])
    return out


@settings(max_examples=8, deadline=None, derandomize=True)
@given(spec=ANY_SPEC, seed=st.integers(0, 2**16))
def test_function_preserving_permutations_give_the_same_prediction(spec, seed):
    torch.manual_seed(seed)
    module = trained_like(build_model(spec)).eval()
    permuted = _permuted(module, spec, torch.Generator().manual_seed(seed))
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(permuted(x), module(x), rtol=1e-4, atol=1e-5)
    g, gp = _double(to_graph(module)), _double(to_graph(permuted))
    gmn = _gmn(seed)
    with torch.no_grad():
        torch.testing.assert_close(gmn(gp), gmn(g), rtol=1e-9, atol=1e-10)
        # negative control: rolling units without their consumers changes the function and the prediction
        broken = _permuted(module, spec, None, fix_consumer=False)
        if not torch.allclose(broken(x), module(x), rtol=1e-4, atol=1e-5):
            assert (gmn(_double(to_graph(broken))) - gmn(g)).abs().max() > 1e-7


@pytest.mark.parametrize("family", list(SPECS))
def test_negative_control_changes_prediction(family):
    torch.manual_seed(11)
    spec = SPECS[family]
    module = build_model(spec).eval()  # default BatchNorm statistics: no dead (constant) network
    broken = _permuted(module, spec, None, fix_consumer=False)
    x = torch.randn(2, 3, 32, 32)
    assert not torch.allclose(broken(x), module(x), rtol=1e-4, atol=1e-5)
    gmn = _gmn()
    with torch.no_grad():
        assert (gmn(_double(to_graph(broken))) - gmn(_double(to_graph(module)))).abs().max() > 1e-7


@pytest.mark.parametrize("family", ["cnn", "vit"])
def test_node_relabelling_invariance(family):
    """Any relabelling of a graph's nodes (not only those a permutation of the network induces)."""
    torch.manual_seed(12)
    g = _double(to_graph(build_model(SPECS[family])))
    perm = torch.randperm(g.num_nodes)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(g.num_nodes)
    relabelled = g.clone()
    relabelled.x = g.x[perm]
    relabelled.edge_index = inverse[g.edge_index]
    gmn = _gmn()
    with torch.no_grad():
        torch.testing.assert_close(gmn(relabelled), gmn(g), rtol=1e-9, atol=1e-10)


def test_contract_featurize_forward_hparams(rows):
    gmn = GMN(out_dim=3, hidden=8, layers=1)
    assert GMN.name == "gmn"
    hparams = gmn.hparams()
    assert json.loads(json.dumps(hparams)) == hparams and hparams["out_dim"] == 3
    assert GMN(**hparams).hparams() == hparams
    graphs = [gmn.featurize(r) for r in rows]
    again = gmn.featurize(rows[0])
    assert torch.equal(again.weight_values, graphs[0].weight_values) and torch.equal(again.x, graphs[0].x)
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    out = gmn(batch)
    assert out.shape == (len(rows), 3) and torch.isfinite(out).all()
    torch.testing.assert_close(out[2:3], gmn(graphs[2]), rtol=1e-5, atol=1e-6)  # batching does not mix graphs
    spec = {"family": "cnn", "channels": [2], "kernel_size": 5}  # kernels larger than the grid are block-averaged
    small_grid = GMN(max_kernel=3, hidden=8, layers=1)
    assert torch.isfinite(small_grid(small_grid.featurize(make_row("cnn5", spec, build_model(spec), epoch=0)))).all()
    with pytest.raises(ValueError, match="odd"):
        GMN(max_kernel=4)


def test_graph_embedding_is_standardized_with_running_statistics(rows):
    """A training batch sets the statistics (its embeddings come out with mean 0 and std 1); they apply alike
    in training and evaluation, so a graph's output depends neither on its batch nor on the mode."""
    torch.manual_seed(0)
    gmn = GMN(hidden=8, layers=1)
    graphs = [gmn.featurize(r) for r in rows]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    pooled, standardized = [], []
    gmn.standardize.register_forward_hook(lambda module, inputs, output: pooled.append(inputs[0]))
    gmn.readout.register_forward_hook(lambda module, inputs, output: standardized.append(inputs[0]))
    out = gmn(batch)
    torch.testing.assert_close(standardized[0].mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    spread = pooled[0].var(0) > 1e-3  # near-constant features stay small: eps bounds their gain
    assert spread.sum() >= 8 and pooled[0][:, spread].std(0).max() < 0.8  # raw spread well below 1
    torch.testing.assert_close(standardized[0][:, spread].std(0), torch.ones(int(spread.sum())), atol=1e-2, rtol=0)
    gmn.eval()
    torch.testing.assert_close(gmn(batch), out)
    torch.testing.assert_close(gmn(graphs[1]), out[1:2], rtol=1e-5, atol=1e-6)


def test_fits_targets_with_adam(rows):
    """Mixed-family graphs with weights of very different scales: Adam at lr 1e-3 fits their targets."""
    torch.manual_seed(0)
    tiny_mlp = build_model({"family": "mlp", "depth": 1, "width": 2})
    graphs = [to_graph(tiny_mlp)] + [to_graph(r) for r in rows[2::2]]  # mlp, cnn, resnet, vit
    for g, scale in zip(graphs, (1.0, 30.0, 0.03, 1.0)):
        g.weight_values = g.weight_values * scale
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    target = torch.tensor([[1.0], [-1.0], [0.5], [-0.5]])
    torch.manual_seed(0)
    gmn = GMN(hidden=16, layers=2)
    opt = torch.optim.Adam(gmn.parameters(), lr=1e-3)
    losses = []
    for _ in range(80):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(gmn(batch), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]


def test_micro_batches_bound_edges_and_sum_to_the_whole_batch_gradient(rows):
    """Parts of at most max_batch_edges edges (a larger graph alone), in order; with the embedding statistics
    fixed, their share-weighted gradients add up to the whole batch's gradient."""
    gmn = _gmn()
    graphs = [_double(gmn.featurize(r)) for r in rows]
    for g, y in zip(graphs, torch.linspace(0, 1, len(graphs), dtype=torch.float64)):
        g.y = y[None]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    gmn.max_batch_edges = sorted(g.num_edges for g in graphs)[len(graphs) // 2]
    parts = gmn.micro_batches(batch)
    assert 2 < len(parts) < len(graphs)
    assert all(p.num_edges <= gmn.max_batch_edges or p.num_graphs == 1 for p in parts)
    assert torch.equal(torch.cat([p.y for p in parts]), batch.y)
    gmn.train()
    gmn(batch)  # sets the embedding statistics; fixed from here on
    gmn.standardize.eval()

    def gradient(pieces):
        gmn.zero_grad()
        for p in pieces:
            (torch.nn.functional.mse_loss(gmn(p)[:, 0], p.y) * (p.num_graphs / batch.num_graphs)).backward()
        return torch.cat([q.grad.flatten() for q in gmn.parameters()])

    torch.testing.assert_close(gradient(parts), gradient([batch]))
    gmn.max_batch_edges = batch.num_edges
    assert gmn.micro_batches(batch) == [batch]


def test_micro_batched_training_is_whole_batch_training(rows):
    """Adam steps in float64 with every state update (the running statistics of the embedding included): training
    in parts of at most max_batch_edges edges ends with the parameters and buffers of whole-batch training."""
    graphs = [_double(to_graph(r)) for r in rows]
    for g, y in zip(graphs, torch.linspace(0, 1, len(graphs), dtype=torch.float64)):
        g.y = y[None]
    limit = sorted(g.num_edges for g in graphs)[len(graphs) // 2]
    loss = lambda out, y: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], y)  # noqa: E731

    def train(max_batch_edges):
        gmn = _gmn().train()
        gmn.max_batch_edges = max_batch_edges
        optimizer = torch.optim.Adam(gmn.parameters(), lr=1e-2)
        parts = []
        for epoch in range(3):
            for batch in DataLoader(graphs, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(epoch)):
                parts.append(len(gmn.micro_batches(batch)))
                optimizer.zero_grad()
                gmn.accumulate_gradient(batch, loss)
                optimizer.step()
        assert gmn.training and gmn.standardize.training
        return gmn.state_dict(), parts

    (whole, whole_parts), (split, split_parts) = train(10**9), train(limit)
    assert set(whole_parts) == {1} and max(split_parts) > 1
    assert bool(whole["standardize.started"]) and not torch.allclose(whole["standardize.var"], torch.ones(32).double())
    assert whole.keys() == split.keys()
    for name in whole:
        torch.testing.assert_close(split[name], whole[name], rtol=1e-9, atol=1e-11, msg=name)
