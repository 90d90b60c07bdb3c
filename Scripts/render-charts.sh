#!/usr/bin/env bash
# Renders every chart of the shipped examples to PNG with headless Chromium,
# into notebooks-md/charts/, so a reader sees them without running anything.
#   Scripts/render-charts.sh            (needs Chromium: apt-get install chromium)
# Each SVG is shot at its own size; look at every PNG before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TOKENGAP:-.build/release/tokengap}
[ -x "$bin" ] || swift build -c release
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "render-charts: needs Chromium (apt-get install chromium)" >&2
  exit 69
fi
out=notebooks-md/charts
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# name : input : extra options
runs=(
  "all|datasets|--tier tier-1"
  "session|datasets/claude-code/claude-code-viewer/projects/sample-project/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl|--tier tier-1"
)
for run in "${runs[@]}"; do
  IFS='|' read -r name input extra <<<"$run"
  # shellcheck disable=SC2086
  "$bin" chart "$input" --svg $extra --at 2026-11-01 --out "$tmp/$name" -q >/dev/null
  for svg in "$tmp/$name"/*.svg; do
    width=$(sed -n 's/^<svg[^>]* width="\([0-9]*\)".*/\1/p' "$svg" | head -1)
    height=$(sed -n 's/^<svg[^>]* height="\([0-9]*\)".*/\1/p' "$svg" | head -1)
    png="$out/$name-$(basename "${svg%.svg}").png"
    "$browser" --headless --no-sandbox --hide-scrollbars --window-size="${width:-800},${height:-440}" \
      --screenshot="$png" "file://$svg" >/dev/null 2>&1
    echo "wrote $png"
  done
done
