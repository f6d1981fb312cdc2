"""Grouped (torch.func) training equals one-by-one training; device selection; grouped builds."""
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from gmn_bench import load_zoo
from gmn_bench.build.engine import _tasks, build_zoo
from gmn_bench.nets.cifar import load_cifar10
from gmn_bench.build.grouped import StackedOptimizer, can_group, train_group
from gmn_bench.build.recipes import load_recipe
from gmn_bench.nets.training import OPTIMIZERS, resolve_device, train_network
from conftest import CIFAR

ROOT = Path(__file__).resolve().parents[1]
MLP = {"family": "mlp", "depth": 1, "width": 16, "activation": "gelu"}
CNN = {"family": "cnn", "channels": [4, 8], "kernel_size": 3, "pooling": "max", "activation": "relu", "batchnorm": False}
VIT = {"family": "vit", "patch_size": 8, "dim": 16, "depth": 1, "heads": 2, "mlp_ratio": 2, "pool": "cls"}


def _hparams(optimizer, n=3):
    settings = [(0.01, 1e-3, 0.1, "flip_crop"), (0.003, 1e-2, 0.0, "none"), (0.02, 0.0, 0.2, "flip")][:n]
    return [dict(optimizer=optimizer, learning_rate=lr, weight_decay=wd, label_smoothing=ls, batch_size=32, epochs=2,
                 augmentation=aug, init_seed=s, data_seed=100 + s) for s, (lr, wd, ls, aug) in enumerate(settings)]


@pytest.fixture(scope="module")
def data():
    return load_cifar10(str(CIFAR), "train", limit=128), load_cifar10(str(CIFAR), "test", limit=64)


@pytest.mark.parametrize("spec,optimizer", [(MLP, "adam"), (MLP, "sgd"), (CNN, "sgd"), (CNN, "adamw"), (VIT, "adamw")])
def test_grouped_training_matches_one_by_one(data, spec, optimizer):
    hparams = _hparams(optimizer)
    grouped = train_group(spec, hparams, *data, checkpoint_epochs=[0, 1, 2])
    for hp, group_run in zip(hparams, grouped):
        single_run = train_network(spec, hp, *data, checkpoint_epochs=[0, 1, 2], channels_last=False)
        for (e1, s1, m1), (e2, s2, m2) in zip(single_run, group_run, strict=True):
            assert e1 == e2 and list(s1) == list(s2)
            for key in m1:
                assert m2[key] == pytest.approx(m1[key], abs=1e-4), key
            for name in s1:
                if optimizer != "sgd" and name.endswith("attn.k.bias"):
                    # the key bias shifts every attention logit of a query equally: its true gradient is 0,
                    # and Adam's g / sqrt(v) turns the rounding noise left in its place into lr-sized steps
                    continue
                # Adam-type steps are g / sqrt(v) (about lr in size whatever g is), so float rounding in a small
                # gradient moves a weight by up to ~1% of lr (0.01-0.02 here) more than SGD's lr * g does
                atol = 1e-4 if optimizer == "sgd" else 5e-4
                torch.testing.assert_close(s2[name], s1[name], atol=atol, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_stacked_optimizer_follows_torch_optim(kind):
    torch.manual_seed(0)
    start, grads = torch.randn(3, 5, 4), [torch.randn(3, 5, 4) for _ in range(6)]
    lrs, wds = [0.01, 0.003, 0.03], [0.0, 1e-2, 1e-3]
    stacked = start.clone()
    optimizer = StackedOptimizer(kind, [stacked], torch.tensor(lrs), torch.tensor(wds))
    for g in grads:
        optimizer.step([g])
    for k in range(3):
        p = torch.nn.Parameter(start[k].clone())
        reference = OPTIMIZERS[kind]([p], lrs[k], wds[k])
        for g in grads:
            p.grad = g[k].clone()
            reference.step()
        torch.testing.assert_close(stacked[k], p.detach(), atol=1e-6, rtol=1e-5)


def test_groups_share_spec_optimizer_and_batch_size_and_skip_batchnorm():
    bn_cnn = dict(CNN, batchnorm=True)
    resnet = {"family": "resnet", "widths": [8], "blocks_per_stage": 1}
    assert can_group(MLP) and can_group(CNN) and can_group(VIT)
    assert not can_group(bn_cnn) and not can_group(resnet)
    base = dict(optimizer="adam", batch_size=64, epochs=3)
    configs = [dict(base, model_id="a", spec=MLP), dict(base, model_id="b", spec=MLP),
               dict(base, model_id="c", spec=MLP, optimizer="sgd"), dict(base, model_id="d", spec=MLP, batch_size=128),
               dict(base, model_id="e", spec=bn_cnn), dict(base, model_id="f", spec=bn_cnn),
               dict(base, model_id="g", spec=CNN), dict(base, model_id="h", spec=CNN), dict(base, model_id="i", spec=CNN)]
    tasks = {tuple(c["model_id"] for c in configs_): grouped for configs_, grouped in _tasks(configs, True, 2)}
    assert tasks == {("a", "b"): True, ("c",): False, ("d",): False, ("g", "h"): True, ("i",): False,
                     ("e",): False, ("f",): False}
    assert all(not grouped for _, grouped in _tasks(configs, False, 2))
    with pytest.raises(ValueError, match="BatchNorm"):
        train_group(bn_cnn, [], None, None, [0])
    with pytest.raises(ValueError, match="one optimizer, batch size, training fraction and precision"):
        train_group(MLP, _hparams("sgd", 1) + _hparams("adam", 1), None, None, [0])


def test_device_selection(monkeypatch):
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match="cuda.*is_available"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cuda") == "cuda"


def test_grouped_build_gives_the_one_by_one_zoo(tmp_path):
    cnn = load_recipe(ROOT / "builders" / "cifar10-cnn")
    recipe = replace(cnn, name="grouped-test", checkpoint_epochs=(0, 1),
                     hyperparameters={**cnn.hyperparameters, "epochs": 1, "optimizer": "adam", "batch_size": 64})
    kwargs = dict(data=str(CIFAR), n_networks=3, train_limit=256, test_limit=128, workers=1, progress=False, device="cpu")
    zoos = [load_zoo(build_zoo(recipe, tmp_path / str(g), grouped=g, **kwargs), split="train") for g in (True, False)]
    rows = [sorted(zoo, key=lambda r: (r["model_id"], r["epoch"])) for zoo in zoos]
    assert len(rows[0]) == len(rows[1]) == 6
    for grouped_row, single_row in zip(*rows):
        assert grouped_row["model_id"] == single_row["model_id"] and grouped_row["epoch"] == single_row["epoch"]
        assert grouped_row["test_acc"] == pytest.approx(single_row["test_acc"], abs=1e-4)


def test_cuda_build_without_a_gpu_fails_before_training(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device 'cuda' requested"):
        build_zoo(load_recipe(ROOT / "builders" / "cifar10-tiny"), tmp_path / "zoo", data=str(CIFAR), n_networks=1,
                  train_limit=8, test_limit=8, device="cuda", progress=False)
    assert not (tmp_path / "zoo.parts" / "manifest.jsonl").exists()
