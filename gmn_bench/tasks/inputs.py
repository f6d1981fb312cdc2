"""What a metanet may read: the input view of a task's rows, kept apart from the targets.

A zoo row also records what was measured or chosen while its network trained (accuracies, losses,
the training recipe, seeds, the checkpoint epoch, split labels). A metanet that read them would
read the answers, so every public path that hands rows to a metanet
(:meth:`Task.rows <gmn_bench.tasks.Task.rows>`, the task datasets, :func:`gmn_bench.evaluation.predict`,
the protocol) hands it :class:`InputRows` instead: the rows restricted to the columns of a *track*.

* ``"weights"`` (the default, :data:`INPUT_COLUMNS`): ``model_id``, ``family``, ``arch``,
  ``n_params``, ``weights``;
* ``"recipe"`` (reference lines that also read how a network was trained): the same plus the
  recorded training recipe, :data:`RECIPE_COLUMNS` (those the zoo has), minus the task's own target
  columns (no ``optimizer`` when the optimizer is the target). Never accuracies, losses or seeds.

A metanet declares its track (:attr:`gmn_bench.metanets.Metanet.track`); results files and the
board record it. Reading any other column -- ``row["test_acc"]``, ``row.get("optimizer")``,
``rows["train_acc"]`` -- raises :class:`HiddenColumnError` (a ``KeyError``) naming the column;
targets come only from ``task.targets(split)`` (or ``y`` of the task datasets).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import datasets

from ..zoo.schema import COLUMNS, SPLIT_PREFIX

INPUT_COLUMNS = ("model_id", "family", "arch", "n_params", "weights")
"""What every metanet reads: the network (id, family, architecture, size, weights)."""
RECIPE_COLUMNS = ("optimizer", "learning_rate", "weight_decay", "label_smoothing", "batch_size", "epochs",
                  "train_fraction", "augmentation")
"""The recorded training recipe, read by metanets of the ``"recipe"`` track (minus the task's target)."""
WEIGHTS, RECIPE = "weights", "recipe"
TRACKS = {WEIGHTS: INPUT_COLUMNS, RECIPE: INPUT_COLUMNS + RECIPE_COLUMNS}
"""Track name -> the columns its metanets may read (those the zoo has)."""


class HiddenColumnError(KeyError):
    """A metanet asked for a column outside its input view (a label, the recipe, a seed, a split...)."""

    def __str__(self) -> str:  # KeyError would print the repr of its message
        return str(self.args[0]) if self.args else ""


def track_columns(track: str) -> tuple[str, ...]:
    """The columns a metanet of ``track`` may read; ``ValueError`` for an unknown track."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}; expected one of {sorted(TRACKS)}")
    return TRACKS[track]


class InputRow(Mapping):
    """One row of an input view: a read-only mapping of the view's columns; any other column raises
    :class:`HiddenColumnError` (``[]`` and ``get`` alike)."""

    __slots__ = ("_values", "_view")

    def __init__(self, values: Mapping[str, Any], view: "_View"):
        self._values, self._view = values, view

    def __getitem__(self, column: str) -> Any:
        if column not in self._values:
            raise self._view.hidden(column)
        return self._values[column]

    def get(self, column: str, default: Any = None) -> Any:
        """``row[column]``: unlike ``dict.get``, a hidden column raises (a default must not hide a read)."""
        return self[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"InputRow(model_id={self._values.get('model_id')!r}, columns={list(self._values)})"


class _View:
    """The columns of one view (``readable``; ``columns``: those selected) and the error for any other."""

    def __init__(self, readable: Sequence[str], track: str, targets: Sequence[str],
                 columns: Sequence[str] | None = None):
        self.readable, self.track, self.targets = tuple(readable), track, tuple(targets)
        self.columns = self.readable if columns is None else tuple(columns)

    def hidden(self, column: Any) -> HiddenColumnError:
        if column in self.readable:
            return HiddenColumnError(f"{column!r} was left out by select_columns; "
                                     f"these rows hold {', '.join(self.columns)}")
        if column in self.targets and column in TRACKS[self.track]:
            what = "this task's target"
        elif column in COLUMNS or str(column).startswith(SPLIT_PREFIX):
            what = "a label/recipe column" if self.track == WEIGHTS else "a label column (not part of the recipe)"
        else:
            what = "not an input column"
        return HiddenColumnError(
            f"{column!r} is {what}; metanets of the {self.track!r} track read only {', '.join(self.readable)}; "
            "targets come from task.targets(split)")


class InputRows:
    """A split's rows restricted to one input view (see the module docstring).

    Columnar and cheap: the rows stay a ``datasets.Dataset`` holding only the view's columns
    (``select_columns``: no copy of the weights), read one row (an :class:`InputRow`) or one
    column (``rows["model_id"]``) at a time.
    """

    def __init__(self, dataset: datasets.Dataset, track: str = WEIGHTS, targets: Sequence[str] = ()):
        columns = [c for c in track_columns(track) if c in dataset.column_names and c not in targets]
        self._view = _View(columns, track, targets)
        self._data = dataset.select_columns(columns)

    @classmethod
    def _of(cls, data: datasets.Dataset, view: _View) -> "InputRows":
        out = cls.__new__(cls)
        out._data, out._view = data, view
        return out

    @property
    def track(self) -> str:
        """The track whose view these rows are."""
        return self._view.track

    @property
    def column_names(self) -> list[str]:
        """The columns a metanet may read here."""
        return list(self._view.columns)

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[InputRow]:
        for values in self._data:
            yield InputRow(values, self._view)

    def __getitem__(self, key: int | str) -> InputRow | list:
        """``rows[i]``: the ``i``-th row; ``rows["model_id"]``: one column as a list."""
        if isinstance(key, str):
            if key not in self._view.columns:
                raise self._view.hidden(key)
            return self._data[key]
        return InputRow(self._data[int(key)], self._view)

    def select_columns(self, columns: Sequence[str]) -> "InputRows":
        """These rows with only ``columns`` (each must be in the view)."""
        for column in columns:
            if column not in self._view.columns:
                raise self._view.hidden(column)
        view = _View(self._view.readable, self.track, self._view.targets, columns)
        return self._of(self._data.select_columns(list(columns)), view)

    def select(self, indices: Sequence[int]) -> "InputRows":
        """The rows at ``indices``, in that order."""
        return self._of(self._data.select(indices), self._view)

    def __repr__(self) -> str:
        return f"InputRows(track={self.track!r}, columns={self.column_names}, num_rows={len(self)})"
