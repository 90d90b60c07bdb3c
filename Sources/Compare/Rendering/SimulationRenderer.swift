import Dispatch
public import EstimateModel
import Synchronization

/// What `tokengap simulate` reports.
public struct SimulationReport: Sendable {
  public var outcomes: [RegimeOutcome]
  public var minutes: [MinuteRow]
  public var unlimitedPools: [String: Int]
  public var limitsLabel: String
  public var requestsWithoutTime: Int
  public var ledger: Ledger
  public var catalogVersion: String
  public var catalogSHA256: String
  /// The rules the replay applied (OTPM rule, default response duration).
  public var rules: ReplayRules
  /// Where the limits and rules come from, beyond the label.
  public var notes: [String]
  /// The limits (and OTPM rule) rest on a third-party source: a table
  /// carried forward past a later one known only from third parties.
  public var limitsThirdParty: Bool
  /// The zone times are shown in (the replay itself works on instants).
  public var timeZone: TimeZoneRule

  public init(
    outcomes: [RegimeOutcome], minutes: [MinuteRow], unlimitedPools: [String: Int],
    limitsLabel: String, requestsWithoutTime: Int, ledger: Ledger, catalogVersion: String,
    catalogSHA256: String, rules: ReplayRules = ReplayRules(), notes: [String] = [],
    limitsThirdParty: Bool = false, timeZone: TimeZoneRule = .utc
  ) {
    self.timeZone = timeZone
    self.limitsThirdParty = limitsThirdParty
    self.rules = rules
    self.notes = notes
    self.outcomes = outcomes
    self.minutes = minutes
    self.unlimitedPools = unlimitedPools
    self.limitsLabel = limitsLabel
    self.requestsWithoutTime = requestsWithoutTime
    self.ledger = ledger
    self.catalogVersion = catalogVersion
    self.catalogSHA256 = catalogSHA256
  }

  /// What the replay assumed, in sentences: the rules' sources, then each
  /// value a capture did not carry and what stood in for it.
  public var assumptions: [String] {
    var lines = notes
    let gateway = outcomes.filter { $0.regime == .reserveRefund }
    let requests = gateway.reduce(0) { $0 + $1.requests }
    guard requests > 0 else { return lines }
    let noMax = gateway.reduce(0) { $0 + $1.maxTokensAssumed }
    if noMax > 0 {
      lines.append(
        "max_tokens: not captured for \(noMax) of \(requests) requests, taken as the recorded output "
          + "(the least a client could have asked for, so OTPM waits where max_tokens is reserved are a lower bound)")
    }
    let noDuration = gateway.reduce(0) { $0 + $1.durationAssumed }
    if noDuration > 0 {
      lines.append(
        "response duration: not captured for \(noDuration) of \(requests) requests, taken as "
          + "\(Fmt.duration(ms: rules.defaultDurationMs)) (when a settlement falls due)")
    }
    let measured = gateway.reduce(0) { $0 + $1.measuredUsed }
    lines.append(
      measured > 0
        ? "count_tokens: the measured value paces \(measured) of \(requests) requests, the reconstructed P the rest"
        : "count_tokens: no measured value in the capture; pacing uses the reconstructed P")
    return lines
  }

  /// The days replayed, from the first minute with traffic to the last, in
  /// the report's zone; nil without a timed request.
  public var period: String? {
    guard let first = minutes.first?.minute, let last = minutes.last?.minute else { return nil }
    return AnalysisRenderer.period(first, last, timeZone)
  }

  /// The pools simulated, in order.
  public var pools: [String] {
    var seen: [String] = []
    for o in outcomes where !seen.contains(o.pool) { seen.append(o.pool) }
    return seen
  }

  public func outcome(_ pool: String, _ regime: Regime) -> RegimeOutcome? {
    outcomes.first { $0.pool == pool && $0.regime == regime }
  }

  /// count_tokens pacing's makespan over the server rule's.
  public func slowdown(_ pool: String) -> Ratio? {
    guard let s = outcome(pool, .server), let c = outcome(pool, .countTokens) else { return nil }
    return Ratio(c.makespanMs, s.makespanMs)
  }

  /// Prompt tokens per minute under the server rule over those under count_tokens pacing.
  public func throughputMultiple(_ pool: String) -> Ratio? {
    guard let s = outcome(pool, .server)?.achievedPromptPerMinute,
      let c = outcome(pool, .countTokens)?.achievedPromptPerMinute
    else { return nil }
    return Ratio(s.numerator * c.denominator, s.denominator * c.numerator)
  }

  /// WallClock minutes whose tokens exceed the pool's ITPM limit: by count_tokens' estimate, and by the ITPM charge.
  public func minutesOverLimit(_ pool: String) -> (byEstimate: Int, byITPM: Int, minutes: Int)? {
    guard let limit = outcome(pool, .server)?.limits.inputTokensPerMinute else { return nil }
    let rows = minutes.filter { $0.pool == pool }
    return (
      rows.filter { $0.estimate > Int128(limit) }.count, rows.filter { $0.itpm > Int128(limit) }.count, rows.count
    )
  }

  /// The minute with the most ITPM tokens, per pool.
  public func peakMinute(_ pool: String) -> MinuteRow? {
    minutes.filter { $0.pool == pool }.max { ($0.itpm, $1.minute) < ($1.itpm, $0.minute) }
  }
}

/// Renders simulation reports.
public enum SimulationRenderer {
  public static let csvColumns = [
    "pool", "regime", "rpm_limit", "itpm_limit", "otpm_limit", "requests", "sent",
    "delayed_requests", "total_wait_s", "p90_wait_s", "max_wait_s", "rejected_429", "never_fit",
    "start", "finish", "makespan_s", "prompt_tokens", "achieved_prompt_tokens_per_minute",
    "otpm_rule", "max_tokens_assumed", "duration_assumed", "measured_count_tokens_used", "third_party",
  ]

  public static let minuteColumns = [
    "minute", "pool", "requests", "estimate_tokens", "itpm_tokens", "output_tokens",
  ]

  public static let seriesColumns = ["time", "pool", "regime", "dimension", "level", "capacity"]

  static func seconds(_ ms: Int64) -> String { Ratio(Int128(ms), 1000).map { $0.formatted(decimals: 3) } ?? "0" }

  /// Whether a regime's figures rest on a third-party source: the limits
  /// (a table carried forward), or the gateway's rule (LiteLLM's).
  static func thirdParty(_ r: SimulationReport, _ o: RegimeOutcome) -> Bool {
    r.limitsThirdParty || o.regime == .reserveRefund
  }

  static func cells(_ o: RegimeOutcome, thirdParty: Bool, zone: TimeZoneRule) -> [String] {
    [
      o.pool, o.regime.rawValue, String(o.limits.requestsPerMinute),
      String(o.limits.inputTokensPerMinute), String(o.limits.outputTokensPerMinute),
      String(o.requests), String(o.sent), String(o.delayed), seconds(o.totalWaitMs),
      seconds(o.p90WaitMs), seconds(o.maxWaitMs), String(o.rejected), String(o.neverFit),
      LocalTime.format(o.start, zone, .millisecond), LocalTime.format(o.finish, zone, .millisecond),
      seconds(o.makespanMs), String(o.promptTokens),
      o.achievedPromptPerMinute?.formatted(decimals: 1) ?? "", o.outputRule.rawValue,
      String(o.maxTokensAssumed), String(o.durationAssumed), String(o.measuredUsed), thirdParty ? "true" : "false",
    ]
  }

  /// The replay in a format. With a `width`, the table's sentences wrap at
  /// it and each regime table is fitted to it (prompt tokens per minute as
  /// `P/min` in K/M, the p90 wait going first); without, the lines are as
  /// long as they are.
  public static func render(_ r: SimulationReport, format: OutputFormat, width: Int? = nil) -> String {
    switch format {
    case .csv:
      var w = CSVWriter(header: csvColumns)
      for o in r.outcomes { w.row(cells(o, thirdParty: thirdParty(r, o), zone: r.timeZone)) }
      return w.text
    case .json: return json(r)
    case .table: return table(r, markdown: false, width: width)
    case .markdown: return table(r, markdown: true)
    }
  }

  /// Tokens per minute and pool; each minute labelled in `timeZone`, with
  /// its offset (the minutes are the same instants in every zone).
  public static func minutesCSV(_ rows: [MinuteRow], timeZone: TimeZoneRule = .utc) -> String {
    var bytes = Array(CSVWriter(header: minuteColumns).text.utf8)
    bytes.reserveCapacity(bytes.count + rows.count * 64)
    for m in rows {
      CSVWriter.appendCell(LocalTime.format(m.minute, timeZone, .minute), to: &bytes)
      bytes.append(0x2C)
      CSVWriter.appendCell(m.pool, to: &bytes)
      for v in [Int128(m.requests), m.estimate, m.itpm, m.output] {
        bytes.append(0x2C)
        CSVWriter.appendInteger(v, to: &bytes)
      }
      bytes.append(0x0D)
      bytes.append(0x0A)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  public static func seriesCSV(_ samples: [BucketSample], timeZone: TimeZoneRule = .utc) -> String {
    seriesCSVParts(samples, timeZone: timeZone).joined()
  }

  /// ``seriesCSV(_:)`` in parts, in order (the header, then slices of rows
  /// formatted side by side): a sample after every send of every regime is
  /// the largest file a chart run writes.
  package static func seriesCSVParts(_ samples: [BucketSample], timeZone: TimeZoneRule = .utc) -> [String] {
    let utc = timeZone.name == TimeZoneRule.utc.name
    let header = CSVWriter(header: seriesColumns).text
    return [header]
      + TextSlices.make(count: samples.count, minimum: 4096) { range in
        var text = ""
        // The few distinct text cells are escaped once, not once a row.
        var escaped: [String: String] = [:]
        func cell(_ s: String) -> String {
          if let e = escaped[s] { return e }
          let e = CSVWriter.cell(s)
          escaped[s] = e
          return e
        }
        text.reserveCapacity(range.count * 64)
        for s in samples[range] {
          text += utc ? s.time.description : LocalTime.format(s.time, timeZone, .millisecond)
          text += ","
          text += cell(s.pool)
          text += ","
          text += cell(s.regime.rawValue)
          text += ","
          text += cell(s.dimension)
          text += ","
          text += CSVWriter.cell(s.level.formatted(decimals: 3))
          text += ","
          text += String(s.capacity)
          text += "\r\n"
        }
        return text
      }
  }

  static func json(_ r: SimulationReport) -> String {
    let pools: [JSONValue] = r.pools.map { pool in
      let regimes: [JSONValue] = r.outcomes.filter { $0.pool == pool }.map { o in
        let c = cells(o, thirdParty: thirdParty(r, o), zone: r.timeZone)
        var members: [(String, JSONValue)] = []
        for (i, name) in csvColumns.enumerated().dropFirst(2) {
          switch name {
          case "start", "finish", "otpm_rule": members.append((name, .string(c[i])))
          case "third_party": members.append((name, .bool(c[i] == "true")))
          default: members.append((name, c[i].isEmpty ? .null : .number(c[i])))
          }
        }
        members.append(
          ("first_429_times", .array(o.firstRejections.map { .string(LocalTime.format($0, r.timeZone, .millisecond)) }))
        )
        return .object([("regime", .string(o.regime.rawValue))] + members)
      }
      var peak: JSONValue = .null
      if let p = r.peakMinute(pool) {
        let limit = r.outcome(pool, .server)?.limits.inputTokensPerMinute ?? 0
        peak = .object([
          ("minute", .string(LocalTime.format(p.minute, r.timeZone, .minute))), ("requests", .int(p.requests)),
          ("estimate_tokens", .number(String(p.estimate))), ("itpm_tokens", .number(String(p.itpm))),
          ("itpm_limit", .int(limit)), ("itpm_share_of_limit", .ratio(Ratio(p.itpm, Int128(limit)))),
          ("estimate_share_of_limit", .ratio(Ratio(p.estimate, Int128(limit)))),
        ])
      }
      let over = r.minutesOverLimit(pool)
      return .object([
        ("pool", .string(pool)), ("slowdown", .ratio(r.slowdown(pool))),
        ("minutes_with_traffic", over.map { .int($0.minutes) } ?? .null),
        ("minutes_estimate_over_itpm_limit", over.map { .int($0.byEstimate) } ?? .null),
        ("minutes_itpm_over_itpm_limit", over.map { .int($0.byITPM) } ?? .null),
        ("throughput_multiple", .ratio(r.throughputMultiple(pool))), ("peak_minute", peak),
        ("regimes", .array(regimes)),
      ])
    }
    let doc: JSONValue = .object([
      ("tool", .string("tokengap")), ("version", .string(ToolInfo.version)),
      ("catalog", .object([("version", .string(r.catalogVersion)), ("sha256", .string(r.catalogSHA256))])),
      ("limits", .string(r.limitsLabel)), ("time_zone", .string(r.timeZone.name)), ("pools", .array(pools)),
      ("pools_without_limits", .object(r.unlimitedPools.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
      ("requests_without_time", .int(r.requestsWithoutTime)),
      ("ledger", AnalysisRenderer.ledgerJSON(r.ledger)),
      (
        "rules",
        .object([
          ("otpm_rule", .string(r.rules.output.rawValue)),
          ("default_response_duration_s", .number(seconds(r.rules.defaultDurationMs))),
        ])
      ),
      ("assumptions", .array(r.assumptions.map { .string($0) })),
      ("third_party", .array(r.assumptions.filter { $0.hasPrefix("[3P]") }.map { .string($0) })),
    ])
    return doc.serialized() + "\n"
  }

  static func table(_ r: SimulationReport, markdown: Bool, width: Int? = nil) -> String {
    // A terminal line wrapped at the width (its own indent kept, and two
    // more spaces after its first line); as it is without a width.
    func wrapped(_ line: String) -> String {
      guard let width, !markdown else { return line }
      return FittedTable.wrap(line, width: width, indent: "  ")
    }
    // The period replayed leads, then the limits it was replayed against.
    var out = markdown ? "# tokengap simulate\n\n" : ""
    if let period = r.period {
      out += markdown ? "Period: \(Escape.markdown(period))\n\n" : wrapped("period: \(period)") + "\n"
    }
    out += markdown ? "Limits: \(r.limitsLabel)\n\n" : wrapped("limits: \(r.limitsLabel)") + "\n"
    let assumptions = r.assumptions
    if !assumptions.isEmpty {
      out += markdown ? "Assumptions:\n\n" : "assumptions:\n"
      for line in assumptions {
        out += (markdown ? "- " + Escape.markdown(line) : wrapped("  " + Escape.terminal(line))) + "\n"
      }
      if markdown { out += "\n" }
    }
    // What happened leads; the regimes' table follows. In Markdown the
    // findings are a list, in a terminal indented lines.
    let bullet = markdown ? "- " : "  "
    for pool in r.pools {
      guard let server = r.outcome(pool, .server) else { continue }
      let l = server.limits
      let limits =
        "\(Fmt.grouped(l.requestsPerMinute)) RPM / \(Fmt.grouped(l.inputTokensPerMinute)) ITPM / \(Fmt.grouped(l.outputTokensPerMinute)) OTPM; "
        + "\(Fmt.count(server.requests, "request")) \(span(server.start, server.finish, r.timeZone))"
      out +=
        markdown
        ? "\n## Pool \(Escape.markdown(pool))\n\n" + limits + "\n\n"
        : "\n" + wrapped("pool \(Escape.terminal(pool)): " + limits) + "\n"
      for line in findings(r, pool, server) { out += wrapped(bullet + line) + "\n" }
      out += "\n"
      var t = TextTable(
        header: [
          "regime", "sent", "delayed", "total wait", "p90 wait", "max wait", "429s", "never fit", "makespan",
          "prompt tok/min",
        ],
        rightAligned: Set(1...9))
      for o in r.outcomes where o.pool == pool {
        t.append([
          o.regime.rawValue, String(o.sent), String(o.delayed), Fmt.duration(ms: o.totalWaitMs),
          Fmt.duration(ms: o.p90WaitMs), Fmt.duration(ms: o.maxWaitMs), String(o.rejected), String(o.neverFit),
          Fmt.duration(ms: o.makespanMs),
          o.achievedPromptPerMinute.map { Fmt.grouped($0.numerator / max(1, $0.denominator)) } ?? "-",
        ])
      }
      if let width, !markdown {
        out += fittedRegimes(r.outcomes.filter { $0.pool == pool }, width: width)
      } else {
        out += markdown ? t.markdown() : t.plain()
      }
    }
    for (pool, n) in r.unlimitedPools.sorted(by: { $0.key < $1.key }) {
      out +=
        "\n"
        + wrapped(
          "pool \(markdown ? Escape.markdown(pool) : Escape.terminal(pool)): \(Fmt.count(n, "request")) not simulated (no published limit for this pool and tier)"
        ) + "\n"
    }
    if r.requestsWithoutTime > 0 {
      out +=
        "\n"
        + wrapped(
          "\(Fmt.count(r.requestsWithoutTime, "request")) \(Fmt.verb(r.requestsWithoutTime, "carries", "carry")) no time and \(Fmt.verb(r.requestsWithoutTime, "was", "were")) not simulated"
        ) + "\n"
    }
    return out
  }

  /// A pool's regimes fitted to `width`: what was sent and waited stays;
  /// the p90 wait goes first, then the columns from the right.
  static func fittedRegimes(_ outcomes: [RegimeOutcome], width: Int) -> String {
    typealias Column = FittedTable.Column
    let columns = [
      Column(id: "regime", header: "regime", right: false),
      Column(id: "sent", header: "sent", right: true),
      Column(id: "delayed", header: "delayed", right: true),
      Column(id: "total_wait", header: "total wait", right: true),
      Column(id: "p90_wait", header: "p90 wait", right: true),
      Column(id: "max_wait", header: "max wait", right: true),
      Column(id: "rejected_429", header: "429s", right: true),
      Column(id: "never_fit", header: "never fit", right: true),
      Column(id: "makespan", header: "makespan", right: true),
      // Prompt tokens sent per minute of makespan: ΣP / makespan.
      Column(id: "prompt_per_minute", header: "P/min", right: true),
    ]
    let rows = outcomes.map { o in
      [
        o.regime.rawValue, Fmt.grouped(o.sent), Fmt.grouped(o.delayed), Fmt.duration(ms: o.totalWaitMs),
        Fmt.duration(ms: o.p90WaitMs), Fmt.duration(ms: o.maxWaitMs), Fmt.grouped(o.rejected),
        Fmt.grouped(o.neverFit), Fmt.duration(ms: o.makespanMs),
        o.achievedPromptPerMinute.map { Fmt.tokens($0.numerator / max(1, $0.denominator)) } ?? "-",
      ]
    }
    var table = FittedTable(columns: columns, rows: rows)
    let text = table.lines(
      width: width, dropFirst: ["p90_wait"], keep: ["regime", "sent", "delayed", "total_wait", "never_fit"])
    return text + table.hiddenNote(width: width)
  }

  /// When a pool's traffic ran, to the minute.
  static func span(_ start: Instant, _ finish: Instant, _ zone: TimeZoneRule) -> String {
    let from = LocalTime.format(start, zone, .minute)
    let to = LocalTime.format(finish, zone, .minute)
    return from == to ? "at \(from)" : "from \(from) to \(to)"
  }

  /// A pool's outcome in sentences, most telling first: requests that could
  /// never be sent, minutes over the limit, the peak minute, the waits, and a
  /// makespan comparison only when every regime sent every request (else
  /// the regimes did not do the same work, and a ratio of their durations
  /// says nothing).
  static func findings(_ r: SimulationReport, _ pool: String, _ server: RegimeOutcome) -> [String] {
    var lines: [String] = []
    let limit = Int128(server.limits.inputTokensPerMinute)
    let paced = r.outcome(pool, .countTokens)
    if let paced {
      lines.append(
        paced.neverFit == 0 && server.neverFit == 0
          ? "could never be sent: none, under either rule"
          : "could never be sent: \(paced.neverFit) of \(server.requests) paced by count_tokens' estimate, "
            + "\(server.neverFit) by the ITPM charge")
    }
    if let o = r.minutesOverLimit(pool), o.minutes > 0 {
      lines.append(
        "minutes over the ITPM limit: \(o.byEstimate) of \(o.minutes) by count_tokens' estimate, \(o.byITPM) by the ITPM charge"
      )
    }
    if let p = r.peakMinute(pool) {
      lines.append(
        "peak minute \(LocalTime.format(p.minute, r.timeZone, .minute)): \(Fmt.grouped(p.itpm)) ITPM tokens, "
          + "\(Fmt.percent(Ratio(p.itpm, limit))) of the limit (count_tokens: \(Fmt.grouped(p.estimate)), \(Fmt.percent(Ratio(p.estimate, limit))))"
      )
    }
    func waits(_ o: RegimeOutcome) -> String {
      o.delayed == 0
        ? "none of \(o.sent) sent"
        : "\(o.delayed) of \(o.sent) sent, \(Fmt.duration(ms: o.totalWaitMs)) in all, longest \(Fmt.duration(ms: o.maxWaitMs))"
    }
    if let paced { lines.append("waited, paced by count_tokens' estimate: \(waits(paced))") }
    if let gateway = r.outcome(pool, .reserveRefund) {
      lines.append("waited, reserving the estimate and refunding to the ITPM charge at the end: \(waits(gateway))")
    }
    lines.append("waited, by the ITPM charge: \(waits(server))")
    let everySent = r.outcomes.allSatisfy { $0.pool != pool || $0.sent == $0.requests }
    if everySent, let s = r.slowdown(pool) {
      var line = "makespan: count_tokens pacing takes \(s.formatted(decimals: 2))x as long as the server rule"
      if let m = r.throughputMultiple(pool) {
        line += ", which admits \(m.formatted(decimals: 2))x the prompt tokens per minute"
      }
      lines.append(line)
    }
    return lines
  }
}
