"""One parameter-prediction run: train the reference GHN (or take a predictions folder), write the
predictions as safetensors, score them against the reference rows and write a results JSON.

The JSON follows the results envelope (``gmn_bench.evaluation``) where it applies, but is not a
``results_schema.json`` file: ``task_type`` is ``"parameter-prediction"`` and ``metrics`` is
``{row: {split: {"mean", "std", "n"}}}`` (mean/std over the networks of a split, one seed)."""
from __future__ import annotations

import inspect
import json
import time
from pathlib import Path

import torch

from ..metanets.ghn import GHN, train_ghn
from ..nets.cifar import load_cifar10
from ..tasks import zoo_fingerprint
from ..tasks.parameter_prediction import ParameterPredictionTask, save_predictions
from .results import SCHEMA_ID, created_now, environment


def predict_with_ghn(task: ParameterPredictionTask, train_steps: int, seed: int = 0, train_limit: int | None = None,
                     progress: bool = True, **ghn_kwargs) -> tuple[GHN, dict, float]:
    """Train a :class:`GHN` on the task's training architectures and the first ``train_limit``
    images of the data's train split, then predict every test architecture.
    Returns ``(ghn, predictions, train_seconds)``."""
    torch.manual_seed(seed)
    ghn = GHN(**ghn_kwargs)
    specs = [json.loads(a) for a in sorted(set(task.rows("train")["arch"]))]
    images, labels = load_cifar10(task.data, "train", train_limit)
    start = time.perf_counter()
    train_ghn(ghn, specs, images, labels, steps=train_steps, seed=seed, progress=progress)
    seconds = time.perf_counter() - start
    ghn.eval()
    return ghn, {m: ghn.predict(spec) for m, spec in task.architectures().items()}, seconds


def run_parameter_prediction(task: ParameterPredictionTask, out: str | Path, predictions: str | Path | None = None,
                             train_steps: int = 300, train_limit: int | None = None, seed: int = 0,
                             progress: bool = True) -> dict:
    """Score the GHN (trained for ``train_steps`` on ``train_limit`` images) or the given
    ``predictions`` folder on ``task``;
    write ``<out>/predictions/<model_id>.safetensors`` (GHN only) and ``<out>/results.json``.
    Returns the results dict; its ``metrics`` are mean/std over the networks of each test split."""
    start, out = time.perf_counter(), Path(out)
    if predictions is None:
        ghn, predicted, train_seconds = predict_with_ghn(task, train_steps, seed, train_limit, progress)
        save_predictions(predicted, out / "predictions")
        defaults = {k: p.default for k, p in inspect.signature(train_ghn).parameters.items()
                    if p.default is not p.empty and k != "progress"}
        metanet = {"name": ghn.name, "n_params": sum(p.numel() for p in ghn.parameters()), "config": ghn.config()}
        protocol = {**defaults, "steps": train_steps, "train_limit": train_limit, "seed": seed}
    else:
        predicted, train_seconds = predictions, 0.0
        metanet = {"name": f"predictions:{Path(predictions).name}", "n_params": None, "config": {}}
        protocol = {}
    scored = task.evaluate(predicted, progress=progress)
    references = task.references(progress=progress)
    metrics = {**scored["metrics"], **references["metrics"]}
    per_network = {m: {**scored["per_network"][m], **references["per_network"][m]} for m in task.networks}
    results = {
        "schema": SCHEMA_ID, "task": task.name, "config": ",".join(task.splits), "target": "state_dict",
        "task_type": "parameter-prediction", "task_config": task.config(),
        "zoo": {"path_or_repo_id": task.zoo, "revision": task.revision,
                "fingerprint": zoo_fingerprint(task.zoo, task.revision)},
        "metanet": metanet, "protocol": protocol, "seeds": [seed],
        "per_seed": [{"seed": seed, "metrics": metrics, "per_network": per_network, "train_seconds": train_seconds}],
        "metrics": metrics, "environment": environment(),
        "timings": {"train_seconds": train_seconds, "total_seconds": time.perf_counter() - start},
        "created": created_now(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results
