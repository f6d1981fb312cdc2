"""Train one network deterministically and record weights and metrics at checkpoint epochs.

On CPU, training is bitwise reproducible: the same spec, hyperparameters and seeds give the
same weights. On CUDA, the data order and augmentations are the same (they are drawn on the
CPU from ``data_seed``) but kernels are not bitwise deterministic, so weights agree only to
floating-point tolerance. ``hparams["precision"]`` (default ``float32``) may ask for bfloat16
autocast mixed precision (:mod:`gmn_bench.nets.precision`): reproducible in the same way, on one
CPU type, but different bits from float32.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .architectures import build_model
from .cifar import normalize
from .precision import autocast, check_precision

OPTIMIZERS = {"sgd": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
              "adam": lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
              "adamw": lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd)}
AUGMENTATIONS = ("none", "flip", "flip_crop")
DEVICES = ("auto", "cpu", "cuda")
_NO_CROP = (4, 4)  # the crop offset into the 4-pixel-padded image that gives the image back


def resolve_device(device: str = "auto") -> str:
    """``cpu`` or ``cuda``: ``auto`` picks CUDA when it is available; ``cuda`` without a GPU is an error."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but torch.cuda.is_available() is False (no GPU or a CPU-only torch)")
    return device


def prepare_data(data, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` ready for training on ``device``: uint8 images are normalised (once, for
    the whole set) and both tensors are moved to ``device``. Already prepared data passes through."""
    images, labels = data
    if images.dtype == torch.uint8:
        images = normalize(images)
    return images.to(device), labels.to(device)


def _draw_batch(n: int, kind: str, generator: torch.Generator) -> tuple[torch.Tensor, tuple[int, int]]:
    """One batch's augmentation draws: a flip mask of ``n`` images and one ``(dx, dy)`` crop offset."""
    flip = torch.rand(n, generator=generator) < 0.5 if kind != "none" else torch.zeros(n, dtype=torch.bool)
    crop = tuple(torch.randint(0, 9, (2,), generator=generator).tolist()) if kind == "flip_crop" else _NO_CROP
    return flip, crop


def draw_epoch(n: int, batch_size: int, kind: str, generator: torch.Generator):
    """One epoch's random draws, in the generator order of batch-by-batch training: the data
    order ``[n]``, flip masks ``[n]`` (aligned with the order) and crop offsets ``[n_batches, 2]``."""
    order = torch.randperm(n, generator=generator)
    draws = [_draw_batch(min(batch_size, n - i), kind, generator) for i in range(0, n, batch_size)]
    return order, torch.cat([f for f, _ in draws]), torch.tensor([c for _, c in draws])


def _flip_crop(x: torch.Tensor, flip: torch.Tensor, crop: tuple[int, int]) -> torch.Tensor:
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    if crop != _NO_CROP:
        dx, dy = crop
        x = F.pad(x, (4, 4, 4, 4))[:, :, dy:dy + 32, dx:dx + 32]
    return x


def augment(x: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips (``flip``) and 4-pixel-padded random crops (``flip_crop``), seeded.
    One crop offset per batch (vectorised), not per image."""
    flip, crop = _draw_batch(len(x), kind, generator)
    return _flip_crop(x, flip.to(x.device), crop)


def check_hyperparameters(hparams: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the bad value if the augmentation, optimizer or precision is unknown."""
    if hparams["augmentation"] not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {hparams['augmentation']!r}; expected one of {AUGMENTATIONS}")
    if hparams["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {hparams['optimizer']!r}; expected one of {sorted(OPTIMIZERS)}")
    check_precision(training_precision(hparams))


def training_precision(hparams: Mapping[str, Any]) -> str:
    """The precision ``hparams`` train in: their ``precision``, ``float32`` when they have none."""
    return hparams.get("precision", "float32")


@torch.no_grad()
def batched_accuracy_and_loss(forward, images, labels, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(accuracy, mean cross-entropy) of ``forward`` on prepared data, as float64 tensors.

    ``forward`` maps a batch ``[B, ...]`` to logits ``[..., B, classes]``: one network gives
    scalars, a stack of ``N`` networks gives ``[N]`` tensors. One device sync, at the end."""
    correct, loss = 0, 0
    for i in range(0, len(images), batch_size):
        logits, y = forward(images[i:i + batch_size]), labels[i:i + batch_size]
        correct = correct + (logits.argmax(-1) == y).sum(-1)
        loss = loss + F.cross_entropy(logits.movedim(-1, 1) if logits.dim() > 2 else logits,
                                      y.expand(logits.shape[:-1]), reduction="none").double().sum(-1)
    return correct.double() / len(images), loss / len(images)


def accuracy_and_loss(model, images, labels, batch_size: int = 1000, device: str = "cpu") -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in eval mode on uint8 (or prepared) ``images``."""
    model.eval()
    images, labels = prepare_data((images, labels), device)
    accuracy, loss = batched_accuracy_and_loss(lambda x: model(_to_input(x, model)), images, labels, batch_size)
    return accuracy.item(), loss.item()


def _nhwc_is_safe(model: nn.Module) -> bool:
    """False for networks with a strided 1x1 convolution of fewer than 8 input channels (a ResNet
    shortcut after a narrow stage): in NHWC, oneDNN's AVX2 backward pass of that convolution writes
    past its workspace (uxlfoundation/oneDNN#6035) and torch 2.13 aborts with "double free or
    corruption". Such networks train in NCHW."""
    return not any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.stride != (1, 1) and m.in_channels < 8
                   for m in model.modules())


def _to_input(x, model):
    return x.contiguous(memory_format=torch.channels_last) if getattr(model, "_channels_last", False) else x


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, data, hparams: Mapping[str, Any],
                generator: torch.Generator, device: str = "cpu") -> None:
    """One epoch of ``model`` (in place) on :func:`prepare_data`-d ``data`` with ``hparams``'
    batch size, augmentation, label smoothing and precision (autocast around the forward pass and
    the loss only); data order and augmentation from ``generator``."""
    images, labels = data
    batch_size, precision = hparams["batch_size"], training_precision(hparams)
    model.train()
    order, flips, crops = draw_epoch(len(images), batch_size, hparams["augmentation"], generator)
    order, flips = order.to(device), flips.to(device)  # one transfer per epoch, none per step
    for b, i in enumerate(range(0, len(order), batch_size)):
        idx = order[i:i + batch_size]
        x = _flip_crop(images[idx], flips[i:i + batch_size], tuple(crops[b].tolist()))
        with autocast(precision, device):
            loss = F.cross_entropy(model(_to_input(x, model)), labels[idx], label_smoothing=hparams["label_smoothing"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def training_subset(data, hparams: Mapping[str, Any]):
    """The images a network trains on: the first ``round(train_fraction * N)`` of ``data`` (all of
    them when ``hparams`` has no ``train_fraction``). CIFAR-10's training order is already shuffled."""
    images, labels = data
    n = max(1, round(hparams.get("train_fraction", 1.0) * len(images)))
    return images[:n], labels[:n]


def train_eval_subset(data, limit: int | None):
    """The training images a network's train accuracy and loss are measured on: the first ``limit``."""
    return data if limit is None else (data[0][:limit], data[1][:limit])


def train_network(spec, hparams, train_data, test_data, checkpoint_epochs, device: str = "cpu",
                  channels_last: bool = True, train_eval_images: int | None = None):
    """Train ``spec`` under ``hparams`` and return ``[(epoch, state_dict, metrics), ...]`` for every
    checkpoint epoch (0 = at initialisation). ``init_seed`` fixes the initial weights and
    ``data_seed`` the data order and augmentation, ``precision`` (optional, default ``float32``)
    the training precision: bitwise reproducible on CPU (see the module docstring for CUDA).
    ``train_data``/``test_data`` are ``(images, labels)``, uint8 or already :func:`prepare_data`-d
    for ``device`` (a worker training many networks prepares them once); the network trains on
    its :func:`training_subset`. ``metrics`` holds ``train_acc``,
    ``test_acc``, ``train_loss`` and ``test_loss``; the train ones are measured on the first
    ``train_eval_images`` of its training images (all by default).
    ``channels_last`` stores conv networks' activations NHWC, much faster for convolutions on CPU
    (except for networks that would hit a oneDNN bug in NHWC: see :func:`_nhwc_is_safe`)."""
    check_hyperparameters(hparams)
    device = resolve_device(device)
    torch.manual_seed(hparams["init_seed"])
    model = build_model(spec).to(device)
    if channels_last and spec["family"] in ("cnn", "resnet") and _nhwc_is_safe(model):
        model = model.to(memory_format=torch.channels_last)
        model._channels_last = True
    optimizer = OPTIMIZERS[hparams["optimizer"]](model.parameters(), hparams["learning_rate"], hparams["weight_decay"])
    generator = torch.Generator().manual_seed(hparams["data_seed"])
    train = training_subset(prepare_data(train_data, device), hparams)
    (x_test, y_test) = prepare_data(test_data, device)
    checkpoints, wanted = [], set(checkpoint_epochs)
    for epoch in range(max(checkpoint_epochs) + 1):
        if epoch > 0:
            train_epoch(model, optimizer, train, hparams, generator, device)
        if epoch in wanted:
            train_acc, train_loss = accuracy_and_loss(model, *train_eval_subset(train, train_eval_images), device=device)
            test_acc, test_loss = accuracy_and_loss(model, x_test, y_test, device=device)
            state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
            checkpoints.append((epoch, state, {"train_acc": train_acc, "test_acc": test_acc,
                                               "train_loss": train_loss, "test_loss": test_loss}))
    return checkpoints
