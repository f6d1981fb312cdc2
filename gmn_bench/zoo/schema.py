"""The zoo row format: one row per (network, checkpoint epoch).

:data:`COLUMNS` documents every column; :data:`FEATURES` is the matching
``datasets.Features``. Builders may add split-label columns named ``split_<name>``
(string values such as ``train``/``validation``/``test``); each becomes a dataset
config named ``<name>`` whose splits are the label values.
"""
from __future__ import annotations

from datasets import Features, Value

SPLIT_PREFIX = "split_"

# name -> (datasets dtype, nullable, description)
COLUMNS: dict[str, tuple[str, bool, str]] = {
    "model_id": ("string", False, "Unique id of the trained network; all its checkpoints share it."),
    "family": ("string", False, "Architecture family: mlp, cnn, resnet or vit."),
    "arch": ("string", False, "Canonical JSON architecture spec; `gmn_bench.build_model(json.loads(arch))` rebuilds it."),
    "optimizer": ("string", False, "Optimizer name (sgd, adam, adamw, ...)."),
    "learning_rate": ("float64", False, "Peak learning rate."),
    "weight_decay": ("float64", False, "Weight decay coefficient."),
    "label_smoothing": ("float64", False, "Label smoothing of the cross-entropy loss."),
    "batch_size": ("int32", False, "Training batch size."),
    "epochs": ("int32", False, "Total number of training epochs of this network."),
    "train_fraction": ("float64", True, "Share of the training set this network trained on: its first "
                       "round(f * N) images (dataset order); null if not recorded."),
    "augmentation": ("string", False, "Data augmentation recipe name (none, flip, flip_crop, ...)."),
    "init_seed": ("int64", False, "Seed of the weight initialisation."),
    "data_seed": ("int64", False, "Seed of the data order and augmentation."),
    "epoch": ("int32", False, "Checkpoint epoch of this row (0 = at initialisation)."),
    "weights": ("binary", False, "safetensors bytes of the full state_dict (parameters and buffers)."),
    "n_params": ("int64", False, "Number of trainable parameter values."),
    "train_acc": ("float64", True, "Accuracy on the network's training images (or the first of them, as the card "
                  "says) at this epoch, in [0, 1]; null if not measured."),
    "test_acc": ("float64", True, "Accuracy on the CIFAR-10 test set at this epoch, in [0, 1]; null if not measured."),
    "train_loss": ("float64", True, "Mean cross-entropy on the training set at this epoch; null if not measured."),
    "test_loss": ("float64", True, "Mean cross-entropy on the test set at this epoch; null if not measured."),
}

FEATURES = Features({name: Value(dtype) for name, (dtype, _, _) in COLUMNS.items()})
REQUIRED = tuple(name for name, (_, nullable, _) in COLUMNS.items() if not nullable)


def split_columns(column_names) -> list[str]:
    """The split-label columns (``split_<name>``) among ``column_names``, in order."""
    return [c for c in column_names if c.startswith(SPLIT_PREFIX)]


def features_for(column_names) -> Features:
    """:data:`FEATURES` plus a string feature for every split-label column present."""
    features = Features(FEATURES)
    for column in split_columns(column_names):
        features[column] = Value("string")
    return features
