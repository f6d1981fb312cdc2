"""Evaluate a registered metanet on a task over seeds, and write its results file and plot."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from ..metanets import METANETS, check_applicable
from ..tasks import SPLITS, Task, TaskInputError, zoo_fingerprint
from .protocol import (
    BATCH_SIZE,
    LEARNING_RATE,
    Objective,
    featurize_matrix,
    featurize_splits,
    fit_seed,
    train_seed,
)
from .report import plot_results
from .results import make_results, write_results

DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_EPOCHS = 100


def resolve_metanet(name: str) -> type:
    """The class registered as ``name`` in :data:`gmn_bench.metanets.METANETS`."""
    if name not in METANETS:
        raise TaskInputError(f"unknown metanet {name!r}; expected one of {sorted(METANETS)}")
    return METANETS[name]


def _is_torch(cls: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


def evaluate_metanet(task: Task, metanet: str | type, seeds: Sequence[int] = DEFAULT_SEEDS,
                     epochs: int | None = None, device: str = "cpu", metanet_kwargs: Mapping[str, Any] | None = None,
                     progress: bool = True, feature_cache: dict | None = None) -> dict:
    """Results dict (``gmn-bench/results/v1``) of ``metanet`` (registry name or class) on ``task``.

    Torch metanets are trained with the standard protocol (:mod:`.protocol`) for ``epochs``
    epochs per seed (default: the class's ``default_epochs``, else :data:`DEFAULT_EPOCHS`);
    scikit-learn metanets fit once per seed. Raises
    :class:`~gmn_bench.metanets.MetanetNotApplicable` if the metanet cannot read the zoo.
    ``feature_cache``: a dict kept across calls on one zoo so rows are featurized only once.
    """
    start = time.perf_counter()
    cls = resolve_metanet(metanet) if isinstance(metanet, str) else metanet
    kwargs = dict(metanet_kwargs or {})
    if not seeds:
        raise ValueError("at least one seed is needed")
    check_applicable(cls, [r for s in SPLITS for r in task.rows(s).select_columns(["model_id", "arch"])])
    if _is_torch(cls):
        epochs = epochs or getattr(cls, "default_epochs", DEFAULT_EPOCHS)
        objective = Objective(task.task_type, task.targets("train").values(), task.classes)
        data = featurize_splits(cls(out_dim=objective.out_dim, **kwargs), task, objective, progress, feature_cache)
        runs = [train_seed(cls, kwargs, task, data, objective, s, epochs, device, progress) for s in seeds]
        model = runs[0][1].module
        info = {"name": cls.name, "n_params": sum(p.numel() for p in model.parameters()), "config": model.config()}
        protocol = {"optimizer": "adam", "learning_rate": LEARNING_RATE, "batch_size": BATCH_SIZE, "epochs": epochs,
                    "model_selection": f"best validation {task.rank_metric}", "device": device,
                    **objective.describe()}
    else:
        metanet_obj = cls(**kwargs)
        features = {s: featurize_matrix(metanet_obj, task, s, progress, feature_cache) for s in ("train", "test")}
        runs = [fit_seed(metanet_obj, task, features, s) for s in seeds]
        info = {"name": cls.name, "n_params": None, "config": metanet_obj.config()}
        protocol = {"fit": "training split", "model_selection": "none"}
    per_seed = [r for r, _ in runs]
    return make_results(task, zoo_fingerprint(task.zoo, task.revision), info, protocol, per_seed,
                        time.perf_counter() - start)


def save_results(results: Mapping[str, Any], task: Task, out_dir: str | Path) -> Path:
    """Write ``<out_dir>/<task>__<metanet>.json`` and the plot ``.png`` beside it; return the JSON path."""
    path = Path(out_dir) / f"{results['task']}__{results['metanet']['name']}.json"
    write_results(results, path)
    plot_results(results, task.targets("test"), path.with_suffix(".png"))
    return path
