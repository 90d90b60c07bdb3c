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

  /// A HAR of Vertex AI rawPredict calls, one per URL, each answered with
  /// 100,000 input tokens and 10,000 output tokens on `model`.
  func vertexHAR(_ calls: [(url: String, model: String)]) -> String {
    let entries = calls.enumerated().map { k, c in
      let body =
        #"{\"id\":\"msg_v\#(k)\",\"type\":\"message\",\"model\":\"\#(c.model)\","#
        + #"\"usage\":{\"input_tokens\":100000,\"output_tokens\":10000}}"#
      return
        #"{"startedDateTime":"2026-10-01T10:00:0\#(k)Z","request":{"method":"POST","url":"\#(c.url)","headers":[]},"#
        + #""response":{"status":200,"headers":[],"content":{"mimeType":"application/json","text":"\#(body)"}}}"#
    }
    return #"{"log":{"version":"1.2","entries":["# + entries.joined(separator: ",") + "]}}"
  }

  @Test(
    "Vertex AI locations (issue 13, item 5): the location, not the model id, names a regional endpoint",
    arguments: [
      ("https://aiplatform.googleapis.com/v1/projects/p/locations/global", "global"),
      ("https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5", "us-east5"),
      ("https://europe-west1-aiplatform.googleapis.com/v1/projects/p/locations/europe-west1", "europe-west1"),
      ("https://aiplatform.us.rep.googleapis.com/v1/projects/p/locations/us", "us"),
      ("https://us-east5-aiplatform.googleapis.com/v1/projects/p", "us-east5"),
    ])
  func vertexLocations(_ base: String, _ location: String) {
    #expect(
      Probe.vertexLocation(base + "/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict") == location)
  }

  @Test("Vertex AI regional endpoints cost 1.1x on Sonnet 4.5 and Haiku 4.5, global base; Sonnet 4 has no premium")
  func vertexRegional() throws {
    let models = "/publishers/anthropic/models/"
    let calls: [(url: String, model: String)] = [
      (
        "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5\(models)claude-sonnet-4-5@20250929:rawPredict",
        "claude-sonnet-4-5-20250929"
      ),
      (
        "https://aiplatform.googleapis.com/v1/projects/p/locations/global\(models)claude-sonnet-4-5@20250929:rawPredict",
        "claude-sonnet-4-5-20250929"
      ),
      (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/p/locations/europe-west1\(models)claude-haiku-4-5@20251001:streamRawPredict",
        "claude-haiku-4-5-20251001"
      ),
      (
        "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5\(models)claude-sonnet-4@20250514:rawPredict",
        "claude-sonnet-4-20250514"
      ),
    ]
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(vertexHAR(calls).utf8), name: "vertex.har"))
    let rs = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay)).ordered()
    #expect(rs.count == 4)
    func cost(_ id: String) -> (String?, String?) {
      let r = rs.first { $0.messageID == id }
      return (r?.gap?.inputCostActual?.formatted(), r?.gap?.outputCost?.formatted())
    }
    // Sonnet 4.5 ($3 in, $15 out): 100,000 × $3/M = $0.30, 10,000 × $15/M = $0.15;
    // regional × 1.1: $0.33 and $0.165.
    #expect(cost("msg_v0") == ("0.33", "0.165"))
    #expect(cost("msg_v1") == ("0.3", "0.15"))
    // Haiku 4.5 ($1 in, $5 out): $0.10 and $0.05; × 1.1: $0.11 and $0.055.
    #expect(cost("msg_v2") == ("0.11", "0.055"))
    // Sonnet 4 is not marked regional_premium: base $0.30 and $0.15 anywhere.
    #expect(cost("msg_v3") == ("0.3", "0.15"))
    #expect(rs.first { $0.messageID == "msg_v0" }?.options.regional == true)
    #expect(rs.first { $0.messageID == "msg_v1" }?.options.regional == false)

    // The rows carry the endpoint (`regional`): read back, the same costs.
    let priced = pricedTable(vertexHAR(calls), name: "vertex.har")
    var rows = ""
    priced.writeRows(.jsonl, source: "test") {
      rows += $0
      return true
    }
    #expect(rows.contains(#""regional":true"#))
    let back = pricedTable(rows, name: "rows.jsonl").ordered()
    #expect(back.map { $0.gap?.costActual } == priced.ordered().map { $0.gap?.costActual })
    // $0.33 + $0.165 + $0.30 + $0.15 + $0.11 + $0.055 + $0.30 + $0.15 = $1.56.
    #expect(back.compactMap { $0.gap?.costActual }.reduce(USD.zero, +).formatted() == "1.56")
  }

  func pricedTable(_ text: String, name: String) -> PricedTable { CompareTests.pricedTable([(name, text)]) }
}
