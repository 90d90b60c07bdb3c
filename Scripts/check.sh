#!/usr/bin/env bash
# The checks to run before a change goes in.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -warnings-as-errors
swift test
swift test -c release -Xswiftc -enable-testing
