package import EstimateModel

/// One usage-bearing record, normalized from any input format.
package struct UsageRecord: Sendable {
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

/// The rate-limit headers of one response (RL-2026-09 §Response headers).
public final class RateLimitHeaders: Sendable, Equatable {
  public static func == (a: RateLimitHeaders, b: RateLimitHeaders) -> Bool {
    [
      a.inputTokensLimit, a.inputTokensRemaining, a.outputTokensLimit, a.outputTokensRemaining,
      a.requestsLimit, a.requestsRemaining, a.tokensLimit, a.tokensRemaining,
    ]
      == [
        b.inputTokensLimit, b.inputTokensRemaining, b.outputTokensLimit, b.outputTokensRemaining,
        b.requestsLimit, b.requestsRemaining, b.tokensLimit, b.tokensRemaining,
      ]
      && a.inputTokensReset == b.inputTokensReset
  }

  public let inputTokensLimit: Int64?
  public let inputTokensRemaining: Int64?
  public let inputTokensReset: String?
  public let outputTokensLimit: Int64?
  public let outputTokensRemaining: Int64?
  public let requestsLimit: Int64?
  public let requestsRemaining: Int64?
  public let tokensLimit: Int64?
  public let tokensRemaining: Int64?

  /// Reads the headers from name/value pairs (names compared case-insensitively).
  public init?(_ headers: [(String, String)]) {
    var h = (
      inputTokensLimit: Int64?.none, inputTokensRemaining: Int64?.none, inputTokensReset: String?.none,
      outputTokensLimit: Int64?.none, outputTokensRemaining: Int64?.none, requestsLimit: Int64?.none,
      requestsRemaining: Int64?.none, tokensLimit: Int64?.none, tokensRemaining: Int64?.none
    )
    var any = false
    for (name, value) in headers {
      let n = lowercasedName(name)
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
    inputTokensLimit = h.inputTokensLimit
    inputTokensRemaining = h.inputTokensRemaining
    inputTokensReset = h.inputTokensReset
    outputTokensLimit = h.outputTokensLimit
    outputTokensRemaining = h.outputTokensRemaining
    requestsLimit = h.requestsLimit
    requestsRemaining = h.requestsRemaining
    tokensLimit = h.tokensLimit
    tokensRemaining = h.tokensRemaining
  }
}

/// `name.lowercased()`, without building a new string when the name is
/// already lowercase ASCII (as header names usually are).
package func lowercasedName(_ name: String) -> String {
  func changes(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || c >= 0x80 }
  // Read as one buffer (a tight loop) where the text is contiguous, as native strings are.
  let lower = name.utf8.withContiguousStorageIfAvailable { !$0.contains(where: changes) }
  return lower ?? !name.utf8.contains(where: changes) ? name : name.lowercased()
}
