#!/usr/bin/env bash
# Install gmn-bench (CPU torch pinned by constraints.txt) and run the main job on the embedded default zoo
# (cifar10-bench: 1,040 networks trained on all 50,000 CIFAR-10 training images): `gmn-bench evaluate` of the
# reference metanets on accuracy prediction, in-distribution (208 test networks) and on the held-out family
# (259 test ViTs): 2 seeds, one learning rate for every torch metanet (1e-3), GMN, DMC and DeepSets 10 epochs (the
# others their defaults), two evaluations at a time (one torch thread each). Roughly 15 minutes on 2 cores
# (estimated from measured per-epoch costs; see docs/getting-started.md).
# It writes results/<task>__<metanet>.json + .png and prints the comparison table (n, mean ± std over seeds,
# 95% CI over test networks, paired difference to the best of the same track). Extra arguments go to
# `gmn-bench evaluate` and override these (the reference runs: scripts/reference.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -e .
.venv/bin/gmn-bench evaluate --task accuracy-prediction,accuracy-prediction-ood-family \
    --metanet gmn,dmc,deepsets,statnn,statnn-gbt,arch-only,constant,recipe --seeds 2 --epochs gmn=10,dmc=10,deepsets=10 \
    --lr-grid 1e-3 --workers 2 --threads 1 --out results "$@"
