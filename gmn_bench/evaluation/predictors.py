"""The "any metanet" contract: anything that maps a task's rows to predictions can be evaluated.

A predictor is one of

* a callable ``rows -> {model_id: value}`` or ``rows -> [value, ...]`` aligned with ``rows`` (the
  split's :class:`~gmn_bench.tasks.inputs.InputRows`: the input view, no label or recipe column; a
  :class:`FittedMetanet` is such a callable);
* a fitted scikit-learn estimator with its featurizer: ``SklearnPredictor(estimator, featurize)``
  or the pair ``(estimator, featurize)``, ``featurize(row) -> 1-D array``.

:func:`predict` returns ``{model_id: value}`` for a split, which :meth:`Task.evaluate
<gmn_bench.tasks.Task.evaluate>` checks and scores: ``task.evaluate(predict(task, predictor))``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from ..metanets import TorchMetanet
from ..metanets.base import read_metanet_file
from ..tasks import Task, TaskInputError
from ..tasks.inputs import WEIGHTS
from .objective import Objective


@dataclass
class SklearnPredictor:
    """A fitted scikit-learn estimator, the featurizer of the rows it was fitted on and the track
    of those rows (:mod:`gmn_bench.tasks.inputs`)."""

    estimator: Any
    featurize: Callable[[Mapping], np.ndarray]
    track: str = WEIGHTS

    def __call__(self, rows) -> list:
        return list(self.estimator.predict(np.stack([self.featurize(r) for r in rows])))


class FittedMetanet:
    """A trained torch metanet with the :class:`Objective` that reads its outputs: a predictor
    in the task's units. :meth:`save` / :meth:`load` keep both (safetensors weights, JSON)."""

    def __init__(self, module: TorchMetanet, objective: Objective, device: str = "cpu", batch_size: int = 32):
        self.module, self.objective, self.device, self.batch_size = module, objective, device, batch_size

    @property
    def track(self) -> str:
        """The input view the metanet reads (its class's ``track``)."""
        return self.module.track

    def predict_data(self, data: Sequence[Data]) -> list:
        """Predictions for already featurized rows, in order."""
        self.module.eval()
        out = []
        with torch.no_grad():
            for batch in DataLoader(data, batch_size=self.batch_size, shuffle=False):
                out += self.objective.decode(self.module(batch.to(self.device)).cpu())
        return out

    def __call__(self, rows) -> list:
        return self.predict_data([self.module.featurize(r) for r in rows])

    def save(self, folder: str | Path) -> Path:
        """Write the metanet (:meth:`TorchMetanet.save`) with its objective to ``folder``."""
        return self.module.save(folder, objective=self.objective.describe())

    @classmethod
    def load(cls, folder: str | Path, metanet_class: type[TorchMetanet] = TorchMetanet) -> "FittedMetanet":
        """The fitted metanet saved in ``folder`` (a registered metanet, or one of ``metanet_class``)."""
        return cls(metanet_class.load(folder), Objective.from_description(read_metanet_file(folder)["objective"]))


def _plain(value: Any) -> Any:
    """numpy scalars as Python floats/str (JSON-able); other values unchanged for the task's checks."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def predict(task: Task, predictor, split: str = "test", track: str | None = None) -> dict[str, Any]:
    """``{model_id: prediction}`` of ``predictor`` (see module docstring) on ``split`` of ``task``,
    which it reads as the input view of ``track`` (default: the predictor's ``track`` attribute if
    it has one, else ``"weights"``)."""
    if isinstance(predictor, tuple) and len(predictor) == 2:
        predictor = SklearnPredictor(*predictor)
    elif hasattr(predictor, "predict") and not callable(predictor):
        raise TaskInputError(f"{task.name}: a scikit-learn estimator needs its featurizer: "
                             "pass SklearnPredictor(estimator, featurize) or (estimator, featurize)")
    if not callable(predictor):
        raise TaskInputError(f"{task.name}: a predictor must be callable (rows -> predictions) or "
                             f"(estimator, featurize), got {type(predictor).__name__}")
    rows = task.rows(split, track or getattr(predictor, "track", WEIGHTS))
    out = predictor(rows)
    if isinstance(out, Mapping):
        return {k: _plain(v) for k, v in out.items()}
    out = list(out)
    if len(out) != len(rows):
        raise TaskInputError(f"{task.name}: predictor returned {len(out)} values for {len(rows)} {split} rows")
    return {m: _plain(v) for m, v in zip(rows["model_id"], out)}
