import Compare
import EstimateModel
import Testing

/// Regional endpoints (issue 13, item 5): Bedrock regional and cross-region
/// ids cost "a 10% premium over global endpoints" for Sonnet 4.5, Haiku 4.5,
/// Opus 4.5 and later (pricing page, catalog source PR-2026-09).
@Suite("Regional endpoint premium")
struct RegionalPricingTests {
  @Test(
    "Which logged ids are regional",
    arguments: [
      ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", true),
      ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", true),
      ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", true),
      ("jp.anthropic.claude-haiku-4-5-20251001-v1:0", true),
      ("au.anthropic.claude-haiku-4-5-20251001-v1:0", true),
      ("bedrock/US.anthropic.claude-opus-4-5-20251101-v1:0", true),
      ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", false),
      ("anthropic.claude-sonnet-4-5-20250929-v1:0", false),
      ("claude-sonnet-4-5", false),
      ("claude-sonnet-4-5@20250929", false),
    ])
  func regionalIDs(_ id: String, _ regional: Bool) {
    #expect(ModelCatalog.isRegional(id) == regional)
  }

  @Test("100,000 input tokens on each endpoint: $0.33 regional, $0.30 global, $0.30 where the premium does not apply")
  func million() throws {
    let ids = [
      // Below the 200K long-prompt tier of Sonnet 4 / 4.5.
      ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.33"),  // 100,000 × $3/M × 1.1
      ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "0.3"),  // base
      ("eu.anthropic.claude-sonnet-4-20250514-v1:0", "0.3"),  // Sonnet 4: no premium
      ("apac.anthropic.claude-haiku-4-5-20251001-v1:0", "0.11"),  // 100,000 × $1/M × 1.1
    ]
    let text = ids.enumerated().map { k, m in
      #"{"message":{"id":"m\#(k)","model":"\#(m.0)","usage":{"input_tokens":100000,"output_tokens":0}}}"#
    }.joined(separator: "\n")
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "regional.jsonl"))
    let rs = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay)).ordered()
    #expect(rs.count == ids.count)
    for (id, dollars) in ids {
      let r = try #require(rs.first { $0.loggedModel == id })
      #expect(r.gap?.inputCostActual?.formatted() == dollars, "\(id)")
      #expect(r.options.regional == ModelCatalog.isRegional(id), "\(id)")
    }
  }

  @Test("The shipped Bedrock HAR (eu. Haiku 4.5) costs 1.1x: $0.00373901 input, $0.000242 output for #2")
  func shippedBedrock() async throws {
    let rs = await requests([dataset("derived/api-responses/test_anthropic_cache_bedrock_real_api.har")])
    let second = try #require(rs.first { $0.usage.cacheWrite5m == 1_956 })
    // Haiku 4.5: $1 in, $1.25 5-minute writes, $0.10 reads, $5 out.
    // 3 × $1 + 1,956 × $1.25 + 9,511 × $0.10 = 3 + 2,445 + 951.1 = 3,399.1 µ$;
    // × 1.1 = 3,739.01 µ$. Output 44 × $5 = 220 µ$; × 1.1 = 242 µ$.
    #expect(second.gap?.inputCostActual?.formatted() == "0.00373901")
    #expect(second.gap?.outputCost?.formatted() == "0.000242")
    #expect(second.gap?.priceTier?.contains("regional") == true)
  }
}
