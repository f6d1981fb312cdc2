import os
import tempfile
from pathlib import Path

# Keep tests off the network and out of the user's caches (set before datasets is imported).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="gmn-bench-hf-cache-"))

# The CIFAR-10 slice shipped with the tests (Hub layout of uoft-cs/cifar10, 1,000 train / 500 test real images,
# class-balanced; scripts/make_cifar10_slice.py regenerates it): every test that reads CIFAR-10 images reads it.
CIFAR = Path(__file__).resolve().parent / "data" / "cifar10-slice"
# The full training set, for the checks marked `full_data` only (deselected by default: `pytest -m full_data`).
FULL_CIFAR = Path(os.environ.get("GMN_BENCH_FULL_CIFAR",
                                 Path(__file__).resolve().parents[2] / "shared" / "cifar10-fulltrain"))

# The small real zoo the tests read (72 networks of every family, checkpoints 0/1/3, 9 id test networks).
# Tests never rely on the embedded default zoo being small.
TEST_ZOO = Path(__file__).resolve().parent / "data" / "cifar10-tiny"

import pytest  # noqa: E402
import torch  # noqa: E402

from gmn_bench import build_model, make_row  # noqa: E402

SPECS = {
    "mlp": {"family": "mlp", "depth": 2, "width": 16, "activation": "tanh"},
    "cnn": {"family": "cnn", "channels": [4, 8], "kernel_size": 3, "batchnorm": True, "pooling": "avg"},
    "resnet": {"family": "resnet", "widths": [4, 8], "blocks_per_stage": 1},
    "vit": {"family": "vit", "patch_size": 8, "dim": 16, "depth": 2, "heads": 4, "pool": "cls"},
}
HYPERPARAMS = dict(optimizer="adam", learning_rate=1e-3, weight_decay=5e-4, label_smoothing=0.1, batch_size=32,
                   epochs=2, augmentation="flip", data_seed=7)


def trained_like(module):
    """Randomise BatchNorm statistics so a round trip also checks buffers."""
    for name, buf in module.named_buffers():
        if buf.is_floating_point():
            buf.uniform_(0.5, 1.5)
    return module


def make_rows() -> list[dict]:
    """Two checkpoints of one network per family, with an in-distribution split label."""
    out = []
    for i, (family, spec) in enumerate(SPECS.items()):
        torch.manual_seed(i)
        module = trained_like(build_model(spec))
        for epoch in (0, 2):
            out.append(make_row(f"{family}-{i}", spec, module, epoch=epoch, init_seed=i, train_acc=0.5,
                                test_acc=0.4 + 0.01 * i, train_loss=1.0, test_loss=1.2,
                                split_id="train" if i < 3 else "test", **HYPERPARAMS))
    return out


@pytest.fixture
def rows():
    """:func:`make_rows`, fresh for every test."""
    return make_rows()


@pytest.fixture
def one_thread():
    """Tiny graphs: intra-op threads only add synchronisation (slow on a shared, loaded CPU)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
