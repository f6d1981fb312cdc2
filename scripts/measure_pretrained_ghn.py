"""Time ``predict_parameters`` with the shipped GHN (``GHN.from_pretrained()``): seconds per network,
fx trace included, on one CPU thread, for every distinct architecture of the embedded zoo's test
networks (median, min, max). The shipped GHN's accuracy figures come from the
``gmn-bench parameter-prediction`` run it was taken from (docs/parameter-prediction.md).

    OMP_NUM_THREADS=1 python scripts/measure_pretrained_ghn.py
"""
from __future__ import annotations

import json
import statistics
import time

import torch

from gmn_bench import build_model
from gmn_bench.metanets.ghn import GHN, predict_parameters
from gmn_bench.nets.architectures import spec_to_json
from gmn_bench.tasks.parameter_prediction import ParameterPredictionTask


def main() -> None:
    torch.set_num_threads(1)
    task = ParameterPredictionTask(finetune_epochs=0)
    ghn = GHN.from_pretrained()
    seconds = []
    for key in sorted({spec_to_json(network.spec) for network in task.networks.values()}):
        module = build_model(json.loads(key))
        start = time.perf_counter()
        predict_parameters(module, ghn)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"n_architectures": len(seconds), "median": statistics.median(seconds), "min": min(seconds),
                      "max": max(seconds)}))


if __name__ == "__main__":
    main()
