"""Measure the shipped GHN (``GHN.from_pretrained()``) on the embedded zoo's id and ood_size test
networks (architectures it never trained on): accuracy of the predicted weights (BatchNorm
re-estimated from 512 training images, no training) with intervals over architectures and over
networks, single-class networks, Kendall tau between predicted-weight accuracy and the zoo's
recorded test accuracy, and the seconds ``predict_parameters`` takes per distinct architecture.

    OMP_NUM_THREADS=1 nice -n 5 python scripts/measure_pretrained_ghn.py --data /work/shared/cifar10-fulltrain
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from scipy.stats import kendalltau

from gmn_bench import build_model
from gmn_bench.evaluation import stats
from gmn_bench.metanets.ghn import GHN, predict_parameters
from gmn_bench.nets.architectures import spec_to_json
from gmn_bench.tasks.parameter_prediction import ParameterPredictionTask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/work/shared/cifar10-fulltrain")
    parser.add_argument("--test-limit", type=int, default=1000)
    parser.add_argument("--splits", default="id,ood_size")
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = ParameterPredictionTask(data=args.data, test_limit=args.test_limit, finetune_epochs=0)
    ghn = GHN.from_pretrained()
    splits = args.splits.split(",")
    specs = {spec_to_json(task.networks[m].spec) for s in splits for m in task.ids(s)}
    predicted, seconds = {}, []
    for key in sorted(specs):
        module = build_model(key)
        start = time.perf_counter()
        predicted[key] = predict_parameters(module, ghn)
        seconds.append(time.perf_counter() - start)
    report = {"predict_seconds": {"n_architectures": len(seconds), "median": statistics.median(seconds),
                                  "min": min(seconds), "max": max(seconds)}}
    for split in splits:
        ids = task.ids(split)
        keys = [spec_to_json(task.networks[m].spec) for m in ids]
        scores = task.evaluate({m: predicted[k] for m, k in zip(ids, keys)}, split=split, progress=False)
        accuracy = [scores[m]["predicted"]["accuracy"] for m in ids]
        recorded = [task._test_rows[m]["test_acc"] for m in ids]
        families = sorted({task.networks[m].spec["family"] for m in ids})
        report[split] = {
            "n_networks": len(ids), "n_architectures": len(set(keys)), "mean": statistics.fmean(accuracy),
            "ci_architectures": stats.cluster_mean_interval(accuracy, keys), "ci_networks": stats.mean_interval(accuracy),
            "single_class": sum(scores[m]["predicted"]["single_class"] for m in ids),
            "zoo_trained_mean": statistics.fmean(recorded),
            "by_family": {f: statistics.fmean(a for a, m in zip(accuracy, ids) if task.networks[m].spec["family"] == f)
                          for f in families},
            "kendall_tau_vs_zoo_accuracy": float(kendalltau(recorded, accuracy).statistic),
            "kendall_tau_ci_networks": stats.interval("kendall_tau", recorded, [accuracy])}
        print(json.dumps({split: report[split]}), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
