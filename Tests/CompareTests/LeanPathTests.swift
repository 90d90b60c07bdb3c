import Compare
import EstimateModel
import Testing

/// The line reader takes a common transcript record straight from its bytes
/// into the request table, and every other record through the full path,
/// which words what is wrong. Whichever path a record takes, the result must
/// be the same: each case is read both ways and compared.
@Suite("The lean record path agrees with the full one")
struct LeanPathTests {
  /// The per-request rows, the session and project tables and the ledger of
  /// `files` read as one run, under a Claude Code projects folder.
  func read(_ files: [(name: String, bytes: [UInt8])], lean: Bool) -> (texts: [String], ledger: Ledger) {
    var options = IngestOptions(catalog: testCatalog)
    options.leanRecords = lean
    var ingest = FileIngest(options: options)
    var analyzer = Analyzer()
    for f in files { analyzer.add(ingest.ingest(bytes: f.bytes, name: "/home/u/.claude/projects/" + f.name)) }
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    // The ledger is compared as a value: its description lists dictionaries
    // in an order that is not fixed.
    return (
      [
        priced.requestsCSV(),
        AnalysisRenderer.csv(priced.analysis(dimensions: [.session])),
        AnalysisRenderer.csv(priced.analysis(dimensions: [.project])),
      ], priced.ledger
    )
  }

  func line(
    _ id: String = "msg_1", request: String? = "req_1", session: String = "s1", model: String = "claude-sonnet-4-5",
    time: String? = "2026-03-01T10:00:00.000Z", usage: String = #""input_tokens":5,"output_tokens":2"#,
    extra: String = ""
  ) -> String {
    let t = time.map { #""timestamp":"\#($0)","# } ?? ""
    let r = request.map { #","requestId":"\#($0)""# } ?? ""
    return #"{"type":"assistant",\#(t)\#(extra)"sessionId":"\#(session)","message":{"id":"\#(id)","#
      + #""model":"\#(model)","usage":{\#(usage)}}\#(r)}"#
  }

  @Test("Hand-made lines: each edge the lean path hands on, and the ones it takes")
  func edges() {
    var lines = [
      line(),
      // A second copy of msg_1 with more output: one request, the maximum.
      line(usage: #""input_tokens":5,"output_tokens":9"#),
      line("msg_2", session: #"s\u0032"#),  // escaped session: the full path decodes it
      line("msg_3", model: "<synthetic>"),
      line("msg_4", extra: #""isApiErrorMessage":true,"#),
      line("msg_5", time: "yesterday"),
      line("msg_6", time: "7000-01-01T00:00:00Z"),  // beyond the table's years
      line("msg_7", time: nil),
      line(
        "msg_8",
        usage: #""input_tokens":1,"cache_creation_input_tokens":100,"#
          + #""cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":30},"output_tokens":1"#),
      line(
        "msg_9",
        usage: #""input_tokens":1,"cache_creation_input_tokens":60,"#
          + #""cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":30},"output_tokens":1"#),
      line("msg_10", usage: #""service_tier":"BATCH","inference_geo":"US","speed":"fast","output_tokens":3"#),
      line("msg_11", usage: #""cache_read_input_tokens":7"#),  // no token counts
      line("msg_12", request: nil),
      line("msg_13", request: "req_é"),
      line("msg_é", request: "req_14"),
      line("msg_15", extra: #""agentId":"a1","isSidechain":true,"cwd":"/w/p","#),
      line("msg_16", extra: #""cwd":"/w/\u0070","#),
      line("msg_17", extra: #""agentId":"a\"2","#),
      line(
        "msg_18",
        usage: #""input_tokens":1,"output_tokens":1,"iterations":[{"input_tokens":4,"output_tokens":2}]"#),
      line("msg_19", usage: #""input_tokens":1,"output_tokens":1,"server_tool_use":{"web_search_requests":2}"#),
      #"{"type":"progress","sessionId":"s1","data":{"message":{"type":"assistant","timestamp":"2026-03-01T10:00:01Z","#
        + #""message":{"id":"msg_20","model":"claude-haiku-4-5","usage":{"input_tokens":3,"output_tokens":1}}}}}"#,
      line("msg_21", model: "claude-sonnet-4-5-20250929", extra: #""isSidechain":false,"#),
      // A Bedrock model id logged in a transcript: Bedrock's rule (issue 13).
      line("msg_25", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
      line("msg_26", usage: #""input_tokens":1,"output_tokens":1,"server_tool_use":{"web_fetch_requests":1}"#),
      // Claude Code 1.0.x's own cost: shown beside tokengap's (issue 13, item 11).
      line("msg_27", extra: #""costUSD":0.0123,"#),
    ].map { Array($0.utf8) }
    // Text that is not UTF-8, in a kept field and in the cwd shown.
    var badModel = Array(line("msg_22", model: "claude-X").utf8)
    var badCwd = Array(line("msg_23", extra: #""cwd":"/w/X","#).utf8)
    for k in badModel.indices where badModel[k] == UInt8(ascii: "X") { badModel[k] = 0xFF }
    for k in badCwd.indices where badCwd[k] == UInt8(ascii: "X") { badCwd[k] = 0xFE }
    lines += [badModel, badCwd, Array(line("msg_24", session: "s2").utf8)]
    let bytes = Array(lines.joined(separator: [0x0A]))
    let files = [("p/s1.jsonl", bytes), ("agent-x.jsonl", bytes), ("q/agent-y.jsonl", bytes)]
    let lean = read(files, lean: true)
    let full = read(files, lean: false)
    for (a, b) in zip(lean.texts, full.texts) { #expect(a == b) }
    #expect(lean.ledger == full.ledger)
    // The case is not empty: msg_1 (one request of two copies) and msg_24 were read.
    #expect(lean.texts[0].contains("msg_1,") && lean.texts[0].contains("msg_24,"))
  }

  @Test("Every shipped Claude Code transcript, read both ways")
  func shipped() throws {
    let found = Discovery.find([dataset("claude-code")])
    #expect(found.files.count >= 10)
    let files = try found.files.map { path in
      (name: String(path.split(separator: "/").suffix(2).joined(separator: "/")), bytes: try POSIXFiles.read(path))
    }
    let lean = read(files, lean: true)
    let full = read(files, lean: false)
    for (a, b) in zip(lean.texts, full.texts) { #expect(a == b) }
    #expect(lean.ledger == full.ledger)
  }
}
