"""State-dict <-> safetensors bytes, and checked loading of a zoo row into a module."""
from __future__ import annotations

import json
from typing import Any, Mapping

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..nets.architectures import build_model
from .checks import check_row
from .errors import ZooRowError  # noqa: F401  (re-exported: the error to_module raises)


def state_dict_to_bytes(module_or_state: nn.Module | Mapping[str, torch.Tensor]) -> bytes:
    """safetensors bytes of a module's full state_dict (parameters and buffers), on CPU."""
    state = module_or_state.state_dict() if isinstance(module_or_state, nn.Module) else module_or_state
    return st_save({k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()})


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
    with torch.random.fork_rng(devices=[]):  # the random init is overwritten: leave the global RNG as it was
        module = build_model(json.loads(row["arch"]))
    module.load_state_dict(st_load(bytes(row["weights"])))
    return module.eval()
