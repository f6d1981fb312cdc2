"""Evaluate a metanet on a task over seeds, with an equal tuning budget, and write its results and plot.

The tuning budget (the GMN paper's protocol: hyperparameters chosen on the validation split):
every torch metanet is trained with each learning rate of the same grid (:data:`LR_GRID` by
default) from the first seed. The learning rate is chosen **once per metanet and task**: the rate
whose best-epoch validation score (the task's rank metric) is highest (ties: the earlier grid
value). The other seeds then train at that rate only, and the reported test results are every
seed at that rate. Every metanet thus costs ``len(grid) + len(seeds) - 1`` training runs.
A deterministic metanet (``deterministic = True``: a seed changes nothing) runs one seed.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..metanets import METANETS, Metanet, SklearnMetanet, TorchMetanet
from ..tasks import SPLITS, Task, TaskInputError, zoo_fingerprint
from .objective import Objective
from .provenance import code_fingerprint
from .protocol import (
    BATCH_SIZE,
    featurize_matrix,
    featurize_splits,
    fit_seed,
    train_seed,
)
from .report import plot_results
from .results import MetanetInfo, Results, Tuning

DEFAULT_SEEDS = (0, 1, 2)
LR_GRID = (1e-3, 3e-3)
"""The default learning-rate grid: in the reference runs made with (3e-4, 1e-3, 3e-3), 3e-4 was chosen in
none of the 18 (task, torch metanet) tunings that had it, so the grid keeps the two rates that win."""
LR_SELECTION = ("once per metanet and task, on the first seed: the grid value with the highest best-epoch "
                "validation {metric} (ties: the earlier value); the other seeds train at it")


def resolve_metanet(metanet: str | type) -> type[Metanet]:
    """The class registered as ``metanet`` in :data:`gmn_bench.metanets.METANETS`, or ``metanet``
    itself if it is a concrete :class:`~gmn_bench.metanets.Metanet` subclass with a ``name``."""
    if isinstance(metanet, str):
        if metanet not in METANETS:
            raise TaskInputError(f"unknown metanet {metanet!r}; expected one of {sorted(METANETS)}")
        return METANETS[metanet]
    if not (isinstance(metanet, type) and issubclass(metanet, (TorchMetanet, SklearnMetanet))):
        raise TaskInputError(f"a metanet must be a registered name or a subclass of gmn_bench.metanets.TorchMetanet "
                             f"or SklearnMetanet, got {metanet!r}")
    if not isinstance(getattr(metanet, "name", None), str) or not metanet.name:
        raise TaskInputError(f"metanet class {metanet.__name__} needs a class attribute `name` (a string)")
    return metanet


def _mean_score(scores: Sequence[float]) -> float:
    return float(np.mean([s if math.isfinite(s) else -math.inf for s in scores]))


def _train_torch(cls: type[TorchMetanet], task: Task, seeds: Sequence[int], epochs: int, lr_grid: Sequence[float],
                 device: str, hparams: Mapping[str, Any], progress: bool, feature_cache: dict | None,
                 save_dir: Path | None, on_run: Callable[[], None]) -> tuple[list, MetanetInfo, dict, Tuning]:
    objective = Objective.for_task(task)
    data = featurize_splits(cls(out_dim=objective.out_dim, **hparams), task, progress, feature_cache)

    def run(seed: int, lr: float):
        out = train_seed(cls, hparams, task, data, objective, seed, epochs, lr, device, progress)
        on_run()
        return out

    first = {lr: run(seeds[0], lr) for lr in lr_grid}
    validation = [{"value": lr, "mean": _mean_score([first[lr][-1]]), "per_seed": [first[lr][-1]]} for lr in lr_grid]
    chosen = max(validation, key=lambda v: v["mean"])["value"]  # max keeps the first of equal scores
    runs = {chosen: [first[chosen]] + [run(s, chosen) for s in seeds[1:]]}
    if save_dir is not None:
        for result, fitted, _ in runs[chosen]:
            fitted.save(save_dir / f"seed-{result.seed}")
    model = runs[chosen][0][1].module
    info = MetanetInfo(cls.name, sum(p.numel() for p in model.parameters()), model.hparams(), code_fingerprint(cls),
                       cls.track)
    protocol = {"optimizer": "adam", "learning_rate": chosen, "batch_size": BATCH_SIZE, "epochs": epochs,
                "model_selection": f"best validation {task.rank_metric} epoch", "device": device,
                "objective": objective.describe()}
    tuning = Tuning("learning_rate", list(lr_grid), chosen, LR_SELECTION.format(metric=task.rank_metric), validation)
    return [result for result, *_ in runs[chosen]], info, protocol, tuning


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_lr_grid(lr_grid: Sequence[float]) -> list[float]:
    """``lr_grid`` as a list, or ``ValueError`` unless it holds one or more finite positive learning rates."""
    grid = list(lr_grid)
    if not grid or not all(isinstance(lr, (int, float, np.floating)) and not isinstance(lr, bool)
                           and math.isfinite(lr) and lr > 0 for lr in grid):
        raise ValueError(f"lr_grid must hold one or more finite positive learning rates, got {grid}")
    return grid


def evaluate_metanet(task: Task, metanet: str | type, seeds: Sequence[int] = DEFAULT_SEEDS, epochs: int | None = None,
                     lr_grid: Sequence[float] = LR_GRID, device: str = "cpu", hparams: Mapping[str, Any] | None = None,
                     progress: bool = True, feature_cache: dict | None = None,
                     save_dir: str | Path | None = None, on_run: Callable[[], None] | None = None) -> Results:
    """:class:`Results` of ``metanet`` (registry name or :class:`~gmn_bench.metanets.Metanet`
    subclass) built with ``hparams`` on ``task``.

    Torch metanets are trained with the standard protocol (:mod:`.protocol`) for ``epochs``
    epochs (default: the class's ``default_epochs``) at every learning rate of ``lr_grid``, the
    rate chosen on validation (module docstring); with ``save_dir`` the trained metanet of each
    seed at that rate is saved to ``<save_dir>/seed-<seed>/`` (:meth:`FittedMetanet.save`).
    Scikit-learn metanets fit once per seed. A deterministic metanet runs ``seeds[0]`` only.
    Raises :class:`~gmn_bench.metanets.MetanetNotApplicable` if the metanet cannot read the zoo.
    ``feature_cache``: a dict kept across calls on one zoo so rows are featurized only once.
    ``progress``: this call's own bars (featurizing, epochs); ``on_run()`` is called after each
    training run (:func:`planned_runs` counts them), for a caller's overall progress.
    """
    on_run = on_run or (lambda: None)
    start = time.perf_counter()
    cls = resolve_metanet(metanet)
    hparams = dict(hparams or {})
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(_is_int(s) and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be one or more distinct non-negative integers, got {seeds}")
    lr_grid = check_lr_grid(lr_grid)
    if epochs is not None and not (_is_int(epochs) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer or None, got {epochs!r}")
    if cls.deterministic:
        seeds = seeds[:1]
    cls.check_rows([r for s in SPLITS for r in task.rows(s).select_columns(["model_id", "arch"])])
    if issubclass(cls, TorchMetanet):
        epochs = cls.default_epochs if epochs is None else epochs
        per_seed, info, protocol, tuning = _train_torch(cls, task, seeds, epochs, lr_grid, device, hparams, progress,
                                                        feature_cache, Path(save_dir) if save_dir else None, on_run)
    else:
        metanet_obj = cls(**hparams)
        features = {s: featurize_matrix(metanet_obj, task, s, progress, feature_cache) for s in ("train", "test")}
        per_seed = []
        for seed in seeds:
            per_seed.append(fit_seed(metanet_obj, task, features, seed)[0])
            on_run()
        info, tuning = MetanetInfo(cls.name, None, metanet_obj.hparams(), code_fingerprint(cls), cls.track), None
        protocol = {"fit": "training split", "model_selection": "none"}
    return Results.build(task, zoo_fingerprint(task.zoo, task.revision), info, protocol, tuning, per_seed,
                         cls.deterministic, time.perf_counter() - start)


def planned_runs(metanet: str | type, n_seeds: int, n_rates: int) -> int:
    """The number of training runs :func:`evaluate_metanet` makes for ``metanet`` with ``n_seeds`` seeds and a
    grid of ``n_rates`` learning rates: a torch metanet trains at every rate on the first seed, then at the chosen
    rate on each other seed; a scikit-learn metanet fits once per seed; a deterministic metanet has one seed."""
    cls = resolve_metanet(metanet)
    seeds = 1 if cls.deterministic else n_seeds
    return n_rates + seeds - 1 if issubclass(cls, TorchMetanet) else seeds


def save_results(results: Results, task: Task, out_dir: str | Path) -> Path:
    """Write ``<out_dir>/<task>__<metanet>.json`` and the plot ``.png`` beside it; return the JSON path."""
    path = results.save(Path(out_dir) / f"{results.task}__{results.metanet.name}.json")
    plot_results(results, task.targets("test"), path.with_suffix(".png"))
    return path
