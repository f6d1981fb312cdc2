"""One split of a task as a dataset whose items carry their targets, as in every weight-space
library (PyG datasets, neural-graphs' ``Data(..., y=score)``, nfn's ``((weights, biases), acc)``).

* :class:`TaskGraphDataset`: a ``torch_geometric`` dataset; item ``i`` is a ``Data`` (by default the
  parameter graph of :func:`gmn_bench.graphs.to_graph`, or what ``featurize(row)`` returns)
  holding ``y`` and ``model_id``; ``pre_transform`` runs once per item, ``transform`` on every access;
* :class:`TaskWeightsDataset`: a plain ``torch.utils.data.Dataset`` of ``(weights, y)``: each
  network's ``state_dict`` or its flattened parameter vector.

``y`` is the task's target: a float32 tensor ``[1]`` (regression) or the int64 index ``[1]`` of the
label in :attr:`Task.classes <gmn_bench.tasks.Task.classes>` (classification). Items follow the
order of :meth:`Task.rows <gmn_bench.tasks.Task.rows>` (sorted by ``model_id``).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Mapping

import torch
from torch_geometric.data import Data
from torch_geometric.data import Dataset as PygDataset
from tqdm.auto import tqdm

from ..graphs.parameter_graph import to_graph
from ..zoo.weights import to_module
from .inputs import WEIGHTS
from .task import Task


def target_tensor(task: Task, target: Any) -> torch.Tensor:
    """``y`` of one network: ``[target]`` as float32 (regression) or ``[class index]`` as int64."""
    if task.task_type == "classification":
        return torch.tensor([task.classes.index(target)])
    return torch.tensor([float(target)], dtype=torch.float32)


class TaskGraphDataset(PygDataset):
    """The networks of ``split`` of ``task`` as ``torch_geometric`` ``Data`` holding ``y`` and ``model_id``.

    ``featurize(row) -> Data`` builds each item (default :func:`gmn_bench.graphs.to_graph`; a
    metanet's ``featurize`` for its own input) from the rows of :meth:`Task.rows
    <gmn_bench.tasks.Task.rows>` ``(split, track)`` (the input view of ``track``: no label column
    reaches ``featurize``); items are built once, in memory, and are shallow
    copies, so a ``featurize`` that returns cached objects is never modified. ``pre_transform``
    is applied once to each item, ``transform`` on every access (``torch_geometric`` semantics).
    """

    def __init__(self, task: Task, split: str, featurize: Callable[[Mapping], Data] | None = None,
                 transform: Callable[[Data], Data] | None = None, pre_transform: Callable[[Data], Data] | None = None,
                 progress: bool = False, track: str = WEIGHTS):
        super().__init__(None, transform=transform, pre_transform=pre_transform)
        self.task, self.split, self.track = task, split, track
        featurize = featurize or to_graph
        targets = task.targets(split)
        self._items = []
        rows = task.rows(split, track)
        for row in tqdm(rows, desc=f"featurize {task.name} {split}", disable=not progress, leave=False):
            data = copy.copy(featurize(row))
            data.y, data.model_id = target_tensor(task, targets[row["model_id"]]), row["model_id"]
            self._items.append(data if pre_transform is None else pre_transform(data))

    def len(self) -> int:
        return len(self._items)

    def get(self, idx: int) -> Data:
        return self._items[idx]


class TaskWeightsDataset(torch.utils.data.Dataset):
    """The networks of ``split`` of ``task`` as ``(weights, y)``: ``weights`` is the network's
    ``state_dict`` (parameters and buffers, checked by :func:`gmn_bench.to_module`) or, with
    ``flat=True``, its parameters flattened into one vector in ``named_parameters()`` order.
    ``transform(weights)`` is applied on access; :attr:`rows` is the split's input view
    (:meth:`Task.rows <gmn_bench.tasks.Task.rows>`). Networks of different architectures give
    differently shaped weights: batch them with ``batch_size=1`` or a collate function of your own.
    """

    def __init__(self, task: Task, split: str, flat: bool = False,
                 transform: Callable[[Any], Any] | None = None):
        self.task, self.split, self.flat, self.transform = task, split, flat, transform
        self.rows = task.rows(split)
        self._targets = task.targets(split)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, idx: int) -> tuple[Any, torch.Tensor]:
        row = self.rows[int(idx)]
        module = to_module(row)
        weights = (torch.nn.utils.parameters_to_vector(module.parameters()).detach() if self.flat
                   else module.state_dict())
        if self.transform is not None:
            weights = self.transform(weights)
        return weights, target_tensor(self.task, self._targets[row["model_id"]])
