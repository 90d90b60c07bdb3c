import Compare
import EstimateModel
import Testing

/// Edge inputs of issue 13, item 7: fallback streams are priced at the model
/// that produced the final usage; requests that used server tools are flagged.
@Suite("Fallback streams and server tools")
struct EdgeInputTests {
  func priced(_ files: [(String, String)]) -> PricedTable { pricedTable(files) }

  /// datasets/sse-streams/vercel-ai/anthropic-fallback.chunks.txt without
  /// the iterations of its message_delta: started on claude-fable-5, the
  /// fallback block moves to claude-opus-4-8, whose usage the delta carries.
  let fallbackStream = [
    #"{"type":"message_start","message":{"id":"msg_fb","type":"message","role":"assistant","model":"claude-fable-5","content":[],"stop_reason":null,"usage":{"input_tokens":408,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
    #"{"type":"content_block_start","index":0,"content_block":{"type":"fallback","from":{"model":"claude-fable-5"},"to":{"model":"claude-opus-4-8"}}}"#,
    #"{"type":"content_block_stop","index":0}"#,
    #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":264}}"#,
    #"{"type":"message_stop"}"#,
  ]

  @Test("A fallback stream is priced at the model it fell back to: $0.00866, not fable's $0.01732")
  func fallbackModel() throws {
    // Opus 4.8: 412 × $5/M = $0.00206, 264 × $25/M = $0.0066: $0.00866.
    // (Fable 5 at $10/$50 would be $0.00412 + $0.0132 = $0.01732.)
    let lines = fallbackStream.joined(separator: "\n") + "\n"
    let sse = fallbackStream.map { "data: " + $0 + "\n\n" }.joined()
    for (name, text) in [("fallback.chunks.txt", lines), ("fallback.sse", sse)] {
      let r = try #require(priced([(name, text)]).ordered().first)
      #expect(r.model == "claude-opus-4-8", "\(name)")
      #expect(r.gap?.costActual?.formatted() == "0.00866", "\(name)")
    }
    // The same stream as a HAR body (the capture reader's SSE folding).
    let body = sse.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    let har =
      #"{"log":{"entries":[{"startedDateTime":"2026-10-01T10:00:00Z","request":{"method":"POST","url":"https://api.anthropic.com/v1/messages"},"#
      + #""response":{"status":200,"headers":[],"content":{"mimeType":"text/event-stream","text":"\#(body)"}}}]}}"#
    let h = try #require(priced([("fallback.har", har)]).ordered().first)
    #expect(h.model == "claude-opus-4-8" && h.gap?.costActual?.formatted() == "0.00866")
  }

  @Test("The shipped fallback stream gives the rows of the shipped fallback response")
  func fallbackLikeResponse() async throws {
    let stream = await requests([dataset("sse-streams/vercel-ai/anthropic-fallback.chunks.txt")])
    let response = await requests([dataset("api-responses/vercel-ai/anthropic-fallback.json")])
    func rows(_ rs: [PricedRequest]) -> [String] {
      rs.map { "\($0.model) \($0.usage.input) \($0.usage.output) \($0.gap?.costActual?.formatted() ?? "-")" }.sorted()
    }
    // The response's model (the fallback's) keeps the top-level usage, 412
    // in and 264 out ($0.00866); the first attempt's iteration, 408 in on
    // Fable 5, is a row of its own (408 × $10/M = $0.00408).
    #expect(rows(stream) == ["claude-fable-5 408 0 0.00408", "claude-opus-4-8 412 264 0.00866"])
    #expect(rows(stream) == rows(response))
    // The request's own row (keyed by its ids) is the fallback model's.
    #expect(stream.first { $0.model == "claude-opus-4-8" }?.messageID == "msg_01FallbackStreamAbcdefghij")
  }

  /// A Messages API response line with `server_tool_use` counts.
  func response(_ id: String, serverToolUse: String) -> String {
    #"{"id":"\#(id)","type":"message","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":100,"output_tokens":10,"server_tool_use":\#(serverToolUse)}}"#
  }

  @Test("Server tools are flagged: counts in usage.server_tool_use, server_tool_use blocks (not the advisor's)")
  func serverTools() throws {
    let lines = [
      response("m_search", serverToolUse: #"{"web_search_requests":1,"web_fetch_requests":0}"#),
      response("m_fetch", serverToolUse: #"{"web_search_requests":0,"web_fetch_requests":2}"#),
      response("m_exec", serverToolUse: #"{"code_execution_requests":1}"#),
      response("m_none", serverToolUse: #"{"web_search_requests":0,"web_fetch_requests":0}"#),
    ].joined(separator: "\n")
    func stream(_ id: String, _ block: String) -> String {
      [
        #"{"type":"message_start","message":{"id":"\#(id)","model":"claude-sonnet-4-5","usage":{"input_tokens":50,"output_tokens":1}}}"#,
        #"{"type":"content_block_start","index":0,"content_block":\#(block)}"#,
        #"{"type":"message_delta","usage":{"output_tokens":5}}"#, #"{"type":"message_stop"}"#,
      ].joined(separator: "\n") + "\n"
    }
    let table = priced([
      ("responses.jsonl", lines),
      (
        "exec.chunks.txt",
        stream("m_block", #"{"type":"server_tool_use","id":"s","name":"bash_code_execution","input":{}}"#)
      ),
      ("advisor.chunks.txt", stream("m_advisor", #"{"type":"server_tool_use","id":"s","name":"advisor","input":{}}"#)),
    ])
    let flagged = Dictionary(uniqueKeysWithValues: table.ordered().map { ($0.messageID ?? "", $0.serverTools) })
    #expect(
      flagged == [
        "m_search": true, "m_fetch": true, "m_exec": true, "m_none": false, "m_block": true, "m_advisor": false,
      ])
    // Four of six; P is kept (input + writes + reads), only flagged.
    #expect(table.ledger.serverToolRequests == 4)
    #expect(table.ordered().first { $0.messageID == "m_fetch" }?.estimate == 100)
    let csv = table.requestsCSV()
    #expect(
      csv.split(separator: "\r\n").first?.hasSuffix(",rule,server_tools,third_party_priced_requests,logged_cost_usd")
        == true)
    #expect(csv.split(separator: "\r\n").filter { $0.hasSuffix(",anthropic,true,0,") }.count == 4)
    #expect(AnalysisRenderer.ledgerText(table.ledger).contains("ledger: 4 requests used server tools"))
    // In JSON a boolean, as lower_bound.
    let json = AnalysisRenderer.render(table.analysis(dimensions: [.request]), format: .json)
    #expect(json.ranges(of: #""server_tools": true"#).count == 4)
    #expect(json.ranges(of: #""server_tools": false"#).count == 2)

    // Rows carry the flag: read back, the same four.
    var rows = ""
    table.writeRows(.jsonl, source: "test") {
      rows += $0
      return true
    }
    let back = priced([("rows.jsonl", rows)])
    #expect(back.ledger.serverToolRequests == 4)
    #expect(Dictionary(uniqueKeysWithValues: back.ordered().map { ($0.messageID ?? "", $0.serverTools) }) == flagged)
  }

  @Test("The shipped web search and code execution responses and streams are flagged; text and advisor are not")
  func shippedServerTools() async {
    let rs = await requests([
      dataset("api-responses/vercel-ai/anthropic-web-search-tool.1.json"),
      dataset("sse-streams/vercel-ai/anthropic-web-search-tool.1.chunks.txt"),
      // usage.server_tool_use counts 0 web searches and 0 fetches: the two
      // server_tool_use blocks (text_editor and bash code execution) tell.
      dataset("api-responses/vercel-ai/anthropic-code-execution-20250825.1.json"),
      dataset("sse-streams/vercel-ai/anthropic-code-execution-20260120-prompt-cache.1.chunks.txt"),
      dataset("api-responses/vercel-ai/anthropic-text.json"),
      // The advisor is the server tool count_tokens accepts.
      dataset("api-responses/vercel-ai/anthropic-advisor-20260301.1.json"),
    ])
    #expect(
      Set(rs.map { "\($0.file.split(separator: "/").last ?? "") \($0.serverTools)" }) == [
        "anthropic-web-search-tool.1.json true", "anthropic-web-search-tool.1.chunks.txt true",
        "anthropic-code-execution-20250825.1.json true",
        "anthropic-code-execution-20260120-prompt-cache.1.chunks.txt true", "anthropic-text.json false",
        "anthropic-advisor-20260301.1.json false",
      ])
  }
}
