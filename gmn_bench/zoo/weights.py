"""State-dict <-> safetensors bytes, and checked loading of a zoo row into a module."""
from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..nets.architectures import SpecError, build_model, validate_spec


class ZooRowError(ValueError):
    """A zoo row cannot be turned into a network; the message names the row and the problem."""


def state_dict_to_bytes(module_or_state: nn.Module | Mapping[str, torch.Tensor]) -> bytes:
    """safetensors bytes of a module's full state_dict (parameters and buffers), on CPU."""
    state = module_or_state.state_dict() if isinstance(module_or_state, nn.Module) else module_or_state
    return st_save({k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()})


def _row_name(row: Mapping[str, Any]) -> str:
    return f"row model_id={row.get('model_id')!r} epoch={row.get('epoch')!r}"


def row_spec(row: Mapping[str, Any]) -> dict:
    """The validated architecture spec of a zoo row; :class:`ZooRowError` naming the row if it is bad."""
    try:
        return validate_spec(json.loads(row["arch"]))
    except (KeyError, TypeError, json.JSONDecodeError, SpecError) as e:
        raise ZooRowError(f"{_row_name(row)}: bad architecture spec: {e}") from e


def read_state(row: Mapping[str, Any], expected: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state_dict stored in a zoo row, checked against ``expected`` (the state_dict, or tensors of the
    same shapes and dtypes, of the row's architecture): exactly the same names and shapes, floating
    tensors where the architecture has them, and finite values. Raises :class:`ZooRowError` naming the
    row and the problem."""
    name = _row_name(row)
    try:
        state = st_load(bytes(row["weights"]))
    except (KeyError, TypeError, SafetensorError) as e:
        raise ZooRowError(f"{name}: weights are not readable safetensors bytes: {e}") from e
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ZooRowError(f"{name}: weight names do not match the spec: missing {missing}, unexpected {unexpected}")
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise ZooRowError(
                f"{name}: tensor {key!r} has shape {tuple(tensor.shape)}, the spec needs {tuple(expected[key].shape)}"
            )
        if expected[key].is_floating_point() and not tensor.is_floating_point():
            raise ZooRowError(f"{name}: tensor {key!r} has dtype {tensor.dtype}, the spec needs floating point")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ZooRowError(f"{name}: tensor {key!r} has non-finite values")
    return state


def to_module(row: Mapping[str, Any]) -> nn.Module:
    """Rebuild the network of a zoo row with its weights, in eval mode.

    Checks that the spec is valid and the weights pass :func:`read_state`; any problem raises
    :class:`ZooRowError` naming the row and what is wrong.
    """
    module = build_model(row_spec(row))
    module.load_state_dict(read_state(row, module.state_dict()))
    return module.eval()
