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

  static func eventCells(_ e: CacheEvent) -> [String] {
    [
      e.time.description, e.session, e.lane, e.model, String(e.estimate), String(e.cacheRead),
      String(e.cacheWrite), Fmt.ratio(Ratio(e.cacheRead, e.estimate)),
      e.gapMs.map { SimulationRenderer.seconds($0) } ?? "", e.rebuild ? "true" : "false",
      String(e.rebuiltTokens), e.rebuildExtraCost.formatted(), String(e.neverReadTokens),
    ]
  }

  public static func sessions(_ list: [CacheSummary], format: OutputFormat, catalog: ModelCatalog? = nil) -> String {
    render(sessionColumns, list.map(sessionCells), format: format, title: "Cache by session", catalog: catalog)
  }

  public static func events(_ list: [CacheEvent], format: OutputFormat, catalog: ModelCatalog? = nil) -> String {
    render(eventColumns, list.map(eventCells), format: format, title: "Cache by request", catalog: catalog)
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
