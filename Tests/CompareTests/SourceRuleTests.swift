import Compare
import EstimateModel
import Testing

/// The rate-limit rule follows the source (issue 13, item 3): Messages API,
/// Claude Code and Admin data are judged by Anthropic's rule, Bedrock shapes,
/// URLs and ids by Bedrock's, OpenAI shapes by OpenAI's; `--accounting`
/// imposes one rule on every request.
@Suite("The rule follows the source")
struct SourceRuleTests {
  /// The priced requests of `files` (name, text), under `accounting` when given.
  func priced(_ files: [(String, String)], accounting: Accounting? = nil) -> PricedTable {
    pricedTable(files, accounting: accounting)
  }

  // datasets/examples/openai-chat.json: prompt 2,006 of which 1,920 cached, 300 out.
  let openAI =
    #"{"id": "chatcmpl-1", "object": "chat.completion", "created": 1760961600, "model": "gpt-4o", "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306, "prompt_tokens_details": {"cached_tokens": 1920}}}"#

  /// A Bedrock Converse response on `model`: `input` in, `read` read, 50 out.
  func converse(_ model: String, input: Int, read: Int) -> String {
    #"{"modelId": "\#(model)", "stopReason": "end_turn", "usage": {"inputTokens": \#(input), "outputTokens": 50, "cacheReadInputTokens": \#(read), "cacheWriteInputTokens": 0}}"#
  }

  /// A Messages API response line on `model`: `input` in, `read` read, 50 out.
  func messages(_ id: String, _ model: String, input: Int, read: Int) -> String {
    #"{"id":"\#(id)","type":"message","model":"\#(model)","stop_reason":"end_turn","usage":{"input_tokens":\#(input),"cache_read_input_tokens":\#(read),"output_tokens":50}}"#
  }

  @Test("OpenAI usage is judged by OpenAI's rule: gpt-4o's ratio is 1, not 23.3x")
  func openAIRule() throws {
    let r = try #require(priced([("openai.json", openAI)]).ordered().first)
    // Uncached 2,006 − 1,920 = 86; P = 86 + 1,920 = 2,006. OpenAI counts the
    // cached tokens toward TPM: I = 2,006, ratio 1, excess 0.
    #expect(r.rule == .openai)
    #expect(r.estimate == 2_006 && r.itpm == 2_006)
    #expect(r.gap?.overestimationRatio?.formatted(decimals: 2) == "1")
    // Imposed, Anthropic's rule gives the figures of the issue: I = 86,
    // 2,006 / 86 = 23.33x, (2,006 − 86) / 2,006 = 95.7 % excess.
    let a = try #require(priced([("openai.json", openAI)], accounting: .anthropic).ordered().first)
    #expect(a.rule == .anthropic && a.itpm == 86)
    #expect(a.gap?.overestimationRatio?.formatted(decimals: 2) == "23.33")
    #expect(a.gap?.excessShare?.formatted(decimals: 3) == "0.957")
  }

  @Test("Bedrock: a Converse shape, an invoke URL or a Bedrock id; Haiku 3.5's reads count only by Anthropic's rule")
  func bedrockRule() throws {
    // Claude Haiku 3.5 is a † model: Anthropic's rule counts its cache reads
    // toward ITPM; Bedrock's never does, and charges output 1x (the catalog
    // lists no burndown rate for 3.5 Haiku).
    let files = [
      ("converse.json", converse("anthropic.claude-3-5-haiku-20241022-v1:0", input: 10, read: 1_000)),
      ("first-party.jsonl", messages("msg_a", "claude-3-5-haiku-20241022", input: 10, read: 1_000)),
      ("bedrock-id.jsonl", messages("msg_b", "us.anthropic.claude-3-5-haiku-20241022-v1:0", input: 10, read: 1_000)),
    ]
    let rs = priced(files).ordered()
    #expect(rs.count == 3)
    func find(_ file: String) -> String? { rs.first { $0.file == file }.map { "\($0.rule.rawValue) \($0.itpm)" } }
    // P = 10 + 1,000 = 1,010 each. Bedrock: I = 10. Anthropic (†): I = 1,010.
    #expect(find("converse.json") == "bedrock 10")
    #expect(find("first-party.jsonl") == "anthropic 1010")
    #expect(find("bedrock-id.jsonl") == "bedrock 10")
    // --accounting anthropic overrides every source.
    let imposed = priced(files, accounting: .anthropic).ordered()
    #expect(imposed.allSatisfy { $0.rule == .anthropic && $0.itpm == 1_010 })
  }

  @Test("Rows keep the rule they were judged by, even a Bedrock id judged by an imposed Anthropic rule")
  func rowsKeepTheRule() throws {
    let files = [
      ("bedrock-id.jsonl", messages("msg_b", "us.anthropic.claude-3-5-haiku-20241022-v1:0", input: 10, read: 1_000))
    ]
    for imposed in [nil, Accounting.anthropic] {
      var rows = ""
      priced(files, accounting: imposed).writeRows(.jsonl, source: "test") {
        rows += $0
        return true
      }
      let back = try #require(priced([("rows.jsonl", rows)]).ordered().first)
      // By source: Bedrock's, I = 10. Imposed Anthropic (Haiku 3.5 is †): 1,010.
      #expect(back.rule == (imposed ?? .bedrock))
      #expect(back.itpm == (imposed == nil ? 10 : 1_010))
    }
  }

  @Test("simulate: in a run that mixes rules, Bedrock's traffic is a pool of its own, never in Anthropic's bucket")
  func simulatePools() throws {
    func entry(_ second: Int, _ url: String, _ body: String) -> String {
      let quoted = body.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
      return #"{"startedDateTime":"2026-10-01T10:00:0\#(second)Z","request":{"method":"POST","url":"\#(url)"},"#
        + #""response":{"status":200,"headers":[],"content":{"mimeType":"application/json","text":"\#(quoted)"}}}"#
    }
    let anthropic = entry(
      1, "https://api.anthropic.com/v1/messages", messages("msg_1", "claude-sonnet-4-5", input: 10, read: 0))
    let bedrock = entry(
      2, "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke",
      messages("msg_2", "claude-sonnet-4-5-20250929", input: 20, read: 0))
    let har = #"{"log":{"entries":["# + anthropic + "," + bedrock + "]}}"
    let mixed = Arrival.of(priced([("mixed.har", har)]).ordered()).arrivals
    #expect(mixed.map { "\($0.pool) \($0.itpm)" } == ["sonnet-4 10", "bedrock:sonnet-4 20"])
    // One rule (imposed or not): the pools keep their names, so --tier applies.
    let imposed = Arrival.of(priced([("mixed.har", har)], accounting: .bedrock).ordered()).arrivals
    #expect(imposed.map(\.pool) == ["sonnet-4", "sonnet-4"])
  }

  @Test("Bedrock's burndown: Sonnet 4.5's 50 output tokens charge 250 under Bedrock's rule, 50 under Anthropic's")
  func burndown() throws {
    let files = [("converse.json", converse("us.anthropic.claude-sonnet-4-5-20250929-v1:0", input: 100, read: 0))]
    let b = try #require(priced(files).ordered().first)
    // The catalog's output_burndown for claude-sonnet-4-5 is 5: 50 × 5 = 250.
    #expect(b.rule == .bedrock && b.gap?.otpm == 250)
    let a = try #require(priced(files, accounting: .anthropic).ordered().first)
    #expect(a.gap?.otpm == 50)
  }

  @Test("The shipped Bedrock HAR (invoke, Messages-shaped bodies) is judged by Bedrock's rule")
  func shippedBedrockHAR() async throws {
    let rs = await requests([dataset("derived/api-responses/test_anthropic_cache_bedrock_real_api.har")])
    #expect(rs.count == 2 && rs.allSatisfy { $0.rule == .bedrock })
    // I = 3 + (3 + 1,956) = 1,962 under either rule (Haiku 4.5 is no † model).
    #expect(rs.map(\.itpm).reduce(0, +) == 1_962)
  }

  @Test("A run that mixes rules: groups split by rule, the rule a column, 'mixed' in JSON")
  func mixedGroups() throws {
    let table = priced([
      ("openai.json", openAI),
      ("converse.json", converse("anthropic.claude-3-5-haiku-20241022-v1:0", input: 10, read: 1_000)),
      ("first-party.jsonl", messages("msg_a", "claude-3-5-haiku-20241022", input: 10, read: 1_000)),
    ])
    #expect(table.ruleName == "mixed" && table.mixesRules)
    #expect(table.rules.map { "\($0.rule.rawValue) \($0.requests)" } == ["anthropic 1", "bedrock 1", "openai 1"])
    let byModel = table.analysis(dimensions: [.model])
    #expect(byModel.trailingColumns == ["rule"])
    // Haiku 3.5 under two rules is two groups: P 1,010 each; I 1,010 and 10.
    let groups = byModel.rows.map { "\($0.keys[0]) \($0.trailing[0]) \($0.summary.estimate) \($0.summary.itpm)" }
    #expect(
      groups == [
        "claude-3-5-haiku-20241022 anthropic 1010 1010", "claude-3-5-haiku-20241022 bedrock 1010 10",
        "gpt-4o openai 2006 2006",
      ])
    // Totals still sum every request: I = 1,010 + 10 + 2,006 = 3,026.
    #expect(byModel.total.itpm == 3_026)
    let json = AnalysisRenderer.render(byModel, format: .json)
    #expect(json.contains(#""accounting": "mixed""#))
    #expect(json.contains(#""rule": "bedrock""#))
    // The request CSV carries the rule at the end, whatever the mix.
    let csv = table.requestsCSV()
    #expect(csv.hasPrefix(Dimension.request.columns.joined(separator: ",") + ",requests,"))
    #expect(
      csv.split(separator: "\r\n").first?.hasSuffix(
        ",unpriced_requests,rule,server_tools,third_party_priced_requests,logged_cost_usd")
        == true)
    #expect(
      csv.split(separator: "\r\n").dropFirst().map {
        $0.split(separator: ",", omittingEmptySubsequences: false).dropLast(3).last ?? ""
      }.sorted() == [
        "anthropic", "bedrock", "openai",
      ])
    // One rule: no split, no rule column beyond the request CSV's.
    let single = priced([("first-party.jsonl", messages("msg_a", "claude-3-5-haiku-20241022", input: 10, read: 1_000))])
    #expect(single.ruleName == "anthropic" && single.analysis(dimensions: [.model]).trailingColumns.isEmpty)
  }
}
