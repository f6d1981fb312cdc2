"""The parameter-graph format: feature columns and codes, the node/edge store, and kernel views.

Nodes (``data.x``, one row of :data:`NODE_FEATURES` per node)
    * ``input``: one per input channel (3 for a CIFAR-10 image);
    * ``hidden``: one per output neuron of a linear layer / output channel of a conv (a network's
      last layer gives ``output`` nodes instead);
    * ``norm`` / ``copy`` / ``sum``: the channels after a normalisation, an activation or pooling,
      or a residual sum that could not be folded into the nodes they act on (because those nodes'
      value is also read elsewhere, e.g. a pre-norm transformer's residual stream), linked to them by
      ``identity`` or ``residual`` edges;
    * ``head``: one per attention head; ``group``: one per GroupNorm group;
    * ``embedding``: one per learned tensor added to activations (a ViT's positional embedding);
      ``token``: one per learned tensor concatenated to them (a ViT's ``cls`` token).

    ``layer`` is the node's depth (longest path from the inputs). Biases, norm scale/shift and
    BatchNorm running statistics are features of the neuron they act on (0, 1, 0, 0, 1 when absent);
    ``norm`` (:data:`NORM_CODES`), ``activation`` (:data:`ACTIVATION_CODES`), ``pooling``
    (:data:`POOLING_CODES`) and ``pool_size`` (window side; output side of adaptive pooling)
    describe what happens to the value after the layer, in that order (bias, norm, residual sum,
    activation, pooling); ``stride`` and ``padding`` are those of the conv that produced the node.

Edges (``data.edge_index`` source -> target, int32; ``data.edge_type`` one of :data:`EDGE_TYPES`)
    * ``weight``: one per (input, output) neuron pair of a linear layer, one per (input channel,
      output channel) pair of a conv (respecting ``groups``: a depthwise conv has one edge per
      channel), carrying its ``kh x kw`` kernel. A linear layer on a flattened ``C x H x W`` map is
      exactly an ``H x W`` convolution, so it gets one edge per (channel, neuron) carrying an
      ``H x W`` kernel (an MLP on a CIFAR image: 3 input nodes, ``3 * width`` first-layer edges);
    * ``residual`` (operand -> sum) and ``identity`` (value -> its norm/activation copy): no weight;
    * ``query`` / ``key`` / ``value``: from every query/key/value neuron to its head's node, and
      ``query_key`` from query neuron ``i`` to key neuron ``i`` of the same head: no weight. Heads
      are known only through this structure, so permuting heads gives an isomorphic graph;
    * ``group``: channel -> its GroupNorm group node, no weight;
    * ``embedding`` / ``token``: from the learned tensor's node to every channel it feeds, carrying
      that channel's values (``1 x K``).

Weights are stored compactly: ``data.edge_kernel[e] = (kh, kw)`` (int16; ``(0, 0)`` for a
weightless edge) and ``data.weight_values`` holds every edge's ``kh * kw`` values, edge after edge
(row-major). Graphs of any architecture batch with ``torch_geometric.loader.DataLoader``.
:func:`edge_kernel_grid` gives a fixed-width ``[edges, side * side]`` view for models.
``data.family`` holds the architecture family.
"""
from __future__ import annotations

import torch
from torch_geometric.data import Data

NODE_FEATURES = ("layer", "node_type", "bias", "norm_weight", "norm_bias", "running_mean", "running_var", "norm",
                 "activation", "pooling", "pool_size", "stride", "padding")
PARAMETER_FEATURES = ("bias", "norm_weight", "norm_bias", "running_mean", "running_var")
NODE_TYPES = {name: i for i, name in enumerate(
    ("input", "hidden", "output", "norm", "copy", "sum", "head", "group", "embedding", "token"))}
EDGE_TYPES = {name: i for i, name in enumerate(
    ("weight", "residual", "identity", "query", "key", "value", "query_key", "group", "embedding", "token"))}
ACTIVATION_CODES = {name: i for i, name in enumerate(
    ("none", "relu", "gelu", "tanh", "silu", "sigmoid", "relu6", "leaky_relu", "elu", "hardswish", "softplus"))}
POOLING_CODES = {name: i for i, name in enumerate(("none", "max", "avg", "adaptive_max", "adaptive_avg"))}
NORM_CODES = {name: i for i, name in enumerate(("none", "batch", "layer", "group"))}
COLUMN = {name: i for i, name in enumerate(NODE_FEATURES)}
_DEFAULTS = {"norm_weight": 1.0, "running_var": 1.0}
_MAX_SIDE = torch.iinfo(torch.int16).max


class GraphStore:
    """Growing node and edge storage of one parameter graph (``dtype``: that of every value)."""

    def __init__(self, dtype: torch.dtype = torch.float32):
        self.dtype = dtype
        self._x = torch.zeros(64, len(NODE_FEATURES), dtype=dtype)
        self.num_nodes = 0
        self._src, self._dst, self._types, self._kernels, self._values = [], [], [], [], []

    @property
    def x(self) -> torch.Tensor:
        """The node feature rows so far (a view: writes go to the store)."""
        return self._x[:self.num_nodes]

    def add_nodes(self, count: int, node_type: str, layer: float) -> torch.Tensor:
        """Add ``count`` nodes of ``node_type`` at depth ``layer``; return their ids."""
        while self.num_nodes + count > self._x.shape[0]:
            self._x = torch.cat([self._x, torch.zeros_like(self._x)])
        ids = torch.arange(self.num_nodes, self.num_nodes + count)
        self.num_nodes += count
        rows = self._x[ids[0]:ids[-1] + 1] if count else self._x[:0]
        rows[:, COLUMN["layer"]] = layer
        rows[:, COLUMN["node_type"]] = NODE_TYPES[node_type]
        for column, value in _DEFAULTS.items():
            rows[:, COLUMN[column]] = value
        return ids

    def set(self, ids: torch.Tensor, column: str, values) -> None:
        """Set feature ``column`` of nodes ``ids`` (a number or one value per node)."""
        self._x[ids, COLUMN[column]] = torch.as_tensor(values, dtype=self.dtype).detach() if torch.is_tensor(values) \
            else float(values)

    def get(self, ids: torch.Tensor, column: str) -> torch.Tensor:
        return self._x[ids, COLUMN[column]]

    def edges(self, src: torch.Tensor, dst: torch.Tensor, edge_type: str, kernels: torch.Tensor | None = None) -> None:
        """Edges ``src[i] -> dst[i]``; ``kernels`` (``[edges, kh, kw]``) their weights, or none (weightless)."""
        n = src.numel()
        self._src.append(src.reshape(-1))
        self._dst.append(dst.reshape(-1))
        self._types.append(torch.full((n,), EDGE_TYPES[edge_type], dtype=torch.uint8))
        if kernels is None:
            self._kernels.append(torch.zeros(n, 2, dtype=torch.int16))
            return
        kh, kw = kernels.shape[1:]
        if max(kh, kw) > _MAX_SIDE:
            raise ValueError(f"parameter graph: a {kh}x{kw} kernel exceeds the format's largest side {_MAX_SIDE}")
        self._kernels.append(torch.tensor([[kh, kw]], dtype=torch.int16).expand(n, 2))
        self._values.append(kernels.detach().reshape(-1).to(self.dtype))

    def data(self, family: str) -> Data:
        if self.num_nodes >= 2**31:
            raise ValueError(f"parameter graph: {self.num_nodes} nodes do not fit int32 edge indices")
        edge_index = torch.stack([_cat(self._src, (0,), torch.long), _cat(self._dst, (0,), torch.long)])
        return Data(x=self.x.clone(), edge_index=edge_index.to(torch.int32),
                    edge_type=_cat(self._types, (0,), torch.uint8), edge_kernel=_cat(self._kernels, (0, 2), torch.int16),
                    weight_values=_cat(self._values, (0,), self.dtype), num_nodes=self.num_nodes, family=family)


def _cat(parts: list[torch.Tensor], empty_shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    return torch.cat(parts) if parts else torch.zeros(empty_shape, dtype=dtype)


def edge_kernel_grid(data: Data, side: int, values: torch.Tensor | None = None) -> torch.Tensor:
    """``[num_edges, side * side]`` view of every edge's kernel in a ``side x side`` grid.

    A kernel no larger than the grid is centred in it, exactly (a ``3x3`` kernel is the centre of the
    equivalent ``5x5`` one; a linear weight is its centre value); a larger one (a linear layer on a
    flattened ``32x32`` map) is averaged over ``side x side`` blocks of its rows and columns. Weightless
    edges are all zeros. ``values`` (default ``data.weight_values``) may be any per-value transform of them.
    """
    values = data.weight_values if values is None else values
    kernel = data.edge_kernel.long()
    kh, kw = kernel[:, 0], kernel[:, 1]
    counts = kh * kw
    num_edges = kernel.shape[0]
    edge_of = torch.repeat_interleave(torch.arange(num_edges, device=kernel.device), counts)
    if edge_of.numel() != values.numel():
        raise ValueError(f"edge_kernel_grid: edge_kernel implies {edge_of.numel()} weight values, "
                         f"got {values.numel()}")
    j = torch.arange(edge_of.numel(), device=kernel.device) - (torch.cumsum(counts, 0) - counts)[edge_of]
    h, w = kh[edge_of], kw[edge_of]
    row = torch.where(h <= side, j // w + (side - h) // 2, (j // w) * side // h)
    col = torch.where(w <= side, j % w + (side - w) // 2, (j % w) * side // w)
    slot = edge_of * side * side + row * side + col
    total = values.new_zeros(num_edges * side * side).index_add_(0, slot, values)
    count = values.new_zeros(num_edges * side * side).index_add_(0, slot, torch.ones_like(values))
    return (total / count.clamp(min=1)).reshape(num_edges, side * side)
