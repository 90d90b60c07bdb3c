#!/usr/bin/env bash
# Regenerates datasets/expected/ from the shipped data. Review the diff: the
# numbers are also pinned independently by Tests/CompareTests/ReferenceSumsTests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
t=.build/release/tokengap
$t analyze datasets/claude-code --by session --format csv --timezone UTC -q -o datasets/expected/claude-code-by-session.csv
$t analyze datasets/claude-code --by day,model --format csv --timezone UTC -q -o datasets/expected/claude-code-by-day-model.csv
$t analyze datasets/api-responses/vercel-ai --by request --format csv --at 2026-11-01 --timezone UTC -q -o datasets/expected/vercel-ai-by-request.csv
echo "regenerated datasets/expected/"
