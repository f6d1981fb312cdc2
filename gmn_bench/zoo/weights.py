"""State-dict <-> safetensors bytes, and checked loading of a zoo row into a module."""
from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..nets.architectures import SpecError, build_model
from .checks import canonical_arch, check_row, row_name
from .errors import ZooRowError


def state_dict_to_bytes(module_or_state: nn.Module | Mapping[str, torch.Tensor]) -> bytes:
    """safetensors bytes of a module's full state_dict (parameters and buffers), on CPU."""
    state = module_or_state.state_dict() if isinstance(module_or_state, nn.Module) else module_or_state
    return st_save({k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()})


def row_spec(row: Mapping[str, Any]) -> dict:
    """The validated architecture spec of a zoo row; :class:`ZooRowError` naming the row if it is bad."""
    try:
        return json.loads(canonical_arch(row["arch"]))
    except (KeyError, TypeError, SpecError) as e:
        raise ZooRowError(f"{row_name(row)}: bad architecture spec: {e}") from e


def read_state(row: Mapping[str, Any], expected: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state_dict stored in a zoo row, after the zoo's row rules
    (:func:`gmn_bench.zoo.checks.check_row`, ``complete=False``: exactly the tensor names and shapes of
    the row's architecture, floating point where it has them, finite values, the other columns
    consistent); its names and shapes must be those of ``expected`` too (the state_dict, or tensors
    of the same shapes, of the architecture). Raises :class:`ZooRowError` naming the row and the problem."""
    check_row(row, complete=False)
    state = st_load(bytes(row["weights"]))
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    if shapes != {k: tuple(v.shape) for k, v in expected.items()}:
        raise ZooRowError(f"{row_name(row)}: the weights' tensors are not those of the expected layout")
    return state


def to_module(row: Mapping[str, Any]) -> nn.Module:
    """Rebuild the network of a zoo row with its weights, in eval mode.

    The row is checked first by :func:`gmn_bench.zoo.checks.check_row` (``complete=False``: a row
    needs ``arch`` and ``weights``; every other column present is checked too): a valid spec,
    exactly the spec's tensor names and shapes, floating point values where the network has them,
    all finite, and ``family``/``n_params``/accuracies/... consistent and in range. Any problem
    raises :class:`ZooRowError` naming the row and what is wrong. Half or double precision weights
    are cast to the network's dtype. The global random state is not touched.
    """
    check_row(row, complete=False)
    module = architecture_module(row)
    module.load_state_dict(st_load(bytes(row["weights"])))
    return module.eval()


def architecture_module(row: Mapping[str, Any]) -> nn.Module:
    """The network of a row's ``arch`` (validated by :func:`row_spec`) with fresh random values,
    leaving the global random state as it was: its structure and shapes, never the row's weights."""
    with torch.random.fork_rng(devices=[]):
        return build_model(row_spec(row))
