"""Architecture specs for CIFAR-10 classifiers and ``build_model``.

A spec is a plain JSON-serialisable ``dict`` with a ``family`` key and the knobs
of that family. :func:`validate_spec` fills defaults and checks every value;
:func:`build_model` turns a spec into an ``nn.Module`` whose parameter names are
stable (they depend only on the spec), so weights stored in a zoo can always be
loaded back into a freshly built module.

Families and their knobs (defaults in brackets):

* ``mlp``: ``depth`` hidden layers of ``width`` units, ``activation`` [relu], on the image
  average-pooled by ``input_pool`` [1] (1: the full ``3*32*32`` pixels; 2: ``3*16*16``, ...).
  Parameters: ``fc{i}.weight/bias`` for hidden layers, ``head.weight/bias``.
* ``cnn``: ``channels`` (one int per conv layer), ``kernel_size`` [3],
  ``pooling`` after every conv layer (``max``/``avg``/``none``) [max],
  ``activation`` [relu], ``batchnorm`` [False], ``stem_stride`` [1] (stride of the
  first conv); global average pooling and a linear head. Parameters: ``convs.{i}.conv``, ``convs.{i}.norm``, ``head``.
* ``resnet``: ``widths`` (one int per stage), ``blocks_per_stage`` [1], ``stem_stride``
  [1]; a 3x3 stem (of that stride), basic blocks (two 3x3 convs with BatchNorm, identity or 1x1
  projection shortcut), stride 2 at the start of every stage after the first,
  global average pooling and a linear head.
* ``vit``: ``patch_size`` (divides 32), ``dim``, ``depth``, ``heads`` (divides
  ``dim``), ``mlp_ratio`` [2], ``pool`` (``cls``/``mean``) [cls]; pre-norm
  transformer blocks with separate query/key/value/output projections, a learned
  positional embedding and a final LayerNorm before the linear head.

Any other family is a custom spec naming a model factory (:mod:`.factories`).
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..intake import json_loads
from .factories import build_custom, validate_custom_spec

IMAGE_SHAPE = (3, 32, 32)
NUM_CLASSES = 10

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
}
POOLINGS = ("max", "avg", "none")
VIT_POOLS = ("cls", "mean")
_MAX_HALVINGS = 5  # 32 -> 1


SPEC_DEPTH = 64
"""Deepest nesting of JSON objects and arrays an architecture spec's text may have."""


class SpecError(ValueError):
    """An architecture spec is malformed; the message says which key and why."""


def _positive_int(spec: Mapping[str, Any], key: str) -> int:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"{spec.get('family')} spec: {key!r} must be a positive integer, got {value!r}")
    return value


def _positive_int_list(spec: Mapping[str, Any], key: str) -> list[int]:
    value = spec.get(key)
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"{spec.get('family')} spec: {key!r} must be a non-empty list of positive integers, got {value!r}")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise SpecError(f"{spec.get('family')} spec: {key}[{i}] must be a positive integer, got {v!r}")
    return list(value)


def _choice(spec: Mapping[str, Any], key: str, options) -> str:
    value = spec.get(key)
    if value not in options:
        raise SpecError(f"{spec.get('family')} spec: {key!r} must be one of {sorted(options)}, got {value!r}")
    return value


def _check_keys(spec: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(spec) - allowed - {"family"}
    if unknown:
        raise SpecError(f"{spec['family']} spec: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def _halvings(spec: Mapping[str, Any], key: str) -> int:
    """How many times the power-of-two ``spec[key]`` (a stride or pooling size) halves the image side."""
    value = _positive_int(spec, key)
    if value & (value - 1) or IMAGE_SHAPE[1] % value:
        raise SpecError(f"{spec['family']} spec: {key!r} must be a power of two dividing {IMAGE_SHAPE[1]}, got {value}")
    return value.bit_length() - 1


def _validate_mlp(s: dict) -> dict:
    s.setdefault("activation", "relu")
    s.setdefault("input_pool", 1)
    _check_keys(s, {"depth", "width", "activation", "input_pool"})
    _positive_int(s, "depth"), _positive_int(s, "width"), _choice(s, "activation", ACTIVATIONS)
    _halvings(s, "input_pool")
    return s


def _validate_cnn(s: dict) -> dict:
    for key, default in (("kernel_size", 3), ("pooling", "max"), ("activation", "relu"), ("batchnorm", False),
                         ("stem_stride", 1)):
        s.setdefault(key, default)
    _check_keys(s, {"channels", "kernel_size", "pooling", "activation", "batchnorm", "stem_stride"})
    channels = _positive_int_list(s, "channels")
    if _positive_int(s, "kernel_size") % 2 == 0:
        raise SpecError(f"cnn spec: 'kernel_size' must be odd (same padding), got {s['kernel_size']}")
    if s["kernel_size"] >= IMAGE_SHAPE[1]:
        raise SpecError(f"cnn spec: 'kernel_size' must be at most {IMAGE_SHAPE[1] - 1} for "
                        f"{IMAGE_SHAPE[1]}x{IMAGE_SHAPE[2]} images, got {s['kernel_size']}")
    _choice(s, "pooling", POOLINGS), _choice(s, "activation", ACTIVATIONS)
    if not isinstance(s["batchnorm"], bool):
        raise SpecError(f"cnn spec: 'batchnorm' must be true or false, got {s['batchnorm']!r}")
    room = _MAX_HALVINGS - _halvings(s, "stem_stride")
    if s["pooling"] != "none" and len(channels) > room:
        raise SpecError(f"cnn spec: at most {room} pooled conv layers fit a 32x32 image after a stem stride of "
                        f"{s['stem_stride']}, got {len(channels)}")
    return s


def _validate_resnet(s: dict) -> dict:
    s.setdefault("blocks_per_stage", 1)
    s.setdefault("stem_stride", 1)
    _check_keys(s, {"widths", "blocks_per_stage", "stem_stride"})
    room = _MAX_HALVINGS - _halvings(s, "stem_stride")
    if len(_positive_int_list(s, "widths")) > room:
        raise SpecError(f"resnet spec: at most {room} stages fit a 32x32 image after a stem stride of "
                        f"{s['stem_stride']}, got {len(s['widths'])}")
    _positive_int(s, "blocks_per_stage")
    return s


def _validate_vit(s: dict) -> dict:
    s.setdefault("mlp_ratio", 2)
    s.setdefault("pool", "cls")
    _check_keys(s, {"patch_size", "dim", "depth", "heads", "mlp_ratio", "pool"})
    patch, dim, heads = _positive_int(s, "patch_size"), _positive_int(s, "dim"), _positive_int(s, "heads")
    _positive_int(s, "depth"), _positive_int(s, "mlp_ratio"), _choice(s, "pool", VIT_POOLS)
    if IMAGE_SHAPE[1] % patch:
        raise SpecError(f"vit spec: 'patch_size' must divide {IMAGE_SHAPE[1]}, got {patch}")
    if dim % heads:
        raise SpecError(f"vit spec: 'heads' ({heads}) must divide 'dim' ({dim})")
    return s


_VALIDATORS = {"mlp": _validate_mlp, "cnn": _validate_cnn, "resnet": _validate_resnet, "vit": _validate_vit}
FAMILIES = tuple(_VALIDATORS)


def validate_spec(spec: Mapping[str, Any] | str) -> dict:
    """Return a validated copy of ``spec`` (a dict or its JSON string) with defaults filled in.

    Raises :class:`SpecError` naming the offending key on any bad value.
    """
    if isinstance(spec, str):
        spec = json_loads(spec, "architecture spec is not valid JSON", SpecError, SPEC_DEPTH)
    if not isinstance(spec, Mapping):
        raise SpecError(f"architecture spec must be a mapping, got {type(spec).__name__}")
    family = spec.get("family")
    if family not in _VALIDATORS:
        if "factory" in spec:
            return validate_custom_spec(spec, FAMILIES, SpecError)
        raise SpecError(f"unknown family {family!r}; expected one of {list(FAMILIES)}, or a custom spec with a "
                        "'factory' (see gmn_bench.nets.factories)")
    return _VALIDATORS[family](dict(spec))


def spec_to_json(spec: Mapping[str, Any]) -> str:
    """Canonical JSON of a validated spec (sorted keys), as stored in the zoo's ``arch`` column."""
    return json.dumps(validate_spec(spec), sort_keys=True)


class MLP(nn.Module):
    def __init__(self, depth: int, width: int, activation: str, input_pool: int = 1):
        super().__init__()
        self.input_pool = input_pool
        sizes = [math.prod(IMAGE_SHAPE) // input_pool**2] + [width] * depth
        for i in range(depth):
            self.add_module(f"fc{i}", nn.Linear(sizes[i], sizes[i + 1]))
        self.act = ACTIVATIONS[activation]()
        self.head = nn.Linear(width, NUM_CLASSES)
        self.depth = depth

    def forward(self, x):
        if self.input_pool > 1:
            x = F.avg_pool2d(x, self.input_pool)
        x = x.flatten(1)
        for i in range(self.depth):
            x = self.act(getattr(self, f"fc{i}")(x))
        return self.head(x)


class ConvLayer(nn.Module):
    """conv -> (BatchNorm) -> activation -> (pooling)."""

    def __init__(self, c_in, c_out, kernel_size, batchnorm, activation, pooling, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=not batchnorm)
        self.norm = nn.BatchNorm2d(c_out) if batchnorm else nn.Identity()
        self.act = ACTIVATIONS[activation]()
        self.pool = {"max": nn.MaxPool2d(2), "avg": nn.AvgPool2d(2), "none": nn.Identity()}[pooling]

    def forward(self, x):
        return self.pool(self.act(self.norm(self.conv(x))))


class CNN(nn.Module):
    def __init__(self, channels, kernel_size, pooling, activation, batchnorm, stem_stride=1):
        super().__init__()
        c_in = [IMAGE_SHAPE[0]] + channels[:-1]
        self.convs = nn.Sequential(
            *(ConvLayer(a, b, kernel_size, batchnorm, activation, pooling, stride=stem_stride if i == 0 else 1)
              for i, (a, b) in enumerate(zip(c_in, channels)))
        )
        self.head = nn.Linear(channels[-1], NUM_CLASSES)

    def forward(self, x):
        return self.head(self.convs(x).mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, widths, blocks_per_stage, stem_stride=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(IMAGE_SHAPE[0], widths[0], 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]))
        blocks, c_in = [], widths[0]
        for stage, width in enumerate(widths):
            for b in range(blocks_per_stage):
                blocks.append(BasicBlock(c_in, width, stride=2 if stage > 0 and b == 0 else 1))
                c_in = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(widths[-1], NUM_CLASSES)

    def forward(self, x):
        return self.head(self.blocks(F.relu(self.stem(x))).mean(dim=(2, 3)))


class Attention(nn.Module):
    """Multi-head self-attention with separate q/k/v/o projections (one Linear each)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = (proj(x).view(b, n, self.heads, d // self.heads).transpose(1, 2) for proj in (self.q, self.k, self.v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.o(out.transpose(1, 2).reshape(b, n, d))


class TransformerBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * mlp_ratio)
        self.fc2 = nn.Linear(dim * mlp_ratio, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, patch_size, dim, depth, heads, mlp_ratio, pool):
        super().__init__()
        n_patches = (IMAGE_SHAPE[1] // patch_size) ** 2
        self.pool = pool
        self.patch_embed = nn.Conv2d(IMAGE_SHAPE[0], dim, patch_size, stride=patch_size)
        if pool == "cls":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n_patches + (pool == "cls"), dim) * 0.02)
        self.blocks = nn.Sequential(*(TransformerBlock(dim, heads, mlp_ratio) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, NUM_CLASSES)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        if self.pool == "cls":
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.norm(self.blocks(x + self.pos_embed))
        return self.head(x[:, 0] if self.pool == "cls" else x.mean(dim=1))


_CONSTRUCTORS = {"mlp": MLP, "cnn": CNN, "resnet": ResNet, "vit": ViT}


def build_model(spec: Mapping[str, Any] | str) -> nn.Module:
    """Build the ``nn.Module`` a spec describes (validated first), on CPU with default init.

    Seed ``torch`` before calling for reproducible initial weights.
    """
    spec = validate_spec(spec)
    if spec["family"] not in _CONSTRUCTORS:
        return build_custom(spec, SpecError)
    kwargs = {k: v for k, v in spec.items() if k != "family"}
    return _CONSTRUCTORS[spec["family"]](**kwargs)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameter values (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in module.parameters())
