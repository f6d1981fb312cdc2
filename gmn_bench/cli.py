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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
