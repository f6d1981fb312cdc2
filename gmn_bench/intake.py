"""Where numbers enter gmn-bench: one set of rules, raised as each entry point's own error.

A number is taken only if gmn-bench can hold it exactly; anything else is refused with a message
naming it, never silently rounded, overflowed or crashed on.

* :func:`real`: a finite real number that a float holds exactly -> ``float``. Python ``int`` and
  ``float``, numpy integer and floating scalars (``float16`` ... ``longdouble``), and 0-d numpy
  arrays or torch tensors of those (``bfloat16`` and other low-precision tensors are widened
  exactly). Refused: ``bool``, complex numbers (even with a zero imaginary part), strings,
  ``None``, NaN and infinities (whatever their payload), integers beyond float range or not exact
  in a float (``2**53 + 1``), ``longdouble`` values a float cannot hold.
* :func:`tensor_to_numpy`: a tensor's values as a numpy array, exactly (``bfloat16`` widened);
* :func:`integer`: an integer (Python or numpy, or a 0-d array or tensor of one) -> ``int``;
  refused: ``bool`` and every non-integer type (a float ``3.0`` too).
* :func:`integer_text`: an integer written in ASCII digits (the command line), within bounds.
* :func:`json_loads`: a strict JSON text: no NaN/Infinity, no float overflow, no integer beyond
  the ``2**53`` a JSON number holds exactly, bounded nesting, every parser failure as ``error``.

Each takes ``where`` (how the message names the value) and ``error``, the exception class of the
entry point (``TaskInputError``, ``ZooRowError``, ``SpecError``, ``SubmissionError``,
``argparse.ArgumentTypeError``, ...).
"""
from __future__ import annotations

import json
import math
import numbers
import re
from typing import Any, Callable

import numpy as np
import torch

JSON_INTEGER_LIMIT = 2**53
"""Largest magnitude of a JSON integer: beyond it a JSON number is not exact in the float most parsers read."""
_MAX_INT_DIGITS = 16
_DIGITS = re.compile(r"[+-]?[0-9]{1,30}")
_NUMPY_FLOATS = (torch.float16, torch.float32, torch.float64)


def _short(value: Any) -> str:
    """``repr(value)`` cut short; an integer too long to print is described by its size."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)).bit_length() > 200:
        return f"an integer of {abs(int(value)).bit_length()} bits"
    return f"{value!r:.80}"


def tensor_to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """The values of ``tensor`` as a numpy array, exactly: floating dtypes numpy lacks (``bfloat16``,
    float8) are widened to ``float32``, which holds each of their values."""
    tensor = tensor.detach().cpu()
    if tensor.is_floating_point() and tensor.dtype not in _NUMPY_FLOATS:
        tensor = tensor.to(torch.float32)
    return tensor.numpy()


def _scalar(value: Any) -> Any:
    """A 0-d numpy array or torch tensor as a numpy scalar."""
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        value = tensor_to_numpy(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (complex, np.complexfloating)):
        return "complex"
    return type(value).__name__


def real(value: Any, where: str, error: Callable[[str], Exception] = ValueError) -> float:
    """``value`` as a float, by the rules of this module; ``error(message)`` otherwise."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"{where} must be a real number, got {_kind(value)} {_short(value)}")
    try:
        as_float = float(value)
        finite = bool(np.isfinite(value)) if isinstance(value, np.floating) else math.isfinite(value)
    except OverflowError:
        as_float, finite = math.inf, True
    if not finite:
        raise error(f"{where} is not finite ({_short(value)})")
    if not math.isfinite(as_float):
        raise error(f"{where} is beyond the range of a float ({_short(value)})")
    if as_float != value:
        raise error(f"{where} cannot be represented exactly as a float ({_short(value)})")
    return as_float


def integer(value: Any, where: str, error: Callable[[str], Exception] = ValueError) -> int:
    """``value`` as an int if it is an integer (not a bool, not a float); ``error(message)`` otherwise."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise error(f"{where} must be an integer, got {_kind(value)} {_short(value)}")
    return int(value)


def integer_text(text: str, where: str, error: Callable[[str], Exception], low: int, high: int) -> int:
    """The integer written in ``text`` (ASCII digits, an optional sign) within ``[low, high]``
    (``where``: a prefix naming it, or ``""`` where the caller names it, as argparse does)."""
    prefix = f"{where}: " if where else ""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text.strip()):
        raise error(f"{prefix}{text[:40]!r} is not an integer")
    value = int(text.strip())
    if value < low:
        raise error(f"{prefix}must be at least {low}, got {value}")
    if value > high:
        raise error(f"{prefix}must be at most {high}, got {value}")
    return value


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS or abs(int(text)) > JSON_INTEGER_LIMIT:
        raise _Refused(f"integer {text[:40]}{'...' if len(text) > 40 else ''} is beyond the 2**53 a JSON number "
                       "holds exactly")
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number overflows to infinity")
    return value


def _json_constant(name: str):
    raise _Refused(f"non-finite number {name} (NaN/Infinity are not JSON)")


class _Refused(ValueError):
    """What the strict parser refuses; :func:`json_loads` re-raises it as the caller's error."""


def _check_depth(document: Any, depth: int) -> None:
    """Nesting depth of a parsed document, in one iterative pass (no recursion limit)."""
    stack = [(document, 1)]
    while stack:
        node, level = stack.pop()
        if level > depth:
            raise _Refused(f"JSON nested deeper than {depth} levels")
        stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node)
                     if isinstance(child, (dict, list)))


def json_loads(text: str | bytes, where: str, error: Callable[[str], Exception], depth: int,
               object_pairs_hook: Callable | None = None) -> Any:
    """Parse ``text`` (``bytes`` must be UTF-8) as strict JSON nested at most ``depth`` levels;
    every failure, the parser's own included, raises ``error("<where>: <why>")``. Errors that
    ``object_pairs_hook`` raises as ``error`` pass through with ``where`` prefixed."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        document = json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=_json_constant,
                              parse_int=_json_int, parse_float=_json_float)
        if isinstance(document, (dict, list)):
            _check_depth(document, depth)
    except (_Refused, error) as e:
        raise error(f"{where}: {e}") from None
    except (UnicodeDecodeError, ValueError, RecursionError, TypeError) as e:
        raise error(f"{where}: not a JSON text ({type(e).__name__}: {str(e)[:120]})") from None
    return document
