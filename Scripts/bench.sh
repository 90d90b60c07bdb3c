#!/usr/bin/env bash
# Times tokengap against baselines in one run; writes notebooks-md/0005-benchmarks.md.
#   Scripts/bench.sh [SIZE_MB] [RUNS] [--quick]     (see Scripts/bench.py)
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--size "${1:-500}" --runs "${2:-5}")
[ "${3:-}" = "--quick" ] && args+=(--quick)
exec python3 Scripts/bench.py "${args[@]}"
