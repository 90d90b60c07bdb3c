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
    OptionSpec(
      name: "limits", value: "file",
      help:
        "The organisation's own limits: a saved GET /v1/organizations/rate_limits response (one bucket per model_group)."
    ),
  ]

  /// The limits a replay runs against, and the rules that go with them.
  struct Limits {
    var label: String
    var lookup: @Sendable (String) -> RateLimits?
    /// The bucket a request is charged to (its pool, a long-context bucket,
    /// or the organisation's model group).
    var route: @Sendable (Arrival) -> String
    var rules: ReplayRules
    /// Where the rules come from, printed with the replay.
    var notes: [String]
    /// The limits rest on a third-party source (a table carried forward).
    var thirdParty = false

    /// The arrivals, each in the bucket it is charged to.
    func routed(_ arrivals: [Arrival]) -> [Arrival] {
      arrivals.map { a in
        var a = a
        a.pool = route(a)
        return a
      }
    }
  }

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

  /// The table whose OTPM rule applies on a day: the one in force, else the
  /// nearest in time.
  static func ruleTable(_ catalog: ModelCatalog, on day: CivilDay) -> RateLimitTable? {
    if let t = catalog.rateLimitTables(on: day).first { return t }
    func distance(_ t: RateLimitTable) -> Int64 {
      if let f = t.from, day < f { return f.daysSinceEpoch - day.daysSinceEpoch }
      if let u = t.until, day >= u { return day.daysSinceEpoch - u.daysSinceEpoch + 1 }
      return 0
    }
    return catalog.rateLimitTables.min { distance($0) < distance($1) }
  }

  /// The OTPM rule of a table, in words, with its source.
  static func outputNote(_ table: RateLimitTable) -> String {
    switch table.outputRule {
    case .maxTokens:
      "OTPM by the 2025 rule (table \(table.id), \(table.source)): max_tokens is charged when a request is sent "
        + "and settled to the real output when the response ends"
    case .realTime:
      "OTPM by the 2026 rule (table \(table.id), \(table.source)): evaluated in real time, max_tokens does not gate "
        + "admission; a request is admitted while the OTPM bucket is not in debt and its real output is charged "
        + "when the response ends"
    }
  }

  /// The limits per pool named by `--tier`, `--itpm/--otpm/--rpm` or
  /// `--limits`; nil when none was asked for.
  static func limits(
    _ o: ParsedOptions, catalog: ModelCatalog, firstDay: CivilDay?, lastDay: CivilDay? = nil, required: Bool
  ) throws -> Limits? {
    let explicit = [try o.count("itpm"), try o.count("otpm"), try o.count("rpm")]
    let kinds = [o.value("tier") != nil, explicit.contains { $0 != nil }, o.value("limits") != nil]
    guard kinds.filter({ $0 }).count <= 1 else {
      throw UsageError("give one of '--tier', '--itpm/--otpm/--rpm' or '--limits', not several")
    }
    let explicitDay = try o.instant("limits-at")?.day
    let day = explicitDay ?? firstDay ?? WallClock.today()
    // The days the table is applied to: the one named, or the traffic's.
    let days = explicitDay.map { [$0] } ?? [day] + (lastDay.map { [$0] } ?? [])
    /// Marks what rests on a third-party source: a table carried forward
    /// past a later table known only from third parties, and the gateway
    /// regime's rule.
    func thirdParty(_ table: RateLimitTable?, limits: Bool) -> [String] {
      var out: [String] = []
      if let table, let later = days.lazy.compactMap({ table.carriedForward(on: $0) }).first {
        out.append(
          "[3P] table \(table.id) is applied on or after \(later.from), when a later table is known only from "
            + "third-party copies (\(later.source)): its \(limits ? "limits and OTPM rule are" : "OTPM rule is") "
            + "carried forward, and every figure here rests on that")
      }
      out.append(
        "[3P] reserve_refund follows LiteLLM's ITPM/OTPM limiter as its issues describe it (LITELLM-2026, third-party)"
      )
      return out
    }
    func carried(_ table: RateLimitTable?) -> Bool {
      guard let table else { return false }
      return days.contains { table.carriedForward(on: $0) != nil }
    }
    func plain(_ label: String, _ lookup: @escaping @Sendable (String) -> RateLimits?, notes: [String] = [])
      -> Limits
    {
      let table = ruleTable(catalog, on: day)
      return Limits(
        label: label, lookup: lookup, route: { $0.pool }, rules: ReplayRules(output: table?.outputRule ?? .realTime),
        notes: notes + [table.map(outputNote) ?? "OTPM by the 2026 rule (no rate-limit table in the catalog)"]
          + thirdParty(table, limits: false), thirdParty: carried(table))
    }
    if let tier = o.value("tier") {
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
      var notes = [outputNote(table)] + thirdParty(table, limits: true)
      for long in table.longContext {
        guard let l = long.limits[tier] else { continue }
        notes.append(
          "\(long.bucketPool): \(long.models.joined(separator: ", ")) requests above \(Fmt.grouped(long.above)) "
            + "prompt tokens have their own bucket (\(long.source)): \(Fmt.grouped(l.inputTokensPerMinute)) ITPM / "
            + "\(Fmt.grouped(l.outputTokensPerMinute)) OTPM, and the ordinary row's \(Fmt.grouped(l.requestsPerMinute)) RPM "
            + "(the table gives no RPM for it)")
      }
      return Limits(
        label: label, lookup: { table.limits(pool: $0, tier: tier) },
        route: { table.bucket(pool: $0.pool, model: $0.model, prompt: $0.estimate, tier: tier) },
        rules: ReplayRules(output: table.outputRule), notes: notes, thirdParty: carried(table))
    }
    if let path = o.value("limits") {
      let org = try organizationLimits(path)
      // A model group's bucket is shared by every model it lists; a model
      // is matched by its catalog id or any alias.
      let route: @Sendable (Arrival) -> String = { a in
        let names = [a.model] + (catalog.resolve(a.model).entry.map { [$0.id] + $0.aliases } ?? [])
        return org.group(for: names).map { "model_group:" + $0.id } ?? a.pool
      }
      let byPool = Dictionary(org.groups.map { ("model_group:" + $0.id, $0.limits) }) { a, _ in a }
      let groups = org.groups.map { "model_group:\($0.id) (\($0.models.joined(separator: ", ")))" }
      var l = plain(
        "the organisation's limits from '\(path)' (GET /v1/organizations/rate_limits, RL-API-2026), "
          + Fmt.count(org.groups.count, "model group"),
        { byPool[$0] }, notes: groups)
      l.route = route
      return l
    }
    if explicit.contains(where: { $0 != nil }) {
      guard let itpm = explicit[0], let otpm = explicit[1], let rpm = explicit[2], itpm > 0, otpm > 0, rpm > 0 else {
        throw UsageError("'--itpm', '--otpm' and '--rpm' go together, each above 0")
      }
      let l = RateLimits(requestsPerMinute: rpm, inputTokensPerMinute: itpm, outputTokensPerMinute: otpm)
      return plain("explicit: \(rpm) RPM / \(itpm) ITPM / \(otpm) OTPM for every pool", { _ in l })
    }
    if required {
      throw UsageError(
        "name the limits: '--tier <name>', '--itpm <n> --otpm <n> --rpm <n>' or '--limits <rate_limits.json>'")
    }
    return nil
  }

  /// Reads `--limits`: 66 when the file cannot be read, 65 when it is not a
  /// rate_limits response.
  static func organizationLimits(_ path: String) throws -> OrganizationLimits {
    let bytes: [UInt8]
    do {
      bytes = try POSIXFiles.read(path, limit: 1 << 26)
    } catch {
      throw CommandFailure(code: .noInput, message: "cannot read limits \(error)")
    }
    do {
      return try OrganizationLimits.parse(bytes)
    } catch {
      throw CommandFailure(code: .data, message: "'\(path)': \(error)")
    }
  }
}

/// `tokengap simulate`: recorded traffic through the rate-limit token buckets.
enum SimulateCommand {
  static let spec = CommandSpec(
    name: "simulate",
    abstract: "Replay recorded traffic through the rate-limit buckets: server rule vs count_tokens pacing.",
    usage:
      "tokengap simulate [<path> ...] (--tier <name> | --itpm <n> --otpm <n> --rpm <n> | --limits <file>) [--format <format>] [--series <file>] [--minutes <file>]",
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
      Four regimes per model pool: 'server' paces on the cache-aware ITPM charge I,
      'count_tokens' paces on the estimate P (or the measured count_tokens value
      where the capture has one), 'unpaced' sends at the recorded times and counts
      the requests that would have received a 429, and 'reserve_refund' is a
      gateway (LiteLLM) that reserves P and max_tokens at send and settles to I and
      the real output when the response ends.

      OTPM follows the rule of the table in force: 2025 tables charge max_tokens at
      send and settle to the output at the end; from 2026-09 OTPM is evaluated in
      real time and max_tokens does not gate admission. max_tokens comes from HAR
      request bodies, else it is taken as the recorded output; a response's
      duration from HAR timings or OTel duration_ms, else 10 s. Each run prints
      the assumptions it made.
      """)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let input = try await Inputs.load(o)
    let (recorded, untimed) = Replay.arrivals(input.requests)
    guard
      let limits = try Replay.limits(
        o, catalog: input.catalog, firstDay: recorded.first?.time.day, lastDay: recorded.last?.time.day,
        required: true)
    else { throw UsageError("name the limits") }
    try Inputs.requireUsable(input.ledger.requests > 0, input, o, errors: &errors)
    try Inputs.requireUsable(
      !recorded.isEmpty, input, o, needs: ("'simulate' replays requests at their times", "with a time"), errors: &errors
    )
    let arrivals = limits.routed(recorded)
    let sim = Simulation.run(arrivals, limits: limits.lookup, rules: limits.rules, series: o.value("series") != nil)
    let ledger = input.ledger
    let report = SimulationReport(
      outcomes: sim.outcomes, minutes: MinuteSeries.build(arrivals), unlimitedPools: sim.unlimited,
      limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
      catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256, rules: limits.rules,
      notes: limits.notes, limitsThirdParty: limits.thirdParty)
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
