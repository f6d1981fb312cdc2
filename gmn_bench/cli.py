"""The ``gmn-bench`` command line."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

import torch

from .demo import build_demo_zoo
from .zoo_io import load_zoo
from .weights import to_module


def _cmd_demo(args) -> int:
    folder = build_demo_zoo(args.out, seed=args.seed)
    zoo = load_zoo(folder, config="id")
    print(f"wrote {folder}; datasets.load_dataset reads it as {dict((s, len(d)) for s, d in zoo.items())}")
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for split, ds in zoo.items():
        for row in ds:
            logits = to_module(row)(x)
            print(f"  {split:<5} {row['model_id']:<12} {row['family']:<7} {row['n_params']:>8} params  logits {tuple(logits.shape)}")
    return 0


def _cmd_info(args) -> int:
    zoo = load_zoo(args.zoo, config=args.config)
    for split, ds in zoo.items():
        families = Counter(ds["family"])
        print(f"{split}: {len(ds)} rows, {len(set(ds['model_id']))} networks, {dict(sorted(families.items()))}")
    return 0


def _cmd_build(args) -> int:
    from .build import build_zoo
    from .recipes import load_recipe

    folder = build_zoo(load_recipe(args.recipe), args.out, data=args.data, n_networks=args.n_networks,
                       train_limit=args.train_limit, test_limit=args.test_limit, executor=args.executor,
                       workers=args.workers, address=args.address, progress=not args.quiet)
    print(f"zoo written to {folder}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gmn-bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build one network per family, write them as a zoo folder, load it back")
    demo.add_argument("--out", default="gmn-bench-demo-zoo", help="zoo folder to (re)write")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)
    info = sub.add_parser("info", help="summarise a zoo (Hub repo id or local folder)")
    info.add_argument("zoo")
    info.add_argument("--config", default=None)
    info.set_defaults(func=_cmd_info)
    build = sub.add_parser("build", help="train a recipe's zoo (resumes an interrupted build)")
    build.add_argument("recipe", help="recipe TOML file or builders/<name> folder")
    build.add_argument("--out", required=True, help="zoo folder; finished networks are kept in <out>.parts/")
    build.add_argument("--data", default="uoft-cs/cifar10", help="CIFAR-10 Hub id or local folder of the same layout")
    build.add_argument("--n-networks", type=int, default=None, help="build only the first N networks")
    build.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    build.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    build.add_argument("--executor", choices=["local", "ray"], default="local")
    build.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    build.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=_cmd_build)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
