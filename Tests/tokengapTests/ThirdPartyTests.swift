import Compare
import EstimateModel
import Testing

/// Writes a file of text.
private func write(_ text: String, _ path: String) throws {
  try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
}

@Suite("Figures resting on third-party sources are marked (issue 13, item 17)", .serialized)
struct ThirdPartyTests {
  @Test("rules: third-party prices and start days, per model, in every format")
  func rules() async throws {
    let r = await tokengap("rules", "--at", "2026-11-20", "--format", "json")
    #expect(r.status == 0)
    let doc = try JSONParser.parse(r.out)
    func thirdParty(_ id: String) -> [String]? {
      doc["models"]?.array?.first { $0["id"]?.string == id }?["price"]?["third_party"]?.array?.compactMap(\.string)
    }
    // Fable 5.2: prices and release date from third parties (catalog
    // PR-2026-11-3P, REL-2026-3P); Opus 5.5: verified prices, third-party
    // release date; Opus 4.6: nothing third-party.
    #expect(thirdParty("claude-fable-5-2") == ["prices (PR-2026-11-3P)", "start day 2026-11-09 (REL-2026-3P)"])
    #expect(thirdParty("claude-opus-5-5") == ["start day 2026-09-22 (REL-2026-3P)"])
    #expect(thirdParty("claude-opus-4-6") == [])
    let table = await tokengap("rules", "--at", "2026-11-20")
    #expect(table.out.contains("standard [3P]"))
    #expect(table.out.contains("claude-fable-5-2: prices (PR-2026-11-3P); start day 2026-11-09 (REL-2026-3P)"))
    // Before Opus 5.5's third-party start day it has no price: that rests
    // on the third party too.
    let early = await tokengap("rules", "--at", "2026-09-10")
    #expect(early.out.contains("(no price) [3P]"))
    #expect(early.out.contains("claude-opus-5-5: no price before start day 2026-09-22 (REL-2026-3P)"))
    let csv = await tokengap("rules", "--at", "2026-11-20", "--format", "csv")
    #expect(csv.out.split(separator: "\r\n").first?.hasSuffix(",source_date,third_party") == true)
  }

  @Test("rules: the 2025-Q4 table is marked as carried forward from January 2026")
  func carriedForward() async throws {
    func laterTable(_ day: String) async throws -> JSONValue? {
      let doc = try JSONParser.parse(await tokengap("rules", "--at", day, "--format", "json").out)
      return doc["rate_limits"]?.array?.first { $0["id"]?.string == "tiers-2025-q4" }?["later_table"]
    }
    #expect(try await laterTable("2025-12-01")?["carried_forward_on_this_day"] == .bool(false))
    #expect(try await laterTable("2026-03-01")?["carried_forward_on_this_day"] == .bool(true))
    #expect(try await laterTable("2026-03-01")?["source"]?["grade"]?.string == "third-party")
    let text = await tokengap("rules", "--at", "2026-03-01")
    #expect(text.out.contains("[3P] From January 2026 a later table"))
  }

  @Test("estimate and analyze count the requests priced from third-party prices")
  func prices() async throws {
    // 1,000 uncached input tokens on Fable 5.2 at $8 per million: $0.008,
    // a third-party price.
    let fable = try JSONParser.parse(
      await tokengap(
        "estimate", "--model", "claude-fable-5-2", "--input", "1000", "--at", "2026-11-20", "--format", "json"
      ).out)
    #expect(fable["input_cost_actual_usd"] == .number("0.008"))
    #expect(fable["third_party_price"] == .bool(true))
    let opus = try JSONParser.parse(
      await tokengap(
        "estimate", "--model", "claude-opus-4-6", "--input", "1000", "--at", "2026-11-20", "--format", "json"
      )
      .out)
    #expect(opus["third_party_price"] == .bool(false))

    let dir = temporaryDirectory("third-party")
    func pair(_ id: String, _ model: String) -> String {
      #"{"time": "2026-11-20T10:00:00Z", "count_tokens": {"input_tokens": 1000}, "response": {"id": "\#(id)", "type": "message", "model": "\#(model)", "stop_reason": "end_turn", "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}}}"#
    }
    try write(pair("msg_f", "claude-fable-5-2") + "\n" + pair("msg_o", "claude-opus-4-6") + "\n", dir + "/pairs.jsonl")
    let analysis = try JSONParser.parse(
      await tokengap("analyze", dir + "/pairs.jsonl", "--by", "model", "--format", "json", "-q").out)
    // One of the two requests (Fable 5.2) rests on third-party prices.
    #expect(analysis["total"]?["third_party_priced_requests"] == .number("1"))
    // In CSV the count is the column before the logged cost (empty here): 1 on
    // the Fable 5.2 row, 0 on Opus 4.6's.
    let csv = await tokengap("analyze", dir + "/pairs.jsonl", "--by", "model", "--format", "csv", "-q")
    let lines = csv.out.split(separator: "\r\n")
    #expect(lines.first?.hasSuffix(",unpriced_requests,third_party_priced_requests,logged_cost_usd") == true)
    #expect(lines.first { $0.hasPrefix("claude-fable-5-2,") }?.hasSuffix(",1,") == true)
    #expect(lines.first { $0.hasPrefix("claude-opus-4-6,") }?.hasSuffix(",0,") == true)
    let table = await tokengap("analyze", dir + "/pairs.jsonl", "--by", "total", "-q")
    #expect(table.out.contains("1 of 2 priced requests: costs rest on prices from a third-party source"))
  }

  @Test("simulate: a carried-forward table marks every regime; the gateway's rule is always third-party")
  func simulate() async throws {
    let path = root + "/datasets/claude-code/claude-code-viewer"
    func run(_ day: String) async throws -> JSONValue {
      try JSONParser.parse(
        await tokengap("simulate", path, "--tier", "tier-2", "--limits-at", day, "--format", "json", "-q").out)
    }
    func marks(_ doc: JSONValue) -> [String: Bool] {
      var out: [String: Bool] = [:]
      for r in doc["pools"]?.array?.first?["regimes"]?.array ?? [] {
        if let name = r["regime"]?.string { out[name] = r["third_party"]?.bool }
      }
      return out
    }
    let before = try await run("2025-12-01")
    #expect(marks(before) == ["server": false, "count_tokens": false, "unpaced": false, "reserve_refund": true])
    #expect(before["third_party"]?.array?.count == 1)
    let after = try await run("2026-03-01")
    #expect(marks(after) == ["server": true, "count_tokens": true, "unpaced": true, "reserve_refund": true])
    #expect(after["third_party"]?.array?.count == 2)
  }
}
