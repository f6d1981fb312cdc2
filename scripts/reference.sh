#!/usr/bin/env bash
# Regenerate the board's reference entries: the reference metanets on every task of the embedded zoo (3 seeds,
# the default learning-rate grid and epochs, one torch thread per evaluation, two evaluations at a time), written
# to results/reference (an interrupted run goes on where it stopped: --resume), then added to the board.
# Run after scripts/main.sh or scripts/test.sh (they create .venv). The reference results of the README and the
# board name the commit that made them; `gmn-bench reproduce` retrains one seed of an entry and compares.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/reference
.venv/bin/gmn-bench evaluate --task all \
    --metanet gmn,dmc,deepsets,deepsets-plus,statnn,statnn-gbt,recipe,recipe+statnn,arch-only,constant \
    --seeds 3 --workers 2 --threads 1 --out "$out" --resume "$@"
.venv/bin/gmn-bench leaderboard --add-reference "$out"
