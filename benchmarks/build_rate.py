"""Networks per hour, per family: the naive loop vs the build engine, side by side in one run.

naive:  one network at a time in one process, torch's default threads, NCHW convolutions.
engine: gmn_bench.build (process pool of --workers single-threaded workers, channels-last convs).

    python benchmarks/build_rate.py --data ../shared/cifar10-subset --per-family 4
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gmn_bench.build import _load_data, _DATA, build_zoo
from gmn_bench.recipes import HYPERPARAMETERS, load_recipe
from gmn_bench.training import train_network

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default=str(ROOT / "builders" / "cifar10-tiny"))
    parser.add_argument("--data", default="uoft-cs/cifar10")
    parser.add_argument("--per-family", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    _load_data(args.data, None, None)
    print(f"recipe {recipe.name}, epochs {recipe.checkpoint_epochs}, {len(_DATA['train'][1])} train images")
    print(f"{'family':<8} {'naive nets/h':>13} {'engine nets/h':>14} {'speed-up':>9}")
    for family in sorted(recipe.families):
        one = replace(recipe, name=f"{recipe.name}-{family}", families={family: 1})
        configs = one.configurations()[: args.per_family]
        start = time.perf_counter()
        for c in configs:
            hp = {k: c[k] for k in (*HYPERPARAMETERS, "init_seed", "data_seed")}
            train_network(c["spec"], hp, _DATA["train"], _DATA["test"], one.checkpoint_epochs, channels_last=False)
        naive = len(configs) * 3600 / (time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            build_zoo(one, Path(tmp) / "zoo", data=args.data, n_networks=args.per_family, workers=args.workers,
                      progress=False)
            engine = len(configs) * 3600 / (time.perf_counter() - start)
        print(f"{family:<8} {naive:>13.0f} {engine:>14.0f} {engine / naive:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
