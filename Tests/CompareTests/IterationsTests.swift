import Compare
import EstimateModel
import Testing

/// `usage.iterations` (server-side compaction, the advisor tool, fallbacks):
/// the top-level counts exclude the extra sampling steps, and the total
/// consumed and billed is the sum over the iterations (Anthropic's
/// compaction documentation). Prices used below (catalog, 2026-11-01):
/// Opus 4.6 and Opus 4.7 $5 in / $25 out; Sonnet 4.6 $3 in, $3.75 5-minute
/// writes, $6 1-hour writes, $0.30 reads, $15 out (per million tokens).
@Suite("Sampling steps in usage.iterations")
struct IterationsTests {
  func ingest(_ text: String, name: String = "iterations.jsonl") -> (PricedTable, Ledger) {
    let priced = pricedTable([(name, text)])
    return (priced, priced.ledger)
  }

  @Test("Compaction response: P = I = 60,385 + 682, output 592 + 1,320, $0.353135 (not 682 and $0.036)")
  func compactionResponse() async throws {
    let rs = await requests([dataset("api-responses/vercel-ai/anthropic-compaction.1.json")])
    let r = try #require(rs.first)
    #expect(rs.count == 1)
    // Top level: in 682 / out 1,320. Iterations: compaction 60,385 / 592,
    // message 682 / 1,320. Sums: in 61,067, out 1,912.
    #expect(r.usage.input == 61_067 && r.usage.output == 1_912 && r.usage.cacheRead == 0)
    #expect(r.estimate == 61_067 && r.itpm == 61_067)
    let gap = try #require(r.gap)
    // 61,067 × $5/M = $0.305335; 1,912 × $25/M = $0.0478; total $0.353135.
    #expect(gap.inputCostActual?.formatted() == "0.305335")
    #expect(gap.outputCost?.formatted() == "0.0478")
  }

  @Test("Streaming compaction (HAR): the 55,096-token cache read of the compaction step is kept, 197x")
  func streamingCompaction() async throws {
    let path = dataset("derived/api-responses/test_anthropic_compaction_usage_with_cache_streaming.har")
    let rs = await requests([path])
    let r = try #require(rs.first)
    // message_start: in 100, read 55,096. message_delta: top level in 181,
    // read 0, out 8; iterations compaction (100, read 55,096, out 83) and
    // message (181, out 8). Sums: in 281, read 55,096, out 91.
    #expect(r.usage.input == 281 && r.usage.cacheRead == 55_096 && r.usage.output == 91)
    // P = 281 + 55,096 = 55,377; I = 281 (reads do not count on Sonnet 4.6).
    #expect(r.estimate == 55_377 && r.itpm == 281)
    let gap = try #require(r.gap)
    #expect(gap.overestimationRatio?.numerator == 55_377 && gap.overestimationRatio?.denominator == 281)
    // 281 × $3/M = $0.000843 plus 55,096 × $0.30/M = $0.0165288: $0.0173718.
    #expect(gap.inputCostActual?.formatted() == "0.0173718")
    #expect(gap.outputCost?.formatted() == "0.001365", "91 × $15/M")
  }

  @Test("Advisor on another model: its step is priced by that model, the executor's by its own")
  func advisorResponse() async throws {
    let rs = await requests([dataset("api-responses/vercel-ai/anthropic-advisor-20260301.1.json")])
    #expect(rs.count == 2)
    let executor = try #require(rs.first { $0.model == "claude-sonnet-4-6" })
    let advisor = try #require(rs.first { $0.model == "claude-opus-4-7" })
    // Executor steps 1,051 / 35 and 1,363 / 3,165: in 2,414, out 3,200.
    #expect(executor.usage.input == 2_414 && executor.usage.output == 3_200)
    // 2,414 × $3/M = $0.007242; 3,200 × $15/M = $0.048.
    #expect(executor.gap?.inputCostActual?.formatted() == "0.007242")
    #expect(executor.gap?.outputCost?.formatted() == "0.048")
    // Advisor step on Opus 4.7: 2,728 × $5/M = $0.01364; 874 × $25/M = $0.02185.
    #expect(advisor.usage.input == 2_728 && advisor.usage.output == 874)
    #expect(advisor.gap?.inputCostActual?.formatted() == "0.01364")
    #expect(advisor.gap?.outputCost?.formatted() == "0.02185")
  }

  @Test("Transcript lines: steps summed with their TTL split, copies merged, an advisor without model unpriced")
  func transcriptLines() throws {
    let line =
      #"{"type":"assistant","requestId":"req_1","timestamp":"2026-10-01T10:00:00Z","message":{"id":"m1","#
      + #""model":"claude-sonnet-4-6","usage":{"input_tokens":10,"output_tokens":5,"iterations":["#
      + #"{"type":"compaction","input_tokens":1000,"cache_creation_input_tokens":300,"#
      + #""cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"#
      + #""cache_read_input_tokens":4000,"output_tokens":50},"#
      + #"{"type":"advisor_message","input_tokens":70,"output_tokens":7},"#
      + #"{"type":"message","input_tokens":10,"output_tokens":5}]}}}"#
    let empty =
      #"{"type":"assistant","message":{"id":"m2","model":"claude-sonnet-4-6","#
      + #""usage":{"input_tokens":3,"output_tokens":4,"iterations":[]}}}"#
    // The same line twice: one request per model, not two.
    let (priced, ledger) = ingest([line, line, empty].joined(separator: "\n") + "\n")
    let rs = priced.ordered()
    #expect(rs.count == 3)
    #expect(ledger.problems.isEmpty)
    let main = try #require(rs.first { $0.messageID == "m1" && $0.loggedModel == "claude-sonnet-4-6" })
    // Sonnet steps: in 1,000 + 10 = 1,010; writes 100 (5m) + 200 (1h);
    // reads 4,000; out 50 + 5 = 55. P = 1,010 + 300 + 4,000 = 5,310; I = 1,310.
    #expect(main.usage.input == 1_010 && main.usage.cacheWrite5m == 100 && main.usage.cacheWrite1h == 200)
    #expect(main.usage.cacheRead == 4_000 && main.usage.output == 55)
    #expect(main.estimate == 5_310 && main.itpm == 1_310)
    #expect(main.copies == 2)
    // 1,010 × $3 + 100 × $3.75 + 200 × $6 + 4,000 × $0.30 = 3,030 + 375 + 1,200
    // + 1,200 = 5,805 µ$; out 55 × $15 = 825 µ$.
    #expect(main.gap?.inputCostActual?.formatted() == "0.005805")
    #expect(main.gap?.outputCost?.formatted() == "0.000825")
    let advisor = try #require(rs.first { $0.loggedModel == "advisor (model not given)" })
    #expect(advisor.usage.input == 70 && advisor.usage.output == 7 && advisor.copies == 2)
    #expect(advisor.gap?.unpriced != nil && advisor.gap?.inputCostActual == nil)
    let plain = try #require(rs.first { $0.messageID == "m2" })
    #expect(plain.usage.input == 3 && plain.usage.output == 4, "an empty list: the top level")
  }

  @Test("A JSONL stream: message_delta's iterations replace its top-level counts")
  func jsonlStream() throws {
    let lines = [
      #"{"type":"message_start","message":{"id":"s1","model":"claude-sonnet-4-6","#
        + #""usage":{"input_tokens":100,"cache_read_input_tokens":55096,"output_tokens":1}}}"#,
      #"{"type":"message_delta","usage":{"input_tokens":181,"cache_read_input_tokens":0,"output_tokens":8,"#
        + #""iterations":[{"type":"compaction","input_tokens":100,"cache_read_input_tokens":55096,"#
        + #""output_tokens":83},{"type":"message","input_tokens":181,"output_tokens":8}]}}"#,
      #"{"type":"message_stop"}"#,
    ]
    let (priced, _) = ingest(lines.joined(separator: "\n") + "\n")
    let r = try #require(priced.ordered().first)
    // 100 + 181 = 281 in, 55,096 read, 83 + 8 = 91 out.
    #expect(r.usage.input == 281 && r.usage.cacheRead == 55_096 && r.usage.output == 91)
  }

  @Test("Iterations that are not a list, or too many: a problem, nothing guessed")
  func malformed() throws {
    let notList =
      #"{"message":{"id":"x","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"output_tokens":1,"iterations":5}}}"#
    let step = #"{"input_tokens":1,"output_tokens":1}"#
    let many =
      #"{"message":{"id":"y","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"output_tokens":1,"iterations":["#
      + Array(repeating: step, count: 65).joined(separator: ",") + "]}}}"
    let (priced, ledger) = ingest(notList + "\n" + many + "\n")
    #expect(priced.ordered().isEmpty)
    #expect(ledger.problems.count == 2)
    #expect(ledger.problems.contains { $0.reason.contains("'iterations' is not an array") })
    #expect(ledger.problems.contains { $0.reason.contains("more than 64 entries in 'iterations'") })
  }
}
