import Compare
import EstimateModel
import Testing

@testable import tokengap

@Suite("Typed options: analyze, estimate, watch and statusline")
struct TypedOptionsTests {
  private func parsed(_ spec: CommandSpec, _ args: [String]) throws -> ParsedOptions {
    try parseOptions(args[...], spec, zone: .utc)
  }

  @Test("analyze reads its grouping, sorting, columns and rows once")
  func analyze() throws {
    let o = try AnalyzeCommand.Options(
      parsed(
        AnalyzeCommand.spec,
        [
          "x.jsonl", "--by", "day,model", "--sort", "cost", "--order", "asc", "--top", "5", "--columns",
          "requests", "--timezone", "UTC",
        ]))
    #expect(o.dimensions == [.day, .model])
    #expect(o.ordering?.0 == .cost && o.ordering?.1 == .asc)
    #expect(o.top == 5 && o.columns == ["requests"] && !o.wide)
    #expect(o.rows == nil && o.format == .table && o.inputs.paths == ["x.jsonl"])

    // The table of sessions: by last activity, 20 rows, unless told.
    let sessions = try AnalyzeCommand.Options(parsed(AnalyzeCommand.spec, []))
    #expect(sessions.dimensions == [.session] && sessions.top == 20)
    #expect(sessions.ordering?.0 == .time && sessions.ordering?.1 == .desc)

    let rows = try AnalyzeCommand.Options(
      parsed(AnalyzeCommand.spec, ["--by", "request", "-o", "rows.jsonl", "--source-label", "laptop"]))
    #expect(rows.rows == .jsonl && rows.sourceLabel == "laptop" && rows.path == "rows.jsonl")
  }

  @Test("estimate reads one request, or a limit and a hit rate")
  func estimate() throws {
    let o = try EstimateCommand.Options(
      parsed(
        EstimateCommand.spec,
        [
          "--model", "claude-opus-4-6", "--input", "1_000", "--cache-write-5m", "20", "--cache-read", "300",
          "--geo", "us", "--speed", "fast", "--batch", "--at", "2026-02-01", "--json",
        ]))
    guard case .gap(let r) = o.question else {
      Issue.record("expected one request")
      return
    }
    #expect(r.model == "claude-opus-4-6" && r.input == 1_000 && r.cacheWrite5m == 20 && r.cacheRead == 300)
    #expect(r.cacheWrite == nil && r.outputTokens == 0)
    #expect(r.geo == .us && r.speed == .fast && r.batch && r.day == CivilDay("2026-02-01"))
    #expect(o.format == .json)

    let t = try EstimateCommand.Options(
      parsed(EstimateCommand.spec, ["--itpm-limit", "2000000", "--cache-hit-rate", "0.75"]))
    guard case .throughput(let limit, let hit) = t.question else {
      Issue.record("expected a throughput question")
      return
    }
    #expect(limit == 2_000_000 && hit == Ratio(Int64(3), Int64(4)))
  }

  @Test("A wrong choice in estimate names the cases, as a sentence")
  func estimateChoices() async {
    let geo = await tokengap("estimate", "--model", "claude-opus-4-6", "--geo", "eu")
    #expect(geo.status == 64)
    #expect(firstLine(geo.err) == "tokengap: error: '--geo' must be one of us, global, not 'eu'")
    let speed = await tokengap("estimate", "--model", "claude-opus-4-6", "--speed", "fsat")
    #expect(
      firstLine(speed.err)
        == "tokengap: error: '--speed' must be one of fast, standard, not 'fsat'; did you mean 'fast'?")
  }

  @Test("watch reads its limit, interval and iterations once; two limits are a usage error")
  func watch() throws {
    let o = try WatchCommand.Options(
      parsed(WatchCommand.spec, ["tree", "--tier", "tier-2", "--interval", "0.5", "--iterations", "3"]))
    #expect(o.paths == ["tree"] && o.tier == "tier-2" && o.itpm == nil)
    #expect(o.interval == 0.5 && o.iterations == 3)
    #expect(throws: UsageError("give one of '--tier' or '--itpm', not both")) {
      try WatchCommand.Options(self.parsed(WatchCommand.spec, ["--tier", "tier-2", "--itpm", "5"]))
    }
    #expect(throws: UsageError("'--interval' takes seconds from 0 to 3600, not '-1'")) {
      try WatchCommand.Options(self.parsed(WatchCommand.spec, ["--interval=-1"]))
    }
  }

  @Test("statusline reads its limit and cache choice once")
  func statusline() throws {
    let o = try StatuslineCommand.Options(
      parsed(StatuslineCommand.spec, ["--itpm", "30000", "--cache-dir", "/tmp/x", "--no-cache"]))
    #expect(o.itpm == 30_000 && o.cacheDirectory == "/tmp/x" && o.noCache && o.catalogPath == nil)
    #expect(throws: UsageError("'--itpm' takes a positive whole number, not '0'")) {
      try StatuslineCommand.Options(self.parsed(StatuslineCommand.spec, ["--itpm", "0"]))
    }
  }
}

@Suite("Completions from the catalog")
struct CatalogCompletionsTests {
  /// The tiers of the built-in catalog, read by hand from
  /// datasets/catalog.json's rate_limits: numbered first, then the 2026 ones.
  static let tiers = ["tier-1", "tier-2", "tier-3", "tier-4", "start", "build", "scale"]

  @Test("--tier offers the catalog's tier names", arguments: ["bash", "zsh", "fish"])
  func tiers(_ shell: String) async {
    let r = await tokengap("completions", shell)
    #expect(r.status == 0)
    let list = Self.tiers.joined(separator: " ")
    let lines = r.out.split(separator: "\n").filter { $0.contains("tier") && $0.contains(list) }
    // simulate, chart, report and watch take --tier.
    switch shell {
    case "bash": #expect(lines.filter { $0.contains("--tier)") }.count == 4)
    case "zsh": #expect(lines.filter { $0.contains("'--tier[") && $0.contains(":name:(\(list))") }.count == 4)
    default: #expect(lines.filter { $0.contains("-l tier -r -f -a '\(list)'") }.count == 4)
    }
    // Every tier the catalog holds is offered, whatever its table.
    let catalog = CatalogLoader.embedded()
    for tier in catalog.rateLimitTables.flatMap(\.tiers) { #expect(Self.tiers.contains(tier)) }
  }

  @Test("estimate --model offers the catalog's model ids", arguments: ["bash", "zsh", "fish"])
  func models(_ shell: String) async {
    let r = await tokengap("completions", shell)
    let ids = CatalogLoader.embedded().models.map(\.id)
    #expect(ids.contains("claude-sonnet-4-5") && ids.contains("claude-3-haiku-20240307"))
    #expect(r.out.contains(ids.joined(separator: " ")))
  }

  @Test("completions has help, as 'help completions' and with -h or --help")
  func completionsHelp() async {
    let help = await tokengap("help", "completions")
    #expect(help.status == 0 && help.out.hasPrefix("OVERVIEW: Print a completion script for a shell."))
    #expect(help.out.contains("USAGE: tokengap completions bash|zsh|fish\n"))
    for flag in ["-h", "--help"] { #expect(await tokengap("completions", flag).out == help.out) }
  }

  @Test("A mistyped shell gets the nearest")
  func shellHint() async {
    let r = await tokengap("completions", "zhs")
    #expect(r.status == 64)
    #expect(
      r.err
        == "tokengap: error: 'completions' takes one shell: bash, zsh or fish (tokengap completions bash); did you mean 'zsh'?\n"
    )
  }
}
