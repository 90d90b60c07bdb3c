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
    guard let handle = opendir(dir) else { return [] }
    defer { closedir(handle) }
    var out: [String] = []
    while let e = readdir(handle) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { raw -> String in
        let b = raw.bindMemory(to: UInt8.self)
        return String(decoding: b[0..<(b.firstIndex(of: 0) ?? b.count)], as: UTF8.self)
      }
      if !name.hasPrefix(".") { out.append(dir + "/" + name) }
    }
    return out.sorted()
  }

  @Test("Every saved input: the scanner agrees with the oracle, and no reader crashes")
  func replay() throws {
    let files = Self.inputs()
    #expect(files.count >= 20)
    for f in files {
      let bytes = try FileSystem.read(f)
      #expect(checkScanner(bytes) == nil, "\(f)")
      _ = Probe.capture(bytes)
      _ = Probe.sse(bytes)
    }
  }
}
