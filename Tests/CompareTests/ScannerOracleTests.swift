import EstimateModel
import Foundation
import Testing

@testable import Compare

/// The fields the scanner extracts, decoded by `JSONDecoder`: the oracle.
private struct OracleLine: Decodable {
  struct Usage: Decodable, Equatable {
    var input_tokens: Int64?
    var output_tokens: Int64?
    var cache_creation_input_tokens: Int64?
    var cache_read_input_tokens: Int64?
    var cache_creation: CacheCreation?
    var service_tier: String?
    var iterations: [Iteration]?
  }
  /// One sampling step of `usage.iterations`.
  struct Iteration: Decodable, Equatable {
    var input_tokens: Int64?
    var output_tokens: Int64?
    var cache_creation_input_tokens: Int64?
    var cache_read_input_tokens: Int64?
    var cache_creation: CacheCreation?
    var model: String?
  }
  struct CacheCreation: Decodable, Equatable {
    var ephemeral_5m_input_tokens: Int64?
    var ephemeral_1h_input_tokens: Int64?
  }
  struct Message: Decodable {
    var id: String?
    var model: String?
    var stop_reason: String?
    var usage: Usage?
  }
  var type: String?
  var timestamp: String?
  var sessionId: String?
  var requestId: String?
  var isSidechain: Bool?
  var message: Message?
  // Messages API responses keep these at the top level.
  var id: String?
  var model: String?
  var stop_reason: String?
  var usage: Usage?
}

/// Every line of every JSONL fixture and shipped transcript.
private func corpusLines() throws -> [(String, Int, [UInt8])] {
  let found = Discovery.find([repositoryRoot + "/datasets/claude-code", fixture("layouts")])
  var out: [(String, Int, [UInt8])] = []
  for file in found.files where file.hasSuffix(".jsonl") {
    let bytes = try POSIXFiles.read(file)
    var n = 0
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
      n += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
      out.append((file, n, Array(line)))
    }
  }
  return out
}

@Suite("Byte scanner against JSONDecoder")
struct ScannerOracleTests {
  @Test("Every fixture line: the scanner and JSONDecoder extract the same fields")
  func differential() throws {
    var scanner = LineScanner()
    var compared = 0
    var bothRejected = 0
    var glued = 0
    for (file, n, line) in try corpusLines() {
      let where_ = "\(file):\(n)"
      let oracle = try? JSONDecoder().decode(OracleLine.self, from: Data(line))
      var records: [ScannedRecord] = []
      var strings: [String: String] = [:]
      var iterationModels: [String?] = []
      let failure = line.withUnsafeBufferPointer { buf in
        let f = scanner.scan(buf, 0..<buf.count) { records.append($0) }
        if let r = records.first {
          let o = r.outer
          for (k, span) in [
            ("id", o.messageID), ("model", o.model), ("requestId", o.requestID),
            ("timestamp", o.timestamp), ("sessionId", o.sessionID), ("type", o.type),
          ] {
            if let span { strings[k] = scanner.decode(span) }
          }
          if let tier = o.usage?.serviceTier { strings["tier"] = scanner.decode(tier) }
          iterationModels = (o.iterations ?? []).map { $0.model.flatMap { scanner.decode($0) } }
        }
        return f
      }
      guard let oracle else {
        if records.count >= 2 {
          glued += 1  // two objects on one line: JSONDecoder rejects, the scanner reads both
        } else {
          #expect(failure != nil, "scanner accepted what JSONDecoder rejected: \(where_)")
          bothRejected += 1
        }
        continue
      }
      guard let r = records.first, failure == nil, records.count == 1 else {
        Issue.record("scanner rejected a valid line: \(where_) \(String(describing: failure))")
        continue
      }
      compared += 1
      let o = r.outer
      let usage = oracle.message?.usage ?? oracle.usage
      #expect(strings["id"] == (oracle.message?.id ?? oracle.id), "\(where_)")
      #expect(strings["model"] == (oracle.message?.model ?? oracle.model), "\(where_)")
      #expect(strings["requestId"] == oracle.requestId, "\(where_)")
      #expect(strings["timestamp"] == oracle.timestamp, "\(where_)")
      #expect(strings["sessionId"] == oracle.sessionId, "\(where_)")
      #expect(strings["type"] == oracle.type, "\(where_)")
      #expect(o.isSidechain == oracle.isSidechain, "\(where_)")
      #expect(o.stopReason == ((oracle.message?.stop_reason ?? oracle.stop_reason) != nil), "\(where_)")
      #expect((o.usage != nil) == (usage != nil), "\(where_)")
      if let u = o.usage, let usage {
        #expect(u.input == usage.input_tokens, "\(where_)")
        #expect(u.output == usage.output_tokens, "\(where_)")
        #expect(u.cacheCreation == usage.cache_creation_input_tokens, "\(where_)")
        #expect(u.cacheRead == usage.cache_read_input_tokens, "\(where_)")
        #expect(u.write5m == usage.cache_creation?.ephemeral_5m_input_tokens, "\(where_)")
        #expect(u.write1h == usage.cache_creation?.ephemeral_1h_input_tokens, "\(where_)")
        #expect(strings["tier"] == usage.service_tier, "\(where_)")
        #expect(o.iterations?.count == usage.iterations?.count, "\(where_)")
        for (k, (it, want)) in zip(o.iterations ?? [], usage.iterations ?? []).enumerated() {
          #expect(it.usage.input == want.input_tokens, "\(where_)")
          #expect(it.usage.output == want.output_tokens, "\(where_)")
          #expect(it.usage.cacheCreation == want.cache_creation_input_tokens, "\(where_)")
          #expect(it.usage.cacheRead == want.cache_read_input_tokens, "\(where_)")
          #expect(it.usage.write5m == want.cache_creation?.ephemeral_5m_input_tokens, "\(where_)")
          #expect(it.usage.write1h == want.cache_creation?.ephemeral_1h_input_tokens, "\(where_)")
          #expect(iterationModels[k] == want.model, "\(where_)")
        }
      }
    }
    #expect(compared > 1_800)
    #expect(glued == 3, "entire 5a… line 115, 63… line 172, and the quirks fixture")
    #expect(bothRejected == 1, "the truncated last line of the quirks fixture")
  }

  @Test("Hand-written cases: escapes, nesting, types, numbers")
  func cases() throws {
    func scan(_ text: String) -> (ScannedRecord?, ScanFailure?) {
      var scanner = LineScanner()
      var first: ScannedRecord?
      let bytes = Array(text.utf8)
      let f = bytes.withUnsafeBufferPointer { buf in
        scanner.scan(buf, 0..<buf.count) { if first == nil { first = $0 } }
      }
      return (first, f)
    }
    // An escaped quote inside a skipped string does not end it.
    let (a, fa) = scan(#"{"x":"a\"b\\","message":{"id":"m","usage":{"input_tokens":5,"output_tokens":1}}}"#)
    #expect(fa == nil && a?.outer.usage?.input == 5)
    // Deep nesting in a skipped value: no recursion, no crash.
    let deep =
      "{\"x\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
      + ",\"message\":{\"usage\":{\"input_tokens\":7,\"output_tokens\":0}}}"
    let (d, fd) = scan(deep)
    #expect(fd == nil && d?.outer.usage?.input == 7)
    let (_, unbalanced) = scan("{\"x\":" + String(repeating: "[", count: 100_000) + "}")
    #expect(unbalanced != nil)
    // Wrong types and ranges are problems, not values.
    for (value, reason) in [
      ("\"12\"", "not a whole number"), ("-3", "negative"), ("1.5", "not a whole number"),
      ("1e3", "not a whole number"), ("99999999999999999999", "beyond the 64-bit range"),
      ("{}", "not a whole number"), ("true", "not a whole number"),
    ] {
      let (r, f) = scan("{\"message\":{\"usage\":{\"input_tokens\":\(value),\"output_tokens\":1}}}")
      #expect(f == nil)
      #expect(r?.outer.problem?.contains(reason) == true, "\(value)")
    }
    // null is absence, not a problem.
    let (n, _) = scan(#"{"message":{"usage":{"input_tokens":1,"cache_read_input_tokens":null,"output_tokens":1}}}"#)
    #expect(n?.outer.problem == nil && n?.outer.usage?.cacheRead == nil)
    // Duplicate keys are ambiguous (JSONDecoder keeps the first, JSONSerialization
    // the last): the record is flagged, not guessed.
    let (dup, _) = scan(#"{"message":{"usage":{"input_tokens":1,"input_tokens":9,"output_tokens":1}}}"#)
    #expect(dup?.outer.problem == "duplicate key 'input_tokens'")
    let (dupID, _) = scan(#"{"message":{"id":"a","id":"b","usage":{"input_tokens":1,"output_tokens":1}}}"#)
    #expect(dupID?.outer.problem == "duplicate key for a kept field")
    // Escaped key names are matched after decoding.
    let (esc, _) = scan(#"{"message":{"\u0069d":"m1","usage":{"input_tokens":1,"output_tokens":1}}}"#)
    #expect(esc?.outer.messageID != nil)
    // Garbage is rejected.
    for bad in ["", "nope", "{", "{\"a\":}", "{\"a\" 1}", "[1,2]", "{\"a\":1}x", "{\"a\":tru}"] {
      #expect(scan(bad).1 != nil, "\(bad)")
    }
  }

  @Test("Strings are walked eight bytes at a time: a quote or backslash at every offset ends or escapes right")
  func stringWalkOffsets() {
    // For each length of plain text before and after it, an escape sequence
    // in the model (a kept string) and in a skipped key's value: the model
    // must decode to exactly the text, and the usage after the skipped value
    // must still be read (a wrong end would lose it or fail the line).
    let escapes: [(raw: String, text: String)] = [
      (#"\""#, "\""), (#"\\"#, "\\"), (#"\\\""#, "\\\""), (#"\n"#, "\n"), (#"\u0041"#, "A"), ("", ""),
    ]
    var checked = 0
    for (raw, text) in escapes {
      for before in 0..<20 {
        for after in 0..<20 {
          let a = String(repeating: "a", count: before)
          let b = String(repeating: "b", count: after)
          let line =
            #"{"skipped":"\#(a)\#(raw)\#(b)","message":{"model":"\#(a)\#(raw)\#(b)","#
            + #""usage":{"input_tokens":\#(before),"output_tokens":\#(after)}}}"#
          var scanner = LineScanner()
          var first: ScannedRecord?
          let bytes = Array(line.utf8)
          let failure = bytes.withUnsafeBufferPointer { buf in
            scanner.scan(buf, 0..<buf.count) { if first == nil { first = $0 } }
          }
          let model = first?.outer.model.flatMap { span in
            bytes.withUnsafeBufferPointer { buf -> String? in
              var s = LineScanner()
              _ = s.scan(buf, 0..<buf.count) { _ in }
              return s.decode(span)
            }
          }
          #expect(failure == nil, "\(line)")
          #expect(model == a + text + b, "\(line)")
          #expect(first?.outer.usage?.input == Int64(before) && first?.outer.usage?.output == Int64(after))
          checked += 1
        }
      }
    }
    #expect(checked == 6 * 400)
  }

  @Test("Every key the scanner acts on is recognised, and a near miss is not")
  func everyKey() throws {
    // Each kept field once, in its place, with a distinct value to tell them apart.
    let line = #"""
      {"type":"progress","timestamp":"2026-01-02T03:04:05Z","sessionId":"s","isSidechain":true,\#
      "isApiErrorMessage":false,"requestId":"r","agentId":"a","cwd":"/w","data":{"message":{"id":"inner",\#
      "usage":{"input_tokens":1}}},"message":{"id":"m","model":"x","stop_reason":"end_turn","usage":{\#
      "input_tokens":11,"output_tokens":12,"cache_creation_input_tokens":13,"cache_read_input_tokens":14,\#
      "cache_creation":{"ephemeral_5m_input_tokens":15,"ephemeral_1h_input_tokens":16},\#
      "server_tool_use":{"web_search_requests":17},"service_tier":"batch","inference_geo":"us","speed":"fast"}},\#
      "types":"no","Type":"no","sessionid":"no","input_token":"no"}
      """#
    var scanner = LineScanner()
    var records: [ScannedRecord] = []
    let bytes = Array(line.utf8)
    let failure = bytes.withUnsafeBufferPointer { scanner.scan($0, 0..<$0.count, into: &records) }
    #expect(failure == nil)
    let r = try #require(records.first)
    let o = r.outer
    let text = { (span: Span?) -> String? in span.map { String(decoding: bytes[$0.start..<$0.end], as: UTF8.self) } }
    #expect(text(o.type) == "progress")
    #expect(text(o.timestamp) == "2026-01-02T03:04:05Z")
    #expect(text(o.sessionID) == "s")
    #expect(o.isSidechain == true)
    #expect(o.isAPIError == false)
    #expect(text(o.requestID) == "r")
    #expect(text(o.agentID) == "a")
    #expect(text(o.cwd) == "/w")
    #expect(text(o.messageID) == "m")
    #expect(text(o.model) == "x")
    #expect(o.stopReason)
    #expect(r.hasInner && text(r.inner.messageID) == "inner" && r.inner.usage?.input == 1)
    let u = try #require(o.usage)
    #expect(
      [u.input, u.output, u.cacheCreation, u.cacheRead, u.write5m, u.write1h, u.webSearch] == [
        11, 12, 13, 14, 15, 16, 17,
      ])
    #expect(text(u.serviceTier) == "batch" && text(u.inferenceGeo) == "us" && text(u.speed) == "fast")
    #expect(o.problem == nil, "the near misses are other keys, not duplicates")

    // Keys within 32 bytes of the buffer's end are read byte by byte, not
    // as words: the same keys, and the same near misses, at the very end.
    for (short, expected) in [
      (#"{"message":{"usage":{"output_tokens":7}}}"#, Int64(7)),
      (#"{"usage":{"web_search_requests":0,"input_tokens":3}}"#, 3),
      (#"{"usage":{"input_tokens":5,"input_token":9}}"#, 5),
    ] {
      var tail: [ScannedRecord] = []
      let exact = Array(short.utf8)
      let fail = exact.withUnsafeBufferPointer { scanner.scan($0, 0..<$0.count, into: &tail) }
      #expect(fail == nil)
      let usage = tail.first?.outer.usage
      #expect((usage?.input ?? usage?.output) == expected, "\(short)")
    }
    var endings: [ScannedRecord] = []
    let typed = Array(#"{"cwd":"/w","typ":"no","type":"t"}"#.utf8)
    _ = typed.withUnsafeBufferPointer { scanner.scan($0, 0..<$0.count, into: &endings) }
    let last = try #require(endings.first)
    #expect(last.outer.type.map { String(decoding: typed[$0.start..<$0.end], as: UTF8.self) } == "t")
    #expect(last.outer.cwd != nil && last.outer.problem == nil)
  }
}

@Suite("Rows read flat")
struct FlatRowTests {
  func flat(_ line: String) -> [String?]? {
    Array(line.utf8).withUnsafeBufferPointer { RowReader.flatRow($0) }
  }

  @Test("A plain row is read straight into its columns")
  func plain() throws {
    let v = try #require(
      flat(#"{"session":"s1","input_tokens":12,"lower_bound":true,"long_context":null,"unknown":"x","dedup_key":"é"}"#))
    func at(_ name: String) -> String? { RequestRows.columns.firstIndex(of: name).flatMap { v[$0] } }
    #expect(at("session") == "s1" && at("input_tokens") == "12" && at("lower_bound") == "true")
    #expect(at("long_context") == nil && at("dedup_key") == "é")
  }

  @Test(
    "Anything but a flat row of plain values goes to the tree parser, which words its problem",
    arguments: [
      #"{"session":"a\"b"}"#,  // an escape
      #"{"session":{"x":1}}"#,  // a nested value
      #"{"session":"a","session":"b"}"#,  // a duplicate column
      #"{"input_tokens":"12"}"#,  // a number column as a string
      #"{"lower_bound":1}"#,  // a flag as a number
      #"{"input_tokens":012}"#,  // not a JSON number
      #"{"session":"a"} x"#,  // trailing data
      #"{"session":"a""#,  // unterminated
      "{}",  // nothing
    ])
  func fallback(_ line: String) {
    #expect(flat(line) == nil, "\(line)")
  }
}

@Suite("Rows read flat, against the tree parser")
struct FlatRowOracleTests {
  /// Lines whose strings end, escape or break at every offset of the
  /// eight-byte words the flat reader walks.
  static let lines: [String] = {
    var out: [String] = []
    for n in 0..<20 {
      let body = String(repeating: "a", count: n)
      out.append(#"{"session":"\#(body)","input_tokens":\#(n),"zz":"\#(body)é"}"#)
      out.append(#"{"session":"\#(body)\"x","input_tokens":1}"#)
      out.append("{\"session\":\"\(body)\u{01}x\",\"input_tokens\":1}")
      out.append("{\"session\":\"\(body)\u{1F}\",\"input_tokens\":1}")
      out.append(#"{"project":"\#(body)\\","time":"2026-01-01T00:00:00Z"}"#)
      out.append(#"{"model":"\#(body)漢字🙂\#(body)","sidechain":false,"long_context":true}"#)
      out.append(#"{"file":"/p/\#(body)","line":\#(n)}"#)
    }
    out.append(#"{ "session" : "s" , "input_tokens" : 3 }"#)
    out.append(#"{"input_tokens":1e3,"output_tokens":-0}"#)
    return out
  }()

  @Test("What the flat reader accepts, the tree parser reads to the same values", arguments: lines)
  func agrees(_ line: String) throws {
    guard let flat = Array(line.utf8).withUnsafeBufferPointer({ RowReader.flatRow($0) }) else {
      // Refused: the tree parser reads the line (and words its problem).
      return
    }
    let tree = try JSONParser.parse(Array(line.utf8))
    guard case .object(let members) = tree else {
      Issue.record("the flat reader accepted what is not an object: \(line)")
      return
    }
    for (name, value) in members {
      guard let c = RequestRows.columns.firstIndex(of: name), RowReader.Col.read[c] else { continue }
      switch value {
      case .string(let s): #expect(flat[c] == s, "\(name) in \(line)")
      case .number(let t): #expect(flat[c] == t, "\(name) in \(line)")
      case .bool(let b): #expect(flat[c] == (b ? "true" : "false"), "\(name) in \(line)")
      case .null: #expect(flat[c] == nil, "\(name) in \(line)")
      default: Issue.record("a nested value accepted: \(line)")
      }
    }
  }

  @Test("An escape or a control byte at any offset sends the line to the tree parser")
  func refusesEscapes() {
    for n in 0..<20 {
      let body = String(repeating: "b", count: n)
      for line in [#"{"session":"\#(body)\"x"}"#, "{\"session\":\"\(body)\u{01}x\"}"] {
        #expect(Array(line.utf8).withUnsafeBufferPointer { RowReader.flatRow($0) } == nil, "\(n)")
      }
      // Without them the line is read flat, whatever the string's length.
      let plain = Array(#"{"session":"\#(body)é"}"#.utf8).withUnsafeBufferPointer { RowReader.flatRow($0) }
      #expect(plain?[RequestRows.columns.firstIndex(of: "session") ?? 0] == body + "é", "\(n)")
    }
  }
}
