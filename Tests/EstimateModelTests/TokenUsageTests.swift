import Testing

@testable import EstimateModel

@Suite("Token usage")
struct TokenUsageTests {
  @Test("The docs' usage example splits 248 writes into 148 5-minute and 100 1-hour")
  func docsExample() throws {
    // prompt-caching docs: input 2048, read 1800, creation 248 = 148 (5m) + 100 (1h).
    let u = try TokenUsage.fromAPI(
      input: 2048, cacheCreation: 248, cacheWrite5m: 148, cacheWrite1h: 100,
      cacheRead: 1800, output: 503)
    #expect(u.cacheWrite5m == 148)
    #expect(u.cacheWrite1h == 100)
    #expect(u.cacheWriteUnknownTTL == 0)
    #expect(try u.cacheWrite() == 248)
    #expect(try u.prompt() == 2048 + 248 + 1800)
  }

  @Test("Writes without a TTL split are of unknown TTL")
  func unknownTTL() throws {
    let u = try TokenUsage.fromAPI(
      input: 10, cacheCreation: 500, cacheWrite5m: nil, cacheWrite1h: nil, cacheRead: nil,
      output: 1)
    #expect(u.cacheWriteUnknownTTL == 500)
    let partial = try TokenUsage.fromAPI(
      input: 10, cacheCreation: 500, cacheWrite5m: 300, cacheWrite1h: nil, cacheRead: nil,
      output: 1)
    #expect(partial.cacheWrite5m == 300)
    #expect(partial.cacheWriteUnknownTTL == 200)
  }

  @Test("A split larger than the total wins over the total")
  func splitAboveTotal() throws {
    let u = try TokenUsage.fromAPI(
      input: 0, cacheCreation: 100, cacheWrite5m: 80, cacheWrite1h: 70, cacheRead: 0, output: 0)
    #expect(try u.cacheWrite() == 150)
    #expect(u.cacheWriteUnknownTTL == 0)
  }

  @Test("Overflow is an error, not a trap")
  func overflow() {
    let big = TokenUsage(input: .max, cacheRead: 1)
    #expect(throws: UsageError.overflow("prompt")) { try big.prompt() }
    #expect(throws: UsageError.overflow("input_tokens")) {
      try big.adding(TokenUsage(input: 1))
    }
    #expect(throws: UsageError.self) {
      try TokenUsage.fromAPI(
        input: 1, cacheCreation: nil, cacheWrite5m: .max, cacheWrite1h: 1, cacheRead: 0,
        output: 0)
    }
  }

  @Test("Negative counts are rejected")
  func negative() {
    #expect(throws: UsageError.negative(-5)) {
      try TokenUsage.fromAPI(
        input: -5, cacheCreation: nil, cacheWrite5m: nil, cacheWrite1h: nil, cacheRead: nil,
        output: 0)
    }
  }

  @Test("Maximum keeps each field's largest value")
  func maximum() {
    let a = TokenUsage(input: 3, cacheWrite1h: 100, cacheRead: 5, output: 9)
    let b = TokenUsage(input: 3, cacheWrite1h: 100, cacheRead: 5, output: 159)
    #expect(a.maximum(b) == b)
    #expect(b.maximum(a) == b)
  }
}

@Suite("Exact amounts")
struct AmountTests {
  @Test("Prices parse exactly and format without exponents")
  func rates() throws {
    let r = try #require(TokenRate(perMillionTokens: "3.75"))
    #expect(r.attodollarsPerToken == 3_750_000_000_000)
    #expect(r.perMillionTokens == "3.75")
    #expect(r.cost(1_000_000).formatted() == "3.75")
    #expect(TokenRate(perMillionTokens: "0.125")?.cost(8).formatted() == "0.000001")
    #expect(TokenRate(perMillionTokens: "1e3") == nil)
    #expect(TokenRate(perMillionTokens: "-1") == nil)
    #expect(TokenRate(perMillionTokens: "") == nil)
    #expect(TokenRate(perMillionTokens: "1.2.3") == nil)
  }

  @Test("Dollars round half up at nine decimals")
  func usd() {
    #expect(USD(attodollars: 1_499_999_999).formatted() == "0.000000001")
    #expect(USD(attodollars: 500_000_000).formatted() == "0.000000001")
    #expect(USD(attodollars: 499_999_999).formatted() == "0")
    #expect(USD(attodollars: 12 * 1_000_000_000_000_000_000).formatted() == "12")
  }

  @Test("Ratios print six decimals and are undefined over zero")
  func ratios() throws {
    #expect(Ratio(Int64(10), Int64(0)) == nil)
    #expect(try #require(Ratio(Int64(200_000), Int64(20_000))).formatted() == "10")
    #expect(try #require(Ratio(Int64(8), Int64(9))).formatted() == "0.888889")
    #expect(try #require(Ratio(Int64(1), Int64(3))).formatted(decimals: 0) == "0")
  }

  @Test("Multipliers stack exactly")
  func multipliers() throws {
    let geo = try #require(Multiplier("1.1"))
    let batch = try #require(Multiplier("0.5"))
    let rate = try #require(TokenRate(perMillionTokens: "0.125"))
    // 0.125 × 1.1 × 0.5 = 0.06875 $/MTok
    #expect(rate.scaled(by: geo * batch).perMillionTokens == "0.06875")
  }
}

@Suite("Calendar")
struct CalendarTests {
  @Test(
    "Days round-trip through the civil calendar",
    arguments: [
      "1970-01-01", "2000-02-29", "2024-12-31", "2025-03-13", "2026-10-07", "2100-03-01",
    ])
  func roundTrip(_ text: String) throws {
    #expect(try #require(CivilDay(text)).description == text)
  }

  @Test("Known day numbers")
  func dayNumbers() {
    #expect(CivilDay("1970-01-02")?.daysSinceEpoch == 1)
    #expect(CivilDay("2000-03-01")?.daysSinceEpoch == 11_017)
    #expect(CivilDay("1969-12-31")?.daysSinceEpoch == -1)
    #expect(CivilDay("2025-02-29") == nil)
    #expect(CivilDay("2025-13-01") == nil)
  }

  @Test("RFC 3339 timestamps, with offsets and fractions")
  func instants() throws {
    let z = try #require(Instant("2025-09-03T00:47:19.293Z"))
    #expect(z.millisecondsSinceEpoch == 1_756_860_439_293)
    #expect(z.description == "2025-09-03T00:47:19.293Z")
    #expect(Instant("2025-09-03T02:47:19.293+02:00") == z)
    #expect(Instant("2025-09-03T00:47:19.2934567Z")?.millisecondsSinceEpoch == 1_756_860_439_293)
    #expect(Instant("2025-09-03T00:47:19Z")?.millisecondsSinceEpoch == 1_756_860_439_000)
    #expect(Instant("2025-09-03")?.millisecondsSinceEpoch == 1_756_857_600_000)
    #expect(Instant("2025-09-03T00:47:19") == nil, "no zone: instant unknown")
    #expect(Instant("2025-09-03T25:47:19Z") == nil)
    #expect(Instant("garbage") == nil)
    #expect(Instant("1969-12-31T23:59:59.999Z")?.day.description == "1969-12-31")
  }
}
