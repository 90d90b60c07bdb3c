import Compare
import EstimateModel
import Foundation
import Testing

/// Bedrock and Vertex AI calls in HAR captures (issue 13, item 4).
@Suite("Bedrock and Vertex AI entries in HAR captures")
struct ProviderHARTests {
  func ingest(_ text: String) -> (PricedTable, Ledger) {
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "providers.har"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    return (priced, priced.ledger)
  }

  /// A HAR entry: a POST to `url` answered with `body` (JSON-quoted here).
  func entry(_ url: String, _ body: String, mime: String = "application/json", base64: Bool = false) -> String {
    let encoding = base64 ? #","encoding":"base64""# : ""
    return #"{"startedDateTime":"2026-10-01T10:00:00Z","request":{"method":"POST","url":"\#(url)","headers":[]},"#
      + #""response":{"status":200,"headers":[{"name":"content-type","value":"\#(mime)"}],"#
      + #""content":{"mimeType":"\#(mime)"\#(encoding),"text":\#(body)}}}"#
  }

  func quoted(_ s: String) -> String {
    "\""
      + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n") + "\""
  }

  @Test("The shipped Bedrock HAR: 2 requests, P 20,984, I 1,962 (SOURCES.md), not 0 requests and exit 65")
  func shippedBedrock() async throws {
    let path = dataset("derived/api-responses/test_anthropic_cache_bedrock_real_api.har")
    let rs = await requests([path])
    #expect(rs.count == 2)
    // #1: in 3, read 9,511 → P 9,514, I 3. #2: in 3, write 1,956, read 9,511
    // → P 11,470, I 1,959. Sums: P 20,984, I 1,962.
    #expect(rs.map(\.estimate).reduce(0, +) == 20_984)
    #expect(rs.map(\.itpm).reduce(0, +) == 1_962)
    #expect(rs.allSatisfy { $0.model == "claude-haiku-4-5" })
    #expect(rs.allSatisfy { $0.loggedModel == "eu.anthropic.claude-haiku-4-5-20251001-v1:0" }, "the URL's id")
  }

  @Test("Converse with the model from the URL, Vertex rawPredict and streamRawPredict, an event stream named")
  func hand() throws {
    let converse = entry(
      "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
      quoted(
        #"{"output":{"message":{"role":"assistant","content":[{"text":"x"}]}},"stopReason":"end_turn","#
          + #""usage":{"inputTokens":100,"outputTokens":20,"totalTokens":1170,"cacheReadInputTokens":1000,"#
          + #""cacheWriteInputTokens":50}}"#))
    let vertex = entry(
      "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
        + "claude-sonnet-4-5@20250929:rawPredict",
      quoted(#"{"id":"msg_vrtx_1","type":"message","usage":{"input_tokens":10,"output_tokens":5}}"#))
    let sse =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_vrtx_2\","
      + "\"model\":\"claude-haiku-4-5@20251001\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\n"
      + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n"
      + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    let stream = entry(
      "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/"
        + "claude-haiku-4-5@20251001:streamRawPredict", quoted(sse), mime: "text/event-stream")
    let eventStream = entry(
      "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-haiku-4-5-20251001-v1:0/"
        + "invoke-with-response-stream", quoted("AAAA"), mime: "application/vnd.amazon.eventstream", base64: true)
    let other = entry("https://example.com/model/x/other", quoted("{}"))
    let har =
      #"{"log":{"version":"1.2","entries":["#
      + [converse, vertex, stream, eventStream, other].joined(
        separator: ",") + "]}}"
    let (priced, ledger) = ingest(har)
    let rs = priced.ordered()
    #expect(rs.count == 3)
    let c = try #require(rs.first { $0.loggedModel.hasPrefix("us.anthropic.") })
    // Converse: in 100, writes 50 (no TTL split), reads 1,000, out 20.
    // P = 100 + 50 + 1,000 = 1,150; I = 150.
    #expect(c.loggedModel == "us.anthropic.claude-sonnet-4-5-20250929-v1:0" && c.model == "claude-sonnet-4-5")
    #expect(c.estimate == 1_150 && c.itpm == 150 && c.usage.output == 20)
    let v = try #require(rs.first { $0.messageID == "msg_vrtx_1" })
    #expect(v.loggedModel == "claude-sonnet-4-5@20250929" && v.model == "claude-sonnet-4-5", "model from the URL")
    #expect(v.estimate == 10 && v.usage.output == 5)
    let s = try #require(rs.first { $0.messageID == "msg_vrtx_2" })
    #expect(s.model == "claude-haiku-4-5" && s.estimate == 7 && s.usage.output == 9)
    #expect(ledger.problems.count == 1)
    #expect(ledger.problems.first?.reason.contains("Bedrock event-stream body") == true)
  }
}
