import Compare
import EstimateModel

/// Limits and arrivals shared by `simulate`, `chart` and `report`.
enum Replay {
  static let limitOptions: [OptionSpec] = [
    OptionSpec(
      name: "tier", value: "name",
      help: "Rate-limit tier from the catalog: tier-1 … tier-4 (2025), start, build, scale (from 2026-09).",
      catalogValues: .tiers),
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
    let names = tierNames(tiers)
    let when = day.map { " in force on \($0)" } ?? ""
    guard !names.isEmpty else { return "no rate-limit table\(when) lists tier '\(tier)', nor any tier" }
    return "no rate-limit table\(when) lists tier '\(tier)'; the tiers are \(names.joined(separator: ", "))"
      + Suggestions.hint(tier, names)
  }

  /// Tier names each once: the numbered tiers in order, then the others as
  /// the tables list them.
  static func tierNames(_ tiers: [String]) -> [String] {
    var seen = Set<String>()
    let unique = tiers.filter { seen.insert($0).inserted }
    return unique.filter { $0.hasPrefix("tier-") }.sorted() + unique.filter { !$0.hasPrefix("tier-") }
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
    _ o: LimitOptions, catalog: ModelCatalog, firstDay: CivilDay?, lastDay: CivilDay? = nil, required: Bool
  ) throws -> Limits? {
    let explicit = [o.itpm, o.otpm, o.rpm]
    let explicitDay = o.day
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
    if let tier = o.tier {
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
    if let path = o.file {
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
