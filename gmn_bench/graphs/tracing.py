"""Parameter graphs from ``torch.fx`` traces: one graph builder for every supported ``nn.Module``.

:func:`trace_graph` traces a module with ``torch.fx.symbolic_trace`` and runs the trace once on a
single example input. Every traced value that carries activations is described by two integer maps
of the value's shape: ``owner`` (the graph node of every element: its neuron or channel) and
``site`` (where the element sits in a ``grid``, the spatial map it came from). Data-movement
operations (view, reshape, flatten, transpose, permute, getitem, ...) are applied to those maps as
they are to the value itself, so any layout the network uses is followed exactly; every other
operation has a rule that adds nodes and edges (see :mod:`.format` for the resulting graph):

* ``nn.Linear``, ``nn.Conv2d`` (stride, padding, groups): new neurons/channels and weight edges;
* ``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm``; activations (modules, functions and methods);
  max/average/adaptive pooling and ``mean``/``amax`` over non-feature dimensions;
* additions (residual edges; an added learned tensor becomes an ``embedding`` node) and ``cat``
  (channel concatenation; a concatenated learned tensor becomes a ``token`` node);
* ``nn.MultiheadAttention`` and ``F.scaled_dot_product_attention`` (head nodes);
* dropout and identity (nothing).

A normalisation, residual sum, activation or pooling is folded into the nodes it acts on when
nothing else reads their value and it comes later in the order bias, norm, sum, activation,
pooling; otherwise it acts on fresh copies of those nodes (identity edges from the originals).
Anything else raises ``ValueError`` naming the traced node.
"""
from __future__ import annotations

import builtins
import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from .format import ACTIVATION_CODES, NODE_TYPES, NORM_CODES, POOLING_CODES, GraphStore

_STAGE = {"linear": 0, "norm": 1, "sum": 2, "activation": 3, "pooling": 4, "final": 5}

_MOVE_METHODS = {"view", "reshape", "flatten", "unflatten", "transpose", "permute", "contiguous", "squeeze",
                 "unsqueeze", "expand", "chunk", "split", "clone"}
_MOVE_FUNCTIONS = {torch.flatten, torch.reshape, torch.transpose, torch.permute, torch.squeeze, torch.unsqueeze,
                   torch.unflatten, torch.chunk, torch.split, operator.getitem}
_MOVE_MODULES = (nn.Flatten, nn.Unflatten)
_PASS_MODULES = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d)
_PASS_FUNCTIONS = {F.dropout}
_META_METHODS = {"size", "dim", "numel"}

_ACTIVATION_MODULES = {nn.ReLU: "relu", nn.GELU: "gelu", nn.Tanh: "tanh", nn.SiLU: "silu", nn.Sigmoid: "sigmoid",
                       nn.ReLU6: "relu6", nn.LeakyReLU: "leaky_relu", nn.ELU: "elu", nn.Hardswish: "hardswish",
                       nn.Softplus: "softplus"}
_ACTIVATION_FUNCTIONS = {F.relu: "relu", torch.relu: "relu", F.gelu: "gelu", torch.tanh: "tanh", F.tanh: "tanh",
                         F.silu: "silu", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", F.relu6: "relu6",
                         F.leaky_relu: "leaky_relu", F.elu: "elu", F.hardswish: "hardswish", F.softplus: "softplus"}
_ACTIVATION_METHODS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
_POOL_MODULES = {nn.MaxPool2d: "max", nn.AvgPool2d: "avg", nn.AdaptiveMaxPool2d: "adaptive_max",
                 nn.AdaptiveAvgPool2d: "adaptive_avg"}
_POOL_FUNCTIONS = {F.max_pool2d: "max", F.avg_pool2d: "avg", F.adaptive_max_pool2d: "adaptive_max",
                   F.adaptive_avg_pool2d: "adaptive_avg"}
_REDUCTIONS = {"mean": "adaptive_avg", "amax": "adaptive_max", torch.mean: "adaptive_avg",
               torch.amax: "adaptive_max"}
_ADDS = {operator.add, operator.iadd, torch.add, "add"}
_CATS = {torch.cat, torch.concat}


@dataclass
class _Feat:
    """A value carrying activations: the graph node (``owner``) and ``grid`` site of every element."""

    owner: torch.Tensor
    site: torch.Tensor
    grid: tuple[int, int]

    def moved(self, move) -> Any:
        owner, site = move(self.owner), move(self.site)
        if isinstance(owner, tuple):
            return tuple(_Feat(o, s, self.grid) for o, s in zip(owner, site))
        return _Feat(owner, site, self.grid)


@dataclass
class _Const:
    """A value computed from learned tensors only (``names``: their state_dict names)."""

    names: tuple[str, ...]


def _side(value) -> int:
    value = value[0] if isinstance(value, (tuple, list)) else value
    return 0 if value is None else int(value)


def _along(ids: torch.Tensor, like: torch.Tensor, axis: int) -> torch.Tensor:
    """``ids`` laid along ``axis`` of a map shaped like ``like``."""
    shape = [1] * like.dim()
    shape[axis] = -1
    return ids.view(shape).expand(like.shape).contiguous()


def _feat(ids: torch.Tensor, like: torch.Tensor, axis: int) -> _Feat:
    """The map of fresh nodes ``ids`` along ``axis``; a 4-D value keeps its spatial grid."""
    owner = _along(ids, like, axis)
    if like.dim() == 4 and axis == 1:
        h, w = like.shape[2:]
        return _Feat(owner, torch.arange(h * w).view(1, 1, h, w).expand(like.shape).contiguous(), (h, w))
    return _Feat(owner, torch.zeros_like(owner), (1, 1))


class _Tracer(fx.Interpreter):
    def __init__(self, module: nn.Module, graph: fx.Graph, store: GraphStore):
        super().__init__(module, graph=graph)
        self.store = store
        self.stage = torch.zeros(0, dtype=torch.long)
        self.feats: dict[fx.Node, Any] = {}
        self.shared: dict[fx.Node, list[fx.Node]] = {}
        self.used: set[str] = set()
        self.called: set[str] = set()

    # ------------------------------------------------------------------ bookkeeping
    def run_node(self, node: fx.Node) -> Any:
        real = super().run_node(node)
        self.feats[node] = self._describe(node, real)
        return real

    def _fail(self, node: fx.Node, reason: str):
        what = node.target if node.op != "call_module" else type(self.module.get_submodule(node.target)).__name__
        what = getattr(what, "__name__", what)
        raise ValueError(f"to_graph: unsupported operation at traced node {node.name!r} ({node.op} {what}) "
                         f"of {type(self.module).__name__}: {reason}")

    def _nodes(self, count: int, node_type: str, sources: torch.Tensor | None = None,
               layer: float | None = None) -> torch.Tensor:
        """``count`` new nodes, one layer deeper than ``sources`` (or at ``layer``)."""
        if layer is None:
            layer = 0.0 if sources is None else float(self.store.get(sources, "layer").max()) + 1
        ids = self.store.add_nodes(count, node_type, layer)
        self.stage = torch.cat([self.stage, torch.zeros(count, dtype=torch.long)])
        return ids

    def _is_move(self, node: fx.Node) -> bool:
        if node.op == "call_method":
            return node.target in _MOVE_METHODS
        if node.op == "call_function":
            return node.target in _MOVE_FUNCTIONS or node.target in _PASS_FUNCTIONS
        return node.op == "call_module" and isinstance(self.module.get_submodule(node.target),
                                                       _MOVE_MODULES + _PASS_MODULES)

    @staticmethod
    def _is_meta(node: fx.Node) -> bool:
        return (node.op == "call_function" and node.target is builtins.getattr) or \
            (node.op == "call_method" and node.target in _META_METHODS)

    def _readers(self, node: fx.Node) -> int:
        """Operations that read ``node``'s value, looking through data movement."""
        count = 0
        for user in node.users:
            if self._is_meta(user):
                continue
            count += self._readers(user) if self._is_move(user) and user.args[0] is node else 1
        return count

    def _may_fold(self, node: fx.Node) -> bool:
        """Whether an operation on ``node`` may act on its nodes in place (nothing else reads them)."""
        while self._is_move(node):
            node = node.args[0]
        return self._readers(node) == 1 and all(self._may_fold(n) for n in self.shared.get(node, ()))

    def _target(self, node: fx.Node, feat: _Feat, nodes: torch.Tensor, stage: str, copy_type: str,
                inclusive: bool = False) -> tuple[torch.Tensor, _Feat]:
        """The nodes an operation of ``stage`` on ``nodes`` (of ``feat``, the value of ``node``) acts on:
        ``nodes`` themselves when it may fold, else fresh copies linked by identity edges."""
        current = self.stage[nodes]
        ordered = (current <= _STAGE[stage]) if inclusive else (current < _STAGE[stage])
        if self._may_fold(node) and bool(ordered.all()):
            target = nodes
        else:
            target = self._nodes(nodes.numel(), copy_type, nodes)
            self.store.edges(nodes, target, "identity")
            feat = self._remap(feat, nodes, target)
        self.stage[target] = _STAGE[stage]
        return target, feat

    def _remap(self, feat: _Feat, old: torch.Tensor, new: torch.Tensor) -> _Feat:
        lookup = torch.full((self.store.num_nodes,), -1, dtype=torch.long)
        lookup[old] = new
        return _Feat(lookup[feat.owner], feat.site, feat.grid)

    def _channels(self, node: fx.Node, feat: _Feat, axis: int) -> torch.Tensor:
        """The nodes along ``axis`` of a value whose other dimensions do not change the node."""
        owner = feat.owner.movedim(axis, -1)
        rows = owner.reshape(-1, owner.shape[-1])
        channels = rows[0]
        if not bool((rows == channels).all()) or channels.unique().numel() != channels.numel():
            self._fail(node, f"its input does not hold one neuron/channel per index of dimension {axis}")
        return channels

    def _state(self, prefix: str, names) -> None:
        self.used.update(f"{prefix}.{n}" for n in names)

    def _module(self, target: str) -> nn.Module:
        module = self.module.get_submodule(target)
        if module.state_dict():
            if target in self.called:
                raise ValueError(f"to_graph: module {target!r} is called more than once (shared weights cannot be "
                                 "represented)")
            self.called.add(target)
        return module

    # ------------------------------------------------------------------ dispatch
    def _describe(self, node: fx.Node, real: Any) -> Any:
        if node.op == "placeholder":
            return _feat(self._nodes(real.shape[1], "input"), real, 1)
        if node.op == "get_attr":
            return _Const((node.target,))
        if node.op == "output":
            out = self.feats.get(node.args[0])
            if not isinstance(out, _Feat):
                self._fail(node, "the network must return one activation tensor")
            self.store.set(out.owner.unique(), "node_type", NODE_TYPES["output"])
            return out
        if self._is_meta(node):
            return None
        args = [self.feats.get(a) if isinstance(a, fx.Node) else None for a in node.args]
        if self._is_move(node):
            return self._move(node, args[0])
        if not any(isinstance(a, _Feat) for a in args) and not isinstance(real, (torch.Tensor, tuple)):
            return None
        if node.op == "call_module":
            return self._call_module(node, self._module(node.target), args[0], real)
        key = node.target
        if key in _ACTIVATION_FUNCTIONS or (node.op == "call_method" and key in _ACTIVATION_METHODS):
            name = _ACTIVATION_FUNCTIONS.get(key) or _ACTIVATION_METHODS[key]
            return self._activation(node, self._input(node, args), name)
        if key in _POOL_FUNCTIONS:
            size = node.args[1] if len(node.args) > 1 else node.kwargs.get("kernel_size", node.kwargs.get("output_size"))
            return self._pool(node, self._input(node, args), _POOL_FUNCTIONS[key], _side(self._real(size)), real)
        if key in _REDUCTIONS:
            return self._reduce(node, self._input(node, args), _REDUCTIONS[key], real)
        if key in _ADDS:
            return self._add(node, args, real)
        if key in _CATS:
            return self._cat(node, real)
        if key is F.scaled_dot_product_attention:
            return self._sdpa(node, args, real)
        return self._fail(node, "no parameter-graph rule for this operation")

    def _real(self, value):
        return self.env[value] if isinstance(value, fx.Node) else value

    def _input(self, node: fx.Node, args: list) -> _Feat:
        if not isinstance(args[0], _Feat):
            self._fail(node, "its input is not an activation of the network")
        return args[0]

    def _move(self, node: fx.Node, source: Any) -> Any:
        if node.op == "call_module" and isinstance(self.module.get_submodule(node.target), _PASS_MODULES) or \
                node.target in _PASS_FUNCTIONS:
            return source
        if isinstance(source, tuple):
            return source[self._real(node.args[1])]
        if isinstance(source, _Const) or source is None:
            return source
        rest = [self._real(a) for a in node.args[1:]]
        kwargs = {k: self._real(v) for k, v in node.kwargs.items()}
        if node.op == "call_method":
            return source.moved(lambda t: getattr(t, node.target)(*rest, **kwargs))
        if node.op == "call_module":
            return source.moved(self.module.get_submodule(node.target))
        return source.moved(lambda t: node.target(t, *rest, **kwargs))

    def _call_module(self, node: fx.Node, module: nn.Module, feat: Any, real: Any) -> Any:
        if type(module) in _ACTIVATION_MODULES:
            return self._activation(node, self._input(node, [feat]), _ACTIVATION_MODULES[type(module)])
        if type(module) in _POOL_MODULES:
            size = getattr(module, "kernel_size", getattr(module, "output_size", None))
            return self._pool(node, self._input(node, [feat]), _POOL_MODULES[type(module)], _side(size), real)
        feat = self._input(node, [feat])
        if isinstance(module, nn.Linear):
            ids = self._linear(node, feat, module.weight, module.bias)
            self._state(node.target, [n for n, p in module.named_parameters()])
            return _feat(ids, real, -1)
        if isinstance(module, nn.Conv2d):
            return self._conv(node, feat, module, real)
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)):
            return self._norm(node, feat, module)
        if isinstance(module, nn.MultiheadAttention):
            return self._multihead(node, module, real)
        return self._fail(node, "no parameter-graph rule for this module type")

    # ------------------------------------------------------------------ layers
    def _layer(self, sources: torch.Tensor, kernels: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """A layer of ``kernels.shape[0]`` new neurons, one weight edge from every source each."""
        n_out, n_in = kernels.shape[:2]
        out = self._nodes(n_out, "hidden", sources)
        o, i = torch.meshgrid(torch.arange(n_out), torch.arange(n_in), indexing="ij")
        self.store.edges(sources[i.reshape(-1)], out[o.reshape(-1)], "weight", kernels.reshape(-1, *kernels.shape[2:]))
        if bias is not None:
            self.store.set(out, "bias", bias)
        return out

    def _linear(self, node: fx.Node, feat: _Feat, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """A linear layer on the last dimension. Inputs that share a node (a flattened ``C x H x W`` map)
        become one edge per (node, neuron) carrying their weights as a kernel (``H x W`` on a full grid)."""
        owner = feat.owner.reshape(-1, feat.owner.shape[-1])
        site = feat.site.reshape(-1, feat.site.shape[-1])
        if not bool((owner == owner[0]).all()):
            self._fail(node, "its input mixes neurons along the non-feature dimensions")
        owner, site = owner[0], site[0]
        _, group, counts = torch.unique(owner, return_inverse=True, return_counts=True)
        if bool((counts != counts[0]).any()):
            self._fail(node, "its input features are spread unevenly over the input neurons/channels")
        k = int(counts[0])
        order = torch.argsort(group * (int(site.max()) + 1) + site, stable=True)
        sites = site[order].view(-1, k)
        gh, gw = feat.grid
        shape = (gh, gw) if k == gh * gw and bool((sites == torch.arange(k)).all()) else (1, k)
        kernels = weight[:, order].reshape(weight.shape[0], -1, *shape)
        return self._layer(owner[order][::k], kernels, bias)

    def _conv(self, node: fx.Node, feat: _Feat, conv: nn.Conv2d, real: torch.Tensor) -> _Feat:
        if conv.padding_mode != "zeros" or tuple(conv.dilation) != (1, 1):
            self._fail(node, "only zero-padded, undilated convolutions are supported")
        padding = conv.padding if not isinstance(conv.padding, str) else \
            ((0, 0) if conv.padding == "valid" else tuple(k // 2 for k in conv.kernel_size))
        if conv.stride[0] != conv.stride[1] or padding[0] != padding[1]:
            self._fail(node, "only equal strides and paddings along height and width are supported")
        channels = self._channels(node, feat, 1)
        n_out, per_group = conv.weight.shape[:2]
        out = self._nodes(n_out, "hidden", channels)
        o, j = torch.meshgrid(torch.arange(n_out), torch.arange(per_group), indexing="ij")
        source = (o // (n_out // conv.groups)) * per_group + j
        self.store.edges(channels[source.reshape(-1)], out[o.reshape(-1)], "weight",
                         conv.weight.reshape(-1, *conv.weight.shape[2:]))
        if conv.bias is not None:
            self.store.set(out, "bias", conv.bias)
        self.store.set(out, "stride", conv.stride[0])
        self.store.set(out, "padding", padding[0])
        self._state(node.target, [n for n, p in conv.named_parameters()])
        return _feat(out, real, 1)

    def _norm(self, node: fx.Node, feat: _Feat, norm: nn.Module) -> _Feat:
        if isinstance(norm, nn.LayerNorm):
            if tuple(norm.normalized_shape) != tuple(feat.owner.shape[-1:]):
                self._fail(node, "LayerNorm must normalise the last dimension only")
            axis, kind = -1, "layer"
        else:
            axis, kind = 1, "group" if isinstance(norm, nn.GroupNorm) else "batch"
        channels = self._channels(node, feat, axis)
        target, feat = self._target(node.args[0], feat, channels, "norm", "norm")
        self.store.set(target, "norm", NORM_CODES[kind])
        names = []
        for column, name in (("norm_weight", "weight"), ("norm_bias", "bias"), ("running_mean", "running_mean"),
                             ("running_var", "running_var")):
            tensor = getattr(norm, name, None)
            if tensor is not None:
                self.store.set(target, column, tensor)
                names.append(name)
        self._state(node.target, names)
        if kind == "group":
            groups = self._nodes(norm.num_groups, "group", target)
            self.store.edges(target, groups[torch.arange(target.numel()) // (target.numel() // norm.num_groups)],
                             "group")
        return feat

    def _activation(self, node: fx.Node, feat: _Feat, name: str) -> _Feat:
        target, feat = self._target(node.args[0], feat, feat.owner.unique(), "activation", "copy")
        self.store.set(target, "activation", ACTIVATION_CODES[name])
        return feat

    def _pool(self, node: fx.Node, feat: _Feat, kind: str, size: int, real: torch.Tensor) -> _Feat:
        if feat.owner.dim() != 4:
            self._fail(node, "2-D pooling needs an (N, C, H, W) input")
        target, _ = self._target(node.args[0], feat, self._channels(node, feat, 1), "pooling", "copy")
        self.store.set(target, "pooling", POOLING_CODES[kind])
        self.store.set(target, "pool_size", size)
        return _feat(target, real, 1)

    def _reduce(self, node: fx.Node, feat: _Feat, kind: str, real: torch.Tensor) -> _Feat:
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        keepdim = node.args[2] if len(node.args) > 2 else node.kwargs.get("keepdim", False)
        if dim is None:
            self._fail(node, "a reduction over every dimension mixes neurons")
        low, high = (torch.amin(feat.owner, dim=dim, keepdim=keepdim), torch.amax(feat.owner, dim=dim, keepdim=keepdim))
        if not torch.equal(low, high):
            self._fail(node, "it reduces over the neuron/channel dimension")
        reduced = _Feat(low, torch.zeros_like(low), (1, 1))
        target, reduced = self._target(node.args[0], reduced, low.unique(), "pooling", "copy")
        self.store.set(target, "pooling", POOLING_CODES[kind])
        self.store.set(target, "pool_size", 1)
        return reduced

    # ------------------------------------------------------------------ sums, concatenation, learned tensors
    def _add(self, node: fx.Node, args: list, real: torch.Tensor) -> _Feat:
        if node.kwargs.get("alpha", 1) != 1 or len(args) != 2:
            self._fail(node, "only a plain sum of two tensors is supported")
        feats = [a for a in args if isinstance(a, _Feat)]
        consts = [a for a in args if isinstance(a, _Const)]
        if len(feats) == 2:
            return self._residual(node, args, real)
        if len(feats) == 1 and len(consts) == 1:
            i = args.index(feats[0])
            learned = self.env[node.args[1 - i]]
            owner = self._broadcast_owner(node, feats[0].owner, learned)
            return self._inject(node, node.args[i], feats[0], learned, owner, consts[0], "embedding")[0]
        return self._fail(node, "it adds something that is neither an activation nor a learned tensor")

    def _broadcast_owner(self, node: fx.Node, owner: torch.Tensor, learned: torch.Tensor) -> torch.Tensor:
        """The node that each value of a learned tensor broadcast onto ``owner`` is added to."""
        shape = (1,) * (owner.dim() - learned.dim()) + tuple(learned.shape)
        for axis, size in enumerate(shape):
            if size == 1 and owner.shape[axis] > 1:
                first = owner.narrow(axis, 0, 1)
                if not bool((owner == first).all()):
                    self._fail(node, "a learned tensor is broadcast over the neuron/channel dimension")
                owner = first
        return owner.reshape(learned.shape)

    def _residual(self, node: fx.Node, args: list, real: torch.Tensor) -> _Feat:
        owners = torch.broadcast_tensors(args[0].owner, args[1].owner)
        keys = torch.unique(owners[0].reshape(-1) * self.store.num_nodes + owners[1].reshape(-1))
        pairs = torch.stack([keys // self.store.num_nodes, keys % self.store.num_nodes])
        if pairs[0].unique().numel() != pairs.shape[1] or pairs[1].unique().numel() != pairs.shape[1]:
            self._fail(node, "its operands do not pair neuron with neuron")
        foldable = [i for i in (0, 1) if self._may_fold(node.args[i])
                    and bool((self.stage[pairs[i]] <= _STAGE["sum"]).all())]
        if foldable:
            t = max(foldable, key=lambda i: (float(self.store.get(pairs[i], "layer").max()), -i))
            self.store.edges(pairs[1 - t], pairs[t], "residual")
            self.stage[pairs[t]] = _STAGE["sum"]
            site = torch.broadcast_tensors(args[t].site, owners[t])[0]
            return _Feat(owners[t].reshape(real.shape).contiguous(), site.reshape(real.shape).contiguous(),
                         args[t].grid)
        out = self._nodes(pairs.shape[1], "sum", pairs.reshape(-1))
        for i in (0, 1):
            self.store.edges(pairs[i], out, "residual")
        self.stage[out] = _STAGE["sum"]
        fresh = self._remap(_Feat(owners[0], owners[0], (1, 1)), pairs[0], out).owner
        return _Feat(fresh.reshape(real.shape).contiguous(), torch.zeros(real.shape, dtype=torch.long), (1, 1))

    def _inject(self, node: fx.Node, source: fx.Node, feat: _Feat, learned: torch.Tensor, owner: torch.Tensor,
                const: _Const, kind: str) -> tuple[_Feat, torch.Tensor]:
        """A learned tensor added to (``embedding``) or concatenated with (``token``) the channels it feeds:
        one node with an edge to each channel, carrying the channel's values. Returns ``feat`` (on copies
        of its nodes where they could not take the tensor) and the node of each value of the tensor."""
        channels, group, counts = torch.unique(owner.reshape(-1), return_inverse=True, return_counts=True)
        if bool((counts != counts[0]).any()):
            self._fail(node, "a learned tensor feeds the neurons unevenly")
        target, feat = self._target(source, feat, channels, "linear", "copy", inclusive=True)
        order = torch.argsort(group, stable=True)
        extra = self._nodes(1, kind, layer=float(self.store.get(target, "layer").min()))
        self.stage[extra] = _STAGE["final"]
        self.store.edges(extra.expand(target.numel()), target, kind,
                         learned.reshape(-1)[order].reshape(target.numel(), 1, int(counts[0])))
        self.used.update(const.names)
        return feat, self._remap(_Feat(owner, owner, (1, 1)), channels, target).owner

    def _cat(self, node: fx.Node, real: torch.Tensor) -> _Feat:
        parts = node.args[0]
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        feats = [self.feats.get(p) for p in parts]
        if all(isinstance(f, _Feat) for f in feats):
            self.shared[node] = list(parts)
            grids = {f.grid for f in feats}
            return _Feat(torch.cat([f.owner for f in feats], dim), torch.cat([f.site for f in feats], dim),
                         grids.pop() if len(grids) == 1 else (1, 1))
        learned = [i for i, f in enumerate(feats) if isinstance(f, _Const)]
        acts = [i for i, f in enumerate(feats) if isinstance(f, _Feat)]
        if len(acts) != 1 or len(learned) + 1 != len(parts):
            self._fail(node, "it concatenates learned tensors with more than one activation")
        (a,) = acts
        feat, pieces = feats[a], {}
        for i in learned:
            first = feat.owner.narrow(dim, 0, 1)
            if not bool((feat.owner == first).all()):
                self._fail(node, "it concatenates learned tensors along the neuron/channel dimension")
            value = self.env[parts[i]]
            feat, pieces[i] = self._inject(node, parts[a], feat, value, first.expand(value.shape), feats[i], "token")
        pieces[a] = feat.owner
        owner = torch.cat([pieces[i] for i in range(len(parts))], dim)
        return _Feat(owner, torch.zeros_like(owner), (1, 1))

    # ------------------------------------------------------------------ attention
    def _head_matrix(self, node: fx.Node, feat: _Feat) -> torch.Tensor:
        """``[heads, head_dim]`` nodes of a ``(N, ..., L, E)`` attention input (heads in the middle dims)."""
        rows = feat.owner.select(0, 0).movedim(-2, 0)
        if not bool((rows == rows[0]).all()):
            self._fail(node, "an attention input mixes neurons across tokens")
        matrix = rows[0].reshape(-1, rows.shape[-1])
        if matrix.unique().numel() != matrix.numel():
            self._fail(node, "an attention input repeats neurons")
        return matrix

    def _attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
        """Head nodes: every query, key and value neuron links to its head; query i links to key i."""
        heads = self._nodes(q.shape[0], "head", torch.cat([q.reshape(-1), k.reshape(-1), v.reshape(-1)]))
        for matrix, kind in ((q, "query"), (k, "key"), (v, "value")):
            self.store.edges(matrix.reshape(-1), heads.repeat_interleave(matrix.shape[1]), kind)
        self.store.edges(q.reshape(-1), k.reshape(-1), "query_key")
        self.stage[v.reshape(-1)] = _STAGE["final"]  # the attention output reuses the value neurons

    def _sdpa(self, node: fx.Node, args: list, real: torch.Tensor) -> _Feat:
        extra = dict(zip(("attn_mask", "dropout_p", "is_causal"), node.args[3:])) | dict(node.kwargs)
        if extra.get("attn_mask") is not None or extra.get("dropout_p", 0.0) or extra.get("is_causal", False) \
                or len(args) < 3 or not all(isinstance(a, _Feat) for a in args[:3]):
            self._fail(node, "only unmasked attention of three activations without dropout is supported")
        q, k, v = (self._head_matrix(node, f) for f in args[:3])
        if q.shape != k.shape or q.shape[0] != v.shape[0]:
            self._fail(node, "queries, keys and values have different head layouts")
        self._attention(q, k, v)
        value_rows = args[2].owner.select(0, 0).movedim(-2, 0)[0]
        owner = value_rows.unsqueeze(-2).unsqueeze(0).expand(real.shape).contiguous()
        return _Feat(owner, torch.zeros_like(owner), (1, 1))

    def _multihead(self, node: fx.Node, mha: nn.MultiheadAttention, real: tuple) -> tuple:
        masks = ("key_padding_mask", "attn_mask", "is_causal")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn or \
                any(node.kwargs.get(m) for m in masks) or len(node.args) > 3:
            self._fail(node, "only unmasked MultiheadAttention with a packed in-projection is supported")
        inputs = [self.feats.get(a) for a in node.args[:3]]
        if not all(isinstance(f, _Feat) for f in inputs):
            self._fail(node, "query, key and value must be activations of the network")
        weights = mha.in_proj_weight.chunk(3)
        biases = mha.in_proj_bias.chunk(3) if mha.in_proj_bias is not None else (None,) * 3
        q, k, v = (self._linear(node, f, w, b).view(mha.num_heads, -1) for f, w, b in zip(inputs, weights, biases))
        self._attention(q, k, v)
        out = self._layer(v.reshape(-1), mha.out_proj.weight[:, :, None, None], mha.out_proj.bias)
        self._state(node.target, [n for n, p in mha.named_parameters()])
        return _feat(out, real[0], -1), None


def trace_graph(module: nn.Module, store: GraphStore, input_shape: tuple[int, ...]) -> set[str]:
    """Build ``module``'s parameter graph in ``store`` from a ``torch.fx`` trace, run on one input of
    ``input_shape`` (without the batch dimension). Returns the state_dict names the graph holds;
    raises ``ValueError`` naming the traced node of an unsupported operation, or the state the
    forward pass never reads."""
    try:
        graph = fx.Tracer().trace(module)  # interpreted on ``module`` itself: no GraphModule codegen
    except Exception as e:  # torch.fx raises many types for untraceable code
        raise ValueError(f"to_graph: torch.fx cannot trace {type(module).__name__}: {e}") from e
    tracer = _Tracer(module, graph, store)
    reference = next((t for t in module.state_dict().values() if t.is_floating_point()), torch.zeros(()))
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            tracer.run(torch.zeros(1, *input_shape, dtype=reference.dtype))
    finally:
        module.train(training)
    floating = {n for n, t in module.state_dict().items() if t.is_floating_point()}
    unread = sorted(floating - tracer.used)
    if unread:
        raise ValueError(f"to_graph: the traced forward of {type(module).__name__} never reads {unread}; "
                         "its graph could not hold them")
    return tracer.used
