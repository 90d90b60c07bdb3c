import Compare
import EstimateModel
import Testing

func capture(_ name: String) -> String { fixture("captures/" + name) }

@Suite("Every way usage gets captured")
struct CaptureTests {
  func byID(_ rs: [PricedRequest]) -> [String: PricedRequest] {
    Dictionary(rs.map { ($0.messageID ?? "\($0.file):\($0.line)", $0) }, uniquingKeysWith: { a, _ in a })
  }

  @Test("SSE: message_start usage overwritten by the last message_delta's non-null fields")
  func sse() async throws {
    let rs = byID(await requests([dataset("sse-streams/vercel-ai")]))
    // code execution: start says write 3,068 / read 0 / out 69; the delta
    // says input 6, write 3,337, read 6,289, out 198 (SOURCES.md).
    let ce = try #require(rs["msg_011CdYfpjpVtBoXyXCQD1tQP"])
    #expect(ce.usage.input == 6 && ce.usage.cacheRead == 6_289 && ce.usage.output == 198)
    #expect(try ce.usage.cacheWrite() == 3_337)
    #expect(rs["msg_01LHpEgU4KbfgXGVi3UtHQY1"]?.usage.input == 15_665, "web search: delta input")
    #expect(rs["msg_01QC4g3HwBThD4BaNtBckFDJ"]?.usage.output == 30)
    #expect(
      rs["msg_011bqgzot9grwdetCByUmXRP"] != nil && rs["msg_0132hQ7tpsGJhdPtEBhmKA2R"] != nil, "two calls in one capture"
    )
    #expect(rs["msg_dup"]?.copies == 1, "a repeated message_start is the same stream")
    #expect(rs["msg_dup"]?.incompleteStream == false)
    let first = try #require(rs["msg_first"])
    #expect(first.incompleteStream && !first.stopReason, "spliced: the first stream never stopped")
    let result = await analyze([dataset("sse-streams/vercel-ai")])
    #expect(result.ledger.streams == 12 && result.ledger.incompleteStreams == 1)
    #expect(linesAccountedFor(result.ledger))
  }

  @Test("SSE as event:/data: text, cut off before message_stop")
  func sseText() async throws {
    let result = await analyze([capture("capture.har")])
    #expect(result.total.requests == 1)
    let text =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude-opus-4-6\",\"usage\":{\"input_tokens\":3,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n"
    let folded = CaptureReaderProbe.fold(text)
    #expect(folded.count == 1 && folded[0].output == 9 && folded[0].incomplete)
  }

  @Test("HAR: the count_tokens call pairs with its messages call; headers and 429s are read")
  func har() async throws {
    let rs = await requests([capture("capture.har")])
    let r = try #require(rs.first)
    #expect(rs.count == 1)
    #expect(r.measuredCountTokens == 20_004)
    #expect(r.usage.input == 5 && r.usage.cacheRead == 20_000 && r.usage.output == 42, "base64 SSE body")
    #expect(r.requestID == "req_har_1")
    #expect(r.rateLimit?.inputTokensLimit == 30_000 && r.rateLimit?.inputTokensRemaining == 29_000)
    let result = await analyze([capture("capture.har")])
    #expect(result.ledger.responses429 == 1 && result.ledger.retryAfterSeconds == [11])
    #expect(result.ledger.countTokensCalls == 1 && result.ledger.countTokensPaired == 1)
    #expect(result.total.measuredTokens - result.total.measuredEstimate == -1, "measured 20,004 vs P 20,005")
  }

  @Test("The real count_tokens pairs read correctly once extracted (HAR and paired JSON)")
  func realPairs() async throws {
    for ext in [".har", ".pairs.jsonl"] {
      let names = [
        "test_anthropic_cache_count_tokens", "test_anthropic_automatic_caching_count_tokens",
        "test_anthropic_count_tokens_with_adaptive_thinking_and_output_tools",
        "test_anthropic_model_usage_limit_not_exceeded",
      ]
      let rs = await requests(names.map { dataset("derived/count-tokens-pairs/" + $0 + ext) })
      // SOURCES.md §4: 1,114 = 3 + 1,111 read; 1,114 = 3 + 1,111 written; 671; 19.
      let measured = rs.compactMap(\.measuredCountTokens).sorted()
      #expect(measured == [19, 671, 1_114, 1_114], "\(ext)")
      for r in rs {
        #expect(r.measuredCountTokens == (try r.usage.prompt()), "count equals P exactly")
      }
      let read = try #require(rs.first { $0.usage.cacheRead == 1_111 })
      #expect(read.usage.input == 3 && read.usage.cacheWrite5m == 0)
    }
  }

  @Test("Paired JSON captures written by users")
  func pairs() async throws {
    let rs = await requests([capture("pairs.jsonl")])
    let r = try #require(rs.first)
    #expect(r.measuredCountTokens == 50_000)
    #expect(r.requestID == "req_pair_1")
    #expect(r.time == Instant("2026-10-20T13:00:00Z"))
    #expect(r.rateLimit?.inputTokensLimit == 2_000_000)
  }

  @Test("Admin usage report: buckets per model, pages de-duplicated, context window and batch honoured")
  func admin() async throws {
    let result = await analyze(
      [capture("admin-usage-page1.json"), capture("admin-usage-pages.jsonl")], by: [.minute, .model])
    #expect(result.total.requests == 4, "page 1 appears twice; its buckets count once")
    #expect(result.ledger.aggregateRecords == 6)
    let keys = result.rows.map(\.keys)
    #expect(keys.contains(["2026-10-20T12:02Z", "claude-sonnet-4-5"]))
    let opus = try #require(result.rows.first { $0.keys == ["2026-10-20T12:00Z", "claude-opus-5"] }).summary
    // The docs' example result: 1,500 uncached + 200 read + 500 5m + 1,000 1h, 500 out, 10 searches.
    #expect(opus.estimate == 3_200 && opus.itpm == 3_000)
    // Ca = 1,500×$5 + 500×$6.25 + 1,000×$10 + 200×$0.50 = 20,725 µ$; Co = 500×$25 = 12,500 µ$; search $0.10
    #expect(opus.inputCostActual.formatted() == "0.020725")
    #expect(opus.costActual.formatted() == "0.133225")
    let long = try #require(result.rows.first { $0.keys == ["2026-10-20T12:02Z", "claude-sonnet-4-5"] }).summary
    // 200k-1M: $6 input, $0.60 read, $22.50 output: 5,000×6 + 300,000×0.6 = 210,000 µ$
    #expect(long.inputCostActual.formatted() == "0.21")
    let batch = try #require(result.rows.first { $0.keys == ["2026-10-20T12:02Z", "claude-opus-5"] }).summary
    #expect(batch.inputCostActual.formatted() == "0.00025", "100 × $5 × 0.5")
  }

  @Test("Claude Code usage report: per actor and model, writes of unknown TTL")
  func claudeCodeReport() async throws {
    let r = try #require(await requests([capture("claude-code-report.json")]).first)
    #expect(r.session == "dev@example.com")
    #expect(r.usage == TokenUsage(input: 1000, cacheWriteUnknownTTL: 5000, cacheRead: 90_000, output: 500))
  }

  @Test("OpenTelemetry api_request events, keyed by request_id and session.id")
  func otel() async throws {
    let rs = await requests([capture("otel-logs.jsonl")])
    #expect(rs.count == 1, "user_prompt events carry no usage")
    let r = try #require(rs.first)
    #expect(r.session == "otel-session-1" && r.requestID == "req_otel_1")
    #expect(r.usage == TokenUsage(input: 12, cacheWriteUnknownTTL: 2000, cacheRead: 40_000, output: 300))
    #expect(r.time == Instant("2026-10-20T12:00:00Z"))
  }

  @Test("OpenAI-style usage: cached tokens are a subset, never counted twice")
  func openAI() async throws {
    let rs = byID(await requests([capture("openai-chat.json"), capture("openai-responses.json")]))
    #expect(rs["chatcmpl-1"]?.usage == TokenUsage(input: 86, cacheRead: 1920, output: 300))
    #expect(rs["resp_1"]?.usage == TokenUsage(input: 1000, cacheRead: 4000, output: 100))
    #expect(try rs["chatcmpl-1"]?.usage.prompt() == 2006, "P = prompt_tokens")
  }

  @Test("Bedrock usage: TTL split from cacheDetails; --accounting rules")
  func bedrock() async throws {
    let r = try #require(await requests([capture("bedrock-converse.json")]).first)
    #expect(r.usage == TokenUsage(input: 100, cacheWrite5m: 2000, cacheWrite1h: 1000, cacheRead: 10_000, output: 50))
    #expect(r.loggedModel == "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    let m = testCatalog.resolve(r.loggedModel)
    let day = CivilDay("2026-10-20")!
    let anthropic = try Gap(usage: r.usage, model: m, day: day, catalog: testCatalog)
    let bedrock = try Gap(usage: r.usage, model: m, day: day, catalog: testCatalog, accounting: .bedrock)
    let openai = try Gap(usage: r.usage, model: m, day: day, catalog: testCatalog, accounting: .openai)
    #expect(anthropic.itpm == 3_100 && bedrock.itpm == 3_100 && openai.itpm == 13_100)
    #expect(bedrock.otpm == 250, "5x burndown on Sonnet 4.5")
    #expect(openai.overestimationRatio?.formatted() == "1")
  }

  @Test("One directory mixing every format yields one consistent report")
  func mixed() async {
    let paths = [
      fixture("captures"), dataset("sse-streams/vercel-ai"), dataset("derived"),
      dataset("api-responses/vercel-ai"), layout("v2.1-subagents"),
    ]
    let one = await analyze(paths, by: [.model], jobs: 1)
    let many = await analyze(paths, by: [.model], jobs: 3)
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(many))
    #expect(linesAccountedFor(one.ledger) && recordsAccountedFor(one.ledger))
    #expect(one.ledger.problems.isEmpty)
    var sum = Summary()
    for row in one.rows { sum.merge(row.summary) }
    #expect(sum.estimate == one.total.estimate && sum.requests == one.total.requests)
  }

  @Test("Malformed captures: a broken line is reported, the rest still counted")
  func malformed() async throws {
    let path = "/tmp/tokengap-malformed-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let good =
      #"{"time":"2026-10-20T13:00:00Z","count_tokens":{"input_tokens":10},"response":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":10,"output_tokens":1}}}"#
    try POSIXFiles.writeAtomically(
      Array((good + "\n{\"count_tokens\": \n" + good.replacing("m1", with: "m2") + "\n").utf8), to: path)
    let result = await analyze([path])
    #expect(result.total.requests == 2)
    #expect(result.ledger.problems.map(\.line) == [2])
    #expect(linesAccountedFor(result.ledger))
  }

  @Test("HAR: a messages call takes the last unused count_tokens call for its prompt not after it")
  func harPairing() async throws {
    // Three counts of one prompt at 00:01, 00:02 and 00:10, then three calls at
    // 00:03, 00:11 and 00:12: the first takes 00:02 (00:10 is later), the
    // second 00:10, the third what is left, 00:01. Another prompt never pairs.
    func entry(_ second: Int, _ path: String, _ content: String, _ request: String = "p") -> String {
      let body = #"{\"model\":\"claude-opus-4-6\",\"messages\":[{\"role\":\"user\",\"content\":\"\#(request)\"}]}"#
      return #"{"startedDateTime":"2026-10-20T12:00:\#(second < 10 ? "0" : "")\#(second).000Z","#
        + #""request":{"method":"POST","url":"https://api.anthropic.com/v1/messages\#(path)","postData":{"text":"\#(body)"}},"#
        + #""response":{"status":200,"headers":[],"content":{"text":"\#(content)"}}}"#
    }
    func count(_ second: Int, _ n: Int) -> String { entry(second, "/count_tokens", #"{\"input_tokens\":\#(n)}"#) }
    func call(_ second: Int, _ id: String, _ request: String = "p") -> String {
      entry(
        second, "",
        #"{\"id\":\"\#(id)\",\"model\":\"claude-opus-4-6\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}"#,
        request)
    }
    let entries = [
      count(1, 101), count(2, 102), count(10, 110), call(3, "m3"), call(11, "m11"), call(12, "m12"),
      call(13, "other", "q"),
    ]
    let path = "/tmp/tokengap-har-pairing-\(WallClock.now().millisecondsSinceEpoch).har"
    try POSIXFiles.writeAtomically(
      Array((#"{"log":{"entries":["# + entries.joined(separator: ",") + "]}}").utf8), to: path)
    let measured = Dictionary(
      uniqueKeysWithValues: await requests([path]).map { ($0.messageID ?? "", $0.measuredCountTokens) })
    #expect(measured == ["m3": 102, "m11": 110, "m12": 101, "other": nil])
    let result = await analyze([path])
    #expect(result.ledger.countTokensCalls == 3 && result.ledger.countTokensPaired == 3)
  }

  @Test(
    "A transcript whose tool results hold capture keys is still a transcript",
    arguments: [
      "entries", "prompt_tokens", "inputTokens", "count_tokens", "model_breakdown",
      "resourceLogs", "uncached_input_tokens", "input_tokens_details", "log",
    ])
  func transcriptNotCapture(_ marker: String) async throws {
    let path = "/tmp/tokengap-sniff-\(marker)-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    // Line 1 quotes the key inside a tool result object, line 2 carries usage:
    // read as a capture, the file would yield no request at all.
    let tool = #"{"type":"user","toolUseResult":{"MARKER":[1],"usage":{"prompt_tokens":1}},"sessionId":"s"}"#
      .replacing("MARKER", with: marker)
    let usage =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}"#
    try POSIXFiles.writeAtomically(Array((tool + "\n" + usage + "\n").utf8), to: path)
    let result = await analyze([path])
    #expect(result.total.requests == 1)
    #expect(result.total.estimate == 100 && result.total.itpm == 10)
  }
}

@Suite("Hostile numbers")
struct HostileNumberTests {
  @Test("Two requests of 2^63-1 input tokens each: exact sums in every format, no trap")
  func hugeSums() async throws {
    let path = "/tmp/tokengap-huge-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let line =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"ID","model":"claude-opus-4-6","usage":{"input_tokens":9223372036854775807,"output_tokens":1}}}"#
    let text = line.replacing("ID", with: "m1") + "\n" + line.replacing("ID", with: "m2") + "\n"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path], by: [.session])
    // 2 × (2^63 − 1) = 18,446,744,073,709,551,614: beyond Int64, exact in Int128.
    #expect(result.total.estimate == 18_446_744_073_709_551_614)
    for format in OutputFormat.allCases {
      let text = AnalysisRenderer.render(result, format: format)
      let digits =
        format == .table || format == .markdown
        ? "18,446,744,073,709,551,614" : "18446744073709551614"
      #expect(text.contains(digits), "\(format): the true sum")
    }
    // Ratios of such sums, and of their costs, format exactly.
    let r = try #require(Ratio(Int128(1) << 126, (Int128(1) << 126) - 1))
    #expect(r.formatted() == "1")
    #expect(r > (try #require(Ratio(Int128(1), Int128(1)))))
    #expect(try #require(Ratio(Int128(2), 3)).formatted(decimals: 1, shift: 2) == "66.7")
    #expect(try #require(Ratio(Int128(-1), 3)).formatted() == "-0.333333")
    // 9.9999995 rounds half up through every digit: 10.
    #expect(try #require(Ratio(Int128(19_999_999), 2_000_000)).formatted() == "10")
  }
}

@Suite("Hostile text")
struct HostileTextTests {
  @Test("Lone surrogate escapes in an id make the record malformed, not a merged request")
  func loneSurrogates() async throws {
    let path = "/tmp/tokengap-surrogate-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let line =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"mID","model":"claude-opus-4-6","usage":{"input_tokens":10,"output_tokens":1}}}"#
    let text =
      [#"\ud800"#, #"\ud801"#, #"\udc00"#].map { line.replacing("ID", with: $0) }
      .joined(separator: "\n") + "\n" + line.replacing("ID", with: #"\ud83d\ude00"#) + "\n"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path])
    // Three lone surrogates: three malformed lines; the paired one is a real id.
    #expect(result.total.requests == 1)
    #expect(result.ledger.malformedLines == 3)
    #expect(result.ledger.duplicatesCollapsed == 0)
    #expect(result.ledger.problems.map(\.kind) == [.invalidText, .invalidText, .invalidText])
    #expect(result.ledger.problems.map(\.line) == [1, 2, 3])
  }
}

extension HostileTextTests {
  @Test("Controls, bidi overrides, HTML and newlines in data are escaped in tables, Markdown and SVG")
  func injection() async throws {
    let path = "/tmp/tokengap-inject-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    // JSON escapes put ESC, BEL, CR, a newline and U+202E into the decoded model name.
    let model = #"evil\u001b]0;pwned\u0007\r\u202e<img src=x onerror=alert(1)>|x\ny"#
    let line =
      #"{"type":"assistant","sessionId":"s\u001b[2J","timestamp":"2026-10-20T13:00:00Z","message":{"id":"m1","model":"MODEL","usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}"#
      .replacing("MODEL", with: model)
    try POSIXFiles.writeAtomically(Array((line + "\n").utf8), to: path)
    let result = await analyze([path], by: [.session, .model])
    #expect(result.total.requests == 1)
    let table = AnalysisRenderer.render(result, format: .table, shape: TableShape(wide: true))
    let raw: [Unicode.Scalar] = ["\u{1B}", "\u{07}", "\r", "\u{202E}"]
    for s in raw { #expect(!table.unicodeScalars.contains(s), "table: raw U+\(String(s.value, radix: 16))") }
    // The compact table cuts long cells after escaping them: still nothing raw.
    for width in [40, 100] {
      let compact = AnalysisRenderer.render(result, format: .table, shape: TableShape(width: width))
      for s in raw { #expect(!compact.unicodeScalars.contains(s), "compact: raw U+\(String(s.value, radix: 16))") }
    }
    #expect(table.contains(#"\x1b]0;pwned\x07\x0d\u{202e}"#))
    let md = AnalysisRenderer.render(result, format: .markdown)
    for s in raw { #expect(!md.unicodeScalars.contains(s), "markdown: raw U+\(String(s.value, radix: 16))") }
    #expect(!md.contains("<img") && md.contains("&lt;img"))
    // Every Markdown table row stays one line with the header's number of cells.
    let rows = md.split(separator: "\n").filter {
      $0.hasPrefix("| session") || ($0.hasPrefix("|") && $0.contains("evil"))
    }
    #expect(rows.count == 2)
    func cells(_ row: Substring) -> Int {
      var n = 0
      var escaped = false
      for c in row {
        if c == "|", !escaped { n += 1 }
        escaped = c == "\\" && !escaped
      }
      return n
    }
    let pipes = rows.map(cells)
    #expect(Set(pipes).count == 1, "no row gained or lost a cell")
    var chart = SVGChart(title: "t \u{1}\u{1B}<x>", xLabel: "x", yLabel: "y")
    chart.subtitle = "model " + "evil\u{0}\u{1B}\u{202E}"
    let svg = chart.render()
    #expect(!svg.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" })
    #expect(!svg.contains("<x>"))
  }
}

extension HostileTextTests {
  @Test("A line with data after its object is one problem and counts nothing; -0 is zero")
  func trailingAndNegativeZero() async throws {
    let path = "/tmp/tokengap-trailing-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let line =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"ID","model":"claude-opus-4-6","usage":{"input_tokens":10,"cache_read_input_tokens":-0,"output_tokens":1}}}"#
    let text = line.replacing("ID", with: "m1") + "} trailing\n" + line.replacing("ID", with: "m2") + "\n"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path])
    #expect(result.total.requests == 1, "only the second line")
    #expect(result.ledger.malformedLines == 1 && result.ledger.usageLines == 1)
    #expect(result.ledger.problems.map(\.line) == [1])
    // Typed: a malformed line, at the byte just past the complete object.
    #expect(result.ledger.problems.first?.kind == .malformed)
    #expect(result.ledger.problems.first?.offset == line.replacing("ID", with: "m1").utf8.count)
    #expect(result.total.cacheRead == 0 && result.total.estimate == 10)
    #expect(linesAccountedFor(result.ledger))
  }
}

@Suite("Aggregate rows")
struct AggregateRowTests {
  @Test(
    "A usage-report bucket without context_window is priced at standard rates and flagged, never at the long tier by its sum"
  )
  func bucketTier() async throws {
    let path = "/tmp/tokengap-bucket-\(WallClock.now().millisecondsSinceEpoch).json"
    // One day of Sonnet 4.5 in one bucket: ΣP = 400,000 is above 200K, but no
    // single request is known to be.
    let page =
      #"{"data": [{"starting_at": "2026-10-20T00:00:00Z", "ending_at": "2026-10-21T00:00:00Z", "results": [{"uncached_input_tokens": 300000, "cache_read_input_tokens": 100000, "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}, "output_tokens": 10000, "model": "claude-sonnet-4-5", "service_tier": "standard"}]}], "has_more": false}"#
    try POSIXFiles.writeAtomically(Array(page.utf8), to: path)
    let result = await analyze([path])
    let s = result.total
    #expect(s.requests == 1 && s.estimate == 400_000)
    // Standard rates: 300,000 × $3/M + 100,000 × $0.30/M + 10,000 × $15/M
    //   = $0.90 + $0.03 + $0.15 = $1.08 (the long tier would say $2.085).
    #expect(s.costActual.formatted() == "1.08")
    #expect(s.lowerBound == 1)
    #expect(result.ledger.tierAssumedRecords == 1)
  }
}

extension AggregateRowTests {
  @Test("A file read as a capture that yields no usage in many documents is a problem, not silence")
  func silentCapture() async throws {
    let path = "/tmp/tokengap-silent-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let transcript =
      #"{"type":"assistant","sessionId":"s","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":1,"output_tokens":1}}}"#
    let text = #"{"log":{"entries":[]}}"# + "\n" + transcript + "\n" + transcript + "\n"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path])
    #expect(result.total.requests == 0)
    #expect(result.ledger.problems.map(\.kind) == [.captureWithoutUsage])
    #expect(result.ledger.problems.first?.reason.contains("none of its 3 documents") == true)
  }
}

extension AggregateRowTests {
  @Test("HAR messages entries whose body cannot be read are problems naming the entry")
  func harUnreadableBodies() async throws {
    func entry(_ content: String, headers: String = "") -> String {
      #"{"startedDateTime":"2026-10-20T12:00:00.000Z","request":{"method":"POST","url":"https://api.anthropic.com/v1/messages"},"#
        + #""response":{"status":200,"headers":[\#(headers)],"content":\#(content)}}"#
    }
    let ok =
      #"{"text":"{\"id\":\"m1\",\"model\":\"claude-opus-4-6\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}"}"#
    let entries = [
      entry(ok),
      entry(#"{"text":"%%%not base64%%%","encoding":"base64"}"#),
      entry(#"{"text":"H4sIAAAAAAAA","encoding":"base64"}"#, headers: #"{"name":"content-encoding","value":"gzip"}"#),
      entry(#"{"text":"<html>502</html>"}"#),
      entry(#"{"size":0}"#),
    ]
    let path = "/tmp/tokengap-har-bodies-\(WallClock.now().millisecondsSinceEpoch).har"
    try POSIXFiles.writeAtomically(
      Array((#"{"log":{"entries":["# + entries.joined(separator: ",") + "]}}").utf8), to: path)
    let result = await analyze([path])
    #expect(result.total.requests == 1)
    #expect(result.ledger.problems.map(\.kind) == Array(repeating: .unreadableEntry, count: 4))
    let reasons = result.ledger.problems.map(\.reason)
    #expect(reasons.contains { $0.hasPrefix("HAR entry 1 ") && $0.contains("not valid base64") })
    #expect(reasons.contains { $0.hasPrefix("HAR entry 2 ") && $0.contains("content-encoding: gzip") })
    #expect(reasons.contains { $0.hasPrefix("HAR entry 3 ") && $0.contains("neither a Messages API response") })
    #expect(reasons.contains { $0.hasPrefix("HAR entry 4 ") && $0.contains("no response body") })
  }
}

extension HostileTextTests {
  @Test("A 100 KB model name widens no table: cells are cut, CSV and JSON keep the value")
  func amplification() async throws {
    let path = "/tmp/tokengap-wide-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let model = String(repeating: "m", count: 100_000)
    let line =
      #"{"type":"assistant","sessionId":"s","message":{"id":"ID","model":"MODEL","usage":{"input_tokens":1,"output_tokens":1}}}"#
      .replacing("MODEL", with: model)
    let text = (0..<50).map { line.replacing("ID", with: "m\($0)") }.joined(separator: "\n") + "\n"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path], by: [.request])
    #expect(result.total.requests == 50)
    let table = AnalysisRenderer.render(result, format: .table)
    // 50 rows of at most a few hundred characters, not 50 × 100 KB of padding.
    #expect(table.utf8.count < 50_000)
    #expect(table.contains("…"))
    #expect(AnalysisRenderer.render(result, format: .csv).contains(model))
  }

  @Test("The ledger and error messages escape what they quote")
  func ledgerEscapes() async throws {
    let path = "/tmp/tokengap-ledger-\(WallClock.now().millisecondsSinceEpoch)-\u{1B}[31m.jsonl"
    let line =
      #"{"type":"assistant","sessionId":"s","message":{"id":"m1","model":"x\u001b]2;t\u0007","usage":{"input_tokens":1,"output_tokens":1}}}"#
    try POSIXFiles.writeAtomically(Array((line + "\nnot json\n").utf8), to: path)
    let result = await analyze([path])
    let ledger = AnalysisRenderer.ledgerText(result.ledger)
    #expect(!ledger.unicodeScalars.contains("\u{1B}") && !ledger.unicodeScalars.contains("\u{07}"))
    #expect(ledger.contains(#"x\x1b]2;t\x07"#), "the unpriced model, escaped")
    #expect(ledger.contains(#"\x1b[31m.jsonl:2"#), "the problem's file name, escaped")
  }

  @Test("The ledger lists up to eight retry-after values; more are summarised, not printed one by one")
  func retryAfterSummary() {
    var ledger = Ledger()
    ledger.responses429 = 8
    ledger.retryAfterSeconds = [5, 1, 1, 9, 2, 30, 2, 2]
    #expect(
      AnalysisRenderer.ledgerText(ledger).contains(
        "ledger: 8 responses were HTTP 429 (retry-after: 5, 1, 1, 9, 2, 30, 2, 2 s)\n"))
    // Nine values, sorted 1 1 2 2 2 5 7 9 30: the fifth (nearest rank of
    // the median) is 2. One 429 more had no retry-after.
    ledger.responses429 = 10
    ledger.retryAfterSeconds.append(7)
    #expect(
      AnalysisRenderer.ledgerText(ledger).contains(
        "ledger: 10 responses were HTTP 429 (retry-after given on 9: 1 to 30 s, median 2 s; each in the JSON ledger)\n"
      ))
    let json = AnalysisRenderer.ledgerJSON(ledger)
    #expect(json["retry_after_seconds"] == .array([5, 1, 1, 9, 2, 30, 2, 2, 7].map { .int($0) }))
  }

  @Test("A document over the cap is a skipped file, counted as skipped")
  func documentCap() throws {
    let path = "/tmp/tokengap-doc-cap-\(WallClock.now().millisecondsSinceEpoch).json"
    let doc = "[\n" + String(repeating: "{\"a\":1},\n", count: 20_000) + "{\"a\":1}\n]\n"
    try POSIXFiles.writeAtomically(Array(doc.utf8), to: path)
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog, captureLimit: 1 << 16))
    let p = ingest.ingest(path)
    #expect(p.ledger.files == 0 && p.ledger.filesSkipped == 1)
    #expect(p.ledger.skippedFiles.map(\.kind) == [.skippedFile])
  }
}

@Suite("HAR read entry by entry")
struct HARStreamTests {
  /// The per-request CSV and the ledger of one capture read from bytes.
  private func read(_ bytes: [UInt8]) -> (csv: String, ledger: String) {
    var ingest = FileIngest(options: IngestOptions(format: .capture, catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: bytes, name: "capture.har"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    return (priced.requestsCSV(), AnalysisRenderer.ledgerText(priced.ledger))
  }

  @Test("Every shipped HAR reads the same streamed as parsed whole: records, pairing, ledger")
  func sameAsWhole() throws {
    let found = Discovery.find([dataset("derived")]).files.filter { $0.hasSuffix(".har") }
    #expect(found.count >= 10)
    var withRequests = 0
    for file in found {
      let bytes = try POSIXFiles.read(file)
      let text = String(decoding: bytes, as: UTF8.self)
      // A first key other than `log` sends the document down the whole-tree path.
      let whole = Array(text.replacing("{", with: #"{"_": 0,"#, maxReplacements: 1).utf8)
      #expect(FileIngest.startsWithLogKey(bytes.withUnsafeBufferPointer { $0 }) == true, "\(file)")
      let streamed = read(bytes)
      let tree = read(whole)
      #expect(streamed.csv == tree.csv, "\(file)")
      #expect(streamed.ledger == tree.ledger, "\(file)")
      if streamed.csv.split(separator: "\r\n").count > 1 { withRequests += 1 }
    }
    #expect(withRequests >= 8, "the comparison saw requests, not only empty files")
  }

  @Test("A HAR that is not valid JSON, or names log twice, is read whole, as before")
  func fallsBack() throws {
    let file = try #require(Discovery.find([dataset("derived")]).files.first { $0.hasSuffix(".har") })
    let text = String(decoding: try POSIXFiles.read(file), as: UTF8.self)
    // Truncated: the entries streamed before the error are dropped; the
    // whole-document path reports the file.
    let truncated = Array(text.utf8.dropLast(40))
    let (csv, ledger) = read(truncated)
    #expect(csv.split(separator: "\r\n").count == 1, "no request from a capture that is not JSON")
    #expect(ledger.contains("malformed"), "\(ledger)")
    // `log` twice: the tree keeps one of them; the stream does not guess which.
    let twice = Array((String(text.dropLast(2)) + #","log":{"entries":[]}}"#).utf8)
    let streamedTwice = bytesStartWithLog(twice)
    #expect(streamedTwice)
    let expected = read(Array(#"{"_":0,"#.utf8) + twice.dropFirst())
    #expect(read(twice).csv == expected.csv)
  }

  private func bytesStartWithLog(_ b: [UInt8]) -> Bool { b.withUnsafeBufferPointer { FileIngest.startsWithLogKey($0) } }
}
