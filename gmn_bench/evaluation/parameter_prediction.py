"""One parameter-prediction run: train the reference GHNs (or take a predictions folder), write the
predictions as safetensors, score them beside the reference weight sources and write a
``gmn-bench/parameter-prediction-results/v1`` results JSON (its schema:
``schemas/parameter-prediction-results.json``).

**Two GHNs.** A GHN is never trained on the architecture of a network it is scored on: the GHN of
the ``id`` and ``ood_size`` splits trains on the architecture space (a recipe's space with its
architecture knobs widened, :func:`widened_space`, or the zoo's train rows) minus the specs of
those splits' test networks; the GHN of ``ood_family`` trains
on the same space minus the held-out family (it never sees one).

**Statistics.** ``metrics`` are ``{source: {split: {"mean", "std", "ci_low", "ci_high", "n",
"n_architectures", "single_class", "interval"}}}``: the CIFAR-10 test accuracy of each weight
source over the ``n`` networks (``n_architectures`` distinct specs) of each test split, mean and
sample std (:func:`~gmn_bench.evaluation.stats.mean_std`), a 95% percentile bootstrap interval of
the mean and how many networks predict one class for every test image. Predicted weights depend on
the spec only, so their interval resamples architectures (``"interval": "architectures"``,
:func:`~gmn_bench.evaluation.stats.cluster_mean_interval`); the reference sources' resamples
networks (``"networks"``).

**What predicted weights are worth** (``anchors``, per test split, for the ``predicted`` source):
``epochs_saved``, over a seeded sample of each split's networks (:func:`curve_sample`), how many
epochs of the network's own training (rerun from its recorded recipe and seeds, scored every epoch:
:meth:`~gmn_bench.tasks.parameter_prediction.ParameterPredictionTask.curves`, linear between
epochs) first reach its predicted-weight accuracy (:func:`epochs_to_reach`), mean with a cluster
interval over architectures, median, and how many networks' predicted weights beat every epoch of
their training (counted at the final epoch: the mean is then a lower bound); the same
in ``full_data_epochs_saved``, each network's epochs times its train fraction (epochs over all
training images); ``ranking_tau``, Kendall's tau between architectures ranked by predicted-weight
accuracy and by their trained networks' mean accuracy, with a bootstrap interval over
architectures (the GHN papers' architecture ranking); and, with fine-tuning, ``finetune_gain``,
the paired difference predicted+finetune minus random_init+finetune (cluster interval).

**Crash-safe and cached.** Every scored network is appended to a JSON-lines log as it finishes:
predicted scores to ``<out>/scores-<ghn>.jsonl``, reference scores (random init, trained weights:
and the rerun training curves: the same every run) to ``<cache>/<key>.jsonl`` where the key hashes
what is scored, the zoo fingerprint, the
data fingerprint (:meth:`~gmn_bench.tasks.parameter_prediction.ParameterPredictionTask.data_fingerprint`)
and the scoring settings. A rerun reuses the trained GHNs in ``<out>`` and every logged score.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import random
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from ..build.recipes import Recipe
from ..metanets.ghn import GHN, train_ghn
from ..nets.architectures import SpecError, build_model, spec_to_json
from ..nets.cifar import load_cifar10
from ..tasks import zoo_fingerprint
from ..tasks.metrics import METRIC_FUNCTIONS
from ..tasks.parameter_prediction import (
    TEST_SPLITS,
    WEIGHT_SOURCES,
    ParameterPredictionTask,
    Scores,
    load_predictions,
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


def training_architectures(task: ParameterPredictionTask, splits: Sequence[str], recipe: Recipe | None = None,
                           exclude_family: str | None = None, draws: int | None = None) -> list[dict]:
    """The distinct architectures a GHN scored on the test ``splits`` may train on, sorted by their
    JSON: the specs of ``draws`` (default ``10 * recipe.n_networks``) samples of
    :func:`widened_space` ``(recipe)`` that build a network mapping a CIFAR-10 image to 10 logits
    with at most twice the parameters of the recipe's largest (in as many draws), or without a
    recipe those of the task's train rows; minus every spec of a test network of ``splits`` (a GHN
    never trains on an architecture it is scored on) and minus the ``exclude_family`` (the
    held-out family, for the held-out-family GHN)."""
    if recipe is not None:
        draws = range(draws or 10 * recipe.n_networks)
        largest = max(_n_parameters(build_model(json.loads(spec)))
                      for spec in {_sampled_spec(recipe, i) for i in draws} - {None})
        wide = widened_space(recipe)
        sampled = {_sampled_spec(wide, i) for i in draws} - {None}
        candidates = {spec for spec in sampled if _classifies_cifar10(spec, max_parameters=2 * largest)}
    else:
        candidates = {spec_to_json(json.loads(a)) for a in task.rows("train")["arch"]}
    tested = {spec_to_json(task.networks[m].spec) for split in splits for m in task.ids(split)}
    specs = [json.loads(a) for a in sorted(candidates - tested)]
    return [s for s in specs if s["family"] != exclude_family]


def widened_space(recipe: Recipe) -> Recipe:
    """``recipe`` with every integer architecture knob one step wider, the space GHNs train on: an
    ``int_range [a, b]`` becomes ``[max(1, a - 1), b + 1]``, a choice of integers gains half its
    smallest and twice its largest value, a fixed integer becomes a choice of it and its double.
    A recipe's own space can be tiny for some families (cifar10-bench samples 12 ResNet and 24 ViT
    architectures in all, every one of them a test architecture); the wider space holds the
    recipe's and many architectures of every family that no zoo network has."""
    return dataclasses.replace(recipe, name=f"{recipe.name} (architecture knobs widened)",
                               architectures={family: {k: _wider(v) for k, v in knobs.items()}
                                              for family, knobs in recipe.architectures.items()})


def _wider(value: Any) -> Any:
    def integer(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if integer(value) and value > 0:
        return {"choice": [value, 2 * value]}
    if isinstance(value, dict) and len(value) == 1:
        (kind, arg), = value.items()
        if isinstance(arg, list) and arg and all(integer(v) for v in arg):
            if kind == "int_range":
                return {"int_range": [max(1, arg[0] - 1), arg[1] + 1]}
            if kind == "choice":
                return {"choice": sorted({*arg, max(1, min(arg) // 2), 2 * max(arg)})}
    return value


def _sampled_spec(recipe: Recipe, index: int) -> str | None:
    try:
        return spec_to_json(recipe.sample(index)["spec"])
    except SpecError:  # a knob combination the family refuses (e.g. more pooled layers than the image has room for)
        return None


def _n_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _classifies_cifar10(spec: str, max_parameters: int) -> bool:
    """Whether ``spec`` builds a network of at most ``max_parameters`` mapping a CIFAR-10 image to 10 logits."""
    module = build_model(json.loads(spec))
    if _n_parameters(module) > max_parameters:
        return False
    try:
        with torch.no_grad():
            return tuple(module.eval()(torch.zeros(1, 3, 32, 32)).shape) == (1, 10)
    except (ValueError, RuntimeError):  # a combination the family builds but cannot run on a 32x32 image
        return False


DEFAULT_CACHE = Path(os.environ.get("GMN_BENCH_CACHE", Path.home() / ".cache" / "gmn-bench")) / "parameter-prediction"
"""Where reference scores are cached (``$GMN_BENCH_CACHE/parameter-prediction``, default ``~/.cache/gmn-bench``)."""

ALL_FAMILIES, HELD_OUT = "all-families", "held-out-family"
"""The two GHNs of a run: scored on ``id``/``ood_size``, and on ``ood_family``."""


def held_out_family(task: ParameterPredictionTask) -> str:
    """The family of the ``ood_family`` test networks (one family by construction)."""
    families = {task.networks[m].spec["family"] for m in task.ids("ood_family")}
    if len(families) != 1:
        raise ValueError(f"the ood_family split holds families {sorted(families)}, expected exactly one")
    return families.pop()


def ghn_splits(ghn: str) -> tuple[str, ...]:
    """The test splits the GHN ``ghn`` (:data:`ALL_FAMILIES` or :data:`HELD_OUT`) is scored on."""
    return ("ood_family",) if ghn == HELD_OUT else ("id", "ood_size")


def train_task_ghn(task: ParameterPredictionTask, ghn: str, train_steps: int, seed: int = 0,
                   train_limit: int | None = None, recipe: Recipe | None = None, progress: bool = True,
                   **ghn_hparams) -> tuple[GHN, dict]:
    """Train the GHN ``ghn`` (:data:`ALL_FAMILIES` or :data:`HELD_OUT`) on its
    :func:`training_architectures` and the first ``train_limit`` images of the data's train split.
    Returns ``(ghn, record)``: ``record`` holds the training protocol, architecture counts and seconds."""
    exclude = held_out_family(task) if ghn == HELD_OUT else None
    specs = training_architectures(task, ghn_splits(ghn), recipe, exclude)
    torch.manual_seed(seed)
    model = GHN(**ghn_hparams)
    images, labels = load_cifar10(task.data, "train", train_limit)
    start = time.perf_counter()
    train_ghn(model, specs, images, labels, steps=train_steps, seed=seed, progress=progress)
    defaults = {k: p.default for k, p in inspect.signature(train_ghn).parameters.items()
                if p.default is not p.empty and k not in ("progress", "callback")}
    families = sorted({s["family"] for s in specs})
    record = {**defaults, "steps": train_steps, "train_limit": train_limit, "seed": seed,
              "architecture_space": _space_name(recipe),
              "excluded_family": exclude,
              "train_architectures": {f: sum(s["family"] == f for s in specs) for f in families},
              "train_seconds": time.perf_counter() - start}
    return model.eval(), record


def _space_name(recipe: Recipe | None) -> str:
    return widened_space(recipe).name if recipe is not None else "zoo train rows"


def summarize_networks(task: ParameterPredictionTask, scores: Scores | Mapping[str, Scores]) -> dict:
    """``{source: {split: {"mean", "std", "ci_low", "ci_high", "n", "n_architectures",
    "single_class", "interval"}}}`` over the networks of each test split (see the module docstring).
    ``scores``: ``{split: scores}`` (each split's own predictions) or one ``scores`` of every test
    network (the same predictions for every split), as :meth:`ParameterPredictionTask.evaluate` gives."""
    per_split = scores if set(scores) <= set(TEST_SPLITS) else {
        split: {m: scores[m] for m in task.ids(split)} for split in TEST_SPLITS}
    sources = [s for s in WEIGHT_SOURCES if s in next(iter(per_split["id"].values()))]
    out: dict = {source: {} for source in sources}
    for source in sources:
        for split in TEST_SPLITS:
            ids = task.ids(split)
            values = [per_split[split][m][source]["accuracy"] for m in ids]
            specs = [spec_to_json(task.networks[m].spec) for m in ids]
            mean, std = stats.mean_std(values)
            by_architecture = source.startswith("predicted")
            low, high = stats.cluster_mean_interval(values, specs) if by_architecture else stats.mean_interval(values)
            out[source][split] = {"mean": mean, "std": std, "ci_low": low, "ci_high": high, "n": len(values),
                                  "n_architectures": len(set(specs)),
                                  "single_class": sum(per_split[split][m][source]["single_class"] for m in ids),
                                  "interval": "architectures" if by_architecture else "networks"}
    return out


class ScoreLog:
    """A JSON-lines log of scored networks: the first line is the identity of what is scored, then
    one ``{"model_id", "scores"}`` line per network, appended (and flushed) as each finishes. Opened
    again with the same identity it yields the scores already logged (:attr:`known`; a torn last
    line is dropped); with another identity it starts over."""

    def __init__(self, path: str | Path, identity: Mapping[str, Any]):
        self.path = Path(path)
        self.known: dict[str, dict] = {}
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        identity = json.loads(json.dumps(identity))
        if lines and _json_or_none(lines[0]) == {"identity": identity}:
            for line in lines[1:]:
                entry = _json_or_none(line)
                if not isinstance(entry, dict) or set(entry) != {"model_id", "scores"}:
                    break
                self.known[entry["model_id"]] = entry["scores"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(json.dumps(e) + "\n" for e in [{"identity": identity}] + [
            {"model_id": m, "scores": s} for m, s in self.known.items()]))

    def append(self, model_id: str, scores: Mapping[str, Any]) -> None:
        """Log one network's scores (on disk when this returns)."""
        with self.path.open("a") as f:
            f.write(json.dumps({"model_id": model_id, "scores": scores}) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def cached_references(task: ParameterPredictionTask, cache: str | Path = DEFAULT_CACHE,
                      progress: bool = True) -> Scores:
    """:meth:`~ParameterPredictionTask.references`, cached in ``<cache>/<key>.jsonl`` (key: zoo
    fingerprint, data fingerprint and scoring settings) and logged network by network."""
    return _cached(task, "references", task.references, cache, progress)


def cached_curves(task: ParameterPredictionTask, ids: Sequence[str], cache: str | Path = DEFAULT_CACHE,
                  progress: bool = True) -> dict[str, dict[str, list]]:
    """:meth:`~ParameterPredictionTask.curves` of the networks ``ids``, cached and logged as
    :func:`cached_references` (the key adds the fingerprint of the training split they train on)."""
    return _cached(task, {"kind": "curves", "training_data": task.training_data_fingerprint()},
                   partial(task.curves, ids), cache, progress)


def curve_sample(task: ParameterPredictionTask, per_split: int, seed: int = 0) -> list[str]:
    """The networks whose training :func:`run_parameter_prediction` reruns for the epochs-saved
    figure: ``per_split`` networks of each test split (all of a smaller split) drawn at random
    (seeded by ``seed`` and the split), sorted."""
    ids = set()
    for split in TEST_SPLITS:
        members = task.ids(split)
        ids.update(random.Random(f"{seed}:{split}").sample(members, min(per_split, len(members))))
    return sorted(ids)


def _cached(task: ParameterPredictionTask, kind: Any, scorer, cache: str | Path, progress: bool) -> dict:
    identity = {"kind": kind, "zoo": zoo_fingerprint(task.zoo, task.revision), "data": task.data_fingerprint(),
                "settings": {k: v for k, v in task.settings().items() if k != "data"}}
    log = ScoreLog(Path(cache) / f"{_digest(identity)[:32]}.jsonl", identity)
    return scorer(progress=progress, known=log.known, on_scored=log.append)


def epochs_to_reach(epochs: Sequence[float], accuracy: Sequence[float], target: float) -> tuple[float, bool]:
    """Epochs a recorded training curve (``accuracy`` after each of the increasing ``epochs``, linear
    in between) takes to first reach ``target``: ``(epochs, True)``, or ``(epochs[-1], False)`` when
    it never does (a lower bound)."""
    if len(epochs) != len(accuracy) or not epochs:
        raise ValueError("epochs_to_reach needs one accuracy per epoch and at least one epoch")
    if target <= accuracy[0]:
        return float(epochs[0]), True
    for e0, a0, e1, a1 in zip(epochs, accuracy, epochs[1:], accuracy[1:]):
        if a1 >= target:  # a0 < target here: every earlier point is below it
            return e0 + (target - a0) / (a1 - a0) * (e1 - e0), True
    return float(epochs[-1]), False


def anchors(task: ParameterPredictionTask, scores: Mapping[str, Scores], curves: Mapping[str, Mapping]) -> dict:
    """``{split: {"ranking_tau"[, "epochs_saved", "full_data_epochs_saved"][, "finetune_gain"]}}``
    of the ``predicted`` source over each split's networks (see the module docstring). ``scores``:
    ``{split: scores}`` holding ``predicted`` and ``trained`` (and both ``+finetune`` sources for
    the gain); ``curves``: :meth:`~ParameterPredictionTask.curves` of some networks (the epochs
    figures are over those of each split, when it has any)."""
    out = {}
    for split, rows in scores.items():
        ids = task.ids(split)
        specs = [spec_to_json(task.networks[m].spec) for m in ids]
        out[split] = {"ranking_tau": _ranking_tau(rows, ids, specs)}
        rerun = [m for m in ids if m in curves]
        if rerun:
            reached = [epochs_to_reach(curves[m]["epochs"], curves[m]["accuracy"], rows[m]["predicted"]["accuracy"])
                       for m in rerun]
            saved = [epochs for epochs, _ in reached]
            full_data = [epochs * task.networks[m].hparams["train_fraction"] for m, epochs in zip(rerun, saved)]
            rerun_specs = [spec_to_json(task.networks[m].spec) for m in rerun]
            not_reached = sum(not ok for _, ok in reached)
            for key, values in (("epochs_saved", saved), ("full_data_epochs_saved", full_data)):
                out[split][key] = _clustered(values, rerun_specs, median=statistics.median(values),
                                             not_reached=not_reached)
        if "predicted+finetune" in rows[ids[0]]:
            gain = [rows[m]["predicted+finetune"]["accuracy"] - rows[m]["random_init+finetune"]["accuracy"]
                    for m in ids]
            out[split]["finetune_gain"] = _clustered(gain, specs)
    return out


def _clustered(values: list[float], specs: list[str], **extra) -> dict:
    low, high = stats.cluster_mean_interval(values, specs)
    return {"mean": statistics.fmean(values), "ci_low": low, "ci_high": high, "n": len(values), **extra}


def _ranking_tau(rows: Scores, ids: list[str], specs: list[str]) -> dict:
    by_spec: dict[str, tuple[list, list]] = {}
    for m, key in zip(ids, specs):
        predicted, trained = by_spec.setdefault(key, ([], []))
        predicted.append(rows[m]["predicted"]["accuracy"])
        trained.append(rows[m]["trained"]["accuracy"])
    predicted = [statistics.fmean(p) for p, _ in by_spec.values()]
    trained = [statistics.fmean(t) for _, t in by_spec.values()]
    if len(by_spec) < 2:
        return {"tau": None, "ci_low": None, "ci_high": None, "n_architectures": len(by_spec)}
    low, high = stats.interval("kendall_tau", trained, [predicted])
    return {"tau": METRIC_FUNCTIONS["kendall_tau"](trained, predicted), "ci_low": low, "ci_high": high,
            "n_architectures": len(by_spec)}


def _score_split(task: ParameterPredictionTask, predictions: Mapping, split: str, log: ScoreLog,
                 progress: bool) -> Scores:
    ids = task.ids(split)
    return task.evaluate({m: predictions[m] for m in ids}, split=split, progress=progress,
                         known={m: log.known[m] for m in ids if m in log.known}, on_scored=log.append)


def _trained_ghns(task, out: Path, train_steps, train_limit, seed, recipe, progress) -> dict[str, tuple[GHN, dict]]:
    """The run's two GHNs, each trained once: a rerun loads ``<out>/ghn-<name>/`` when its record matches."""
    ghns = {}
    for name in (ALL_FAMILIES, HELD_OUT):
        folder = out / f"ghn-{name}"
        wanted = {"steps": train_steps, "train_limit": train_limit, "seed": seed, "data": task.data,
                  "zoo": zoo_fingerprint(task.zoo, task.revision),
                  "architecture_space": _space_name(recipe)}
        try:
            saved = json.loads((folder / "metanet.json").read_text())
        except (OSError, json.JSONDecodeError):
            saved = {}
        if saved.get("wanted") == wanted:
            ghns[name] = GHN.load(folder), saved["protocol"]
            continue
        model, record = train_task_ghn(task, name, train_steps, seed, train_limit, recipe, progress)
        model.save(folder, wanted=wanted, protocol=record)
        ghns[name] = model, record
    return ghns


def run_parameter_prediction(task: ParameterPredictionTask, out: str | Path, predictions: str | Path | None = None,
                             train_steps: int = 3000, train_limit: int | None = None, seed: int = 0,
                             recipe: Recipe | None = None, cache: str | Path = DEFAULT_CACHE,
                             curve_networks: int = 20, progress: bool = True) -> dict:
    """Score the two GHNs (trained for ``train_steps`` on ``train_limit`` images, architectures
    from ``recipe`` or the zoo's train rows) or the given ``predictions`` folder on ``task``, rerun
    the training of ``curve_networks`` networks per test split (:func:`curve_sample`) for the
    epochs-saved figure; write
    ``<out>/predictions/<ghn>/<model_id>.safetensors`` (GHNs only), the score logs and
    ``<out>/results.json``. A rerun continues where an interrupted one stopped. Returns the results dict."""
    start, out = time.perf_counter(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    identity = {"task_settings": task.settings(), "zoo": zoo_fingerprint(task.zoo, task.revision)}
    per_split: dict[str, Scores] = {}
    if predictions is None:
        ghns = _trained_ghns(task, out, train_steps, train_limit, seed, recipe, progress)
        for name, (ghn, record) in ghns.items():
            log = ScoreLog(out / f"scores-{name}.jsonl", {**identity, "ghn": record})
            predicted = {m: ghn.predict(task.networks[m].spec) for s in ghn_splits(name) for m in task.ids(s)}
            save_predictions(predicted, out / "predictions" / name)
            for split in ghn_splits(name):
                per_split[split] = _score_split(task, predicted, split, log, progress)
        first = ghns[ALL_FAMILIES][0]
        metanet = {"name": first.name, "n_params": sum(p.numel() for p in first.parameters()), "hparams": first.hparams()}
        protocol = {name: record for name, (_, record) in ghns.items()}
        train_seconds = sum(record["train_seconds"] for _, record in ghns.values())
    else:
        loaded = load_predictions(predictions)
        log = ScoreLog(out / "scores-predictions.jsonl", {**identity, "predictions": _folder_digest(predictions)})
        per_split = {split: _score_split(task, loaded, split, log, progress) for split in TEST_SPLITS}
        metanet = {"name": f"predictions:{Path(predictions).name}", "n_params": None, "hparams": {}}
        protocol, train_seconds = {}, 0.0
    references = cached_references(task, cache, progress)
    per_split = {split: {m: {**scores[m], **references[m]} for m in task.ids(split)} for split, scores in per_split.items()}
    curves = cached_curves(task, curve_sample(task, curve_networks, seed), cache, progress)
    results = {
        "schema": PARAMETER_PREDICTION_SCHEMA_ID, "task": task.name, "task_settings": task.settings(),
        "zoo": {"path_or_repo_id": task.zoo, "revision": task.revision,
                "fingerprint": zoo_fingerprint(task.zoo, task.revision)},
        "metanet": metanet, "protocol": protocol, "seed": seed,
        "per_network": {split: {m: {s: v["accuracy"] for s, v in scores.items()} for m, scores in rows.items()}
                        for split, rows in per_split.items()},
        "single_class": {split: {m: {s: v["single_class"] for s, v in scores.items()} for m, scores in rows.items()}
                         for split, rows in per_split.items()},
        "metrics": summarize_networks(task, per_split),
        "curves": curves,
        "anchors": anchors(task, per_split, curves),
        "uncertainty": {**uncertainty_settings(), "predicted_method": stats.CLUSTER_METHOD},
        "environment": environment(),
        "timings": {"train_seconds": train_seconds, "total_seconds": time.perf_counter() - start},
        "created": created_now(),
    }
    check_schema(results, "parameter-prediction results")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


def _folder_digest(folder: str | Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.safetensors")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
