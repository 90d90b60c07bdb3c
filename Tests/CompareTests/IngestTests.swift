import EstimateModel
import Testing

@testable import Compare

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Reading transcripts and responses")
struct IngestTests {
  func byKey(_ rs: [PricedRequest]) -> [String: PricedRequest] {
    Dictionary(rs.map { ($0.messageID ?? "\($0.file):\($0.line)", $0) }, uniquingKeysWith: { a, _ in a })
  }

  @Test("2.0.x layout: agent-*.jsonl beside the session, counted under the parent session")
  func agentFiles() async throws {
    let rs = byKey(await requests([layout("v2.0-agent-files")]))
    #expect(rs.count == 3)
    let warmup = try #require(rs["msg_W1"])
    #expect(warmup.sidechain && warmup.session == "s20-aaaa")
    #expect(warmup.agent == "a05b3d3")
    let result = await analyze([layout("v2.0-agent-files")])
    #expect(result.ledger.skippedAPIError == 1)
    #expect(result.ledger.nonUsageLines == 2)  // the summary and the user line
  }

  @Test("Streaming snapshots: the maximum of every field wins (9, 9, 159 → 159)")
  func snapshots() async throws {
    let rs = byKey(await requests([layout("v2.0-agent-files")]))
    let a1 = try #require(rs["msg_A1"])
    #expect(a1.usage.output == 159)
    #expect(a1.copies == 3)
    #expect(a1.stopReason)
    #expect(a1.time?.description == "2026-01-07T17:37:40.000Z", "earliest copy's time")
  }

  @Test("2.1.x layout: subagents/ files and progress copies collapse to one request each")
  func subagents() async throws {
    let result = await analyze([layout("v2.1-subagents")])
    // main: M1 (2 + 20,000 1h, out 70), M2 (1 + 500 1h + 20,000 read, out 30)
    // subagent: H1 (10 + 5,000 5m, out 300), H2 (4 + 100 5m + 5,000 read, out 120)
    #expect(result.total.requests == 4)
    #expect(result.total.input == 2 + 1 + 10 + 4)
    #expect(result.total.output == 70 + 30 + 300 + 120)
    #expect(result.total.cacheWrite1h == 20_500)
    #expect(result.total.cacheWrite5m == 5_100)
    #expect(result.total.cacheRead == 25_000)
    #expect(result.ledger.embeddedCopies == 2)
    let rs = byKey(await requests([layout("v2.1-subagents")]))
    #expect(rs["msg_H1"]?.embeddedOnly == false)
    #expect(rs["msg_H1"]?.session == "s21-bbbb")
    // The progress copies alone (as in an Entire checkpoint) still count the subagent.
    let alone = await analyze([layout("v2.1-subagents/projects/-work-app/s21-bbbb.jsonl")])
    #expect(alone.total.requests == 4)
    #expect(alone.total.output == 70 + 30 + 3 + 120, "H1's copy holds only its start snapshot")
  }

  @Test("De-duplication is global across files and independent of order")
  func globalDedup() async {
    let a = await analyze([layout("v2.1-subagents")], by: [.request], jobs: 1)
    let b = await analyze([layout("v2.1-subagents")], by: [.request], jobs: 4)
    #expect(AnalysisRenderer.csv(a) == AnalysisRenderer.csv(b))
    #expect(AnalysisRenderer.json(a) == AnalysisRenderer.json(b))
  }

  @Test("Quirks: replays, missing requestId, glued objects, CRLF, blank and truncated lines")
  func quirks() async throws {
    let result = await analyze([layout("quirks")])
    let l = result.ledger
    #expect(l.sidechainReplaysDropped == 1)
    #expect(l.blankLines == 1)
    #expect(l.malformedLines == 1)
    #expect(l.problems.map(\.line) == [8])
    #expect(l.problems.first?.kind == .truncated)
    #expect(linesAccountedFor(l) && recordsAccountedFor(l))
    let rs = byKey(await requests([layout("quirks")]))
    #expect(Set(rs.keys) == ["msg_Q1", "msg_Q2", "msg_Q3", "msg_Q4"])
    let q2 = try #require(rs["msg_Q2"])
    #expect(q2.requestID == nil && q2.usage.output == 25 && q2.copies == 2)
    #expect(rs["msg_Q1"]?.sidechain == false)
  }

  @Test("Unknown models are counted and listed as unpriced")
  func unpriced() async {
    let result = await analyze([layout("quirks")])
    #expect(result.ledger.unpricedModels == ["glm-4.7": 1])
    #expect(result.total.unpriced == 1)
  }

  @Test("Messages API responses: pretty-printed, array and JSONL")
  func responses() async throws {
    let rs = byKey(await requests([layout("responses")]))
    #expect(rs.count == 5)
    #expect(rs["msg_R1"]?.usage == TokenUsage(input: 3, cacheRead: 1111, output: 406))
    #expect(rs["msg_R3"]?.usage.cacheWriteUnknownTTL == 100)
    #expect(rs["msg_R5"]?.usage.cacheRead == 5000)
    let result = await analyze([layout("responses")])
    #expect(result.ledger.recordsWithoutTime == 5)
    #expect(linesAccountedFor(result.ledger))
  }

  @Test("The shipped Messages API responses read as SOURCES.md describes")
  func shippedResponses() async throws {
    let rs = byKey(await requests([dataset("api-responses/vercel-ai")]))
    #expect(rs["msg_01VdEjxAP5ahtHKrrRdNBteQ"]?.usage == TokenUsage(input: 12, output: 29))
    #expect(
      rs["msg_01PHHrjzLH4teUMhgkGgqYYc"]?.usage
        == TokenUsage(input: 27_118, output: 600, webSearchRequests: 2))
    #expect(rs["msg_01SNJCefkpg3kcMGepX63Dvh"]?.usage.input == 2_414)
    #expect(rs["msg_01SNJCefkpg3kcMGepX63Dvh"]?.usage.output == 3_200)
  }

  @Test("Filters: --since/--until on record time, --model on the id")
  func filters() async {
    let since = Instant("2026-02-01T10:01:30Z")
    let until = Instant("2026-02-01T10:03:30Z")
    let r = await analyze([layout("quirks")], since: since, until: until)
    #expect(r.total.requests == 2)  // Q3 at 10:02, Q4 at 10:03
    #expect(r.ledger.filteredRecords > 0)
    #expect(linesAccountedFor(r.ledger))
    let m = await analyze([layout("quirks")], model: "GLM")
    #expect(m.total.requests == 1)
  }
}

@Suite("Grouping and output")
struct GroupingTests {
  @Test("CSV header: key columns, then exactly the documented columns (sessions add theirs, then the last column)")
  func header() async {
    let expectations: [([Dimension], String)] = [
      ([.request], "time,session,project,model,message_id,request_id,"),
      ([.session], "session,project,"), ([.project], "project,"), ([.day], "day,"),
      ([.hour], "hour,"), ([.minute], "minute,"), ([.model], "model,"),
      ([.day, .model], "day,model,"), ([.total], ""), ([.week], "week,"), ([.month], "month,"),
    ]
    let measured =
      "requests,input_tokens,cache_creation_5m_tokens,cache_creation_1h_tokens,cache_creation_unknown_ttl_tokens,cache_read_tokens,output_tokens,estimate_tokens,itpm_tokens,overestimate_tokens,overestimation_ratio,excess_share,cache_hit_rate,ratio_p50,ratio_p90,ratio_p99,ratio_max,input_cost_estimate_usd,input_cost_actual_usd,output_cost_usd,cost_actual_usd,input_cost_ratio,lower_bound,unpriced_requests"
    for (dims, keys) in expectations {
      let r = await analyze([layout("quirks")], by: dims)
      let first = AnalysisRenderer.csv(r).split(separator: "\r\n").first.map(String.init)
      // Sessions add their first and last activity (issue 15), requests
      // their rule and server tools (issue 13), at the end; issue 13, item 17
      // added one column after every other.
      let trailing =
        dims.contains(.session) ? ",first_time,last_time" : dims.contains(.request) ? ",rule,server_tools" : ""
      #expect(first == keys + measured + trailing + ",third_party_priced_requests,logged_cost_usd", "\(dims)")
    }
  }

  @Test("Day, hour and minute keys in UTC and in a zone")
  func timeKeys() async throws {
    let r = await analyze([layout("v2.0-agent-files")], by: [.minute])
    #expect(r.rows.map { $0.keys[0] } == ["2026-01-07T17:37Z", "2026-01-07T17:38Z"])
    let h = await analyze([layout("v2.0-agent-files")], by: [.hour])
    #expect(h.rows.map { $0.keys[0] } == ["2026-01-07T17:00Z"])
    let tz = try TimeZoneRule.named("+09:00")
    let d = await analyze([layout("v2.0-agent-files")], by: [.day, .hour], timeZone: tz)
    #expect(d.rows.map(\.keys) == [["2026-01-08", "2026-01-08T02:00+09:00"]])
  }

  @Test("Rows sort by their keys; sums and ratios are of sums")
  func sortingAndRatios() async throws {
    let r = await analyze([layout("v2.1-subagents")], by: [.model])
    #expect(r.rows.map { $0.keys[0] } == ["claude-haiku-4-5", "claude-sonnet-4-6"])
    let haiku = r.rows[0].summary
    // H1: P = 5,010, I = 5,010; H2: P = 5,104, I = 104.
    #expect(haiku.estimate == 10_114 && haiku.itpm == 5_114)
    #expect(haiku.overestimationRatio?.formatted() == "1.977708")  // 10,114 / 5,114
    let p = haiku.ratioPercentiles()
    #expect(p.p50?.formatted() == "1")
    #expect(p.max?.formatted() == "49.076923")  // 5,104 / 104
  }

  @Test("JSON carries the tool, the catalog fingerprint, the ledger and the groups")
  func json() async throws {
    let r = await analyze([layout("quirks")], by: [.session])
    let text = AnalysisRenderer.json(r)
    for key in [
      "\"tool\": \"tokengap\"", "\"sha256\": \"\(testCatalog.sha256)\"", "\"ledger\": {",
      "\"groups\": [", "\"total\": {", "\"overestimation_ratio\":", "\"problems_first\": [",
    ] {
      #expect(text.contains(key), "\(key)")
    }
  }

  @Test("Nothing from prompt or response content reaches any output")
  func noContentLeaks() async {
    for dims: [Dimension] in [[.request], [.session], [.total]] {
      let r = await analyze([fixture("layouts")], by: dims)
      for format in OutputFormat.allCases {
        let text = AnalysisRenderer.render(r, format: format) + AnalysisRenderer.ledgerText(r.ledger)
        #expect(!text.contains("SECRET-CONTENT-MARKER"))
      }
    }
  }
}

@Suite("CSV safety")
struct CSVTests {
  @Test(
    "Formula-like cells are neutralized; numbers are not",
    arguments: [
      ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-home-user", "'-home-user"), ("@SUM(A1)", "'@SUM(A1)"),
      ("-12", "-12"), ("+3.5", "+3.5"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
      ("\tx", "'\tx"), ("plain", "plain"),
      // After a separator other locales split on: neutralized there too.
      ("x;=HYPERLINK(\"http://e\")", "\"x;'=HYPERLINK(\"\"http://e\"\")\""), ("a;@b", "a;'@b"),
      ("a|-b", "a|'-b"), ("a;b", "a;b"),
    ])
  func neutralize(_ raw: String, _ written: String) {
    #expect(CSVWriter.cell(raw) == written)
    var bytes: [UInt8] = []
    CSVWriter.appendCell(raw, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == written)
  }

  /// The rule as it was first written, with Strings: slow, plainly the
  /// rule, the oracle for the byte writer.
  static func oracle(_ raw: String) -> String {
    var value = raw
    let formula: [UInt8] = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@")]
    if let first = value.utf8.first, (formula + [0x09, 0x0D]).contains(first), !CSVWriter.isNumber(value) {
      value = "'" + value
    }
    if !CSVWriter.isNumber(value), value.utf8.contains(where: { $0 == 0x3B || $0 == 0x09 || $0 == 0x7C }) {
      var out: [UInt8] = []
      var previous: UInt8 = 0
      for c in value.utf8 {
        if previous == 0x3B || previous == 0x09 || previous == 0x7C, formula.contains(c) {
          out.append(UInt8(ascii: "'"))
        }
        out.append(c)
        previous = c
      }
      value = String(decoding: out, as: UTF8.self)
    }
    if value.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
      return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
    return value
  }

  @Test(
    "The byte writer and cell(_:) write what the String oracle writes, for cells made of the characters that matter")
  func bytesMatchCell() {
    // Formula starts, separators, quoting characters, a number's parts,
    // letters, a quote mark, a space and non-ASCII.
    let alphabet: [String] = [
      "=", "+", "-", "@", "\t", "\r", "\n", ",", "\"", ";", "|", "'", "a", "Z", "0", "7", ".", "_", ":", " ", "é", "日",
    ]
    var g = SplitMix(seed: 18_726)
    for _ in 0..<50_000 {
      var raw = ""
      for _ in 0..<Int(g.next() % 7) { raw += alphabet[Int(g.next() % UInt64(alphabet.count))] }
      var bytes: [UInt8] = [0x2C]
      CSVWriter.appendCell(raw, to: &bytes)
      let expected = Self.oracle(raw)
      #expect(String(decoding: bytes.dropFirst(), as: UTF8.self) == expected, "\(Array(raw.utf8))")
      #expect(CSVWriter.cell(raw) == expected, "\(Array(raw.utf8))")
    }
  }
}

@Suite("Copies that disagree")
struct DisagreeingCopiesTests {
  static func line(_ id: String, _ requestID: String?, usage: String) -> String {
    let rid = requestID.map { #""requestId":"\#($0)","# } ?? ""
    return
      #"{"type":"assistant","sessionId":"s",\#(rid)"timestamp":"2026-10-20T13:00:00Z","message":{"id":"\#(id)","model":"claude-opus-4-6","usage":\#(usage)}}"#
  }

  @Test("Raw fields merge before deriving; a copy without requestId joins the one request with it")
  func mergeRawThenDerive() async throws {
    let path = "/tmp/tokengap-disagree-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let lines = [
      // m1: one copy gives the total only, the other the 1-hour split (and no requestId).
      Self.line("m1", "r1", usage: #"{"input_tokens":5,"cache_creation_input_tokens":1000,"output_tokens":1}"#),
      Self.line(
        "m1", nil,
        usage:
          #"{"input_tokens":5,"cache_creation_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":1000},"output_tokens":9}"#
      ),
      // m2: two requests with requestIds and one copy without: ambiguous, kept apart.
      Self.line("m2", "r2a", usage: #"{"input_tokens":1,"output_tokens":1}"#),
      Self.line("m2", "r2b", usage: #"{"input_tokens":2,"output_tokens":1}"#),
      Self.line("m2", nil, usage: #"{"input_tokens":3,"output_tokens":1}"#),
    ]
    try POSIXFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: path)
    let rs = await requests([path])
    let m1 = rs.filter { $0.messageID == "m1" }
    #expect(m1.count == 1)
    // 1,000 writes counted once, all 1-hour: not 1,000 unknown + 1,000 1-hour.
    #expect(m1.first?.usage == TokenUsage(input: 5, cacheWrite1h: 1000, output: 9))
    #expect(m1.first?.requestID == "r1" && m1.first?.copies == 2)
    #expect(rs.filter { $0.messageID == "m2" }.count == 3)
    let result = await analyze([path])
    #expect(result.total.requests == 4)
    #expect(result.ledger.duplicatesCollapsed == 1 && recordsAccountedFor(result.ledger))
  }
}

@Suite("Entry points")
struct EntryPointTests {
  @Test(
    "Bytes handed in read exactly like the same bytes in a file",
    arguments: [
      "claude-code/claude-code-viewer/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
      "examples/capture.har", "examples/admin-usage-pages.jsonl",
    ])
  func bytesLikeFile(_ name: String) throws {
    let path = dataset(name)
    var fromFile = FileIngest(options: IngestOptions(catalog: testCatalog))
    var fromBytes = FileIngest(options: IngestOptions(catalog: testCatalog))
    let a = fromFile.ingest(path)
    let b = fromBytes.ingest(bytes: try POSIXFiles.read(path), name: path)
    #expect(a.requestCount == b.requestCount && a.requestCount > 0)
    #expect(a.ledger == b.ledger)
  }
}

@Suite("Edge spellings")
struct EdgeSpellingTests {
  @Test("inference_geo \"US\" is US-only inference: 1.1× on Claude 4.6")
  func upperCaseGeo() async throws {
    let path = "/tmp/tokengap-geo-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let line =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":1000000,"output_tokens":0,"inference_geo":"US"}}}"#
    try POSIXFiles.writeAtomically(Array((line + "\n").utf8), to: path)
    let result = await analyze([path])
    // Opus 4.6 input $5/M × 1.1 = $5.50 for 1,000,000 tokens.
    #expect(result.total.inputCostActual.formatted() == "5.5")
  }
}

@Suite("Row layout")
struct RowLayoutTests {
  @Test("A request row is 72 bytes; large counts, lines, web searches and copies stay exact or saturate as documented")
  func layout() async throws {
    #expect(MemoryLayout<RequestTable.Row>.stride == 72)
    let path = "/tmp/tokengap-wide-row-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    let big =
      #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":5000000000,"output_tokens":1,"server_tool_use":{"web_search_requests":70000}}}}"#
    let late =
      #"{"type":"assistant","sessionId":"s","timestamp":"9999-01-01T00:00:00Z","message":{"id":"m2","model":"claude-opus-4-6","usage":{"input_tokens":1,"output_tokens":1}}}"#
    try POSIXFiles.writeAtomically(Array((big + "\n" + late + "\n").utf8), to: path)
    let rs = await requests([path])
    let m1 = try #require(rs.first { $0.messageID == "m1" })
    #expect(m1.usage.input == 5_000_000_000 && m1.usage.webSearchRequests == 70_000)
    let m2 = try #require(rs.first { $0.messageID == "m2" })
    #expect(m2.time == nil, "year 9999 is beyond what a row holds: counted without a time")
    let result = await analyze([path])
    #expect(result.ledger.problems.map(\.kind) == [.invalidTime])
  }
}

@Suite("Sidechain replays")
struct ReplayTests {
  /// A line: one assistant response, main thread or sidechain.
  private func line(_ id: String, _ request: String, sidechain: Bool) -> String {
    #"{"type":"assistant","isSidechain":\#(sidechain),"sessionId":"s","requestId":"\#(request)","#
      + #""message":{"id":"\#(id)","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"output_tokens":1}}}"#
  }

  private func run(main: [String], sidechains: [(String, String)], slices: Int? = nil) -> (dropped: Int, requests: Int)
  {
    var text = main.enumerated().map { line($1, "req_main_\($0)", sidechain: false) }
    text += sidechains.map { line($0.0, $0.1, sidechain: true) }
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.joined(separator: "\n").utf8), name: "r.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay), slices: slices)
    return (priced.ledger.sidechainReplaysDropped, priced.count)
  }

  @Test("A sidechain copy of a main-thread response is a replay, whichever side is the larger")
  func replaysEitherSide() {
    // Two sidechain copies of m1 (under different request ids) are replays;
    // m3 exists only in the sidechain and is a request.
    let side = [("m1", "req_x"), ("m1", "req_y"), ("m3", "req_z")]
    // Sidechains the fewer (3 of 9): their ids are indexed.
    let few = run(main: ["m1", "m2", "m4", "m5", "m6", "m7"], sidechains: side)
    #expect(few.dropped == 2 && few.requests == 6 + 1)
    // Sidechains the more (3 of 5): the main rows' ids are indexed.
    let many = run(main: ["m1", "m2"], sidechains: side)
    #expect(many.dropped == 2 && many.requests == 2 + 1)
  }

  @Test("Past 16,384 rows the main rows look their ids up in slices: each replay is dropped once")
  func replaysInSlices() {
    // m5 is a main-thread id in both halves of the table (two requests with
    // the same message id); m10007 and m19999 sit in the second half.
    let main = (0..<20_000).map { "m\($0)" } + ["m5"]
    let side = [
      ("m5", "req_a"), ("m5", "req_b"), ("m10007", "req_c"), ("m19999", "req_d"), ("s1", "req_e"), ("s2", "req_f"),
    ]
    // By hand: the replays are m5's two copies, m10007's and m19999's; s1
    // and s2 exist only in the sidechain and stay requests.
    for slices in [nil, 1, 2, 3] {
      let r = run(main: main, sidechains: side, slices: slices)
      #expect(r.dropped == 4, "\(String(describing: slices)) slices")
      #expect(r.requests == 20_001 + 2)
    }
  }
}

@Suite("Order of a run")
struct RunOrderTests {
  @Test("Partials merge in file order whichever finishes first: Retry-After values keep the files' order")
  func fileOrder() async throws {
    let dir = "/tmp/tokengap-order-\(Int.random(in: 0..<1_000_000_000))"
    #expect(POSIXFiles.makeDirectories(dir))
    func entry(_ url: String, status: Int, retry: Int?) -> String {
      let headers = retry.map { #"[{"name":"retry-after","value":"\#($0)"}]"# } ?? "[]"
      return #"{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"POST","url":"\#(url)"},"#
        + #""response":{"status":\#(status),"headers":\#(headers),"content":{"text":""}}}"#
    }
    func har(_ entries: [String]) -> [UInt8] {
      Array(#"{"log":{"entries":[\#(entries.joined(separator: ","))]}}"#.utf8)
    }
    // The first file is slow to read (many entries of other hosts), the second quick.
    let padding = (0..<30_000).map { _ in entry("https://example.com/x", status: 200, retry: nil) }
    try POSIXFiles.writeAtomically(
      har([entry("https://api.anthropic.com/v1/messages", status: 429, retry: 30)] + padding), to: dir + "/a.har")
    try POSIXFiles.writeAtomically(
      har([entry("https://api.anthropic.com/v1/messages", status: 429, retry: 5)]), to: dir + "/b.har")
    for jobs in [1, 2, 2] {
      let result = await analyze([dir + "/a.har", dir + "/b.har"], jobs: jobs)
      #expect(result.ledger.retryAfterSeconds == [30, 5], "--jobs \(jobs)")
    }
  }
}

@Suite("Copies found among many requests")
struct ManyCopiesTests {
  @Test("20,000 requests each read twice, out of order, and 500 more sharing only a message id")
  func manyCopies() {
    let n = 20_000
    func line(_ id: String, _ request: String, output: Int) -> String {
      #"{"type":"assistant","sessionId":"s","requestId":"\#(request)","timestamp":"2026-10-20T13:00:00Z","#
        + #""message":{"id":"\#(id)","model":"claude-opus-4-6","usage":{"input_tokens":1,"output_tokens":\#(output)}}}"#
    }
    var lines = (0..<n).map { line("msg_\($0)", "req_\($0)", output: $0 % 7 + 1) }
    // The second copies in another order (7,919 is prime to 20,000), each with the larger output.
    lines += (0..<n).map { k in line("msg_\(k * 7_919 % n)", "req_\(k * 7_919 % n)", output: 100) }
    // Same message id, another request id: requests of their own.
    lines += (0..<500).map { line("msg_\($0)", "other_\($0)", output: 1) }
    let priced = pricedTable([("many.jsonl", lines.joined(separator: "\n") + "\n")])
    // 20,000 requests of two copies each (output 100), 500 of one (output 1).
    #expect(priced.ledger.usageRecords == 2 * n + 500)
    #expect(priced.ledger.requests == n + 500)
    #expect(priced.ledger.duplicatesCollapsed == n)
    let outputs = priced.ordered().map(\.usage.output)
    #expect(outputs.reduce(0, +) == Int64(n) * 100 + 500)
    #expect(outputs.filter { $0 == 100 }.count == n)
  }
}

@Suite("Large read buffers")
struct ReadBufferTests {
  @Test("Asking for huge pages leaves a buffer's bytes as they are, whatever its size and alignment")
  func hugePages() {
    for (size, offset) in [(0, 0), (100, 3), (5 << 20, 4_097), (9 << 20, 1)] {
      var bytes = [UInt8](repeating: 0, count: size + offset)
      for k in bytes.indices { bytes[k] = UInt8(truncatingIfNeeded: k &* 31 &+ 7) }
      bytes.withUnsafeMutableBufferPointer { all in
        FileIngest.adviseHugePages(UnsafeMutableBufferPointer(rebasing: all[offset...]))
      }
      #expect(bytes.indices.allSatisfy { bytes[$0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }, "\(size)")
    }
  }

  @Test("The rest of a large document, read in stretches side by side: the file's bytes, the offset after them")
  func sideBySideRead() throws {
    let size = FileIngest.sideBySideMinimum + (3 << 20) + 12_345
    // A prime period: a stretch read to the wrong place shows.
    var bytes = (0..<251).map { UInt8($0) }
    while bytes.count < size { bytes += bytes }
    bytes.removeLast(bytes.count - size)
    let path = "/tmp/tokengap-side-by-side-\(WallClock.now().millisecondsSinceEpoch).bin"
    try POSIXFiles.writeAtomically(bytes, to: path)
    defer { unlink(path) }
    // (stretches, bytes read before with read(2), room past the file in
    // the buffer, where in the buffer the reading starts: not on a 2 MiB mark).
    let cases = [(2, 1_000, 0, 0), (3, 65_536, 4_097, 4_097), (7, 0, 1 << 22, 1), (2, size - 100, 50, 3)]
    for (pieces, skip, room, shift) in cases {
      let got = Self.readRest(path, skip: skip, room: room, shift: shift, pieces: pieces)
      // Below the minimum (the last case) one read(2) reads it all the same.
      #expect(got.before == skip)
      #expect(got.read == size - skip, "\(pieces) \(skip)")
      #expect(got.bytes == Array(bytes[skip...]), "\(pieces) \(skip)")
      #expect(got.untouched)
      #expect(got.offset == size)
      #expect(got.next == 0)
    }
  }

  /// Reads `skip` bytes of `path` with read(2), then the rest with
  /// ``FileIngest/readSideBySide(_:into:count:pieces:)`` at `shift` into a
  /// buffer with `room` bytes to spare: what each step read, the bytes, whether
  /// the room was left as it was, the offset after, and what read(2) reads next.
  static func readRest(_ path: String, skip: Int, room: Int, shift: Int, pieces: Int) -> (
    before: Int, read: Int, bytes: [UInt8], untouched: Bool, offset: Int, next: Int
  ) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return (-1, -1, [], false, -1, -1) }
    defer { close(fd) }
    var head = [UInt8](repeating: 0, count: max(skip, 1))
    let before = head.withUnsafeMutableBytes { raw in raw.baseAddress.map { Int(read(fd, $0, skip)) } ?? -1 }
    var buffer = [UInt8](repeating: 0xAA, count: shift + (Int(lseek(fd, 0, SEEK_END)) - skip) + room)
    _ = lseek(fd, off_t(skip), SEEK_SET)
    let count = buffer.count - shift
    let n = buffer.withUnsafeMutableBytes { raw in
      raw.baseAddress.map { FileIngest.readSideBySide(fd, into: $0 + shift, count: count, pieces: pieces) } ?? -1
    }
    let offset = Int(lseek(fd, 0, SEEK_CUR))
    var probe = [UInt8](repeating: 0, count: 1)
    let next = probe.withUnsafeMutableBytes { raw in raw.baseAddress.map { Int(read(fd, $0, 1)) } ?? -1 }
    guard n >= 0 else { return (before, n, [], false, offset, next) }
    return (
      before, n, Array(buffer[shift..<(shift + n)]),
      buffer[..<shift].allSatisfy { $0 == 0xAA } && buffer[(shift + n)...].allSatisfy { $0 == 0xAA }, offset, next
    )
  }
}
