"""Parameter graphs of zoo networks, in the style of Graph Metanetworks (Lim et al., ICLR 2024).

:func:`to_graph` turns a network built by :func:`gmn_bench.build_model` (or a zoo row) into a
``torch_geometric.data.Data`` whose nodes are neurons/channels and whose edges are parameters.

Nodes (``data.x``, one row of :data:`NODE_FEATURES` per node)
    * input nodes: one per input feature (MLP: 3072 flattened pixels) or input channel (conv nets: 3);
    * one node per hidden neuron / channel of every layer; one per output class (10);
    * ViT only: one node per positional-embedding token and one for the ``cls`` token.

    Biases, BatchNorm/LayerNorm scale and shift and BatchNorm running statistics are *node features*
    of the neuron they act on (0, 1, 0, 0, 1 when absent). A normalisation that follows a layer is
    folded into that layer's output nodes (conv -> BatchNorm); a pre-norm (ViT LayerNorm) gets its
    own copy of the residual-stream nodes, linked by identity edges.

Edges (``data.edge_index`` source -> target, ``data.edge_attr`` = ``[w_0 .. w_{K-1}, edge_type]``)
    * one edge per linear weight (value in slot 0, the rest zero);
    * one edge per (input channel, output channel) of a conv, its kernel flattened (row-major) into
      the first ``kh*kw`` slots; ``K`` is the largest kernel size in the network (9 for 3x3 convs,
      1 for an MLP, ``patch_size**2`` for a ViT);
    * residual connections: edge type 1 (weights zero), one per channel, from the block input (or
      the projection shortcut's output nodes) to the block's output nodes;
    * ViT: identity edges into LayerNorm copies (type 2), positional embedding edges token -> embed
      channel (type 3, value in slot 0), ``cls`` token edges (type 4).

``data.family`` holds the spec's family; ``data.edge_dim_weights`` is ``K``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from torch import nn
from torch_geometric.data import Data

from .architectures import ACTIVATIONS, CNN, IMAGE_SHAPE, MLP, NUM_CLASSES, ViT, ResNet

NODE_FEATURES = ("layer", "node_type", "bias", "norm_weight", "norm_bias", "running_mean", "running_var", "head")
NODE_TYPES = {"input": 0, "hidden": 1, "output": 2, "norm": 3, "position": 4, "cls": 5}
EDGE_TYPES = {"weight": 0, "residual": 1, "identity": 2, "position": 3, "cls": 4}

_FAMILY_OF = {MLP: "mlp", CNN: "cnn", ResNet: "resnet", ViT: "vit"}
_SUPPORTED_LEAVES = (nn.Linear, nn.Conv2d, nn.BatchNorm2d, nn.LayerNorm, nn.Identity, nn.MaxPool2d, nn.AvgPool2d,
                     *ACTIVATIONS.values())


class _Builder:
    def __init__(self, k: int):
        self.k = k
        self.x: list[torch.Tensor] = []
        self.src: list[torch.Tensor] = []
        self.dst: list[torch.Tensor] = []
        self.attr: list[torch.Tensor] = []
        self.n = 0
        self.layer = 0

    def nodes(self, count: int, node_type: str, bias=None, norm=None, head=None, layer=None) -> int:
        """Add ``count`` nodes; return the offset of the first. ``norm`` is a BatchNorm2d/LayerNorm."""
        feats = torch.zeros(count, len(NODE_FEATURES))
        feats[:, 0] = self.layer if layer is None else layer
        feats[:, 1] = NODE_TYPES[node_type]
        feats[:, 3] = 1.0
        feats[:, 6] = 1.0
        feats[:, 7] = -1.0
        if bias is not None:
            feats[:, 2] = bias.detach().float()
        if norm is not None:
            if norm.weight is not None:
                feats[:, 3] = norm.weight.detach().float()
                feats[:, 4] = norm.bias.detach().float()
            if getattr(norm, "running_mean", None) is not None:
                feats[:, 5] = norm.running_mean.detach().float()
                feats[:, 6] = norm.running_var.detach().float()
        if head is not None:
            feats[:, 7] = head
        self.x.append(feats)
        start, self.n = self.n, self.n + count
        return start

    def _edges(self, src, dst, values, edge_type: str):
        values = values.detach().float().reshape(src.numel(), -1)
        attr = torch.zeros(src.numel(), self.k + 1)
        attr[:, : values.shape[1]] = values
        attr[:, self.k] = EDGE_TYPES[edge_type]
        self.src.append(src)
        self.dst.append(dst)
        self.attr.append(attr)

    def dense(self, weight: torch.Tensor, src_off: int, dst_off: int, edge_type: str = "weight"):
        """Edges for a weight of shape ``(out, in, *kernel)``: one edge per (in, out) pair."""
        n_out, n_in = weight.shape[:2]
        o, i = torch.meshgrid(torch.arange(n_out), torch.arange(n_in), indexing="ij")
        self._edges(src_off + i.reshape(-1), dst_off + o.reshape(-1), weight.reshape(n_out * n_in, -1), edge_type)

    def diagonal(self, count: int, src_off: int, dst_off: int, edge_type: str):
        idx = torch.arange(count)
        self._edges(src_off + idx, dst_off + idx, torch.zeros(count, 1), edge_type)

    def data(self, family: str) -> Data:
        return Data(x=torch.cat(self.x), edge_index=torch.stack([torch.cat(self.src), torch.cat(self.dst)]),
                    edge_attr=torch.cat(self.attr), num_nodes=self.n, family=family, edge_dim_weights=self.k)


def _max_kernel(module: nn.Module) -> int:
    return max([1] + [m.weight[0, 0].numel() for m in module.modules() if isinstance(m, nn.Conv2d)])


def _mlp(m: MLP, g: _Builder) -> int:
    prev = g.nodes(IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2], "input")
    for i in range(m.depth):
        g.layer += 1
        fc = getattr(m, f"fc{i}")
        cur = g.nodes(fc.out_features, "hidden", bias=fc.bias)
        g.dense(fc.weight, prev, cur)
        prev = cur
    return prev


def _conv_nodes(g: _Builder, conv: nn.Conv2d, norm: nn.Module | None, prev: int) -> int:
    g.layer += 1
    norm = norm if isinstance(norm, (nn.BatchNorm2d, nn.LayerNorm)) else None
    cur = g.nodes(conv.out_channels, "hidden", bias=conv.bias, norm=norm)
    g.dense(conv.weight, prev, cur)
    return cur


def _cnn(m: CNN, g: _Builder) -> int:
    prev = g.nodes(IMAGE_SHAPE[0], "input")
    for layer in m.convs:
        prev = _conv_nodes(g, layer.conv, layer.norm, prev)
    return prev


def _resnet(m: ResNet, g: _Builder) -> int:
    prev = g.nodes(IMAGE_SHAPE[0], "input")
    prev = _conv_nodes(g, m.stem[0], m.stem[1], prev)
    for block in m.blocks:
        mid = _conv_nodes(g, block.conv1, block.bn1, prev)
        if isinstance(block.shortcut, nn.Identity):
            short = prev
        else:
            short = _conv_nodes(g, block.shortcut[0], block.shortcut[1], prev)
            g.layer -= 1  # the projection runs parallel to conv1
        out = _conv_nodes(g, block.conv2, block.bn2, mid)
        g.diagonal(block.conv2.out_channels, short, out, "residual")
        prev = out
    return prev


def _vit(m: ViT, g: _Builder) -> int:
    dim = m.patch_embed.out_channels
    inp = g.nodes(IMAGE_SHAPE[0], "input")
    g.layer += 1
    stream = g.nodes(dim, "hidden", bias=m.patch_embed.bias)
    g.dense(m.patch_embed.weight, inp, stream)
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
        h = g.nodes(block.fc1.out_features, "hidden", bias=block.fc1.bias)
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


def to_graph(module_or_row: nn.Module | Mapping[str, Any]) -> Data:
    """Parameter graph of a network (``nn.Module`` from ``build_model``) or a zoo row dict.

    Raises ``ValueError`` naming the layer and its type for a module this cannot describe.
    """
    if isinstance(module_or_row, Mapping):
        from .weights import to_module

        module = to_module(module_or_row)
        family = json.loads(module_or_row["arch"])["family"] if isinstance(module_or_row["arch"], str) \
            else module_or_row["arch"]["family"]
        if _family(module) != family:
            raise ValueError(f"to_graph: row family {family!r} does not match module {type(module).__name__}")
    elif isinstance(module_or_row, nn.Module):
        module = module_or_row
        family = _family(module)
    else:
        raise ValueError(f"to_graph: expected an nn.Module or a zoo row dict, got {type(module_or_row).__name__}")
    g = _Builder(_max_kernel(module))
    with torch.no_grad():
        last = _BUILDERS[family](module, g)
        g.layer += 1
        out = g.nodes(NUM_CLASSES, "output", bias=module.head.bias)
        g.dense(module.head.weight, last, out)
    return g.data(family)
