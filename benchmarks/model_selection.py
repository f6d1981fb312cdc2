"""Model selection: does picking the epoch by the training objective instead of the rank metric change
which metanet wins?

The standard protocol (:mod:`gmn_bench.evaluation.protocol`) keeps, per seed, the epoch with the best
validation score of the task's rank metric (Kendall's tau for accuracy prediction; ties keep the earlier
epoch). This script trains each metanet with that same protocol (:func:`train_seed`, one learning rate
per metanet, the metanet's default epochs) and records, after every epoch, the validation rank metric,
the validation loss (the task's training objective: binary cross-entropy for accuracies, else the
standardized MSE) and the test metrics. From the one run it reports, per seed, the test metrics of the
epoch picked by each rule: ``rank`` (the protocol's) and ``loss`` (lowest validation loss). The test
networks are scored every epoch by predicting them alongside the validation networks; the selection
itself reads validation networks only. The two splits are predicted in separate batches, each as the
protocol predicts it (a metanet whose outputs depend on their batch-mates, as ``dmc``'s padding does,
then gives the protocol's predictions). Results are rewritten to ``--out`` after every run, with the
seconds per epoch (training plus the per-epoch scoring; wall clock and this process's CPU time, which
on a shared machine is the closer measure of one free thread) next to them.

    OMP_NUM_THREADS=1 python benchmarks/model_selection.py --metanets dmc=1e-3,deepsets=1e-3 --seeds 2 \
        --out model_selection.json
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any, Mapping
from unittest import mock

import torch

from gmn_bench.evaluation import FittedMetanet
from gmn_bench.evaluation.objective import Objective
from gmn_bench.evaluation.protocol import featurize_splits, train_seed
from gmn_bench.metanets import METANETS
from gmn_bench.tasks import get_task


def _validation_loss(objective: Objective, predictions: Mapping[str, Any], targets: Mapping[str, Any]) -> float:
    """The objective's loss on predictions in the task's units (probabilities, or raw values)."""
    y = torch.tensor([targets[m] for m in predictions], dtype=torch.float64)
    p = torch.tensor(list(predictions.values()), dtype=torch.float64)
    if objective.kind == "sigmoid_bce":
        return float(torch.nn.functional.binary_cross_entropy(p.clamp(1e-12, 1 - 1e-12), y))
    if objective.kind == "standardized_mse":
        return float((((p - y) / objective.std) ** 2).mean())
    raise ValueError(f"validation loss of a {objective.kind} objective is not supported here")


class _Splits(list):
    """Several splits' graphs in one list (what ``train_seed`` predicts as its validation split), each
    predicted in its own batches by :func:`_predict_splits_apart`."""

    def __init__(self, *parts: list):
        super().__init__(g for part in parts for g in part)
        self.parts = parts


_predict_data = FittedMetanet.predict_data


def _predict_splits_apart(fitted: FittedMetanet, data) -> list:
    if isinstance(data, _Splits):
        return [p for part in data.parts for p in _predict_data(fitted, part)]
    return _predict_data(fitted, data)


class _RecordingTask:
    """The task, except that its validation scoring also scores the test networks predicted alongside
    (see the module docstring) and records both, plus the validation loss, per epoch."""

    def __init__(self, task, objective: Objective):
        self._task, self._objective, self.epochs = task, objective, []
        self._val_ids = set(task.ids("validation"))

    def __getattr__(self, name):
        return getattr(self._task, name)

    def evaluate(self, predictions, split: str = "test") -> dict:
        if split != "validation":
            return self._task.evaluate(predictions, split)
        val = {m: p for m, p in predictions.items() if m in self._val_ids}
        test = {m: p for m, p in predictions.items() if m not in self._val_ids}
        scores = self._task.evaluate(val, "validation")
        self.epochs.append({"validation": scores, "test": self._task.evaluate(test, "test"),
                            "validation_loss": _validation_loss(self._objective, val,
                                                                self._task.targets("validation"))})
        return scores


def _pick(epochs: list[dict], key) -> dict:
    best = max(range(len(epochs)), key=lambda i: (key(epochs[i]), -i))  # ties keep the earlier epoch
    return {"epoch": best + 1, **epochs[best]["test"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="accuracy-prediction")
    parser.add_argument("--metanets", default="dmc=1e-3,deepsets=1e-3", help="NAME=LR[,NAME=LR...]")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=None, help="default: each metanet's default_epochs")
    parser.add_argument("--out", default="model_selection.json")
    args = parser.parse_args()
    task = get_task(args.task)
    objective = Objective.for_task(task)
    report = {"task": args.task, "zoo": str(task.zoo), "threads": torch.get_num_threads(), "runs": []}
    for item in args.metanets.split(","):
        name, lr = item.split("=")
        cls = METANETS[name]
        epochs = args.epochs or cls.default_epochs
        data = dict(featurize_splits(cls(out_dim=objective.out_dim), task, progress=False))
        data["validation"] = _Splits(data["validation"], data["test"])
        for seed in range(args.seeds):
            recorder = _RecordingTask(task, objective)
            cpu = time.process_time()
            with mock.patch.object(FittedMetanet, "predict_data", _predict_splits_apart):
                result, _, _ = train_seed(cls, {}, recorder, data, objective, seed, epochs, float(lr), progress=False)
            run = {"metanet": name, "learning_rate": float(lr), "seed": seed, "epochs": epochs,
                   "seconds_per_epoch": result.train_seconds / epochs,
                   "cpu_seconds_per_epoch": (time.process_time() - cpu) / epochs,
                   "by_rank": _pick(recorder.epochs, lambda e: e["validation"][task.rank_metric]),
                   "by_loss": _pick(recorder.epochs, lambda e: -e["validation_loss"]),
                   "per_epoch": recorder.epochs}
            assert math.isclose(run["by_rank"]["kendall_tau"], result.metrics["kendall_tau"])  # the protocol's pick
            report["runs"].append(run)
            Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
            print(name, seed, {k: run[k] for k in ("seconds_per_epoch", "cpu_seconds_per_epoch", "by_rank", "by_loss")}, flush=True)


if __name__ == "__main__":
    main()
