"""Graph Metanetwork (GMN, Lim et al., ICLR 2024): message passing over parameter graphs.

The input is the parameter graph of a network (:func:`gmn_bench.graphs.to_graph`). Each layer first
updates every edge from its own state and its two endpoints' states, then every node from its state
and the means of messages over its incoming and its outgoing edges (so information flows forwards
and backwards through the network). A mean+max pool over nodes gives a graph embedding, which is
standardized (below) and read out by an MLP: one prediction per graph. Every operation treats nodes
and edges alike, so relabelling the nodes of a graph (what a function-preserving permutation of hidden
neurons does) leaves the output unchanged.

Why the graph embedding is standardized: node states are layer-normalised, so the pooled embeddings of
all graphs sit near one common point. On the cifar10-bench zoo, at initialisation, each feature's mean
over graphs is about 0.86 in size while it varies across graphs by only 0.21 (0.05 for some features).
An MLP reading that embedding directly turns the spread into predictions that vary 13x less than the
targets, and Adam needs hundreds of steps to grow the readout's gain: predictions stayed nearly
constant and the GMN ranked below the weight-statistics baselines. Each feature of the embedding is
therefore shifted and scaled by a running mean and variance over training graphs
(:class:`~gmn_bench.metanets.layers.RunningStandardize`; BatchNorm here made validation R^2 swing by up to
0.25 between epochs), so the readout sees a unit spread from the first step.

Raw parameter values span orders of magnitude (a weight of 1e-3, a running variance of 1e2), so they
enter as ``asinh(value / weight_scale)`` (elementwise, sign-preserving, linear near zero and
logarithmic beyond) and every embedding is layer-normalised.

Cost grows with edges x hidden**2 (about 4 hidden**2 multiply-adds per edge and layer); reading the
input costs one pass over the weight values (a kernel of any size enters as a fixed-width edge feature).
Training memory grows with the edges of a batch (about 3 KB per edge at hidden 32, 3 layers: a batch of
32 of the default zoo's largest ResNets, 845k edges, needs 3 GB), so a training batch runs in parts of
at most ``max_batch_edges`` edges (:meth:`GMN.micro_batches`), which bounds a step's memory whatever
the batch holds. The split changes nothing but memory and speed (:meth:`GMN.accumulate_gradient`): the
running statistics of the embedding are updated once per step from the whole batch's embeddings
(computed first, part by part, without gradient), then every part is trained with them held, so the
step is the one a single forward and backward of the whole batch would take. The extra gradient-free
forward runs on split batches only (``benchmarks/gmn_training.py``: an epoch took 1.14x as long as with
the inexact split, one run on a loaded machine).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import MessagePassing, global_max_pool, global_mean_pool
from torch_geometric.utils import scatter

from ..graphs import (ACTIVATION_CODES, EDGE_TYPES, NODE_FEATURES, NODE_TYPES, NORM_CODES, PARAMETER_FEATURES,
                      POOLING_CODES, edge_kernel_grid, to_graph)
from .base import TorchMetanet
from .layers import RunningStandardize, mlp

_COL = {name: i for i, name in enumerate(NODE_FEATURES)}
_CODES = {"node_type": NODE_TYPES, "activation": ACTIVATION_CODES, "pooling": POOLING_CODES, "norm": NORM_CODES}
_SIZES = ("stride", "padding", "pool_size")
_NODE_IN = len(PARAMETER_FEATURES) + sum(map(len, _CODES.values())) + 1 + len(_SIZES)


def _mlp(n_in: int, hidden: int, n_out: int | None = None) -> nn.Sequential:
    return mlp(n_in, hidden, n_out or hidden, activation=nn.SiLU)


def _one_hot(values: torch.Tensor, n: int, like: torch.Tensor) -> torch.Tensor:
    return nn.functional.one_hot(values.long(), n).to(like.dtype)


class _Messages(MessagePassing):
    """For every node, the mean over its incoming edges of ``MLP(source state, edge state)``.

    Computed cheaply but exactly: the MLP's first layer is split by input, so the source term is
    computed once per node, and its last (linear) layer is applied after the mean, which it commutes with.
    """

    def __init__(self, hidden: int):
        super().__init__(aggr="mean")
        self.source = nn.Linear(hidden, hidden)
        self.edge = nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.propagate(edge_index, s=self.source(h), e=e)

    def message(self, s_j: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(s_j + self.edge(e))

    def update(self, aggr_out: torch.Tensor) -> torch.Tensor:
        return self.out(aggr_out)


class _GMNLayer(MessagePassing):
    """Edge update ``MLP(source, target, edge)``, then node update from (node, incoming, outgoing messages)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.edge_source = nn.Linear(hidden, hidden)
        self.edge_target = nn.Linear(hidden, hidden, bias=False)
        self.edge_self = nn.Linear(hidden, hidden, bias=False)
        self.edge_out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden))
        self.incoming, self.outgoing = _Messages(hidden), _Messages(hidden)
        self.node_mlp = _mlp(3 * hidden, hidden)
        self.edge_norm, self.node_norm = nn.LayerNorm(hidden), nn.LayerNorm(hidden)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        update = self.edge_updater(edge_index, s=self.edge_source(h), t=self.edge_target(h), e=e)
        e = self.edge_norm(e + update)
        messages = [self.incoming(h, edge_index, e), self.outgoing(h, edge_index.flip(0), e)]
        h = self.node_norm(h + self.node_mlp(torch.cat([h, *messages], dim=-1)))
        return h, e

    def edge_update(self, s_j: torch.Tensor, t_i: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.edge_out(s_j + t_i + self.edge_self(e))


class GMN(TorchMetanet):
    """Graph Metanetwork over :func:`gmn_bench.graphs.to_graph` parameter graphs.

    ``out_dim`` outputs per graph; ``hidden`` node/edge state width; ``layers`` message-passing layers;
    ``max_kernel`` the side of the grid edge kernels are read in (:func:`gmn_bench.graphs.edge_kernel_grid`:
    smaller kernels centred exactly, larger ones such as an MLP's ``32 x 32`` input kernels block-averaged,
    with each edge's root-mean-square value and kernel size beside them); ``weight_scale`` the value
    scale of the ``asinh`` input squashing.
    """

    name = "gmn"
    max_batch_edges = 2**15  # bounds a training step's memory (about 0.3 GB); parts this small are also faster
    default_epochs = 20  # about 11 s per epoch on the 728 training graphs of the default zoo (one CPU thread)

    def __init__(self, out_dim: int = 1, hidden: int = 32, layers: int = 3, max_kernel: int = 5,
                 weight_scale: float = 0.01):
        if max_kernel < 1 or max_kernel % 2 == 0:
            raise ValueError(f"GMN: max_kernel must be a positive odd integer, got {max_kernel}")
        super().__init__(out_dim=out_dim, hidden=hidden, layers=layers, max_kernel=max_kernel,
                         weight_scale=weight_scale)
        self.max_kernel, self.weight_scale = max_kernel, weight_scale
        self.node_embed = nn.Sequential(_mlp(_NODE_IN, hidden), nn.LayerNorm(hidden))
        self.edge_embed = nn.Sequential(_mlp(max_kernel ** 2 + len(EDGE_TYPES) + 3, hidden), nn.LayerNorm(hidden))
        self.layers = nn.ModuleList(_GMNLayer(hidden) for _ in range(layers))
        self.standardize = RunningStandardize(2 * hidden)
        self.readout = _mlp(2 * hidden, hidden, out_dim)

    def featurize(self, row: Mapping[str, Any]) -> Data:
        """The parameter graph of a zoo row (values are squashed inside :meth:`forward`)."""
        return to_graph(row)

    def micro_batches(self, batch: Batch) -> list[Batch]:
        """``batch`` as consecutive groups of graphs of at most ``max_batch_edges`` edges each (a larger
        graph alone); one part when the batch fits."""
        if batch.num_edges <= self.max_batch_edges:
            return [batch]
        parts: list[list[Data]] = [[]]
        edges = 0
        for graph in batch.to_data_list():
            if parts[-1] and edges + graph.num_edges > self.max_batch_edges:
                parts.append([])
                edges = 0
            parts[-1].append(graph)
            edges += graph.num_edges
        return [Batch.from_data_list(part) for part in parts]

    def accumulate_gradient(self, batch: Batch, loss, device: str = "cpu") -> None:
        """The whole batch's gradient and running-statistics update (see the module docstring), in parts of
        at most ``max_batch_edges`` edges; ``loss(outputs, targets)`` as in
        :meth:`TorchMetanet.accumulate_gradient <gmn_bench.metanets.TorchMetanet.accumulate_gradient>`."""
        parts = [part.to(device) for part in self.micro_batches(batch)]  # inputs only: small beside activations
        split = len(parts) > 1 and self.standardize.training
        if split:
            with torch.no_grad():
                self.standardize.update(torch.cat([self.embed(part) for part in parts]))
            self.standardize.eval()  # applies the statistics just set, without updating them again
        try:
            self._backward_parts(parts, len(batch.y), loss, device)
        finally:
            if split:
                self.standardize.train()

    def _squash(self, values: torch.Tensor) -> torch.Tensor:
        return torch.asinh(values / self.weight_scale)

    def _node_inputs(self, x: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        layer = x[:, _COL["layer"]]
        depth = layer / scatter(layer, batch, reduce="max").clamp(min=1)[batch]
        return torch.cat([
            self._squash(x[:, [_COL[c] for c in PARAMETER_FEATURES]]),
            *(_one_hot(x[:, _COL[column]], len(codes), x) for column, codes in _CODES.items()),
            depth[:, None], torch.log2(1 + x[:, [_COL[c] for c in _SIZES]]),
        ], dim=-1)

    def _edge_inputs(self, data: Data) -> torch.Tensor:
        values = self._squash(data.weight_values)
        counts = data.edge_kernel.long().prod(dim=1)
        edge_of = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
        rms = scatter(values * values, edge_of, dim_size=counts.numel(), reduce="mean").sqrt()
        return torch.cat([
            edge_kernel_grid(data, self.max_kernel, values), rms[:, None],
            _one_hot(data.edge_type, len(EDGE_TYPES), values),
            torch.log2(1 + data.edge_kernel.to(values.dtype)),
        ], dim=-1)

    def forward(self, batch: Data) -> torch.Tensor:
        """``[num_graphs, out_dim]`` predictions for a ``Batch`` (or a single ``Data``) of parameter graphs."""
        return self.readout(self.standardize(self.embed(batch)))

    def embed(self, batch: Data) -> torch.Tensor:
        """``[num_graphs, 2 * hidden]`` graph embeddings (mean and max pool of the node states) before
        they are standardized."""
        index = batch.batch if getattr(batch, "batch", None) is not None else \
            torch.zeros(batch.num_nodes, dtype=torch.long, device=batch.x.device)
        h = self.node_embed(self._node_inputs(batch.x, index))
        e = self.edge_embed(self._edge_inputs(batch))
        edge_index = batch.edge_index.long()  # stored as int32
        for layer in self.layers:
            h, e = layer(h, edge_index, e)
        return torch.cat([global_mean_pool(h, index), global_max_pool(h, index)], dim=-1)
