import Compare
import EstimateModel

/// The input options every data command shares, and the reading they drive.
enum Inputs {
  static let options: [OptionSpec] = [
    OptionSpec(name: "input-format", value: "format", InputFormat.self, defaultText: "auto"),
    OptionSpec(
      name: "since", value: "time",
      help:
        "Keep records at or after this time: a day (2026-01-01, 20260101, today, yesterday; midnight in --timezone where the command has it, else UTC), a span back from now (7d, 24h) or an RFC 3339 time."
    ),
    OptionSpec(name: "until", value: "time", help: "Keep records before this time, in the forms --since takes."),
    OptionSpec(
      name: "model", value: "text", help: "Keep models whose id contains this text.", catalogValues: .models),
    OptionSpec(
      name: "at", value: "date", help: "Price records that carry no time as of this day.", defaultText: "today, UTC"),
    OptionSpec(
      name: "jobs", short: "j", value: "n",
      help: "Threads a run uses: to read files, price, group and write.",
      defaultText: "the number of cores"),
    OptionSpec(
      name: "accounting", value: "rule", Accounting.self, lead: "Impose one rate-limit rule on every request: ",
      defaultText: "by source"),
    OptionSpec(
      name: "max-line-mib", value: "n", help: "Longest line read; a longer one is reported and skipped.",
      defaultText: "64"),
    OptionSpec(
      name: "max-document-mib", value: "n", help: "Largest document (capture, pretty-printed JSON) read whole.",
      defaultText: "1024"),
    OptionSpec(name: "strict", help: "Exit 65 after the report when the ledger lists any problem."),
    Common.quiet(),
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
    /// The paths read: those given, else the Claude Code roots found.
    var roots: [String]

    var catalog: ModelCatalog { priced.context.catalog }

    /// The de-duplicated requests, replays dropped, in a stable order.
    var requests: [PricedRequest] { priced.ordered() }

    /// The run as one group: its ledger is the whole run's.
    func total() -> AnalysisResult { priced.analysis(dimensions: [.total]) }

    /// The whole run's ledger (the one ``total()`` carries, without grouping).
    var ledger: Ledger { priced.ledger }
  }

  /// Finds and reads the inputs the options name.
  static func load(_ i: InputOptions) async throws -> Loaded {
    let paths = i.paths.isEmpty ? Discovery.defaultRoots() : i.paths
    // `--jobs 1` is one core throughout, not only for reading.
    ParallelIngest.limitThreads(i.jobs)
    // With more than one job the directory walk runs beside the catalog's
    // loading and the reading: each file is handed over as it is found, in
    // run order, and read while the walk goes on. With one, on one core,
    // it comes first. Errors keep their order (the catalog's and
    // `--model`'s come first).
    let feed = ParallelIngest.Feed()
    let (since, beside) = (i.since, i.jobs > 1)
    async let walk: Discovery? = {
      guard beside else { return nil }
      let found = Discovery.find(paths, modifiedSince: since) { path, size in feed.add(path, size: size) }
      feed.finish()
      return found
    }()
    // The reading needs the catalog only to match --model: the embedded one
    // then loads beside it (it cannot fail), else it comes first.
    let early = !beside || i.catalogPath != nil || i.model != nil
    async let embedded: ModelCatalog? = early ? nil : CatalogLoader.embedded()
    let catalog = early ? try Common.catalog(path: i.catalogPath) : Self.readingCatalog
    let modelFilter = try i.model.map { text throws(UsageError) in try Inputs.modelFilter(text, catalog) }
    guard !paths.isEmpty else {
      throw CommandFailure(
        code: .noInput,
        message:
          "no path given and no Claude Code transcripts found ($CLAUDE_CONFIG_DIR, ~/.config/claude/projects, ~/.claude/projects); pass files or directories"
      )
    }
    func check(_ found: Discovery) throws {
      if let missing = found.missing.first {
        throw CommandFailure(code: .noInput, message: "no such file or directory '\(missing)'")
      }
      if let (path, reason) = found.unreadable.first {
        throw CommandFailure(code: .noInput, message: "cannot read '\(path)': \(reason)")
      }
    }
    let options = IngestOptions(
      format: i.format, since: i.since, until: i.until, modelFilter: modelFilter, catalog: catalog,
      captureLimit: i.documentLimit, lineLimit: i.lineLimit)
    let display = ProgressLine(enabled: !i.quiet && isTerminal(2))
    var analyzer: Analyzer
    let found: Discovery
    if beside {
      analyzer = await ParallelIngest.run(feed: feed, options: options, jobs: i.jobs) { display.show($0) }
      found = await walk ?? Discovery()
      // A path that is missing or unreadable fails the run, read or not.
      try check(found)
    } else {
      found = Discovery.find(paths, modifiedSince: since)
      try check(found)
      analyzer = await ParallelIngest.run(found.files, sizes: found.sizes, options: options, jobs: 1) {
        display.show($0)
      }
    }
    display.clear()
    var extra = FilePartial()
    extra.ledger.skippedFiles = found.skipped
    extra.ledger.filesSkipped = found.skipped.count
    extra.ledger.filesSkippedByTime = found.skippedByTime
    extra.ledger.filesPassedOver = found.passedOver
    analyzer.add(extra)
    let context = PricingContext(
      catalog: await embedded ?? catalog, pricingDay: i.pricingDay ?? WallClock.today(), accounting: i.accounting)
    // Consumed: its key index is freed before the prices are stored.
    let loaded = Loaded(priced: (consume analyzer).priced(context), files: found.files, roots: paths)
    ExitKeep.process.hold(loaded.priced)
    return loaded
  }

  /// What the reading is given when it needs no catalog (no `--model`):
  /// nothing in it is looked at.
  private static let readingCatalog = ModelCatalog(
    version: "", sha256: "", models: [],
    modifiers: PriceModifiers(batch: .one, usGeo: .one, webSearch: .zero, source: ""), rateLimitTables: [],
    sources: [])

  /// The text `--model` keeps: the text as given when some catalog name
  /// holds it (`sonnet`, `opus-4`); a spelling the catalog resolves
  /// (`claude-sonnet-4.5`) as its id; a near miss of a catalog name is a
  /// usage error with the names meant. Anything else is kept as given:
  /// models outside the catalog (OpenAI's, say) are matched as logged.
  static func modelFilter(_ text: String, _ catalog: ModelCatalog) throws(UsageError) -> String {
    let lower = text.lowercased()
    let names = catalog.models.flatMap { [$0.id] + $0.aliases }
    if names.contains(where: { $0.contains(lower) }) { return text }
    if let entry = catalog.resolve(text).entry { return entry.id }
    let near = Suggestions.models(text, in: catalog)
    guard near.isEmpty else {
      throw UsageError("no model in the catalog contains '\(text)'" + Suggestions.modelHint(text, in: catalog))
    }
    return text
  }

  /// What a command reads, for the sentence that says none of it was there.
  static let expected =
    "Claude Code transcripts (*.jsonl), Messages API responses, SSE streams or captures (HAR, VCR cassettes, paired JSON, usage reports, OpenTelemetry) that carry token usage"

  /// Stops with one sentence, exit 65, when the run read nothing the command
  /// can use: what was looked at, and what was expected. No report is
  /// written; the ledger is printed first only when it lists a problem or a
  /// skipped file (it says why), and not under `-q`.
  ///
  /// - Parameter needs: The command's own requirement (`pairs`,
  ///   `simulate`), and how the requests read fall short of it; nil for
  ///   the general one.
  static func requireUsable(
    _ usable: Bool, _ input: Loaded, _ i: InputOptions, needs: (what: String, lacking: String)? = nil,
    errors: inout any TextSink
  ) throws {
    guard !usable else { return }
    let l = input.ledger
    if !i.quiet && l.hasProblems { errors.write(ledgerText(l, width: errors.columns)) }
    var looked: String
    switch i.paths.count {
    case 0: looked = "the Claude Code transcript folders"
    case 1: looked = i.paths[0] == "-" ? "standard input" : "'\(i.paths[0])'"
    default: looked = "the \(i.paths.count) paths given"
    }
    looked += " (\(Fmt.count(l.files, "file")), \(Fmt.count(l.lines, "line")) read)"
    var message: String
    if let needs {
      message = "\(needs.what); \(looked) held none"
      if l.requests > 0 { message += ": \(Fmt.count(l.requests, "request")), none \(needs.lacking)" }
      if l.countTokensCalls > 0 {
        message +=
          " (\(Fmt.count(l.countTokensCalls, "count_tokens call")), \(l.countTokensPaired) paired with a messages call)"
      }
    } else if l.filteredRecords > 0 || l.filesSkippedByTime > 0 {
      let filters = i.filters
      var out: [String] = []
      if l.filesSkippedByTime > 0 {
        out.append("\(Fmt.count(l.filesSkippedByTime, "file")) last modified before --since not read")
      }
      if l.filteredRecords > 0 { out.append("\(Fmt.count(l.filteredRecords, "record")) left out") }
      message =
        "nothing in \(looked) is inside \(filters.joined(separator: " and ")): \(out.joined(separator: ", ")), none kept"
    } else {
      message = "no usage record in \(looked); expected \(expected)"
    }
    if !l.filesPassedOver.isEmpty {
      let text = AnalysisRenderer.passedOverText(l.filesPassedOver)
      message += "; " + text.dropFirst("ledger: ".count).dropLast()
    }
    throw CommandFailure(code: .data, message: message)
  }

  /// The ledger's lines, wrapped at spaces to `width` when standard error
  /// is a terminal (or `COLUMNS` says), each line's rest indented under
  /// its text; whole lines elsewhere, for scripts that read them.
  static func ledgerText(_ l: Ledger, width: Int?) -> String {
    let text = AnalysisRenderer.ledgerText(l)
    guard let width else { return text }
    return FittedTable.wrap(text, width: width, indent: String(repeating: " ", count: "ledger: ".count))
  }

  /// Prints the ledger and decides the exit status after a report was written.
  static func finish(_ ledger: Ledger, _ i: InputOptions, usable: Bool, errors: inout any TextSink) -> ExitCode {
    finish(ledger, quiet: i.quiet, strict: i.strict, usable: usable, errors: &errors)
  }

  static func finish(
    _ ledger: Ledger, quiet: Bool, strict: Bool, usable: Bool, errors: inout any TextSink
  ) -> ExitCode {
    if !quiet { errors.write(ledgerText(ledger, width: errors.columns)) }
    if strict && ledger.hasProblems {
      errors.write(
        "tokengap: error: --strict: the ledger lists \(Fmt.count(ledger.problems.count + ledger.skippedFiles.count, "problem"))\n"
      )
      return .data
    }
    if !usable {
      errors.write("tokengap: error: no usable usage record in the input\n")
      return .data
    }
    return .ok
  }
}

/// A one-line progress display on standard error, for a terminal only:
/// shown once a run has taken half a second, redrawn at most ten times a
/// second, and cleared at the end, so nothing of it stays in the output.
final class ProgressLine {
  private let enabled: Bool
  private let start = WallClock.now().millisecondsSinceEpoch
  private var last: Int64 = 0
  private var shown = false

  init(enabled: Bool) { self.enabled = enabled }

  func show(_ p: ParallelIngest.Progress) {
    guard enabled else { return }
    let now = WallClock.now().millisecondsSinceEpoch
    guard now - start >= 500, now - last >= 100 || p.done == p.total else { return }
    last = now
    let seconds = Double(now - start) / 1000
    let mb = Double(p.bytes) / 1_048_576
    let rate = seconds > 0 ? Int(mb / seconds) : 0
    var err = FileDescriptorSink(fd: 2)
    err.write(
      "\r\u{1B}[Kreading \(p.total > 0 ? 100 * p.done / p.total : 100) % · \(Fmt.grouped(Int(mb))) MB · "
        + "\(Fmt.grouped(p.requests)) requests · \(Fmt.grouped(rate)) MB/s")
    shown = true
  }

  func clear() {
    guard shown else { return }
    var err = FileDescriptorSink(fd: 2)
    err.write("\r\u{1B}[K")
    shown = false
  }
}
