import Compare
import EstimateModel

/// Limits and arrivals shared by `simulate`, `chart` and `report`.
enum Replay {
  static let limitOptions: [OptionSpec] = [
    OptionSpec(
      name: "tier", value: "name",
      help: "Rate-limit tier from the catalog: tier-1 … tier-4 (2025), start, build, scale (from 2026-09)."),
    OptionSpec(
      name: "limits-at", value: "date", help: "Day whose rate-limit table applies.",
      defaultText: "the day of the first request"),
    OptionSpec(
      name: "itpm", value: "n", help: "Explicit input tokens per minute (with --otpm and --rpm), for every pool."),
    OptionSpec(name: "otpm", value: "n", help: "Explicit output tokens per minute."),
    OptionSpec(name: "rpm", value: "n", help: "Explicit requests per minute."),
  ]

  /// `no rate-limit table lists tier 'x'`, the tiers there are, and the nearest.
  static func unknownTier(_ tier: String, in tiers: [String], on day: CivilDay?) -> String {
    var seen = Set<String>()
    // Numbered tiers in order, then the others as the tables list them.
    let unique = tiers.filter { seen.insert($0).inserted }
    let names = unique.filter { $0.hasPrefix("tier-") }.sorted() + unique.filter { !$0.hasPrefix("tier-") }
    let when = day.map { " in force on \($0)" } ?? ""
    guard !names.isEmpty else { return "no rate-limit table\(when) lists tier '\(tier)', nor any tier" }
    return "no rate-limit table\(when) lists tier '\(tier)'; the tiers are \(names.joined(separator: ", "))"
      + Suggestions.hint(tier, names)
  }

  /// The timed requests as arrivals, and how many had no time.
  static func arrivals(_ requests: [PricedRequest]) -> (arrivals: [Arrival], untimed: Int) {
    Arrival.of(requests)
  }

  /// The limits per pool named by `--tier` or `--itpm/--otpm/--rpm`; nil when none was asked for.
  static func limits(_ o: ParsedOptions, catalog: ModelCatalog, firstDay: CivilDay?, required: Bool)
    throws -> (label: String, lookup: @Sendable (String) -> RateLimits?)?
  {
    let explicit = [try o.count("itpm"), try o.count("otpm"), try o.count("rpm")]
    if let tier = o.value("tier") {
      guard explicit.allSatisfy({ $0 == nil }) else {
        throw UsageError("give either '--tier' or '--itpm/--otpm/--rpm', not both")
      }
      let explicitDay = try o.instant("limits-at")?.day
      let day = explicitDay ?? firstDay ?? WallClock.today()
      let table: RateLimitTable
      var label: String
      if explicitDay != nil {
        do {
          table = try catalog.rateLimitTable(tier: tier, on: day)
        } catch {
          let inForce = catalog.rateLimitTables.filter { $0.contains(day) }.flatMap(\.tiers)
          throw UsageError(unknownTier(tier, in: inForce, on: day))
        }
        label = "\(tier) of table \(table.id) (\(table.source)) in force on \(day)"
      } else {
        guard let nearest = catalog.nearestRateLimitTable(tier: tier, to: day) else {
          throw UsageError(unknownTier(tier, in: catalog.rateLimitTables.flatMap(\.tiers), on: nil))
        }
        table = nearest.table
        label =
          nearest.exact
          ? "\(tier) of table \(table.id) (\(table.source)) in force on \(day)"
          : "\(tier) of table \(table.id) (\(table.source)), the nearest to \(day), when no table with that tier was in force"
      }
      return (label, { table.limits(pool: $0, tier: tier) })
    }
    if explicit.contains(where: { $0 != nil }) {
      guard let itpm = explicit[0], let otpm = explicit[1], let rpm = explicit[2], itpm > 0, otpm > 0, rpm > 0 else {
        throw UsageError("'--itpm', '--otpm' and '--rpm' go together, each above 0")
      }
      let l = RateLimits(requestsPerMinute: rpm, inputTokensPerMinute: itpm, outputTokensPerMinute: otpm)
      return ("explicit: \(rpm) RPM / \(itpm) ITPM / \(otpm) OTPM for every pool", { _ in l })
    }
    if required { throw UsageError("name the limits: '--tier <name>' or '--itpm <n> --otpm <n> --rpm <n>'") }
    return nil
  }
}

/// `tokengap simulate`: recorded traffic through the rate-limit token buckets.
enum SimulateCommand {
  static let spec = CommandSpec(
    name: "simulate",
    abstract: "Replay recorded traffic through the rate-limit buckets: server rule vs count_tokens pacing.",
    usage:
      "tokengap simulate [<path> ...] (--tier <name> | --itpm <n> --otpm <n> --rpm <n>) [--format <format>] [--series <file>] [--minutes <file>]",
    arguments: [Inputs.pathArgument],
    options: Replay.limitOptions + [
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
      OptionSpec(
        name: "series", value: "file",
        help: "Write bucket levels over time as CSV (time,pool,regime,dimension,level,capacity)."),
      OptionSpec(name: "minutes", value: "file", help: "Write tokens per clock-aligned UTC minute as CSV."),
    ] + Inputs.options,
    discussion: """
      Three regimes per model pool: 'server' paces on the cache-aware ITPM charge I,
      'count_tokens' paces on the estimate P, 'unpaced' sends at the recorded times
      and counts the requests that would have received a 429.
      """)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let input = try await Inputs.load(o)
    let (arrivals, untimed) = Replay.arrivals(input.requests)
    guard let limits = try Replay.limits(o, catalog: input.catalog, firstDay: arrivals.first?.time.day, required: true)
    else { throw UsageError("name the limits") }
    try Inputs.requireUsable(input.ledger.requests > 0, input, o, errors: &errors)
    try Inputs.requireUsable(
      !arrivals.isEmpty, input, o, needs: ("'simulate' replays requests at their times", "with a time"), errors: &errors
    )
    let sim = Simulation.run(arrivals, limits: limits.lookup, series: o.value("series") != nil)
    let ledger = input.ledger
    let report = SimulationReport(
      outcomes: sim.outcomes, minutes: MinuteSeries.build(arrivals), unlimitedPools: sim.unlimited,
      limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
      catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256)
    if let path = o.value("series") {
      try Common.emit(SimulationRenderer.seriesCSV(sim.samples), to: path, inputs: input.files, output: &output)
    }
    if let path = o.value("minutes") {
      try Common.emit(SimulationRenderer.minutesCSV(report.minutes), to: path, inputs: input.files, output: &output)
    }
    try Common.emit(
      SimulationRenderer.render(report, format: format), to: o.value("output"), inputs: input.files,
      output: &output)
    return Inputs.finish(ledger, o, usable: !arrivals.isEmpty, errors: &errors)
  }
}

/// `tokengap cache`: rebuilds, unread writes and the 1-hour TTL's pay-off.
enum CacheCommand {
  static let spec = CommandSpec(
    name: "cache",
    abstract: "Explain the cache: hit rate over time, rebuilds after idle gaps, writes never read.",
    usage: "tokengap cache [<path> ...] [--by session|request] [--format <format>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(
        name: "by", value: "key",
        help: "session (a summary per session) or request (one row per request, in time order).",
        defaultText: "session",
        choices: CacheGrouping.allCases.map(\.rawValue)),
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
    ] + Inputs.options)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let by = try o.choice("by", CacheGrouping.self, default: .session)
    let input = try await Inputs.load(o)
    let analysis = CacheAnalysis.run(input.priced)
    try Inputs.requireUsable(!analysis.events.isEmpty, input, o, errors: &errors)
    let ledger = input.ledger
    let text: String
    switch (by, format) {
    case (.session, .table), (.session, .markdown):
      // For people: what caching did first, then the table with units.
      let markdown = format == .markdown
      let lines = CacheRenderer.headline(total: input.total().total, sessions: analysis.sessions)
      text =
        (markdown ? "# Cache by session\n\n" + lines.map { "- \($0)\n" }.joined() : lines.map { $0 + "\n" }.joined())
        + "\n" + CacheRenderer.sessionsTable(analysis.sessions, markdown: markdown)
    case (.request, _):
      text = CacheRenderer.events(analysis.events, format: format, catalog: input.catalog)
    case (.session, _):
      text = CacheRenderer.sessions(analysis.sessions, format: format, catalog: input.catalog)
    }
    try Common.emit(text, to: o.value("output"), inputs: input.files, output: &output)
    return Inputs.finish(ledger, o, usable: !analysis.events.isEmpty, errors: &errors)
  }
}

/// `cache --by`'s spellings.
enum CacheGrouping: String, CaseIterable {
  case session, request
}

/// `tokengap pairs`: captured count_tokens values beside the reconstructed estimate.
enum PairsCommand {
  static let spec = CommandSpec(
    name: "pairs",
    abstract: "Show captured count_tokens values and rate-limit headers beside P and I.",
    usage: "tokengap pairs [<path> ...] [--format <format>]",
    arguments: [Inputs.pathArgument],
    options: [
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
    ] + Inputs.options,
    discussion: """
      Reads HAR captures and paired JSON captures; each count_tokens call is paired
      with the messages call for the same prompt (same model, system, tools and
      messages by canonical hash; the nearest later call).
      """)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let input = try await Inputs.load(o)
    let rows = PairsRenderer.rows(input.requests)
    try Inputs.requireUsable(
      !rows.isEmpty, input, o,
      needs: (
        "'pairs' needs count_tokens calls captured with their messages calls: HAR files (with /v1/messages/count_tokens entries) or paired JSON captures (a line holding \"count_tokens\" and \"response\")",
        "with a captured count_tokens value"
      ), errors: &errors)
    let ledger = input.ledger
    try Common.emit(
      PairsRenderer.render(rows, ledger: ledger, format: format, catalog: input.catalog), to: o.value("output"),
      inputs: input.files, output: &output)
    return Inputs.finish(ledger, o, usable: !rows.isEmpty, errors: &errors)
  }
}
