/// A token bucket as the rate-limit docs describe it: capacity = the
/// per-minute limit, refilled continuously at limit / 60 per second, full at
/// the start.
///
/// Arithmetic is exact: levels are kept in token-milliseconds ×60,000 / minute,
/// so with millisecond timestamps the refill is an integer.
///
/// | event | effect |
/// |---|---|
/// | time passes Δ ms | level += Δ × limit (scaled), capped at capacity |
/// | charge n | level −= n × 60,000 (may only happen when it fits) |
/// | settle d | level += d × 60,000, capped at capacity (may go negative) |
public struct TokenBucket: Sendable, Hashable, Codable {
  /// Tokens (or requests) per minute.
  public let limit: Int64
  /// Level × 60,000.
  private var scaled: Int128
  private var at: Int64

  private static let scale: Int128 = 60_000

  /// A full bucket at `start`.
  public init(limit: Int64, start: Instant) {
    self.limit = max(1, limit)
    scaled = Int128(self.limit) * TokenBucket.scale
    at = start.millisecondsSinceEpoch
  }

  private var capacity: Int128 { Int128(limit) * TokenBucket.scale }

  /// Refills up to `time` (never backwards).
  public mutating func advance(to time: Instant) {
    let t = time.millisecondsSinceEpoch
    guard t > at else { return }
    scaled = min(capacity, scaled + Int128(t - at) * Int128(limit))
    at = t
  }

  /// Whether `n` could ever fit: not more than the capacity.
  public func canEverFit(_ n: Int64) -> Bool { Int128(n) <= Int128(limit) }

  /// The earliest instant at or after the bucket's time when `n` fits; nil if never.
  public func whenFits(_ n: Int64) -> Instant? {
    guard canEverFit(n) else { return nil }
    let need = Int128(n) * TokenBucket.scale - scaled
    if need <= 0 { return Instant(millisecondsSinceEpoch: at) }
    let ms = (need + Int128(limit) - 1) / Int128(limit)
    return Instant(millisecondsSinceEpoch: at + Int64(ms))
  }

  /// Whether `n` fits now.
  public func fits(_ n: Int64) -> Bool { Int128(n) * TokenBucket.scale <= scaled }

  /// Removes `n`; the level may not go below zero (callers check `fits`).
  public mutating func charge(_ n: Int64) {
    scaled = max(0, scaled - Int128(n) * TokenBucket.scale)
  }

  /// Settles an earlier charge: a positive `delta` gives tokens back (up to
  /// the capacity), a negative one takes more, and the level may then go
  /// below zero (a debt that refills like any level).
  public mutating func settle(_ delta: Int64) {
    scaled = min(capacity, scaled + Int128(delta) * TokenBucket.scale)
  }

  /// The level in tokens, as an exact ratio.
  public var level: Ratio {
    Ratio(nonzero: scaled, TokenBucket.scale)
  }

  /// The bucket's current time.
  public var time: Instant { Instant(millisecondsSinceEpoch: at) }
}
