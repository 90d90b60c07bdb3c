import Compare
import EstimateModel
import Testing

/// Issue 13, item 11: the cost a log itself carries (Claude Code 1.0.x's
/// `costUSD`) is shown beside tokengap's computed cost, never instead of it.
@Suite("The cost the log itself carries")
struct LoggedCostTests {
  func analyze(_ text: String, name: String = "/p/projects/x/s.jsonl") -> (PricedTable, Ledger) {
    let priced = pricedTable([(name, text)])
    return (priced, priced.ledger)
  }

  func line(_ id: String, _ cost: String, output: Int = 2) -> String {
    #"{"type":"assistant","timestamp":"2026-03-01T10:00:00Z","sessionId":"s","costUSD":\#(cost),"#
      + #""message":{"id":"\#(id)","model":"claude-sonnet-4-5","usage":{"input_tokens":1000,"output_tokens":\#(output)}},"#
      + #""requestId":"r_\#(id)"}"#
  }

  @Test("ccusage's fixtures: $0.12 + $0.34 + $0.56 + $0.03 + $0.04 = $1.09 logged, by model as summed by hand")
  func shipped() throws {
    let found = Discovery.find([dataset("claude-code/ccusage-fixtures")])
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    for f in found.files { analyzer.add(ingest.ingest(f)) }
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let total = priced.analysis(dimensions: [.total]).total
    #expect(total.loggedCostRequests == 5)
    #expect(total.loggedCost.formatted() == "1.09")
    let byModel = priced.analysis(dimensions: [.model]).rows
    func logged(_ model: String) -> String? {
      byModel.first { $0.keys == [model] }.map { $0.summary.loggedCost.formatted() }
    }
    // sonnet-4: 0.12 + 0.56; opus-4: 0.34; haiku-4.5: 0.03 + 0.04.
    #expect(logged("claude-sonnet-4-0") == "0.68")
    #expect(logged("claude-opus-4-0") == "0.34")
    #expect(logged("claude-haiku-4-5") == "0.07")
    // The computed cost stays tokengap's own: the logged figure never replaces it.
    #expect(total.loggedCostComputed == total.costActual)
    let csv = AnalysisRenderer.csv(priced.analysis(dimensions: [.total]))
    #expect(csv.split(separator: "\r\n").first?.hasSuffix(",third_party_priced_requests,logged_cost_usd") == true)
    #expect(csv.split(separator: "\r\n").last?.hasSuffix(",1.09") == true)
  }

  @Test(
    "Copies count once (the largest); exponent form; not a number is no cost; a negative one is a problem, the request kept"
  )
  func edges() {
    let text = [
      line("a", "0.5"), line("a", "0.5", output: 9),  // one request, $0.5 once
      line("b", "1.5e-3"),  // $0.0015
      line("c", "\"0.25\""),  // a string: no logged cost, no problem
      line("d", "-1"),  // a problem; the request still counts
    ].joined(separator: "\n")
    let (priced, ledger) = analyze(text)
    let total = priced.analysis(dimensions: [.total]).total
    #expect(total.requests == 4)
    #expect(total.loggedCostRequests == 2)
    #expect(total.loggedCost.formatted() == "0.5015")
    #expect(ledger.problems.count == 1)
    #expect(ledger.problems.first?.reason.contains("'costUSD' is not a non-negative number") == true)
    #expect(ledger.malformedLines == 0)
    // Requests without a logged cost show an empty cell, not $0.
    let requests = priced.requestsCSV().split(separator: "\r\n").dropFirst()
    #expect(requests.filter { $0.hasSuffix(",") }.count == 2)
  }
}
