/// The token counts of one response's `usage`, or the sum of many.
///
/// Every field is a non-negative count. Sums are overflow-checked: an
/// overflow is reported as ``UsageError/overflow(_:)``, never a trap.
///
/// | field                  | usage key                                          |
/// |------------------------|----------------------------------------------------|
/// | `input`                | `input_tokens` (uncached, after the last breakpoint) |
/// | `cacheWrite5m`         | `cache_creation.ephemeral_5m_input_tokens`         |
/// | `cacheWrite1h`         | `cache_creation.ephemeral_1h_input_tokens`         |
/// | `cacheWriteUnknownTTL` | `cache_creation_input_tokens` − (5m + 1h)          |
/// | `cacheRead`            | `cache_read_input_tokens`                          |
/// | `output`               | `output_tokens`                                    |
/// | `webSearchRequests`    | `server_tool_use.web_search_requests`              |
public struct TokenUsage: Sendable, Hashable, Codable {
  public var input: Int64
  public var cacheWrite5m: Int64
  public var cacheWrite1h: Int64
  public var cacheWriteUnknownTTL: Int64
  public var cacheRead: Int64
  public var output: Int64
  public var webSearchRequests: Int64

  public init(
    input: Int64 = 0, cacheWrite5m: Int64 = 0, cacheWrite1h: Int64 = 0,
    cacheWriteUnknownTTL: Int64 = 0, cacheRead: Int64 = 0, output: Int64 = 0,
    webSearchRequests: Int64 = 0
  ) {
    self.input = input
    self.cacheWrite5m = cacheWrite5m
    self.cacheWrite1h = cacheWrite1h
    self.cacheWriteUnknownTTL = cacheWriteUnknownTTL
    self.cacheRead = cacheRead
    self.output = output
    self.webSearchRequests = webSearchRequests
  }

  /// Builds usage from the API's fields, splitting writes by TTL.
  ///
  /// When the 5-minute and 1-hour parts are given, writes of unknown TTL are
  /// the rest of `cache_creation_input_tokens`. When the parts add up to more
  /// than the total, the parts win (the total was stale or absent).
  public static func fromAPI(
    input: Int64, cacheCreation: Int64?, cacheWrite5m: Int64?,
    cacheWrite1h: Int64?, cacheRead: Int64?, output: Int64,
    webSearchRequests: Int64? = nil
  ) throws(UsageError) -> TokenUsage {
    let w5 = cacheWrite5m ?? 0
    let w1 = cacheWrite1h ?? 0
    for value in [
      input, cacheCreation ?? 0, w5, w1, cacheRead ?? 0, output,
      webSearchRequests ?? 0,
    ] where value < 0 {
      throw .negative(value)
    }
    let split = try add(w5, w1, "cache_creation")
    let unknown = max(0, (cacheCreation ?? split) - split)
    return TokenUsage(
      input: input, cacheWrite5m: w5, cacheWrite1h: w1,
      cacheWriteUnknownTTL: unknown, cacheRead: cacheRead ?? 0,
      output: output, webSearchRequests: webSearchRequests ?? 0)
  }

  /// All cache writes, `w = w5 + w1h + wu`.
  public func cacheWrite() throws(UsageError) -> Int64 {
    try Self.add(
      try Self.add(cacheWrite5m, cacheWrite1h, "cache_creation"),
      cacheWriteUnknownTTL, "cache_creation")
  }

  /// The whole prompt, `P = in + w + cr`: what count_tokens returns.
  public func prompt() throws(UsageError) -> Int64 {
    try Self.add(try Self.add(input, try cacheWrite(), "prompt"), cacheRead, "prompt")
  }

  /// Adds two usages field by field.
  public func adding(_ other: TokenUsage) throws(UsageError) -> TokenUsage {
    TokenUsage(
      input: try Self.add(input, other.input, "input_tokens"),
      cacheWrite5m: try Self.add(cacheWrite5m, other.cacheWrite5m, "cache_creation_5m"),
      cacheWrite1h: try Self.add(cacheWrite1h, other.cacheWrite1h, "cache_creation_1h"),
      cacheWriteUnknownTTL: try Self.add(
        cacheWriteUnknownTTL, other.cacheWriteUnknownTTL, "cache_creation_unknown_ttl"),
      cacheRead: try Self.add(cacheRead, other.cacheRead, "cache_read"),
      output: try Self.add(output, other.output, "output_tokens"),
      webSearchRequests: try Self.add(
        webSearchRequests, other.webSearchRequests, "web_search_requests"))
  }

  /// The field-by-field maximum: the final snapshot of a streamed response.
  public func maximum(_ other: TokenUsage) -> TokenUsage {
    TokenUsage(
      input: max(input, other.input),
      cacheWrite5m: max(cacheWrite5m, other.cacheWrite5m),
      cacheWrite1h: max(cacheWrite1h, other.cacheWrite1h),
      cacheWriteUnknownTTL: max(cacheWriteUnknownTTL, other.cacheWriteUnknownTTL),
      cacheRead: max(cacheRead, other.cacheRead),
      output: max(output, other.output),
      webSearchRequests: max(webSearchRequests, other.webSearchRequests))
  }

  static func add(_ a: Int64, _ b: Int64, _ field: String) throws(UsageError) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw .overflow(field) }
    return sum
  }
}

/// A problem with token counts.
public enum UsageError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A sum left the range of a 64-bit integer.
  case overflow(String)
  /// A count was below zero.
  case negative(Int64)

  public var description: String {
    switch self {
    case .overflow(let field): "token count overflow in '\(field)'"
    case .negative(let value): "negative token count \(value)"
    }
  }
}
