"""Import a zoo gmn-bench did not build: checkpoints + a model factory + a metrics table -> a Hub-layout zoo.

:func:`import_zoo` reads

* a **metrics table** (CSV, or JSON lines with suffix ``.jsonl``/``.json``), one line per checkpoint:
  ``id`` (the network), ``spec`` (a JSON object: the factory's knobs, with a ``family`` name, default
  ``custom``), ``epoch``, ``test_acc`` and optionally ``train_acc``, ``train_loss``, ``test_loss``, and
  the hyperparameters of the zoo format (``optimizer``, ``learning_rate``, ``weight_decay``,
  ``label_smoothing``, ``batch_size``, ``epochs``, ``augmentation``, ``init_seed``, ``data_seed``,
  optionally ``train_fraction``; ``defaults`` fills columns the table lacks), and optionally
  ``checkpoint``, the file's path inside the folder;
* a **folder of checkpoints**: ``<id>/epoch_<epoch>.safetensors`` (or ``.pt``/``.pth``, read with
  ``torch.load(weights_only=True)``: a state_dict, or a dict holding one under ``state_dict``,
  ``model_state_dict`` or ``model``) unless the table names the file;
* a **model factory** ``package.module:function`` (decorated with :func:`gmn_bench.nets.model_factory`):
  a row's architecture is the custom spec ``{**spec, "factory": factory}`` (a spec of a built-in
  family is used as it is), so ``gmn_bench.build_model`` and ``to_module`` rebuild it wherever the
  factory's package is installed.

Every row is checked like a built one (the checkpoint loads into the factory's module with exactly
its names and shapes, finite values, accuracies in [0, 1], ``write_zoo``'s checks) and the zoo gets the
same fixed splits (:func:`gmn_bench.zoo.assign_splits`: ``id`` by hash of the id; ``ood_family`` and
``ood_size`` only when given the held-out family and the size threshold) and a dataset card.
"""
from __future__ import annotations

import csv
import pickle
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ..intake import JSON_INTEGER_LIMIT, integer, json_loads, real
from ..nets.architectures import FAMILIES, SPEC_DEPTH, SpecError, build_model
from .io import ZooFormatError, make_row, write_zoo
from .schema import COLUMNS
from .splits import ID_FRACTIONS, assign_splits
from .weights import ZooRowError, to_module

_SUFFIXES = (".safetensors", ".pt", ".pth")
_WRAPPERS = ("state_dict", "model_state_dict", "model")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_JSON_DEPTH = 64
_TABLE_ONLY = {"id", "spec", "checkpoint"}
_FROM_MODULE = {"model_id", "family", "arch", "weights", "n_params"}


def read_metrics_table(path: str | Path) -> list[dict[str, Any]]:
    """The lines of a CSV or JSON-lines metrics table as dicts (CSV cells are strings until checked)."""
    path = Path(path)
    if not path.is_file():
        raise ZooFormatError(f"metrics table {path} does not exist")
    if path.suffix in (".jsonl", ".json"):
        lines = []
        for n, text in enumerate(path.read_text().splitlines(), 1):
            if text.strip():
                line = json_loads(text, f"{path}:{n}: not a JSON object", ZooFormatError, _JSON_DEPTH)
                if not isinstance(line, dict):
                    raise ZooFormatError(f"{path}:{n}: not a JSON object")
                lines.append(line)
        return lines
    try:
        with path.open(newline="") as f:
            lines = list(csv.DictReader(f))
    except (csv.Error, UnicodeDecodeError) as e:
        raise ZooFormatError(f"metrics table {path} is not a CSV table the reader takes ({e})") from e
    for n, line in enumerate(lines, 1):
        if None in line or None in line.values():
            raise ZooFormatError(f"{path} line {n}: the number of cells differs from the header's")
    return [{k: v for k, v in line.items() if v != ""} for line in lines]


def _value(column: str, raw: Any, where: str) -> Any:
    """``raw`` as the zoo column's type (from a CSV string or JSON); its range is checked with the row
    (:func:`gmn_bench.zoo.checks.check_row`, through ``to_module``)."""
    dtype, nullable = COLUMNS[column].dtype, COLUMNS[column].nullable
    if raw is None and nullable:
        return None
    try:
        if dtype == "string":
            if not isinstance(raw, str) or not raw:
                raise ValueError("expected a non-empty string")
            return raw
        if isinstance(raw, str):  # a CSV cell: an integer exactly as written, else a float
            raw = int(raw.strip()) if _INTEGER.fullmatch(raw.strip()) else float(raw)
        what = f"{where}: column {column!r}"
        if dtype.startswith("int"):
            if isinstance(raw, float) and raw.is_integer() and abs(raw) <= JSON_INTEGER_LIMIT:
                raw = int(raw)  # 32.0: an integer written as a float
            return integer(raw, what, ZooFormatError)
        return real(raw, what, ZooFormatError)
    except (TypeError, ValueError) as e:
        if isinstance(e, ZooFormatError):
            raise
        raise ZooFormatError(f"{where}: column {column!r} = {raw!r:.80}: {e}") from e


def _spec(raw: Any, factory: str | None, where: str) -> dict:
    spec = json_loads(raw, f"{where}: column 'spec' is not JSON", ZooFormatError, SPEC_DEPTH) if isinstance(raw, str) \
        else raw
    if not isinstance(spec, dict):
        raise ZooFormatError(f"{where}: column 'spec' must be a JSON object, got {raw!r}")
    spec = {"family": "custom", **spec}
    if spec["family"] in FAMILIES:
        return spec
    if factory is None:
        raise ZooFormatError(f"{where}: family {spec['family']!r} is not built in; pass the model factory")
    return {**spec, "factory": factory}


def _checkpoint_path(folder: Path, line: Mapping[str, Any], model_id: str, epoch: int, where: str) -> Path:
    if "checkpoint" in line:
        path = (folder / str(line["checkpoint"])).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            raise ZooFormatError(f"{where}: checkpoint {line['checkpoint']!r} is not a file inside {folder}")
        return path
    for suffix in _SUFFIXES:
        path = folder / model_id / f"epoch_{epoch}{suffix}"
        if path.is_file():
            return path
    raise ZooFormatError(f"{where}: no checkpoint {folder / model_id}/epoch_{epoch}" + "{" + ",".join(_SUFFIXES)
                         + "} and no 'checkpoint' column")


def load_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state_dict in a safetensors file or a torch file (``torch.load(weights_only=True)``; a bare
    state_dict or one wrapped under ``state_dict``/``model_state_dict``/``model``)."""
    path = Path(path)
    try:
        state = load_file(str(path)) if path.suffix == ".safetensors" else \
            torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as e:
        raise ZooFormatError(f"checkpoint {path}: cannot be read as {path.suffix[1:]}: {e}") from e
    if isinstance(state, Mapping) and not all(torch.is_tensor(v) for v in state.values()):
        state = next((state[k] for k in _WRAPPERS if isinstance(state.get(k), Mapping)), state)
    if not isinstance(state, Mapping) or not state or not all(
            isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise ZooFormatError(f"checkpoint {path}: expected a state_dict (names -> tensors), "
                             f"optionally under one of {_WRAPPERS}")
    return dict(state)


def _row(folder: Path, line: Mapping[str, Any], factory: str | None, defaults: Mapping[str, Any], where: str) -> dict:
    merged = {**defaults, **line}
    unknown = set(merged) - set(COLUMNS) - _TABLE_ONLY
    if unknown:
        raise ZooFormatError(f"{where}: unknown columns {sorted(unknown)}; expected id, spec, checkpoint and the "
                             f"zoo columns {sorted(set(COLUMNS) - _FROM_MODULE)}")
    required = {"id", "spec"} | {c for c in COLUMNS if not COLUMNS[c].nullable and c not in _FROM_MODULE} | {"test_acc"}
    missing = sorted(required - set(merged))
    if missing:
        raise ZooFormatError(f"{where}: missing columns {missing} (give them in the table or as defaults)")
    model_id, epoch = _value("model_id", str(merged["id"]), where), _value("epoch", merged["epoch"], where)
    spec = _spec(merged["spec"], factory, where)
    path = _checkpoint_path(folder, merged, model_id, epoch, where)
    try:
        module = build_model(spec)
        module.load_state_dict(load_checkpoint(path))
    except (SpecError, RuntimeError) as e:
        raise ZooFormatError(f"{where}: checkpoint {path} does not fit spec {spec}: {e}") from e
    columns = {c: _value(c, merged[c], where) for c in COLUMNS if c in merged and c not in _FROM_MODULE | {"epoch"}}
    row = make_row(model_id, spec, module, epoch=epoch, **columns)
    try:
        to_module(row)
    except ZooRowError as e:
        raise ZooFormatError(f"{where}: {e}") from e
    return row


def import_zoo(checkpoints: str | Path, metrics: str | Path, out: str | Path, *, factory: str | None = None,
               defaults: Mapping[str, Any] | None = None, held_out_family: str | None = None,
               ood_size_min_params: int | None = None, id_fractions: Sequence[tuple[str, float]] = ID_FRACTIONS,
               name: str = "imported gmn-bench zoo", description: str = "", overwrite: bool = False) -> Path:
    """Write the zoo of ``checkpoints`` (folder) and ``metrics`` (table) to ``out`` (see the module
    docstring); returns ``out``. ``held_out_family`` adds the ``ood_family`` config holding that family
    out; ``ood_size_min_params`` adds the ``ood_size`` config holding out every network of at least that
    many parameters (a fixed threshold, so a network's split never depends on the rest of the zoo);
    ``id_fractions`` are the expected train/validation/test shares of ``id`` (a small zoo may want
    larger validation and test shares than the default 0.8/0.1/0.1). Raises :class:`ZooFormatError` naming the table line and the problem."""
    folder = Path(checkpoints)
    if not folder.is_dir():
        raise ZooFormatError(f"checkpoint folder {folder} does not exist")
    table = read_metrics_table(metrics)
    if not table:
        raise ZooFormatError(f"metrics table {metrics} has no lines")
    rows = [_row(folder, line, factory, defaults or {}, f"{metrics} line {n}") for n, line in enumerate(table, 1)]
    if held_out_family is not None and held_out_family not in {r["family"] for r in rows}:
        raise ZooFormatError(f"held-out family {held_out_family!r} is not in the zoo")
    try:
        assign_splits(rows, held_out_family, ood_size_min_params, id_fractions)
    except ValueError as e:
        raise ZooFormatError(str(e)) from None
    text = description or "Imported with `gmn-bench import` from a checkpoint folder and a metrics table" + \
        (f"; architectures from the model factory `{factory}`." if factory else ".")
    return write_zoo(rows, out, name=name, description=text, overwrite=overwrite)
