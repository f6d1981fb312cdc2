"""Parameter graphs of architectures none of gmn-bench's builders produce (tests/foreign_architectures.py):
function-preserving permutations give isomorphic graphs and the same GMN prediction, a permutation that
changes the function does neither, and the graph gives the network back exactly."""
import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import foreign_architectures as fa
from gmn_bench import build_model
from gmn_bench.graphs import from_graph, graph_to_state_dict, to_graph
from gmn_bench.metanets import GMN
from graph_checks import isomorphic, perturbed

X = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))


pytestmark = pytest.mark.usefixtures("one_thread")


def _network(family, width, seed):
    torch.manual_seed(seed)
    return perturbed(build_model(fa.spec(family, width)), seed)


def _double(g):
    g = g.clone()
    g.x, g.weight_values = g.x.double(), g.weight_values.double()
    return g


def _gmn():
    torch.manual_seed(0)
    return GMN(hidden=8, layers=2).double().eval()


@settings(max_examples=10, deadline=None, derandomize=True)
@given(family=st.sampled_from(list(fa.ARCHITECTURES)), width=st.sampled_from([2, 4]), seed=st.integers(0, 2**16))
def test_function_preserving_permutations_give_isomorphic_graphs_and_the_same_gmn_output(family, width, seed):
    module = _network(family, width, seed)
    permuted = copy.deepcopy(module)
    generator = torch.Generator().manual_seed(seed)
    for size, apply in fa.unit_groups(permuted):
        apply(torch.randperm(size, generator=generator), fix_consumers=True)
    with torch.no_grad():
        torch.testing.assert_close(permuted(X), module(X), rtol=1e-4, atol=1e-5)
    g, gp = to_graph(module), to_graph(permuted)
    assert not torch.equal(g.weight_values, gp.weight_values) or not torch.equal(g.x, gp.x)  # labels did change
    assert isomorphic(g, gp)
    gmn = _gmn()
    with torch.no_grad():
        torch.testing.assert_close(gmn(_double(gp)), gmn(_double(g)), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("family", list(fa.ARCHITECTURES))
def test_negative_control_a_permutation_that_changes_the_function_changes_graph_and_prediction(family):
    module = _network(family, 4, 1)
    broken = copy.deepcopy(module)
    size, apply = fa.unit_groups(broken)[0]
    apply(torch.roll(torch.arange(size), 1), fix_consumers=False)
    with torch.no_grad():
        assert not torch.allclose(broken(X), module(X), rtol=1e-4, atol=1e-5)
    g, gb = to_graph(module), to_graph(broken)
    assert not isomorphic(g, gb)
    gmn = _gmn()
    with torch.no_grad():
        assert (gmn(_double(gb)) - gmn(_double(g))).abs().max() > 1e-7


@settings(max_examples=10, deadline=None, derandomize=True)
@given(family=st.sampled_from(list(fa.ARCHITECTURES)), width=st.sampled_from([2, 4, 6]), seed=st.integers(0, 2**16))
def test_round_trip_gives_the_network_back_exactly(family, width, seed):
    module = _network(family, width, seed)
    g = to_graph(module)
    for template in (module, fa.spec(family, width)):  # a module of the architecture, or its custom spec
        state = graph_to_state_dict(g, template)
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                assert torch.equal(state[name], tensor), name
        with torch.no_grad():
            assert torch.equal(from_graph(g, template)(X), module(X))


def test_graph_features_of_the_foreign_layers():
    mobilenet = to_graph(_network("mobilenet", 4, 0))
    weight = mobilenet.edge_type == 0
    kernels = mobilenet.edge_kernel[weight].tolist()
    assert kernels.count([3, 3]) == 3 * 4 + 4 + 8  # stem, then one edge per channel of each depthwise conv
    vgg = to_graph(_network("vgg", 4, 0))
    assert vgg.edge_kernel.tolist().count([2, 2]) == 8 * 16  # the classifier on the flattened 2x2 map
    concat = to_graph(_network("concat-cnn", 4, 0))
    assert (concat.edge_type == 7).sum() == 8  # every GroupNorm channel links to its group node


class _Sorter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return torch.sort(self.fc(x.flatten(1)), dim=1).values


class _Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 32 * 32, 3 * 32 * 32)

    def forward(self, x):
        return self.fc(self.fc(x.flatten(1)))


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32 * 32, 4, batch_first=True)

    def forward(self, x):
        return self.lstm(x.flatten(2))[0].flatten(1)


class _Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.spare = nn.Linear(3 * 32 * 32, 10), nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_unsupported_operations_are_clear_errors_naming_the_traced_node():
    with pytest.raises(ValueError, match=r"traced node 'sort'.*_Sorter"):
        to_graph(_Sorter())
    with pytest.raises(ValueError, match=r"traced node 'lstm'.*LSTM"):
        to_graph(_LSTMNet())
    with pytest.raises(ValueError, match="called more than once"):
        to_graph(_Shared())
    with pytest.raises(ValueError, match=r"never reads \['spare.bias', 'spare.weight'\]"):
        to_graph(_Unused())
    with pytest.raises(ValueError, match="nn.Module or a zoo row"):
        to_graph("not a module")
