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
3. float32 vs bfloat16 (``--precision``, instead of 1 and 2): ``--per-family`` of the recipe's own
   networks of each family, each trained by the engine's own path (``train_configurations``, one
   thread) in both precisions, back to back; networks per core-hour (from the worker's CPU time)
   and their ratio, what ``--precision auto`` picks here, and the paired difference in final test
   accuracy (bfloat16 - float32, mean over the networks with a 95% bootstrap interval).

    python benchmarks/build_rate.py --data ../shared/cifar10-subset --per-family 12 --families mlp vit
    python benchmarks/build_rate.py --precision --recipe builders/cifar10-bench --data ../shared/cifar10-fulltrain \
        --train-limit 5000 --per-family 6
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from scipy.stats import bootstrap

from gmn_bench.build.engine import build_zoo, train_configurations
from gmn_bench.build.grouped import can_group, train_group
from gmn_bench.build.recipes import HYPERPARAMETERS, load_recipe
from gmn_bench.nets import load_cifar10
from gmn_bench.nets.precision import cpu_has_bfloat16, resolve_precision
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


def _float32_vs_bfloat16(recipe, configs, args):
    """Per precision: networks per core-hour and the paired final test accuracy differences."""
    seconds, accuracy = {"float32": [], "bfloat16": []}, {"float32": [], "bfloat16": []}
    for i, config in enumerate([configs[0], *configs]):  # the first, untimed: torch's one-time kernel set-up
        for precision in seconds:  # back to back, so a change in the machine's load hits both
            (rows, spent), = train_configurations([dict(config, precision=precision)], recipe, args.data,
                                                  args.train_limit, args.test_limit, device="cpu")
            if i > 0:
                seconds[precision].append(spent)
                accuracy[precision].append(max(rows, key=lambda r: r["epoch"])["test_acc"])
    rate = {p: 3600 * len(t) / sum(t) for p, t in seconds.items()}
    return rate, np.array(accuracy["bfloat16"]) - np.array(accuracy["float32"])


def _mean_interval(values: np.ndarray) -> str:
    if len(values) < 2:
        return f"{values.mean():+.3f}"
    ci = bootstrap((values,), np.mean, confidence_level=0.95, n_resamples=10_000, method="percentile",
                   random_state=0).confidence_interval
    return f"{values.mean():+.3f} [{ci.low:+.3f}, {ci.high:+.3f}]"


def _one_family_recipes(recipe, args):
    """``(family, the recipe restricted to it, its first --per-family configurations)`` per family."""
    for family in args.families or sorted(recipe.families):
        one = replace(recipe, name=f"{recipe.name}-{family}", families={family: 1})
        yield family, one, one.configurations()[: args.per_family]


def _precision_table(recipe, args):
    print(f"recipe {recipe.name}, {args.per_family} networks per family, {args.train_limit or 'all'} training / "
          f"{args.test_limit or 'all'} test images, one thread; CPU bfloat16 units (amx_bf16/avx512_bf16): "
          f"{'yes' if cpu_has_bfloat16() else 'no'}")
    print(f"{'family':<8} {'float32 nets/core-h':>20} {'bfloat16 nets/core-h':>21} {'bf16/f32':>9} {'auto':>9} "
          f"{'auto/f32':>9}  test acc bf16 - f32, mean [95% bootstrap CI]")
    for family, one, configs in _one_family_recipes(recipe, args):
        rate, difference = _float32_vs_bfloat16(one, configs, args)
        auto = resolve_precision("auto", family, "cpu")
        ratio = rate["bfloat16"] / rate["float32"]
        print(f"{family:<8} {rate['float32']:>20.0f} {rate['bfloat16']:>21.0f} {ratio:>8.2f}x {auto:>9} "
              f"{rate[auto] / rate['float32']:>8.2f}x  {_mean_interval(difference)}", flush=True)


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
    parser.add_argument("--precision", action="store_true", help="only float32 vs bfloat16 (see 3. above)")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    if args.precision:
        return _precision_table(recipe, args)
    data = {"train": load_cifar10(args.data, "train", args.train_limit),
            "test": load_cifar10(args.data, "test", args.test_limit)}
    print(f"recipe {recipe.name}, checkpoint epochs {list(recipe.checkpoint_epochs)}, "
          f"{len(data['train'][1])} train / {len(data['test'][1])} test images, {args.per_family} networks per family, "
          f"torch default threads {torch.get_num_threads()}, engine workers {args.workers}")
    print(f"{'family':<8} {'naive nets/h':>13} {'engine nets/h':>14} {'engine/naive':>13} "
          f"{'1-by-1 nets/h':>14} {'grouped nets/h':>15} {'grouped/1-by-1':>15}")
    for family, one, configs in _one_family_recipes(recipe, args):
        naive, engine = _naive_vs_engine(one, configs, args, data)
        print(f"{family:<8} {naive:>13.0f} {engine:>14.0f} {engine / naive:>12.2f}x", end="", flush=True)
        spec = next((c["spec"] for c in configs if can_group(c["spec"])), None)
        if not args.skip_grouped and spec is not None:
            single, grouped = _single_vs_grouped(one, configs, spec, data)
            print(f" {single:>14.0f} {grouped:>15.0f} {grouped / single:>14.2f}x", end="")
        print(flush=True)


if __name__ == "__main__":
    main()
