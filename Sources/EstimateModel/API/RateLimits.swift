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

/// How a rate-limit table admits output tokens (OTPM).
///
/// | rule | at send | at the response's end | tables |
/// |---|---|---|---|
/// | `max_tokens` | charge `max_tokens` (must fit) | settle to the real output | 2025 |
/// | `real_time` | nothing; admitted while the bucket is not in debt | charge the real output | 2026-09 |
public enum OutputRule: String, Sendable, Hashable, Codable, CaseIterable {
  /// "OTPM rate limits are estimated based on `max_tokens` at the beginning
  /// of each request, and the estimate is adjusted at the end" (2025).
  case maxTokens = "max_tokens"
  /// "OTPM rate limits are evaluated in real time as output tokens are
  /// produced … `max_tokens` does not factor into" them (2026).
  case realTime = "real_time"
}

/// A table's separate limits for long requests: the 2025 tables' bucket for
/// Sonnet 4 and 4.5 requests over 200K tokens (`context-1m` beta).
public struct LongContextLimits: Sendable, Hashable, Codable {
  /// The pool whose long requests are split off.
  public var pool: String
  /// The catalog ids of the models concerned.
  public var models: [String]
  /// A request whose prompt (P) is above this is charged here.
  public var above: Int64
  public var source: String
  /// Limits by tier; the RPM is the ordinary row's (the table gives none).
  public var limits: [String: RateLimits]

  public init(pool: String, models: [String], above: Int64, source: String, limits: [String: RateLimits]) {
    self.pool = pool
    self.models = models
    self.above = above
    self.source = source
    self.limits = limits
  }

  /// The pool name of the separate bucket: `sonnet-4:long-context`.
  public var bucketPool: String { pool + LongContextLimits.suffix }

  public static let suffix = ":long-context"
}

/// A later table known only from third-party copies: from `from` on, a
/// table's figures are carried forward and marked.
public struct LaterTable: Sendable, Hashable, Codable {
  public var from: CivilDay
  public var source: String
  public var note: String

  public init(from: CivilDay, source: String, note: String) {
    self.from = from
    self.source = source
    self.note = note
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
  /// How the table admits output tokens.
  public var outputRule: OutputRule
  /// Separate buckets for long requests, where the table has them.
  public var longContext: [LongContextLimits]
  /// A later table known only from third-party copies, where one is.
  public var laterTable: LaterTable?

  public init(
    id: String, from: CivilDay?, until: CivilDay?, source: String, note: String,
    tiers: [String], rows: [RateLimitRow], outputRule: OutputRule = .maxTokens,
    longContext: [LongContextLimits] = [], laterTable: LaterTable? = nil
  ) {
    self.laterTable = laterTable
    self.id = id
    self.from = from
    self.until = until
    self.source = source
    self.note = note
    self.tiers = tiers
    self.rows = rows
    self.outputRule = outputRule
    self.longContext = longContext
  }

  public func contains(_ day: CivilDay) -> Bool {
    (from.map { day >= $0 } ?? true) && (until.map { day < $0 } ?? true)
  }

  /// The later table known from third parties when this one is applied on
  /// `day`; nil when the table is the last word for that day.
  public func carriedForward(on day: CivilDay) -> LaterTable? {
    guard let l = laterTable, day >= l.from else { return nil }
    return l
  }

  /// The limits of a pool at a tier; nil when the table has no such row.
  /// A long-context bucket (`sonnet-4:long-context`) has its own limits.
  public func limits(pool: String, tier: String) -> RateLimits? {
    if pool.hasSuffix(LongContextLimits.suffix) {
      return longContext.first { $0.bucketPool == pool }?.limits[tier]
    }
    return rows.first { $0.pool == pool }?.limits[tier]
  }

  /// The bucket a request is charged to at a tier: its pool, or the pool's
  /// long-context bucket when the request is above the threshold, its model
  /// is one the table names and the tier has such limits.
  public func bucket(pool: String, model: String, prompt: Int64, tier: String) -> String {
    guard
      let long = longContext.first(where: {
        $0.pool == pool && $0.models.contains(model) && prompt > $0.above && $0.limits[tier] != nil
      })
    else { return pool }
    return long.bucketPool
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
