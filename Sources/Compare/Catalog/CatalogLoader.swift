public import EstimateModel

/// Why a catalog file could not be used.
public struct CatalogError: Error, Equatable, Sendable, CustomStringConvertible {
  public var reason: String

  public var description: String { "catalog: \(reason)" }
}

/// Reads catalog JSON into a ``ModelCatalog``.
public enum CatalogLoader {
  /// The catalog compiled into the binary (`datasets/catalog.json`).
  public static func embedded() -> ModelCatalog {
    // The embedded copy is tested to load; a failure here is a build defect.
    (try? load(Array(EmbeddedCatalog.json.utf8)))
      ?? ModelCatalog(
        version: "invalid", sha256: "", models: [],
        modifiers: PriceModifiers(
          batch: .one, usGeo: .one, webSearch: .zero, source: ""),
        rateLimitTables: [], sources: [])
  }

  /// The embedded catalog's bytes, as in `datasets/catalog.json`.
  public static var embeddedBytes: [UInt8] { Array(EmbeddedCatalog.json.utf8) }

  /// Decodes catalog JSON bytes.
  public static func load(_ bytes: [UInt8]) throws(CatalogError) -> ModelCatalog {
    let root: JSONValue
    do {
      root = try JSONParser.parse(bytes)
    } catch {
      throw CatalogError(reason: "not JSON: \(error)")
    }
    guard let version = root["version"]?.string else { throw missing("version") }
    let sha = SHA256.hex(bytes)

    var sources: [CatalogSource] = []
    if case .object(let members)? = root["sources"] {
      for (key, value) in members {
        sources.append(
          CatalogSource(
            key: key, url: value["url"]?.string ?? "", date: value["date"]?.string ?? "",
            grade: value["grade"]?.string ?? ""))
      }
    }
    let known = Set(sources.map(\.key))
    func source(_ value: JSONValue?, _ context: String) throws(CatalogError) -> String {
      guard let key = value?.string else { throw missing("\(context).source") }
      guard known.contains(key) else {
        throw CatalogError(reason: "\(context) cites unknown source '\(key)'")
      }
      return key
    }

    guard let mods = root["modifiers"] else { throw missing("modifiers") }
    guard let batch = mods["batch_multiplier"]?.string.flatMap(Multiplier.init),
      let geo = mods["us_geo_multiplier"]?.string.flatMap(Multiplier.init),
      let search = mods["web_search_usd_per_1000"]?.string.flatMap(
        { TokenRate(perMillionTokens: $0) })
    else { throw CatalogError(reason: "modifiers are incomplete or not decimals") }
    // $N per 1,000 searches = N×10¹⁸ / 1,000 attodollars per search; the
    // rate parser scaled N by 10¹², so multiply by 10³.
    let modifiers = PriceModifiers(
      batch: batch, usGeo: geo,
      webSearch: USD(attodollars: search.attodollarsPerToken * 1000),
      source: try source(mods["source"], "modifiers"),
      regional: try mods["regional_multiplier"].map { (v) throws(CatalogError) -> Multiplier in
        guard let m = v.string.flatMap(Multiplier.init) else {
          throw CatalogError(reason: "modifiers.regional_multiplier is not a decimal")
        }
        return m
      } ?? .one,
      regionalSource: mods["regional_multiplier"] == nil
        ? "" : try source(mods["regional_source"], "modifiers.regional"))
    if let rule = root["accounting"]?["iterations"] {
      _ = try source(rule["source"], "accounting.iterations")
    }
    if let rule = root["accounting"]?["reserve_refund"] {
      _ = try source(rule["source"], "accounting.reserve_refund")
    }
    if let rule = root["accounting"]?["server_tools"] {
      _ = try source(rule["source"], "accounting.server_tools")
    }
    // The rule per source cites a source for each rule it applies.
    for cited in root["accounting"]?["by_source"]?["sources"]?.array ?? [] {
      _ = try source(cited, "accounting.by_source")
    }

    var models: [ModelEntry] = []
    var seenIDs = Set<String>()
    for (n, m) in (root["models"]?.array ?? []).enumerated() {
      guard let id = m["id"]?.string else { throw missing("models[\(n)].id") }
      let ctx = "model '\(id)'"
      let aliases = (m["aliases"]?.array ?? []).compactMap(\.string)
      for name in [id] + aliases {
        guard seenIDs.insert(name).inserted else {
          throw CatalogError(reason: "\(ctx): id '\(name)' is listed twice")
        }
      }
      var periods: [PricePeriod] = []
      for (p, period) in (m["prices"]?.array ?? []).enumerated() {
        let pctx = "\(ctx) prices[\(p)]"
        guard let standard = try rates(period["standard"], "\(pctx).standard") else {
          throw missing("\(pctx).standard")
        }
        var long: LongPromptTier?
        if let lp = period["long_prompt"] {
          guard let above = lp["above"]?.int64, let card = try rates(lp, "\(pctx).long_prompt")
          else { throw missing("\(pctx).long_prompt.above") }
          long = LongPromptTier(
            above: above, rates: card, source: try source(lp["source"], "\(pctx).long_prompt"))
        }
        periods.append(
          PricePeriod(
            label: period["label"]?.string ?? "standard",
            from: try day(period["from"], "\(pctx).from"),
            until: try day(period["until"], "\(pctx).until"),
            standard: standard, longPrompt: long,
            fast: try rates(period["fast"], "\(pctx).fast"),
            source: try source(period["source"], pctx),
            fromSource: try period["from_source"].map { (v) throws(CatalogError) in try source(v, "\(pctx).from") }))
      }
      try checkDisjoint(periods.map { ($0.from, $0.until) }, ctx)
      var flags: [DatedFlag] = []
      for (f, flag) in (m["itpm_counts_cache_reads"]?.array ?? []).enumerated() {
        guard let value = flag["value"]?.bool else {
          throw missing("\(ctx).itpm_counts_cache_reads[\(f)].value")
        }
        flags.append(
          DatedFlag(
            from: try day(flag["from"], ctx), until: try day(flag["until"], ctx), value: value,
            source: try source(flag["source"], "\(ctx).itpm_counts_cache_reads")))
      }
      try checkDisjoint(flags.map { ($0.from, $0.until) }, ctx)
      guard let pool = m["pool"]?.string else { throw missing("\(ctx).pool") }
      models.append(
        ModelEntry(
          id: id, name: m["name"]?.string ?? id, aliases: aliases, pool: pool,
          status: m["status"]?.string ?? "unknown",
          released: try day(m["released"], "\(ctx).released"),
          usGeoMultiplierApplies: m["us_geo"]?.bool ?? false,
          regionalPremiumApplies: m["regional_premium"]?.bool ?? false, prices: periods,
          countsCacheReads: flags))
    }

    var tables: [RateLimitTable] = []
    for (t, table) in (root["rate_limits"]?.array ?? []).enumerated() {
      guard let id = table["id"]?.string else { throw missing("rate_limits[\(t)].id") }
      let ctx = "rate-limit table '\(id)'"
      let tiers = (table["tiers"]?.array ?? []).compactMap(\.string)
      var rows: [RateLimitRow] = []
      for row in table["rows"]?.array ?? [] {
        guard let pool = row["pool"]?.string else { throw missing("\(ctx).rows.pool") }
        var limits: [String: RateLimits] = [:]
        if case .object(let members)? = row["limits"] {
          for (tier, triple) in members {
            guard tiers.contains(tier) else {
              throw CatalogError(reason: "\(ctx): pool '\(pool)' names unknown tier '\(tier)'")
            }
            let values = (triple.array ?? []).compactMap(\.int64)
            guard values.count == 3, values.allSatisfy({ $0 > 0 }) else {
              throw CatalogError(reason: "\(ctx): pool '\(pool)' tier '\(tier)' needs [rpm, itpm, otpm]")
            }
            limits[tier] = RateLimits(
              requestsPerMinute: values[0], inputTokensPerMinute: values[1],
              outputTokensPerMinute: values[2])
          }
        }
        rows.append(RateLimitRow(pool: pool, label: row["label"]?.string ?? pool, limits: limits))
      }
      let rule: OutputRule
      if let text = table["otpm_rule"]?.string {
        guard let r = OutputRule(rawValue: text) else {
          throw CatalogError(reason: "\(ctx): unknown 'otpm_rule' '\(text)'")
        }
        rule = r
      } else {
        throw missing("\(ctx).otpm_rule")
      }
      var long: [LongContextLimits] = []
      for entry in table["long_context"]?.array ?? [] {
        guard let pool = entry["pool"]?.string, let above = entry["above"]?.int64,
          let row = rows.first(where: { $0.pool == pool })
        else { throw CatalogError(reason: "\(ctx): a long_context entry needs a listed 'pool' and 'above'") }
        var limits: [String: RateLimits] = [:]
        if case .object(let members)? = entry["limits"] {
          for (tier, pair) in members {
            // [rpm or null, itpm, otpm]: a null RPM is the ordinary row's.
            let values = pair.array ?? []
            guard values.count == 3, let itpm = values[1].int64, let otpm = values[2].int64, itpm > 0, otpm > 0,
              let rpm = values[0].isNull ? row.limits[tier]?.requestsPerMinute : values[0].int64
            else {
              throw CatalogError(
                reason: "\(ctx): long_context '\(pool)' tier '\(tier)' needs [rpm or null, itpm, otpm]")
            }
            limits[tier] = RateLimits(requestsPerMinute: rpm, inputTokensPerMinute: itpm, outputTokensPerMinute: otpm)
          }
        }
        let ids = (entry["models"]?.array ?? []).compactMap(\.string)
        for id in ids where !models.contains(where: { $0.id == id }) {
          throw CatalogError(reason: "\(ctx): long_context names unknown model '\(id)'")
        }
        long.append(
          LongContextLimits(
            pool: pool, models: ids, above: above, source: try source(entry["source"], ctx), limits: limits))
      }
      var later: LaterTable?
      if let l = table["later_table"] {
        guard let from = try day(l["from"], "\(ctx).later_table") else { throw missing("\(ctx).later_table.from") }
        later = LaterTable(
          from: from, source: try source(l["source"], "\(ctx).later_table"), note: l["note"]?.string ?? "")
      }
      tables.append(
        RateLimitTable(
          id: id, from: try day(table["from"], ctx), until: try day(table["until"], ctx),
          source: try source(table["source"], ctx), note: table["note"]?.string ?? "",
          tiers: tiers, rows: rows, outputRule: rule, longContext: long, laterTable: later))
    }
    var burndown: [String: Multiplier] = [:]
    for group in root["accounting"]?["bedrock"]?["output_burndown"]?.array ?? [] {
      guard let value = group["value"]?.int64, value > 0 else {
        throw CatalogError(reason: "accounting.bedrock.output_burndown needs a whole 'value'")
      }
      for id in (group["models"]?.array ?? []).compactMap(\.string) {
        guard models.contains(where: { $0.id == id }) else {
          throw CatalogError(reason: "accounting.bedrock.output_burndown names unknown model '\(id)'")
        }
        burndown[id] = Multiplier(numerator: Int128(value), denominator: 1)
      }
    }
    return ModelCatalog(
      version: version, sha256: sha, models: models, modifiers: modifiers,
      rateLimitTables: tables, sources: sources, bedrockBurndown: burndown)
  }

  private static func missing(_ what: String) -> CatalogError {
    CatalogError(reason: "'\(what)' is missing or has the wrong type")
  }

  private static func day(_ value: JSONValue?, _ context: String) throws(CatalogError) -> CivilDay? {
    guard let value, !value.isNull else { return nil }
    guard let text = value.string, let day = CivilDay(text) else {
      throw CatalogError(reason: "\(context): not a YYYY-MM-DD date")
    }
    return day
  }

  private static func rates(_ value: JSONValue?, _ context: String) throws(CatalogError)
    -> RateCard?
  {
    guard let value, !value.isNull else { return nil }
    func rate(_ key: String) throws(CatalogError) -> TokenRate {
      guard let text = value[key]?.string, let rate = TokenRate(perMillionTokens: text) else {
        throw CatalogError(reason: "\(context).\(key): not a decimal price")
      }
      return rate
    }
    return RateCard(
      input: try rate("input"), write5m: try rate("write_5m"), write1h: try rate("write_1h"),
      read: try rate("read"), output: try rate("output"))
  }

  private static func checkDisjoint(_ spans: [(CivilDay?, CivilDay?)], _ context: String)
    throws(CatalogError)
  {
    for (a, x) in spans.enumerated() {
      if let f = x.0, let u = x.1, f >= u {
        throw CatalogError(reason: "\(context): a period ends before it starts")
      }
      for y in spans[(a + 1)...] {
        let lo = max(x.0?.daysSinceEpoch ?? Int64.min, y.0?.daysSinceEpoch ?? Int64.min)
        let hi = min(x.1?.daysSinceEpoch ?? Int64.max, y.1?.daysSinceEpoch ?? Int64.max)
        if lo < hi { throw CatalogError(reason: "\(context): dated periods overlap") }
      }
    }
  }
}
