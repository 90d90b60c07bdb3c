import Compare
import EstimateModel
import Testing

@Suite("Large files split at line boundaries")
struct ChunkingTests {
  /// A ~20 MB transcript: 9,000 requests with two streaming copies each, a
  /// padded user line between them, and one broken line far past the first chunk.
  static let path: String = {
    let path = "/tmp/tokengap-chunking-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    var text = ""
    let pad = String(repeating: "x", count: 1000)
    var line = 0
    for k in 0..<9_000 {
      let id = "msg_\(k)"
      for (copy, out) in [(0, 1), (1, 10 + k % 7)] {
        text += #"{"type":"assistant","sessionId":"s\#(k % 3)","timestamp":"2026-01-01T00:00:00.000Z","requestId":"req_\#(k)","message":{"id":"\#(id)","model":"claude-opus-4-6","usage":{"input_tokens":2,"cache_read_input_tokens":100,"output_tokens":\#(out)}},"stop_reason":\#(copy == 1 ? "\"end_turn\"" : "null")}"# + "\n"
        line += 1
      }
      text += #"{"type":"user","message":{"content":"\#(pad)"}}"# + "\n"
      line += 1
      if k == 6_000 { text += "{\"type\":\"user\",\"broken\n"; line += 1 }
    }
    _ = try? POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    return path
  }()

  @Test("Every record counted once, line numbers true across chunks, same for any --jobs")
  func chunked() async throws {
    let one = await analyze([Self.path], by: [.session], jobs: 1)
    let two = await analyze([Self.path], by: [.session], jobs: 2)
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(two))
    #expect(one.total.requests == 9_000)
    #expect(one.total.input == 18_000 && one.total.cacheRead == 900_000)
    // Σ (10 + k mod 7) over k < 9,000: 9,000 × 10 + (1,285 × 21 + (0+1+2+3+4))
    #expect(one.total.output == 90_000 + 1_285 * 21 + 10)
    #expect(one.ledger.files == 1)
    // The broken line follows request 6,000's user line: line 3 × 6,001 + 1.
    #expect(one.ledger.problems.map(\.line) == [18_004])
    #expect(linesAccountedFor(one.ledger) && one.ledger.lines == 27_001)
  }
}
