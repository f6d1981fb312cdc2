import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn
from torch_geometric.loader import DataLoader

from conftest import HYPERPARAMS, SPECS, trained_like
from gmn_bench import ZooRowError, build_model, make_row
from gmn_bench.graphs import (ACTIVATION_CODES, EDGE_TYPES, NODE_FEATURES, NODE_TYPES, POOLING_CODES, edge_kernel_grid,
                              from_graph, graph_to_state_dict, to_graph)
from graph_checks import isomorphic, perturbed
from spec_strategies import ANY_SPEC

KEYS = ("x", "edge_index", "edge_type", "edge_kernel", "weight_values")


def expected_counts(spec):
    """(nodes, edges, kernel shapes) of the parameter graph, from the spec alone."""
    f = spec["family"]
    if f == "mlp":  # 3 input channels; the first layer's edges carry (32/pool)^2 kernels
        d, w, side = spec["depth"], spec["width"], 32 // spec.get("input_pool", 1)
        return 3 + d * w + 10, 3 * w + (d - 1) * w * w + 10 * w, {(side, side), (1, 1)}
    if f == "cnn":
        c, k = spec["channels"], spec.get("kernel_size", 3)
        pooled = spec.get("pooling", "max") != "none"  # global pooling after pooling acts on copies
        edges = 3 * c[0] + sum(a * b for a, b in zip(c, c[1:])) + 10 * c[-1] + pooled * c[-1]
        return 3 + sum(c) + pooled * c[-1] + 10, edges, {(1, 1), (k, k)} | ({(0, 0)} if pooled else set())
    if f == "resnet":
        widths, bps = spec["widths"], spec.get("blocks_per_stage", 1)
        nodes, edges, c_in = 3 + widths[0] + 10, 3 * widths[0] + 10 * widths[-1], widths[0]
        for stage, c_out in enumerate(widths):
            for b in range(bps):
                proj = (stage > 0 and b == 0) or c_in != c_out
                nodes += 2 * c_out + proj * c_out
                edges += c_in * c_out + c_out * c_out + c_out + proj * c_in * c_out
                c_in = c_out
        return nodes, edges, {(0, 0), (1, 1), (3, 3)}  # residual edges carry no weight
    if f == "vit":
        p, dim, depth, r, heads = spec["patch_size"], spec["dim"], spec["depth"], spec.get("mlp_ratio", 2), spec["heads"]
        cls = spec.get("pool", "cls") == "cls"
        tokens = (32 // p) ** 2 + cls
        nodes = 3 + dim + cls + 1 + depth * ((7 + r) * dim + heads) + dim + 10
        edges = 3 * dim + cls * dim + dim + depth * ((4 + 2 * r) * dim * dim + 8 * dim) + dim + 10 * dim
        return nodes, edges, {(0, 0), (1, 1), (p, p), (1, tokens)} | ({(1, 1)} if cls else set())
    raise AssertionError(f)


COUNT_SPECS = [
    SPECS["mlp"],
    {"family": "mlp", "depth": 1, "width": 5},
    {"family": "mlp", "depth": 3, "width": 7, "activation": "gelu", "input_pool": 4},
    SPECS["cnn"],
    {"family": "cnn", "channels": [4, 8], "batchnorm": False},
    {"family": "cnn", "channels": [2, 3, 5], "kernel_size": 5, "pooling": "none", "stem_stride": 2},
    {"family": "cnn", "channels": [6], "kernel_size": 1, "batchnorm": True},
    SPECS["resnet"],
    {"family": "resnet", "widths": [4], "blocks_per_stage": 2},
    {"family": "resnet", "widths": [2, 4, 4], "blocks_per_stage": 2, "stem_stride": 2},
    SPECS["vit"],
    {"family": "vit", "patch_size": 16, "dim": 8, "depth": 1, "heads": 2, "mlp_ratio": 3, "pool": "mean"},
]


@pytest.mark.parametrize("spec", COUNT_SPECS, ids=lambda s: f"{s['family']}-{len(str(s))}")
def test_counts_and_layout(spec):
    torch.manual_seed(0)
    g = to_graph(trained_like(build_model(spec)))
    nodes, edges, kernels = expected_counts(spec)
    assert g.family == spec["family"]
    assert g.num_nodes == g.x.shape[0] == nodes
    assert g.edge_index.shape == (2, edges) and g.edge_index.dtype == torch.int32
    assert g.edge_type.shape == (edges,) and g.edge_kernel.shape == (edges, 2) and g.edge_kernel.dtype == torch.int16
    assert set(map(tuple, g.edge_kernel.tolist())) == kernels
    assert g.x.shape[1] == len(NODE_FEATURES)
    assert g.edge_index.min() >= 0 and g.edge_index.max() < nodes
    g.validate(raise_on_error=True)


@pytest.mark.parametrize("spec", COUNT_SPECS, ids=lambda s: f"{s['family']}-{len(str(s))}")
def test_weight_storage_has_no_padding(spec):
    """Exactly one stored value per weight-matrix/kernel/embedding entry, and few bytes per edge."""
    module = build_model(spec)
    g = to_graph(module)
    on_edges = sum(p.numel() for n, p in module.named_parameters()
                   if p.dim() > 1 or n in ("pos_embed", "cls_token"))
    assert g.weight_values.numel() == int(g.edge_kernel.long().prod(dim=1).sum()) == on_edges
    graph_bytes = sum(g[k].numel() * g[k].element_size() for k in KEYS)
    assert graph_bytes == 13 * g.num_edges + 4 * on_edges + 4 * g.x.numel()


@pytest.mark.parametrize("family", list(SPECS))
def test_every_parameter_value_is_in_the_graph(family):
    """Weights are edge values; biases and norm shifts are node features."""
    torch.manual_seed(1)
    module = perturbed(build_model(SPECS[family]), 1)
    g = to_graph(module)
    norms = (nn.BatchNorm2d, nn.LayerNorm)
    on_edges = sum(p.detach().double().sum() for n, p in module.named_parameters()
                   if p.dim() > 1 or n in ("pos_embed", "cls_token"))
    biases = sum(m.bias.detach().double().sum() for m in module.modules()
                 if isinstance(m, (nn.Linear, nn.Conv2d)) and m.bias is not None)
    norm_shift = sum(m.bias.detach().double().sum() for m in module.modules() if isinstance(m, norms))
    column = {c: NODE_FEATURES.index(c) for c in ("bias", "norm_bias")}
    torch.testing.assert_close(g.weight_values.double().sum(), torch.as_tensor(on_edges, dtype=torch.double))
    torch.testing.assert_close(g.x[:, column["bias"]].double().sum(), torch.as_tensor(biases, dtype=torch.double))
    torch.testing.assert_close(g.x[:, column["norm_bias"]].double().sum(), torch.as_tensor(norm_shift,
                                                                                           dtype=torch.double))


def _edge(g, src, dst):
    (idx,) = ((g.edge_index[0] == src) & (g.edge_index[1] == dst)).nonzero(as_tuple=True)
    assert idx.numel() == 1
    return int(idx[0])


def _values(g, e):
    counts = g.edge_kernel.long().prod(dim=1)
    start = int(counts[:e].sum())
    return g.weight_values[start:start + int(counts[e])].reshape(g.edge_kernel[e].tolist())


def test_conv_edge_carries_its_kernel_and_the_grid_view_centres_or_averages_it():
    torch.manual_seed(2)
    module = build_model({"family": "cnn", "channels": [4, 8], "kernel_size": 3})
    g = to_graph(module)
    w = module.convs[1].conv.weight  # nodes: 3 inputs, 4, 8, ...
    e = _edge(g, 3 + 2, 3 + 4 + 5)
    assert g.edge_kernel[e].tolist() == [3, 3] and g.edge_type[e] == EDGE_TYPES["weight"]
    torch.testing.assert_close(_values(g, e), w[5, 2].detach())
    torch.testing.assert_close(edge_kernel_grid(g, 3)[e], w[5, 2].reshape(9).detach())
    centred = edge_kernel_grid(g, 5)[e].reshape(5, 5)  # a 3x3 kernel is the centre of a 5x5 one
    torch.testing.assert_close(centred[1:4, 1:4], w[5, 2].detach())
    assert centred.abs().sum() == w[5, 2].abs().sum()
    torch.testing.assert_close(edge_kernel_grid(g, 1)[e], w[5, 2].mean().reshape(1).detach())  # averaged


def test_mlp_first_layer_is_one_kernel_per_input_channel():
    """A linear layer on the flattened 3x32x32 image is a 32x32 convolution: edge (channel, unit) holds
    the unit's weights on that channel's pixels, as an image."""
    torch.manual_seed(3)
    module = build_model({"family": "mlp", "depth": 1, "width": 4})
    g = to_graph(module)
    weight = module.fc0.weight.detach().reshape(4, 3, 32, 32)
    torch.testing.assert_close(_values(g, _edge(g, 1, 3 + 2)), weight[2, 1])
    pooled = to_graph(build_model({"family": "mlp", "depth": 1, "width": 4, "input_pool": 2}))
    inputs = pooled.x[:, NODE_FEATURES.index("node_type")] == NODE_TYPES["input"]
    assert (pooled.x[inputs, NODE_FEATURES.index("pooling")] == POOLING_CODES["avg"]).all()
    assert (pooled.x[inputs, NODE_FEATURES.index("pool_size")] == 2).all()


def test_resnet_residual_edges():
    g = to_graph(build_model({"family": "resnet", "widths": [4, 8], "blocks_per_stage": 1}))
    residual = g.edge_type == EDGE_TYPES["residual"]
    assert int(residual.sum()) == 4 + 8
    assert (g.edge_kernel[residual] == 0).all()
    assert (edge_kernel_grid(g, 3)[residual] == 0).all()


def _row(module, spec, **overrides):
    return {**make_row("net-x", spec, module, epoch=0, init_seed=3, train_acc=0.5, test_acc=0.4, train_loss=1.0,
                       test_loss=1.2, split_id="train", **HYPERPARAMS), **overrides}


@pytest.mark.parametrize("family", list(SPECS))
def test_row_input_matches_module_and_stores_family(family):
    torch.manual_seed(3)
    module = perturbed(build_model(SPECS[family]), 3)
    a, b = to_graph(module), to_graph(_row(module, SPECS[family]))
    assert b.family == family
    for key in KEYS:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def test_row_of_a_new_architecture_leaves_the_callers_random_state_alone():
    spec = {**SPECS["mlp"], "width": 11}  # an architecture no other test builds: its layout is built here
    row = _row(build_model(spec), spec)
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    to_graph(row)
    assert torch.equal(torch.rand(4), expected)


def test_row_with_bad_weights_is_rejected_naming_the_tensor():
    module = build_model(SPECS["cnn"])
    state = st_load(_row(module, SPECS["cnn"])["weights"])
    for change, message in ((lambda s: s["head.bias"].fill_(float("nan")), "non-finite"),
                            (lambda s: s.__setitem__("head.bias", s["head.bias"].long()), "dtype"),
                            (lambda s: s.pop("head.bias"), "missing")):
        bad = {k: v.clone() for k, v in state.items()}
        change(bad)
        with pytest.raises(ZooRowError, match=message):
            to_graph(_row(module, SPECS["cnn"], weights=st_save(bad)))


# ---------------------------------------------------------------- permutation symmetry

def _permute_mlp_hidden(module, layer, perm, fix_next=True):
    m = copy.deepcopy(module)
    with torch.no_grad():
        fc = getattr(m, f"fc{layer}")
        fc.weight.copy_(fc.weight[perm])
        fc.bias.copy_(fc.bias[perm])
        if fix_next:
            nxt = getattr(m, f"fc{layer + 1}") if layer + 1 < m.depth else m.head
            nxt.weight.copy_(nxt.weight[:, perm])
    return m


@pytest.mark.parametrize("seed", range(3))
def test_mlp_permutation_symmetry(seed):
    torch.manual_seed(seed)
    spec = {"family": "mlp", "depth": 3, "width": 12, "activation": "tanh"}
    module = build_model(spec).eval()
    permuted = module
    for layer in range(spec["depth"]):
        permuted = _permute_mlp_hidden(permuted, layer, torch.randperm(spec["width"]))
    x = torch.randn(5, 3, 32, 32)
    torch.testing.assert_close(permuted(x), module(x))
    g1, g2 = to_graph(module), to_graph(permuted)
    assert not torch.equal(g1.weight_values, g2.weight_values)  # the labelling did change
    assert isomorphic(g1, g2)


def test_mlp_non_equivalent_permutation_is_detected():
    """Permuting a layer's rows without its consumer's columns changes the function and the graph."""
    torch.manual_seed(4)
    module = build_model({"family": "mlp", "depth": 2, "width": 8}).eval()
    broken = _permute_mlp_hidden(module, 0, torch.roll(torch.arange(8), 1), fix_next=False)
    x = torch.randn(4, 3, 32, 32)
    assert not torch.allclose(broken(x), module(x))
    assert not isomorphic(to_graph(module), to_graph(broken))


@pytest.mark.parametrize("seed", range(2))
def test_cnn_batchnorm_channel_permutation_symmetry(seed):
    torch.manual_seed(seed)
    module = perturbed(build_model(SPECS["cnn"]), seed)
    permuted = copy.deepcopy(module)
    perm = torch.randperm(4)
    with torch.no_grad():
        conv, norm, nxt = permuted.convs[0].conv, permuted.convs[0].norm, permuted.convs[1].conv
        conv.weight.copy_(conv.weight[perm])
        for t in (norm.weight, norm.bias, norm.running_mean, norm.running_var):
            t.copy_(t[perm])
        nxt.weight.copy_(nxt.weight[:, perm])
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(permuted(x), module(x))
    assert isomorphic(to_graph(module), to_graph(permuted))


def _permute_heads(module, block, perm, fix_output=True):
    m = copy.deepcopy(module)
    attn = m.blocks[block].attn
    e = attn.q.out_features // attn.heads
    rows = (perm[:, None] * e + torch.arange(e)).reshape(-1)
    with torch.no_grad():
        for proj in (attn.q, attn.k, attn.v):
            proj.weight.copy_(proj.weight[rows])
            proj.bias.copy_(proj.bias[rows])
        if fix_output:
            attn.o.weight.copy_(attn.o.weight[:, rows])
    return m


def test_vit_head_permutation_gives_an_isomorphic_graph():
    """Heads are graph structure (head nodes), not an index: permuting them relabels the graph."""
    torch.manual_seed(5)
    module = perturbed(build_model(SPECS["vit"]), 5)
    permuted = _permute_heads(_permute_heads(module, 0, torch.tensor([2, 0, 3, 1])), 1, torch.tensor([1, 0, 3, 2]))
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(permuted(x), module(x), rtol=1e-4, atol=1e-5)
    g, gp = to_graph(module), to_graph(permuted)
    assert (g.x[:, NODE_FEATURES.index("node_type")] == NODE_TYPES["head"]).sum() == 2 * 4
    assert isomorphic(g, gp)
    broken = _permute_heads(module, 0, torch.tensor([1, 2, 3, 0]), fix_output=False)
    assert not torch.allclose(broken(x), module(x), rtol=1e-4, atol=1e-5)
    assert not isomorphic(g, to_graph(broken))


def test_vit_graph_builds_for_mean_pool():
    g = to_graph(build_model({"family": "vit", "patch_size": 16, "dim": 8, "depth": 1, "heads": 2, "pool": "mean"}))
    assert (g.edge_type == EDGE_TYPES["token"]).sum() == 0
    assert (g.edge_type == EDGE_TYPES["embedding"]).sum() == 8  # one edge per channel, carrying 4 positions
    assert (g.x[:, NODE_FEATURES.index("node_type")] == NODE_TYPES["input"]).sum() == 3
    patch = g.edge_type == EDGE_TYPES["weight"]
    assert g.edge_kernel[patch].tolist().count([16, 16]) == 3 * 8  # the patch embedding is a strided conv


# ---------------------------------------------------------------- layer semantics, batching, round trip

def _column(g, name):
    return g.x[:, NODE_FEATURES.index(name)]


def test_activation_pooling_and_stride_are_node_features():
    cnn = to_graph(build_model({"family": "cnn", "channels": [4], "activation": "gelu", "pooling": "avg"}))
    hidden = _column(cnn, "node_type") == NODE_TYPES["hidden"]
    assert (_column(cnn, "activation")[hidden] == ACTIVATION_CODES["gelu"]).all()
    assert (_column(cnn, "pooling")[hidden] == POOLING_CODES["avg"]).all()
    assert (_column(cnn, "activation")[~hidden] == ACTIVATION_CODES["none"]).all()
    resnet = to_graph(build_model({"family": "resnet", "widths": [2, 4]}))
    # stem 2, block1 conv1 2 + conv2 2, block2 conv1 4 (stride 2) + shortcut 4 (stride 2) + conv2 4
    assert sorted(_column(resnet, "stride").tolist()).count(2.0) == 8
    assert (_column(resnet, "padding") == 1).sum() == 2 + 2 + 2 + 4 + 4  # every 3x3 conv; 1x1 shortcut has none
    mlp = to_graph(build_model({"family": "mlp", "depth": 1, "width": 3, "activation": "tanh"}))
    assert (_column(mlp, "activation") == ACTIVATION_CODES["tanh"]).sum() == 3


def test_mixed_families_batch_with_the_pyg_loader():
    torch.manual_seed(5)
    specs = [SPECS["mlp"], SPECS["cnn"], {**SPECS["cnn"], "kernel_size": 5}, SPECS["resnet"], SPECS["vit"]]
    graphs = [to_graph(build_model(s)) for s in specs]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    assert batch.num_graphs == len(graphs) and batch.family == [s["family"] for s in specs]
    grid = edge_kernel_grid(batch, 5)
    assert grid.shape == (sum(g.num_edges for g in graphs), 25)
    torch.testing.assert_close(grid, torch.cat([edge_kernel_grid(g, 5) for g in graphs]))
    assert batch.edge_index.max() == batch.num_nodes - 1


@settings(max_examples=12, deadline=None, derandomize=True)
@given(spec=ANY_SPEC, seed=st.integers(0, 2**16))
def test_round_trip_gives_identical_outputs(spec, seed):
    torch.manual_seed(seed)
    module = trained_like(build_model(spec)).eval()
    g = to_graph(module)
    back = from_graph(g, spec)
    state = graph_to_state_dict(g, spec)
    for name, tensor in module.state_dict().items():
        if tensor.is_floating_point():
            assert torch.equal(state[name], tensor), name
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(back(x), module(x))


def test_round_trip_rejects_a_graph_of_another_spec():
    g = to_graph(build_model(SPECS["cnn"]))
    with pytest.raises(ValueError, match="does not match the architecture"):
        graph_to_state_dict(g, {**SPECS["cnn"], "channels": [4, 9]})
