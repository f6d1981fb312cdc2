"""Train many same-shape networks at once with ``torch.func`` (one vmapped step for the group).

Networks that share a spec, optimizer and batch size are stacked (``stack_module_state``) and
trained by one ``vmap``-ed ``functional_call`` per step; learning rate, weight decay and label
smoothing are per-network tensors, and a small functional SGD-momentum/Adam/AdamW follows
``torch.optim``'s formulas. Each network keeps its own initial weights, data order and
augmentations (drawn from its own seeds exactly as :func:`~gmn_bench.training.train_network`
draws them), so a group trains the same networks as training them one by one, up to
floating-point rounding (the batched kernels sum in another order). That is why builds use
groups only where bitwise determinism is not promised: on CUDA, or when asked for explicitly.
Families with BatchNorm are not grouped (running statistics do not mix with ``vmap``). A group
shares one training precision (bfloat16 autocast around the vmapped forward pass and loss, as
:func:`~gmn_bench.nets.training.train_epoch` does for one network).
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from ..nets.architectures import build_model
from ..nets.precision import autocast
from ..nets.training import (
    batched_accuracy_and_loss,
    check_hyperparameters,
    draw_epoch,
    prepare_data,
    resolve_device,
    train_eval_subset,
    training_precision,
    training_subset,
)

_BETAS, _EPS, _MOMENTUM = (0.9, 0.999), 1e-8, 0.9


def can_group(spec: dict) -> bool:
    """Whether networks of ``spec`` can be trained as a vmapped group (no BatchNorm)."""
    return spec["family"] in ("mlp", "vit") or (spec["family"] == "cnn" and not spec.get("batchnorm", False))


def group_key(config: dict) -> tuple:
    """Configurations with equal keys (spec, optimizer, batch size, epochs, training fraction, precision)
    can share a group."""
    return (repr(sorted(config["spec"].items())), config["optimizer"], config["batch_size"], config["epochs"],
            config.get("train_fraction", 1.0), training_precision(config))


class StackedOptimizer:
    """SGD (momentum 0.9), Adam or AdamW over stacked parameters ``[N, ...]`` with per-network
    learning rates and weight decays ``[N]``, matching ``torch.optim`` with default betas and eps."""

    def __init__(self, kind: str, params: list[torch.Tensor], lr: torch.Tensor, weight_decay: torch.Tensor):
        self.kind, self.params, self.step_count = kind, params, 0
        self.lr, self.wd = ([t.view(-1, *[1] * (p.dim() - 1)) for p in params] for t in (lr, weight_decay))
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params] if kind != "sgd" else None

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.step_count += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            lr, wd = self.lr[i], self.wd[i]
            if self.kind == "adamw":
                p.mul_(1 - lr * wd)
            else:
                g = g + wd * p
            if self.kind == "sgd":
                self.m[i].mul_(_MOMENTUM).add_(g)
                p.sub_(lr * self.m[i])
                continue
            (b1, b2), t = _BETAS, self.step_count
            self.m[i].lerp_(g, 1 - b1)
            self.v[i].mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (self.v[i].sqrt() / (1 - b2 ** t) ** 0.5).add_(_EPS)
            p.sub_(lr / (1 - b1 ** t) * self.m[i] / denom)


def _smoothed_cross_entropy(logits: torch.Tensor, y: torch.Tensor, smoothing: torch.Tensor) -> torch.Tensor:
    """Per-network mean cross-entropy ``[N]`` of logits ``[N, B, C]`` with per-network label smoothing
    (``F.cross_entropy``'s formula: (1 - s) * NLL + s * mean over classes of -log p)."""
    logp = logits.log_softmax(-1)
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(-1)
    return (1 - smoothing) * nll + smoothing * -logp.mean(-1).mean(-1)


def _flip_crop_group(x: torch.Tensor, flips: torch.Tensor, crops: torch.Tensor, crop: bool) -> torch.Tensor:
    """Per-network flips ``[N, B]`` and crop offsets ``[N, 2]`` (dx, dy) applied to ``x`` ``[N, B, C, H, W]``."""
    x = torch.where(flips[..., None, None, None], x.flip(-1), x)
    if not crop:
        return x
    padded = F.pad(x, (4, 4, 4, 4)).permute(0, 3, 4, 1, 2)  # [N, H+8, W+8, B, C]
    span = torch.arange(x.shape[-1], device=x.device)
    rows, cols = crops[:, 1:2] + span, crops[:, 0:1] + span  # [N, H], [N, W]
    net = torch.arange(len(x), device=x.device)[:, None, None]
    return padded[net, rows[:, :, None], cols[:, None, :]].permute(0, 3, 4, 1, 2)


def train_group(spec, hparams_list, train_data, test_data, checkpoint_epochs, device: str = "cpu",
                train_eval_images: int | None = None):
    """Train networks of one ``spec`` together; return one :func:`~gmn_bench.training.train_network`
    style checkpoint list per entry of ``hparams_list`` (which must share optimizer, batch size,
    training fraction and precision)."""
    if not can_group(spec):
        raise ValueError(f"cannot group {spec['family']} networks with BatchNorm: train them one by one")
    for hp in hparams_list:
        check_hyperparameters(hp)
    kinds = {(hp["optimizer"], hp["batch_size"], hp.get("train_fraction", 1.0), training_precision(hp))
             for hp in hparams_list}
    if len(kinds) != 1:
        raise ValueError(f"a group needs one optimizer, batch size, training fraction and precision, "
                         f"got {sorted(kinds)}")
    (optimizer_kind, batch_size, _, precision), = kinds
    device = resolve_device(device)
    models = []
    for hp in hparams_list:
        torch.manual_seed(hp["init_seed"])
        models.append(build_model(spec).to(device))
    params, buffers = stack_module_state(models)
    names = list(models[0].state_dict())
    template = copy.deepcopy(models[0]).to("meta")

    def forward(p, b, x):
        return functional_call(template, (p, b), (x,))

    def per_network(key):
        return torch.tensor([float(hp[key]) for hp in hparams_list], device=device)

    train_step, score_all = vmap(forward), vmap(forward, in_dims=(0, 0, None))
    optimizer = StackedOptimizer(optimizer_kind, list(params.values()), per_network("learning_rate"),
                                 per_network("weight_decay"))
    smoothing = per_network("label_smoothing")
    generators = [torch.Generator().manual_seed(hp["data_seed"]) for hp in hparams_list]
    augmentations = [hp["augmentation"] for hp in hparams_list]
    x_train, y_train = training_subset(prepare_data(train_data, device), hparams_list[0])
    x_test, y_test = prepare_data(test_data, device)
    n, checkpoints = len(x_train), [[] for _ in hparams_list]
    for epoch in range(max(checkpoint_epochs) + 1):
        if epoch > 0:
            draws = [draw_epoch(n, batch_size, kind, g) for kind, g in zip(augmentations, generators)]
            orders, flips = (torch.stack([d[k] for d in draws]).to(device) for k in (0, 1))  # [N, n], once per epoch
            crops = torch.stack([d[2] for d in draws], dim=1).to(device)  # [n_batches, N, 2]
            for b, i in enumerate(range(0, n, batch_size)):
                idx = orders[:, i:i + batch_size]
                x = _flip_crop_group(x_train[idx], flips[:, i:i + batch_size], crops[b], "flip_crop" in augmentations)
                with autocast(precision, device):
                    loss = _smoothed_cross_entropy(train_step(params, buffers, x), y_train[idx], smoothing)
                optimizer.step(torch.autograd.grad(loss.sum(), list(params.values())))
        if epoch in set(checkpoint_epochs):
            with torch.no_grad():
                metrics = [batched_accuracy_and_loss(lambda x: score_all(params, buffers, x), *data) for data in
                           (train_eval_subset((x_train, y_train), train_eval_images), (x_test, y_test))]
            (train_acc, train_loss), (test_acc, test_loss) = ([t.tolist() for t in pair] for pair in metrics)
            stacked = {**params, **buffers}
            for k, out in enumerate(checkpoints):
                state = {name: stacked[name][k].detach().cpu().contiguous().clone() for name in names}
                out.append((epoch, state, {"train_acc": train_acc[k], "test_acc": test_acc[k],
                                           "train_loss": train_loss[k], "test_loss": test_loss[k]}))
    return checkpoints
