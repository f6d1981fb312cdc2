"""Networks per hour on CPU, per family, measured side by side in one run.

1. naive vs engine, on the recipe's own networks of each family:
   naive:  one network at a time in one process, torch's default threads, NCHW convolutions.
   engine: ``gmn_bench.build.build_zoo(device="cpu")``: a spawn pool of ``--workers``
           single-threaded workers, channels-last convolutions; pool start-up, data hand-off,
           part files and the final zoo write are all inside the timing.
2. one-by-one vs grouped (families without BatchNorm): ``--per-family`` networks sharing the
   family's first sampled spec without BatchNorm, optimizer and batch size (other hyperparameters and seeds as
   sampled), single-threaded, trained with ``train_network`` one at a time vs one
   ``train_group`` (torch.func vmap).

    python benchmarks/build_rate.py --data ../shared/cifar10-subset --per-family 12 --families mlp vit
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from gmn_bench.build.engine import build_zoo
from gmn_bench.build.grouped import can_group, train_group
from gmn_bench.build.recipes import HYPERPARAMETERS, load_recipe
from gmn_bench.nets import load_cifar10
from gmn_bench.nets.training import prepare_data, train_network

ROOT = Path(__file__).resolve().parents[1]


def _hparams(config):
    return {k: config[k] for k in (*HYPERPARAMETERS, "init_seed", "data_seed")}


def _rate(n, fn):
    start = time.perf_counter()
    fn()
    return n * 3600 / (time.perf_counter() - start)


def _naive_vs_engine(recipe, configs, args, data):
    def naive():
        for c in configs:
            train_network(c["spec"], _hparams(c), data["train"], data["test"], recipe.checkpoint_epochs,
                          channels_last=False)

    def engine():
        with tempfile.TemporaryDirectory() as tmp:
            build_zoo(recipe, Path(tmp) / "zoo", data=args.data, n_networks=len(configs), train_limit=args.train_limit,
                      test_limit=args.test_limit, workers=args.workers, device="cpu", progress=False)

    return _rate(len(configs), naive), _rate(len(configs), engine)


def _single_vs_grouped(recipe, configs, spec, data):
    first = _hparams(configs[0])
    hparams = [dict(_hparams(c), optimizer=first["optimizer"], batch_size=first["batch_size"]) for c in configs]
    train, test = prepare_data(data["train"]), prepare_data(data["test"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = _rate(len(hparams), lambda: [train_network(spec, hp, train, test, recipe.checkpoint_epochs)
                                              for hp in hparams])
        grouped = _rate(len(hparams), lambda: train_group(spec, hparams, train, test, recipe.checkpoint_epochs))
    finally:
        torch.set_num_threads(threads)
    return single, grouped


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default=str(ROOT / "builders" / "cifar10-tiny"))
    parser.add_argument("--data", default="uoft-cs/cifar10")
    parser.add_argument("--families", nargs="+", default=None, help="default: all of the recipe's families")
    parser.add_argument("--per-family", type=int, default=12)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-grouped", action="store_true", help="only naive vs engine")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    data = {"train": load_cifar10(args.data, "train", args.train_limit),
            "test": load_cifar10(args.data, "test", args.test_limit)}
    print(f"recipe {recipe.name}, checkpoint epochs {list(recipe.checkpoint_epochs)}, "
          f"{len(data['train'][1])} train / {len(data['test'][1])} test images, {args.per_family} networks per family, "
          f"torch default threads {torch.get_num_threads()}, engine workers {args.workers}")
    print(f"{'family':<8} {'naive nets/h':>13} {'engine nets/h':>14} {'engine/naive':>13} "
          f"{'1-by-1 nets/h':>14} {'grouped nets/h':>15} {'grouped/1-by-1':>15}")
    for family in args.families or sorted(recipe.families):
        one = replace(recipe, name=f"{recipe.name}-{family}", families={family: 1})
        configs = one.configurations()[: args.per_family]
        naive, engine = _naive_vs_engine(one, configs, args, data)
        print(f"{family:<8} {naive:>13.0f} {engine:>14.0f} {engine / naive:>12.2f}x", end="", flush=True)
        spec = next((c["spec"] for c in configs if can_group(c["spec"])), None)
        if not args.skip_grouped and spec is not None:
            single, grouped = _single_vs_grouped(one, configs, spec, data)
            print(f" {single:>14.0f} {grouped:>15.0f} {grouped / single:>14.2f}x", end="")
        print(flush=True)


if __name__ == "__main__":
    main()
