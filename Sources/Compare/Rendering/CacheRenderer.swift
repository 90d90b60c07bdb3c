public import EstimateModel

/// Renders `tokengap cache` results.
public enum CacheRenderer {
  public static let sessionColumns = [
    "session", "requests", "estimate_tokens", "cache_read_tokens", "cache_hit_rate", "rebuilds",
    "rebuilt_tokens", "rebuild_extra_cost_usd", "never_read_tokens", "cache_creation_1h_tokens",
    "one_hour_extra_cost_usd", "one_hour_saved_tokens", "one_hour_savings_usd", "one_hour_paid_off",
  ]

  public static let eventColumns = [
    "time", "session", "lane", "model", "estimate_tokens", "cache_read_tokens", "cache_write_tokens",
    "cache_hit_rate", "gap_s", "rebuild", "rebuilt_tokens", "rebuild_extra_cost_usd", "never_read_tokens",
  ]

  static func sessionCells(_ s: CacheSummary) -> [String] {
    [
      s.session, String(s.requests), String(s.estimate), String(s.cacheRead), Fmt.ratio(s.hitRate),
      String(s.rebuilds), String(s.rebuiltTokens), s.rebuildExtraCost.formatted(),
      String(s.neverReadTokens), String(s.write1h), s.oneHourExtraCost.formatted(),
      String(s.oneHourSavedTokens), s.oneHourSavings.formatted(),
      s.oneHourPaidOff.map { $0 ? "true" : "false" } ?? "",
    ]
  }

  static func eventCells(_ e: CacheEvent, _ zone: TimeZoneRule) -> [String] {
    [
      LocalTime.format(e.time, zone, .millisecond), e.session, e.lane, e.model, String(e.estimate), String(e.cacheRead),
      String(e.cacheWrite), Fmt.ratio(Ratio(e.cacheRead, e.estimate)),
      e.gapMs.map { SimulationRenderer.seconds($0) } ?? "", e.rebuild ? "true" : "false",
      String(e.rebuiltTokens), e.rebuildExtraCost.formatted(), String(e.neverReadTokens),
    ]
  }

  public static func sessions(_ list: [CacheSummary], format: OutputFormat, catalog: ModelCatalog? = nil) -> String {
    render(sessionColumns, list.map(sessionCells), format: format, title: "Cache by session", catalog: catalog)
  }

  /// What caching did, in sentences, before the table: the hit rate, what it
  /// saved against the same traffic uncached (dollars and ITPM tokens), the
  /// rebuilds after idle gaps, writes never read, and whether 1-hour writes
  /// paid off. `total` is every request's summary (as `analyze --by total`);
  /// the rest comes from the cache analysis of the timed requests. With a
  /// zone, the analysed period leads.
  package static func headline(total: Summary, sessions: [CacheSummary], zone: TimeZoneRule? = nil) -> [String] {
    var lines: [String] = []
    if let zone, let period = AnalysisRenderer.period(total, zone) { lines.append("period: \(period)") }
    lines.append(
      "hit rate \(Fmt.percent(total.cacheHitRate)): \(Fmt.grouped(total.cacheRead)) of \(Fmt.grouped(total.estimate)) prompt tokens "
        + "read from cache, over \(Fmt.count(total.requests, "request"))")
    if total.priced > 0 {
      let saved = USD(attodollars: total.inputCostEstimate.attodollars - total.inputCostActual.attodollars)
      lines.append(
        "caching saved \(Fmt.money(saved)) of input cost against the same traffic uncached "
          + "(\(Fmt.money(total.inputCostEstimate)) -> \(Fmt.money(total.inputCostActual)))")
    }
    lines.append(
      "caching kept \(Fmt.grouped(total.overestimate)) prompt tokens out of the ITPM charge "
        + "(count_tokens counts them; the limit does not)")
    let all = CacheSummary.total(sessions, named: "total")
    let rebuiltSessions = sessions.filter { $0.rebuilds > 0 }.count
    lines.append(
      all.rebuilds == 0
        ? "rebuilds after idle gaps: none"
        : "rebuilds after idle gaps: \(all.rebuilds) in \(Fmt.count(rebuiltSessions, "session")), "
          + "\(Fmt.grouped(all.rebuiltTokens)) tokens written again, \(Fmt.money(all.rebuildExtraCost)) more than reading them"
    )
    lines.append("writes never read: \(Fmt.grouped(all.neverReadTokens)) tokens")
    lines.append(
      all.write1h == 0
        ? "1-hour writes: none"
        : "1-hour writes: \(Fmt.grouped(all.write1h)) tokens cost \(Fmt.money(all.oneHourExtraCost)) more than 5-minute writes "
          + "and saved \(Fmt.money(all.oneHourSavings)) in reads after 5 to 60 minute gaps: "
          + (all.oneHourPaidOff == true ? "they paid off" : "they did not pay off"))
    return lines
  }

  /// The session table for people: readable headers with units, rates as
  /// percentages, dollars as money, and a totals row (over every session).
  /// With `top`, only the sessions with the most prompt tokens are listed.
  package static func sessionsTable(_ list: [CacheSummary], markdown: Bool, top: Int? = nil) -> String {
    var t = TextTable(
      header: [
        "session", "requests", "prompt tokens", "read", "hit rate", "rebuilds", "rebuilt tokens", "rebuild extra $",
        "never read", "1h writes", "1h extra $", "1h savings $", "1h paid off",
      ],
      rightAligned: Set(1...12))
    func cells(_ s: CacheSummary) -> [String] {
      [
        s.session, Fmt.grouped(s.requests), Fmt.grouped(s.estimate), Fmt.grouped(s.cacheRead),
        Fmt.percent(s.hitRate), String(s.rebuilds), Fmt.grouped(s.rebuiltTokens), Fmt.money(s.rebuildExtraCost),
        Fmt.grouped(s.neverReadTokens), Fmt.grouped(s.write1h), Fmt.money(s.oneHourExtraCost),
        Fmt.money(s.oneHourSavings), s.oneHourPaidOff.map { $0 ? "yes" : "no" } ?? "",
      ]
    }
    // With `top`, the sessions with the most prompt tokens, most first.
    let order =
      top.map { n in
        Array(
          list.indices.sorted {
            list[$0].estimate != list[$1].estimate ? list[$0].estimate > list[$1].estimate : $0 < $1
          }.prefix(n))
      } ?? Array(list.indices)
    for k in order { t.append(cells(list[k])) }
    var all = CacheSummary.total(list, named: "total")
    if order.count < list.count { all.session = "total, all \(list.count) sessions" }
    if list.count > 1 { t.append(cells(all)) }
    return markdown ? t.markdown() : t.plain()
  }

  /// The session table fitted to `width` columns, as `analyze`'s is: token
  /// counts as K/M/B, money to the cent, session ids cut to their start
  /// (to 8 characters, or up to 16 where they share a longer start), then
  /// the 1-hour columns go from the right.
  /// ``sessionsTable(_:markdown:top:)`` is every column in full (`--wide`).
  package static func sessionsFitted(_ list: [CacheSummary], width: Int) -> String {
    typealias Column = FittedTable.Column
    var columns = [
      Column(id: "session", header: "session", right: false),
      Column(id: "requests", header: "requests", right: true),
      Column(id: "estimate_tokens", header: "prompt", right: true),
      Column(id: "cache_read_tokens", header: "read", right: true),
      Column(id: "cache_hit_rate", header: "hit rate", right: true),
      Column(id: "rebuilds", header: "rebuilds", right: true),
      Column(id: "rebuilt_tokens", header: "rebuilt", right: true),
      Column(id: "rebuild_extra_cost_usd", header: "rebuild $", right: true),
      Column(id: "never_read_tokens", header: "never read", right: true),
      Column(id: "cache_creation_1h_tokens", header: "1h writes", right: true),
      Column(id: "one_hour_extra_cost_usd", header: "1h extra $", right: true),
      Column(id: "one_hour_savings_usd", header: "1h saved $", right: true),
      Column(id: "one_hour_paid_off", header: "1h paid off", right: false),
    ]
    func cells(_ s: CacheSummary) -> [String] {
      [
        Escape.terminal(s.session), Fmt.grouped(s.requests), Fmt.tokens(s.estimate), Fmt.tokens(s.cacheRead),
        Fmt.percent(s.hitRate), String(s.rebuilds), Fmt.tokens(s.rebuiltTokens), Fmt.money(s.rebuildExtraCost),
        Fmt.tokens(s.neverReadTokens), Fmt.tokens(s.write1h), Fmt.money(s.oneHourExtraCost),
        Fmt.money(s.oneHourSavings), s.oneHourPaidOff.map { $0 ? "yes" : "no" } ?? "",
      ]
    }
    let rows = list.map(cells)
    // Cut no shorter than tells the sessions apart (up to 16 characters).
    columns[0].minimum = FittedTable.distinctWidth(rows.map { $0[0] }, least: 8, most: 16)
    var table = FittedTable(columns: columns, rows: rows, total: cells(CacheSummary.total(list, named: "total")))
    table.totalShown = list.count > 1
    // The question's own figures stay: the hit rate and the rebuilds.
    let kept: Set = ["session", "requests", "estimate_tokens", "cache_read_tokens", "cache_hit_rate", "rebuilds"]
    let text = table.lines(width: width, keep: kept)
    return text + table.hiddenNote(width: width)
  }

  /// One row per request, in time order; times in `timeZone`, with the offset.
  public static func events(
    _ list: [CacheEvent], format: OutputFormat, catalog: ModelCatalog? = nil, timeZone: TimeZoneRule = .utc
  ) -> String {
    render(
      eventColumns, list.map { eventCells($0, timeZone) }, format: format, title: "Cache by request", catalog: catalog)
  }

  /// The requests fitted to `width`, as `analyze --by request`'s are:
  /// times to the second, session ids cut to their start, model ids without
  /// `claude-`, token counts as K/M/B, gaps as durations; the lane goes
  /// first when the width is short, then the columns from the right.
  package static func eventsFitted(_ list: [CacheEvent], timeZone: TimeZoneRule, width: Int) -> String {
    typealias Column = FittedTable.Column
    var columns = [
      Column(id: "time", header: "time", right: false),
      Column(id: "session", header: "session", right: false),
      Column(id: "lane", header: "lane", right: false, minimum: 8),
      Column(id: "model", header: "model", right: false, minimum: 12),
      Column(id: "estimate_tokens", header: "prompt", right: true),
      Column(id: "cache_read_tokens", header: "read", right: true),
      Column(id: "cache_write_tokens", header: "write", right: true),
      Column(id: "cache_hit_rate", header: "hit rate", right: true),
      Column(id: "gap_s", header: "gap", right: true),
      Column(id: "rebuild", header: "rebuild", right: false),
      Column(id: "rebuilt_tokens", header: "rebuilt", right: true),
      Column(id: "rebuild_extra_cost_usd", header: "rebuild $", right: true),
      Column(id: "never_read_tokens", header: "never read", right: true),
    ]
    func cells(_ e: CacheEvent) -> [String] {
      let model =
        e.model.hasPrefix("claude-") && e.model.dropFirst(7).first?.isLetter == true
        ? String(e.model.dropFirst(7)) : e.model
      return [
        // To the second, as people read a clock: 2025-09-03 00:47:21.
        String(LocalTime.format(e.time, timeZone, .millisecond).prefix(19)).replacing("T", with: " "),
        e.session, e.lane, model, Fmt.tokens(e.estimate), Fmt.tokens(e.cacheRead), Fmt.tokens(e.cacheWrite),
        Fmt.percent(Ratio(e.cacheRead, e.estimate)), e.gapMs.map { Fmt.duration(ms: $0) } ?? "",
        e.rebuild ? "yes" : "", Fmt.tokens(e.rebuiltTokens), Fmt.money(e.rebuildExtraCost),
        Fmt.tokens(e.neverReadTokens),
      ].map { Escape.terminal($0) }
    }
    let rows = list.map(cells)
    // Cut no shorter than tells the sessions apart (up to 16 characters).
    columns[1].minimum = FittedTable.distinctWidth(rows.map { $0[1] }, least: 8, most: 16)
    var table = FittedTable(columns: columns, rows: rows)
    let text = table.lines(
      width: width, dropFirst: ["lane"],
      keep: ["time", "session", "estimate_tokens", "cache_read_tokens", "cache_hit_rate", "rebuild"])
    return text + table.hiddenNote(width: width)
  }

  static func render(
    _ columns: [String], _ rows: [[String]], format: OutputFormat, title: String, catalog: ModelCatalog?
  ) -> String {
    switch format {
    case .csv:
      var w = CSVWriter(header: columns)
      for r in rows { w.row(r) }
      return w.text
    case .json:
      let items: [JSONValue] = rows.map { r in
        .object(
          zip(columns, r).map { (c, v) in
            let value: JSONValue
            if v.isEmpty {
              value = .null
            } else if v == "true" || v == "false" {
              value = .bool(v == "true")
            } else if CSVWriter.isNumber(v) && !["session", "lane", "model", "time"].contains(c) {
              value = .number(v)
            } else {
              value = .string(v)
            }
            return (c, value)
          })
      }
      var members: [(String, JSONValue)] = [("tool", .string("tokengap")), ("version", .string(ToolInfo.version))]
      if let catalog { members.append(("catalog", EstimateRenderer.catalogInfo(catalog))) }
      let doc: JSONValue = .object(members + [("rows", .array(items))])
      return doc.serialized() + "\n"
    case .table, .markdown:
      var t = TextTable(header: columns, rightAligned: Set(columns.indices.dropFirst(columns.first == "time" ? 4 : 1)))
      for r in rows { t.append(r) }
      return format == .markdown ? "# \(title)\n\n" + t.markdown() : t.plain()
    }
  }
}
