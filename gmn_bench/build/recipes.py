"""Zoo recipes: a TOML file that fixes how many networks, the family mix, the range of every
architecture knob and hyperparameter, the checkpoint epochs and the master seed.

Every sampled value is declared as one of::

    knob = 3                                  # a constant
    knob = { choice = ["relu", "gelu"] }      # uniform over a list
    knob = { int_range = [1, 4] }             # integer, both ends included
    knob = { uniform = [0.0, 0.2] }
    knob = { log_uniform = [1e-4, 1e-2] }

Network ``i`` is sampled from its own generator seeded by ``(seed, i)``, so the same recipe
always gives the same configurations, and growing ``n_networks`` keeps the earlier ones.

``[hyperparameters]`` may also sample ``epochs`` (default: the last checkpoint epoch) and
``train_fraction`` (default 1: the network trains on the first ``round(f * N)`` of the ``N``
training images, CIFAR-10's own shuffled order). A network is checkpointed at every recipe
``checkpoint_epochs`` entry below its ``epochs``, and at ``epochs``. Optional top-level keys:
``train_eval_images`` (train accuracy and loss are measured on at most this many of a
network's training images; default all), ``id_fractions`` (train/validation/test shares of the
``id`` split, default 0.8/0.1/0.1), ``held_out_family`` (the family the ``ood_family`` config holds
out), ``ood_size_min_params`` (the ``ood_size`` config holds out every network of at least this
many parameters; no ``ood_size`` config without it) and ``precision`` (``auto``, ``float32`` or
``bfloat16``, default ``auto``: see :mod:`gmn_bench.nets.precision`; ``gmn-bench build --precision``
overrides it). The split settings are fixed thresholds, so a network's split labels depend on that
network alone (:mod:`gmn_bench.zoo.splits`).
"""
from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..nets.architectures import FAMILIES, validate_spec
from ..nets.precision import PRECISIONS
from ..zoo.splits import ID_FRACTIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HYPERPARAMETERS = ("optimizer", "learning_rate", "weight_decay", "label_smoothing", "batch_size", "epochs", "augmentation",
                   "train_fraction")
_OPTIONAL_HYPERPARAMETERS = {"train_fraction": 1.0}  # constants: they draw nothing, so older recipes sample as before


class RecipeError(ValueError):
    """A recipe file is malformed; the message names the key."""


def _sample(rng: random.Random, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise RecipeError(f"{where}: expected one of choice/int_range/uniform/log_uniform, got {sorted(value)}")
    (kind, arg), = value.items()
    if kind == "choice" and isinstance(arg, list) and arg:
        return arg[rng.randrange(len(arg))]
    if kind in ("int_range", "uniform", "log_uniform") and isinstance(arg, list) and len(arg) == 2 and arg[0] <= arg[1]:
        lo, hi = arg
        if kind == "int_range":
            return rng.randint(lo, hi)
        if kind == "uniform":
            return rng.uniform(lo, hi)
        if lo <= 0:
            raise RecipeError(f"{where}: log_uniform needs positive bounds, got {arg}")
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    raise RecipeError(f"{where}: bad sampler {value!r}")


def _mlp(k):
    return {"family": "mlp", "depth": k["depth"], "width": k["width"], "activation": k.get("activation", "relu"),
            "input_pool": k.get("input_pool", 1)}


def _cnn(k, rng):
    channels = [_sample(rng, k["channels"], "cnn.channels") for _ in range(k["n_layers"])]
    return {"family": "cnn", "channels": sorted(channels), "kernel_size": k.get("kernel_size", 3),
            "pooling": k.get("pooling", "max"), "activation": k.get("activation", "relu"),
            "batchnorm": k.get("batchnorm", False), "stem_stride": k.get("stem_stride", 1)}


def _resnet(k):
    return {"family": "resnet", "widths": [k["base_width"] * 2**s for s in range(k["n_stages"])],
            "blocks_per_stage": k.get("blocks_per_stage", 1), "stem_stride": k.get("stem_stride", 1)}


def _vit(k):
    return {"family": "vit", "patch_size": k["patch_size"], "dim": k["heads"] * k["head_dim"], "depth": k["depth"],
            "heads": k["heads"], "mlp_ratio": k.get("mlp_ratio", 2), "pool": k.get("pool", "cls")}


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (see the module docstring and ``builders/*/recipe.toml``)."""

    name: str
    seed: int
    n_networks: int
    checkpoint_epochs: tuple[int, ...]
    families: dict[str, float]
    architectures: dict[str, dict]
    hyperparameters: dict[str, Any]
    held_out_family: str | None = None
    ood_size_min_params: int | None = None
    description: str = ""
    train_eval_images: int | None = None
    id_fractions: tuple[tuple[str, float], ...] = ID_FRACTIONS
    precision: str = "auto"

    def checkpoints(self, epochs: int) -> tuple[int, ...]:
        """Checkpoint epochs of a network trained for ``epochs``: the recipe's below it, and ``epochs``."""
        return tuple(e for e in self.checkpoint_epochs if e < epochs) + (epochs,)

    def sample(self, index: int) -> dict:
        """Configuration of network ``index``: ``model_id``, ``spec`` and hyperparameters."""
        rng = random.Random(f"{self.name}:{self.seed}:{index}")
        names, weights = zip(*sorted(self.families.items()))
        family = rng.choices(names, weights=weights)[0]
        knobs = {k: (v if k == "channels" else _sample(rng, v, f"{family}.{k}"))  # channels: one draw per layer
                 for k, v in sorted(self.architectures[family].items())}
        spec = {"mlp": lambda: _mlp(knobs), "cnn": lambda: _cnn(knobs, rng), "resnet": lambda: _resnet(knobs),
                "vit": lambda: _vit(knobs)}[family]()
        hparams = {k: _sample(rng, self.hyperparameters[k], f"hyperparameters.{k}") for k in HYPERPARAMETERS}
        for key in ("learning_rate", "weight_decay", "label_smoothing", "train_fraction"):
            hparams[key] = float(f"{hparams[key]:.4g}")
        return {"model_id": f"{self.name}-{index:05d}", "spec": validate_spec(spec),
                "init_seed": rng.randrange(2**31), "data_seed": rng.randrange(2**31), **hparams}

    def configurations(self) -> list[dict]:
        """All ``n_networks`` configurations, in order."""
        return [self.sample(i) for i in range(self.n_networks)]


def load_recipe(path: str | Path) -> Recipe:
    """Parse and check a recipe TOML file (or a ``builders/<name>`` folder holding ``recipe.toml``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "recipe.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise RecipeError(f"cannot read recipe {path}: {e}") from e
    missing = [k for k in ("name", "seed", "n_networks", "checkpoint_epochs", "families", "hyperparameters") if k not in raw]
    if missing:
        raise RecipeError(f"{path}: missing keys {missing}")
    unknown = set(raw["families"]) - set(FAMILIES)
    if unknown:
        raise RecipeError(f"{path}: unknown families {sorted(unknown)}")
    absent = [f for f in raw["families"] if f not in raw]
    if absent:
        raise RecipeError(f"{path}: no [{absent[0]}] table of architecture knobs")
    missing_hp = [k for k in HYPERPARAMETERS if k not in raw["hyperparameters"] and k != "epochs"
                  and k not in _OPTIONAL_HYPERPARAMETERS]
    if missing_hp:
        raise RecipeError(f"{path}: [hyperparameters] misses {missing_hp}")
    epochs = raw["checkpoint_epochs"]
    if not epochs or sorted(set(epochs)) != epochs or epochs[0] < 0:
        raise RecipeError(f"{path}: checkpoint_epochs must be increasing non-negative integers, got {epochs}")
    fractions = raw.get("id_fractions", dict(ID_FRACTIONS))
    if (not isinstance(fractions, dict) or set(fractions) != {name for name, _ in ID_FRACTIONS}
            or abs(sum(fractions.values()) - 1) > 1e-9 or min(fractions.values()) <= 0):
        raise RecipeError(f"{path}: id_fractions must give positive train, validation and test shares summing to 1, "
                          f"got {fractions}")
    if "size_quantile" in raw:
        raise RecipeError(f"{path}: size_quantile is gone (a quantile of the zoo moved networks between splits when "
                          "the zoo changed); fix the size split by a parameter count: ood_size_min_params = N")
    eval_images = _positive_int_or_none(raw, "train_eval_images", path)
    min_params = _positive_int_or_none(raw, "ood_size_min_params", path)
    precision = raw.get("precision", "auto")
    if precision not in PRECISIONS:
        raise RecipeError(f"{path}: precision must be one of {PRECISIONS}, got {precision!r}")
    recipe = Recipe(
        name=raw["name"], seed=raw["seed"], n_networks=raw["n_networks"], checkpoint_epochs=tuple(epochs),
        families=raw["families"], architectures={f: raw[f] for f in raw["families"]},
        hyperparameters={**_OPTIONAL_HYPERPARAMETERS, "epochs": max(epochs), **raw["hyperparameters"]},
        held_out_family=raw.get("held_out_family"), ood_size_min_params=min_params,
        description=raw.get("description", ""), train_eval_images=eval_images,
        id_fractions=tuple((name, float(fractions[name])) for name, _ in ID_FRACTIONS), precision=precision,
    )
    for i in range(min(recipe.n_networks, 16)):  # fail now, not mid-build, on knobs that give bad specs
        _check_sampled(recipe.sample(i), f"{path}: network {i}")
    return recipe


def _positive_int_or_none(raw: dict, key: str, path: Path) -> int | None:
    value = raw.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise RecipeError(f"{path}: {key} must be a positive integer, got {value!r}")
    return value


def _check_sampled(config: dict, where: str) -> None:
    epochs, fraction = config["epochs"], config["train_fraction"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise RecipeError(f"{where}: epochs must be a positive integer, got {epochs!r}")
    if not 0 < fraction <= 1:
        raise RecipeError(f"{where}: train_fraction must be in (0, 1], got {fraction!r}")
