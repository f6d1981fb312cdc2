"""One parameter-prediction run: train the reference GHN (or take a predictions folder), write the
predictions as safetensors, score them beside the reference weight sources and write a
``gmn-bench/parameter-prediction-results/v1`` results JSON (its schema:
``schemas/parameter-prediction-results.json``).

Its ``metrics`` are ``{source: {split: {"mean", "std", "ci_low", "ci_high", "n"}}}``: the CIFAR-10
test accuracy of each weight source over the ``n`` networks of each test split, mean and sample std
(:func:`~gmn_bench.evaluation.stats.mean_std`) and the bootstrap interval of the mean over networks.
"""
from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

import torch

from ..metanets.ghn import GHN, train_ghn
from ..nets.cifar import load_cifar10
from ..tasks import zoo_fingerprint
from ..tasks.parameter_prediction import (
    TEST_SPLITS,
    WEIGHT_SOURCES,
    ParameterPredictionTask,
    save_predictions,
)
from . import stats
from .results import (
    PARAMETER_PREDICTION_SCHEMA_ID,
    check_schema,
    created_now,
    environment,
    uncertainty_settings,
)


def predict_with_ghn(task: ParameterPredictionTask, train_steps: int, seed: int = 0, train_limit: int | None = None,
                     progress: bool = True, **ghn_hparams) -> tuple[GHN, dict, float]:
    """Train a :class:`GHN` on the task's training architectures and the first ``train_limit``
    images of the data's train split, then predict every test architecture.
    Returns ``(ghn, predictions, train_seconds)``."""
    torch.manual_seed(seed)
    ghn = GHN(**ghn_hparams)
    specs = [json.loads(a) for a in sorted(set(task.rows("train")["arch"]))]
    images, labels = load_cifar10(task.data, "train", train_limit)
    start = time.perf_counter()
    train_ghn(ghn, specs, images, labels, steps=train_steps, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    ghn.eval()
    return ghn, {m: ghn.predict(spec) for m, spec in task.architectures().items()}, seconds


def summarize_networks(task: ParameterPredictionTask, per_network: dict[str, dict[str, float]]) -> dict:
    """``{source: {split: {"mean", "std", "ci_low", "ci_high", "n"}}}`` over the networks of each test split."""
    sources = [s for s in WEIGHT_SOURCES if s in next(iter(per_network.values()))]
    out = {}
    for source in sources:
        out[source] = {}
        for split in TEST_SPLITS:
            values = [per_network[m][source] for m in task.ids(split)]
            mean, std = stats.mean_std(values)
            low, high = stats.mean_interval(values)
            out[source][split] = {"mean": mean, "std": std, "ci_low": low, "ci_high": high, "n": len(values)}
    return out


def run_parameter_prediction(task: ParameterPredictionTask, out: str | Path, predictions: str | Path | None = None,
                             train_steps: int = 300, train_limit: int | None = None, seed: int = 0,
                             progress: bool = True) -> dict:
    """Score the GHN (trained for ``train_steps`` on ``train_limit`` images) or the given
    ``predictions`` folder on ``task``;
    write ``<out>/predictions/<model_id>.safetensors`` (GHN only) and ``<out>/results.json``.
    Returns the results dict."""
    start, out = time.perf_counter(), Path(out)
    if predictions is None:
        ghn, predicted, train_seconds = predict_with_ghn(task, train_steps, seed, train_limit, progress)
        save_predictions(predicted, out / "predictions")
        defaults = {k: p.default for k, p in inspect.signature(train_ghn).parameters.items()
                    if p.default is not p.empty and k != "progress"}
        metanet = {"name": ghn.name, "n_params": sum(p.numel() for p in ghn.parameters()), "hparams": ghn.hparams()}
        protocol = {**defaults, "steps": train_steps, "train_limit": train_limit, "seed": seed}
    else:
        predicted, train_seconds = predictions, 0.0
        metanet = {"name": f"predictions:{Path(predictions).name}", "n_params": None, "hparams": {}}
        protocol = {}
    scored = task.evaluate(predicted, progress=progress)
    references = task.references(progress=progress)
    per_network = {m: {**scored[m], **references[m]} for m in task.ids()}
    results = {
        "schema": PARAMETER_PREDICTION_SCHEMA_ID, "task": task.name, "task_settings": task.settings(),
        "zoo": {"path_or_repo_id": task.zoo, "revision": task.revision,
                "fingerprint": zoo_fingerprint(task.zoo, task.revision)},
        "metanet": metanet, "protocol": protocol, "seed": seed, "per_network": per_network,
        "metrics": summarize_networks(task, per_network), "uncertainty": uncertainty_settings(),
        "environment": environment(),
        "timings": {"train_seconds": train_seconds, "total_seconds": time.perf_counter() - start},
        "created": created_now(),
    }
    check_schema(results, "parameter-prediction results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
