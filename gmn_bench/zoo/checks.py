"""One set of rules for zoo rows, applied wherever rows enter the package: rows given to
:func:`~gmn_bench.zoo.io.write_zoo`, rows read back by :func:`~gmn_bench.zoo.io.load_zoo` (and so by
the tasks and graph loaders), and a single row given to :func:`~gmn_bench.zoo.weights.to_module`
(and so to ``to_graph`` and every metanet's ``featurize``).

* :func:`check_row`: one row. Known columns only, non-null where required, the right type, finite
  numbers in the column's range (:data:`~gmn_bench.zoo.schema.COLUMNS`), well-formed ids and names,
  a known precision, a valid architecture spec whose family is ``family`` and whose parameter count is
  ``n_params``, ``epoch <= epochs``, and weights that are readable safetensors bytes holding exactly the spec's
  tensors (names, shapes), floating point where the network is, with finite values that stay
  finite in the network's dtype (float64 beyond float32's range is refused). Numbers are taken by
  :mod:`gmn_bench.intake` (exact, no bools, no complex).
* :func:`check_rows`: every row, then the table: one row per (``model_id``, ``epoch``); the network
  columns (architecture, hyperparameters, seeds, split labels) the same on every checkpoint of a
  network, so that no network is in two splits; each network's last checkpoint at its ``epochs``;
  no two networks with identical trained weights (one network under two ids), compared by
  content (:func:`network_digest`: tensor names, shapes and values), not by their bytes.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np
import torch
from safetensors import SafetensorError, deserialize

from ..intake import integer, real
from ..nets.architectures import SpecError, build_model, count_parameters, spec_to_json, validate_spec
from .errors import ZooFormatError, ZooRowError
from .schema import COLUMNS, MODEL_ID, NAME, PRECISIONS, SPLIT_COLUMN, SPLIT_LABEL, SPLIT_PREFIX

_INT_RANGE = {"int32": 2**31, "int64": 2**63}
_TEXT_RULES = {"model_id": (MODEL_ID, "letters, digits, '.', '_' and '-', at most 128, no '..'"),
               "optimizer": (NAME, "a name of letters, digits, '_', '.', '+' and '-'"),
               "augmentation": (NAME, "a name of letters, digits, '_', '.', '+' and '-'"),
               "precision": (re.compile("|".join(PRECISIONS)), "one of " + ", ".join(PRECISIONS))}
_NETWORK_COLUMNS = tuple(name for name, column in COLUMNS.items() if column.network)


def row_name(row: Mapping[str, Any]) -> str:
    """How messages name a row: ``row model_id=... epoch=...`` (None for a column the row lacks or hides: a
    metanet's input view has no ``epoch``)."""
    return f"row model_id={_present(row, 'model_id')!r} epoch={_present(row, 'epoch')!r}"


@lru_cache(maxsize=4096)
def canonical_arch(arch: str) -> str:
    """The canonical JSON of the spec ``arch`` (defaults filled, keys sorted); :class:`SpecError` if invalid."""
    return spec_to_json(validate_spec(arch))


@lru_cache(maxsize=4096)
def _expected_tensors(arch: str) -> tuple[dict[str, tuple[tuple[int, ...], torch.dtype]], int]:
    """``name -> (shape, dtype)`` of the state_dict of ``arch`` (canonical), and its parameter count.
    The global RNG is left untouched. (Not on the meta device: its random init imports torch._dynamo,
    seconds per process.)"""
    with torch.random.fork_rng(devices=[]):
        module = build_model(arch)
    return {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}, count_parameters(module)


def _fail(row: Mapping[str, Any], message: str):
    raise ZooRowError(f"{row_name(row)}: {message}")


def _check_value(row: Mapping[str, Any], name: str, value: Any) -> None:
    column = COLUMNS[name]
    if column.dtype == "string":
        if not isinstance(value, str):
            _fail(row, f"{name} must be a string, got {type(value).__name__} {value!r:.80}")
        if name in _TEXT_RULES and not _TEXT_RULES[name][0].fullmatch(value):
            _fail(row, f"{name} {value!r:.80} is not {_TEXT_RULES[name][1]}")
        return
    if column.dtype == "binary":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            _fail(row, f"{name} must be bytes, got {type(value).__name__}")
        return
    where = f"{row_name(row)}: {name}"
    if isinstance(value, (np.ndarray, torch.Tensor)):  # a cell holds a scalar Arrow can store, not an array
        _fail(row, f"{name} must be a number, got {type(value).__name__}")
    if column.dtype in _INT_RANGE:
        value = integer(value, where, ZooRowError)
        if not -_INT_RANGE[column.dtype] <= value < _INT_RANGE[column.dtype]:
            _fail(row, f"{name} {value} does not fit {column.dtype}")
    else:
        value = real(value, where, ZooRowError)
    low_ok = value > column.low if column.low_open else value >= column.low
    high_ok = value < column.high if column.high_open else value <= column.high
    if not (low_ok and high_ok):
        interval = f"{'(' if column.low_open else '['}{column.low:g}, {column.high:g}{')' if column.high_open else ']'}"
        _fail(row, f"{name} {value!r} is outside {interval}")


_FLOAT_DTYPES = {"F16": "<f2", "BF16": None, "F32": "<f4", "F64": "<f8"}  # safetensors dtype -> numpy (None: bits)
_INT_DTYPES = {"I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}
_TORCH_DTYPES = {torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}
_NUMPY_OF_TORCH = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}


def tensor_values(dtype: str, data) -> np.ndarray:
    """The values of a safetensors tensor (``dtype``, raw little-endian ``data``), exactly: floating
    point as float64 (which holds every F16, BF16, F32 and F64 value), integers as int64."""
    if dtype == "BF16":  # numpy has no bfloat16: its bits are the upper half of a float32's
        return (np.frombuffer(data, "<u2").astype("<u4") << 16).view("<f4").astype(np.float64)
    if dtype in _FLOAT_DTYPES:
        return np.frombuffer(data, _FLOAT_DTYPES[dtype]).astype(np.float64)
    return np.frombuffer(data, _INT_DTYPES[dtype]).astype(np.int64)


def _representable(values: np.ndarray, dtype: torch.dtype) -> bool:
    """Whether every value stays finite cast to the network's ``dtype`` (float64 beyond float32 does not)."""
    target = _NUMPY_OF_TORCH.get(dtype, np.float32)
    with np.errstate(over="ignore"):
        return bool(np.isfinite(values.astype(target)).all())


def _check_weights(row: Mapping[str, Any], expected: Mapping[str, tuple[tuple[int, ...], torch.dtype]]) -> None:
    try:
        tensors = dict(deserialize(bytes(row["weights"])))
    except (SafetensorError, ValueError, TypeError, OverflowError) as e:
        _fail(row, f"weights are not readable safetensors bytes: {e}")
    missing, unexpected = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or unexpected:
        _fail(row, f"weight names do not match the spec: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for key, tensor in tensors.items():
        shape, dtype = expected[key]
        if tuple(tensor["shape"]) != shape:
            _fail(row, f"tensor {key!r} has shape {tuple(tensor['shape'])}, the spec needs {shape}")
        wanted = set(_FLOAT_DTYPES) if dtype.is_floating_point else {_TORCH_DTYPES.get(dtype)}
        if tensor["dtype"] not in wanted:
            _fail(row, f"tensor {key!r} has dtype {tensor['dtype']}; the network stores {dtype}"
                       + (" (F16, BF16, F32 or F64)" if dtype.is_floating_point else ""))
        if dtype.is_floating_point:
            values = tensor_values(tensor["dtype"], tensor["data"])
            if not np.isfinite(values).all():
                _fail(row, f"tensor {key!r} has non-finite values")
            if not _representable(values, dtype):
                _fail(row, f"tensor {key!r} has values beyond the range of {dtype}")


def _present(row: Mapping[str, Any], column: str) -> Any:
    """``row[column]``, or None where the row has no such column (membership first: a metanet's input
    view, :class:`gmn_bench.tasks.InputRow`, raises on reading a column it hides, ``get`` included)."""
    return row[column] if column in row else None


def check_row(row: Mapping[str, Any], *, complete: bool = True) -> None:
    """Check one zoo row by the rules of this module.

    ``complete``: every required column must be present (a row of a zoo); otherwise only
    ``arch`` and ``weights`` must be, and the columns present are checked (a row built by hand
    for :func:`~gmn_bench.zoo.weights.to_module`). Raises :class:`ZooRowError` naming the
    row and the problem.
    """
    if not isinstance(row, Mapping):
        raise ZooRowError(f"a zoo row must be a mapping of columns, got {type(row).__name__}")
    unknown = sorted(c for c in row if c not in COLUMNS and not (isinstance(c, str) and c.startswith(SPLIT_PREFIX)))
    if unknown:
        _fail(row, f"unknown columns {unknown[:5]}; split labels must start with {SPLIT_PREFIX!r}")
    required = [c for c, column in COLUMNS.items() if not column.nullable and (complete or c in row)]
    missing = [c for c in dict.fromkeys(required + ["arch", "weights"]) if _present(row, c) is None]
    if missing:
        _fail(row, f"missing required columns {missing}")
    for name, value in row.items():
        if name.startswith(SPLIT_PREFIX):
            if not SPLIT_COLUMN.fullmatch(name):
                _fail(row, f"split column {name!r:.80} is not 'split_' + a lower-case name")
            if not isinstance(value, str) or not SPLIT_LABEL.fullmatch(value):
                _fail(row, f"{name} {value!r:.80} is not a split label (letters, digits, '_')")
        elif value is not None:
            _check_value(row, name, value)
    try:
        arch = canonical_arch(row["arch"])
    except SpecError as e:
        _fail(row, f"bad architecture spec: {e}")
    if _present(row, "family") is not None and row["family"] != json.loads(arch)["family"]:
        _fail(row, f"family {row['family']!r} is not the family of its arch ({json.loads(arch)['family']!r})")
    try:  # a custom spec's factory is the user's code: whatever it raises names this row
        expected, n_params = _expected_tensors(arch)
    except Exception as e:
        _fail(row, f"its arch cannot be built ({type(e).__name__}: {e})")
    if _present(row, "n_params") is not None and row["n_params"] != n_params:
        _fail(row, f"n_params {row['n_params']} is not the parameter count of its arch ({n_params})")
    if _present(row, "epoch") is not None and _present(row, "epochs") is not None and row["epoch"] > row["epochs"]:
        _fail(row, f"epoch {row['epoch']} is after the network's last epoch (epochs={row['epochs']})")
    _check_weights(row, expected)


def network_digest(weights) -> bytes:
    """sha256 of a network's tensors by content: names, shapes and values (:func:`tensor_values`;
    ``-0.0`` as ``0.0``), so the same network stored as float64, with other safetensors metadata or
    another tensor order has the same digest. ``weights``: safetensors bytes a row check accepted."""
    digest = hashlib.sha256()
    for name, tensor in sorted(deserialize(bytes(weights))):
        values = tensor_values(tensor["dtype"], tensor["data"])
        digest.update(json.dumps([name, list(tensor["shape"]), values.dtype.str]).encode() + b"\0")
        digest.update((values + 0).tobytes() if values.dtype.kind == "f" else values.tobytes())
    return digest.digest()


class _Table:
    """What :func:`check_rows` remembers across rows."""

    def __init__(self):
        self.split_columns: list[str] | None = None
        self.checkpoints: set[tuple[str, int]] = set()
        self.networks: dict[str, dict[str, Any]] = {}
        self.last_epoch: dict[str, int] = {}
        self.trained: dict[bytes, tuple[str, int]] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        splits = sorted(c for c in row if c.startswith(SPLIT_PREFIX))
        if self.split_columns is None:
            self.split_columns = splits
        elif splits != self.split_columns:
            _fail(row, f"split columns {splits} differ from the first row's {self.split_columns}")
        model_id, epoch = row["model_id"], row["epoch"]
        if (model_id, epoch) in self.checkpoints:
            _fail(row, "duplicate (model_id, epoch)")
        self.checkpoints.add((model_id, epoch))
        network = {c: row.get(c) for c in (*_NETWORK_COLUMNS, *splits)}
        network["arch"] = canonical_arch(row["arch"])
        first = self.networks.setdefault(model_id, network)
        changed = [c for c in network if network[c] != first[c]]
        if changed:
            what = "splits" if all(c.startswith(SPLIT_PREFIX) for c in changed) else "values"
            _fail(row, f"checkpoints of one network have different {what}: "
                       + "; ".join(f"{c} {first[c]!r:.60} vs {network[c]!r:.60}" for c in changed[:3]))
        self.last_epoch[model_id] = max(epoch, self.last_epoch.get(model_id, epoch))
        if epoch > 0:
            digest = network_digest(row["weights"])
            other = self.trained.setdefault(digest, (model_id, epoch))
            if other[0] != model_id:
                _fail(row, f"same weights as model_id={other[0]!r} epoch={other[1]}: one network stored under two ids")

    def finish(self) -> None:
        if not self.networks:
            raise ZooFormatError("a zoo needs at least one row")
        for model_id, network in self.networks.items():
            if self.last_epoch[model_id] != network["epochs"]:
                raise ZooRowError(f"network model_id={model_id!r}: its last checkpoint is at epoch "
                                  f"{self.last_epoch[model_id]}, not at its epochs={network['epochs']}")


def check_rows(rows: Iterable[Mapping[str, Any]]) -> None:
    """Check every row (:func:`check_row`) and the table they form (see the module docstring).
    Raises :class:`ZooFormatError` (:class:`ZooRowError` when one row is to blame) at the first problem."""
    table = _Table()
    for row in rows:
        check_row(row)
        table.add(row)
    table.finish()
