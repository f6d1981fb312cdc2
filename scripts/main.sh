#!/usr/bin/env bash
# Install gmn-bench (CPU torch pinned by constraints.txt) and run the main job on the embedded default zoo:
# `gmn-bench evaluate` of every reference metanet on the tasks named below (3 seeds, each metanet's default
# epochs, every torch metanet at each learning rate of the grid, chosen on validation; one torch thread),
# writing results/<task>__<metanet>.json + .png and printing the comparison table (n, mean ± std, 95% CI).
# Extra arguments go to `gmn-bench evaluate` and override these (e.g. --task all --epochs 100).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -e .
# glibc hands freed buffers above its mmap threshold back to the OS and faults them in again on
# the next batch: half of GMN's CPU time went to the kernel. Keeping them in the heap halves an epoch.
export MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=4294967296
.venv/bin/gmn-bench evaluate --task accuracy-prediction,accuracy-prediction-ood-family \
    --metanet all --seeds 3 --threads 1 --out results "$@"
