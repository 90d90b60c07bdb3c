public import EstimateModel

/// One usage-bearing record, normalized from any input format.
public struct UsageRecord: Sendable {
  /// The de-duplication key: `message.id` and `requestId`, or the file and line.
  public var key: String
  public var messageID: String?
  public var requestID: String?
  public var time: Instant?
  public var session: String
  public var project: String
  public var model: String
  public var agent: String?
  public var sidechain: Bool
  /// A copy embedded in another line (`progress` lines' `data.message`).
  public var embedded: Bool
  public var stopReason: Bool
  public var usage: TokenUsage
  public var options: RequestOptions
  public var file: String
  public var line: Int
  /// What count_tokens returned for this request's prompt, when captured.
  public var measuredCountTokens: Int64?
  /// The `anthropic-ratelimit-*` headers of the response, when captured.
  public var rateLimit: RateLimitHeaders?
  /// A bucket of many requests (Admin API reports), not one request.
  public var aggregate = false
  /// A stream that ended before `message_stop`.
  public var incompleteStream = false

  public init(
    key: String, messageID: String?, requestID: String?, time: Instant?, session: String,
    project: String, model: String, agent: String?, sidechain: Bool, embedded: Bool = false,
    stopReason: Bool, usage: TokenUsage, options: RequestOptions, file: String, line: Int
  ) {
    self.embedded = embedded
    self.key = key
    self.messageID = messageID
    self.requestID = requestID
    self.time = time
    self.session = session
    self.project = project
    self.model = model
    self.agent = agent
    self.sidechain = sidechain
    self.stopReason = stopReason
    self.usage = usage
    self.options = options
    self.file = file
    self.line = line
  }
}

/// One API request after de-duplication: every copy's maximum per field.
public struct Request: Sendable {
  public var record: UsageRecord
  /// Every copy was a sidechain copy.
  public var sidechain: Bool
  /// Some copy carried a non-null `stop_reason`.
  public var stopReason: Bool
  /// Every copy was embedded in another line: the request is known only
  /// from a `progress` line's copy.
  public var embeddedOnly: Bool
  public var usage: TokenUsage
  public var options: RequestOptions
  public var copies: Int

  init(_ r: UsageRecord) {
    record = r
    sidechain = r.sidechain
    stopReason = r.stopReason
    embeddedOnly = r.embedded
    usage = r.usage
    options = r.options
    copies = 1
  }

  /// Folds another copy in; the result does not depend on the order of copies.
  mutating func absorb(_ other: Request) {
    usage = usage.maximum(other.usage)
    sidechain = sidechain && other.sidechain
    stopReason = stopReason || other.stopReason
    embeddedOnly = embeddedOnly && other.embeddedOnly
    options = RequestOptions(
      batch: options.batch || other.options.batch, usGeo: options.usGeo || other.options.usGeo,
      fast: options.fast || other.options.fast)
    copies += other.copies
    if let m = other.record.measuredCountTokens, record.measuredCountTokens == nil {
      record.measuredCountTokens = m
    }
    // Metadata comes from the earliest copy; ties by file and line.
    if Request.precedes(other.record, record) { record = other.record }
  }

  static func precedes(_ a: UsageRecord, _ b: UsageRecord) -> Bool {
    let ta = a.time?.millisecondsSinceEpoch ?? .max
    let tb = b.time?.millisecondsSinceEpoch ?? .max
    return (ta, a.file, a.line) < (tb, b.file, b.line)
  }
}

/// The rate-limit headers of one response (RL-2026-09 §Response headers).
public struct RateLimitHeaders: Sendable, Equatable {
  public var inputTokensLimit: Int64?
  public var inputTokensRemaining: Int64?
  public var inputTokensReset: String?
  public var outputTokensLimit: Int64?
  public var outputTokensRemaining: Int64?
  public var requestsLimit: Int64?
  public var requestsRemaining: Int64?
  public var tokensLimit: Int64?
  public var tokensRemaining: Int64?

  public init() {}

  /// Reads the headers from name/value pairs (names compared case-insensitively).
  public init?(_ headers: [(String, String)]) {
    var h = RateLimitHeaders()
    var any = false
    for (name, value) in headers {
      let n = name.lowercased()
      guard n.hasPrefix("anthropic-ratelimit-") else { continue }
      any = true
      let v = Int64(value.trimmingSpaces)
      switch n {
      case "anthropic-ratelimit-input-tokens-limit": h.inputTokensLimit = v
      case "anthropic-ratelimit-input-tokens-remaining": h.inputTokensRemaining = v
      case "anthropic-ratelimit-input-tokens-reset": h.inputTokensReset = value
      case "anthropic-ratelimit-output-tokens-limit": h.outputTokensLimit = v
      case "anthropic-ratelimit-output-tokens-remaining": h.outputTokensRemaining = v
      case "anthropic-ratelimit-requests-limit": h.requestsLimit = v
      case "anthropic-ratelimit-requests-remaining": h.requestsRemaining = v
      case "anthropic-ratelimit-tokens-limit": h.tokensLimit = v
      case "anthropic-ratelimit-tokens-remaining": h.tokensRemaining = v
      default: break
      }
    }
    guard any else { return nil }
    self = h
  }
}
