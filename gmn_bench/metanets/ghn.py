"""A GHN-2-style graph hypernetwork (Knyazev et al., 2021) on torch-geometric.

* **Graph.** :func:`computational_graph` traces ``build_model(spec)`` with ``torch.fx``: one node
  per tensor operation (convolutions, linear layers, norms, activations, pooling, additions,
  attention, reshapes, learned embeddings), edges along the data flow. Node features: the op
  type (one-hot), the log of its output shape and of its weight's shape.
* **GHN-2 improvements.** Virtual edges join every pair of nodes within shortest-path distance
  ``max_distance`` (edge feature ``1/distance``, forward and backward directions marked);
  predicted weights are normalised by fan-in (``w / sqrt(fan_in)``), norm scales pass through
  ``2 * sigmoid``; training draws several architectures per step (meta-batch).
* **Propagation.** ``layers`` rounds of gated message passing (messages from an MLP of the sender
  and the edge, a GRU cell updates each node; GGNN-style) with layer normalisation.
* **Decoding.** One shared decoder maps a node embedding to a fixed ``dmax x dmax x kernel x
  kernel`` tensor, sliced and tiled to each weight's shape (linear weights read it as
  ``dmax x dmax*kernel*kernel``); a second decoder gives biases and norm parameters (length
  ``dmax``, tiled).

:func:`train_ghn` fits it by running the networks with the predicted parameters
(``torch.func.functional_call``) on CIFAR-10 images, with the cross-entropy gradient flowing into
the hypernetwork. Unlike the scalar-task metanets (``featurize(row)`` / ``forward(batch)`` ->
``[num_graphs, out_dim]``), a hypernetwork maps architectures to parameters: ``GHN.forward(specs)``
returns one differentiable ``name -> tensor`` dict per spec and ``GHN.predict(spec)`` a detached one.

:func:`predict_parameters` gives any fx-traceable CIFAR-10 module a full ``state_dict`` from a GHN,
by default the one that ships with the package (:meth:`GHN.from_pretrained`, trained by
``scripts/train_pretrained_ghn.py``; its ``metanet.json`` records how and its measured quality).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path
from torch import fx, nn
from torch.func import functional_call
from torch.fx.passes.shape_prop import ShapeProp
from torch_geometric.data import Batch, Data
from torch_geometric.nn import MessagePassing
from tqdm.auto import tqdm

from ..nets.architectures import IMAGE_SHAPE, build_model, spec_to_json, validate_spec
from ..nets.cifar import normalize
from ..nets.training import augment
from .base import WEIGHTS_FILE, read_metanet_file, save_metanet

OP_TYPES = ("input", "output", "conv", "linear", "batchnorm", "layernorm", "relu", "gelu", "tanh", "silu",
            "maxpool", "avgpool", "identity", "add", "cat", "attention", "mean", "reshape", "embedding", "other")
_MODULE_OPS = {nn.Conv2d: "conv", nn.Linear: "linear", nn.BatchNorm2d: "batchnorm", nn.LayerNorm: "layernorm",
               nn.ReLU: "relu", nn.GELU: "gelu", nn.Tanh: "tanh", nn.SiLU: "silu", nn.MaxPool2d: "maxpool",
               nn.AvgPool2d: "avgpool", nn.Identity: "identity"}
_FUNCTION_OPS = {"add": "add", "iadd": "add", "cat": "cat", "scaled_dot_product_attention": "attention",
                 "relu": "relu", "gelu": "gelu", "mean": "mean", "flatten": "reshape", "view": "reshape",
                 "reshape": "reshape", "transpose": "reshape", "expand": "reshape", "getitem": "reshape"}
_ROLES = ("bias", "norm_weight", "norm_bias")
_LOG_SCALE = math.log(4096.0)
N_FEATURES = len(OP_TYPES) + 3 + 4


@dataclass(frozen=True)
class ParamSlot:
    """Where a parameter comes from: its name, the graph node that predicts it, its kind and shape."""

    name: str
    node: int
    kind: str  # "matrix" | "embedding" | one of _ROLES
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ArchGraph:
    """The computational graph of one architecture (a PyG ``Data``) and its parameter slots."""

    spec: dict
    data: Data
    slots: tuple[ParamSlot, ...]


def _log_dims(shape: Sequence[int], n: int) -> list[float]:
    dims = [math.log(d) / _LOG_SCALE for d in list(shape)[:n]]
    return dims + [0.0] * (n - len(dims))


def _op_of(node: fx.Node, modules: Mapping[str, nn.Module]) -> str:
    if node.op in ("placeholder", "output"):
        return {"placeholder": "input", "output": "output"}[node.op]
    if node.op == "get_attr":
        return "embedding"
    if node.op == "call_module":
        return _MODULE_OPS.get(type(modules[node.target]), "other")
    return _FUNCTION_OPS.get(getattr(node.target, "__name__", str(node.target)), "other")


def _slots_of(node: fx.Node, index: int, op: str, modules, params) -> list[ParamSlot]:
    if node.op == "get_attr":
        return [ParamSlot(node.target, index, "embedding", tuple(params[node.target].shape))]
    if node.op != "call_module":
        return []
    slots = []
    for pname, p in modules[node.target].named_parameters():  # a leaf module's submodules included
        if p.dim() >= 2:
            kind = "matrix"
        elif op in ("batchnorm", "layernorm"):
            kind = "norm_weight" if pname.endswith("weight") else "norm_bias"
        else:
            kind = "bias"
        slots.append(ParamSlot(f"{node.target}.{pname}", index, kind, tuple(p.shape)))
    return slots


def _out_shape(node: fx.Node) -> tuple[int, ...] | None:
    """The traced output shape of ``node`` without the batch dimension (a tuple output: its first
    tensor's); ``None`` for shape plumbing."""
    meta = node.meta.get("tensor_meta")
    for candidate in (meta, *(meta if isinstance(meta, (tuple, list)) else ())):
        if hasattr(candidate, "shape"):
            return tuple(candidate.shape[1:])
    return None


def computational_graph(spec: Mapping[str, Any] | str, max_distance: int = 50) -> ArchGraph:
    """Trace ``build_model(spec)`` into an :class:`ArchGraph` (see :func:`module_graph`)."""
    spec = validate_spec(spec)
    return module_graph(build_model(spec), max_distance, spec)


def module_graph(module: nn.Module, max_distance: int = 50, spec: Mapping[str, Any] | None = None) -> ArchGraph:
    """Trace a CIFAR-10 network (``N x 3 x 32 x 32`` images in) with ``torch.fx`` into an
    :class:`ArchGraph`: nodes are tensor operations (shape plumbing such as ``x.shape`` dropped),
    real edges follow the data flow and virtual edges join nodes within ``max_distance`` hops;
    ``edge_attr = [1/distance, forward, backward]``. Raises ``ValueError`` when the module cannot be
    traced or a parameter is used by no traced operation."""
    module = copy.deepcopy(module).eval()
    try:
        traced = fx.symbolic_trace(module)
        ShapeProp(traced).propagate(torch.zeros(1, *IMAGE_SHAPE))
    except Exception as e:  # fx raises many kinds (TraceError, TypeError, RuntimeError) on untraceable code
        raise ValueError(f"cannot trace {type(module).__name__} with torch.fx: {e}") from e
    modules, params = dict(traced.named_modules()), dict(module.named_parameters())
    kept = [n for n in traced.graph.nodes if n.op in ("placeholder", "output") or _out_shape(n) is not None]
    index = {n: i for i, n in enumerate(kept)}
    features, slots, src, dst = [], [], [], []
    for i, node in enumerate(kept):
        op = _op_of(node, modules)
        out_shape = _out_shape(node) or ()
        node_slots = _slots_of(node, i, op, modules, params)
        weight_shape = node_slots[0].shape if node_slots else ()
        features.append([float(op == t) for t in OP_TYPES] + _log_dims(out_shape, 3) + _log_dims(weight_shape, 4))
        slots += node_slots
        for parent in node.all_input_nodes:
            if parent in index:
                src.append(index[parent])
                dst.append(i)
    unreached = sorted(set(params) - {s.name for s in slots})
    if unreached:
        raise ValueError(f"{type(module).__name__}: parameters {unreached} are used by no traced operation; "
                         "the GHN cannot predict them")
    n = len(kept)
    hops = shortest_path(coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr(), unweighted=True)
    u, v = np.nonzero(np.isfinite(hops) & (hops > 0) & (hops <= max_distance))
    inv = torch.tensor(1.0 / hops[u, v], dtype=torch.float32)
    edge_index = torch.tensor(np.concatenate([np.stack([u, v]), np.stack([v, u])], axis=1), dtype=torch.long)
    direction = torch.cat([torch.tensor([[1.0, 0.0]]).expand(len(u), 2), torch.tensor([[0.0, 1.0]]).expand(len(u), 2)])
    data = Data(x=torch.tensor(features, dtype=torch.float32), edge_index=edge_index,
                edge_attr=torch.cat([torch.cat([inv, inv])[:, None], direction], dim=1))
    return ArchGraph(dict(spec) if spec is not None else {}, data, tuple(slots))


class _GatedLayer(MessagePassing):
    """Messages ``MLP([h_sender, edge])`` averaged per receiver, then a GRU update of the receiver."""

    def __init__(self, hidden: int):
        super().__init__(aggr="mean")
        self.message_mlp = nn.Sequential(nn.Linear(hidden + 3, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, h, edge_index, edge_attr, gru: nn.GRUCell):
        return gru(self.propagate(edge_index, h=h, edge_attr=edge_attr), h)

    def message(self, h_j, edge_attr):
        return self.message_mlp(torch.cat([h_j, edge_attr], dim=1))


def _fit(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """Tile ``tensor`` along each dimension to cover ``shape`` and slice it to exactly ``shape``."""
    reps = [math.ceil(s / t) for s, t in zip(shape, tensor.shape)]
    return tensor.repeat(*reps)[tuple(slice(0, s) for s in shape)]


class GHN(nn.Module):
    """Graph hypernetwork: architecture spec -> full parameter set of ``build_model(spec)``."""

    name = "ghn2"

    def __init__(self, hidden: int = 64, layers: int = 3, max_distance: int = 50, dmax: int = 32, kernel: int = 3):
        super().__init__()
        self._hparams = dict(hidden=hidden, layers=layers, max_distance=max_distance, dmax=dmax, kernel=kernel)
        self.dmax, self.kernel = dmax, kernel
        self.encoder = nn.Sequential(nn.Linear(N_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.layers = nn.ModuleList(_GatedLayer(hidden) for _ in range(layers))
        self.gru = nn.GRUCell(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.matrix_decoder = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                            nn.Linear(2 * hidden, dmax * dmax * kernel * kernel))
        self.vector_decoder = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                            nn.Linear(2 * hidden, len(_ROLES) * dmax))
        self._graphs: dict[str, ArchGraph] = {}

    def hparams(self) -> dict:
        """JSON-able constructor kwargs."""
        return dict(self._hparams)

    def graph(self, spec: Mapping[str, Any] | str) -> ArchGraph:
        """The (cached) computational graph of ``spec``."""
        key = spec_to_json(spec)
        if key not in self._graphs:
            self._graphs[key] = computational_graph(key, self._hparams["max_distance"])
        return self._graphs[key]

    def forward(self, specs: Sequence[Mapping[str, Any] | str]) -> list[dict[str, torch.Tensor]]:
        """Predicted parameters (``name -> tensor``, differentiable) for each spec, batched in one pass."""
        return self.predict_graphs([self.graph(s) for s in specs])

    def predict_graphs(self, graphs: Sequence[ArchGraph]) -> list[dict[str, torch.Tensor]]:
        """Predicted parameters (differentiable) of each :class:`ArchGraph`, batched in one pass."""
        batch = Batch.from_data_list([g.data for g in graphs])
        h = self.encoder(batch.x)
        for layer in self.layers:
            h = self.norm(h + layer(h, batch.edge_index, batch.edge_attr, self.gru))
        slots = [(i, offset + s.node, s) for i, (g, offset) in enumerate(zip(graphs, batch.ptr.tolist())) for s in g.slots]
        matrix_nodes = sorted({node for _, node, s in slots if s.kind not in _ROLES})
        vector_nodes = sorted({node for _, node, s in slots if s.kind in _ROLES})
        matrices = dict(zip(matrix_nodes, self.matrix_decoder(h[matrix_nodes]).view(
            -1, self.dmax, self.dmax, self.kernel, self.kernel)))
        vectors = dict(zip(vector_nodes, self.vector_decoder(h[vector_nodes]).view(-1, len(_ROLES), self.dmax)))
        out = [{} for _ in graphs]
        for i, node, s in slots:
            out[i][s.name] = self._decode(s, matrices[node] if s.kind not in _ROLES else vectors[node])
        return out

    def _decode(self, slot: ParamSlot, decoded: torch.Tensor) -> torch.Tensor:
        """Slice/tile the decoded tensor to the slot's shape and normalise it (GHN-2 style)."""
        if slot.kind in _ROLES:
            raw = _fit(decoded[_ROLES.index(slot.kind)], slot.shape)
            return 2 * torch.sigmoid(raw) if slot.kind == "norm_weight" else 0.1 * torch.tanh(raw)
        if len(slot.shape) == 4:
            return _fit(decoded, slot.shape) / math.sqrt(math.prod(slot.shape[1:]))
        flat = decoded.reshape(self.dmax, -1)
        rows, cols = math.prod(slot.shape[:-1]), slot.shape[-1]
        weight = _fit(flat, (rows, cols)).reshape(slot.shape)
        return 0.1 * weight if slot.kind == "embedding" else weight / math.sqrt(cols)

    @torch.no_grad()
    def predict(self, spec: Mapping[str, Any] | str) -> dict[str, torch.Tensor]:
        """Detached predicted parameters of one architecture (loadable with ``strict=False``:
        BatchNorm statistics are not predicted)."""
        return {k: v.detach().clone() for k, v in self([spec])[0].items()}

    def save(self, folder: str | Path, **metadata: Any) -> Path:
        """Write ``<folder>/weights.safetensors`` and ``<folder>/metanet.json`` (as
        :meth:`~gmn_bench.metanets.base.TorchMetanet.save`); returns ``folder``."""
        return save_metanet(self, folder, **metadata)

    @classmethod
    def load(cls, folder: str | Path) -> "GHN":
        """The GHN saved in ``folder`` by :meth:`save`, in eval mode."""
        document = read_metanet_file(folder)
        if document["name"] != cls.name:
            raise ValueError(f"{folder}: holds metanet {document['name']!r}, not {cls.name!r}")
        ghn = cls(**document["hparams"])
        ghn.load_state_dict(load_file(str(Path(folder) / WEIGHTS_FILE)))
        return ghn.eval()

    @classmethod
    def from_pretrained(cls) -> "GHN":
        """The GHN trained for CIFAR-10 that ships with gmn-bench (offline; what it was trained on,
        for how long and its measured quality: ``metanet.json`` of :data:`PRETRAINED`)."""
        return cls.load(PRETRAINED)


PRETRAINED = Path(__file__).resolve().parent / "pretrained" / "ghn2-cifar10"
"""Folder of the shipped GHN: ``weights.safetensors`` and ``metanet.json`` (hparams, training record)."""


def predict_parameters(module: nn.Module, ghn: GHN | None = None) -> dict[str, torch.Tensor]:
    """A ``state_dict`` for ``module`` (a CIFAR-10 network: ``N x 3 x 32 x 32`` images in, traceable
    by ``torch.fx``) with every parameter predicted by ``ghn`` (default :meth:`GHN.from_pretrained`)
    and the module's own buffers (BatchNorm statistics are not predicted: re-estimate them, e.g.
    with :func:`gmn_bench.tasks.parameter_prediction.recompute_batchnorm`). ``module`` is not changed."""
    ghn = GHN.from_pretrained() if ghn is None else ghn
    with torch.no_grad():
        predicted = ghn.predict_graphs([module_graph(module, ghn.hparams()["max_distance"])])[0]
    return {k: predicted[k].detach().clone() if k in predicted else v.detach().clone()
            for k, v in module.state_dict().items()}


def train_ghn(ghn: GHN, specs: Sequence[Mapping[str, Any]], images: torch.Tensor, labels: torch.Tensor,
              steps: int = 300, meta_batch: int = 4, batch_size: int = 64, lr: float = 1e-3,
              augmentation: str = "flip", seed: int = 0, progress: bool = True,
              callback: Callable[[int], None] | None = None) -> list[float]:
    """Train ``ghn`` for ``steps`` steps: each step draws ``meta_batch`` of ``specs`` (a family
    uniformly, then one of its architectures: every family is learned, however few its specs) and a batch
    of uint8 ``images``, runs every drawn network with its predicted parameters (train-mode
    BatchNorm) and descends the mean cross-entropy; ``callback(step)`` (1-based) runs after each
    step (e.g. to validate or checkpoint). Returns the per-step training losses."""
    if not specs:
        raise ValueError("train_ghn needs at least one training architecture")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    modules = {spec_to_json(s): build_model(s).train() for s in specs}
    by_family: dict[str, list[str]] = {}
    for key in modules:
        by_family.setdefault(json.loads(key)["family"], []).append(key)
    families = sorted(by_family)
    optimizer = torch.optim.AdamW(ghn.parameters(), lr=lr, weight_decay=1e-5)
    losses = []
    ghn.train()
    for step in tqdm(range(1, steps + 1), desc="training GHN", disable=not progress):
        drawn = [by_family[families[f]][int(torch.randint(len(by_family[families[f]]), (), generator=generator))]
                 for f in torch.randint(len(families), (meta_batch,), generator=generator).tolist()]
        idx = torch.randint(len(images), (batch_size,), generator=generator)
        x, y = augment(normalize(images[idx]), augmentation, generator), labels[idx]
        loss = sum(F.cross_entropy(functional_call(modules[k], params, (x,)), y)
                   for k, params in zip(drawn, ghn(drawn))) / meta_batch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(ghn.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
        if callback is not None:
            callback(step)
            ghn.train()
    return losses
