import Compare
import EstimateModel

/// `tokengap analyze`: the gap over recorded usage, grouped.
enum AnalyzeCommand {
  static let spec = CommandSpec(
    name: "analyze",
    abstract: "Measure the gap over recorded usage: transcripts and API responses.",
    usage: "tokengap analyze [<path> ...] [--by <keys>] [--format <format>] [--output <file>] [options]",
    arguments: [
      ("<path>", "Files or directories (read recursively), or - for standard input. Without a path: $CLAUDE_CONFIG_DIR's entries, else ~/.config/claude/projects and ~/.claude/projects.")
    ],
    options: [
      OptionSpec(name: "by", value: "keys", help: "Group by request, session, project, day, hour, minute, model or total; combine with commas (day,model).", defaultText: "session"),
      OptionSpec(name: "format", value: "format", help: "table, json, csv or md.", defaultText: "table"),
      OptionSpec(name: "output", short: "o", value: "file", help: "Write to this file (whole, or not at all) instead of standard output."),
      OptionSpec(name: "input-format", value: "format", help: "auto, jsonl or json.", defaultText: "auto"),
      OptionSpec(name: "since", value: "time", help: "Keep records at or after this date or RFC 3339 time."),
      OptionSpec(name: "until", value: "time", help: "Keep records before this date or RFC 3339 time."),
      OptionSpec(name: "model", value: "text", help: "Keep models whose id contains this text."),
      OptionSpec(name: "timezone", value: "zone", help: "IANA zone (or +HH:MM) for day, hour and minute keys.", defaultText: "UTC"),
      OptionSpec(name: "at", value: "date", help: "Price records that carry no time as of this day.", defaultText: "today, UTC"),
      OptionSpec(name: "jobs", short: "j", value: "n", help: "Files read in parallel.", defaultText: "the number of cores"),
      OptionSpec(name: "strict", help: "Exit 65 after the report when the ledger lists any problem."),
      OptionSpec(name: "quiet", short: "q", help: "Do not print the ledger on standard error."),
      Common.catalog,
    ],
    discussion: """
      Every request's estimate P (what count_tokens returns: input + cache writes +
      cache reads) is set against I, what counted toward the ITPM rate limit, and
      against the bill. Aggregates are ratios of sums; p50/p90/p99/max are exact.
      """)

  static func parseGrouping(_ text: String) throws(UsageError) -> [Dimension] {
    var dims: [Dimension] = []
    for part in text.split(separator: ",") {
      guard let d = Dimension(rawValue: String(part).trimmingCharacters()) else {
        throw UsageError("'--by' takes request, session, project, day, hour, minute, model or total, not '\(part)'")
      }
      guard !dims.contains(d) else { throw UsageError("'--by' names '\(d.rawValue)' twice") }
      dims.append(d)
    }
    guard !dims.isEmpty else { throw UsageError("'--by' needs at least one key") }
    if dims.contains(.total) && dims.count > 1 { throw UsageError("'--by total' does not combine") }
    return dims
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let dims = try parseGrouping(o.value("by") ?? "session")
    let format = try o.choice("format", OutputFormat.self, default: .table)
    let inputFormat = try o.choice("input-format", InputFormat.self, default: .auto)
    let since = try o.instant("since")
    let until = try o.instant("until")
    let pricingDay = try o.instant("at")?.day ?? Clock.today()
    var jobs = ParallelIngest.cores
    if let j = try o.count("jobs") {
      guard j >= 1, j <= 256 else { throw UsageError("'--jobs' must be from 1 to 256") }
      jobs = Int(j)
    }
    let zone: TimeZoneRule
    do {
      zone = try TimeZoneRule.named(o.value("timezone") ?? "UTC")
    } catch {
      throw UsageError("\(error)")
    }
    let catalog = try Common.catalog(o)

    var paths = o.positionals
    if paths.isEmpty {
      paths = Discovery.defaultRoots()
      guard !paths.isEmpty else {
        throw CommandFailure(
          code: .noInput,
          message: "no path given and no Claude Code transcripts found ($CLAUDE_CONFIG_DIR, ~/.config/claude/projects, ~/.claude/projects); pass files or directories")
      }
    }
    let found = Discovery.find(paths, modifiedSince: since)
    if let missing = found.missing.first {
      throw CommandFailure(code: .noInput, message: "no such file or directory '\(missing)'")
    }
    let options = IngestOptions(
      format: inputFormat, since: since, until: until, modelFilter: o.value("model"),
      catalog: catalog)
    var analyzer = await ParallelIngest.run(found.files, options: options, jobs: jobs)
    var extra = FilePartial()
    extra.ledger.skippedFiles = found.skipped
    extra.ledger.filesSkipped = found.skipped.count
    extra.ledger.filesSkippedByTime = found.skippedByTime
    analyzer.add(extra)
    let result = analyzer.finish(
      dimensions: dims, catalog: catalog, timeZone: zone, pricingDay: pricingDay)
    try Common.emit(
      AnalysisRenderer.render(result, format: format), to: o.value("output"),
      inputs: found.files, output: &output)
    if !o.flag("quiet") { errors.write(AnalysisRenderer.ledgerText(result.ledger)) }
    if o.flag("strict") && result.ledger.hasProblems {
      errors.write("tokengap: error: --strict: the ledger lists \(result.ledger.problems.count + result.ledger.skippedFiles.count) problems\n")
      return .data
    }
    if result.ledger.requests == 0 {
      errors.write("tokengap: error: no usable usage record in the input\n")
      return .data
    }
    return .ok
  }
}

extension String {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
