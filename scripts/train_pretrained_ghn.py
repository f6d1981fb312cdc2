"""Measure the budget curve of the GHN that ships with gmn-bench (``GHN.from_pretrained()``), and ship one.

Architectures: the GHN training space of the cifar10-bench recipe (its architecture knobs widened:
:func:`gmn_bench.evaluation.parameter_prediction.training_architectures`), minus the spec of every
test network of the embedded zoo's ``id`` and ``ood_size`` splits (the splits this GHN is scored
on); a quarter of each family (at most 8 specs) is held out as validation architectures.
Images: the first 45,000 CIFAR-10 training images; validation accuracy is measured on the next
1,000 (never trained on), BatchNorm statistics re-estimated from 512 training images.
One training run; at every ``--eval-at`` step the validation accuracy is recorded (``--work``/curve.json);
training stops early when ``--cpu-budget`` seconds of CPU time are spent.

``--ship DIR`` copies the GHN saved in ``DIR`` into the package with the curve attached: the
``all-families`` GHN of a ``gmn-bench parameter-prediction --recipe builders/cifar10-bench`` run
(``<out>/ghn-all-families``) trained for the steps where the curve flattens.

    OMP_NUM_THREADS=1 nice -n 5 python scripts/train_pretrained_ghn.py --data /work/shared/cifar10-fulltrain
    python scripts/train_pretrained_ghn.py --ship pp/ghn-all-families
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

import torch

from gmn_bench import build_model
from gmn_bench.build.recipes import load_recipe
from gmn_bench.evaluation.parameter_prediction import training_architectures
from gmn_bench.metanets.ghn import GHN, PRETRAINED, train_ghn
from gmn_bench.nets.cifar import load_cifar10
from gmn_bench.nets.training import accuracy_and_loss
from gmn_bench.tasks.parameter_prediction import ParameterPredictionTask, recompute_batchnorm

TRAIN_IMAGES, VALIDATION_IMAGES = 45_000, 1_000


class _BudgetSpent(Exception):
    pass


def _split_validation(specs: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    rng, train, validation = random.Random(seed), [], []
    for family in sorted({s["family"] for s in specs}):
        members = [s for s in specs if s["family"] == family]
        rng.shuffle(members)
        k = min(8, len(members) // 4)
        validation += members[:k]
        train += members[k:]
    return train, validation


def _validation_accuracy(ghn: GHN, specs: list[dict], calibration, images, labels) -> dict[str, float]:
    ghn.eval()
    accuracies = {}
    for spec in specs:
        module = build_model(spec)
        module.load_state_dict(ghn.predict(spec), strict=False)
        accuracies[json.dumps(spec, sort_keys=True)] = accuracy_and_loss(recompute_batchnorm(module, calibration),
                                                                         images, labels)[0]
    return accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="builders/cifar10-bench")
    parser.add_argument("--data", default="/work/shared/cifar10-fulltrain")
    parser.add_argument("--eval-at", default="250,500,1000,2000,3000,4000,6000")
    parser.add_argument("--cpu-budget", type=float, default=540.0, help="stop after this much CPU time (s)")
    parser.add_argument("--work", default="ghn-training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ship", default=None, help="copy the GHN saved in this folder into the package")
    args = parser.parse_args()
    work = Path(args.work)
    if args.ship is not None:
        curve = json.loads((work / "curve.json").read_text())
        record = json.loads((Path(args.ship) / "metanet.json").read_text())
        shutil.rmtree(PRETRAINED, ignore_errors=True)
        trained = {**record["protocol"], "zoo_fingerprint": record["wanted"]["zoo"],
                   "never_trained_on": "the architectures of the zoo's id and ood_size test networks"}
        GHN.load(args.ship).save(PRETRAINED, trained=trained, curve=curve)
        print(f"shipped {args.ship} (trained {record['protocol']['steps']} steps) to {PRETRAINED}")
        return
    torch.set_num_threads(1)
    task = ParameterPredictionTask()
    specs = training_architectures(task, ("id", "ood_size"), load_recipe(args.recipe))
    train_specs, validation_specs = _split_validation(specs, args.seed)
    images, labels = load_cifar10(args.data, "train")
    train_x, train_y = images[:TRAIN_IMAGES], labels[:TRAIN_IMAGES]
    val_x, val_y = images[TRAIN_IMAGES:TRAIN_IMAGES + VALIDATION_IMAGES], labels[TRAIN_IMAGES:TRAIN_IMAGES + VALIDATION_IMAGES]
    eval_at = sorted(int(s) for s in args.eval_at.split(","))
    families = lambda ss: {f: sum(s["family"] == f for s in ss) for f in sorted({s["family"] for s in ss})}  # noqa: E731
    setup = {"recipe": args.recipe, "architecture_space": "the recipe's, architecture knobs widened",
             "zoo": "embedded cifar10-bench (test specs of id and ood_size excluded)",
             "train_architectures": families(train_specs), "validation_architectures": families(validation_specs),
             "images": f"first {TRAIN_IMAGES} CIFAR-10 training images", "seed": args.seed, "threads": 1,
             "validation_images": f"CIFAR-10 training images {TRAIN_IMAGES}..{TRAIN_IMAGES + VALIDATION_IMAGES - 1}"}
    print(json.dumps(setup), flush=True)
    points, start = [], time.process_time()

    def callback(step: int) -> None:
        if step in eval_at:
            cpu = time.process_time() - start
            accuracies = _validation_accuracy(ghn, validation_specs, train_x[:512], val_x, val_y)
            by_family = {f: statistics.fmean(a for k, a in accuracies.items() if json.loads(k)["family"] == f)
                         for f in setup["validation_architectures"]}
            points.append({"step": step, "cpu_seconds": round(cpu, 1), "mean_accuracy": statistics.fmean(accuracies.values()),
                           "by_family": by_family})
            (work / "curve.json").write_text(json.dumps({"setup": setup, "points": points}, indent=2))
            print(json.dumps(points[-1]), flush=True)
        if time.process_time() - start > args.cpu_budget:
            raise _BudgetSpent

    torch.manual_seed(args.seed)
    ghn = GHN()
    work.mkdir(parents=True, exist_ok=True)
    try:
        train_ghn(ghn, train_specs, train_x, train_y, steps=max(eval_at), seed=args.seed, progress=False,
                  callback=callback)
    except _BudgetSpent:
        print(f"CPU budget spent after {points[-1]['step'] if points else 0} evaluated steps", flush=True)


if __name__ == "__main__":
    main()
