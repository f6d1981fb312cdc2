"""An independent reference for the GMN authors' DMC and DeepSets baselines, the yardstick of
``tests/test_faithful_baselines.py``.

The architectures are those of ``cptq/asymmetric-networks``, file ``metanet/models.py``, commit
``7895e5c6ce6691d4b5a090d1527207d789dad93f`` (``DMCCNN`` and ``DSSeqReadout``), as their
``metanet/train.py`` builds them: ``DMCCNN(1, 64, 1, conv_num_layers=10)`` (``--model dmc``) and
``DSSeqReadout(1, 64, 1, num_layers=3)`` (``--model deepsets``), fed the state dict's values
concatenated per network. This file is not their code: it writes the computation those modules
define as plain functional torch over a state dict that uses their parameter names (so a state dict
moves between this reference and the package unchanged), on a dense ``[B, N]`` batch of networks of
one length:

* readout (``DSSeqReadout(in, hidden, out, num_layers)``): at every position Linear(in, hidden) ->
  LayerNorm -> ReLU (``pre_pool.0``, ``pre_pool.1``), the mean over positions, then ``num_layers - 1``
  times Linear(hidden, hidden) -> LayerNorm -> ReLU and a final Linear(hidden, out) (``post_pool.<3i>``,
  ``post_pool.<3i+1>``, ``post_pool.<3(num_layers-1)>``);
* DMC (``DMCCNN(in, hidden, out, L)``): ``L`` blocks ``convs.<b>``: an unpadded k=5 Conv1d (``.0``),
  ReLU, BatchNorm1d (``.2``) and, where marked, MaxPool1d(2); channels ``in -> hidden/32``, then
  doubling to ``hidden`` over five pooled blocks, then ``L - 6`` hidden -> hidden blocks pooling every
  second one; then the two-layer readout (``readout.``) over the positions.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

BN_MOMENTUM, EPS = 0.1, 1e-5  # torch's BatchNorm1d / LayerNorm defaults, which the authors keep


def dmc_blocks(in_dim: int, hidden: int, layers: int) -> list[tuple[int, int, bool]]:
    """``(in channels, out channels, max-pooled)`` of each convolution block of ``DMCCNN``."""
    blocks = [(in_dim, hidden // 32, True)]
    blocks += [(hidden // 2 ** k, hidden // 2 ** (k - 1), True) for k in (5, 4, 3, 2, 1)]
    blocks += [(hidden, hidden, i % 2 == 1) for i in range(layers - 6)]
    return blocks


def _readout_shapes(prefix: str, in_dim: int, hidden: int, out_dim: int, layers: int) -> dict[str, tuple]:
    linear = {f"{prefix}pre_pool.0": (hidden, in_dim)}
    norms = [f"{prefix}pre_pool.1"]
    for i in range(layers - 1):
        linear[f"{prefix}post_pool.{3 * i}"] = (hidden, hidden)
        norms.append(f"{prefix}post_pool.{3 * i + 1}")
    linear[f"{prefix}post_pool.{3 * (layers - 1)}"] = (out_dim, hidden)
    shapes = {}
    for name, shape in linear.items():
        shapes[f"{name}.weight"], shapes[f"{name}.bias"] = shape, shape[:1]
    for name in norms:
        shapes[f"{name}.weight"] = shapes[f"{name}.bias"] = (hidden,)
    return shapes


def _random_state(shapes: dict[str, tuple], seed: int) -> dict[str, torch.Tensor]:
    """Seeded values: linear and conv weights at a fan-in scale, norm affines and BatchNorm running
    statistics away from their initial values (so that each of them matters)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in shapes.items():
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=g)
        elif name.endswith("running_mean"):
            state[name] = 0.2 * torch.randn(shape, generator=g)
        elif len(shape) == 1:  # biases and norm affines
            state[name] = (1.0 if name.endswith("weight") else 0.0) + 0.3 * torch.randn(shape, generator=g)
        else:
            fan_in = torch.Size(shape[1:]).numel()
            state[name] = torch.randn(shape, generator=g) / fan_in ** 0.5
    return state


def readout_state(in_dim: int, hidden: int, out_dim: int, layers: int, seed: int, prefix: str = "") -> dict:
    """A seeded state dict of ``DSSeqReadout(in_dim, hidden, out_dim, layers)`` (keys under ``prefix``)."""
    return _random_state(_readout_shapes(prefix, in_dim, hidden, out_dim, layers), seed)


def dmc_state(in_dim: int, hidden: int, out_dim: int, layers: int, seed: int) -> dict:
    """A seeded state dict of ``DMCCNN(in_dim, hidden, out_dim, layers)``."""
    shapes = {}
    for b, (c_in, c_out, _) in enumerate(dmc_blocks(in_dim, hidden, layers)):
        shapes[f"convs.{b}.0.weight"], shapes[f"convs.{b}.0.bias"] = (c_out, c_in, 5), (c_out,)
        for stat in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"convs.{b}.2.{stat}"] = (c_out,)
        shapes[f"convs.{b}.2.num_batches_tracked"] = ()
    shapes.update(_readout_shapes("readout.", hidden, hidden, out_dim, 2))
    return _random_state(shapes, seed)


def readout_forward(state: dict, x: torch.Tensor, layers: int, prefix: str = "") -> torch.Tensor:
    """``DSSeqReadout`` on ``x`` ``[B, N, in_dim]`` (positions on dim 1) -> ``[B, out_dim]``."""
    def block(h, linear, norm):
        h = F.linear(h, state[f"{linear}.weight"], state[f"{linear}.bias"])
        return F.relu(F.layer_norm(h, h.shape[-1:], state[f"{norm}.weight"], state[f"{norm}.bias"], EPS))

    h = block(x, f"{prefix}pre_pool.0", f"{prefix}pre_pool.1").mean(1)
    for i in range(layers - 1):
        h = block(h, f"{prefix}post_pool.{3 * i}", f"{prefix}post_pool.{3 * i + 1}")
    last = f"{prefix}post_pool.{3 * (layers - 1)}"
    return F.linear(h, state[f"{last}.weight"], state[f"{last}.bias"])


def dmc_forward(state: dict, x: torch.Tensor, hidden: int, layers: int, training: bool) -> torch.Tensor:
    """``DMCCNN`` on ``x`` ``[B, N]`` (one network per row) -> ``[B, out_dim]``; in training mode the
    BatchNorm running statistics in ``state`` are updated in place, as the module's are."""
    h = x[:, None]
    for b, (_, _, pooled) in enumerate(dmc_blocks(1, hidden, layers)):
        h = F.relu(F.conv1d(h, state[f"convs.{b}.0.weight"], state[f"convs.{b}.0.bias"]))
        norm = f"convs.{b}.2"
        h = F.batch_norm(h, state[f"{norm}.running_mean"], state[f"{norm}.running_var"], state[f"{norm}.weight"],
                         state[f"{norm}.bias"], training, BN_MOMENTUM, EPS)
        if training:
            state[f"{norm}.num_batches_tracked"] += 1
        if pooled:
            h = F.max_pool1d(h, 2)
    return readout_forward(state, h.transpose(1, 2), 2, "readout.")
