public import EstimateModel

/// Renders the catalog as of a day (`tokengap rules`).
public enum RulesRenderer {
  /// CSV columns, one row per model.
  public static let csvColumns = [
    "model", "name", "aliases", "status", "pool", "price_period", "price_from", "price_until",
    "input_usd_per_mtok", "write_5m_usd_per_mtok", "write_1h_usd_per_mtok",
    "read_usd_per_mtok", "output_usd_per_mtok", "read_multiplier", "long_prompt_above",
    "long_prompt_input_usd_per_mtok", "long_prompt_output_usd_per_mtok", "fast_input_usd_per_mtok",
    "fast_output_usd_per_mtok", "us_geo_multiplier_applies", "counts_cache_reads", "source",
    "source_date", "third_party",
  ]

  /// The catalog as of `day` in a format. With a `width`, the table is
  /// fitted to it (limits as K/M, the price columns of least use going
  /// first, notes wrapped); without, every column in full.
  public static func render(_ catalog: ModelCatalog, at day: CivilDay, format: OutputFormat, width: Int? = nil)
    -> String
  {
    switch format {
    case .json: return json(catalog, at: day)
    case .csv: return csv(catalog, at: day)
    case .table: return table(catalog, at: day, markdown: false, width: width)
    case .markdown: return table(catalog, at: day, markdown: true)
    }
  }

  private static func readMultiplier(_ p: PricePeriod) -> Ratio? {
    Ratio(p.standard.read.attodollarsPerToken, p.standard.input.attodollarsPerToken)
  }

  private static func cells(_ m: ModelEntry, _ catalog: ModelCatalog, _ day: CivilDay) -> [String] {
    let p = m.pricePeriod(on: day)
    let src = p.flatMap { catalog.source($0.source) }
    return [
      m.id, m.name, m.aliases.joined(separator: " "), m.status, m.pool, p?.label ?? "",
      p?.from?.description ?? "", p?.until?.description ?? "",
      p?.standard.input.perMillionTokens ?? "", p?.standard.write5m.perMillionTokens ?? "",
      p?.standard.write1h.perMillionTokens ?? "", p?.standard.read.perMillionTokens ?? "",
      p?.standard.output.perMillionTokens ?? "", p.flatMap(readMultiplier)?.formatted() ?? "",
      p?.longPrompt.map { String($0.above) } ?? "",
      p?.longPrompt?.rates.input.perMillionTokens ?? "",
      p?.longPrompt?.rates.output.perMillionTokens ?? "",
      p?.fast?.input.perMillionTokens ?? "", p?.fast?.output.perMillionTokens ?? "",
      m.usGeoMultiplierApplies ? "true" : "false",
      m.countsCacheReads(on: day) ? "true" : "false", src?.url ?? "", src?.date ?? "",
      p.map { catalog.thirdParty($0).joined(separator: "; ") } ?? notYet(m, catalog, day),
    ]
  }

  /// A model without a price on the day because its first period starts
  /// later, on a day a third party reported: that absence rests on it too.
  private static func notYet(_ m: ModelEntry, _ catalog: ModelCatalog, _ day: CivilDay) -> String {
    var next: (day: CivilDay, source: String)?
    for p in m.prices {
      guard let from = p.from, from > day, let source = p.fromSource else { continue }
      if next.map({ from < $0.day }) ?? true { next = (from, source) }
    }
    guard let next, catalog.isThirdParty(next.source) else { return "" }
    return "no price before start day \(next.day) (\(next.source))"
  }

  static func csv(_ catalog: ModelCatalog, at day: CivilDay) -> String {
    var w = CSVWriter(header: csvColumns)
    for m in catalog.models { w.row(cells(m, catalog, day)) }
    return w.text
  }

  static func json(_ catalog: ModelCatalog, at day: CivilDay) -> String {
    func card(_ c: RateCard) -> [(String, JSONValue)] {
      [
        ("input_usd_per_mtok", .number(c.input.perMillionTokens)),
        ("write_5m_usd_per_mtok", .number(c.write5m.perMillionTokens)),
        ("write_1h_usd_per_mtok", .number(c.write1h.perMillionTokens)),
        ("read_usd_per_mtok", .number(c.read.perMillionTokens)),
        ("output_usd_per_mtok", .number(c.output.perMillionTokens)),
      ]
    }
    func source(_ key: String) -> JSONValue {
      let s = catalog.source(key)
      return .object([
        ("key", .string(key)), ("url", .text(s?.url)), ("date", .text(s?.date)),
        ("grade", .text(s?.grade)),
      ])
    }
    let models: [JSONValue] = catalog.models.map { m in
      let p = m.pricePeriod(on: day)
      var price: JSONValue = .null
      if let p {
        var members: [(String, JSONValue)] = [
          ("label", .string(p.label)), ("from", .text(p.from?.description)),
          ("until", .text(p.until?.description)),
        ]
        members += card(p.standard)
        members.append(("read_multiplier", .ratio(readMultiplier(p))))
        members.append(
          ("long_prompt", p.longPrompt.map { .object([("above", .int($0.above))] + card($0.rates)) } ?? .null))
        members.append(("fast", p.fast.map { .object(card($0)) } ?? .null))
        members.append(("source", source(p.source)))
        members.append(("from_source", p.fromSource.map(source) ?? .null))
        members.append(("third_party", .array(catalog.thirdParty(p).map { .string($0) })))
        price = .object(members)
      }
      return .object([
        ("id", .string(m.id)), ("name", .string(m.name)),
        ("aliases", .array(m.aliases.map { .string($0) })), ("status", .string(m.status)),
        ("pool", .string(m.pool)), ("released", .text(m.released?.description)),
        ("us_geo_multiplier_applies", .bool(m.usGeoMultiplierApplies)),
        ("regional_premium_applies", .bool(m.regionalPremiumApplies)),
        ("counts_cache_reads", .bool(m.countsCacheReads(on: day))),
        ("price", price),
      ])
    }
    let tables: [JSONValue] = catalog.rateLimitTables(on: day).map { t in
      .object([
        ("id", .string(t.id)), ("from", .text(t.from?.description)),
        ("until", .text(t.until?.description)), ("source", source(t.source)),
        ("note", .string(t.note)), ("tiers", .array(t.tiers.map { .string($0) })),
        (
          "rows",
          .array(
            t.rows.map { r in
              .object([
                ("pool", .string(r.pool)), ("label", .string(r.label)),
                (
                  "limits",
                  .object(
                    t.tiers.compactMap { tier in
                      r.limits[tier].map { l in
                        (
                          tier,
                          .object([
                            ("rpm", .int(l.requestsPerMinute)), ("itpm", .int(l.inputTokensPerMinute)),
                            ("otpm", .int(l.outputTokensPerMinute)),
                          ])
                        )
                      }
                    })
                ),
              ])
            })
        ),
        ("otpm_rule", .string(t.outputRule.rawValue)),
        (
          "later_table",
          t.laterTable.map { l in
            .object([
              ("from", .string(l.from.description)), ("source", source(l.source)), ("note", .string(l.note)),
              ("carried_forward_on_this_day", .bool(t.carriedForward(on: day) != nil)),
            ])
          } ?? .null
        ),
        (
          "long_context",
          .array(
            t.longContext.map { l in
              .object([
                ("pool", .string(l.bucketPool)), ("models", .array(l.models.map { .string($0) })),
                ("above", .int(l.above)), ("source", source(l.source)),
                (
                  "limits",
                  .object(
                    t.tiers.compactMap { tier in
                      l.limits[tier].map { x in
                        (
                          tier,
                          .object([
                            ("rpm", .int(x.requestsPerMinute)), ("itpm", .int(x.inputTokensPerMinute)),
                            ("otpm", .int(x.outputTokensPerMinute)),
                          ])
                        )
                      }
                    })
                ),
              ])
            })
        ),
      ])
    }
    let doc: JSONValue = .object([
      ("tool", .string("tokengap")), ("version", .string(ToolInfo.version)),
      ("catalog", EstimateRenderer.catalogInfo(catalog)), ("at", .string(day.description)),
      (
        "modifiers",
        .object([
          ("batch_multiplier", .number(catalog.modifiers.batch.description)),
          ("us_geo_multiplier", .number(catalog.modifiers.usGeo.description)),
          ("regional_multiplier", .number(catalog.modifiers.regional.description)),
          ("web_search_usd_per_request", .usd(catalog.modifiers.webSearch)),
        ])
      ),
      ("models", .array(models)), ("rate_limits", .array(tables)),
    ])
    return doc.serialized() + "\n"
  }

  static func table(_ catalog: ModelCatalog, at day: CivilDay, markdown: Bool, width: Int? = nil) -> String {
    // A note wrapped at the width, its lines after the first indented.
    func note(_ text: String, indent: String = "  ") -> String {
      width.map { FittedTable.wrap(text, width: $0, indent: indent) } ?? text
    }
    var fitted: [[String]] = []
    var t = TextTable(
      header: [
        "model", "pool", "period", "input", "write 5m", "write 1h", "read", "read x",
        "output", "long prompt", "fast in/out", "ITPM counts reads",
      ],
      rightAligned: [3, 4, 5, 6, 7, 8])
    var thirdParty: [String] = []
    for m in catalog.models {
      let c = cells(m, catalog, day)
      let long =
        m.pricePeriod(on: day)?.longPrompt.map {
          ">\(Fmt.grouped($0.above)): \($0.rates.input.perMillionTokens)/\($0.rates.output.perMillionTokens)"
        } ?? ""
      let fast = c[17].isEmpty ? "" : "\(c[17])/\(c[18])"
      let row = [
        c[0], c[4], (c[5].isEmpty ? "(no price)" : c[5]) + (c[23].isEmpty ? "" : " [3P]"), c[8], c[9], c[10], c[11],
        c[13], c[12], long, fast, c[20] == "true" ? "yes (†)" : "no",
      ]
      t.append(row)
      fitted.append(row.map { Escape.terminal($0) })
      if !c[23].isEmpty { thirdParty.append("\(c[0]): \(c[23])") }
    }
    var out =
      markdown ? "# Catalog as of \(day)\n\n" : "Catalog \(catalog.version) as of \(day) (USD per million tokens)\n\n"
    if let width, !markdown {
      out += fittedPrices(fitted, width: width)
    } else {
      out += markdown ? t.markdown() : t.plain()
    }
    if !thirdParty.isEmpty {
      out +=
        "\n"
        + note(
          "[3P] rests on a third-party source (analyze counts the requests priced from third-party prices as "
            + "third_party_priced_requests; a third-party start day decides from which day the prices apply):") + "\n"
      for line in thirdParty {
        out += (markdown ? "- " + Escape.markdown(line) : note("  " + Escape.terminal(line))) + "\n"
      }
    }
    for table in catalog.rateLimitTables(on: day) {
      var r = TextTable(
        header: ["pool"] + table.tiers.map { "\($0) rpm/itpm/otpm" },
        rightAligned: Set(1...table.tiers.count))
      for row in table.rows {
        r.append(
          [row.pool]
            + table.tiers.map { tier in
              row.limits[tier].map {
                "\(Fmt.grouped($0.requestsPerMinute)) / \(Fmt.grouped($0.inputTokensPerMinute)) / \(Fmt.grouped($0.outputTokensPerMinute))"
              } ?? "-"
            })
      }
      for long in table.longContext {
        r.append(
          ["\(long.bucketPool) (>\(Fmt.grouped(long.above)), \(long.source))"]
            + table.tiers.map { tier in
              long.limits[tier].map {
                "\(Fmt.grouped($0.requestsPerMinute)) / \(Fmt.grouped($0.inputTokensPerMinute)) / \(Fmt.grouped($0.outputTokensPerMinute))"
              } ?? "-"
            })
      }
      out += "\n" + (markdown ? "## " : "") + "Rate limits \(table.id) (\(table.source))\n\n"
      if let width, !markdown {
        out += fittedLimits(table, width: width)
      } else {
        out += markdown ? r.markdown() : r.plain()
      }
      let rule =
        table.outputRule == .maxTokens
        ? "max_tokens charged at the start of a request, corrected to the real output at its end"
        : "evaluated in real time as output is produced; max_tokens does not factor in"
      out += "\n" + note("OTPM: \(rule) (\(table.source)).") + "\n"
      if let later = table.carriedForward(on: day) {
        out += note("[3P] \(later.note) (\(later.source))") + "\n"
      }
    }
    let m = catalog.modifiers
    out +=
      "\n"
      + note(
        "Modifiers: batch x\(m.batch), US-only inference_geo x\(m.usGeo) (models marked us_geo), regional endpoints x\(m.regional) (Bedrock us./eu./apac./jp./au. ids, Vertex AI locations other than global; models marked regional_premium), web search $\(m.webSearch.formatted()) per request."
      ) + "\n"
    out += "catalog sha256: \(catalog.sha256)\n"
    return out
  }

  /// The price table fitted to `width`: whole model ids (they are what
  /// `--model` takes); the fast and long-prompt prices, the read
  /// multiplier and the pool go first when the width is short.
  static func fittedPrices(_ rows: [[String]], width: Int) -> String {
    typealias Column = FittedTable.Column
    let columns = [
      Column(id: "model", header: "model", right: false),
      Column(id: "pool", header: "pool", right: false),
      Column(id: "period", header: "period", right: false),
      Column(id: "input", header: "input", right: true),
      Column(id: "write_5m", header: "write 5m", right: true),
      Column(id: "write_1h", header: "write 1h", right: true),
      Column(id: "read", header: "read", right: true),
      Column(id: "read_multiplier", header: "read x", right: true),
      Column(id: "output", header: "output", right: true),
      Column(id: "long_prompt", header: "long prompt", right: false),
      Column(id: "fast", header: "fast in/out", right: false),
      Column(id: "counts_cache_reads", header: "reads in I", right: false),
    ]
    var table = FittedTable(columns: columns, rows: rows)
    let text = table.lines(
      width: width,
      dropFirst: ["fast", "long_prompt", "read_multiplier", "pool", "counts_cache_reads", "write_1h", "period"],
      keep: ["model", "input", "read", "output"])
    return text + table.hiddenNote(width: width)
  }

  /// A rate-limit table fitted to `width`: limits as K/M, a long-context
  /// bucket's threshold in a note under the table, the last tiers going
  /// when still too wide.
  static func fittedLimits(_ table: RateLimitTable, width: Int) -> String {
    typealias Column = FittedTable.Column
    func limits(_ l: RateLimits?) -> String {
      l.map {
        "\(Fmt.grouped($0.requestsPerMinute))/\(Fmt.tokens($0.inputTokensPerMinute))/\(Fmt.tokens($0.outputTokensPerMinute))"
      } ?? "-"
    }
    let columns =
      [Column(id: "pool", header: "pool: rpm/itpm/otpm", right: false, minimum: 12)]
      + table.tiers.map { Column(id: $0, header: $0, right: true) }
    var rows = table.rows.map { row in [Escape.terminal(row.pool)] + table.tiers.map { limits(row.limits[$0]) } }
    var notes = ""
    for long in table.longContext {
      rows.append([Escape.terminal(long.bucketPool)] + table.tiers.map { limits(long.limits[$0]) })
      notes +=
        FittedTable.wrap(
          Escape.terminal("\(long.bucketPool): prompts above \(Fmt.grouped(long.above)) tokens (\(long.source))"),
          width: width, indent: "  ") + "\n"
    }
    var fitted = FittedTable(columns: columns, rows: rows)
    let text = fitted.lines(width: width, keep: ["pool"])
    return text + notes + fitted.hiddenNote(width: width)
  }
}
