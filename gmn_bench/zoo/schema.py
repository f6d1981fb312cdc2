"""The zoo row format: one row per (network, checkpoint epoch).

:data:`COLUMNS` documents every column: its ``datasets`` dtype, whether it may be null, whether it
is a property of the *network* (the same on every checkpoint row of one ``model_id``) and the
range of its values; :data:`FEATURES` is the matching ``datasets.Features``. Builders may add
split-label columns named ``split_<name>`` (labels such as ``train``/``validation``/``test``);
each becomes a dataset config named ``<name>`` whose splits are the label values. The rules are
enforced by :mod:`gmn_bench.zoo.checks`, on write and on load alike.
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple

from datasets import Features, Value

SPLIT_PREFIX = "split_"
SPLIT_COLUMN = re.compile(r"split_(?!default\Z)[a-z][a-z0-9_]{0,31}")
"""Names of split-label columns: ``split_`` + the config name (``default`` is taken: it holds every row)."""
SPLIT_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
"""Split labels: letters, digits and ``_`` (they name ``datasets`` splits and shard files)."""
MODEL_ID = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""``model_id`` values: letters, digits, ``.``, ``_`` and ``-`` (no ``..``); they also name files."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")
"""Optimizer and augmentation names."""
PRECISIONS = ("float32", "bfloat16", "float16")
"""Values of the ``precision`` column (its description says how to read a zoo without it)."""


class Column(NamedTuple):
    """One column of the format. Numbers must be finite and lie in ``[low, high]`` (an open end
    where ``low_open``/``high_open``); ``network``: the same value on every checkpoint of a network."""

    dtype: str
    nullable: bool
    description: str
    network: bool = False
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False


COLUMNS: dict[str, Column] = {
    "model_id": Column("string", False, "Unique id of the trained network; all its checkpoints share it.", True),
    "family": Column("string", False, "Architecture family: mlp, cnn, resnet, vit or a custom spec's (the `family` "
                     "of `arch`).", True),
    "arch": Column("string", False, "Canonical JSON architecture spec; `gmn_bench.build_model(json.loads(arch))` "
                   "rebuilds it.", True),
    "optimizer": Column("string", False, "Optimizer name (sgd, adam, adamw, ...).", True),
    "learning_rate": Column("float64", False, "Peak learning rate (> 0).", True, 0.0, low_open=True),
    "weight_decay": Column("float64", False, "Weight decay coefficient (>= 0).", True, 0.0),
    "label_smoothing": Column("float64", False, "Label smoothing of the cross-entropy loss, in [0, 1).", True, 0.0,
                              1.0, high_open=True),
    "batch_size": Column("int32", False, "Training batch size (>= 1).", True, 1),
    "epochs": Column("int32", False, "Total number of training epochs of this network; its last checkpoint is "
                     "at this epoch.", True, 0),
    "train_fraction": Column("float64", True, "Share of the training set this network trained on, in (0, 1]: its "
                             "first round(f * N) images (dataset order); null if not recorded.", True, 0.0, 1.0,
                             low_open=True),
    "augmentation": Column("string", False, "Data augmentation recipe name (none, flip, flip_crop, ...).", True),
    "init_seed": Column("int64", False, "Seed of the weight initialisation (>= 0).", True, 0),
    "data_seed": Column("int64", False, "Seed of the data order and augmentation (>= 0).", True, 0),
    "precision": Column("string", True, "Precision the network was trained in: float32, or bfloat16 / float16 "
                        "autocast mixed precision (weights, optimizer state and evaluation in float32); null if not "
                        "recorded (zoos built by gmn-bench before this column existed were trained in float32). "
                        "A training setting, not an input of the tasks.", True),
    "epoch": Column("int32", False, "Checkpoint epoch of this row, from 0 (at initialisation) to `epochs`.", low=0),
    "weights": Column("binary", False, "safetensors bytes of the full state_dict (parameters and buffers; "
                      "floating point values finite)."),
    "n_params": Column("int64", False, "Number of trainable parameter values of `arch`.", True, 1),
    "train_acc": Column("float64", True, "Accuracy on the network's training images (or the first of them, as the "
                        "card says) at this epoch, in [0, 1]; null if not measured.", low=0.0, high=1.0),
    "test_acc": Column("float64", True, "Accuracy on the CIFAR-10 test set at this epoch, in [0, 1]; null if not "
                       "measured.", low=0.0, high=1.0),
    "train_loss": Column("float64", True, "Mean cross-entropy on the training set at this epoch (>= 0); null if "
                         "not measured.", low=0.0),
    "test_loss": Column("float64", True, "Mean cross-entropy on the test set at this epoch (>= 0); null if not "
                        "measured.", low=0.0),
}

FEATURES = Features({name: Value(column.dtype) for name, column in COLUMNS.items()})
REQUIRED = tuple(name for name, column in COLUMNS.items() if not column.nullable)


def split_columns(column_names) -> list[str]:
    """The split-label columns (``split_<name>``) among ``column_names``, in order."""
    return [c for c in column_names if c.startswith(SPLIT_PREFIX)]


def features_for(column_names) -> Features:
    """:data:`FEATURES` plus a string feature for every split-label column present."""
    features = Features(FEATURES)
    for column in split_columns(column_names):
        features[column] = Value("string")
    return features
