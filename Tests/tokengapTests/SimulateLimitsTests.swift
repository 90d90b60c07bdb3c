import Compare
import EstimateModel
import Testing

/// Writes a file of text.
private func write(_ text: String, _ path: String) throws {
  try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
}

/// Two paired captures one second apart on Sonnet 4.5: P = 600 uncached
/// (so I = 600), 10 output tokens; count_tokens measured 550 for the first
/// and 600 for the second.
private let pairs = """
  {"time": "2026-10-20T13:00:00Z", "count_tokens": {"input_tokens": 550}, "response": {"id": "msg_a", "type": "message", "model": "claude-sonnet-4-5", "stop_reason": "end_turn", "usage": {"input_tokens": 600, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 10}}}
  {"time": "2026-10-20T13:00:01Z", "count_tokens": {"input_tokens": 600}, "response": {"id": "msg_b", "type": "message", "model": "claude-sonnet-4-5", "stop_reason": "end_turn", "usage": {"input_tokens": 600, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 10}}}

  """

/// A rate_limits response in the documented shape: one model group with
/// 1,000 ITPM, and a non-model group that is ignored.
private let limits = """
  {"data": [
    {"type": "rate_limit", "id": "rlg_sonnet", "group_type": "model_group", "models": ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"],
     "limits": [{"type": "requests_per_minute", "value": 1000}, {"type": "input_tokens_per_minute", "value": 1000}, {"type": "output_tokens_per_minute", "value": 100000}]},
    {"type": "rate_limit", "id": "rlg_batch", "group_type": "batch", "models": null, "limits": [{"type": "requests_per_minute", "value": 50}]}
  ], "next_page": null}
  """

@Suite("simulate --limits: the organisation's own rate_limits response", .serialized)
struct SimulateLimitsTests {
  @Test("Item 15: each model group is a bucket with the organisation's limits")
  func organisationLimits() async throws {
    let dir = temporaryDirectory("limits")
    try write(pairs, dir + "/pairs.jsonl")
    try write(limits, dir + "/limits.json")
    let r = await tokengap(
      "simulate", dir + "/pairs.jsonl", "--limits", dir + "/limits.json", "--format", "json", "--quiet")
    #expect(r.status == 0, "\(r.err)")
    let doc = try JSONParser.parse(r.out)
    let pool = try #require(doc["pools"]?.array?.first)
    #expect(pool["pool"]?.string == "model_group:rlg_sonnet")
    let regimes = try #require(pool["regimes"]?.array)
    func regime(_ name: String) -> JSONValue? { regimes.first { $0["regime"]?.string == name } }
    #expect(regime("server")?["itpm_limit"] == .number("1000"))
    // Server: A takes 600 (level 400); at 1 s B finds 400 + 1,000/60 =
    // 416.67, 183.33 short at 1/60 a ms: 11,000 ms, an 11 s wait.
    #expect(regime("server")?["total_wait_s"] == .number("11"))
    // count_tokens pacing charges A its measured 550 (level 450); at 1 s
    // 466.67, B's measured 600 is 133.33 short: 8,000 ms (item 14).
    #expect(regime("count_tokens")?["total_wait_s"] == .number("8"))
    #expect(regime("count_tokens")?["measured_count_tokens_used"] == .number("2"))
    // 2026-10-20 is under the September 2026 table: OTPM in real time.
    #expect(regime("server")?["otpm_rule"]?.string == "real_time")
    let assumptions = (doc["assumptions"]?.array ?? []).compactMap(\.string)
    #expect(assumptions.contains { $0.hasPrefix("model_group:rlg_sonnet (claude-sonnet-4-5, ") })
    #expect(assumptions.contains { $0.hasPrefix("OTPM by the 2026 rule") })
    #expect(assumptions.contains { $0.hasPrefix("response duration: not captured for 2 of 2 requests, taken as 10 s") })
    #expect(doc["limits"]?.string?.contains("RL-API-2026") == true)
  }

  @Test("A bad limits file: 65 naming the file; a missing one: 66; with --tier: 64")
  func badFiles() async throws {
    let dir = temporaryDirectory("limits-bad")
    try write(pairs, dir + "/pairs.jsonl")
    try write("{\"data\": [{\"group_type\": \"model_group\", \"id\": \"g\", \"limits\": []}]}", dir + "/empty.json")
    try write("not json", dir + "/junk.json")
    let empty = await tokengap("simulate", dir + "/pairs.jsonl", "--limits", dir + "/empty.json")
    #expect(empty.status == 65)
    #expect(empty.err.contains("'\(dir)/empty.json': model group 'g' has no 'requests_per_minute' limit above 0"))
    let junk = await tokengap("simulate", dir + "/pairs.jsonl", "--limits", dir + "/junk.json")
    #expect(junk.status == 65)
    #expect(junk.err.contains("'\(dir)/junk.json': line 1 is not JSON"))
    let missing = await tokengap("simulate", dir + "/pairs.jsonl", "--limits", dir + "/none.json")
    #expect(missing.status == 66)
    #expect(missing.err.contains("none.json"))
    let both = await tokengap("simulate", dir + "/pairs.jsonl", "--limits", dir + "/junk.json", "--tier", "start")
    #expect(both.status == 64)
  }
}
