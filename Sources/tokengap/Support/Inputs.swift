import Compare
import EstimateModel

/// The input options every data command shares, and the reading they drive.
enum Inputs {
  static let options: [OptionSpec] = [
    OptionSpec(
      name: "input-format", value: "format",
      help: "auto, jsonl, json, sse or capture (HAR, usage reports, paired captures, OpenTelemetry, Bedrock, OpenAI).",
      defaultText: "auto"),
    OptionSpec(name: "since", value: "time", help: "Keep records at or after this date or RFC 3339 time."),
    OptionSpec(name: "until", value: "time", help: "Keep records before this date or RFC 3339 time."),
    OptionSpec(name: "model", value: "text", help: "Keep models whose id contains this text."),
    OptionSpec(
      name: "at", value: "date", help: "Price records that carry no time as of this day.", defaultText: "today, UTC"),
    OptionSpec(
      name: "jobs", short: "j", value: "n", help: "Files read in parallel.", defaultText: "the number of cores"),
    OptionSpec(
      name: "accounting", value: "rule",
      help:
        "Whose rate-limit rule decides I: anthropic, bedrock (reads never count; output x burndown) or openai (cached tokens count).",
      defaultText: "anthropic"),
    OptionSpec(
      name: "max-line-mib", value: "n", help: "Longest line read; a longer one is reported and skipped.",
      defaultText: "64"),
    OptionSpec(
      name: "max-document-mib", value: "n", help: "Largest document (capture, pretty-printed JSON) read whole.",
      defaultText: "1024"),
    OptionSpec(name: "strict", help: "Exit 65 after the report when the ledger lists any problem."),
    OptionSpec(name: "quiet", short: "q", help: "Do not print the ledger on standard error."),
    Common.catalog,
  ]

  static let pathArgument = (
    "<path>",
    "Files or directories (read recursively), or - for standard input. Without a path: $CLAUDE_CONFIG_DIR's entries, else ~/.config/claude/projects and ~/.claude/projects."
  )

  /// What was read: the priced requests every command consumes.
  struct Loaded {
    var priced: PricedTable
    var files: [String]

    var catalog: ModelCatalog { priced.context.catalog }

    /// The de-duplicated requests, replays dropped, in a stable order.
    var requests: [PricedRequest] { priced.ordered() }

    /// The run as one group: its ledger is the whole run's.
    func total() -> AnalysisResult { priced.analysis(dimensions: [.total]) }

    /// The whole run's ledger (the one ``total()`` carries, without grouping).
    var ledger: Ledger { priced.ledger }
  }

  /// Finds and reads the inputs named by the options.
  static func load(_ o: ParsedOptions) async throws -> Loaded {
    let inputFormat = try o.choice("input-format", InputFormat.self, default: .auto)
    let since = try o.instant("since")
    let until = try o.instant("until")
    if let since, let until, since >= until {
      throw UsageError("'--since' (\(since)) must be before '--until' (\(until))")
    }
    let given = try o.instant("at")?.day
    let accounting = try o.choice("accounting", Accounting.self, default: .anthropic)
    var jobs = ParallelIngest.cores
    if let text = o.value("jobs") {
      guard let j = Int(text), j >= 1, j <= 256 else {
        throw UsageError("'--jobs' must be a whole number from 1 to 256, not '\(text)'")
      }
      jobs = j
    }
    let catalog = try Common.catalog(o)
    var paths = o.positionals
    if paths.isEmpty {
      paths = Discovery.defaultRoots()
      guard !paths.isEmpty else {
        throw CommandFailure(
          code: .noInput,
          message:
            "no path given and no Claude Code transcripts found ($CLAUDE_CONFIG_DIR, ~/.config/claude/projects, ~/.claude/projects); pass files or directories"
        )
      }
    }
    let found = Discovery.find(paths, modifiedSince: since)
    if let missing = found.missing.first {
      throw CommandFailure(code: .noInput, message: "no such file or directory '\(missing)'")
    }
    if let (path, reason) = found.unreadable.first {
      throw CommandFailure(code: .noInput, message: "cannot read '\(path)': \(reason)")
    }
    func mebibytes(_ name: String, _ fallback: Int) throws -> Int {
      guard let n = try o.count(name) else { return fallback }
      guard n >= 1, n <= 1 << 20 else { throw UsageError("'--\(name)' must be from 1 to 1048576") }
      return Int(n) << 20
    }
    let options = IngestOptions(
      format: inputFormat, since: since, until: until, modelFilter: o.value("model"),
      catalog: catalog,
      captureLimit: try mebibytes("max-document-mib", IngestOptions.defaultCaptureLimit),
      lineLimit: try mebibytes("max-line-mib", IngestOptions.defaultLineLimit))
    var analyzer = await ParallelIngest.run(found.files, options: options, jobs: jobs)
    var extra = FilePartial()
    extra.ledger.skippedFiles = found.skipped
    extra.ledger.filesSkipped = found.skipped.count
    extra.ledger.filesSkippedByTime = found.skippedByTime
    analyzer.add(extra)
    let context = PricingContext(
      catalog: catalog, pricingDay: given ?? WallClock.today(), accounting: accounting)
    return Loaded(priced: analyzer.priced(context), files: found.files)
  }

  /// Prints the ledger and decides the exit status after a report was written.
  static func finish(
    _ ledger: Ledger, _ o: ParsedOptions, usable: Bool, errors: inout any TextSink
  ) -> ExitCode {
    if !o.flag("quiet") { errors.write(AnalysisRenderer.ledgerText(ledger)) }
    if o.flag("strict") && ledger.hasProblems {
      errors.write(
        "tokengap: error: --strict: the ledger lists \(ledger.problems.count + ledger.skippedFiles.count) problems\n")
      return .data
    }
    if !usable {
      errors.write("tokengap: error: no usable usage record in the input\n")
      return .data
    }
    return .ok
  }
}
