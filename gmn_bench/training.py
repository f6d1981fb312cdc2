"""Train one network deterministically and record weights and metrics at checkpoint epochs."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .architectures import build_model
from .cifar import normalize

OPTIMIZERS = {"sgd": lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
              "adam": lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
              "adamw": lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd)}
AUGMENTATIONS = ("none", "flip", "flip_crop")


def augment(x: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips (``flip``) and 4-pixel-padded random crops (``flip_crop``), seeded."""
    if kind == "none":
        return x
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    if kind == "flip_crop":
        padded = F.pad(x, (4, 4, 4, 4))
        dx, dy = torch.randint(0, 9, (2,), generator=generator).tolist()  # one offset per batch: vectorised
        x = padded[:, :, dy:dy + 32, dx:dx + 32]
    return x


@torch.no_grad()
def evaluate(model, images, labels, batch_size: int = 1000, device: str = "cpu") -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in eval mode on uint8 ``images``."""
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(images), batch_size):
        x = _to_input(normalize(images[i:i + batch_size]), model).to(device)
        y = labels[i:i + batch_size].to(device)
        logits = model(x)
        correct += (logits.argmax(1) == y).sum().item()
        loss += F.cross_entropy(logits, y, reduction="sum").item()
    return correct / len(images), loss / len(images)


def _to_input(x, model):
    return x.contiguous(memory_format=torch.channels_last) if getattr(model, "_channels_last", False) else x


def train_network(spec, hparams, train_data, test_data, checkpoint_epochs, device: str = "cpu",
                  channels_last: bool = True):
    """Train ``spec`` under ``hparams`` and return ``[(epoch, state_dict, metrics), ...]`` for every
    checkpoint epoch (0 = at initialisation). Deterministic on CPU: ``init_seed`` fixes the initial
    weights and ``data_seed`` the data order and augmentation. ``metrics`` holds
    ``train_acc``, ``test_acc``, ``train_loss`` and ``test_loss``. ``channels_last`` stores conv
    networks' activations NHWC, which is much faster for convolutions on CPU."""
    if hparams["augmentation"] not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {hparams['augmentation']!r}; expected one of {AUGMENTATIONS}")
    torch.manual_seed(hparams["init_seed"])
    model = build_model(spec).to(device)
    if channels_last and spec["family"] in ("cnn", "resnet"):
        model = model.to(memory_format=torch.channels_last)
        model._channels_last = True
    optimizer = OPTIMIZERS[hparams["optimizer"]](model.parameters(), hparams["learning_rate"], hparams["weight_decay"])
    generator = torch.Generator().manual_seed(hparams["data_seed"])
    (x_train, y_train), (x_test, y_test) = train_data, test_data
    checkpoints, wanted = [], set(checkpoint_epochs)
    for epoch in range(max(checkpoint_epochs) + 1):
        if epoch > 0:
            model.train()
            order = torch.randperm(len(x_train), generator=generator)
            for i in range(0, len(order), hparams["batch_size"]):
                idx = order[i:i + hparams["batch_size"]]
                x = augment(normalize(x_train[idx]), hparams["augmentation"], generator)
                loss = F.cross_entropy(model(_to_input(x, model).to(device)), y_train[idx].to(device),
                                       label_smoothing=hparams["label_smoothing"])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        if epoch in wanted:
            train_acc, train_loss = evaluate(model, x_train, y_train, device=device)
            test_acc, test_loss = evaluate(model, x_test, y_test, device=device)
            state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
            checkpoints.append((epoch, state, {"train_acc": train_acc, "test_acc": test_acc,
                                               "train_loss": train_loss, "test_loss": test_loss}))
    return checkpoints
