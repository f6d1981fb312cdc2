"""Building a tiny zoo from the CIFAR-10 test slice: determinism, resume after a real kill, Ray."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gmn_bench import load_zoo, to_module
from gmn_bench.build.engine import build_zoo
from gmn_bench.build.recipes import load_recipe
from conftest import CIFAR

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "builders" / "cifar10-tiny"
LIMITS = dict(train_limit=256, test_limit=128, device="cpu")  # bitwise determinism is a CPU promise


def _zoo_rows(folder):
    ds = load_zoo(folder, split="train")
    return sorted((r["model_id"], r["epoch"], r["weights"], r["test_acc"]) for r in ds)


@pytest.fixture(scope="module")
def reference_zoo(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "zoo"
    return build_zoo(load_recipe(TINY), out, data=str(CIFAR), n_networks=6, workers=2, progress=False, **LIMITS)


def test_built_zoo_has_every_checkpoint_split_and_a_card(reference_zoo):
    zoo = load_zoo(reference_zoo, config="id")
    rows = [r for split in zoo.values() for r in split]
    recipe = load_recipe(TINY)
    assert len(rows) == 6 * len(recipe.checkpoint_epochs)
    assert {r["epoch"] for r in rows} == set(recipe.checkpoint_epochs)
    for r in rows:
        assert 0.0 <= r["test_acc"] <= 1.0 and r["split_id"] in {"train", "validation", "test"}
        to_module(r)
    card = (reference_zoo / "README.md").read_text()
    assert "cifar10-tiny" in card and "256 CIFAR-10 training images, of which each network trains on all of them" in card
    assert "measured on 128 test images (the first 128 of CIFAR-10's 10,000-image test set" in card
    assert "| all | 6 |" in card  # the training-cost table


def test_a_partial_build_keeps_every_networks_weights_and_split_labels(reference_zoo, tmp_path):
    part = build_zoo(load_recipe(TINY), tmp_path / "zoo", data=str(CIFAR), n_networks=4, workers=1, progress=False,
                     **LIMITS)
    columns = ("weights", "split_id", "split_ood_family", "split_ood_size")

    def labels(folder):
        return {(r["model_id"], r["epoch"]): {c: r[c] for c in columns if c in r} for r in load_zoo(folder, split="train")}

    small, large = labels(part), labels(reference_zoo)
    assert len(small) == 4 * len(load_recipe(TINY).checkpoint_epochs) and set(small) < set(large)
    for key, values in small.items():
        assert {"split_id", "split_ood_size"} <= set(values)
        assert values == {c: large[key][c] for c in values}, key


def test_rebuild_is_bitwise_identical(reference_zoo, tmp_path):
    again = build_zoo(load_recipe(TINY), tmp_path / "zoo", data=str(CIFAR), n_networks=6, workers=1,
                      progress=False, **LIMITS)
    assert _zoo_rows(again) == _zoo_rows(reference_zoo)


def test_resume_after_a_real_kill_equals_an_uninterrupted_build(reference_zoo, tmp_path):
    out = tmp_path / "zoo"
    cmd = [sys.executable, "-m", "gmn_bench.cli", "build", str(TINY), "--out", str(out), "--data", str(CIFAR),
           "--n-networks", "6", "--train-limit", "256", "--test-limit", "128", "--workers", "1", "--device", "cpu", "--quiet"]
    manifest = Path(f"{out}.parts") / "manifest.jsonl"
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (manifest.exists() and len(manifest.read_text().splitlines()) >= 2):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(manifest.read_text().splitlines())
    assert 2 <= finished < 6, "the kill should land mid-build"
    assert not out.exists()
    subprocess.run(cmd, check=True)
    ids = [json.loads(line)["model_id"] for line in manifest.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 6  # nothing lost, nothing trained twice
    assert _zoo_rows(out) == _zoo_rows(reference_zoo)


def test_ray_executor_builds_the_same_zoo(reference_zoo, tmp_path):
    pytest.importorskip("ray")
    out = build_zoo(load_recipe(TINY), tmp_path / "zoo", data=str(CIFAR), n_networks=6, executor="ray",
                    progress=False, **LIMITS)
    assert _zoo_rows(out) == _zoo_rows(reference_zoo)


def test_sampled_epochs_and_train_fractions_and_the_final_checkpoint_copy(tmp_path):
    recipe = load_recipe(ROOT / "builders" / "cifar10-bench")
    full = build_zoo(recipe, tmp_path / "zoo", data=str(CIFAR), n_networks=4, workers=1, progress=False,
                     final_copy=tmp_path / "final", **LIMITS)
    rows = load_zoo(full, split="train")
    configs = {c["model_id"]: c for c in recipe.configurations()[:4]}
    assert len({c["epochs"] for c in configs.values()}) > 1 and len({c["train_fraction"] for c in configs.values()}) == 4
    for model_id, config in configs.items():
        mine = [r for r in rows if r["model_id"] == model_id]
        assert tuple(sorted(r["epoch"] for r in mine)) == recipe.checkpoints(config["epochs"])
        assert {r["train_fraction"] for r in mine} == {config["train_fraction"]}
    final = load_zoo(tmp_path / "final", config="id")
    final_rows = [r for split in final.values() for r in split]
    assert sorted((r["model_id"], r["epoch"]) for r in final_rows) == sorted((m, c["epochs"]) for m, c in configs.items())
    assert "final checkpoint only" in (tmp_path / "final" / "README.md").read_text()
    assert "final checkpoint only" not in (full / "README.md").read_text()
