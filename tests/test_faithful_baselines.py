"""``dmc`` and ``deepsets`` compute what the GMN authors' modules compute (``tests/authors_metanets.py``,
an independent functional reference of their architecture): the same weights (a state dict under the
authors' parameter names, loaded unchanged) give the same outputs on the same networks.

Tolerance: ``atol = rtol = 1e-5`` in float32 (the package reorders sums: DeepSets' scatter means); an
off-by-one position, a BatchNorm statistic over the wrong positions or a missing layer moves the
outputs by orders of magnitude more.
"""
import pytest
import torch
from torch_geometric.data import Batch, Data

from authors_metanets import dmc_forward, dmc_state, readout_forward, readout_state
from gmn_bench.metanets import DMC, DeepSets

TOLERANCE = {"atol": 1e-5, "rtol": 1e-5}


def _networks(count: int, length: int, seed: int) -> torch.Tensor:
    """``[count, length]`` fixed weight-like sequences (different scales per network)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(count, length, generator=g) * torch.rand(count, 1, generator=g)


def _batch(flat: torch.Tensor) -> Batch:
    return Batch.from_data_list([Data(x=row[:, None]) for row in flat])


def _randomize_batchnorm(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.LayerNorm)):
            with torch.no_grad():
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=g))
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))


@pytest.mark.parametrize("length", [2044, 2300, 5000])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_dmc_matches_the_authors_dmccnn(length, mode):
    state = dmc_state(1, 64, 1, 10, seed=0)
    package = DMC(out_dim=1)
    package.load_state_dict(state)  # the authors' parameter names, unchanged
    assert package.min_length == 2044
    flat = _networks(4, length, seed=length)
    package.train(mode == "train")
    expected = dmc_forward(state, flat, 64, 10, training=mode == "train")
    torch.testing.assert_close(package(_batch(flat)), expected, **TOLERANCE)
    if mode == "train":  # the running statistics moved alike
        after = package.state_dict()
        assert after.keys() == state.keys()
        for name, value in state.items():
            torch.testing.assert_close(after[name], value, **TOLERANCE, msg=name)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_deepsets_matches_the_authors_dsseqreadout(mode):
    state = readout_state(1, 64, 1, 3, seed=0)
    package = DeepSets(out_dim=1)
    package.readout.load_state_dict(state)
    flat = _networks(5, 3000, seed=7)
    package.train(mode == "train")
    torch.testing.assert_close(package(_batch(flat)), readout_forward(state, flat[:, :, None], 3), **TOLERANCE)


def test_deepsets_gives_each_network_of_a_ragged_batch_its_own_eval_output():
    """Variable lengths: in eval mode a network's output does not depend on its batch-mates or position."""
    torch.manual_seed(3)
    deepsets = DeepSets(out_dim=2).eval()
    _randomize_batchnorm(deepsets, 4)
    g = torch.Generator().manual_seed(5)
    rows = [torch.randn(n, generator=g) for n in (2044, 9001, 3333, 2500)]
    together = deepsets(_batch(rows))
    alone = torch.cat([deepsets(_batch([r])) for r in rows])
    torch.testing.assert_close(together, alone, **TOLERANCE)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_dmc_reads_a_ragged_batch_as_the_authors_module_reads_it_zero_padded_to_its_longest_network(mode):
    """Variable lengths: the authors' module on the batch zero-padded at the end to its longest network
    (at least ``min_length``), BatchNorm statistics and the readout's mean over the padding too."""
    state = dmc_state(1, 64, 1, 10, seed=1)
    package = DMC(out_dim=1)
    package.load_state_dict(state)
    package.train(mode == "train")
    g = torch.Generator().manual_seed(5)
    rows = [torch.randn(n, generator=g) * scale for n, scale in ((900, 1.0), (9001, 0.3), (3333, 2.0), (2500, 0.1))]
    for batch, longest in ((rows, 9001), (rows[:1], package.min_length)):
        padded = torch.stack([torch.cat([r, r.new_zeros(longest - len(r))]) for r in batch])
        expected = dmc_forward(state, padded, 64, 10, training=mode == "train")
        torch.testing.assert_close(package(_batch(batch)), expected, **TOLERANCE)
    if mode == "eval":  # the padding is read: a network's output depends on its batch's longest network
        assert not torch.allclose(package(_batch(rows[2:3])), package(_batch(rows))[2:3], **TOLERANCE)


def test_dmc_refuses_a_stack_it_cannot_build():
    with pytest.raises(ValueError, match="conv_layers >= 6"):
        DMC(out_dim=1, conv_layers=5)
