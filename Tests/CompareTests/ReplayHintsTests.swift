import EstimateModel
import Testing

@testable import Compare

@Suite("Replay hints read from captures")
struct ReplayHintsTests {
  static let bodies: [String] = [
    #"{"model": "m", "max_tokens": 900, "messages": []}"#,
    #"{"messages": [{"role": "user", "content": "max_tokens"}], "max_tokens":12}"#,
    #"{"tools": [{"input_schema": {"max_tokens": 5}}], "max_tokens" : 64000 }"#,
    #"{"messages": [{"content": "say \"max_tokens\": 7"}]}"#,
    #"{"metadata": {"max_tokens": 3}}"#,
    #"{"max_tokens": "many"}"#,
    #"{"max_tokens": 1.5}"#,
    #"{"max_tokens": -1}"#,
    #"[{"max_tokens": 1}]"#,
    "{\"max_tokens\"\n:\t42}",
    "not json",
  ]

  @Test("The top-level max_tokens, found without parsing, agrees with the parser", arguments: bodies)
  func topLevelMatchesParser(_ body: String) throws {
    let parsed = (try? JSONParser.parse(body))?["max_tokens"]?.int64
    let expected = parsed.flatMap { $0 >= 0 ? $0 : nil }
    #expect(CaptureReader.topLevelInteger(body, key: "max_tokens") == expected)
  }

  @Test("A HAR capture carries max_tokens and the entry's time")
  func har() async throws {
    let rs = await requests([dataset("examples/capture.har")])
    let r = try #require(rs.first { $0.messageID == "msg_har_1" })
    // The request body says "max_tokens": 100; the entry's "time" is 10 ms.
    #expect(r.maxTokens == 100)
    #expect(r.durationMs == 10)
  }

  @Test("OTel duration_ms is carried; a negative one is dropped, not kept to break the rows")
  func otel() async throws {
    func event(_ id: String, _ duration: String) -> String {
      #"{"body": {"stringValue": "claude_code.api_request"}, "attributes": [{"key": "event.timestamp", "value": {"stringValue": "2026-10-20T12:00:00Z"}}, {"key": "model", "value": {"stringValue": "claude-sonnet-4-5"}}, {"key": "input_tokens", "value": {"stringValue": "10"}}, {"key": "output_tokens", "value": {"stringValue": "1"}}, {"key": "duration_ms", "value": {"stringValue": "\#(duration)"}}, {"key": "request_id", "value": {"stringValue": "\#(id)"}}]}"#
    }
    let doc =
      #"{"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"logRecords": ["#
      + event("req_ok", "5000") + ", " + event("req_bad", "-5") + "]}]}]}\n"
    let path = "/tmp/tokengap-otel-duration-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    try POSIXFiles.writeAtomically(Array(doc.utf8), to: path)
    let rs = await requests([path])
    #expect(rs.first { $0.requestID == "req_ok" }?.durationMs == 5000)
    #expect(rs.contains { $0.requestID == "req_bad" })
    #expect(rs.first { $0.requestID == "req_bad" }?.durationMs == nil)
  }
}
