import Compare
import EstimateModel
import Testing

@Suite("Empty and wrong inputs: one sentence, not a screen of zeros", .serialized)
struct EmptyInputTests {
  let expected =
    "expected Claude Code transcripts (*.jsonl), Messages API responses, SSE streams or captures (HAR, VCR cassettes, paired JSON, usage reports, OpenTelemetry) that carry token usage"

  @Test("Nothing usable: exit 65, nothing on standard output, one sentence naming the input and what was expected")
  func empty() async {
    let path = bad("empty.jsonl")
    let r = await tokengap("analyze", path)
    #expect(r.status == 65)
    #expect(r.out.isEmpty)
    #expect(r.err == "tokengap: error: no usage record in '\(path)' (1 file, 0 lines read); \(expected)\n")
    let dir = temporaryDirectory("empty-commands")
    for args in [
      ["analyze", "--json"], ["analyze", "--format", "csv"], ["cache"], ["simulate", "--tier", "tier-1"],
      ["chart", "--out", dir + "/charts"], ["report", "--out", dir + "/report.md"],
    ] {
      let c = await tokengap(args + [path, "-q"])
      #expect(c.status == 65, "\(args)")
      #expect(c.out.isEmpty, "\(args)")
      #expect(c.err.hasPrefix("tokengap: error: no usage record in '\(path)'"), "\(args)")
      #expect(!c.err.contains("undefined"), "\(args)")
    }
    #expect(POSIXFiles.list(dir)?.isEmpty == true, "nothing written")
  }

  @Test("Filters that keep nothing are named")
  func filteredOut() async {
    let r = await tokengap("analyze", bad("crlf.jsonl"), "--until", "2025-01-01", "--model", "opus")
    #expect(r.status == 65)
    #expect(
      r.err
        == "tokengap: error: nothing in '\(bad("crlf.jsonl"))' (1 file, 2 lines read) is inside --until and --model: 2 records left out, none kept\n"
    )
  }

  @Test("pairs without count_tokens captures says what it needs")
  func pairsNeeds() async {
    let data = root + "/datasets/claude-code"
    let r = await tokengap("pairs", data, "-q")
    #expect(r.status == 65)
    #expect(r.out.isEmpty)
    #expect(
      r.err
        == "tokengap: error: 'pairs' needs count_tokens calls captured with their messages calls: HAR files (with /v1/messages/count_tokens entries) or paired JSON captures (a line holding \"count_tokens\" and \"response\"); '\(data)' (15 files, 1843 lines read) held none: 534 requests, none with a captured count_tokens value\n"
    )
    let pairs = await tokengap("pairs", root + "/Tests/CompareTests/Fixtures/captures/pairs.jsonl", "-q")
    #expect(pairs.status == 0)
  }

  @Test("simulate without timed requests says it replays requests at their times")
  func simulateNeedsTimes() async {
    let responses = root + "/datasets/api-responses/vercel-ai"
    let r = await tokengap("simulate", responses, "--tier", "tier-1", "-q")
    #expect(r.status == 65)
    #expect(r.err.hasPrefix("tokengap: error: 'simulate' replays requests at their times; '\(responses)' ("))
    #expect(r.err.hasSuffix("held none: 10 requests, none with a time\n"))
  }

  @Test("Files passed over by name, and YAML that is no cassette, are counted in the ledger; not a problem")
  func passedOver() async throws {
    let dir = temporaryDirectory("passed-over")
    try POSIXFiles.writeAtomically(try POSIXFiles.read(bad("crlf.jsonl")), to: dir + "/good.jsonl")
    for name in ["a.yaml", "b.YML", "notes.md", "Makefile", "agent-1.meta.json"] {
      try POSIXFiles.writeAtomically(Array("x\n".utf8), to: dir + "/" + name)
    }
    let r = await tokengap("analyze", dir, "--strict", "--format", "csv")
    #expect(r.status == 0, "passed over is not a problem: \(r.err)")
    #expect(
      r.err.contains(
        "ledger: passed over by name (not JSON, JSON Lines, HAR, SSE, YAML or text): 1 file without an extension, 1 .md file\n"
      ))
    // YAML is read (issue 13, item 9): these two are no cassettes.
    #expect(r.err.contains("ledger: 2 text or YAML files passed over (not JSON, SSE or a cassette)\n"))
    let cassettes = await tokengap("analyze", root + "/datasets/count-tokens-pairs")
    #expect(cassettes.status == 0)
    #expect(cassettes.err.contains("ledger: 4 count_tokens calls, 4 paired with their messages call"))
    #expect(Discovery.find([dir]).passedOver == [".md": 1, "": 1])
  }

  @Test("report --out creates missing parent folders, as chart --out does")
  func reportParents() async throws {
    let out = temporaryDirectory("parents") + "/a/b/report.md"
    let r = await tokengap("report", root + "/datasets/claude-code/claude-code-viewer", "--out", out, "-q")
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out == "wrote \(out) and 10 files in \(String(out.dropLast(3)))-charts/\n")
    #expect(try POSIXFiles.read(out).starts(with: Array("# tokengap report".utf8)))
  }
}

@Suite("Plurals agree with their counts")
struct PluralTests {
  @Test("One request, one file, one pair: singular nouns and verbs")
  func singular() async throws {
    let dir = temporaryDirectory("plural")
    let line =
      #"{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","sessionId":"s","requestId":"r1","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":3,"cache_creation_input_tokens":5,"output_tokens":1}}}"#
    try POSIXFiles.writeAtomically(Array((line + "\n").utf8), to: dir + "/one.jsonl")
    let r = await tokengap("analyze", dir + "/one.jsonl", "--by", "total", "--at", "2026-11-01")
    #expect(r.status == 0)
    #expect(r.out.contains("(lower bound: 1 with writes of unknown TTL)"))
    #expect(
      r.err.hasPrefix("ledger: 1 file (0 skipped), 1 line, 1 record, 1 usage record (0 embedded copies) -> 1 request\n")
    )
    #expect(r.err.contains("ledger: 1 request has no copy with a stop_reason"))
    #expect(r.err.contains("ledger: 1 request wrote cache of unknown TTL"))
    let pairs = await tokengap("pairs", root + "/Tests/CompareTests/Fixtures/captures/pairs.jsonl", "-q")
    #expect(pairs.out.contains("\n1 paired request: count_tokens said 50000 tokens,"))
    let har = await tokengap("pairs", root + "/Tests/CompareTests/Fixtures/captures/capture.har", "-q")
    #expect(har.out.hasSuffix("1 response was HTTP 429.\n"))
    let sim = await tokengap("simulate", dir + "/one.jsonl", "--tier", "tier-1", "-q")
    #expect(sim.out.contains(" OTPM; 1 request at "))
  }

  @Test("Other counts keep their plural")
  func plural() {
    #expect(Fmt.count(0, "request") == "0 requests")
    #expect(Fmt.count(1, "request") == "1 request")
    #expect(Fmt.count(2, "embedded copy", "embedded copies") == "2 embedded copies")
    #expect(Fmt.count(Int128(1), "token") == "1 token")
  }
}

@Suite("Cache summary for people")
struct CacheHeadlineTests {
  @Test("The headline says what caching did, worked by hand; the table has units and a totals row")
  func headline() async throws {
    let dir = temporaryDirectory("cache-headline")
    // Claude Sonnet 4.5: input $3/MTok, 5-minute writes 1.25x, reads 0.1x.
    // r1: 100 input + 1,000 written (5 min): P = I = 1,100.
    // r2, a minute later: 100 input + 1,000 read: P = 1,100, I = 100.
    // Hit rate 1,000 / 2,200 = 45.45… %. Uncached: 2,200 x $3/M = $0.0066.
    // Billed: 200 x $3/M + 1,000 x $3.75/M + 1,000 x $0.30/M = $0.00465.
    // Saved $0.00195, shown to two significant digits below a cent: $0.0020
    // (trailing zero dropped: $0.002). Kept out of ITPM: 2,200 - 1,200 = 1,000.
    let lines = [
      #"{"type":"assistant","timestamp":"2026-01-01T00:00:00Z","sessionId":"s","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":100,"cache_creation_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":0},"cache_read_input_tokens":0,"output_tokens":1}}}"#,
      #"{"type":"assistant","timestamp":"2026-01-01T00:01:00Z","sessionId":"s","requestId":"r2","message":{"id":"m2","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000,"output_tokens":1}}}"#,
    ]
    try POSIXFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/s.jsonl")
    // --wide: the sentences unwrapped and the table in full.
    let r = await tokengap("cache", dir + "/s.jsonl", "-q", "--at", "2026-11-01", "--wide")
    #expect(r.status == 0, "\(r.err)")
    let expected = [
      // Both requests on 1 January, in the zone the tests pin (UTC).
      "period: 2026-01-01 (UTC)",
      "hit rate 45.5%: 1,000 of 2,200 prompt tokens read from cache, over 2 requests",
      "caching saved $0.002 of input cost against the same traffic uncached ($0.0066 -> $0.0047)",
      "caching kept 1,000 prompt tokens out of the ITPM charge (count_tokens counts them; the limit does not)",
      "rebuilds after idle gaps: none",
      "writes never read: 0 tokens",
      "1-hour writes: none",
      "",
    ]
    #expect(r.out.split(separator: "\n", omittingEmptySubsequences: false).prefix(8).map(String.init) == expected)
    #expect(r.out.contains("prompt tokens"))
    #expect(r.out.contains("45.5%"))
    // By default the sentences wrap at 100 columns and the table is compact.
    let compact = await tokengap("cache", dir + "/s.jsonl", "-q", "--at", "2026-11-01")
    #expect(compact.out.contains("the limit does\n  not)") && compact.out.contains("2.20K"))
    // CSV keeps its columns and plain values.
    let csv = await tokengap("cache", dir + "/s.jsonl", "-q", "--at", "2026-11-01", "--format", "csv")
    #expect(csv.out.contains("\r\ns,2,2200,1000,0.454545,0,0,0,0,0,0,0,0,\r\n"))
  }
}
