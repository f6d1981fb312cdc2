"""Rerun one seed of a results file (a board entry's, or any ``gmn-bench evaluate`` output) and compare.

:func:`reproduce` retrains the seed as the file records it: the same metanet class and
hyperparameters, epochs and chosen learning rate (torch metanets: :func:`~gmn_bench.evaluation.train_seed`;
scikit-learn ones: :func:`~gmn_bench.evaluation.protocol.fit_seed`), seed, zoo (found by its
fingerprint: the recorded location, else a zoo the board knows) and torch's thread count, then
compares its test predictions with the stored ones.

On the CPU, with the recorded thread count and torch version, a rerun is bitwise the same (the
protocol seeds the weights and the batch order), so predictions must be equal exactly
(tolerance 0). Otherwise (another device, thread count or torch version, or a file that does not
record its threads) floating-point sums are added in another order and training drifts: the
predictions are compared to :data:`LOOSE_TOLERANCE`, and a mismatch there says only that the
settings differ, not that the code changed. Labels (classification) must be equal in every case.
Run ``gmn-bench reproduce PATH [--task NAME] [--seed S]``: exit status 0 on a match, 1 otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from gmn_bench.evaluation import Objective, Results, SeedResult, featurize_splits, resolve_metanet, train_seed
from gmn_bench.evaluation.protocol import featurize_matrix, fit_seed
from gmn_bench.evaluation.results import ResultsFormatError, ZooRef
from gmn_bench.metanets import TorchMetanet
from gmn_bench.tasks import Task, get_task, zoo_fingerprint

from .zoos import KnownZoo, find_zoo

LOOSE_TOLERANCE = 1e-3
"""Largest absolute difference of a regression prediction when the run cannot be bitwise the same."""


@dataclass(frozen=True)
class Reproduction:
    """A rerun seed against the stored one: how many of the ``n`` test predictions differ by more
    than ``tolerance`` (``max_abs_difference``: regression only), and both runs' metrics and best epochs."""

    results: Path
    task: str
    metanet: str
    seed: int
    settings: str
    tolerance: float
    n: int
    n_different: int
    max_abs_difference: float | None
    stored: SeedResult
    rerun: SeedResult

    @property
    def matches(self) -> bool:
        return self.n_different == 0

    def summary(self) -> str:
        """A few lines for the terminal: the verdict, the settings and the differences."""
        verdict = "MATCH" if self.matches else "MISMATCH"
        lines = [f"{verdict}: {self.metanet} on {self.task}, seed {self.seed} of {self.results}",
                 f"  settings: {self.settings}; tolerance {self.tolerance:g}",
                 f"  networks whose prediction differs: {self.n_different} of {self.n}"]
        if self.max_abs_difference is not None:
            lines.append(f"  max abs difference of a prediction: {self.max_abs_difference:.3g}")
        lines.append(f"  best epoch: stored {self.stored.best_epoch}, now {self.rerun.best_epoch}")
        for metric, value in self.stored.metrics.items():
            lines.append(f"  {metric}: stored {value:.6g}, now {self.rerun.metrics[metric]:.6g}")
        return "\n".join(lines)


def results_file(path: str | Path, task: str | None = None) -> Path:
    """The results file ``path`` names: itself, or in a folder (a board submission's ``<task>.json``,
    or ``gmn-bench evaluate``'s ``<task>__<metanet>.json``) the one of ``task`` (needed when it holds several)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise ValueError(f"{path}: no such results file or folder")
    found = sorted(p for p in path.glob("*.json") if p.name != "submission.json"
                   and (task is None or p.stem == task or p.stem.startswith(f"{task}__")))
    if len(found) != 1:
        what = f"for task {task!r}" if task else "(give --task)"
        raise ValueError(f"{path}: {len(found)} results files {what}: {[p.name for p in found]}")
    return found[0]


def locate_zoo(zoo: ZooRef, known: Mapping[str, KnownZoo]) -> tuple[str, str | None]:
    """``(path_or_repo_id, revision)`` of the zoo with ``zoo``'s fingerprint: the recorded local folder if
    it still holds that zoo, else the zoo of that fingerprint and revision in ``known``."""
    if Path(zoo.path_or_repo_id).is_dir() and zoo_fingerprint(zoo.path_or_repo_id, zoo.revision) == zoo.fingerprint:
        return zoo.path_or_repo_id, zoo.revision
    try:
        found = find_zoo(dict(known), zoo.fingerprint, zoo.revision)
    except LookupError as e:
        raise ValueError(f"the zoo the results were made on is not at {zoo.path_or_repo_id} any more: {e}") from None
    return found.path_or_repo_id, found.revision


def _rerun(results: Results, task: Task, seed: int, device: str, progress: bool) -> SeedResult:
    cls = resolve_metanet(results.metanet.name)
    hparams = {k: v for k, v in results.metanet.hparams.items() if k != "out_dim"}
    if not issubclass(cls, TorchMetanet):
        metanet = cls(**results.metanet.hparams)
        features = {s: featurize_matrix(metanet, task, s, progress) for s in ("train", "test")}
        return fit_seed(metanet, task, features, seed)[0]
    objective = Objective.for_task(task)
    if objective.describe() != results.protocol.get("objective"):
        raise ValueError(f"the task's objective is now {objective.describe()}, the results record "
                         f"{results.protocol.get('objective')}")
    data = featurize_splits(cls(out_dim=objective.out_dim, **hparams), task, progress)
    return train_seed(cls, hparams, task, data, objective, seed, results.protocol["epochs"],
                      results.protocol["learning_rate"], device, progress)[0]


def _differences(stored: Mapping[str, Any], rerun: Mapping[str, Any], tolerance: float) -> tuple[int, float | None]:
    if any(isinstance(v, str) for v in stored.values()):
        return sum(stored[m] != rerun.get(m) for m in stored), None
    gaps = [abs(float(stored[m]) - float(rerun[m])) if m in rerun else math.inf for m in stored]
    return sum(g > tolerance for g in gaps), max(gaps)


def reproduce(path: str | Path, task: str | None = None, seed: int = 0, zoos: Mapping[str, KnownZoo] | None = None,
              device: str | None = None, threads: int | None = None, progress: bool = True) -> Reproduction:
    """Retrain ``seed`` of the results file ``path`` names (:func:`results_file`) as it records it and
    compare its test predictions (module docstring). ``zoos`` (``fingerprint -> KnownZoo``, as
    :func:`~gmn_bench.leaderboard.known_zoos` gives): where to find the zoo if it is no longer at its
    recorded place; ``device`` and ``threads`` default to the recorded ones (one
    thread if none is recorded)."""
    path = results_file(path, task)
    try:
        results = Results.load(path)
    except ResultsFormatError as e:
        raise ValueError(str(e)) from None
    if task is not None and results.task != task:
        raise ValueError(f"{path} holds results of task {results.task!r}, not {task!r}")
    stored = {r.seed: r for r in results.per_seed}
    if seed not in stored:
        raise ValueError(f"{path} has no seed {seed}; its seeds are {sorted(stored)}")
    recorded_threads = results.environment.get("torch_threads")
    recorded_device = results.protocol.get("device", "cpu")
    device = device or recorded_device
    threads = threads or recorded_threads or 1
    exact = (device == recorded_device == "cpu" and threads == recorded_threads
             and torch.__version__ == results.environment.get("torch"))
    settings = (f"{device}, {threads} thread(s), torch {torch.__version__}; recorded {recorded_device}, "
                f"{recorded_threads or 'unrecorded'} thread(s), torch {results.environment.get('torch')}")
    zoo, revision = locate_zoo(results.zoo, zoos or {})
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        rerun = _rerun(results, get_task(results.task, zoo=zoo, revision=revision), seed, device, progress)
    finally:
        torch.set_num_threads(before)
    tolerance = 0.0 if exact else LOOSE_TOLERANCE
    n_different, gap = _differences(stored[seed].predictions, rerun.predictions, tolerance)
    return Reproduction(path, results.task, results.metanet.name, seed, settings, tolerance,
                        len(stored[seed].predictions), n_different, gap, stored[seed], rerun)
