"""Parameter prediction (the GHN / GHN-2 setting): predict a network's weights from its architecture.

**Input.** The architecture spec (JSON, no weights) of every test network of the zoo: the test
split of the ``id`` config (in-distribution), of ``ood_family`` (a held-out family) and of
``ood_size`` (the largest networks). A network in several test splits is predicted once and
counted in each of its splits. Metanets may learn from :meth:`ParameterPredictionTask.rows`
``("train")``: the networks in the *train* split of all three configs (so no test or validation
network of any config is ever seen).

**Predictions.** One full parameter set per test network, either a mapping
``model_id -> {tensor name: tensor}`` or a folder holding ``<model_id>.safetensors`` per network
(:func:`save_predictions` / :func:`load_predictions`). Each set must hold every parameter of
``build_model(spec)`` (``named_parameters()``: names and shapes exactly as the spec's module has
them), finite floating values. BatchNorm buffers (``running_mean``, ``running_var``,
``num_batches_tracked``) may be included or left out: they are **ignored and recomputed**, as in
GHN-2, from the first ``bn_images`` training images (train-mode forward passes, cumulative
average) before every evaluation. Any other name is an error.

**Metrics.** CIFAR-10 test accuracy (the ``data`` source's test split, its first ``test_limit``
images) of each network with the predicted parameters and no training, and after a fixed short
fine-tuning (``finetune_epochs`` epochs on the first ``finetune_limit`` training images, data
order and augmentation seeded by ``seed``, the network's own recorded optimizer, learning rate,
weight decay, batch size, augmentation and label smoothing): one accuracy per network and
weight source (:data:`WEIGHT_SOURCES`), with whether the network predicts a single class for
every test image (``single_class``: an accuracy near 0.1 that is a collapse, not a weak
network), summarised over the networks of each split by
:mod:`gmn_bench.evaluation`. The same is measured for the reference sources: random
initialisation (``build_model`` seeded with the network's ``init_seed``, i.e. its zoo epoch-0
weights) with and without the fine-tuning, and the zoo's trained weights (the final checkpoint,
with its own BatchNorm statistics). With ``finetune_epochs=0`` the ``+finetune`` sources are left out.

**Training curves.** :meth:`ParameterPredictionTask.curves` reruns a test network's training from
its recorded recipe and seeds and scores it after every epoch on the same test images: the accuracy
its own training reached after each epoch, from which :mod:`gmn_bench.evaluation` reads how many
epochs of that training predicted weights are worth.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import datasets
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from ..nets.architectures import build_model
from ..nets.cifar import load_cifar10, normalize
from ..nets.training import OPTIMIZERS, prepare_data, train_epoch, train_network
from ..progress import quiet_datasets
from ..zoo.default import DEFAULT_ZOO
from ..zoo.weights import to_module
from .checks import TaskInputError
from .definitions import PARAMETER_PREDICTION as NAME
from .inputs import WEIGHTS, InputRows
from .task import BaseTask, final_checkpoint_rows, load_task_config

TEST_SPLITS = ("id", "ood_family", "ood_size")
WEIGHT_SOURCES = ("predicted", "predicted+finetune", "random_init", "random_init+finetune", "trained")
"""Where the scored weights come from: the predictions (with and without fine-tuning), random
initialisation (with and without fine-tuning) and the zoo's trained weights."""

Predictions = Mapping[str, Mapping[str, torch.Tensor]]
Scores = dict[str, dict[str, dict[str, Any]]]
"""``{model_id: {source: {"accuracy": float, "single_class": bool}}}``."""


@dataclass(frozen=True)
class Network:
    """One network of the task: its id, spec, recorded recipe (``hparams``: optimizer,
    learning_rate, weight_decay, batch_size, augmentation, label_smoothing, init_seed, data_seed,
    epochs, train_fraction, the share of the training images it trained on, and precision) and
    test splits."""

    model_id: str
    spec: dict
    hparams: dict
    splits: tuple[str, ...]


def save_predictions(predictions: Predictions, folder: str | Path) -> Path:
    """Write ``model_id -> state_dict`` as ``<folder>/<model_id>.safetensors`` (CPU, contiguous)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for model_id, state in predictions.items():
        save_file({k: v.detach().to("cpu").contiguous() for k, v in state.items()}, folder / f"{model_id}.safetensors")
    return folder


def load_predictions(folder: str | Path) -> dict[str, dict[str, torch.Tensor]]:
    """Read every ``<model_id>.safetensors`` of ``folder`` back into ``model_id -> state_dict``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TaskInputError(f"{NAME}: predictions folder {folder} does not exist")
    out = {}
    for path in sorted(folder.glob("*.safetensors")):
        try:
            out[path.stem] = load_file(path)
        except (SafetensorError, OSError) as e:
            raise TaskInputError(f"{NAME}: {path.name} is not a readable safetensors file: {e}") from e
    return out


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> nn.Module:
    """Reset every BatchNorm's running statistics and re-estimate them (cumulative average) from
    ``images`` (uint8) with train-mode forward passes; returns ``model`` in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for i in range(0, len(images), batch_size):
            model(normalize(images[i:i + batch_size]))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
    return model.eval()


def finetune(model: nn.Module, hparams: Mapping[str, Any], images: torch.Tensor, labels: torch.Tensor,
             epochs: int, seed: int) -> nn.Module:
    """Train ``model`` in place for ``epochs`` epochs with the recorded ``hparams`` (optimizer,
    learning_rate, weight_decay, batch_size, augmentation, label_smoothing); data order and
    augmentation seeded by ``seed``."""
    optimizer = OPTIMIZERS[hparams["optimizer"]](model.parameters(), hparams["learning_rate"], hparams["weight_decay"])
    generator = torch.Generator().manual_seed(seed)
    data = prepare_data((images, labels))
    for _ in range(epochs):
        train_epoch(model, optimizer, data, hparams, generator)
    return model


@torch.no_grad()
def score(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> dict[str, Any]:
    """``{"accuracy", "single_class"}`` of ``model`` (eval mode) on uint8 (or prepared) ``images``:
    its accuracy and whether it predicts the same class for every image."""
    model.eval()
    images, labels = prepare_data((images, labels))
    predicted = torch.cat([model(images[i:i + batch_size]).argmax(-1) for i in range(0, len(images), batch_size)])
    return {"accuracy": (predicted == labels).double().mean().item(),
            "single_class": bool((predicted == predicted[0]).all())}


class ParameterPredictionTask(BaseTask):
    """Parameter prediction on one zoo (Hub repo id or folder) scored on CIFAR-10 ``data``."""

    name = NAME
    splits = TEST_SPLITS

    def __init__(self, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None, data: str = "uoft-cs/cifar10",
                 test_limit: int | None = None, finetune_epochs: int = 1, finetune_limit: int | None = 1000,
                 bn_images: int = 512, seed: int = 0):
        super().__init__(zoo, revision)
        self.data = str(data)
        self.test_limit, self.finetune_epochs, self.finetune_limit = test_limit, finetune_epochs, finetune_limit
        self.bn_images, self.seed = bn_images, seed

    def settings(self) -> dict:
        """The settings that fix the scores (recorded in results files)."""
        return {"data": self.data, "test_limit": self.test_limit, "finetune_epochs": self.finetune_epochs,
                "finetune_limit": self.finetune_limit, "bn_images": self.bn_images, "seed": self.seed}

    @cached_property
    def _configs(self) -> dict[str, datasets.DatasetDict]:
        return {config: load_task_config(NAME, self.zoo, config, self.revision, ("train", "test"))
                for config in TEST_SPLITS}

    @cached_property
    def _test_rows(self) -> dict[str, dict]:
        """model_id -> final-checkpoint row (weights included) of every test network."""
        rows = {}
        for config in TEST_SPLITS:
            for row in final_checkpoint_rows(self._configs[config]["test"]):
                rows[row["model_id"]] = row
        return dict(sorted(rows.items()))

    @cached_property
    def networks(self) -> dict[str, Network]:
        """model_id -> :class:`Network` for every test network (each once), sorted by id."""
        split_of = {c: set(self._configs[c]["test"]["model_id"]) for c in TEST_SPLITS}
        return {m: Network(m, json.loads(r["arch"]), _hparams(r), tuple(c for c in TEST_SPLITS if m in split_of[c]))
                for m, r in self._test_rows.items()}

    def ids(self, split: str | None = None) -> list[str]:
        """Sorted ids of the networks to predict: those of one test split, or (``None``) of all."""
        if split is not None:
            self._split(split)
        return [m for m, n in self.networks.items() if split is None or split in n.splits]

    def _networks_of(self, split: str | None) -> str:
        return "test architectures" if split is None else f"{split} test architectures"

    def architectures(self) -> dict[str, dict]:
        """The task input: ``model_id -> architecture spec`` of every test network."""
        return {m: dict(n.spec) for m, n in self.networks.items()}

    def rows(self, split: str = "train", track: str = WEIGHTS) -> InputRows:
        """Final-checkpoint rows a metanet may learn from: ``"train"`` = networks in the train split
        of every config (``id``, ``ood_family``, ``ood_size``), restricted to the input view of
        ``track`` (:mod:`gmn_bench.tasks.inputs`)."""
        if split != "train":
            raise TaskInputError(f"{NAME}: only the 'train' rows are exposed, got {split!r}")
        train = final_checkpoint_rows(self._configs["id"]["train"])
        keep = set(train["model_id"])
        for config in TEST_SPLITS[1:]:
            keep &= set(self._configs[config]["train"]["model_id"])
        with quiet_datasets():
            return InputRows(train.filter(lambda m: m in keep, input_columns="model_id"), track)

    def check(self, predictions: Predictions | str | Path, split: str | None = None) -> dict[str, dict[str, torch.Tensor]]:
        """Validated predictions (a mapping, or a folder of safetensors files) of the networks of
        ``split`` (default: every test network): parameters only, float32. Raises
        :class:`TaskInputError` naming the network and tensor on any problem."""
        if isinstance(predictions, (str, Path)):
            predictions = load_predictions(predictions)
        keyed = self.check_ids(predictions, split)
        return {m: self._check_state(m, keyed[m]) for m in self.ids(split)}

    def _check_state(self, model_id: str, state: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        if not isinstance(state, Mapping):
            raise TaskInputError(f"{NAME}: {model_id}: predicted weights must be a name -> tensor mapping, "
                                 f"got {type(state).__name__}")
        module = build_model(self.networks[model_id].spec)
        params = dict(module.named_parameters())
        buffers = dict(module.named_buffers())
        missing = sorted(set(params) - set(state))
        if missing:
            raise TaskInputError(f"{NAME}: {model_id}: missing tensors {missing}")
        for key, tensor in state.items():
            where = f"{NAME}: {model_id}: tensor {key!r}"
            if key not in params and key not in buffers:
                raise TaskInputError(f"{where} is not a parameter of the architecture (expected {sorted(params)})")
            if not isinstance(tensor, torch.Tensor):
                raise TaskInputError(f"{where} is a {type(tensor).__name__}, not a torch.Tensor")
            want = (params.get(key) if key in params else buffers[key]).shape
            if tuple(tensor.shape) != tuple(want):
                raise TaskInputError(f"{where} has shape {tuple(tensor.shape)}, the architecture needs {tuple(want)}")
            if key in params and not tensor.is_floating_point():
                raise TaskInputError(f"{where} has dtype {tensor.dtype}, expected a floating type")
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise TaskInputError(f"{where} has non-finite values")
        return {k: state[k].detach().to(torch.float32) for k in params}

    def data_fingerprint(self) -> str:
        """``sha256:<hex>`` of exactly the images and labels the scores use (the fine-tuning and
        BatchNorm images, the test images): the data's identity, whatever its source."""
        return _fingerprint((*self._train_data, *self._test_data))

    @cached_property
    def _train_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        return load_cifar10(self.data, "train", self.finetune_limit)

    @cached_property
    def _test_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        return load_cifar10(self.data, "test", self.test_limit)

    def _scores(self, network: Network, module: nn.Module, source: str) -> dict[str, dict[str, Any]]:
        """:func:`score` of ``module`` as ``source`` with no training and, when ``finetune_epochs > 0``,
        as ``source+finetune`` after the fixed fine-tuning."""
        calibration = self._train_data[0][:self.bn_images]
        scores = {source: score(recompute_batchnorm(module, calibration), *self._test_data)}
        if self.finetune_epochs > 0:
            tuned = finetune(copy.deepcopy(module), network.hparams, *self._train_data, self.finetune_epochs, self.seed)
            scores[f"{source}+finetune"] = score(recompute_batchnorm(tuned, calibration), *self._test_data)
        return scores

    def evaluate(self, predictions: Predictions | str | Path, split: str | None = None, progress: bool = True,
                 known: Mapping[str, Mapping] | None = None, on_scored: OnScored | None = None) -> Scores:
        """Score predicted weights of the networks of ``split`` (default: every test network):
        ``{model_id: {source: {"accuracy", "single_class"}}}`` for the sources ``predicted`` and
        (``finetune_epochs > 0``) ``predicted+finetune``. Networks in ``known`` keep those scores
        (a resumed run); ``on_scored(model_id, scores)`` runs after each newly scored network."""
        checked = self.check(predictions, split)

        def scored(model_id: str) -> dict:
            module = build_model(self.networks[model_id].spec)
            module.load_state_dict(checked[model_id], strict=False)
            return self._scores(self.networks[model_id], module, "predicted")

        return _score_each(list(checked), scored, "scoring predicted weights", progress, known, on_scored)

    def references(self, progress: bool = True, known: Mapping[str, Mapping] | None = None,
                   on_scored: OnScored | None = None) -> Scores:
        """The reference sources (``random_init``, ``random_init+finetune``, ``trained``) of every
        test network, same layout and arguments as :meth:`evaluate`."""
        def scored(model_id: str) -> dict:
            network = self.networks[model_id]
            torch.manual_seed(network.hparams["init_seed"])
            return {**self._scores(network, build_model(network.spec), "random_init"),
                    "trained": score(to_module(self._test_rows[model_id]), *self._test_data)}

        return _score_each(list(self.networks), scored, "scoring reference weights", progress, known, on_scored)

    def curves(self, ids: Sequence[str] | None = None, progress: bool = True,
               known: Mapping[str, Mapping] | None = None, on_scored: OnScored | None = None) -> dict[str, dict]:
        """The training curves of the networks ``ids`` (default: every test network), rerun: each is
        trained again from random initialisation with its recorded recipe and seeds (``init_seed``,
        ``data_seed``, optimizer, learning rate, weight decay, batch size, augmentation, label
        smoothing, train fraction, precision, epochs) on the data's training split, and scored after
        every epoch on the test images of every score: ``{model_id: {"epochs": [0, 1, ..., E],
        "accuracy": [...]}}``: the network's training when zoo copies keep the final checkpoint only
        (as the embedded one does). Training is seeded, so a rerun gives the same curve; with the
        zoo's own images most reruns end at exactly the zoo's final weights (45 of 59 sampled on the
        embedded zoo). ``known`` and ``on_scored`` as in :meth:`evaluate`."""
        def scored(model_id: str) -> dict:
            network = self.networks[model_id]
            checkpoints = train_network(network.spec, network.hparams, self._all_train_data, self._test_data,
                                        range(network.hparams["epochs"] + 1), train_eval_images=1)
            accuracy = []
            for _, state, _ in checkpoints:
                module = build_model(network.spec)
                module.load_state_dict(state)
                accuracy.append(score(module.eval(), *self._test_data)["accuracy"])
            return {"epochs": [epoch for epoch, _, _ in checkpoints], "accuracy": accuracy}

        return _score_each(list(self.networks if ids is None else ids), scored, "rerunning training curves",
                           progress, known, on_scored)

    def training_data_fingerprint(self) -> str:
        """``sha256:<hex>`` of the whole training split of the data (what :meth:`curves` trains on)."""
        return _fingerprint(self._all_train_data)

    @cached_property
    def _all_train_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        return load_cifar10(self.data, "train")


OnScored = Callable[[str, dict], None]


def _score_each(ids: list[str], scored: Callable[[str], dict], desc: str, progress: bool,
                known: Mapping[str, Mapping] | None, on_scored: OnScored | None) -> Scores:
    known = known or {}
    out = {}
    for model_id in tqdm(ids, desc=desc, disable=not progress):
        if model_id in known:
            out[model_id] = dict(known[model_id])
            continue
        out[model_id] = scored(model_id)
        if on_scored is not None:
            on_scored(model_id, out[model_id])
    return out


def _fingerprint(tensors) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(str((tensor.dtype, tuple(tensor.shape))).encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def _hparams(row: Mapping[str, Any]) -> dict:
    keys = ("optimizer", "learning_rate", "weight_decay", "batch_size", "augmentation", "label_smoothing", "init_seed",
            "data_seed", "epochs")
    fraction = row.get("train_fraction")  # missing or null in zoos built before it: every image
    return {**{k: row[k] for k in keys}, "train_fraction": 1.0 if fraction is None else fraction,
            "precision": row.get("precision")}
