"""Specs of architectures gmn-bench does not define: networks built by a user's model factory.

A custom spec names its factory and carries whatever knobs the factory reads::

    {"family": "vgg", "factory": "my_package.models:build", "widths": [32, 64], "batchnorm": true}

``family`` is any name other than the built-in ``mlp``/``cnn``/``resnet``/``vit`` (zoo rows,
their ``family`` column and held-out-family splits use it); ``factory`` is ``package.module:function``
and every other key is the factory's. :func:`gmn_bench.build_model` imports the module and calls
``function(spec)`` (the whole validated spec dict), which must return an ``nn.Module`` taking
``N x 3 x 32 x 32`` images and giving 10 logits, with the same parameter names for the same spec.

A zoo's ``arch`` column is data, so a factory must opt in: only functions decorated with
:func:`model_factory` are called; any other function named by a spec is refused.
"""
from __future__ import annotations

import importlib
import json
import re
from typing import Any, Callable, Mapping

from torch import nn

_FACTORY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
_FAMILY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_MARK = "__gmn_bench_model_factory__"


def model_factory(function: Callable[[dict], nn.Module]) -> Callable[[dict], nn.Module]:
    """Mark ``function`` (spec dict -> ``nn.Module``) as a model factory custom specs may name."""
    setattr(function, _MARK, True)
    return function


def validate_custom_spec(spec: Mapping[str, Any], builtin: tuple[str, ...], error: type[ValueError]) -> dict:
    """A copy of a custom spec, checked: a lower-case ``family`` not in ``builtin``, a
    ``package.module:function`` ``factory``, JSON-serialisable knobs. Raises ``error`` naming the key."""
    family, factory = spec.get("family"), spec.get("factory")
    if not isinstance(family, str) or not _FAMILY.fullmatch(family) or family in builtin:
        raise error(f"custom spec: 'family' must be a lower-case name (letters, digits, '_', '-') other than "
                    f"{list(builtin)}, got {family!r}")
    if not isinstance(factory, str) or not _FACTORY.fullmatch(factory):
        raise error(f"custom spec: 'factory' must be 'package.module:function', got {factory!r}")
    try:
        json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise error(f"custom spec: knobs must be JSON-serialisable: {e}") from e
    return dict(spec)


def resolve_factory(path: str, error: type[ValueError]) -> Callable[[dict], nn.Module]:
    """The :func:`model_factory` function at ``package.module:function``; ``error`` if missing or unmarked."""
    module_name, _, name = path.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as e:
        raise error(f"custom spec: cannot import factory {path!r}: {e}") from e
    if not getattr(function, _MARK, False):
        raise error(f"custom spec: {path!r} is not decorated with gmn_bench.nets.model_factory; "
                    "only marked factories may be called from a spec")
    return function


def build_custom(spec: dict, error: type[ValueError]) -> nn.Module:
    """Call the spec's factory with the spec; ``error`` unless it returns an ``nn.Module``."""
    module = resolve_factory(spec["factory"], error)(dict(spec))
    if not isinstance(module, nn.Module):
        raise error(f"custom spec: factory {spec['factory']!r} returned {type(module).__name__}, not an nn.Module")
    return module
