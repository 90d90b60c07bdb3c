/// Requests, input tokens and output tokens per minute for one pool and tier.
public struct RateLimits: Sendable, Hashable, Codable {
  public var requestsPerMinute: Int64
  public var inputTokensPerMinute: Int64
  public var outputTokensPerMinute: Int64

  public init(requestsPerMinute: Int64, inputTokensPerMinute: Int64, outputTokensPerMinute: Int64) {
    self.requestsPerMinute = requestsPerMinute
    self.inputTokensPerMinute = inputTokensPerMinute
    self.outputTokensPerMinute = outputTokensPerMinute
  }
}

/// One row of a rate-limit table: a pool of models sharing limits.
public struct RateLimitRow: Sendable, Hashable, Codable {
  public var pool: String
  public var label: String
  public var limits: [String: RateLimits]

  public init(pool: String, label: String, limits: [String: RateLimits]) {
    self.pool = pool
    self.label = label
    self.limits = limits
  }
}

/// A generation of the published rate-limit tables, dated.
public struct RateLimitTable: Sendable, Hashable, Codable {
  public var id: String
  public var from: CivilDay?
  public var until: CivilDay?
  public var source: String
  public var note: String
  /// Tier names in order: `tier-1` … `tier-4`, or `start`, `build`, `scale`.
  public var tiers: [String]
  public var rows: [RateLimitRow]

  public init(
    id: String, from: CivilDay?, until: CivilDay?, source: String, note: String,
    tiers: [String], rows: [RateLimitRow]
  ) {
    self.id = id
    self.from = from
    self.until = until
    self.source = source
    self.note = note
    self.tiers = tiers
    self.rows = rows
  }

  public func contains(_ day: CivilDay) -> Bool {
    (from.map { day >= $0 } ?? true) && (until.map { day < $0 } ?? true)
  }

  /// The limits of a pool at a tier; nil when the table has no such row.
  public func limits(pool: String, tier: String) -> RateLimits? {
    rows.first { $0.pool == pool }?.limits[tier]
  }
}

/// Why limits could not be found.
public enum RateLimitError: Error, Equatable, Sendable, CustomStringConvertible {
  case unknownTier(String, day: CivilDay, available: [String])

  public var description: String {
    switch self {
    case .unknownTier(let tier, let day, let available):
      "tier '\(tier)' is not in the rate-limit table in force on \(day)"
        + (available.isEmpty ? "" : " (tiers: \(available.joined(separator: ", ")))")
    }
  }
}

extension ModelCatalog {
  /// The table in force on a day that lists the tier.
  public func rateLimitTable(tier: String, on day: CivilDay) throws(RateLimitError)
    -> RateLimitTable
  {
    let inForce = rateLimitTables.filter { $0.contains(day) }
    if let table = inForce.first(where: { $0.tiers.contains(tier) }) { return table }
    throw .unknownTier(tier, day: day, available: inForce.flatMap(\.tiers))
  }

  /// The table listing the tier that is in force on the day, or else the one
  /// nearest to it in time (its start or end); `exact` says which.
  public func nearestRateLimitTable(tier: String, to day: CivilDay) -> (table: RateLimitTable, exact: Bool)? {
    if let t = try? rateLimitTable(tier: tier, on: day) { return (t, true) }
    let candidates = rateLimitTables.filter { $0.tiers.contains(tier) }
    func distance(_ t: RateLimitTable) -> Int64 {
      if let f = t.from, day < f { return f.daysSinceEpoch - day.daysSinceEpoch }
      if let u = t.until, day >= u { return day.daysSinceEpoch - u.daysSinceEpoch + 1 }
      return 0
    }
    return candidates.min { distance($0) < distance($1) }.map { ($0, false) }
  }

  /// The tables in force on a day.
  public func rateLimitTables(on day: CivilDay) -> [RateLimitTable] {
    rateLimitTables.filter { $0.contains(day) }
  }
}

/// Prompt tokens per minute a limit admits at the observed ratio `ΣP / ΣI`.
///
/// The docs' example: 2,000,000 ITPM at an 80 % cache hit rate admits
/// 10,000,000 prompt tokens per minute (2M uncached + 8M cached).
/// - Returns: nil when the hit rate is 1 (nothing counts, no bound).
public func effectivePromptThroughput(itpmLimit: Int64, cacheHitRate: Ratio) -> Ratio? {
  // L / (1 − h) = L × d / (d − n)
  let rest = cacheHitRate.denominator - cacheHitRate.numerator
  return Ratio(Int128(itpmLimit) * cacheHitRate.denominator, rest)
}
