import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch_geometric.loader import DataLoader

from conftest import SPECS, trained_like
from gmn_bench import build_model, make_row
from gmn_bench.nets.architectures import ViT
from gmn_bench.graphs.parameter_graph import (ACTIVATION_CODES, EDGE_TYPES, NODE_FEATURES, NODE_TYPES, POOLING_CODES, from_graph,
                              graph_to_state_dict, padded_edge_weights, to_graph)
from spec_strategies import ANY_SPEC

PIXELS = 3 * 32 * 32


def expected_counts(spec):
    """(nodes, edges, kernel sides) of the parameter graph, from the spec alone."""
    f = spec["family"]
    if f == "mlp":
        d, w = spec["depth"], spec["width"]
        return PIXELS + d * w + 10, PIXELS * w + (d - 1) * w * w + 10 * w, {1}
    if f == "cnn":
        c = spec["channels"]
        edges = 3 * c[0] + sum(a * b for a, b in zip(c, c[1:])) + 10 * c[-1]
        return 3 + sum(c) + 10, edges, {1, spec.get("kernel_size", 3)}
    if f == "resnet":
        widths, bps = spec["widths"], spec.get("blocks_per_stage", 1)
        nodes, edges, c_in = 3 + widths[0] + 10, 3 * widths[0] + 10 * widths[-1], widths[0]
        for stage, c_out in enumerate(widths):
            for b in range(bps):
                proj = (stage > 0 and b == 0) or c_in != c_out
                nodes += 2 * c_out + proj * c_out
                edges += c_in * c_out + c_out * c_out + c_out + proj * c_in * c_out
                c_in = c_out
        return nodes, edges, {0, 1, 3}  # residual edges carry no weight; head and 1x1 shortcuts one
    if f == "vit":
        p, dim, depth, r = spec["patch_size"], spec["dim"], spec["depth"], spec.get("mlp_ratio", 2)
        cls = spec.get("pool", "cls") == "cls"
        tokens = (32 // p) ** 2 + cls
        pixels = 3 * p * p  # the patch embedding is a linear map of one patch's pixels
        nodes = pixels + dim + tokens + cls + depth * (7 * dim + r * dim) + dim + 10
        edges = (pixels * dim + tokens * dim + cls * dim + depth * (4 * dim * dim + 2 * r * dim * dim + 4 * dim)
                 + dim + 10 * dim)
        return nodes, edges, {0, 1}
    raise AssertionError(f)


COUNT_SPECS = [
    SPECS["mlp"],
    {"family": "mlp", "depth": 1, "width": 5},
    {"family": "mlp", "depth": 3, "width": 7, "activation": "gelu"},
    SPECS["cnn"],
    {"family": "cnn", "channels": [4, 8], "batchnorm": False},
    {"family": "cnn", "channels": [2, 3, 5], "kernel_size": 5, "pooling": "none"},
    {"family": "cnn", "channels": [6], "kernel_size": 1, "batchnorm": True},
    SPECS["resnet"],
    {"family": "resnet", "widths": [4], "blocks_per_stage": 2},
    {"family": "resnet", "widths": [2, 4, 4], "blocks_per_stage": 2},
    SPECS["vit"],
    {"family": "vit", "patch_size": 16, "dim": 8, "depth": 1, "heads": 2, "mlp_ratio": 3, "pool": "mean"},
]


@pytest.mark.parametrize("spec", COUNT_SPECS, ids=lambda s: f"{s['family']}-{len(str(s))}")
def test_counts_and_layout(spec):
    torch.manual_seed(0)
    module = trained_like(build_model(spec))
    g = to_graph(module)
    nodes, edges, sides = expected_counts(spec)
    assert g.family == spec["family"]
    assert g.num_nodes == g.x.shape[0] == nodes
    assert g.edge_index.shape == (2, edges)
    assert g.edge_type.shape == g.edge_kernel.shape == (edges,)
    assert set(g.edge_kernel.unique().tolist()) == sides
    assert g.x.shape[1] == len(NODE_FEATURES)
    assert g.edge_index.min() >= 0 and g.edge_index.max() < nodes
    assert set(g.edge_type.unique().tolist()) <= set(EDGE_TYPES.values())
    g.validate(raise_on_error=True)


@pytest.mark.parametrize("spec", COUNT_SPECS, ids=lambda s: f"{s['family']}-{len(str(s))}")
def test_weight_storage_has_no_padding(spec):
    """Exactly one stored value per weight-matrix/kernel/embedding entry, and few bytes per edge."""
    module = build_model(spec)
    g = to_graph(module)
    on_edges = sum(p.numel() for n, p in module.named_parameters()
                   if p.dim() > 1 or n in ("pos_embed", "cls_token"))
    assert g.weight_values.numel() == int((g.edge_kernel.long() ** 2).sum()) == on_edges
    graph_bytes = sum(t.numel() * t.element_size() for t in (g.x, g.edge_index, g.edge_type, g.edge_kernel,
                                                             g.weight_values))
    assert graph_bytes <= 20 * g.num_edges + 4 * on_edges + 4 * g.x.numel()


@pytest.mark.parametrize("family", list(SPECS))
def test_every_parameter_value_is_in_the_graph(family):
    """Weights/biases are edge features / node biases; norm shifts are node features."""
    torch.manual_seed(1)
    module = trained_like(build_model(SPECS[family]))
    g = to_graph(module)
    weights = sum(p.detach().double().sum() for n, p in module.named_parameters()
                  if "norm" not in n and "bn" not in n and not n.startswith("stem.1") and ".shortcut.1." not in n
                  and not n.endswith("bias"))
    biases = sum(p.detach().double().sum() for n, p in module.named_parameters()
                 if n.endswith("bias") and "norm" not in n and "bn" not in n
                 and not n.startswith("stem.1") and ".shortcut.1." not in n)
    norm_shift = sum(m.bias.detach().double().sum() for m in module.modules()
                     if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)))
    torch.testing.assert_close(g.weight_values.double().sum(), torch.as_tensor(weights, dtype=torch.double))
    torch.testing.assert_close(g.x[:, 2].double().sum(), torch.as_tensor(biases, dtype=torch.double))
    torch.testing.assert_close(g.x[:, 4].double().sum(), torch.as_tensor(norm_shift, dtype=torch.double))


def test_conv_edge_carries_kernel():
    torch.manual_seed(2)
    module = build_model({"family": "cnn", "channels": [4, 8], "kernel_size": 3})
    g = to_graph(module)
    w = module.convs[1].conv.weight  # (8, 4, 3, 3); nodes: 3 inputs, 4, 8, 10 outputs
    src, dst = 3 + 2, 3 + 4 + 5
    (idx,) = ((g.edge_index[0] == src) & (g.edge_index[1] == dst)).nonzero(as_tuple=True)
    assert idx.numel() == 1
    assert g.edge_kernel[idx[0]] == 3 and g.edge_type[idx[0]] == EDGE_TYPES["weight"]
    torch.testing.assert_close(padded_edge_weights(g, 3)[idx[0]], w[5, 2].reshape(9).detach())
    centred = padded_edge_weights(g, 5)[idx[0]].reshape(5, 5)  # a 3x3 kernel is the centre of a 5x5 one
    torch.testing.assert_close(centred[1:4, 1:4], w[5, 2].detach())
    assert centred.abs().sum() == w[5, 2].abs().sum()
    with pytest.raises(ValueError, match="larger than side=1"):
        padded_edge_weights(g, 1)


def test_resnet_residual_edges():
    spec = {"family": "resnet", "widths": [4, 8], "blocks_per_stage": 1}
    g = to_graph(build_model(spec))
    residual = g.edge_type == EDGE_TYPES["residual"]
    assert int(residual.sum()) == 4 + 8
    assert (g.edge_kernel[residual] == 0).all()
    assert (padded_edge_weights(g, 3)[residual] == 0).all()


def test_row_input_matches_module_and_stores_family():
    torch.manual_seed(3)
    spec = SPECS["cnn"]
    module = trained_like(build_model(spec))
    row = make_row("cnn-x", spec, module, epoch=0, init_seed=3, train_acc=0.5, test_acc=0.4, train_loss=1.0,
                   test_loss=1.2, split_id="train", optimizer="adam", learning_rate=1e-3, weight_decay=5e-4,
                   label_smoothing=0.1, batch_size=32, epochs=2, augmentation="flip", data_seed=7)
    a, b = to_graph(module), to_graph(row)
    assert b.family == "cnn"
    for key in ("x", "edge_index", "edge_type", "edge_kernel", "weight_values"):
        assert torch.equal(a[key], b[key]), key


def test_unsupported_module_names_layer_and_type():
    with pytest.raises(ValueError, match=r"'1'.*LSTM"):
        to_graph(nn.Sequential(nn.Linear(2, 2), nn.LSTM(2, 2)))
    with pytest.raises(ValueError, match="Sequential"):
        to_graph(nn.Sequential(nn.Linear(2, 2)))
    vit = build_model(SPECS["vit"])
    vit.blocks[0].extra = nn.Dropout(0.1)
    with pytest.raises(ValueError, match=r"blocks\.0\.extra.*Dropout"):
        to_graph(vit)
    with pytest.raises(ValueError):
        to_graph("not a module")


# ---------------------------------------------------------------- permutation symmetry

def _sorted_rows(a: torch.Tensor) -> np.ndarray:
    a = a.double().numpy()
    return a[np.lexsort(a.T[::-1])]


def _graph_signature(g):
    """Node-relabelling invariant: multisets of node rows, edge rows and (x_src, x_dst, edge) rows."""
    edges = torch.cat([padded_edge_weights(g, 5), g.edge_type[:, None].float(), g.edge_kernel[:, None].float()], 1)
    triples = torch.cat([g.x[g.edge_index[0]], g.x[g.edge_index[1]], edges], dim=1)
    return _sorted_rows(g.x), _sorted_rows(edges), _sorted_rows(triples)


def _same_up_to_relabelling(g1, g2):
    return g1.num_nodes == g2.num_nodes and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(_graph_signature(g1), _graph_signature(g2)))


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
    assert _same_up_to_relabelling(g1, g2)


def test_mlp_non_equivalent_permutation_is_detected():
    """Permuting a layer's rows without its consumer's columns changes the function and the graph."""
    torch.manual_seed(4)
    module = build_model({"family": "mlp", "depth": 2, "width": 8}).eval()
    perm = torch.roll(torch.arange(8), 1)
    broken = _permute_mlp_hidden(module, 0, perm, fix_next=False)
    x = torch.randn(4, 3, 32, 32)
    assert not torch.allclose(broken(x), module(x))
    g1, g2 = to_graph(module), to_graph(broken)
    assert np.array_equal(_graph_signature(g1)[1], _graph_signature(g2)[1])  # same edge multiset ...
    assert not _same_up_to_relabelling(g1, g2)  # ... but wired differently


@pytest.mark.parametrize("seed", range(2))
def test_cnn_batchnorm_channel_permutation_symmetry(seed):
    torch.manual_seed(seed)
    module = trained_like(build_model(SPECS["cnn"])).eval()
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
    assert _same_up_to_relabelling(to_graph(module), to_graph(permuted))


def test_vit_graph_builds_for_mean_pool():
    module = build_model({"family": "vit", "patch_size": 16, "dim": 8, "depth": 1, "heads": 2, "pool": "mean"})
    assert isinstance(module, ViT)
    g = to_graph(module)
    assert (g.edge_type == EDGE_TYPES["cls"]).sum() == 0
    assert (g.edge_type == EDGE_TYPES["position"]).sum() == 4 * 8
    assert (g.x[:, NODE_FEATURES.index("node_type")] == 0).sum() == 3 * 16 * 16  # one input node per patch pixel


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
    mlp = to_graph(build_model({"family": "mlp", "depth": 1, "width": 3, "activation": "tanh"}))
    assert (_column(mlp, "activation") == ACTIVATION_CODES["tanh"]).sum() == 3


def test_mixed_families_batch_with_the_pyg_loader():
    torch.manual_seed(5)
    specs = [SPECS["mlp"], SPECS["cnn"], {**SPECS["cnn"], "kernel_size": 5}, SPECS["resnet"], SPECS["vit"]]
    graphs = [to_graph(build_model(s)) for s in specs]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    assert batch.num_graphs == len(graphs) and batch.family == [s["family"] for s in specs]
    padded = padded_edge_weights(batch, 5)
    assert padded.shape == (sum(g.num_edges for g in graphs), 25)
    torch.testing.assert_close(padded, torch.cat([padded_edge_weights(g, 5) for g in graphs]))
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
    with pytest.raises(ValueError, match="does not match spec"):
        graph_to_state_dict(g, {**SPECS["cnn"], "channels": [4, 9]})
