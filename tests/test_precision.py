"""Training precision: bfloat16 autocast where it is faster, float32 unchanged, recorded per network."""
import hashlib
from pathlib import Path

import pytest
import torch

from gmn_bench import load_zoo, write_zoo
from gmn_bench.build.engine import build_zoo
from gmn_bench.build.grouped import group_key, train_group
from gmn_bench.build.recipes import load_recipe
from gmn_bench.nets import precision as precision_module
from gmn_bench.nets.precision import BFLOAT16_FASTER_ON_CPU, cpu_has_bfloat16, resolve_precision
from gmn_bench.nets.training import train_network, training_precision
from conftest import CIFAR, HYPERPARAMS, SPECS

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "builders" / "cifar10-tiny"
needs_cifar = pytest.mark.skipif(not CIFAR.is_dir(), reason=f"CIFAR-10 subset not found at {CIFAR}")
TRAINED = dict(SPECS, resnet=dict(SPECS["resnet"], widths=[8, 16]))
HP = dict(HYPERPARAMS, init_seed=3, augmentation="flip_crop")
FLOAT32_DIGESTS = {"mlp": "cb0ace450af7d85c", "cnn": "1180aa18683e0872", "resnet": "dfa6290b864ed5f8",
                   "vit": "2bb20ebf54500225"}
"""sha256 of the float32 weights train_network gave before training precisions existed (commit 8d23ba9),
on an AVX2 CPU with one thread: float32 training must stay exactly what it was."""


@pytest.fixture(scope="module")
def synthetic():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (96, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (96,), generator=g)
    return (images, labels), (images[:32], labels[:32])


def _digest(checkpoints) -> str:
    h = hashlib.sha256()
    for _, state, _ in checkpoints:
        for key in sorted(state):
            h.update(state[key].numpy().tobytes())
    return h.hexdigest()[:16]


def _train(family, data, **hparams):
    torch.set_num_threads(1)
    return train_network(TRAINED[family], dict(HP, **hparams), *data, checkpoint_epochs=(0, 2))


@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() != "AVX2",
                    reason="the float32 digests were recorded on an AVX2 CPU (other kernels round differently)")
@pytest.mark.parametrize("family", sorted(TRAINED))
def test_float32_training_is_bitwise_what_it_was_before_precisions(synthetic, family):
    assert _digest(_train(family, synthetic, precision="float32")) == FLOAT32_DIGESTS[family]


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_bfloat16_training_is_reproducible_in_float32_weights_and_differs_from_float32(synthetic, family):
    runs = [_train(family, synthetic, precision="bfloat16") for _ in range(2)]
    assert _digest(runs[0]) == _digest(runs[1]) and [m for *_, m in runs[0]] == [m for *_, m in runs[1]]
    assert _digest(runs[0]) != _digest(_train(family, synthetic))
    assert all(t.dtype in (torch.float32, torch.int64) for _, state, _ in runs[0] for t in state.values())


def test_hyperparameters_without_a_precision_train_in_float32():
    assert training_precision({}) == training_precision({"precision": None}) == "float32"  # a row that did not record it
    assert training_precision({"precision": "bfloat16"}) == "bfloat16"


def test_unknown_training_precision_fails_before_training(synthetic):
    with pytest.raises(ValueError, match="unknown training precision 'float16'"):
        _train("mlp", synthetic, precision="float16")


@pytest.mark.parametrize("flags, expected", [("fpu avx2 amx_bf16 amx_tile", True), ("fpu avx512f avx512_bf16", True),
                                             ("fpu avx2 avx512f", False)])
def test_cpu_bfloat16_support_is_read_from_the_flags(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert cpu_has_bfloat16(cpuinfo) is expected
    assert cpu_has_bfloat16(tmp_path / "missing") is False


@pytest.mark.parametrize("has_bfloat16", [True, False])
def test_auto_precision_is_bfloat16_only_for_the_families_measured_faster(monkeypatch, has_bfloat16):
    monkeypatch.setattr(precision_module, "cpu_has_bfloat16", lambda: has_bfloat16)
    for family in ("mlp", "cnn", "resnet", "vit"):
        faster = has_bfloat16 and family in BFLOAT16_FASTER_ON_CPU
        assert resolve_precision("auto", family, "cpu") == ("bfloat16" if faster else "float32")
        assert resolve_precision("float32", family, "cpu") == "float32"
        assert resolve_precision("bfloat16", family, "cpu") == "bfloat16"
    assert BFLOAT16_FASTER_ON_CPU == {"cnn", "resnet"}
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        resolve_precision("half", "cnn", "cpu")


@pytest.mark.parametrize("supported, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_precision_on_cuda_follows_the_gpu(monkeypatch, supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: supported)
    assert resolve_precision("auto", "vit", "cuda") == expected


def test_groups_share_one_precision(synthetic):
    config = {"spec": SPECS["mlp"], **HP}
    assert group_key(config) == group_key(dict(config, precision="float32"))
    assert group_key(config) != group_key(dict(config, precision="bfloat16"))
    with pytest.raises(ValueError, match="precision"):
        train_group(SPECS["mlp"], [HP, dict(HP, precision="bfloat16")], *synthetic, checkpoint_epochs=[0])


def test_grouped_bfloat16_training_follows_one_by_one(synthetic):
    hparams = [dict(HP, precision="bfloat16", init_seed=s, data_seed=10 + s) for s in range(2)]
    grouped = train_group(SPECS["mlp"], hparams, *synthetic, checkpoint_epochs=[0, 1])
    for hp, group_run in zip(hparams, grouped):
        single_run = train_network(SPECS["mlp"], hp, *synthetic, checkpoint_epochs=[0, 1])
        for (_, s1, _), (_, s2, _) in zip(single_run, group_run, strict=True):
            for name in s1:
                torch.testing.assert_close(s2[name], s1[name], atol=2e-2, rtol=2e-2, msg=name)


def _rows(folder):
    return sorted((r["model_id"], r["epoch"], r["weights"], r["test_acc"], r["precision"])
                  for r in load_zoo(folder, split="train"))


LIMITS = dict(data=str(CIFAR), train_limit=128, test_limit=64, device="cpu", workers=1, progress=False)


@needs_cifar
def test_a_bfloat16_build_is_bitwise_reproducible_and_records_its_precision(tmp_path):
    recipe = load_recipe(TINY)
    assert recipe.precision == "float32"  # the shipped recipe pins what its zoo was built in
    first = build_zoo(recipe, tmp_path / "a", n_networks=3, precision="bfloat16", **LIMITS)
    again = build_zoo(recipe, tmp_path / "b", n_networks=3, precision="bfloat16", **LIMITS)
    assert _rows(first) == _rows(again)
    assert {r[-1] for r in _rows(first)} == {"bfloat16"}
    card = (first / "README.md").read_text()
    assert "| family | bfloat16 networks |" in card and "| cnn, bfloat16 |" in card


@needs_cifar
def test_a_resumed_build_keeps_each_finished_networks_precision(tmp_path):
    recipe = load_recipe(TINY)
    started = _rows(build_zoo(recipe, tmp_path / "zoo", n_networks=2, precision="bfloat16", **LIMITS))
    resumed = _rows(build_zoo(recipe, tmp_path / "zoo", n_networks=4, **LIMITS))  # the recipe's float32
    finished = {r[0] for r in started}
    assert [r for r in resumed if r[0] in finished] == started
    assert {r[-1] for r in resumed if r[0] not in finished} == {"float32"}
    card = (tmp_path / "zoo" / "README.md").read_text()
    assert "| family | bfloat16 networks | float32 networks |" in card


def test_a_zoo_written_before_the_precision_column_reads_as_not_recorded(tmp_path):
    from conftest import TEST_ZOO
    from gmn_bench.zoo.card import zoo_summary

    old = [{k: v for k, v in row.items() if k != "precision"} for row in load_zoo(TEST_ZOO, split="train")]
    write_zoo(old, tmp_path / "old")
    rows = list(load_zoo(tmp_path / "old", split="train"))
    assert all(row.get("precision") is None for row in rows)  # written without it: null, "not recorded"
    assert "| family | not recorded networks |" in zoo_summary(rows)
