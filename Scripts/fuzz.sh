#!/usr/bin/env bash
# Fuzzes one reader with libFuzzer and AddressSanitizer, JSONDecoder-family oracle.
#   Scripts/fuzz.sh READER SECONDS     READER: scanner | capture | sse | ingest | cassette
# New crashes land in Tests/Fuzz/crashes/, interesting inputs in Tests/Fuzz/corpus/
# (commit them: `swift test` replays the corpus through every reader).
set -euo pipefail
cd "$(dirname "$0")/.."
reader=${1:-scanner}
seconds=${2:-60}
# The library modules, coverage-instrumented and ASan-checked, built by SwiftPM;
# then the fuzz target linked against them with libFuzzer's own main.
swift build --scratch-path .build-fuzz --target FuzzOracle \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >/dev/null
b=$(swift build --scratch-path .build-fuzz --show-bin-path)
# The readers' entry points (Probe) are `package`: compile as part of the package,
# under the name SwiftPM gave it (the checkout directory's name, lower-cased).
pkg=$(grep -o '"-package-name","[^"]*"' .build-fuzz/debug.yaml | head -n 1 | cut -d'"' -f4)
swiftc -sanitize=fuzzer,address -parse-as-library -DFUZZING -module-name FuzzTarget -package-name "$pkg" \
  -I "$b/Modules" -Xcc -fmodule-map-file="$b/CSupport.build/module.modulemap" \
  Sources/tokengap-fuzz/Fuzz.swift "$b"/EstimateModel.build/*.o "$b"/Compare.build/*.o "$b"/CSupport.build/*.o \
  "$b"/FuzzOracle.build/*.o \
  -o "$b/tokengap-fuzz" 2>&1 | grep -v 'Cannot export local symbol' || true
mkdir -p Tests/Fuzz/corpus Tests/Fuzz/crashes ".build-fuzz/corpus-$reader"
cp -n Tests/Fuzz/corpus/* ".build-fuzz/corpus-$reader/" 2>/dev/null || true
TOKENGAP_FUZZ_READER=$reader "$b/tokengap-fuzz" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix=Tests/Fuzz/crashes/ ".build-fuzz/corpus-$reader" 2>&1 | tail -n 5
# Keep a small, minimized set of interesting inputs.
TOKENGAP_FUZZ_READER=$reader "$b/tokengap-fuzz" -merge=1 Tests/Fuzz/corpus ".build-fuzz/corpus-$reader" 2>&1 | tail -n 1
