public import EstimateModel

/// Renders the gap of one request (`tokengap estimate`).
public enum EstimateRenderer {
  /// The JSON document; its keys are a public interface.
  public static func json(_ gap: Gap, catalog: ModelCatalog) -> String {
    let doc: JSONValue = .object([
      ("tool", .string("tokengap")),
      ("version", .string(ToolInfo.version)),
      ("catalog", catalogInfo(catalog)),
      ("model", .string(gap.model)),
      ("price_period", .text(gap.pricePeriod)),
      ("price_tier", .text(gap.priceTier)),
      ("counts_cache_reads", .bool(gap.countsCacheReads)),
      ("estimate_tokens", .int(gap.estimate)),
      ("itpm_tokens", .int(gap.itpm)),
      ("otpm_tokens", .int(gap.otpm)),
      ("overestimate_tokens", .int(gap.overestimate)),
      ("overestimation_ratio", .ratio(gap.overestimationRatio)),
      ("excess_share", .ratio(gap.excessShare)),
      ("cache_hit_rate", .ratio(gap.cacheHitRate)),
      ("input_cost_estimate_usd", .usd(gap.inputCostEstimate)),
      ("input_cost_actual_usd", .usd(gap.inputCostActual)),
      ("output_cost_usd", .usd(gap.outputCost)),
      ("cost_actual_usd", .usd(gap.costActual)),
      ("input_cost_ratio", .ratio(gap.inputCostRatio)),
      ("lower_bound", .bool(gap.lowerBound)),
      ("unpriced", .text(gap.unpriced?.rawValue)),
      ("third_party_price", .bool(gap.thirdPartyPrice)),
    ])
    return doc.serialized() + "\n"
  }

  /// A two-column table for a terminal.
  public static func table(_ gap: Gap, catalog: ModelCatalog) -> String {
    var t = TextTable(header: ["quantity", "value"], rightAligned: [1])
    let u = gap.usage
    t.append(["model", gap.model])
    t.append(["price period", gap.pricePeriod ?? "unpriced (\(gap.unpriced?.rawValue ?? ""))"])
    t.append(["price tier", gap.priceTier ?? "-"])
    t.append(["cache reads count toward ITPM", gap.countsCacheReads ? "yes" : "no"])
    t.append(["uncached input", Fmt.grouped(u.input)])
    t.append([
      "cache writes 5m / 1h / unknown TTL",
      "\(Fmt.grouped(u.cacheWrite5m)) / \(Fmt.grouped(u.cacheWrite1h)) / \(Fmt.grouped(u.cacheWriteUnknownTTL))",
    ])
    t.append(["cache reads", Fmt.grouped(u.cacheRead)])
    t.append(["estimate P (count_tokens)", Fmt.grouped(gap.estimate)])
    t.append(["ITPM charge I", Fmt.grouped(gap.itpm)])
    t.append(["OTPM charge O", Fmt.grouped(gap.otpm)])
    t.append(["overestimate E = P - I", Fmt.grouped(gap.overestimate)])
    t.append(["overestimation ratio P / I", Fmt.ratio(gap.overestimationRatio).orUndefined])
    t.append(["excess share E / P", Fmt.percent(gap.excessShare).orUndefined])
    t.append(["cache hit rate", Fmt.percent(gap.cacheHitRate).orUndefined])
    t.append(["input cost, estimated", Fmt.dollars(gap.inputCostEstimate)])
    t.append(["input cost, actual", Fmt.dollars(gap.inputCostActual) + (gap.lowerBound ? " (lower bound)" : "")])
    t.append(["output cost", Fmt.dollars(gap.outputCost)])
    t.append(["cost, actual", Fmt.dollars(gap.costActual)])
    t.append(["input cost ratio", Fmt.ratio(gap.inputCostRatio).orUndefined])
    if gap.thirdPartyPrice { t.append(["third-party prices", "yes: the costs rest on a third-party source"]) }
    return t.plain() + "catalog \(catalog.version) sha256:\(catalog.sha256.prefix(12))\n"
  }

  static func catalogInfo(_ catalog: ModelCatalog) -> JSONValue {
    .object([("version", .string(catalog.version)), ("sha256", .string(catalog.sha256))])
  }
}

extension String {
  var orUndefined: String { isEmpty ? "undefined" : self }
}

/// Facts about this build.
public enum ToolInfo {
  public static let version = "0.1.0"
}
