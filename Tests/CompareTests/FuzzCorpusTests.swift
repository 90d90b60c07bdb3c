import Compare
import FuzzOracle
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
  static func inputs() -> [String] {
    let dir = repositoryRoot + "/Tests/Fuzz/corpus"
    return (POSIXFiles.list(dir) ?? []).filter { !$0.hasPrefix(".") }.map { dir + "/" + $0 }.sorted()
  }

  @Test("Every saved input: the scanner agrees with the oracle, and no reader crashes")
  func replay() throws {
    let files = Self.inputs()
    #expect(files.count >= 20)
    for f in files {
      let bytes = try POSIXFiles.read(f)
      #expect(checkScanner(bytes) == nil, "\(f)")
      _ = Probe.capture(bytes)
      _ = Probe.sse(bytes)
      _ = Probe.cassette(bytes)
    }
  }
}
