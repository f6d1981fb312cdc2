"""Parameter graphs of zoo networks, in the style of Graph Metanetworks (Lim et al., ICLR 2024).

:func:`to_graph` turns a network built by :func:`gmn_bench.build_model` (or a zoo row) into a
``torch_geometric.data.Data`` whose nodes are neurons/channels and whose edges are parameters;
:func:`from_graph` / :func:`graph_to_state_dict` read the weights back.

Nodes (``data.x``, one row of :data:`NODE_FEATURES` per node)
    * input nodes: one per input feature (MLP: the 3072 flattened pixels, or those of the image
      average-pooled by ``input_pool``, marked by the ``pooling`` and ``stride`` features; ViT: the ``3*p*p`` pixels of a
      patch, the patch embedding being a linear layer shared by all patches) or input channel (CNN,
      ResNet: 3);
    * one node per hidden neuron / channel of every layer; one per output class (10);
    * ViT only: one node per positional-embedding token and one for the ``cls`` token.

    Biases, BatchNorm/LayerNorm scale and shift and BatchNorm running statistics are features of the
    neuron they act on (0, 1, 0, 0, 1 when absent). A normalisation that follows a layer is folded
    into that layer's output nodes (conv -> BatchNorm); a pre-norm (ViT LayerNorm) gets its own copy
    of the residual-stream nodes, linked by identity edges. ``activation`` (:data:`ACTIVATION_CODES`),
    ``pooling`` (:data:`POOLING_CODES`) and ``stride`` describe what happens to a node's value after
    its layer; ``head`` is the attention head of a query/key/value neuron (-1 elsewhere).

Edges (``data.edge_index`` source -> target, ``data.edge_type`` one of :data:`EDGE_TYPES`)
    * one edge per linear weight, one per (input channel, output channel) of a conv;
    * residual connections (one per channel, from the block input or the projection shortcut's
      output to the block output), ViT identity edges into LayerNorm copies: no weight;
    * ViT positional-embedding edges token -> channel and ``cls`` edges, one value each.

Weight storage is compact, with no padding: ``data.edge_kernel[e]`` is the side of edge ``e``'s
kernel (1 for a linear weight, ``k`` for a ``k x k`` conv, 0 for a weightless edge) and
``data.weight_values`` holds every edge's ``edge_kernel**2`` values, edge after edge (row-major
kernels). So graphs of any family and kernel size batch together with
``torch_geometric.loader.DataLoader`` (every attribute is concatenated along dim 0), and a graph
costs about 18 bytes per edge plus 4 per weight. A model that wants a fixed-width edge feature calls
:func:`padded_edge_weights` on the batch, which centres each kernel in a ``side x side`` grid (a
``3x3`` kernel is the centre of the equivalent ``5x5`` one; a linear weight is its centre value).
``data.family`` holds the spec's family.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Mapping, NamedTuple

import torch
from torch import nn
from torch_geometric.data import Data

from ..nets.architectures import (
    ACTIVATIONS,
    CNN,
    IMAGE_SHAPE,
    MLP,
    NUM_CLASSES,
    ResNet,
    ViT,
    build_model,
    spec_to_json,
)

NODE_FEATURES = ("layer", "node_type", "bias", "norm_weight", "norm_bias", "running_mean", "running_var", "head",
                 "activation", "pooling", "stride")
NODE_TYPES = {"input": 0, "hidden": 1, "output": 2, "norm": 3, "position": 4, "cls": 5}
EDGE_TYPES = {"weight": 0, "residual": 1, "identity": 2, "position": 3, "cls": 4}
ACTIVATION_CODES = {"none": 0, **{name: i + 1 for i, name in enumerate(ACTIVATIONS)}}
POOLING_CODES = {"none": 0, "max": 1, "avg": 2}
PARAMETER_FEATURES = ("bias", "norm_weight", "norm_bias", "running_mean", "running_var")

_COL = {name: i for i, name in enumerate(NODE_FEATURES)}
_FAMILY_OF = {MLP: "mlp", CNN: "cnn", ResNet: "resnet", ViT: "vit"}
_ACTIVATION_OF = {cls: name for name, cls in ACTIVATIONS.items()}
_SUPPORTED_LEAVES = (nn.Linear, nn.Conv2d, nn.BatchNorm2d, nn.LayerNorm, nn.Identity, nn.MaxPool2d, nn.AvgPool2d,
                     *ACTIVATIONS.values())


def _activation(module: nn.Module) -> str:
    return _ACTIVATION_OF.get(type(module), "none")


def _pooling(module: nn.Module) -> str:
    return {nn.MaxPool2d: "max", nn.AvgPool2d: "avg"}.get(type(module), "none")


class _Builder:
    """Collects nodes and edges; the vectorised construction (one index grid per layer)."""

    def __init__(self, dtype: torch.dtype = torch.float32):
        self.dtype = dtype
        self.x: list[torch.Tensor] = []
        self.src: list[torch.Tensor] = []
        self.dst: list[torch.Tensor] = []
        self.types: list[torch.Tensor] = []
        self.kernels: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.n = 0
        self.layer = 0

    def nodes(self, count: int, node_type: str, bias=None, norm=None, head=None, layer=None,
              activation: str = "none", pooling: str = "none", stride: int = 1) -> int:
        """Add ``count`` nodes; return the offset of the first. ``norm`` is a BatchNorm2d/LayerNorm."""
        feats = torch.zeros(count, len(NODE_FEATURES), dtype=self.dtype)
        feats[:, _COL["layer"]] = self.layer if layer is None else layer
        feats[:, _COL["node_type"]] = NODE_TYPES[node_type]
        feats[:, _COL["norm_weight"]] = 1.0
        feats[:, _COL["running_var"]] = 1.0
        feats[:, _COL["head"]] = -1.0 if head is None else head
        feats[:, _COL["activation"]] = ACTIVATION_CODES[activation]
        feats[:, _COL["pooling"]] = POOLING_CODES[pooling]
        feats[:, _COL["stride"]] = stride
        if bias is not None:
            feats[:, _COL["bias"]] = bias.detach()
        if norm is not None:
            if norm.weight is not None:
                feats[:, _COL["norm_weight"]] = norm.weight.detach()
                feats[:, _COL["norm_bias"]] = norm.bias.detach()
            if getattr(norm, "running_mean", None) is not None:
                feats[:, _COL["running_mean"]] = norm.running_mean.detach()
                feats[:, _COL["running_var"]] = norm.running_var.detach()
        self.x.append(feats)
        start, self.n = self.n, self.n + count
        return start

    def edges(self, src: torch.Tensor, dst: torch.Tensor, values: torch.Tensor | None, side: int, edge_type: str):
        """Edges ``src[i] -> dst[i]``; ``values`` holds their ``side**2`` weights each, edge after edge."""
        self.src.append(src)
        self.dst.append(dst)
        self.types.append(torch.full((src.numel(),), EDGE_TYPES[edge_type], dtype=torch.uint8))
        self.kernels.append(torch.full((src.numel(),), side, dtype=torch.uint8))
        if values is not None:
            self.values.append(values.detach().reshape(-1).to(self.dtype))

    def dense(self, weight: torch.Tensor, src_off: int, dst_off: int, edge_type: str = "weight"):
        """Edges for a weight of shape ``(out, in)`` or ``(out, in, k, k)``: one edge per (in, out) pair."""
        n_out, n_in = weight.shape[:2]
        o, i = torch.meshgrid(torch.arange(n_out), torch.arange(n_in), indexing="ij")
        side = weight.shape[2] if weight.dim() == 4 else 1
        self.edges(src_off + i.reshape(-1), dst_off + o.reshape(-1), weight, side, edge_type)

    def diagonal(self, count: int, src_off: int, dst_off: int, edge_type: str):
        idx = torch.arange(count)
        self.edges(src_off + idx, dst_off + idx, None, 0, edge_type)

    def data(self, family: str) -> Data:
        return Data(x=torch.cat(self.x), edge_index=torch.stack([torch.cat(self.src), torch.cat(self.dst)]),
                    edge_type=torch.cat(self.types), edge_kernel=torch.cat(self.kernels),
                    weight_values=torch.cat(self.values), num_nodes=self.n, family=family)


def _mlp(m: MLP, g: _Builder) -> int:
    pooled = m.input_pool > 1
    prev = g.nodes(m.fc0.in_features, "input", pooling="avg" if pooled else "none", stride=m.input_pool)
    for i in range(m.depth):
        g.layer += 1
        fc = getattr(m, f"fc{i}")
        cur = g.nodes(fc.out_features, "hidden", bias=fc.bias, activation=_activation(m.act))
        g.dense(fc.weight, prev, cur)
        prev = cur
    return prev


def _conv_nodes(g: _Builder, conv: nn.Conv2d, norm: nn.Module | None, prev: int, activation: str = "none",
                pooling: str = "none") -> int:
    g.layer += 1
    norm = norm if isinstance(norm, (nn.BatchNorm2d, nn.LayerNorm)) else None
    cur = g.nodes(conv.out_channels, "hidden", bias=conv.bias, norm=norm, activation=activation, pooling=pooling,
                  stride=conv.stride[0])
    g.dense(conv.weight, prev, cur)
    return cur


def _cnn(m: CNN, g: _Builder) -> int:
    prev = g.nodes(IMAGE_SHAPE[0], "input")
    for layer in m.convs:
        prev = _conv_nodes(g, layer.conv, layer.norm, prev, _activation(layer.act), _pooling(layer.pool))
    return prev


def _resnet(m: ResNet, g: _Builder) -> int:
    prev = g.nodes(IMAGE_SHAPE[0], "input")
    prev = _conv_nodes(g, m.stem[0], m.stem[1], prev, "relu")
    for block in m.blocks:
        mid = _conv_nodes(g, block.conv1, block.bn1, prev, "relu")
        if isinstance(block.shortcut, nn.Identity):
            short = prev
        else:
            short = _conv_nodes(g, block.shortcut[0], block.shortcut[1], prev)
            g.layer -= 1  # the projection runs parallel to conv1
        out = _conv_nodes(g, block.conv2, block.bn2, mid, "relu")  # relu after the residual sum
        g.diagonal(block.conv2.out_channels, short, out, "residual")
        prev = out
    return prev


def _vit(m: ViT, g: _Builder) -> int:
    dim = m.patch_embed.out_channels
    patch = m.patch_embed.weight.reshape(dim, -1)  # the patch embedding as a linear map of patch pixels
    inp = g.nodes(patch.shape[1], "input")
    g.layer += 1
    stream = g.nodes(dim, "hidden", bias=m.patch_embed.bias)
    g.dense(patch, inp, stream)
    pos = m.pos_embed[0]  # (tokens, dim)
    tokens = g.nodes(pos.shape[0], "position")
    g.dense(pos.t(), tokens, stream, "position")
    if m.pool == "cls":
        cls = g.nodes(1, "cls")
        g.dense(m.cls_token[0, 0].reshape(dim, 1), cls, stream, "cls")
    for block in m.blocks:
        heads = block.attn.heads
        head_of = torch.arange(dim) // (dim // heads)
        g.layer += 1
        ln1 = g.nodes(dim, "norm", norm=block.norm1)
        g.diagonal(dim, stream, ln1, "identity")
        g.layer += 1
        qkv = []
        for proj in (block.attn.q, block.attn.k, block.attn.v):
            off = g.nodes(dim, "hidden", bias=proj.bias, head=head_of)
            g.dense(proj.weight, ln1, off)
            qkv.append(off)
        g.layer += 1
        o = g.nodes(dim, "hidden", bias=block.attn.o.bias)
        g.dense(block.attn.o.weight, qkv[2], o)
        g.diagonal(dim, stream, o, "residual")
        stream = o
        g.layer += 1
        ln2 = g.nodes(dim, "norm", norm=block.norm2)
        g.diagonal(dim, stream, ln2, "identity")
        g.layer += 1
        h = g.nodes(block.fc1.out_features, "hidden", bias=block.fc1.bias, activation="gelu")
        g.dense(block.fc1.weight, ln2, h)
        g.layer += 1
        out = g.nodes(dim, "hidden", bias=block.fc2.bias)
        g.dense(block.fc2.weight, h, out)
        g.diagonal(dim, stream, out, "residual")
        stream = out
    g.layer += 1
    final = g.nodes(dim, "norm", norm=m.norm)
    g.diagonal(dim, stream, final, "identity")
    return final


_BUILDERS = {"mlp": _mlp, "cnn": _cnn, "resnet": _resnet, "vit": _vit}


def _family(module: nn.Module) -> str:
    family = _FAMILY_OF.get(type(module))
    for name, sub in module.named_modules():
        if not list(sub.children()) and not isinstance(sub, _SUPPORTED_LEAVES):
            raise ValueError(f"to_graph: unsupported layer {name!r} of type {type(sub).__name__}")
    if family is None:
        raise ValueError(f"to_graph: unsupported module (layer '' of type {type(module).__name__}); "
                         f"expected one built by gmn_bench.build_model ({', '.join(_BUILDERS)})")
    return family


def _build(module: nn.Module, family: str, g: _Builder) -> Data:
    """Run ``family``'s construction of ``module`` on builder ``g`` (also used by the benchmark)."""
    with torch.no_grad():
        last = _BUILDERS[family](module, g)
        g.layer += 1
        out = g.nodes(NUM_CLASSES, "output", bias=module.head.bias)
        g.dense(module.head.weight, last, out)
    return g.data(family)


def _spec_dict(spec: Mapping[str, Any] | str) -> dict:
    return json.loads(spec) if isinstance(spec, str) else dict(spec)


def to_graph(module_or_row: nn.Module | Mapping[str, Any]) -> Data:
    """Parameter graph of a network (``nn.Module`` from ``build_model``) or a zoo row dict.

    Raises ``ValueError`` naming the layer and its type for a module this cannot describe.
    """
    if isinstance(module_or_row, Mapping):
        from ..zoo.weights import to_module

        module = to_module(module_or_row)
        family = _spec_dict(module_or_row["arch"])["family"]
        if _family(module) != family:
            raise ValueError(f"to_graph: row family {family!r} does not match module {type(module).__name__}")
    elif isinstance(module_or_row, nn.Module):
        module = module_or_row
        family = _family(module)
    else:
        raise ValueError(f"to_graph: expected an nn.Module or a zoo row dict, got {type(module_or_row).__name__}")
    return _build(module, family, _Builder())


def padded_edge_weights(data: Data, side: int) -> torch.Tensor:
    """``[num_edges, side*side]`` edge weights of a graph or batch, each kernel centred in a ``side x side`` grid.

    Weightless edges are all zeros. Raises ``ValueError`` if an edge's kernel is larger than ``side``.
    """
    kernel = data.edge_kernel.long()
    if kernel.numel() and int(kernel.max()) > side:
        raise ValueError(f"padded_edge_weights: the graph has a {int(kernel.max())}x{int(kernel.max())} kernel, "
                         f"larger than side={side}")
    counts = kernel * kernel
    edge_of = torch.repeat_interleave(torch.arange(kernel.numel(), device=kernel.device), counts)
    if edge_of.numel() != data.weight_values.numel():
        raise ValueError(f"padded_edge_weights: edge_kernel implies {edge_of.numel()} weight values, "
                         f"weight_values has {data.weight_values.numel()}")
    start = torch.cumsum(counts, 0) - counts
    j = torch.arange(edge_of.numel(), device=kernel.device) - start[edge_of]
    k = kernel[edge_of]
    margin = (side - k) // 2
    slot = (j // k + margin) * side + j % k + margin
    out = data.weight_values.new_zeros(kernel.numel(), side * side)
    out[edge_of, slot] = data.weight_values
    return out


class _Layout(NamedTuple):
    state: dict[str, torch.Tensor]  # the spec's state_dict (values unused: names, shapes, dtypes)
    floating: list[str]  # names of the floating entries, in the order of their global ids
    node_ids: torch.Tensor  # [num_nodes, len(PARAMETER_FEATURES)] global id in each parameter slot (< 2: none)
    weight_ids: torch.Tensor  # [num weight values] global id of each stored edge weight
    num_nodes: int


@lru_cache(maxsize=64)
def _layout(spec_json: str) -> _Layout:
    """Where every floating state-dict value of a spec's network lands in its graph.

    Builds the graph of a float64 copy whose values are their own global ids (2, 3, ...; never the
    0/1 defaults of the parameter features), so each slot of the graph names the value it holds.
    """
    module = build_model(json.loads(spec_json))
    state = module.state_dict()
    traced = module.double()
    floating = [k for k, v in traced.state_dict().items() if v.is_floating_point()]
    offset = 2
    with torch.no_grad():
        for name in floating:
            tensor = traced.state_dict()[name]
            tensor.copy_(torch.arange(offset, offset + tensor.numel(), dtype=torch.float64).reshape(tensor.shape))
            offset += tensor.numel()
    g = _build(traced, _family(traced), _Builder(torch.float64))
    node_ids = g.x[:, [_COL[c] for c in PARAMETER_FEATURES]].long()
    placed = torch.cat([node_ids[node_ids >= 2], g.weight_values.long()])
    if not torch.equal(placed.sort().values, torch.arange(2, offset)):
        raise AssertionError(f"graph layout of {spec_json} does not hold every state value exactly once")
    return _Layout({k: v.clone() for k, v in state.items()}, floating, node_ids, g.weight_values.long(), g.num_nodes)


def graph_to_state_dict(data: Data, spec: Mapping[str, Any] | str) -> dict[str, torch.Tensor]:
    """Read a network's state_dict back from its parameter graph (the inverse of :func:`to_graph`).

    ``spec`` is the architecture spec (dict or JSON) the graph was built from. Integer buffers
    (BatchNorm's ``num_batches_tracked``) are not part of the graph and come back as zeros.
    Raises ``ValueError`` if the graph's shape does not match the spec.
    """
    spec_json = spec_to_json(_spec_dict(spec))
    layout = _layout(spec_json)
    if data.num_nodes != layout.num_nodes or data.weight_values.numel() != layout.weight_ids.numel():
        raise ValueError(f"graph_to_state_dict: graph with {data.num_nodes} nodes and {data.weight_values.numel()} "
                         f"weights does not match spec {spec_json} ({layout.num_nodes} nodes, "
                         f"{layout.weight_ids.numel()} weights)")
    sizes = [layout.state[name].numel() for name in layout.floating]
    flat = torch.zeros(sum(sizes), dtype=data.weight_values.dtype)
    flat[layout.weight_ids - 2] = data.weight_values
    on_node = layout.node_ids >= 2
    flat[layout.node_ids[on_node] - 2] = data.x[:, [_COL[c] for c in PARAMETER_FEATURES]][on_node]
    values = dict(zip(layout.floating, flat.split(sizes)))
    return {name: values[name].reshape(t.shape).to(t.dtype) if name in values else torch.zeros_like(t)
            for name, t in layout.state.items()}


def from_graph(data: Data, spec: Mapping[str, Any] | str) -> nn.Module:
    """The network (eval mode) whose parameter graph is ``data``; see :func:`graph_to_state_dict`."""
    module = build_model(_spec_dict(spec))
    module.load_state_dict(graph_to_state_dict(data, spec))
    return module.eval()
