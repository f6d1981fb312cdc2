"""Per-row tensor views shared by the baseline metanets.

:func:`layer_tensors` rebuilds a zoo row's network (checked by :func:`gmn_bench.to_module`) and
(:func:`module_tensors`, for any module) lists its floating-point tensors (parameters and BatchNorm
running statistics) in module order,
each tagged with its :data:`TENSOR_KINDS` kind and the index of the layer (module) owning it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch
from torch import nn

from ..zoo.weights import to_module

TENSOR_KINDS = ("linear_weight", "conv_weight", "bias", "norm_weight", "norm_bias", "running_mean", "running_var",
                "embedding")
STATISTICS = ("mean", "var", "q0", "q25", "q50", "q75", "q100")

_NORMS = (nn.BatchNorm2d, nn.LayerNorm)


@dataclass(frozen=True)
class LayerTensor:
    """One tensor of a network: its state_dict ``name``, ``kind``, owning ``layer`` index, ``shape``
    and flattened ``values``."""

    name: str
    kind: str
    layer: int
    shape: tuple[int, ...]
    values: torch.Tensor


def _kind(module: nn.Module, tensor_name: str) -> str:
    if isinstance(module, _NORMS):
        return {"weight": "norm_weight", "bias": "norm_bias"}.get(tensor_name, tensor_name)
    if tensor_name == "bias":
        return "bias"
    if tensor_name == "weight":
        return "conv_weight" if isinstance(module, nn.Conv2d) else "linear_weight"
    return "embedding"


def layer_tensors(row: Mapping) -> list[LayerTensor]:
    """The floating-point tensors of ``row``'s network in module order (see module docstring)."""
    return module_tensors(to_module(row))


def module_tensors(module: nn.Module) -> list[LayerTensor]:
    """The floating-point tensors of ``module`` in module order (see :func:`layer_tensors`).

    Layers are the modules that directly own a tensor, numbered from 0 in module order; a
    module-level parameter such as a ViT's ``pos_embed`` belongs to the root module's layer.
    """
    out: list[LayerTensor] = []
    layer = 0
    for prefix, sub in module.named_modules():
        own = [(n, t) for n, t in [*sub.named_parameters(recurse=False), *sub.named_buffers(recurse=False)]
               if t is not None and t.is_floating_point()]
        for tensor_name, tensor in own:
            name = f"{prefix}.{tensor_name}" if prefix else tensor_name
            out.append(LayerTensor(name, _kind(sub, tensor_name), layer, tuple(tensor.shape),
                                   tensor.detach().float().flatten()))
        layer += bool(own)
    return out


def tensor_statistics(values: torch.Tensor) -> np.ndarray:
    """:data:`STATISTICS` of a tensor's values: mean, population variance, quantiles 0/25/50/75/100 %
    (linear interpolation, ``numpy.quantile``'s default), as float64."""
    v = values.double().numpy().ravel()
    return np.concatenate([[v.mean(), v.var()], np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])])


def flat_weights(row: Mapping) -> torch.Tensor:
    """``row``'s network as one sequence ``[length, 1]``: the :func:`layer_tensors` values concatenated in
    module order (a state_dict's order, less integer buffers such as BatchNorm's ``num_batches_tracked``)."""
    return torch.cat([t.values for t in layer_tensors(row)])[:, None]
