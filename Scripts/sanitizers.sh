#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and ThreadSanitizer, each in its
# own build folder so the normal build stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
for s in address thread; do
  echo "== swift test --sanitize=$s"
  swift test --scratch-path ".build-$s" --sanitize="$s" 2>&1 | tail -n 3
done
