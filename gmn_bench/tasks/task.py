"""Standardized weight-space tasks: what is predicted, from which rows, scored how.

:class:`BaseTask` is what every task shares: a zoo (repo id or folder) at a revision, the splits
it scores, the networks of a split (:meth:`~BaseTask.ids`) and
``evaluate(predictions, split)``, which checks predictions keyed by ``model_id`` (one shared
check: every network of the split exactly once, nothing else) before scoring them and raises
:class:`TaskInputError` on any problem.

:class:`Task` serves the regression and classification tasks of :data:`TASKS`: the zoo config
whose train/validation/test splits it uses, the input (each network's *final checkpoint* row,
so a network is one example) -- what a metanet reads, only through the input view of
:mod:`.inputs` --, the target and the metrics, computed by :class:`Evaluator`.
:class:`gmn_bench.tasks.ParameterPredictionTask` is the other kind.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping

import datasets

from ..zoo.default import DEFAULT_ZOO
from ..zoo.io import load_zoo
from .checks import TaskInputError, check_ids, check_value, keyed_by_model_id
from .definitions import SPLITS, TASKS, TaskDefinition
from .evaluator import Evaluator
from .inputs import WEIGHTS, InputRows


def final_checkpoint_rows(ds: datasets.Dataset) -> datasets.Dataset:
    """The rows of ``ds`` holding each network's last checkpoint, ordered by ``model_id``."""
    ids, epochs = ds["model_id"], ds["epoch"]
    last: dict[str, int] = {}
    for i, (model_id, epoch) in enumerate(zip(ids, epochs)):
        if model_id not in last or epoch > epochs[last[model_id]]:
            last[model_id] = i
    return ds.select([last[m] for m in sorted(last)])


def load_task_config(task: str, zoo: str, config: str, revision: str | None, splits) -> datasets.DatasetDict:
    """Config ``config`` of ``zoo`` for task ``task``; :class:`TaskInputError` if the zoo lacks the
    config or any of ``splits``."""
    try:
        data = load_zoo(zoo, config=config, revision=revision)
    except ValueError as e:
        if "BuilderConfig" in str(e) or "not found" in str(e):
            raise TaskInputError(f"task {task!r} needs zoo config {config!r}, which {zoo} lacks: {e}") from e
        raise
    missing = [s for s in splits if s not in data]
    if missing:
        raise TaskInputError(f"task {task!r}: zoo {zoo} config {config!r} lacks splits {missing}")
    return data


class BaseTask(ABC):
    """A task bound to one zoo (a Hub repo id or a local zoo folder) at one revision.

    Subclasses set ``name`` and ``splits`` (the splits :meth:`evaluate` scores) and define
    :meth:`ids`, :meth:`rows` and :meth:`evaluate`.
    """

    name: str
    splits: tuple[str, ...]

    def __init__(self, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None):
        self.zoo = str(zoo)
        self.revision = revision

    def _split(self, split: str) -> str:
        if split not in self.splits:
            raise TaskInputError(f"{self.name}: unknown split {split!r}; expected one of {self.splits}")
        return split

    @abstractmethod
    def ids(self, split: str) -> list[str]:
        """Sorted ``model_id`` of the networks of ``split``."""

    @abstractmethod
    def rows(self, split: str, track: str = WEIGHTS) -> InputRows:
        """The rows of ``split`` a metanet of ``track`` may read (final checkpoints, input view only)."""

    @abstractmethod
    def evaluate(self, predictions, split: str) -> dict:
        """Check ``predictions`` for the networks of ``split`` and score them."""

    def check_ids(self, predictions: Any, split: str) -> dict[str, Any]:
        """``predictions`` keyed by ``model_id`` (see :func:`keyed_by_model_id`), holding every
        network of ``split`` exactly once and nothing else; :class:`TaskInputError` otherwise."""
        keyed = keyed_by_model_id(self.name, predictions)
        check_ids(self.name, keyed, self.ids(split), self._networks_of(split))
        return keyed

    def _networks_of(self, split: str) -> str:
        return f"{split} networks"


class Task(BaseTask):
    """A regression or classification task of :data:`TASKS` on one zoo (see the module docstring)."""

    splits = SPLITS

    def __init__(self, definition: TaskDefinition, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None):
        super().__init__(zoo, revision)
        self.definition = definition
        self.evaluator = Evaluator(definition.name)

    name = property(lambda self: self.definition.name)
    config = property(lambda self: self.definition.config, doc="The zoo config whose splits the task uses.")
    target = property(lambda self: self.definition.target)
    task_type = property(lambda self: self.definition.task_type)
    metrics = property(lambda self: self.evaluator.metrics, doc="The task's metrics, in reporting order.")
    rank_metric = property(lambda self: self.evaluator.rank_metric, doc="The metric tasks rank by (higher is better).")

    @cached_property
    def _splits(self) -> dict[str, datasets.Dataset]:
        zoo = load_task_config(self.name, self.zoo, self.config, self.revision, SPLITS)
        return {split: final_checkpoint_rows(zoo[split]) for split in SPLITS}

    @cached_property
    def classes(self) -> tuple[str, ...] | None:
        """Sorted class labels over the whole zoo (classification), else None."""
        if self.task_type != "classification":
            return None
        return tuple(sorted({str(self._target_of(r, s)) for s in SPLITS for r in self._label_rows(s)}))

    def _target_of(self, row: Mapping[str, Any], split: str) -> Any:
        """The target of a final-checkpoint row; a zoo may leave metrics null, a task needs its target."""
        try:
            value = self.definition.target_of(row)
        except TypeError:  # arithmetic on a null metric
            value = None
        if value is None:
            raise TaskInputError(f"{self.name}: network {row['model_id']!r} ({split} split) has no {self.target} "
                                 f"at its final checkpoint (null in the zoo); every network of a task needs its target")
        return value

    def _label_rows(self, split: str) -> Iterable[dict]:
        ds = self._splits[split]
        return ds.remove_columns([c for c in ("weights", "arch") if c in ds.column_names])

    def rows(self, split: str, track: str = WEIGHTS) -> InputRows:
        """Input rows of ``split`` (train/validation/test): each network's final checkpoint, by
        ``model_id``, restricted to the input view of ``track`` (:mod:`gmn_bench.tasks.inputs`:
        ``"weights"``, or ``"recipe"`` without this task's target columns). Targets: :meth:`targets`."""
        return InputRows(self._splits[self._split(split)], track, self.definition.target_columns)

    def ids(self, split: str = "test") -> list[str]:
        """The ``model_id`` of every network of ``split``, sorted (the order of :meth:`rows`)."""
        return list(self._targets[self._split(split)])

    @cached_property
    def _targets(self) -> dict[str, dict[str, float | str]]:
        cast = str if self.task_type == "classification" else float
        return {s: {r["model_id"]: cast(self._target_of(r, s)) for r in self._label_rows(s)} for s in SPLITS}

    def targets(self, split: str) -> dict[str, float | str]:
        """``model_id -> target`` for ``split``, in :meth:`ids` order."""
        return dict(self._targets[self._split(split)])

    def evaluate(self, predictions: Any, split: str = "test") -> dict[str, float]:
        """Score predictions of the networks of ``split`` (default: the test split), keyed by
        ``model_id``: a mapping, a pandas Series indexed by ``model_id``, or ``(model_id, value)``
        pairs. Every network of the split must appear exactly once, with no extras; values must be
        finite real numbers (regression) or known class labels (classification). Returns
        ``{metric: value}`` for :attr:`metrics` (computed by :attr:`evaluator`)."""
        keyed = self.check_ids(predictions, self._split(split))
        truth = self.targets(split)
        y_pred = [check_value(self.name, f"the prediction for {m!r}", keyed[m], self.task_type, self.classes)
                  for m in truth]
        return self.evaluator.eval({"y_true": list(truth.values()), "y_pred": y_pred})


class CrossZooTask(Task):
    """A cross-zoo task (a :class:`TaskDefinition` with a ``test_zoo``): ``train`` and ``validation``
    are those splits of the task's config in ``zoo``; ``test`` is every network (final checkpoint)
    of ``test_zoo`` at ``test_revision`` (default: the definition's test zoo). No network may be in
    both zoos."""

    def __init__(self, definition: TaskDefinition, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None,
                 test_zoo: str | Path | None = None, test_revision: str | None = None):
        super().__init__(definition, zoo, revision)
        self.test_zoo = str(test_zoo if test_zoo is not None else definition.test_zoo)
        self.test_revision = test_revision

    @cached_property
    def _splits(self) -> dict[str, datasets.Dataset]:
        source = load_task_config(self.name, self.zoo, self.config, self.revision, ("train", "validation"))
        test = load_task_config(self.name, self.test_zoo, "default", self.test_revision, ("train",))
        splits = {"train": final_checkpoint_rows(source["train"]),
                  "validation": final_checkpoint_rows(source["validation"]),
                  "test": final_checkpoint_rows(test["train"])}
        shared = set(splits["test"]["model_id"]) & {m for s in ("train", "validation") for m in splits[s]["model_id"]}
        if shared:
            raise TaskInputError(f"{self.name}: the test zoo {self.test_zoo} holds {len(shared)} networks of {self.zoo} "
                                 f"(e.g. {sorted(shared)[0]!r}); a cross-zoo task tests on another zoo's networks")
        return splits

    def _networks_of(self, split: str) -> str:
        return f"networks of the test zoo {self.test_zoo}" if split == "test" else super()._networks_of(split)


def get_task(name: str, zoo: str | Path = DEFAULT_ZOO, revision: str | None = None,
             test_zoo: str | Path | None = None, test_revision: str | None = None) -> Task:
    """The task ``name`` (a key of :data:`TASKS`) on ``zoo`` (Hub repo id or folder; default: the
    embedded zoo) at ``revision``; a cross-zoo task tests on ``test_zoo`` at ``test_revision``
    (default: its definition's test zoo; see :class:`CrossZooTask`). Raises :class:`TaskInputError`
    for an unknown name, or a ``test_zoo`` given to a task that tests on its own zoo."""
    if name not in TASKS:
        raise TaskInputError(f"unknown task {name!r}; expected one of {sorted(TASKS)}")
    definition = TASKS[name]
    if definition.test_zoo is not None:
        return CrossZooTask(definition, zoo, revision, test_zoo, test_revision)
    if test_zoo is not None or test_revision is not None:
        raise TaskInputError(f"task {name!r} tests on its own zoo's test split; only a cross-zoo task takes a test zoo")
    return Task(definition, zoo, revision)
