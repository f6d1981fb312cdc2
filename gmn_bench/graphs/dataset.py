"""Parameter graphs of zoo rows as a ``torch_geometric`` dataset, with an optional on-disk cache.

:class:`GraphDataset` turns rows (a ``datasets.Dataset`` split or a list of row dicts) into graphs
with :func:`gmn_bench.graphs.to_graph`; :func:`graph_loader` loads a zoo split and wraps it in a
``torch_geometric.loader.DataLoader``. With ``cache_dir`` every graph is built once and stored as
``<key>.safetensors``, where ``key`` is a SHA-256 of the graph format version, the row's canonical
``arch`` JSON and its ``weights`` bytes: changed weights or spec give a new key, so a stale graph is
never served. Files are written atomically (temporary file, then rename).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch_geometric.data import Data, Dataset
from torch_geometric.loader import DataLoader

from ..nets.architectures import spec_to_json
from ..zoo.io import load_zoo
from .parameter_graph import to_graph

GRAPH_FORMAT = "gmn-bench/graph/v3"  # v3: traced graphs, int32 edge_index, (kh, kw) edge_kernel
_TENSORS = ("x", "edge_index", "edge_type", "edge_kernel", "weight_values")


def graph_cache_key(row: Mapping[str, Any]) -> str:
    """Hex SHA-256 identifying the graph of ``row``: format version, canonical arch JSON, weights bytes."""
    arch = row["arch"] if isinstance(row["arch"], Mapping) else json.loads(row["arch"])
    digest = hashlib.sha256()
    for part in (GRAPH_FORMAT.encode(), spec_to_json(arch).encode(), bytes(row["weights"])):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _save_graph(data: Data, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: data[k].contiguous() for k in _TENSORS}, tmp,
                  metadata={"format": GRAPH_FORMAT, "family": data.family, "num_nodes": str(data.num_nodes)})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _load_graph(path: Path) -> Data:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("format") != GRAPH_FORMAT:
            raise ValueError(f"graph cache file {path} has format {meta.get('format')!r}, expected {GRAPH_FORMAT!r}")
        tensors = {k: f.get_tensor(k) for k in _TENSORS}
    return Data(**tensors, num_nodes=int(meta["num_nodes"]), family=meta["family"])


class GraphDataset(Dataset):
    """The parameter graphs of ``rows`` (any sequence of zoo row dicts, e.g. a ``datasets.Dataset``).

    ``cache_dir`` (optional) stores built graphs as safetensors files keyed by :func:`graph_cache_key`;
    ``builds`` counts graphs built (not read from the cache) by this object. ``transform`` is applied
    to every graph on access, as in any ``torch_geometric`` dataset.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], cache_dir: str | Path | None = None, transform=None):
        super().__init__(transform=transform)
        self.rows = rows
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.builds = 0

    def len(self) -> int:
        return len(self.rows)

    def get(self, idx: int) -> Data:
        row = self.rows[int(idx)]
        if self.cache_dir is None:
            self.builds += 1
            return to_graph(row)
        path = self.cache_dir / f"{graph_cache_key(row)}.safetensors"
        if path.exists():
            return _load_graph(path)
        data = to_graph(row)
        self.builds += 1
        _save_graph(data, path)
        return data


def graph_loader(zoo: str | Path, config: str = "id", split: str = "train", *, batch_size: int = 32,
                 shuffle: bool = False, seed: int = 0, cache_dir: str | Path | None = None,
                 revision: str | None = None) -> DataLoader:
    """A ``torch_geometric`` ``DataLoader`` over the parameter graphs of one split of a zoo.

    ``zoo`` is a Hub repo id or a local zoo folder (see :func:`gmn_bench.load_zoo`); with ``shuffle``
    the order is drawn from a generator seeded with ``seed``. ``loader.dataset`` is the
    :class:`GraphDataset`.
    """
    rows = load_zoo(zoo, config=config, split=split, revision=revision)
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(GraphDataset(rows, cache_dir=cache_dir), batch_size=batch_size, shuffle=shuffle,
                      generator=generator)
