"""train_network on the CIFAR-10 test slice: determinism, checkpoints, metrics, learning."""

import pytest
import torch

from gmn_bench.nets.cifar import load_cifar10, normalize
from gmn_bench.nets.training import augment, train_network
from conftest import CIFAR


MLP = {"family": "mlp", "depth": 1, "width": 32}
CNN = {"family": "cnn", "channels": [8, 16], "batchnorm": True}
HP = dict(optimizer="adam", learning_rate=1e-3, weight_decay=0.0, label_smoothing=0.0, batch_size=32,
          epochs=3, augmentation="none", init_seed=0, data_seed=1)


@pytest.fixture(scope="module")
def data():
    return load_cifar10(str(CIFAR), "train", limit=256), load_cifar10(str(CIFAR), "test", limit=128)


def test_load_cifar10_shapes_and_normalize(data):
    (x, y), (xt, yt) = data
    assert x.shape == (256, 3, 32, 32) and x.dtype == torch.uint8
    assert y.shape == (256,) and y.dtype == torch.int64 and 0 <= int(y.min()) and int(y.max()) <= 9
    assert xt.shape == (128, 3, 32, 32) and yt.shape == (128,)
    z = normalize(x)
    assert z.dtype == torch.float32 and z.shape == x.shape
    assert abs(z.mean().item()) < 0.5 and 0.5 < z.std().item() < 1.5


@pytest.mark.parametrize("spec,augmentation,optimizer", [(MLP, "none", "adam"), (CNN, "flip_crop", "sgd")])
def test_training_is_bitwise_reproducible(data, spec, augmentation, optimizer):
    hp = dict(HP, epochs=2, augmentation=augmentation, optimizer=optimizer, learning_rate=0.01)
    runs = [train_network(spec, hp, *data, checkpoint_epochs=[0, 2]) for _ in range(2)]
    for (e1, s1, m1), (e2, s2, m2) in zip(*runs):
        assert e1 == e2 and s1.keys() == s2.keys() and m1 == m2
        for k in s1:
            assert torch.equal(s1[k], s2[k]), k
    other = train_network(spec, dict(hp, init_seed=hp["init_seed"] + 1), *data, checkpoint_epochs=[0])
    assert not all(torch.equal(other[0][1][k], runs[0][0][1][k]) for k in other[0][1])


def test_a_resnet_with_a_narrow_strided_shortcut_trains(data):
    # NHWC would abort the process (oneDNN's AVX2 1x1 strided backward with < 8 input channels)
    resnet = {"family": "resnet", "widths": [6, 12], "blocks_per_stage": 1}
    (_, start, _), (_, end, metrics) = train_network(resnet, dict(HP, epochs=1), *data, checkpoint_epochs=[0, 1])
    shortcut = "blocks.1.shortcut.0.weight"
    assert start[shortcut].shape == (12, 6, 1, 1) and not torch.equal(start[shortcut], end[shortcut])
    assert 0 < metrics["train_loss"] < 10


def test_checkpoints_and_metrics(data):
    out = train_network(CNN, dict(HP, optimizer="adamw", weight_decay=0.01), *data, checkpoint_epochs=[0, 1, 3])
    assert [e for e, _, _ in out] == [0, 1, 3]
    for _, state, metrics in out:
        assert set(metrics) == {"train_acc", "test_acc", "train_loss", "test_loss"}
        assert 0.0 <= metrics["train_acc"] <= 1.0 and 0.0 <= metrics["test_acc"] <= 1.0
        assert metrics["train_loss"] > 0 and metrics["test_loss"] > 0
        assert "convs.0.norm.running_mean" in state  # buffers are stored too
    assert not torch.equal(out[0][1]["head.weight"], out[-1][1]["head.weight"])
    # stored states are copies: later training did not change the epoch-0 weights
    torch.manual_seed(HP["init_seed"])
    from gmn_bench import build_model
    assert torch.equal(out[0][1]["head.weight"], build_model(CNN).state_dict()["head.weight"])


def test_mlp_training_loss_decreases(data):
    out = train_network(MLP, dict(HP, epochs=5), *data, checkpoint_epochs=[0, 5])
    (_, _, start), (_, _, end) = out
    assert end["train_loss"] < 0.8 * start["train_loss"]
    assert end["train_acc"] > start["train_acc"]


def test_augment_is_seeded_and_shape_preserving(data):
    x = normalize(data[0][0][:16])
    for kind in ("none", "flip", "flip_crop"):
        a = augment(x, kind, torch.Generator().manual_seed(3))
        b = augment(x, kind, torch.Generator().manual_seed(3))
        assert a.shape == x.shape and torch.equal(a, b)
    with pytest.raises(ValueError, match="augmentation"):
        train_network(MLP, dict(HP, augmentation="mixup"), *data, checkpoint_epochs=[0])


def test_a_train_fraction_trains_on_the_first_images_only(data):
    (x, y), test = data
    hp = dict(HP, epochs=1, train_fraction=0.25)
    short = train_network(MLP, hp, (x, y), test, checkpoint_epochs=[1], train_eval_images=16)
    cut = train_network(MLP, dict(hp, train_fraction=1.0), (x[:64], y[:64]), test, checkpoint_epochs=[1],
                        train_eval_images=16)
    assert torch.equal(short[0][1]["fc0.weight"], cut[0][1]["fc0.weight"])  # images 64+ never seen
    assert short[0][2] == cut[0][2]  # train metrics on the same first 16 training images
    all_seen = train_network(MLP, hp, (x, y), test, checkpoint_epochs=[1])  # train metrics on all 64 seen images
    assert all_seen[0][2]["train_loss"] != short[0][2]["train_loss"]
    assert all_seen[0][2]["test_loss"] == short[0][2]["test_loss"]
