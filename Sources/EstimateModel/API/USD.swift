/// An exact amount of US dollars, counted in attodollars (10⁻¹⁸ USD).
///
/// Prices are at most a few dollars per million tokens with a handful of
/// decimals, so a price per token is an exact integer of attodollars, and
/// sums over any realistic history fit in 128 bits.
public struct USD: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
  public var attodollars: Int128

  public init(attodollars: Int128) { self.attodollars = attodollars }

  public static let zero = USD(attodollars: 0)

  public static func + (a: USD, b: USD) -> USD {
    USD(attodollars: a.attodollars + b.attodollars)
  }

  public static func < (a: USD, b: USD) -> Bool { a.attodollars < b.attodollars }

  /// The amount with at most `decimals` digits after the point, rounded half up.
  public func formatted(decimals: Int = 9) -> String {
    let (negative, rounded, scale, decimals) = rounded(decimals: decimals)
    return (negative ? "-" : "") + Decimal128Text.fixed(rounded, scale: scale, decimals: decimals)
  }

  /// ``formatted(decimals:)``'s text appended to `bytes`, no String made:
  /// for writers of many cells.
  package func write(decimals: Int = 9, to bytes: inout [UInt8]) {
    let (negative, rounded, scale, decimals) = rounded(decimals: decimals)
    if negative { bytes.append(UInt8(ascii: "-")) }
    Decimal128Text.append(rounded, scale: scale, decimals: decimals, to: &bytes)
  }

  /// The magnitude in units of 10^-`decimals` dollars, rounded half up; the
  /// scale of those units; whether a minus sign is written (never for a
  /// zero); the decimals clamped to 0...18.
  private func rounded(decimals: Int) -> (negative: Bool, rounded: UInt128, scale: UInt128, decimals: Int) {
    let decimals = min(max(decimals, 0), 18)
    var unit: UInt128 = 1
    for _ in 0..<(18 - decimals) { unit *= 10 }
    let magnitude = attodollars.magnitude
    // Half up, without forming magnitude + unit / 2 (which could overflow);
    // in 64 bits when the amount fits (under $18), as nearly every request does.
    let (q, r) =
      magnitude <= UInt128(UInt64.max)
      ? {
        let (q, r) = UInt64(magnitude).quotientAndRemainder(dividingBy: UInt64(unit))
        return (UInt128(q), UInt128(r))
      }()
      : magnitude.quotientAndRemainder(dividingBy: unit)
    let rounded = q + (r >= unit - unit / 2 && unit > 1 ? 1 : 0)
    var scale: UInt128 = 1
    for _ in 0..<decimals { scale *= 10 }
    return (attodollars < 0 && rounded != 0, rounded, scale, decimals)
  }

  public var description: String { "$" + formatted() }

  /// Reads dollars written as a JSON number (`0.0123`, `1.5e-3`, `12`), as
  /// logs write a cost (Claude Code 1.0.x's `costUSD`): exact to the
  /// attodollar, digits beyond it rounded half up. Nil for anything else,
  /// a negative amount, more than 36 digits, or an amount past 10¹⁸ dollars.
  public init?(dollars text: some Collection<UInt8>) {
    var digits: Int128 = 0
    var count = 0
    var scale = 0  // digits after the point
    var exponent = 0
    var i = text.startIndex
    func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    guard i != text.endIndex, digit(text[i]) else { return nil }
    // JSON: no leading zero before other digits.
    if text[i] == 0x30, text.index(after: i) != text.endIndex, digit(text[text.index(after: i)]) { return nil }
    var point = false
    while i != text.endIndex {
      let c = text[i]
      if digit(c) {
        count += 1
        guard count <= 36 else { return nil }
        digits = digits * 10 + Int128(c - 0x30)
        if point { scale += 1 }
      } else if c == UInt8(ascii: "."), !point {
        point = true
        let next = text.index(after: i)
        guard next != text.endIndex, digit(text[next]) else { return nil }
      } else {
        break
      }
      i = text.index(after: i)
    }
    if i != text.endIndex {
      guard text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") else { return nil }
      i = text.index(after: i)
      var negative = false
      if i != text.endIndex, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
        negative = text[i] == UInt8(ascii: "-")
        i = text.index(after: i)
      }
      guard i != text.endIndex else { return nil }
      while i != text.endIndex {
        guard digit(text[i]) else { return nil }
        exponent = exponent * 10 + Int(text[i] - 0x30)
        guard exponent <= 100 else { return nil }
        i = text.index(after: i)
      }
      if negative { exponent = -exponent }
    }
    // attodollars = digits × 10^(18 + exponent − scale)
    let power = 18 + exponent - scale
    if power >= 0 {
      var value = digits
      for _ in 0..<power {
        let (m, o) = value.multipliedReportingOverflow(by: 10)
        guard !o, m <= 1_000_000_000_000_000_000 * 1_000_000_000_000_000_000 else { return nil }
        value = m
      }
      attodollars = value
    } else {
      guard power > -60 else {
        attodollars = 0
        return
      }
      var unit: Int128 = 1
      for _ in 0..<(-power) {
        let (m, o) = unit.multipliedReportingOverflow(by: 10)
        if o {
          attodollars = 0
          return
        }
        unit = m
      }
      let (q, r) = digits.quotientAndRemainder(dividingBy: unit)
      attodollars = q + (r >= unit - unit / 2 ? 1 : 0)
    }
    guard attodollars <= 1_000_000_000_000_000_000 * 1_000_000_000_000_000_000 else { return nil }
  }

  /// The ratio of two amounts, rounded to six decimals; nil when `other` is zero.
  public func ratio(to other: USD) -> Ratio? {
    Ratio(attodollars, other.attodollars)
  }
}

/// Decimal text of fixed-point values: 64-bit arithmetic when it fits.
enum Decimal128Text {
  /// `value / scale` with `decimals` digits after the point, trailing zeros trimmed.
  ///
  /// The digits are written into a stack buffer and the String made once:
  /// this runs for every money and ratio cell of every output row.
  static func fixed(_ value: UInt128, scale: UInt128, decimals: Int) -> String {
    // 39 digits for the whole part, a point, at most 38 decimals.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 80) { buf in
      let n = render(value, scale: scale, decimals: decimals, into: buf)
      return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
    }
  }

  /// ``fixed(_:scale:decimals:)``'s text appended to `bytes`.
  static func append(_ value: UInt128, scale: UInt128, decimals: Int, to bytes: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 80) { buf in
      let n = render(value, scale: scale, decimals: decimals, into: buf)
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[0..<n]))
    }
  }

  /// Writes ``fixed(_:scale:decimals:)``'s text into `buf` (80 bytes at
  /// least); its length.
  private static func render(
    _ value: UInt128, scale: UInt128, decimals: Int, into buf: UnsafeMutableBufferPointer<UInt8>
  ) -> Int {
    let whole: UInt128
    let rest: UInt128
    if value <= UInt128(UInt64.max), scale <= UInt128(UInt64.max) {
      // 64-bit division is several times cheaper than 128-bit.
      let (q, r) = UInt64(value).quotientAndRemainder(dividingBy: UInt64(max(scale, 1)))
      (whole, rest) = (UInt128(q), UInt128(r))
    } else {
      (whole, rest) = value.quotientAndRemainder(dividingBy: max(scale, 1))
    }
    var n = write(whole, into: buf, at: 0, width: 1)
    if decimals > 0, rest != 0 {
      buf[n] = UInt8(ascii: ".")
      n = write(rest, into: buf, at: n + 1, width: min(decimals, 38))
      while buf[n - 1] == UInt8(ascii: "0") { n -= 1 }
    }
    return n
  }

  /// Writes `value` in decimal, zero-padded to `width` digits, at `start`; the end index.
  private static func write(_ value: UInt128, into buf: UnsafeMutableBufferPointer<UInt8>, at start: Int, width: Int)
    -> Int
  {
    guard value <= UInt128(UInt64.max) else {
      let text = Array(String(value).utf8)
      let count = max(text.count, width)
      for k in 0..<(count - text.count) { buf[start + k] = UInt8(ascii: "0") }
      for (k, c) in text.enumerated() { buf[start + count - text.count + k] = c }
      return start + count
    }
    var digits = 1
    var v = UInt64(value)
    while v >= 10 {
      digits += 1
      v /= 10
    }
    let count = max(digits, width)
    var k = start + count
    v = UInt64(value)
    while k > start {
      k -= 1
      buf[k] = UInt8(ascii: "0") + UInt8(v % 10)
      v /= 10
    }
    return start + count
  }
}

/// A price per token, exact in attodollars.
public struct TokenRate: Sendable, Hashable, CustomStringConvertible, Codable {
  /// Attodollars per token, which is the same number as micro-micro-dollars per
  /// million tokens: $3 per MTok is 3×10¹² attodollars per token.
  public var attodollarsPerToken: Int128

  public init(attodollarsPerToken: Int128) {
    self.attodollarsPerToken = attodollarsPerToken
  }

  /// Reads a price written in dollars per million tokens, such as `"3.75"`.
  public init?(perMillionTokens text: String) {
    guard let value = Decimal12(text) else { return nil }
    attodollarsPerToken = value.scaled
  }

  /// The price of `tokens` tokens.
  public func cost(_ tokens: Int64) -> USD {
    USD(attodollars: Int128(tokens) * attodollarsPerToken)
  }

  /// The rate times an exact multiplier, rounded half up when not exact.
  public func scaled(by multiplier: Multiplier) -> TokenRate {
    TokenRate(attodollarsPerToken: multiplier.apply(attodollarsPerToken))
  }

  /// The rate in dollars per million tokens, as the catalog writes it.
  public var perMillionTokens: String {
    USD(attodollars: attodollarsPerToken * 1_000_000).formatted(decimals: 12)
  }

  public var description: String { "$\(perMillionTokens)/MTok" }
}

/// An exact decimal multiplier such as 1.1 or 0.5.
public struct Multiplier: Sendable, Hashable, CustomStringConvertible, Codable {
  public var numerator: Int128
  public var denominator: Int128

  public static let one = Multiplier(numerator: 1, denominator: 1)

  public init(numerator: Int128, denominator: Int128) {
    self.numerator = numerator
    self.denominator = denominator
  }

  /// Reads a decimal such as `"1.1"`.
  public init?(_ text: String) {
    guard let value = Decimal12(text) else { return nil }
    numerator = value.scaled
    denominator = 1_000_000_000_000
  }

  public static func * (a: Multiplier, b: Multiplier) -> Multiplier {
    Multiplier(
      numerator: a.numerator * b.numerator,
      denominator: a.denominator * b.denominator)
  }

  func apply(_ value: Int128) -> Int128 {
    let product = value * numerator
    return (product + denominator / 2) / denominator
  }

  public var description: String {
    USD(attodollars: numerator * 1_000_000_000_000_000_000 / denominator).formatted(decimals: 6)
  }
}

/// A non-negative decimal with at most 12 fractional digits, scaled by 10¹².
struct Decimal12 {
  var scaled: Int128

  init?(_ text: String) {
    var whole: Int128 = 0
    var fraction: Int128 = 0
    var fractionDigits = 0
    var seenPoint = false
    var digits = 0
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        digits += 1
        if digits > 24 { return nil }
        let d = Int128(byte - UInt8(ascii: "0"))
        if seenPoint {
          fractionDigits += 1
          if fractionDigits > 12 { return nil }
          fraction = fraction * 10 + d
        } else {
          whole = whole * 10 + d
        }
      case UInt8(ascii: "."):
        if seenPoint { return nil }
        seenPoint = true
      default:
        return nil
      }
    }
    if digits == 0 { return nil }
    for _ in fractionDigits..<12 { fraction *= 10 }
    scaled = whole * 1_000_000_000_000 + fraction
  }
}

/// A ratio of two non-negative integers, kept exact and printed to six decimals.
public struct Ratio: Sendable, Comparable, CustomStringConvertible, Codable {
  public var numerator: Int128
  public var denominator: Int128

  /// Nil when the denominator is zero: the ratio is undefined.
  public init?(_ numerator: Int128, _ denominator: Int128) {
    guard denominator != 0 else { return nil }
    self.numerator = numerator
    self.denominator = denominator
  }

  /// A ratio whose denominator is known to be non-zero.
  init(nonzero numerator: Int128, _ denominator: Int128) {
    self.numerator = numerator
    self.denominator = denominator == 0 ? 1 : denominator
  }

  public init?(_ numerator: Int64, _ denominator: Int64) {
    self.init(Int128(numerator), Int128(denominator))
  }

  /// Compares `a.n × b.d` with `b.n × a.d` in 256 bits: exact, never traps.
  private static func cross(_ a: Ratio, _ b: Ratio) -> (left: (Int128, UInt128), right: (Int128, UInt128)) {
    // Normalize the denominators to be positive so the cross products keep the order.
    let an = a.denominator < 0 ? (0 &- a.numerator) : a.numerator
    let ad = a.denominator < 0 ? (0 &- a.denominator) : a.denominator
    let bn = b.denominator < 0 ? (0 &- b.numerator) : b.numerator
    let bd = b.denominator < 0 ? (0 &- b.denominator) : b.denominator
    let l = an.multipliedFullWidth(by: bd)
    let r = bn.multipliedFullWidth(by: ad)
    return ((l.high, l.low), (r.high, r.low))
  }

  public static func < (a: Ratio, b: Ratio) -> Bool {
    let c = cross(a, b)
    return c.left < c.right
  }

  public static func == (a: Ratio, b: Ratio) -> Bool {
    let c = cross(a, b)
    return c.left == c.right
  }

  /// The value as a `Double`, for charts and percentiles.
  public var value: Double {
    // 64-bit conversions when both fit (the generic 128-bit one is slow);
    // either way each is the nearest Double, so the quotient is the same.
    let range = Int128(Int64.min)...Int128(Int64.max)
    if range.contains(numerator), range.contains(denominator) {
      return Double(Int64(truncatingIfNeeded: numerator)) / Double(Int64(truncatingIfNeeded: denominator))
    }
    return Double(numerator) / Double(denominator)
  }

  /// Six decimals, rounded half up, trailing zeros trimmed: `10`, `0.888889`.
  ///
  /// Exact for every numerator and denominator: the digits come from long
  /// division in full width, so no intermediate product can overflow.
  ///
  /// - Parameters:
  ///   - decimals: Digits after the point, at most 18.
  ///   - shift: Powers of ten to multiply by first (2 gives a percentage).
  public func formatted(decimals: Int = 6, shift: Int = 0) -> String {
    let decimals = min(max(decimals, 0), 18)
    let shift = min(max(shift, 0), 18)
    let negative = (numerator < 0) != (denominator < 0)
    let n = numerator.magnitude
    let d = denominator.magnitude
    if let (minus, rounded, keep) = roundedSmall(decimals: decimals, shift: shift) {
      return (minus ? "-" : "") + Decimal128Text.fixed(rounded, scale: keep, decimals: decimals)
    }
    var integer = Array(String(n / d).utf8)
    var r = n % d
    var digits: [UInt8] = []
    for _ in 0..<(decimals + shift) {
      let (q, rest) = d.dividingFullWidth(r.multipliedFullWidth(by: 10))
      digits.append(UInt8(q))
      r = rest
    }
    // Half up: the remainder is at least half the denominator.
    if r >= d - r {
      var k = digits.count - 1
      var carry = true
      while carry, k >= 0 {
        if digits[k] == 9 {
          digits[k] = 0
          k -= 1
        } else {
          digits[k] += 1
          carry = false
        }
      }
      if carry {
        var j = integer.count - 1
        while carry, j >= 0 {
          if integer[j] == UInt8(ascii: "9") {
            integer[j] = UInt8(ascii: "0")
            j -= 1
          } else {
            integer[j] += 1
            carry = false
          }
        }
        if carry { integer.insert(UInt8(ascii: "1"), at: 0) }
      }
    }
    integer += digits.prefix(shift).map { $0 + UInt8(ascii: "0") }
    while integer.count > 1, integer[0] == UInt8(ascii: "0") { integer.removeFirst() }
    var fraction = digits.dropFirst(shift).map { $0 + UInt8(ascii: "0") }
    while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
    let zero = integer == [UInt8(ascii: "0")] && fraction.isEmpty
    let sign = negative && !zero ? "-" : ""
    let whole = String(decoding: integer, as: UTF8.self)
    return fraction.isEmpty
      ? sign + whole : sign + whole + "." + String(decoding: fraction, as: UTF8.self)
  }

  /// ``formatted(decimals:shift:)``'s text appended to `bytes`, with no
  /// String made when the ratio is small enough for 128-bit arithmetic (as
  /// nearly every one is): for writers of many cells.
  package func write(decimals: Int = 6, shift: Int = 0, to bytes: inout [UInt8]) {
    let decimals = min(max(decimals, 0), 18)
    let shift = min(max(shift, 0), 18)
    guard let (minus, rounded, keep) = roundedSmall(decimals: decimals, shift: shift) else {
      bytes.append(contentsOf: formatted(decimals: decimals, shift: shift).utf8)
      return
    }
    if minus { bytes.append(UInt8(ascii: "-")) }
    Decimal128Text.append(rounded, scale: keep, decimals: decimals, to: &bytes)
  }

  /// The ratio times 10^(`decimals` + `shift`), rounded half up, its
  /// magnitude; 10^`decimals`; whether a minus sign is written (never for
  /// a zero). Nil when 128-bit arithmetic might overflow (the long
  /// division in ``formatted(decimals:shift:)`` then decides).
  private func roundedSmall(decimals: Int, shift: Int) -> (minus: Bool, rounded: UInt128, keep: UInt128)? {
    let n = numerator.magnitude
    let d = denominator.magnitude
    guard n < 1 << 64, d < 1 << 100, decimals + shift <= 12 else { return nil }
    // Small enough for 128-bit arithmetic: n × 10^(k+s) × 2 + d < 2^106.
    var scale: UInt128 = 1
    for _ in 0..<(decimals + shift) { scale *= 10 }
    var keep: UInt128 = 1
    for _ in 0..<decimals { keep *= 10 }
    let top = n * scale * 2 + d
    // 64-bit division when both fit, as for nearly every row.
    let rounded =
      top <= UInt128(UInt64.max) && 2 * d <= UInt128(UInt64.max)
      ? UInt128(UInt64(top) / UInt64(2 * d)) : top / (2 * d)
    let negative = (numerator < 0) != (denominator < 0)
    return (negative && rounded != 0, rounded, keep)
  }

  public var description: String { formatted() }
}
