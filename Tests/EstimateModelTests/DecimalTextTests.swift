import Testing

@testable import EstimateModel

/// The decimal text every money and ratio cell goes through, against the
/// plain String arithmetic it replaced (the oracle: slow, obviously right).
@Suite("Decimal text")
struct DecimalTextTests {
  private func oracle(_ value: UInt128, scale: UInt128, decimals: Int) -> String {
    let whole = String(value / scale)
    let rest = value % scale
    guard decimals > 0, rest != 0 else { return whole }
    var digits = String(rest)
    digits = String(repeating: "0", count: decimals - digits.count) + digits
    while digits.last == "0" { digits.removeLast() }
    return whole + "." + digits
  }

  @Test("Fixed-point text matches String arithmetic on the 64-bit and the 128-bit paths")
  func fixedMatchesOracle() {
    var rng = SystemRandomNumberGenerator()
    var scale: UInt128 = 1
    for decimals in 0...20 {
      for _ in 0..<300 {
        let bits = Int.random(in: 1...127, using: &rng)
        let value = UInt128.random(in: 0...(UInt128(1) << bits), using: &rng)
        let text = Decimal128Text.fixed(value, scale: scale, decimals: decimals)
        #expect(text == oracle(value, scale: scale, decimals: decimals), "\(value) / \(scale)")
      }
      scale *= 10
    }
    #expect(Decimal128Text.fixed(UInt128.max, scale: 1, decimals: 0) == String(UInt128.max))
    #expect(Decimal128Text.fixed(5, scale: 1_000, decimals: 3) == "0.005")
    #expect(Decimal128Text.fixed(1_500, scale: 1_000, decimals: 3) == "1.5")
  }

  @Test("Dollars round half up on both paths: under and over 2^64 attodollars")
  func dollars() {
    #expect(USD(attodollars: 5 * 100_000_000_000).formatted(decimals: 6) == "0.000001")
    #expect(USD(attodollars: 5 * 100_000_000_000 - 1).formatted(decimals: 6) == "0")
    #expect(USD(attodollars: -15 * 100_000_000_000_000_000).formatted(decimals: 0) == "-2")
    // $20 = 2×10^19 attodollars, past UInt64.max (about 1.8×10^19).
    #expect(
      USD(attodollars: 20 * 1_000_000_000_000_000_000 + 5 * 100_000_000_000).formatted(decimals: 6) == "20.000001")
    #expect(USD(attodollars: 20 * 1_000_000_000_000_000_000 + 5 * 100_000_000_000 - 1).formatted(decimals: 6) == "20")
  }
}

@Suite("Ratio text")
struct RatioTextTests {
  @Test("Ratios near the 64-bit edge format without trapping and round half up")
  func edges() throws {
    // A denominator past 2^63: 2d overflows 64 bits while the dividend fits.
    let big = Int128(UInt64.max / 2 + 7)
    #expect(try #require(Ratio(big, big)).formatted() == "1")
    #expect(try #require(Ratio(big / 2, big)).formatted() == "0.5")
    #expect(try #require(Ratio(Int128(2), Int128(3))).formatted() == "0.666667")
    #expect(try #require(Ratio(Int128(-2), Int128(3))).formatted(decimals: 2, shift: 2) == "-66.67")
  }
}

@Suite("Instant text")
struct InstantTextTests {
  @Test("The fixed-width text equals the text assembled from padded parts, for any instant")
  func fixedWidthMatchesParts() {
    var rng = SystemRandomNumberGenerator()
    // Years -2488 to 6428 and beyond: the fast path covers 0–9999, the rest falls back.
    let span: ClosedRange<Int64> = -140_000_000_000_000...400_000_000_000_000
    for _ in 0..<20_000 {
      let t = Instant(millisecondsSinceEpoch: Int64.random(in: span, using: &rng))
      #expect(t.description == t.descriptionByParts, "\(t.millisecondsSinceEpoch)")
    }
    for ms: Int64 in [
      0, -1, 86_399_999, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_000, -62_167_219_200_001,
    ] {
      let t = Instant(millisecondsSinceEpoch: ms)
      #expect(t.description == t.descriptionByParts, "\(ms)")
    }
    #expect(Instant(millisecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000Z")
    #expect(Instant(millisecondsSinceEpoch: 253_402_300_799_999).description == "9999-12-31T23:59:59.999Z")
  }
}

@Suite("Dollars as a log writes them (costUSD)")
struct LoggedDollarsTests {
  func atto(_ text: String) -> Int128? { USD(dollars: Array(text.utf8))?.attodollars }

  @Test("Plain, fractional and exponent forms, exact to the attodollar")
  func forms() {
    // $0.12 = 0.12 × 10^18 attodollars.
    #expect(atto("0.12") == 120_000_000_000_000_000)
    #expect(atto("12") == 12_000_000_000_000_000_000)
    // 1.5e-3 = 0.0015 dollars = 1.5 × 10^15.
    #expect(atto("1.5e-3") == 1_500_000_000_000_000)
    #expect(atto("2E+2") == 200_000_000_000_000_000_000)
    #expect(atto("0") == 0)
    // 19 fractional digits: the 19th rounds half up (…5 → up, …4 → down).
    #expect(atto("0.0000000000000000015") == 2)
    #expect(atto("0.0000000000000000014") == 1)
    #expect(atto("1e-40") == 0)
  }

  @Test("Anything that is not a non-negative JSON number is refused")
  func refused() {
    for bad in ["", "-1", "-0.5", "01", ".5", "5.", "1e", "1e+", "abc", "1.2.3", "0x10", "1,5", "1e999", "\"1\""] {
      #expect(atto(bad) == nil, "\(bad)")
    }
    // More than 36 digits (an Int128 holds 38), or past 10^18 dollars.
    #expect(atto(String(repeating: "1", count: 37)) == nil)
    // 36 digits, 10^-35 dollars: below an attodollar, so 0.
    #expect(atto("0." + String(repeating: "0", count: 34) + "1") == 0)
    #expect(atto("1e19") == nil)
  }
}

@Suite("Money and ratio bytes")
struct DecimalBytesTests {
  private func bytes(_ write: (inout [UInt8]) -> Void) -> String {
    var out: [UInt8] = [0x2C]  // written after what is there, never over it
    write(&out)
    return String(decoding: out.dropFirst(), as: UTF8.self)
  }

  @Test("USD.write appends what formatted returns, for any amount and decimals")
  func dollars() {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let bits = Int.random(in: 1...126, using: &rng)
      let magnitude = Int128.random(in: 0...(Int128(1) << bits), using: &rng)
      let u = USD(attodollars: Bool.random(using: &rng) ? -magnitude : magnitude)
      let decimals = Int.random(in: -1...20, using: &rng)
      #expect(bytes { u.write(decimals: decimals, to: &$0) } == u.formatted(decimals: decimals), "\(u.attodollars)")
    }
    for a: Int128 in [0, -1, 1, -499_999_999, -500_000_000, Int128.max, Int128.min + 1] {
      let u = USD(attodollars: a)
      #expect(bytes { u.write(to: &$0) } == u.formatted(), "\(a)")
    }
  }

  @Test("Ratio.write appends what formatted returns, on the 128-bit path and the long division")
  func ratios() throws {
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let n = Int128.random(in: -(Int128(1) << Int.random(in: 1...120, using: &rng))...(Int128(1) << 70), using: &rng)
      let d = Int128.random(in: 1...(Int128(1) << Int.random(in: 1...110, using: &rng)), using: &rng)
      guard let r = Ratio(n, Bool.random(using: &rng) ? d : -d) else { continue }
      let decimals = Int.random(in: -1...14, using: &rng)
      let shift = Int.random(in: -1...4, using: &rng)
      #expect(
        bytes { r.write(decimals: decimals, shift: shift, to: &$0) } == r.formatted(decimals: decimals, shift: shift),
        "\(n)/\(d) \(decimals) \(shift)")
    }
    let third = try #require(Ratio(Int128(1), Int128(3)))
    #expect(bytes { third.write(to: &$0) } == "0.333333")
  }
}
