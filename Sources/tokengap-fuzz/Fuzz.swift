// Fuzz targets for tokengap's readers, with JSONDecoder as the oracle.
//
// Built two ways:
// - with libFuzzer (Scripts/fuzz.sh): -sanitize=fuzzer,address -DFUZZING, one
//   binary per reader chosen by TOKENGAP_FUZZ_READER (scanner, capture, sse, ingest,
//   cassette);
// - as a plain executable that replays files given as arguments (the corpus).
import Compare
import Foundation
import FuzzOracle

/// Runs the reader named by TOKENGAP_FUZZ_READER; traps on a disagreement.
func run(_ bytes: [UInt8]) {
  switch ProcessInfo.processInfo.environment["TOKENGAP_FUZZ_READER"] ?? "scanner" {
  case "capture": _ = Probe.capture(bytes)
  case "sse": _ = Probe.sse(bytes)
  case "cassette": _ = Probe.cassette(bytes)
  case "ingest": _ = Probe.ingest(bytes, path: "/tmp/tokengap-fuzz-\(getpid()).jsonl")
  default:
    if let problem = checkScanner(bytes) {
      FileHandle.standardError.write(Data("disagreement: \(problem)\n".utf8))
      abort()
    }
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data else { return 0 }
  run(Array(UnsafeBufferPointer(start: data, count: size)))
  return 0
}

#if !FUZZING
  @main
  enum Replay {
    static func main() {
      var failures = 0
      for path in CommandLine.arguments.dropFirst() {
        guard let data = FileManager.default.contents(atPath: path) else { continue }
        let bytes = [UInt8](data)
        if let problem = checkScanner(bytes) {
          print("\(path): \(problem)")
          failures += 1
        }
        _ = Probe.capture(bytes)
        _ = Probe.sse(bytes)
        _ = Probe.cassette(bytes)
      }
      print("replayed \(CommandLine.arguments.count - 1) inputs, \(failures) disagreements")
      exit(failures == 0 ? 0 : 1)
    }
  }
#endif
