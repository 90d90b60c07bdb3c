import Compare
import EstimateModel
import Testing

/// One row of accounting-facts.md §4, typed in by hand: the oracle.
struct PriceRow: Sendable, CustomTestStringConvertible {
  let model: String
  let day: String
  let input, write5m, write1h, read, output: String
  var testDescription: String { "\(model) on \(day)" }

  static let all: [PriceRow] = [
    .init(
      model: "claude-fable-5-2", day: "2026-11-20", input: "8", write5m: "10", write1h: "16", read: "0.2", output: "40"),
    .init(
      model: "claude-fable-5-1", day: "2026-11-20", input: "10", write5m: "12.5", write1h: "20", read: "0.25",
      output: "50"),
    .init(
      model: "claude-mythos-5-1", day: "2026-11-20", input: "10", write5m: "12.5", write1h: "20", read: "0.25",
      output: "50"),
    .init(
      model: "claude-fable-5", day: "2026-11-20", input: "10", write5m: "12.5", write1h: "20", read: "1", output: "50"),
    .init(
      model: "claude-mythos-5", day: "2026-11-20", input: "10", write5m: "12.5", write1h: "20", read: "1", output: "50"),
    .init(
      model: "claude-opus-5-5", day: "2026-11-20", input: "4", write5m: "5", write1h: "8", read: "0.2", output: "20"),
    .init(
      model: "claude-opus-5", day: "2026-11-20", input: "5", write5m: "6.25", write1h: "10", read: "0.5", output: "25"),
    .init(
      model: "claude-opus-4-8", day: "2026-11-20", input: "5", write5m: "6.25", write1h: "10", read: "0.5", output: "25"
    ),
    .init(
      model: "claude-opus-4-7", day: "2026-11-20", input: "5", write5m: "6.25", write1h: "10", read: "0.5", output: "25"
    ),
    .init(
      model: "claude-opus-4-6", day: "2026-11-20", input: "5", write5m: "6.25", write1h: "10", read: "0.5", output: "25"
    ),
    .init(
      model: "claude-opus-4-5-20251101", day: "2026-01-20", input: "5", write5m: "6.25", write1h: "10", read: "0.5",
      output: "25"),
    .init(
      model: "claude-sonnet-5-5", day: "2026-10-06", input: "2", write5m: "2.5", write1h: "4", read: "0.2", output: "10"
    ),
    .init(
      model: "claude-sonnet-5-5", day: "2026-10-07", input: "2", write5m: "2.5", write1h: "4", read: "0.1", output: "10"
    ),
    .init(
      model: "claude-sonnet-5", day: "2026-08-31", input: "2", write5m: "2.5", write1h: "4", read: "0.2", output: "10"),
    .init(
      model: "claude-sonnet-5", day: "2026-09-01", input: "2", write5m: "2.5", write1h: "4", read: "0.2", output: "10"),
    .init(
      model: "claude-sonnet-4-6", day: "2026-11-20", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-sonnet-4-5-20250929", day: "2026-01-20", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-haiku-5-5", day: "2026-11-20", input: "0.1", write5m: "0.125", write1h: "0.2", read: "0.01",
      output: "0.5"),
    .init(
      model: "claude-haiku-4-5-20251001", day: "2026-01-20", input: "1", write5m: "1.25", write1h: "2", read: "0.1",
      output: "5"),
    .init(
      model: "claude-opus-4-1-20250805", day: "2025-09-01", input: "15", write5m: "18.75", write1h: "30", read: "1.5",
      output: "75"),
    .init(
      model: "claude-opus-4-20250514", day: "2025-06-01", input: "15", write5m: "18.75", write1h: "30", read: "1.5",
      output: "75"),
    .init(
      model: "claude-sonnet-4-20250514", day: "2025-09-03", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-3-7-sonnet-20250219", day: "2025-04-01", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-3-5-haiku-20241022", day: "2025-04-01", input: "0.8", write5m: "1", write1h: "1.6", read: "0.08",
      output: "4"),
    .init(
      model: "claude-3-5-sonnet-20241022", day: "2025-01-01", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-3-5-sonnet-20240620", day: "2025-01-01", input: "3", write5m: "3.75", write1h: "6", read: "0.3",
      output: "15"),
    .init(
      model: "claude-3-opus-20240229", day: "2025-01-01", input: "15", write5m: "18.75", write1h: "30", read: "1.5",
      output: "75"),
    .init(
      model: "claude-3-haiku-20240307", day: "2025-01-01", input: "0.25", write5m: "0.3", write1h: "0.5", read: "0.03",
      output: "1.25"),
  ]
}

@Suite("Catalog")
struct CatalogTests {
  let catalog = CatalogLoader.embedded()

  @Test("The embedded copy is byte-identical to datasets/catalog.json")
  func embeddedMatchesFile() throws {
    let file = try POSIXFiles.read(repositoryRoot + "/datasets/catalog.json")
    #expect(file == CatalogLoader.embeddedBytes, "run Scripts/embed-catalog.sh")
    #expect(catalog.sha256 == SHA256.hex(file))
    #expect(catalog.version != "invalid")
  }

  @Test("Every price row of accounting-facts §4", arguments: PriceRow.all)
  func priceRow(_ row: PriceRow) throws {
    let entry = try #require(catalog.resolve(row.model).entry)
    let day = try #require(CivilDay(row.day))
    let p = try #require(entry.pricePeriod(on: day))
    #expect(p.standard.input.perMillionTokens == row.input)
    #expect(p.standard.write5m.perMillionTokens == row.write5m)
    #expect(p.standard.write1h.perMillionTokens == row.write1h)
    #expect(p.standard.read.perMillionTokens == row.read)
    #expect(p.standard.output.perMillionTokens == row.output)
  }

  @Test("Cache-read multipliers: 0.1, 0.05 (Opus/Sonnet 5.5), 0.025 (Fable/Mythos 5.1)")
  func readMultipliers() throws {
    func multiplier(_ id: String, _ day: String = "2026-11-20") throws -> String {
      let p = try #require(catalog.resolve(id).entry?.pricePeriod(on: CivilDay(day)!))
      return try #require(
        Ratio(p.standard.read.attodollarsPerToken, p.standard.input.attodollarsPerToken)
      ).formatted()
    }
    #expect(try multiplier("claude-opus-5-5") == "0.05")
    #expect(try multiplier("claude-sonnet-5-5") == "0.05")
    #expect(try multiplier("claude-sonnet-5-5", "2026-10-01") == "0.1")
    #expect(try multiplier("claude-fable-5-1") == "0.025")
    #expect(try multiplier("claude-mythos-5-1") == "0.025")
    #expect(try multiplier("claude-opus-4-8") == "0.1")
    #expect(try multiplier("claude-haiku-5-5") == "0.1")
  }

  @Test("Long-prompt tiers: Sonnet 4 / 4.5 above 200K, Haiku 5.5 above 100K")
  func longPrompt() throws {
    let day = CivilDay("2026-11-20")!
    for id in ["claude-sonnet-4-5", "claude-sonnet-4-0"] {
      let lp = try #require(catalog.resolve(id).entry?.pricePeriod(on: day)?.longPrompt)
      #expect(lp.above == 200_000)
      #expect(lp.rates.input.perMillionTokens == "6" && lp.rates.output.perMillionTokens == "22.5")
    }
    let h = try #require(catalog.resolve("claude-haiku-5-5").entry?.pricePeriod(on: day)?.longPrompt)
    #expect(h.above == 100_000)
    #expect(h.rates.input.perMillionTokens == "0.5" && h.rates.read.perMillionTokens == "0.05")
    #expect(h.rates.output.perMillionTokens == "2.5")
    for id in ["claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-5"] {
      #expect(catalog.resolve(id).entry?.pricePeriod(on: day)?.longPrompt == nil, "\(id): 1M at standard price")
    }
  }

  @Test("Haiku 5.5 above 100K: the whole request pays the higher rate")
  func haikuLongPromptGap() throws {
    let day = CivilDay("2026-11-20")!
    let m = catalog.resolve("claude-haiku-5-5")
    let below = try Gap(usage: TokenUsage(input: 100_000, output: 1_000_000), model: m, day: day, catalog: catalog)
    #expect(below.inputCostActual?.formatted() == "0.01")  // 100,000 × $0.10/M
    #expect(below.outputCost?.formatted() == "0.5")
    let above = try Gap(
      usage: TokenUsage(input: 100_001, output: 1_000_000), model: m, day: day, catalog: catalog)
    #expect(above.inputCostActual?.formatted() == "0.0500005")  // 100,001 × $0.50/M
    #expect(above.outputCost?.formatted() == "2.5")
  }

  @Test("US-only geography is 1.1× on Claude 4.6 and later only")
  func usGeo() throws {
    for id in [
      "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-8", "claude-opus-5",
      "claude-sonnet-5", "claude-haiku-5-5", "claude-fable-5-1", "claude-opus-5-5",
    ] {
      #expect(catalog.resolve(id).entry?.usGeoMultiplierApplies == true, "\(id)")
    }
    for id in ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"] {
      #expect(catalog.resolve(id).entry?.usGeoMultiplierApplies == false, "\(id)")
    }
    #expect(catalog.modifiers.usGeo.description == "1.1")
    #expect(catalog.modifiers.batch.description == "0.5")
    #expect(catalog.modifiers.webSearch.formatted() == "0.01")
  }

  @Test("Fast mode is priced only where published: Opus 5 and Opus 4.8 at $10/$50")
  func fastMode() throws {
    let day = CivilDay("2026-11-20")!
    for id in ["claude-opus-5", "claude-opus-4-8"] {
      let fast = try #require(catalog.resolve(id).entry?.pricePeriod(on: day)?.fast)
      #expect(fast.input.perMillionTokens == "10" && fast.output.perMillionTokens == "50")
    }
    for id in ["claude-opus-4-6", "claude-opus-5-5", "claude-fable-5-2"] {
      #expect(catalog.resolve(id).entry?.pricePeriod(on: day)?.fast == nil, "\(id): not published")
    }
  }

  @Test("Fast mode with the Batch API is unpriced: fast mode is not offered in Batch (PR-2026-09)")
  func fastInBatch() throws {
    let day = try #require(CivilDay("2026-11-20"))
    let usage = TokenUsage(input: 1_000_000, output: 0)
    let model = catalog.resolve("claude-opus-5")
    let fast = try Gap(usage: usage, model: model, day: day, options: .init(fast: true), catalog: catalog)
    // Fast alone: 1,000,000 × $10/M = $10.
    #expect(fast.inputCostActual?.formatted() == "10")
    let both = try Gap(
      usage: usage, model: model, day: day, options: .init(batch: true, fast: true), catalog: catalog)
    #expect(both.unpriced == .fastInBatch && both.inputCostActual == nil)
  }

  @Test("Unpublished prices stay absent")
  func absentPrices() {
    for id in ["claude-mythos-5-2", "claude-mythos-preview"] {
      let entry = catalog.resolve(id).entry
      #expect(entry != nil && entry?.prices.isEmpty == true, "\(id)")
    }
  }

  @Test(
    "The † rule: which models count cache reads toward ITPM, and when",
    arguments: [
      ("claude-3-5-haiku-20241022", "2026-10-01", true),
      ("claude-3-haiku-20240307", "2025-06-01", true),
      ("claude-3-opus-20240229", "2025-06-01", true),
      ("claude-3-5-sonnet-20241022", "2025-06-01", true),
      ("claude-3-5-sonnet-20240620", "2025-06-01", true),
      ("claude-3-7-sonnet-20250219", "2025-03-12", true),
      ("claude-3-7-sonnet-20250219", "2025-03-13", false),
      ("claude-sonnet-4-20250514", "2025-06-01", false),
      ("claude-opus-4-6", "2026-02-10", false),
      ("claude-sonnet-5-5", "2026-11-01", false),
      ("claude-haiku-4-5", "2026-11-01", false),
    ])
  func dagger(_ id: String, _ day: String, _ counts: Bool) throws {
    let entry = try #require(catalog.resolve(id).entry)
    #expect(entry.countsCacheReads(on: CivilDay(day)!) == counts)
  }

  @Test(
    "Rate-limit tiers, both generations, by pool",
    arguments: [
      ("tier-1", "2025-12-01", "claude-sonnet-4-5", 50, 30_000, 8_000),
      ("tier-2", "2025-12-01", "claude-haiku-4-5", 1_000, 450_000, 90_000),
      ("tier-3", "2025-12-01", "claude-haiku-4-5", 2_000, 1_000_000, 200_000),
      ("tier-4", "2025-12-01", "claude-opus-4-5", 4_000, 2_000_000, 400_000),
      ("tier-4", "2025-12-01", "claude-3-5-haiku-20241022", 4_000, 400_000, 80_000),
      ("tier-1", "2025-09-01", "claude-3-opus-20240229", 50, 20_000, 4_000),
      ("tier-1", "2025-09-01", "claude-3-5-sonnet-20240620", 50, 40_000, 8_000),
      ("start", "2026-10-01", "claude-fable-5", 1_000, 500_000, 100_000),
      ("build", "2026-10-01", "claude-opus-4-8", 5_000, 5_000_000, 1_000_000),
      ("scale", "2026-10-01", "claude-sonnet-5", 10_000, 10_000_000, 2_000_000),
      ("scale", "2026-10-01", "claude-3-5-haiku-20241022", 4_000, 400_000, 80_000),
    ])
  func tiers(_ tier: String, _ day: String, _ model: String, _ rpm: Int64, _ itpm: Int64, _ otpm: Int64)
    throws
  {
    let table = try catalog.rateLimitTable(tier: tier, on: CivilDay(day)!)
    let pool = try #require(catalog.resolve(model).entry?.pool)
    let limits = try #require(table.limits(pool: pool, tier: tier))
    #expect(limits == RateLimits(requestsPerMinute: rpm, inputTokensPerMinute: itpm, outputTokensPerMinute: otpm))
  }

  @Test("Opus 4.x models share one pool; Opus 5 has its own")
  func pools() {
    let pools = Set(
      ["claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8"].compactMap {
        catalog.resolve($0).entry?.pool
      })
    #expect(pools == ["opus-4"])
    #expect(catalog.resolve("claude-opus-5").entry?.pool == "opus-5")
  }

  @Test("A tier not in force on a day is an error naming the tiers that are")
  func wrongTier() {
    #expect(
      throws: RateLimitError.unknownTier(
        "tier-1", day: CivilDay("2026-10-01")!, available: ["start", "build", "scale"])
    ) {
      try catalog.rateLimitTable(tier: "tier-1", on: CivilDay("2026-10-01")!)
    }
  }

  @Test("Every price period and rule cites a known source")
  func sourcesCited() {
    let keys = Set(catalog.sources.map(\.key))
    for m in catalog.models {
      for p in m.prices { #expect(keys.contains(p.source), "\(m.id)") }
      for f in m.countsCacheReads { #expect(keys.contains(f.source), "\(m.id)") }
    }
    for s in catalog.sources { #expect(!s.url.isEmpty && CivilDay(s.date) != nil, "\(s.key)") }
  }

  @Test("Broken catalogs are rejected with a reason")
  func broken() {
    #expect(throws: CatalogError.self) { try CatalogLoader.load(Array("{".utf8)) }
    #expect(throws: CatalogError.self) { try CatalogLoader.load(Array(#"{"version":"x"}"#.utf8)) }
    var text = String(decoding: CatalogLoader.embeddedBytes, as: UTF8.self)
    text = text.replacing(#""until": "2026-10-07""#, with: #""until": "2026-10-09""#)
    #expect(throws: CatalogError.self, "overlapping periods") {
      try CatalogLoader.load(Array(text.utf8))
    }
  }
}

@Suite("SHA-256")
struct SHA256Tests {
  @Test("FIPS 180-4 test vectors")
  func vectors() {
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test("Fed in pieces of any size, the digest of the whole message")
  func pieces() {
    // Every length up to three blocks, cut in pieces of 1 to 65 bytes (a
    // piece of 1 goes in as a byte): every way a block boundary can fall.
    let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200] {
      let whole = SHA256.hex(Array(message[..<length]))
      for size in 1...65 {
        var hasher = SHA256()
        var start = 0
        while start < length {
          let end = min(start + size, length)
          if end - start == 1 { hasher.update(message[start]) } else { hasher.update(Array(message[start..<end])) }
          start = end
        }
        #expect(hasher.finalize().hex == whole, "length \(length), pieces of \(size)")
      }
    }
  }
}

@Suite("Model names as gateways and other tools write them")
struct GatewayModelNameTests {
  @Test(
    "Family-first order, dotted versions, provider prefixes and suffixes resolve to catalog models",
    arguments: [
      ("claude-4-sonnet-20250514", "claude-sonnet-4-0"),
      ("claude-4-opus", "claude-opus-4-0"),
      ("claude-4-5-haiku-20251001", "claude-haiku-4-5"),
      ("claude-opus-4.7", "claude-opus-4-7"),
      ("claude-haiku-4.5", "claude-haiku-4-5"),
      ("openrouter/anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
      ("vertex_ai/claude-sonnet-4-5@default", "claude-sonnet-4-5"),
      ("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
      ("anthropic/claude-opus-4-6", "claude-opus-4-6"),
      ("claude-sonnet-4-5-via-bedrock", "claude-sonnet-4-5"),
      // A Bedrock inference-profile ARN names the model after its last slash.
      (
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5"
      ),
      ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022"),
    ])
  func resolves(_ logged: String, _ canonical: String) {
    #expect(testCatalog.resolve(logged).entry?.id == canonical)
  }

  @Test(
    "Unknown names stay unpriced, never guessed",
    arguments: [
      "claude-sonnet-4.9", "sonnet", "claude-sonnet", "gpt-4o", "openrouter/openai/gpt-4o", "claude-4-poet",
    ])
  func unknown(_ logged: String) {
    #expect(testCatalog.resolve(logged).entry == nil)
  }
}
