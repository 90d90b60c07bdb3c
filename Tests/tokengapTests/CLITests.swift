import Compare
import EstimateModel
import Testing

@testable import tokengap

/// Runs the tool in-process and captures its streams.
///
/// The local zone is pinned to UTC (the machine's own never shows in a test
/// or a notebook); `zone` gives another.
func tokengap(_ args: String...) async -> (status: Int32, out: String, err: String) {
  await tokengap(args)
}

func tokengap(_ args: [String], zone: TimeZoneRule = .utc) async -> (status: Int32, out: String, err: String) {
  var out: any TextSink = BufferSink()
  var err: any TextSink = BufferSink()
  let status = await Tokengap.run(args, zone: zone, output: &out, errors: &err)
  return (status, (out as? BufferSink)?.text ?? "", (err as? BufferSink)?.text ?? "")
}

let root: String = {
  var path = #filePath
  for _ in 0..<3 {
    while let last = path.last, last != "/" { path.removeLast() }
    path.removeLast()
  }
  return path
}()

@Suite("tokengap estimate")
struct EstimateCLITests {
  @Test("The docs' usage example, as JSON with the documented keys")
  func docsExample() async throws {
    let r = await tokengap(
      "estimate", "--model", "claude-sonnet-4-5-20250929", "--input", "2048", "--cache-read", "1800",
      "--cache-write-5m", "148", "--cache-write-1h", "100", "--output-tokens", "503",
      "--at", "2026-11-01", "--format", "json")
    #expect(r.status == 0)
    let doc = try JSONParser.parse(r.out)
    let keys = [
      "model", "price_period", "price_tier", "counts_cache_reads", "estimate_tokens",
      "itpm_tokens", "otpm_tokens", "overestimate_tokens", "overestimation_ratio",
      "excess_share", "cache_hit_rate", "input_cost_estimate_usd", "input_cost_actual_usd",
      "output_cost_usd", "cost_actual_usd", "input_cost_ratio", "lower_bound",
    ]
    for k in keys { #expect(doc[k] != nil, "\(k)") }
    #expect(doc["model"]?.string == "claude-sonnet-4-5")
    #expect(doc["estimate_tokens"] == .number("4096"))
    #expect(doc["itpm_tokens"] == .number("2296"))
    #expect(doc["input_cost_actual_usd"] == .number("0.007839"))
    #expect(doc["lower_bound"] == .bool(false))
    #expect(doc["catalog"]?["sha256"]?.string == CatalogLoader.embedded().sha256)
  }

  @Test("200K tokens might only consume 20K: ratio 10")
  func issue18726() async throws {
    let r = await tokengap(
      "estimate", "--model", "claude-opus-4-6", "--input", "20000", "--cache-read", "180000",
      "--at", "2026-11-01", "--format", "json")
    let doc = try JSONParser.parse(r.out)
    #expect(doc["overestimation_ratio"] == .number("10"))
    #expect(doc["excess_share"] == .number("0.9"))
  }

  @Test("2,000,000 ITPM at an 80 % hit rate admits 10,000,000 prompt tokens per minute")
  func throughput() async {
    let r = await tokengap("estimate", "--itpm-limit", "2000000", "--cache-hit-rate", "0.8")
    #expect(r.status == 0)
    #expect(r.out.contains("10000000 prompt tokens per minute"))
  }

  @Test("Undefined ratios are null in JSON")
  func nulls() async throws {
    let r = await tokengap(
      "estimate", "--model", "claude-opus-4-6", "--cache-read", "5", "--format", "json", "--at", "2026-11-01")
    let doc = try JSONParser.parse(r.out)
    #expect(doc["overestimation_ratio"] == .null)
  }

  @Test("A model named on the command line that the catalog does not know is a usage error")
  func unknownModel() async throws {
    let r = await tokengap("estimate", "--model", "gpt-5", "--input", "10", "--format", "json")
    #expect(r.status == 64)
    #expect(r.err.contains("not in the catalog"))
    #expect(r.out.isEmpty)
  }

  @Test(
    "Nonsense arguments exit 64 with a message",
    arguments: [
      ["estimate"], ["estimate", "--model"], ["estimate", "--model", "x", "--input", "-5"],
      ["estimate", "--model", "x", "--input", "ten"], ["estimate", "--model", "x", "--bogus"],
      ["estimate", "--model", "x", "--format", "xml"], ["estimate", "--model", "x", "--at", "yesterday"],
      ["estimate", "--model", "x", "--cache-write", "10", "--cache-write-5m", "20"],
      ["estimate", "--model", "x", "--input", "99999999999999999999"],
      ["estimate", "--model", "x", "--input", "9223372036854775807", "--cache-read", "1"],
      ["estimate", "--itpm-limit", "5", "--cache-hit-rate", "1.5"],
      ["frobnicate"], ["rules", "--at", "2026-02-30"], ["analyze", "--jobs", "0"],
    ])
  func usageErrors(_ args: [String]) async {
    let r = await tokengap(args)
    #expect(r.status == 64, "\(args)")
    #expect(r.err.hasPrefix("tokengap: error: "), "\(args)")
  }
}

@Suite("tokengap help, version, rules")
struct HelpTests {
  @Test("Help and version go to standard output and exit 0")
  func help() async {
    for args in [
      ["--help"], ["help"], [], ["help", "analyze"], ["analyze", "--help"], ["estimate", "-h"], ["--version"],
    ] {
      let r = await tokengap(args)
      #expect(r.status == 0, "\(args)")
      #expect(!r.out.isEmpty && r.err.isEmpty, "\(args)")
    }
    let r = await tokengap("help", "analyze")
    #expect(r.out.hasPrefix("OVERVIEW: "))
    #expect(r.out.contains("USAGE: tokengap analyze"))
    #expect(r.out.contains("  --by <keys>             Group by"))
  }

  @Test("rules prints the catalog as of a date, in every format")
  func rules() async throws {
    let csv = await tokengap("rules", "--at", "2026-10-06", "--format", "csv")
    #expect(csv.status == 0)
    let row = csv.out.split(separator: "\r\n").first { $0.hasPrefix("claude-sonnet-5-5,") }
    #expect(row?.contains(",0.2,") == true, "launch read price before 2026-10-07")
    let later = await tokengap("rules", "--at", "2026-10-07", "--format", "csv")
    #expect(later.out.split(separator: "\r\n").first { $0.hasPrefix("claude-sonnet-5-5,") }?.contains(",0.1,") == true)
    let json = await tokengap("rules", "--at", "2025-12-01", "--format", "json")
    let doc = try JSONParser.parse(json.out)
    #expect(doc["rate_limits"]?.array?.first?["id"]?.string == "tiers-2025-q4")
    let table = await tokengap("rules", "--at", "2025-03-01")
    #expect(table.out.contains("claude-3-7-sonnet-20250219"))
    #expect(table.out.contains("yes (†)"))
  }
}

@Suite("tokengap analyze")
struct AnalyzeCLITests {
  let data = root + "/datasets/claude-code"

  @Test("The README's first command works and writes a headline")
  func readme() async {
    let r = await tokengap("analyze", data)
    #expect(r.status == 0)
    #expect(r.out.hasPrefix("period                       2025-06-14 to 2026-02-13 (UTC)\nrequests "))
    #expect(r.err.contains("ledger: 15 files"))
  }

  @Test("Exit codes: 66 missing path, 65 nothing usable or --strict, 74 unwritable output")
  func exitCodes() async {
    #expect(await tokengap("analyze", "/no/such/path").status == 66)
    let fixtures = root + "/Tests/CompareTests/Fixtures/layouts"
    let lenient = await tokengap("analyze", fixtures, "-q")
    #expect(lenient.status == 0)
    let strict = await tokengap("analyze", fixtures, "--strict", "-q", "--format", "csv")
    #expect(strict.status == 65)
    #expect(!strict.out.isEmpty, "the report is written before the exit")
    #expect(await tokengap("analyze", fixtures, "-o", "/no/such/dir/out.csv").status == 74)
  }

  @Test("--output writes the file whole and refuses to overwrite an input")
  func output() async throws {
    let target = "/tmp/tokengap-test-\(WallClock.now().millisecondsSinceEpoch).csv"
    let r = await tokengap("analyze", data, "--format", "csv", "-o", target, "-q")
    #expect(r.status == 0 && r.out.isEmpty)
    let written = try POSIXFiles.read(target)
    #expect(String(decoding: written, as: UTF8.self).hasPrefix("session,project,requests,"))
    let input = root + "/Tests/CompareTests/Fixtures/layouts/responses/lines.jsonl"
    let over = await tokengap("analyze", input, "-o", input, "-q")
    #expect(over.status == 74)
    #expect(try POSIXFiles.read(input).count > 100, "input untouched")
  }

  @Test("Output is identical for any --jobs")
  func jobs() async {
    let one = await tokengap("analyze", data, "--by", "request", "--format", "json", "--jobs", "1", "-q")
    let four = await tokengap("analyze", data, "--by", "request", "--format", "json", "--jobs", "4", "-q")
    #expect(one.out == four.out)
  }

  @Test("CLAUDE_CONFIG_DIR-style roots: a config root or a projects folder")
  func defaultRoots() {
    let fixtures = root + "/Tests/CompareTests/Fixtures/layouts/v2.0-agent-files"
    let env: (String) -> String? = { $0 == "CLAUDE_CONFIG_DIR" ? "\(fixtures), \(fixtures)/projects,/missing" : nil }
    #expect(Discovery.defaultRoots(environment: env) == [fixtures + "/projects", fixtures + "/projects"])
    let home: (String) -> String? = { $0 == "HOME" ? "/nonexistent-home" : nil }
    #expect(Discovery.defaultRoots(environment: home).isEmpty)
  }
}

@Suite("Expected outputs shipped in datasets/expected")
struct ExpectedOutputTests {
  @Test(
    "The shipped data still gives the shipped expected outputs",
    arguments: [
      (["analyze", "datasets/claude-code", "--by", "session", "--format", "csv", "-q"], "claude-code-by-session.csv"),
      (
        ["analyze", "datasets/claude-code", "--by", "day,model", "--format", "csv", "-q"],
        "claude-code-by-day-model.csv"
      ),
      (
        [
          "analyze", "datasets/api-responses/vercel-ai", "--by", "request", "--format", "csv", "--at", "2026-11-01",
          "-q",
        ], "vercel-ai-by-request.csv"
      ),
    ])
  func expected(_ args: [String], _ file: String) async throws {
    let absolute = args.map { $0.hasPrefix("datasets/") ? root + "/" + $0 : $0 }
    let r = await tokengap(absolute)
    let want = String(decoding: try POSIXFiles.read(root + "/datasets/expected/" + file), as: UTF8.self)
    #expect(r.out == want, "run Scripts/regenerate-expected.sh and review the diff")
  }
}

@Suite("tokengap chart and report")
struct ChartCLITests {
  @Test("report writes a complete notebook with its charts beside it")
  func report() async throws {
    let out = "/tmp/tokengap-report-\(WallClock.now().millisecondsSinceEpoch).md"
    let r = await tokengap(
      "report", root + "/datasets/claude-code/claude-code-viewer", "--out", out, "--tier", "tier-1", "-q")
    #expect(r.status == 0)
    let md = String(decoding: try POSIXFiles.read(out), as: UTF8.self)
    // The answer first, then the charts, compact tables, the replay, the cache, the ledger.
    var at = md.startIndex
    for section in [
      "# tokengap report", "Reproduce:", "## The answer", "## Charts", "## Totals", "## Sessions that cost the most",
      "## Days that cost the most", "## Models", "## Rate limits", "## Cache", "## Ledger",
    ] {
      let found = md[at...].firstRange(of: section)
      #expect(found != nil, "\(section) in order")
      at = found?.upperBound ?? at
    }
    // SOURCES.md's sums for the three sessions: in 1,040, writes 198,421,
    // reads 4,075,332: P = 4,274,793, I = 199,461, P/I = 21.43, excess
    // 95.3 %. Claude Sonnet 4 at $3/MTok: uncached 4,274,793 x $3/M =
    // $12.82; billed 1,040 x 3 + 198,421 x 3.75 + 4,075,332 x 0.30 =
    // $1.97 (per million). Tier 1's replay: 14 of 15 busy minutes over the
    // limit by the estimate, 2 by the charge (as `simulate` prints).
    #expect(
      md.contains(
        "**count_tokens overstated ITPM use 21.43x** over 197 requests: 95.3% of the 4,274,793 prompt tokens it counts (4,075,332) did not count toward the ITPM limit."
      ))
    #expect(md.contains("would have put 14 of 15 busy minutes over the limit, where the real charge was over in 2."))
    #expect(md.contains("Caching cut the input bill from $12.82 (every prompt token at the input price) to $1.97."))
    let charts = String(out.dropLast(3)) + "-charts"
    for name in [
      "estimate_vs_itpm.svg", "ratio_histogram.svg", "cumulative_cost.svg", "bucket_levels.svg", "requests.csv",
      "bucket.csv", "sessions.csv", "days.csv", "models.csv",
    ] {
      #expect(md.contains("(\(charts.split(separator: "/").last ?? "")/\(name))"), "\(name) linked")
      #expect((try? POSIXFiles.read(charts + "/" + name))?.isEmpty == false, "\(name) written")
    }
  }

  @Test("chart without --out is a usage error; an unwritable directory is 74")
  func errors() async {
    #expect(await tokengap("chart", root + "/datasets/claude-code").status == 64)
    #expect(await tokengap("chart", root + "/datasets/claude-code", "--out", "/proc/no/such", "-q").status == 74)
  }
}

@Suite("Help layout")
struct HelpSnapshotTests {
  @Test(
    "Every command's help matches its reviewed snapshot",
    arguments: [
      "overview", "analyze", "simulate", "cache", "pairs", "chart", "report", "estimate", "rules", "statusline",
      "watch", "completions",
    ])
  func help(_ name: String) async throws {
    let r = name == "overview" ? await tokengap("--help") : await tokengap("help", name)
    let path = root + "/Tests/tokengapTests/Snapshots/help-\(name).txt"
    if POSIXFiles.environment("RECORD_SNAPSHOTS") == "1" {
      try POSIXFiles.writeAtomically(Array(r.out.utf8), to: path)
      Issue.record("recorded \(path)")
      return
    }
    #expect(r.out == String(decoding: try POSIXFiles.read(path), as: UTF8.self))
    // swift-argument-parser's layout: descriptions start at column 26, on the
    // option's line or, after a long option, on the next.
    let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for (k, line) in lines.enumerated() where line.hasPrefix("  -") {
      let c = Array(line)
      let inline = c.count > 26 && c[24] == " " && c[25] == " " && c[26] != " "
      let next = k + 1 < lines.count ? Array(lines[k + 1]) : []
      let below = next.count > 26 && next[0..<26].allSatisfy { $0 == " " } && next[26] != " "
      #expect(inline || below, "\(line)")
    }
  }
}
