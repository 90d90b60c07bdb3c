import Compare
import EstimateModel
import Testing

@testable import tokengap

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A Claude Code assistant line: one copy of a response's usage.
func assistantLine(
  _ id: String, _ request: String, at time: String, model: String = "claude-sonnet-4-5-20250929",
  input: Int, write5m: Int = 0, write1h: Int = 0, read: Int, output: Int, sidechain: Bool = false
) -> String {
  """
  {"parentUuid":null,"isSidechain":\(sidechain),"userType":"external","cwd":"/home/dev/code/app",\
  "sessionId":"5f0c6a3e-2b1d-4c8e-9a47-1e2d3c4b5a69","version":"2.1.97","type":"assistant",\
  "message":{"id":"\(id)","type":"message","role":"assistant","model":"\(model)",\
  "content":[{"type":"text","text":"…"}],"stop_reason":"end_turn","usage":{"input_tokens":\(input),\
  "cache_creation_input_tokens":\(write5m + write1h),"cache_read_input_tokens":\(read),\
  "cache_creation":{"ephemeral_5m_input_tokens":\(write5m),"ephemeral_1h_input_tokens":\(write1h)},\
  "output_tokens":\(output),"service_tier":"standard"}},"requestId":"\(request)","uuid":"u-\(id)-\(output)",\
  "timestamp":"\(time)"}

  """
}

func writeFile(_ path: String, _ text: String, append: Bool = false) {
  let fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
  guard fd >= 0 else { return }
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  close(fd)
}

@Suite("tokengap statusline: the state file", .serialized)
struct StatuslineStateTests {
  /// A session folder: `<project>/<session>.jsonl` and its `subagents/`.
  struct Session {
    let dir: String
    var transcript: String { dir + "/projects/-home-dev-code-app/5f0c6a3e.jsonl" }
    var subagents: String { dir + "/projects/-home-dev-code-app/5f0c6a3e/subagents" }
    var cache: String { dir + "/cache" }

    init() {
      dir = temporaryDirectory("statusline")
      _ = POSIXFiles.makeDirectories(subagents)
    }

    /// The recorded status object, pointing at this transcript.
    func status() throws -> [UInt8] {
      let recorded = try POSIXFiles.read(root + "/Tests/tokengapTests/Fixtures/statusline/status.json")
      return Array(String(decoding: recorded, as: UTF8.self).replacing("TRANSCRIPT", with: transcript).utf8)
    }

    func line(_ args: [String] = []) async throws -> (line: String, bytesRead: Int64) {
      let o = try StatuslineCommand.Options(
        parseOptions(args[...] + ["--cache-dir", cache, "--itpm", "30000"], StatuslineCommand.spec))
      return await StatuslineCommand.reading(status: try status(), options: o)
    }

    /// The line of a full read, with no state read or written.
    func fullRead() async throws -> String {
      try await line(["--no-cache"]).line
    }
  }

  /// Request A in three copies (output growing), B, and C in a subagent file.
  ///
  /// P = 100,100 + 190,200 + 50,050 = 340,350; I = 10,100 + 200 + 5,050 =
  /// 15,350; P / I = 22.17; reads 325,000 / P = 95.49 %. Sonnet 4.5 (input
  /// $3, 5-minute write $3.75, 1-hour write $6, read $0.30, output $15 per
  /// MTok): A 0.0948, B 0.0726, C 0.05115 = $0.21855. The last minute
  /// (10:01) holds C alone: I = 5,050 of 30,000 = 16.8 %.
  @Test("A recorded status object: the session's P/I, hit rate, cost and last minute, computed by hand")
  func recordedStatus() async throws {
    let s = Session()
    var text = ""
    for out in [5, 5, 2_000] {
      text += assistantLine(
        "msg_A", "req_A", at: "2026-01-15T10:00:05.000Z", input: 100, write5m: 10_000, read: 90_000, output: out)
    }
    text += assistantLine("msg_B", "req_B", at: "2026-01-15T10:00:40.000Z", input: 200, read: 190_000, output: 1_000)
    writeFile(s.transcript, text)
    writeFile(
      s.subagents + "/agent-a1.jsonl",
      assistantLine(
        "msg_C", "req_C", at: "2026-01-15T10:01:10.000Z", input: 50, write1h: 5_000, read: 45_000, output: 500,
        sidechain: true))
    let expected = "P/I 22.2x · hit 95.5% · $0.22 · ITPM 16.8% of 30.0K"
    let cold = try await s.line()
    #expect(cold.line == expected)
    // The second line reads nothing: the files did not change.
    let warm = try await s.line()
    #expect(warm.line == expected)
    #expect(warm.bytesRead == 0)
    #expect(try await s.fullRead() == expected)
  }

  /// A transcript of `count` requests, each written as two copies.
  static func history(_ range: Range<Int>, minute: Int = 0) -> String {
    var text = ""
    for k in range {
      let at = "2026-01-15T10:\(String(10 + (k + minute) % 40)):\(String(10 + k % 40)).000Z"
      text += assistantLine(
        "msg_\(k)", "req_\(k)", at: at, input: 10 + k, write5m: 100 * k, read: 5_000 + k, output: 1)
      text += assistantLine(
        "msg_\(k)", "req_\(k)", at: at, input: 10 + k, write5m: 100 * k, read: 5_000 + k, output: 50 + k)
    }
    return text
  }

  @Test("Lines appended between two runs: only they are read, and the line equals a full read")
  func appended() async throws {
    let s = Session()
    let first = Self.history(0..<200)
    writeFile(s.transcript, first)
    _ = try await s.line()
    // The next copy of request 199 (its output grew), across the boundary,
    // then new requests, then an incomplete line still being written.
    let grown = assistantLine(
      "msg_199", "req_199", at: "2026-01-15T10:49:49.000Z", input: 209, write5m: 19_900, read: 5_199, output: 9_999)
    let added = grown + Self.history(200..<260) + #"{"type":"assistant","message":{"id":"msg_9"#
    writeFile(s.transcript, added, append: true)
    let warm = try await s.line()
    #expect(warm.bytesRead == Int64(added.utf8.count))
    #expect(warm.line == (try await s.fullRead()))
    // The incomplete line completed: read from where the complete lines ended.
    let rest = #"99","type":"message","usage":{"input_tokens":1,"output_tokens":1}},"requestId":"r"}"# + "\n"
    writeFile(s.transcript, rest, append: true)
    let next = try await s.line()
    #expect(next.bytesRead == Int64((#"{"type":"assistant","message":{"id":"msg_9"# + rest).utf8.count))
    #expect(next.line == (try await s.fullRead()))
    // A subagent file appearing later is read whole, the rest not again.
    let agent = Self.history(300..<310)
    writeFile(s.subagents + "/agent-b2.jsonl", agent)
    let withAgent = try await s.line()
    #expect(withAgent.bytesRead == Int64(agent.utf8.count))
    #expect(withAgent.line == (try await s.fullRead()))
  }

  @Test("A truncated, rewritten or replaced transcript, or a damaged state, is read whole again")
  func truncatedOrReplaced() async throws {
    let s = Session()
    let text = Self.history(0..<100)
    writeFile(s.transcript, text)
    _ = try await s.line()
    // Truncated: fewer bytes than were read.
    let shorter = Self.history(0..<40)
    writeFile(s.transcript, shorter)
    let truncated = try await s.line()
    #expect(truncated.bytesRead == Int64(shorter.utf8.count))
    #expect(truncated.line == (try await s.fullRead()))
    // Rewritten in place, longer, with other figures in its first lines.
    let rewritten = Self.history(0..<100, minute: 7).replacing("\"input_tokens\":1", with: "\"input_tokens\":2")
    writeFile(s.transcript, rewritten + Self.history(100..<120))
    let again = try await s.line()
    #expect(again.bytesRead == Int64((rewritten + Self.history(100..<120)).utf8.count))
    #expect(again.line == (try await s.fullRead()))
    // Replaced by another file (a new inode) renamed over it.
    let other = s.dir + "/other.jsonl"
    writeFile(other, Self.history(500..<530))
    #expect(rename(other, s.transcript) == 0)
    let replaced = try await s.line()
    #expect(replaced.line == (try await s.fullRead()))
    #expect(replaced.bytesRead == Int64(Self.history(500..<530).utf8.count))
    // A damaged state file: one byte flipped, then cut short.
    _ = try await s.line()
    let states = POSIXFiles.list(s.cache) ?? []
    #expect(states.count == 1)
    let state = s.cache + "/" + (states.first ?? "")
    var bytes = try POSIXFiles.read(state)
    bytes[bytes.count / 2] ^= 0x55
    try POSIXFiles.writeAtomically(bytes, to: state)
    let damaged = try await s.line()
    #expect(damaged.bytesRead == Int64(Self.history(500..<530).utf8.count))
    #expect(damaged.line == (try await s.fullRead()))
    try POSIXFiles.writeAtomically(Array(bytes.prefix(100)), to: state)
    let cut = try await s.line()
    #expect(cut.bytesRead == Int64(Self.history(500..<530).utf8.count))
    #expect(cut.line == (try await s.fullRead()))
  }
}
