#!/usr/bin/env bash
# The checks a change must pass, and what CI runs (.ci/run):
#   1. swift format lint with the repository's .swift-format (strict);
#   2. a release build with warnings as errors;
#   3. the test suite, in debug and in release;
#   4. the SQL recipes of notebooks-md/0007 against tokengap, with DuckDB from
#      PyPI in a throwaway virtual environment (skipped, loudly, when PyPI or
#      python3's venv is unreachable: the package itself never needs them);
#   5. the test suite under AddressSanitizer (UndefinedBehaviorSanitizer is not
#      offered for Swift on Linux: `-sanitize=undefined` is rejected by the driver).
# Scripts/check.sh --quick runs 1-3 in debug only.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
echo "== swift format lint"
swift format lint --strict --parallel --recursive Package.swift Sources Tests
echo "== release build, warnings as errors"
swift build -c release -Xswiftc -warnings-as-errors
echo "== swift test"
swift test
[ "$quick" = "--quick" ] && exit 0
echo "== swift test -c release"
swift test -c release -Xswiftc -enable-testing
echo "== SQL recipes (DuckDB)"
venv=$(mktemp -d)
if python3 -m venv "$venv" >/dev/null 2>&1 && timeout 300 "$venv/bin/pip" install -q duckdb >/dev/null 2>&1; then
  "$venv/bin/python" Scripts/sql-recipes.py --require --tokengap .build/release/tokengap
else
  echo "SQL recipes SKIPPED: could not install duckdb from PyPI into a virtual environment"
fi
rm -rf "$venv"
echo "== swift test --sanitize=address"
# LeakSanitizer reports XCTest's own harness allocations at exit; leaks are not what this run checks.
ASAN_OPTIONS=detect_leaks=0 swift test --scratch-path .build-asan --sanitize=address
