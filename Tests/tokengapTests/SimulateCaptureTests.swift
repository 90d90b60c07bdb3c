import Compare
import EstimateModel
import Testing

/// Writes a file of text.
private func write(_ text: String, _ path: String) throws {
  try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
}

/// One HAR entry: a messages call at `start` asking `max_tokens` 900 that
/// took 2,000 ms and wrote 100 output tokens (1 input token).
private func entry(_ start: String, _ id: String) -> String {
  let request = #"{\"model\": \"claude-sonnet-4-5\", \"messages\": [], \"max_tokens\": 900}"#
  let response =
    #"{\"id\": \"\#(id)\", \"type\": \"message\", \"model\": \"claude-sonnet-4-5\", \"stop_reason\": \"end_turn\", \"usage\": {\"input_tokens\": 1, \"cache_creation_input_tokens\": 0, \"cache_read_input_tokens\": 0, \"output_tokens\": 100}}"#
  return """
    {"startedDateTime": "\(start)", "time": 2000,
     "request": {"method": "POST", "url": "https://api.anthropic.com/v1/messages", "headers": [], "postData": {"mimeType": "application/json", "text": "\(request)"}},
     "response": {"status": 200, "headers": [], "content": {"mimeType": "application/json", "text": "\(response)"}}}
    """
}

/// Two OpenTelemetry api_request events one second apart, 5,000 ms each:
/// 100 uncached input tokens and 700 cache reads (P = 800, I = 100).
private func event(_ time: String, _ id: String) -> String {
  func attr(_ k: String, _ v: String) -> String { #"{"key": "\#(k)", "value": {"stringValue": "\#(v)"}}"# }
  let attributes = [
    attr("event.name", "api_request"), attr("event.timestamp", time), attr("model", "claude-sonnet-4-5"),
    attr("input_tokens", "100"), attr("output_tokens", "0"), attr("cache_read_tokens", "700"),
    attr("cache_creation_tokens", "0"), attr("duration_ms", "5000"), attr("request_id", id),
  ].joined(separator: ", ")
  return #"{"body": {"stringValue": "claude_code.api_request"}, "attributes": [\#(attributes)]}"#
}

@Suite("simulate reads max_tokens and durations from captures", .serialized)
struct SimulateCaptureTests {
  func regimes(_ out: String) throws -> [String: JSONValue] {
    let doc = try JSONParser.parse(out)
    var byName: [String: JSONValue] = [:]
    for r in doc["pools"]?.array?.first?["regimes"]?.array ?? [] {
      if let name = r["regime"]?.string { byName[name] = r }
    }
    return byName
  }

  @Test("Item 12: HAR max_tokens and time drive the 2025 OTPM rule; the 2026 rule ignores max_tokens")
  func harMaxTokens() async throws {
    let dir = temporaryDirectory("har-otpm")
    let har =
      #"{"log": {"version": "1.2", "entries": ["#
      + entry("2025-12-01T12:00:00.000Z", "msg_1") + ", " + entry("2025-12-01T12:00:00.500Z", "msg_2") + "]}}"
    try write(har, dir + "/capture.har")
    let limits = ["--itpm", "1000000", "--otpm", "1000", "--rpm", "1000", "--format", "json", "-q"]
    // 1,000 OTPM. 2025 rule: A reserves its max_tokens 900 (level 100);
    // at 0.5 s B finds 108.33, short of 900; A ends at 2 s and gives back
    // 900 − 100 = 800: 100 + 2,000/60 + 800 = 933.33 ≥ 900, so B goes at
    // 2 s, a 1.5 s wait.
    let old = await tokengap(["simulate", dir + "/capture.har", "--limits-at", "2025-12-01"] + limits)
    #expect(old.status == 0, "\(old.err)")
    let r2025 = try regimes(old.out)
    #expect(r2025["server"]?["total_wait_s"] == .number("1.5"))
    #expect(r2025["server"]?["max_tokens_assumed"] == .number("0"))
    #expect(r2025["server"]?["duration_assumed"] == .number("0"))
    // 2026 rule: max_tokens does not gate admission; B goes at once. The
    // gateway still reserves max_tokens: 1.5 s, as above.
    let now = await tokengap(["simulate", dir + "/capture.har", "--limits-at", "2026-10-01"] + limits)
    let r2026 = try regimes(now.out)
    #expect(r2026["server"]?["total_wait_s"] == .number("0"))
    #expect(r2026["server"]?["otpm_rule"]?.string == "real_time")
    #expect(r2026["reserve_refund"]?["total_wait_s"] == .number("1.5"))
  }

  @Test("Item 13: an OTel duration_ms sets when the gateway's reservation is refunded")
  func otelDuration() async throws {
    let dir = temporaryDirectory("otel-duration")
    let doc =
      #"{"resourceLogs": [{"resource": {"attributes": [{"key": "session.id", "value": {"stringValue": "s"}}]}, "scopeLogs": [{"logRecords": ["#
      + event("2026-10-20T12:00:00.000Z", "req_1") + ", " + event("2026-10-20T12:00:01.000Z", "req_2") + "]}]}]}"
    try write(doc + "\n", dir + "/otel.jsonl")
    // 1,000 ITPM. The gateway reserves P = 800 (level 200); at 1 s B finds
    // 216.67; A ends at 5 s: 200 + 5,000/60 = 283.33, plus the refund
    // 800 − 100 = 700: 983.33 ≥ 800, so B goes at 5 s, a 4 s wait (10 s
    // without the captured duration). count_tokens pacing: 583.33 short at
    // 1/60 a ms, 35 s.
    let r = await tokengap(
      "simulate", dir + "/otel.jsonl", "--itpm", "1000", "--otpm", "100000", "--rpm", "1000", "--format", "json", "-q")
    #expect(r.status == 0, "\(r.err)")
    let byName = try regimes(r.out)
    #expect(byName["reserve_refund"]?["total_wait_s"] == .number("4"))
    #expect(byName["reserve_refund"]?["duration_assumed"] == .number("0"))
    #expect(byName["count_tokens"]?["total_wait_s"] == .number("35"))
  }

  @Test("Item 16: at Tier 4 under the 2025 tables a long Sonnet 4.5 request has its own bucket, end to end")
  func longContext() async throws {
    let dir = temporaryDirectory("long-context")
    func pair(_ time: String, _ id: String, _ input: Int) -> String {
      #"{"time": "\#(time)", "count_tokens": {"input_tokens": \#(input)}, "response": {"id": "\#(id)", "type": "message", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", "usage": {"input_tokens": \#(input), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}}}"#
    }
    // Two 600,000-token prompts 1 s apart and one of 150,000 with them.
    try write(
      [
        pair("2025-12-01T10:00:00Z", "msg_a", 600_000), pair("2025-12-01T10:00:00Z", "msg_c", 150_000),
        pair("2025-12-01T10:00:01Z", "msg_b", 600_000),
      ].joined(separator: "\n") + "\n", dir + "/pairs.jsonl")
    let r = await tokengap("simulate", dir + "/pairs.jsonl", "--tier", "tier-4", "--format", "csv", "-q")
    #expect(r.status == 0, "\(r.err)")
    let rows = r.out.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    func row(_ pool: String, _ regime: String) -> [Substring]? { rows.first { $0[0] == pool && $0[1] == regime } }
    // The long bucket (1,000,000 ITPM): A leaves 400,000; at 1 s B finds
    // 416,666.67 and waits 183,333.33 / (50/3 a ms) = 11 s. The 150,000
    // request goes at once in the ordinary 2,000,000 bucket.
    #expect(row("sonnet-4:long-context", "server")?[3] == "1000000")
    #expect(row("sonnet-4:long-context", "server")?[8] == "11")
    #expect(row("sonnet-4", "server")?[5] == "1")
    #expect(row("sonnet-4", "server")?[8] == "0")
  }
}
