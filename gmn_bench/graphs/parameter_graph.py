"""Parameter graphs of networks, in the style of Graph Metanetworks (Lim et al., ICLR 2024).

:func:`to_graph` turns any supported ``nn.Module`` (traced with ``torch.fx``, see :mod:`.tracing`)
or a zoo row into a ``torch_geometric.data.Data`` whose nodes are neurons/channels and whose edges
are parameters (the format: :mod:`.format`); :func:`from_graph` / :func:`graph_to_state_dict` read
the weights back, exactly.

A zoo row's graph is not traced: the graph of its architecture is traced once (per spec, cached)
on a copy whose every state value is its own index, which gives where each stored value lands;
the row's values are then scattered into that template.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any, Mapping, NamedTuple

import torch
from torch import nn
from torch_geometric.data import Data

from ..nets.architectures import CNN, IMAGE_SHAPE, MLP, ResNet, ViT, build_model, spec_to_json
from .format import COLUMN, PARAMETER_FEATURES, GraphStore
from .tracing import trace_graph

_FAMILY_OF = {MLP: "mlp", CNN: "cnn", ResNet: "resnet", ViT: "vit"}
_PARAMETER_COLUMNS = torch.tensor([COLUMN[c] for c in PARAMETER_FEATURES])
_FIRST_ID = 2  # value ids start above the 0/1 defaults of the parameter features


def _build(module: nn.Module, family: str, dtype: torch.dtype, input_shape: tuple[int, ...]) -> Data:
    store = GraphStore(dtype)
    trace_graph(module, store, input_shape)
    return store.data(family)


def to_graph(module_or_row: nn.Module | Mapping[str, Any], *, input_shape: tuple[int, ...] = IMAGE_SHAPE) -> Data:
    """Parameter graph of an ``nn.Module`` (traced on one input of ``input_shape``) or of a zoo row.

    ``data.family`` is the row's spec family, a module's gmn-bench family, or ``"custom"``.
    Raises ``ValueError`` naming the traced node of an operation the format cannot describe, and
    :class:`gmn_bench.ZooRowError` for a row whose spec or weights are bad.
    """
    if isinstance(module_or_row, Mapping):
        return _row_graph(module_or_row)
    if isinstance(module_or_row, nn.Module):
        return _build(module_or_row, _FAMILY_OF.get(type(module_or_row), "custom"), torch.float32, input_shape)
    raise ValueError(f"to_graph: expected an nn.Module or a zoo row dict, got {type(module_or_row).__name__}")


class _Layout(NamedTuple):
    """Where every floating state value of an architecture lands in its graph."""

    template: Data  # the graph, parameter slots aside (float32)
    state: dict[str, torch.Tensor]  # the state_dict's names, shapes and dtypes (meta tensors)
    floating: list[str]  # names of the floating entries, in the order of the value ids
    node_rows: torch.Tensor  # node and feature column of every node-held value ...
    node_columns: torch.Tensor
    node_ids: torch.Tensor  # ... and its value id (0-based)
    weight_ids: torch.Tensor  # value id of every stored edge weight

    def fill(self, flat: torch.Tensor) -> Data:
        """The graph holding the values ``flat`` (all floating state, in ``floating`` order)."""
        data = self.template.clone()
        data.x[self.node_rows, self.node_columns] = flat[self.node_ids].to(data.x.dtype)
        data.weight_values = flat[self.weight_ids].to(data.x.dtype)
        return data


def _layout(module: nn.Module, family: str, input_shape: tuple[int, ...]) -> _Layout:
    """The layout of ``module``'s architecture; ``module`` is overwritten (pass a copy)."""
    state = {k: torch.empty(v.shape, dtype=v.dtype, device="meta") for k, v in module.state_dict().items()}
    module = module.double()
    tensors = module.state_dict()
    floating = [k for k, v in tensors.items() if v.is_floating_point()]
    offset = _FIRST_ID
    with torch.no_grad():
        for name in floating:
            tensor = tensors[name]
            tensor.copy_(torch.arange(offset, offset + tensor.numel(), dtype=torch.float64).reshape(tensor.shape))
            offset += tensor.numel()
    g = _build(module, family, torch.float64, input_shape)
    held = g.x[:, _PARAMETER_COLUMNS]
    rows, columns = (held >= _FIRST_ID).nonzero(as_tuple=True)
    node_ids = held[rows, columns].long() - _FIRST_ID
    weight_ids = g.weight_values.long() - _FIRST_ID
    placed = torch.cat([node_ids, weight_ids])
    if not torch.equal(placed.sort().values, torch.arange(offset - _FIRST_ID)):
        raise ValueError(f"to_graph: the graph of {type(module).__name__} does not hold every state value exactly "
                         "once (a value read by two operations, or transformed before use)")
    template = g.clone()
    template.x = g.x.float()
    template.weight_values = g.weight_values.float()
    return _Layout(template, state, floating, rows, _PARAMETER_COLUMNS[columns], node_ids, weight_ids)


def _scratch_model(spec: dict) -> nn.Module:
    """``build_model(spec)`` whose values the layout overwrites; the caller's random state is left as it was.
    (Random initialisation of a zoo-sized network costs less than building on the meta device.)"""
    with torch.random.fork_rng(devices=[]):
        return build_model(spec)


@lru_cache(maxsize=256)
def _spec_layout(spec_json: str) -> _Layout:
    spec = json.loads(spec_json)
    return _layout(_scratch_model(spec), spec["family"], IMAGE_SHAPE)


def clear_layout_cache() -> None:
    """Forget the architecture layouts :func:`to_graph` keeps for zoo rows (the last 256 architectures
    seen), to release their memory, or to time rows of architectures not seen before."""
    _spec_layout.cache_clear()


def _layout_for(spec_or_module: Mapping[str, Any] | str | nn.Module) -> _Layout:
    if isinstance(spec_or_module, nn.Module):
        return _layout(copy.deepcopy(spec_or_module), _FAMILY_OF.get(type(spec_or_module), "custom"), IMAGE_SHAPE)
    spec = json.loads(spec_or_module) if isinstance(spec_or_module, str) else spec_or_module
    return _spec_layout(spec_to_json(spec))


def _row_graph(row: Mapping[str, Any]) -> Data:
    from ..zoo.weights import read_state, row_spec

    layout = _spec_layout(spec_to_json(row_spec(row)))
    state = read_state(row, layout.state)
    flat = torch.cat([state[name].reshape(-1).float() for name in layout.floating])
    return layout.fill(flat)


def graph_to_state_dict(data: Data, spec_or_module: Mapping[str, Any] | str | nn.Module) -> dict[str, torch.Tensor]:
    """Read a network's state_dict back from its parameter graph (the inverse of :func:`to_graph`).

    ``spec_or_module`` is the architecture spec (dict or JSON) the graph was built from, or any module
    of the same architecture (its values are not used). Integer buffers (BatchNorm's
    ``num_batches_tracked``) are not part of the graph and come back as zeros. Raises ``ValueError``
    if the graph's shape does not match the architecture.
    """
    layout = _layout_for(spec_or_module)
    if data.num_nodes != layout.template.num_nodes or data.weight_values.numel() != layout.weight_ids.numel():
        raise ValueError(f"graph_to_state_dict: graph with {data.num_nodes} nodes and {data.weight_values.numel()} "
                         f"weights does not match the architecture ({layout.template.num_nodes} nodes, "
                         f"{layout.weight_ids.numel()} weights)")
    sizes = [layout.state[name].numel() for name in layout.floating]
    flat = torch.zeros(sum(sizes), dtype=data.weight_values.dtype)
    flat[layout.weight_ids] = data.weight_values
    flat[layout.node_ids] = data.x[layout.node_rows, layout.node_columns]
    values = dict(zip(layout.floating, flat.split(sizes)))
    return {name: values[name].reshape(t.shape).to(t.dtype) if name in values else torch.zeros(t.shape, dtype=t.dtype)
            for name, t in layout.state.items()}


def from_graph(data: Data, spec_or_module: Mapping[str, Any] | str | nn.Module) -> nn.Module:
    """The network (eval mode) whose parameter graph is ``data``: a new ``build_model(spec)``, or a copy
    of the given module; see :func:`graph_to_state_dict`."""
    if isinstance(spec_or_module, nn.Module):
        module = copy.deepcopy(spec_or_module)
    else:
        module = build_model(json.loads(spec_or_module) if isinstance(spec_or_module, str) else spec_or_module)
    module.load_state_dict(graph_to_state_dict(data, spec_or_module))
    return module.eval()
