"""State-dict <-> safetensors bytes, and checked loading of a zoo row into a module."""
from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..nets.architectures import SpecError, build_model


class ZooRowError(ValueError):
    """A zoo row cannot be turned into a network; the message names the row and the problem."""


def state_dict_to_bytes(module_or_state: nn.Module | Mapping[str, torch.Tensor]) -> bytes:
    """safetensors bytes of a module's full state_dict (parameters and buffers), on CPU."""
    state = module_or_state.state_dict() if isinstance(module_or_state, nn.Module) else module_or_state
    return st_save({k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()})


def _row_name(row: Mapping[str, Any]) -> str:
    return f"row model_id={row.get('model_id')!r} epoch={row.get('epoch')!r}"


def to_module(row: Mapping[str, Any]) -> nn.Module:
    """Rebuild the network of a zoo row with its weights, in eval mode.

    Checks that the spec is valid, that the stored tensor names and shapes are exactly
    those the spec's module has, and that every floating value is finite. Any problem
    raises :class:`ZooRowError` naming the row and what is wrong.
    """
    name = _row_name(row)
    try:
        module = build_model(json.loads(row["arch"]))
    except (KeyError, TypeError, json.JSONDecodeError, SpecError) as e:
        raise ZooRowError(f"{name}: bad architecture spec: {e}") from e
    try:
        state = st_load(bytes(row["weights"]))
    except (KeyError, TypeError, SafetensorError) as e:
        raise ZooRowError(f"{name}: weights are not readable safetensors bytes: {e}") from e
    expected = module.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ZooRowError(f"{name}: weight names do not match the spec: missing {missing}, unexpected {unexpected}")
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise ZooRowError(
                f"{name}: tensor {key!r} has shape {tuple(tensor.shape)}, the spec needs {tuple(expected[key].shape)}"
            )
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ZooRowError(f"{name}: tensor {key!r} has non-finite values")
    module.load_state_dict(state)
    return module.eval()
