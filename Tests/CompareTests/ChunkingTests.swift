import Compare
import Dispatch
import EstimateModel
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Large files split at line boundaries")
struct ChunkingTests {
  /// A ~20 MB transcript: 9,000 requests with two streaming copies each, a
  /// padded user line between them, and one broken line far past the first chunk.
  static let path: String = {
    let path = "/tmp/tokengap-chunking-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    var text = ""
    let pad = String(repeating: "x", count: 1000)
    var line = 0
    for k in 0..<9_000 {
      let id = "msg_\(k)"
      for (copy, out) in [(0, 1), (1, 10 + k % 7)] {
        text +=
          #"{"type":"assistant","sessionId":"s\#(k % 3)","timestamp":"2026-01-01T00:00:00.000Z","requestId":"req_\#(k)","message":{"id":"\#(id)","model":"claude-opus-4-6","usage":{"input_tokens":2,"cache_read_input_tokens":100,"output_tokens":\#(out)}},"stop_reason":\#(copy == 1 ? "\"end_turn\"" : "null")}"#
          + "\n"
        line += 1
      }
      text += #"{"type":"user","message":{"content":"\#(pad)"}}"# + "\n"
      line += 1
      if k == 6_000 {
        text += "{\"type\":\"user\",\"broken\n"
        line += 1
      }
    }
    _ = try? POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    return path
  }()

  @Test("Every record counted once, line numbers true across chunks, same for any --jobs")
  func chunked() async throws {
    let one = await analyze([Self.path], by: [.session], jobs: 1)
    let two = await analyze([Self.path], by: [.session], jobs: 2)
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(two))
    #expect(one.total.requests == 9_000)
    #expect(one.total.input == 18_000 && one.total.cacheRead == 900_000)
    // Σ (10 + k mod 7) over k < 9,000: 9,000 × 10 + (1,285 × 21 + (0+1+2+3+4))
    #expect(one.total.output == 90_000 + 1_285 * 21 + 10)
    #expect(one.ledger.files == 1)
    // The broken line follows request 6,000's user line: line 3 × 6,001 + 1.
    #expect(one.ledger.problems.map(\.line) == [18_004])
    #expect(linesAccountedFor(one.ledger) && one.ledger.lines == 27_001)
  }

  @Test("Bare stream events past the first 64 KB are never cut mid-stream")
  func streamsNotCut() async throws {
    // 100 KB of transcript lines, then 30,000 streams of six events each
    // (about 11 MB): an 8 MB cut lands inside a stream unless moved.
    let path = "/tmp/tokengap-chunk-streams-\(WallClock.now().millisecondsSinceEpoch).jsonl"
    var text = ""
    let pad = String(repeating: "y", count: 1000)
    for _ in 0..<100 { text += #"{"type":"user","message":{"content":"\#(pad)"}}"# + "\n" }
    let filler = String(repeating: "z", count: 200)
    for k in 0..<30_000 {
      text +=
        #"{"type":"message_start","message":{"id":"msg_\#(k)","model":"claude-opus-4-6","usage":{"input_tokens":3,"cache_read_input_tokens":40,"output_tokens":1}}}"#
        + "\n"
      text += #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"# + "\n"
      text += #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(filler)"}}"# + "\n"
      text += #"{"type":"content_block_stop","index":0}"# + "\n"
      text += #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":25}}"# + "\n"
      text += #"{"type":"message_stop"}"# + "\n"
    }
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    let result = await analyze([path], by: [.total], jobs: 2)
    #expect(result.total.requests == 30_000)
    // Every message_delta applied: 25 output tokens each, none left at 1.
    #expect(result.total.output == 30_000 * 25)
    #expect(result.total.estimate == 30_000 * 43 && result.total.itpm == 30_000 * 3)
    #expect(result.ledger.incompleteStreams == 0 && result.ledger.problems.isEmpty)
  }
}

@Suite("Bounded memory whatever one line holds")
struct LineCapTests {
  static func usage(_ id: String) -> String {
    #"{"type":"assistant","sessionId":"s","timestamp":"2026-10-20T13:00:00Z","message":{"id":"\#(id)","model":"claude-opus-4-6","usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}"#
  }

  func run(_ text: String, lineLimit: Int) async throws -> (FilePartial, String) {
    let path = "/tmp/tokengap-cap-\(WallClock.now().millisecondsSinceEpoch)-\(text.utf8.count).jsonl"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog, lineLimit: lineLimit))
    return (ingest.ingest(path), path)
  }

  @Test(
    "A line over the cap is reported by line number and skipped; the rest is read",
    arguments: [1 << 20, 20 << 20])  // a line within the read buffer, and one beyond it
  func overlongLine(_ size: Int) async throws {
    let huge = #"{"type":"user","a":""# + String(repeating: "x", count: size) + #""}"#
    let text = Self.usage("m1") + "\n" + huge + "\n" + Self.usage("m2") + "\n"
    let (p, path) = try await run(text, lineLimit: 1 << 19)
    #expect(p.requestCount == 2)
    #expect(p.ledger.lines == 3 && p.ledger.malformedLines == 1 && p.ledger.usageLines == 2)
    #expect(p.ledger.problems.map(\.line) == [2])
    #expect(p.ledger.problems.first?.file == path)
    #expect(p.ledger.problems.first?.kind == .lineTooLong)
    #expect(p.ledger.problems.first?.reason.contains("524288 bytes") == true)
  }
}

@Suite("Large rows files read in chunks side by side")
struct RowChunkingTests {
  /// One row: the columns a row is read from, and a padding column no
  /// reader knows (about 20 KB), so that 500 rows span two 8 MiB chunks.
  static func row(
    _ k: Int, schema: String = "tokengap.request/2", ids: Bool = true, line: Int? = nil
  ) -> String {
    let pad = String(repeating: "p", count: 20_000)
    let id = ids ? #""message_id":"msg_\#(k)","request_id":"req_\#(k)","# : ""
    return
      #"{"time":"2026-02-01T10:00:00.000Z","session":"s\#(k % 4)","project":"p","model":"claude-sonnet-4-5","#
      + id
      + #""input_tokens":\#(k),"output_tokens":1,"cache_read_tokens":100,"schema":"\#(schema)","#
      + #""file":"/src/a.jsonl","line":\#(line ?? k),"pad":"\#(pad)"}"# + "\n"
  }

  static func write(_ text: String, ext: String = "jsonl") throws -> String {
    let path = "/tmp/tokengap-row-chunks-\(UInt64.random(in: 0...UInt64.max)).\(ext)"
    try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
    return path
  }

  /// The file read whole, in one piece (as before rows were split).
  static func whole(_ path: String, text: String) -> AnalysisResult {
    var analyzer = Analyzer()
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: path))
    return analyzer.finish(dimensions: [.request], catalog: testCatalog, pricingDay: pricingDay)
  }

  @Test("Rows with ids: the chunks give the whole file's figures, for any --jobs")
  func withIDs() async throws {
    let text = (0..<500).map { Self.row($0) }.joined()
    let path = try Self.write(text)
    let one = await analyze([path], by: [.request], jobs: 1)
    let two = await analyze([path], by: [.request], jobs: 2)
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(two))
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(Self.whole(path, text: text)))
    // Σ k over k < 500, and 100 cache reads each.
    #expect(one.total.requests == 500 && one.total.input == 124_750 && one.total.cacheRead == 50_000)
    #expect(one.ledger.files == 1 && one.ledger.lines == 500 && one.ledger.problems.isEmpty)
  }

  @Test("Rows without ids from one source line on both sides of a cut: read whole, each row its own request")
  func withoutIDsAcrossTheCut() async throws {
    // Every row names the same source line: each is numbered in file order.
    let text = (0..<500).map { Self.row($0, ids: false, line: 7) }.joined()
    let path = try Self.write(text)
    let two = await analyze([path], by: [.request], jobs: 2)
    #expect(two.total.requests == 500 && two.total.input == 124_750)
    #expect(AnalysisRenderer.json(two) == AnalysisRenderer.json(Self.whole(path, text: text)))
  }

  @Test("A schema change past the first chunk is refused as in a file read whole, once")
  func schemaChangeAcrossTheCut() async throws {
    let text = (0..<500).map { Self.row($0, schema: $0 < 450 ? "tokengap.request/2" : "tokengap.request/1") }
      .joined()
    let path = try Self.write(text)
    let two = await analyze([path], by: [.request], jobs: 2)
    #expect(two.total.requests == 450)
    #expect(two.ledger.malformedLines == 50)
    #expect(two.ledger.problems.map(\.line) == [451])
    #expect(AnalysisRenderer.json(two) == AnalysisRenderer.json(Self.whole(path, text: text)))
  }
}

@Suite("Rows written as bytes")
struct RowBytesTests {
  @Test("A JSON string written as bytes is the text the String writer makes")
  func quoteMatchesTheStringWriter() {
    var cases = ["", "plain", "a\"b", "back\\slash", "tab\there", "line\nbreak\r", "\u{7F}del", "é ü 漢字 🙂"]
    cases += (0..<32).map { "x" + String(UnicodeScalar(UInt8($0))) + "y" }
    cases.append((0..<128).map { String(UnicodeScalar(UInt8($0))) }.joined())
    for s in cases {
      var text = ""
      JSONValue.quote(s, into: &text)
      var bytes: [UInt8] = []
      RequestRows.quote(s, into: &bytes)
      #expect(bytes == Array(text.utf8), "\(Array(s.utf8))")
    }
  }
}

@Suite("Large CSV rows files read in chunks side by side")
struct CSVRowChunkingTests {
  /// A CSV row: the row columns given, empty elsewhere, then a padding
  /// column no reader knows (about 20 KB), so that 500 rows span two chunks.
  static func row(_ k: Int, session: String) -> String {
    let given = [
      "time": "2026-02-01T10:00:00.000Z", "session": session, "project": "p", "model": "claude-sonnet-4-5",
      "message_id": "msg_\(k)", "request_id": "req_\(k)", "input_tokens": "\(k)", "output_tokens": "1",
      "cache_read_tokens": "100", "schema": "tokengap.request/2", "file": "/src/a.jsonl", "line": "\(k)",
    ]
    return (RequestRows.columns.map { given[$0] ?? "" } + [String(repeating: "p", count: 20_000)])
      .joined(separator: ",") + "\r\n"
  }

  static let header = (RequestRows.columns + ["pad"]).joined(separator: ",") + "\r\n"

  @Test("Quoted fields with commas and line breaks: the chunks give the whole file's figures")
  func quotedFields() async throws {
    // Every 7th session is quoted and holds a comma and a line break.
    let text =
      Self.header
      + (0..<500).map { Self.row($0, session: $0 % 7 == 0 ? "\"s,\n\($0)\"" : "s\($0 % 4)") }
      .joined()
    let path = try RowChunkingTests.write(text, ext: "csv")
    let one = await analyze([path], by: [.request], jobs: 1)
    let two = await analyze([path], by: [.request], jobs: 2)
    #expect(AnalysisRenderer.json(one) == AnalysisRenderer.json(two))
    #expect(AnalysisRenderer.json(two) == AnalysisRenderer.json(RowChunkingTests.whole(path, text: text)))
    #expect(two.total.requests == 500 && two.total.input == 124_750 && two.ledger.problems.isEmpty)
  }

  @Test("A stray quote that puts a cut inside a record: the file is read whole")
  func strayQuote() async throws {
    // Row 0's session holds a quote inside an unquoted cell (kept as it is);
    // counting quotes, the cut then falls in row 430's quoted line break.
    let text =
      Self.header
      + (0..<500).map { Self.row($0, session: $0 == 0 ? "a\"b" : $0 == 430 ? "\"m\nn\"" : "s") }.joined()
    let path = try RowChunkingTests.write(text, ext: "csv")
    let two = await analyze([path], by: [.request], jobs: 2)
    #expect(AnalysisRenderer.json(two) == AnalysisRenderer.json(RowChunkingTests.whole(path, text: text)))
    #expect(two.total.requests == 500 && two.total.input == 124_750 && two.ledger.problems.isEmpty)
  }

  /// A file's figures, read from bytes in memory, but for the byte count
  /// (a quoted cell is two bytes longer).
  static func read(_ bytes: [UInt8]) -> [Substring] {
    var analyzer = Analyzer()
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    analyzer.add(ingest.ingest(bytes: bytes, name: "rows.csv"))
    return AnalysisRenderer.json(analyzer.finish(dimensions: [.request], catalog: testCatalog, pricingDay: pricingDay))
      .split(separator: "\n").filter { !$0.contains("\"bytes\":") }
  }

  @Test("A record without quotes, read in place, reads as the same record with a quoted cell")
  func inPlaceMatchesQuoted() {
    let model = RequestRows.columns.firstIndex(of: "model") ?? 0
    func record(_ k: Int, quoted: Bool, _ change: (inout [[UInt8]]) -> Void = { _ in }) -> [UInt8] {
      var cells = Self.row(k, session: "s").dropLast(1).split(separator: ",", omittingEmptySubsequences: false)
        .map { Array($0.utf8) }
      change(&cells)
      if quoted { cells[model] = [0x22] + cells[model] + [0x22] }
      return Array(cells.joined(separator: [0x2C]))
    }
    let session = RequestRows.columns.firstIndex(of: "session") ?? 0
    let project = RequestRows.columns.firstIndex(of: "project") ?? 0
    let cases: [(String, (inout [[UInt8]]) -> Void, [UInt8])] = [
      ("CRLF", { _ in }, [0x0D, 0x0A]),
      ("LF", { _ in }, [0x0A]),
      ("a CR inside", { $0[session] += [0x0D, 0x61] }, [0x0A]),
      ("guarded", { $0[project] = Array("'-home-user-app".utf8) }, [0x0A]),
      ("fewer cells", { $0.removeLast(30) }, [0x0A]),
      ("more cells", { $0 += [Array("x".utf8), []] }, [0x0A]),
      ("trailing comma", { $0.append([]) }, [0x0A]),
      ("invalid UTF-8 in a row column", { $0[session] = [0x61, 0xFF] }, [0x0A]),
      ("invalid UTF-8 in the padding", { $0[$0.count - 1] = [0xC3] }, [0x0A]),
      ("UTF-8 text", { $0[session] = Array("sé漢".utf8) }, [0x0A]),
    ]
    for (name, change, end) in cases {
      let head = Array(Self.header.utf8)
      let plain = head + record(7, quoted: false, change) + end + record(8, quoted: false) + end
      let quoted = head + record(7, quoted: true, change) + end + record(8, quoted: true) + end
      #expect(Self.read(plain) == Self.read(quoted), "\(name)")
    }
  }
}

@Suite("Reading while the walk goes on")
struct FeedTests {
  @Test("Files handed over one at a time while a walk goes on are read as the finished list is, large files in chunks")
  func feedAsList() async throws {
    // The 20 MB transcript (cut in chunks) between shipped folders.
    let paths = [dataset("claude-code"), ChunkingTests.path, dataset("api-responses"), dataset("sse-streams")]
    let options = IngestOptions(catalog: testCatalog)
    let context = PricingContext(catalog: testCatalog, pricingDay: pricingDay)
    let found = Discovery.find(paths)
    let listed = await ParallelIngest.run(found.files, sizes: found.sizes, options: options, jobs: 2).priced(context)
    for pause: UInt32 in [0, 300] {
      let feed = ParallelIngest.Feed()
      // A walk on a thread of its own, slowed down: the run waits for files.
      DispatchQueue.global().async {
        _ = Discovery.find(paths, modifiedSince: nil) { path, size in
          if pause > 0 { usleep(pause) }
          feed.add(path, size: size)
        }
        feed.finish()
      }
      let fed = await ParallelIngest.run(feed: feed, options: options, jobs: 3).priced(context)
      #expect(fed.ledger == listed.ledger, "pause \(pause) µs")
      #expect(
        fed.ledger.files == found.files.count && fed.ledger.problems.map(\.line) == listed.ledger.problems.map(\.line))
      for dims: [Dimension] in [[.session], [.request]] {
        #expect(
          AnalysisRenderer.json(fed.analysis(dimensions: dims))
            == AnalysisRenderer.json(listed.analysis(dimensions: dims)))
      }
    }
    // The chunked file's 9,000 requests are among them.
    #expect(listed.ledger.requests > 9_000)
  }

  @Test("A run over a feed that ends without a file reads nothing")
  func emptyFeed() async {
    let feed = ParallelIngest.Feed()
    feed.finish()
    let analyzer = await ParallelIngest.run(feed: feed, options: IngestOptions(catalog: testCatalog), jobs: 2)
    #expect(analyzer.ledger.files == 0 && analyzer.table.count == 0)
  }
}
