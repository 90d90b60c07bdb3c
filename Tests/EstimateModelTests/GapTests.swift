import Foundation
import Testing

@testable import EstimateModel

/// A hand-built catalog, so these tests do not depend on the shipped data.
func miniCatalog() -> ModelCatalog {
  func card(_ i: String, _ w5: String, _ w1: String, _ r: String, _ o: String) -> RateCard {
    RateCard(
      input: TokenRate(perMillionTokens: i)!, write5m: TokenRate(perMillionTokens: w5)!,
      write1h: TokenRate(perMillionTokens: w1)!, read: TokenRate(perMillionTokens: r)!,
      output: TokenRate(perMillionTokens: o)!)
  }
  let sonnet45 = ModelEntry(
    id: "claude-sonnet-4-5", name: "Sonnet 4.5", aliases: ["claude-sonnet-4-5-20250929"],
    pool: "sonnet-4", status: "current", released: nil, usGeoMultiplierApplies: false,
    prices: [
      PricePeriod(
        label: "standard", from: nil, until: nil, standard: card("3", "3.75", "6", "0.30", "15"),
        longPrompt: LongPromptTier(
          above: 200_000, rates: card("6", "7.50", "12", "0.60", "22.50"), source: "t"),
        fast: nil, source: "t")
    ], countsCacheReads: [])
  let sonnet55 = ModelEntry(
    id: "claude-sonnet-5-5", name: "Sonnet 5.5", aliases: [], pool: "sonnet-5-5",
    status: "current", released: CivilDay("2026-09-28"), usGeoMultiplierApplies: true,
    prices: [
      PricePeriod(
        label: "launch", from: CivilDay("2026-09-28"), until: CivilDay("2026-10-07"),
        standard: card("2", "2.50", "4", "0.20", "10"), longPrompt: nil, fast: nil, source: "t"),
      PricePeriod(
        label: "standard", from: CivilDay("2026-10-07"), until: nil,
        standard: card("2", "2.50", "4", "0.10", "10"), longPrompt: nil, fast: nil, source: "t"),
    ], countsCacheReads: [])
  let sonnet37 = ModelEntry(
    id: "claude-3-7-sonnet-20250219", name: "Sonnet 3.7", aliases: ["claude-3-7-sonnet-latest"],
    pool: "sonnet-3-7", status: "retired", released: nil, usGeoMultiplierApplies: false,
    prices: [
      PricePeriod(
        label: "standard", from: nil, until: nil, standard: card("3", "3.75", "6", "0.30", "15"),
        longPrompt: nil, fast: nil, source: "t")
    ],
    countsCacheReads: [
      DatedFlag(from: nil, until: CivilDay("2025-03-13"), value: true, source: "t")
    ])
  let opus5 = ModelEntry(
    id: "claude-opus-5", name: "Opus 5", aliases: [], pool: "opus-5", status: "legacy",
    released: nil, usGeoMultiplierApplies: true,
    prices: [
      PricePeriod(
        label: "standard", from: nil, until: nil, standard: card("5", "6.25", "10", "0.50", "25"),
        longPrompt: nil, fast: card("10", "12.50", "20", "1", "50"), source: "t")
    ], countsCacheReads: [])
  let haiku35 = ModelEntry(
    id: "claude-3-5-haiku-20241022", name: "Haiku 3.5", aliases: ["claude-3-5-haiku-latest"],
    pool: "haiku-3-5", status: "retired", released: nil, usGeoMultiplierApplies: false,
    prices: [
      PricePeriod(
        label: "standard", from: nil, until: nil, standard: card("0.80", "1", "1.60", "0.08", "4"),
        longPrompt: nil, fast: nil, source: "t")
    ], countsCacheReads: [DatedFlag(from: nil, until: nil, value: true, source: "t")])
  let sonnet35v2 = ModelEntry(
    id: "claude-3-5-sonnet-20241022", name: "Sonnet 3.5 v2", aliases: [], pool: "sonnet-3-5",
    status: "retired", released: nil, usGeoMultiplierApplies: false, prices: [],
    countsCacheReads: [])
  return ModelCatalog(
    version: "test", sha256: "", models: [sonnet45, sonnet55, sonnet37, opus5, haiku35, sonnet35v2],
    modifiers: PriceModifiers(
      batch: Multiplier("0.5")!, usGeo: Multiplier("1.1")!,
      webSearch: USD(attodollars: 10_000_000_000_000_000), source: "t"),
    rateLimitTables: [], sources: [])
}

@Suite("Gap")
struct GapTests {
  let catalog = miniCatalog()
  let day = CivilDay("2026-11-01")!

  @Test("The docs' usage example, worked by hand")
  func docsExample() throws {
    let u = try TokenUsage.fromAPI(
      input: 2048, cacheCreation: 248, cacheWrite5m: 148, cacheWrite1h: 100, cacheRead: 1800,
      output: 503)
    let g = try Gap(usage: u, model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(g.estimate == 4096)
    #expect(g.itpm == 2296)  // 2048 + 248
    #expect(g.overestimate == 1800)
    #expect(g.overestimationRatio?.formatted() == "1.783972")  // 4096 / 2296
    #expect(g.excessShare?.formatted() == "0.439453")  // 1800 / 4096
    #expect(g.cacheHitRate?.formatted() == "0.439453")
    // Ce = 4096 × $3/M = $0.012288
    #expect(g.inputCostEstimate?.formatted() == "0.012288")
    // Ca = 2048×3 + 148×3.75 + 100×6 + 1800×0.30 = 7839 µ$
    #expect(g.inputCostActual?.formatted() == "0.007839")
    #expect(g.outputCost?.formatted() == "0.007545")  // 503 × 15
    #expect(g.costActual?.formatted() == "0.015384")
    #expect(g.lowerBound == false)
    #expect(g.priceTier == "standard")
  }

  @Test("200K tokens might only consume 20K: ratio 10, excess 90 %")
  func issue18726() throws {
    let u = TokenUsage(input: 20_000, cacheRead: 180_000)
    let g = try Gap(usage: u, model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(g.estimate == 200_000)
    #expect(g.itpm == 20_000)
    #expect(g.overestimationRatio?.formatted() == "10")
    #expect(g.excessShare?.formatted() == "0.9")
  }

  @Test("ITPM charge of zero leaves the ratio undefined, not infinite")
  func undefinedRatio() throws {
    let g = try Gap(
      usage: TokenUsage(cacheRead: 500), model: catalog.resolve("claude-sonnet-4-5"), day: day,
      catalog: catalog)
    #expect(g.itpm == 0)
    #expect(g.overestimationRatio == nil)
    let empty = try Gap(
      usage: TokenUsage(), model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(empty.excessShare == nil)
    #expect(empty.cacheHitRate == nil)
  }

  @Test("The † rule: Sonnet 3.7 counted reads until 2025-03-13")
  func daggerRule() throws {
    let u = TokenUsage(input: 100, cacheRead: 900)
    let m = catalog.resolve("claude-3-7-sonnet-20250219")
    let before = try Gap(usage: u, model: m, day: CivilDay("2025-03-12")!, catalog: catalog)
    let after = try Gap(usage: u, model: m, day: CivilDay("2025-03-13")!, catalog: catalog)
    #expect(before.countsCacheReads && before.itpm == 1000 && before.overestimate == 0)
    #expect(!after.countsCacheReads && after.itpm == 100)
    let haiku = try Gap(usage: u, model: catalog.resolve("claude-3-5-haiku-latest"), day: day, catalog: catalog)
    #expect(haiku.itpm == 1000)
    #expect(haiku.overestimationRatio?.formatted() == "1")
  }

  @Test("Sonnet 5.5's read price on both sides of 2026-10-07")
  func datedPeriods() throws {
    let u = TokenUsage(cacheRead: 1_000_000)
    let m = catalog.resolve("claude-sonnet-5-5")
    let launch = try Gap(usage: u, model: m, day: CivilDay("2026-10-06")!, catalog: catalog)
    let later = try Gap(usage: u, model: m, day: CivilDay("2026-10-07")!, catalog: catalog)
    #expect(launch.pricePeriod == "launch" && launch.inputCostActual?.formatted() == "0.2")
    #expect(later.pricePeriod == "standard" && later.inputCostActual?.formatted() == "0.1")
    let before = try Gap(usage: u, model: m, day: CivilDay("2026-09-01")!, catalog: catalog)
    #expect(before.unpriced == .noPricePeriod && before.inputCostActual == nil)
  }

  @Test("The long-prompt tier is decided by the whole prompt, output included")
  func longPrompt() throws {
    let m = catalog.resolve("claude-sonnet-4-5")
    let at = try Gap(
      usage: TokenUsage(input: 200_000, output: 1000), model: m, day: day, catalog: catalog)
    #expect(at.priceTier == "standard")
    #expect(at.inputCostActual?.formatted() == "0.6")  // 200,000 × $3/M
    let above = try Gap(
      usage: TokenUsage(input: 1, cacheRead: 200_000, output: 1000), model: m, day: day,
      catalog: catalog)
    #expect(above.priceTier == "long_prompt")
    // 1 × $6/M + 200,000 × $0.60/M = 0.000006 + 0.12
    #expect(above.inputCostActual?.formatted() == "0.120006")
    #expect(above.outputCost?.formatted() == "0.0225")  // 1000 × $22.50/M
    #expect(above.inputCostEstimate?.formatted() == "1.200006")  // 200,001 × $6/M
  }

  @Test("Geography, batch and fast mode apply to both sides")
  func modifiers() throws {
    let u = TokenUsage(input: 1_000_000, output: 1_000_000)
    let opus = catalog.resolve("claude-opus-5")
    let us = try Gap(usage: u, model: opus, day: day, options: .init(usGeo: true), catalog: catalog)
    #expect(us.inputCostEstimate?.formatted() == "5.5" && us.inputCostActual?.formatted() == "5.5")
    #expect(us.outputCost?.formatted() == "27.5")
    #expect(us.priceTier == "standard+us_geo")
    let batch = try Gap(usage: u, model: opus, day: day, options: .init(batch: true), catalog: catalog)
    #expect(batch.inputCostActual?.formatted() == "2.5" && batch.outputCost?.formatted() == "12.5")
    let fast = try Gap(usage: u, model: opus, day: day, options: .init(fast: true), catalog: catalog)
    #expect(fast.inputCostActual?.formatted() == "10" && fast.outputCost?.formatted() == "50")
    // Sonnet 4.5 predates the US-geo multiplier, and has no published fast price.
    // (1M tokens on Sonnet 4.5 would be the long-prompt tier; stay below it.)
    let s45 = catalog.resolve("claude-sonnet-4-5")
    let small = TokenUsage(input: 100_000, output: 100_000)
    let s45us = try Gap(usage: small, model: s45, day: day, options: .init(usGeo: true), catalog: catalog)
    #expect(s45us.inputCostActual?.formatted() == "0.3" && s45us.priceTier == "standard")
    let s45fast = try Gap(usage: u, model: s45, day: day, options: .init(fast: true), catalog: catalog)
    #expect(s45fast.unpriced == .noFastPrice && s45fast.costActual == nil)
    #expect(s45fast.estimate == 1_000_000, "tokens still counted")
  }

  @Test("Unknown-TTL writes are priced as 5-minute and flagged a lower bound")
  func lowerBound() throws {
    let u = try TokenUsage.fromAPI(
      input: 0, cacheCreation: 100_000, cacheWrite5m: nil, cacheWrite1h: nil, cacheRead: 0,
      output: 0)
    let g = try Gap(usage: u, model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(g.lowerBound)
    #expect(g.inputCostActual?.formatted() == "0.375")  // 100,000 × $3.75/M
    // Writes cost more than input: the "worst case" is below the bill.
    #expect(try #require(g.inputCostRatio) < Ratio(Int64(1), Int64(1))!)
  }

  @Test("Web search is billed per request on top of tokens")
  func webSearch() throws {
    let g = try Gap(
      usage: TokenUsage(input: 0, output: 0, webSearchRequests: 3),
      model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(g.costActual?.formatted() == "0.03")
  }

  @Test("Unknown models are counted, unpriced and flagged")
  func unknownModel() throws {
    let g = try Gap(
      usage: TokenUsage(input: 10, cacheRead: 90), model: catalog.resolve("glm-4.7"), day: day,
      catalog: catalog)
    #expect(g.unpriced == .unknownModel)
    #expect(g.model == "glm-4.7")
    #expect(g.estimate == 100 && g.itpm == 10)
    #expect(g.inputCostEstimate == nil && g.costActual == nil)
  }
}

@Suite("Model resolution")
struct ResolutionTests {
  let catalog = miniCatalog()

  @Test(
    "Every id form seen in logs",
    arguments: [
      ("claude-sonnet-4-5", "claude-sonnet-4-5"),
      ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
      ("claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"),
      ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"),
      ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
      ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
      ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
      ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"),
      ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
      ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-20241022"),
      ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
      ("Claude-Sonnet-4-5", "claude-sonnet-4-5"),
    ])
  func forms(_ logged: String, _ expected: String) {
    #expect(catalog.resolve(logged).entry?.id == expected)
  }

  @Test(
    "No guessing by substring",
    arguments: [
      "claude-sonnet-4", "sonnet-4-5", "claude-sonnet-4-5-20990101", "claude-opus-5-5",
      "xanthropic.claude-sonnet-4-5", "<synthetic>", "", "claude-sonnet-4-5-v",
    ])
  func unknown(_ logged: String) {
    #expect(catalog.resolve(logged).entry == nil)
  }
}

@Suite("Codable values")
struct CodableTests {
  @Test("A gap, its usage and its price class survive a JSON round trip")
  func roundTrip() throws {
    let catalog = miniCatalog()
    let usage = TokenUsage(input: 20_000, cacheRead: 180_000, output: 5)
    let day = try #require(CivilDay("2026-11-01"))
    let gap = try Gap(usage: usage, model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    let c = PriceClass(model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    #expect(try JSONDecoder().decode(Gap.self, from: JSONEncoder().encode(gap)) == gap)
    #expect(try JSONDecoder().decode(PriceClass.self, from: JSONEncoder().encode(c)) == c)
    #expect(try JSONDecoder().decode(CivilDay.self, from: JSONEncoder().encode(day)) == day)
  }
}

@Suite("Gap figures")
struct GapFiguresTests {
  @Test("A request's figures are its gap's numbers, by hand and over many usages and classes")
  func figuresAreTheGapsNumbers() throws {
    let catalog = miniCatalog()
    let day = try #require(CivilDay("2026-11-01"))
    // By hand: Sonnet 4.5, 20,000 in + 180,000 read = P 200,000 (not past
    // 200,000: standard rates); Ce = 200,000 × $3/M = $0.6; Ca = 20,000 × $3/M
    // + 180,000 × $0.30/M = $0.114; Co = 5 × $15/M = $0.000075.
    let sonnet = PriceClass(model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog)
    let f = try GapFigures(usage: TokenUsage(input: 20_000, cacheRead: 180_000, output: 5), priceClass: sonnet)
    #expect(f.estimate == 200_000 && f.itpm == 20_000 && f.otpm == 5)
    #expect(f.inputCostEstimate?.formatted() == "0.6")
    #expect(f.inputCostActual?.formatted() == "0.114")
    #expect(f.outputCost?.formatted() == "0.000075")
    #expect(!f.lowerBound && !f.thirdPartyPrice)
    // Every kind of write, standard then long-prompt rates (forced): 1,000 in,
    // 2,000 5-minute, 4,000 1-hour and 1,000 unknown-TTL writes (priced as
    // 5-minute: a lower bound), 10,000 read, 100 out; P = 18,000.
    let all = TokenUsage(
      input: 1_000, cacheWrite5m: 2_000, cacheWrite1h: 4_000, cacheWriteUnknownTTL: 1_000, cacheRead: 10_000,
      output: 100)
    let standard = try GapFigures(usage: all, priceClass: sonnet)
    // 0.003 + 0.0075 + 0.024 + 0.00375 + 0.003
    #expect(standard.inputCostActual?.formatted() == "0.04125")
    #expect(standard.inputCostEstimate?.formatted() == "0.054")
    #expect(standard.outputCost?.formatted() == "0.0015")
    #expect(standard.lowerBound)
    let longClass = PriceClass(
      model: catalog.resolve("claude-sonnet-4-5"), day: day, options: RequestOptions(longContext: true),
      catalog: catalog)
    let long = try GapFigures(usage: all, priceClass: longClass)
    // 0.006 + 0.015 + 0.048 + 0.0075 + 0.006
    #expect(long.inputCostActual?.formatted() == "0.0825")
    #expect(long.inputCostEstimate?.formatted() == "0.108")
    #expect(long.outputCost?.formatted() == "0.00225")
    // Every kind of class: standard, long prompt forced either way, batch and
    // US geography, Bedrock's rule, a model not priced on its day, one unknown.
    let classes = [
      sonnet,
      PriceClass(
        model: catalog.resolve("claude-sonnet-4-5"), day: day, options: RequestOptions(longContext: true),
        catalog: catalog),
      PriceClass(
        model: catalog.resolve("claude-sonnet-4-5"), day: day, options: RequestOptions(longContext: false),
        catalog: catalog),
      PriceClass(
        model: catalog.resolve("claude-sonnet-5-5"), day: try #require(CivilDay("2026-10-01")),
        options: RequestOptions(batch: true, usGeo: true), catalog: catalog),
      PriceClass(model: catalog.resolve("claude-sonnet-5-5"), day: day, catalog: catalog),
      PriceClass(model: catalog.resolve("claude-sonnet-4-5"), day: day, catalog: catalog, accounting: .bedrock),
      PriceClass(model: catalog.resolve("claude-nonesuch-9"), day: day, catalog: catalog),
    ]
    var rng = SystemRandomNumberGenerator()
    var priced = 0
    var unpriced = 0
    var thrown = 0
    for k in 0..<4_000 {
      // Mostly ordinary counts; now and then one near the 64-bit edge.
      func count() -> Int64 {
        k % 97 == 0 ? Int64.max - Int64.random(in: 0...10, using: &rng) : Int64.random(in: 0...400_000, using: &rng)
      }
      let usage = TokenUsage(
        input: count(), cacheWrite5m: count(), cacheWrite1h: k % 3 == 0 ? count() : 0,
        cacheWriteUnknownTTL: k % 5 == 0 ? count() : 0, cacheRead: count(), output: count(),
        webSearchRequests: Int64.random(in: 0...3, using: &rng))
      let c = classes[k % classes.count]
      let gap = Result { () throws(UsageError) in try Gap(usage: usage, priceClass: c) }
      let figures = Result { () throws(UsageError) in try GapFigures(usage: usage, priceClass: c) }
      switch (gap, figures) {
      case (.success(let g), .success(let f)):
        #expect(g.figures == f)
        if f.costActual != nil { priced += 1 } else { unpriced += 1 }
      case (.failure(let a), .failure(let b)):
        #expect("\(a)" == "\(b)")
        thrown += 1
      default:
        Issue.record("a gap and its figures disagree on whether \(usage) overflows")
      }
    }
    // Each outcome was reached.
    #expect(priced > 100 && unpriced > 100 && thrown > 10)
  }
}
