import Compare
import EstimateModel
import Testing

/// A large HAR is read in slices side by side, each slice's entries parsed
/// apart and the slices joined in order; the result must be what one pass
/// in order gives. Each case is read both ways and compared.
@Suite("A HAR read in slices agrees with one read in order")
struct HARSliceTests {
  /// The request CSV and the ledger of `bytes` read as `name`, in slices
  /// (every HAR is sliced; `sliceSize` entries a slice at most, and at
  /// least two slices) or in one pass.
  func read(_ bytes: [UInt8], name: String, sliced: Bool, sliceSize: Int = 4_096) -> (csv: String, ledger: Ledger) {
    var options = IngestOptions(catalog: testCatalog)
    options.harSliceEntries = sliced ? 1 : Int.max
    options.harSliceSize = sliceSize
    var ingest = FileIngest(options: options)
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: bytes, name: name))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    // The JSON carries what the CSV does not: each request's measured count.
    let json = AnalysisRenderer.render(priced.analysis(dimensions: [.request]), format: .json)
    return (priced.requestsCSV() + json, priced.ledger)
  }

  func quoted(_ s: String) -> String {
    "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
  }

  /// Entry `k`: every fifth a count_tokens call for the prompt the next
  /// messages call sends (so pairs cross the slices' edges), every
  /// thirteenth a 429 with Retry-After, every seventeenth a messages call
  /// with no body (a problem naming the entry), one a URL that is no API's.
  func entry(_ k: Int) -> String {
    let prompt = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"q\#(k / 5)"}]}"#
    let time = "2026-10-20T12:\(k / 60 < 10 ? "0" : "")\(k / 60):\(k % 60 < 10 ? "0" : "")\(k % 60).000Z"
    func call(_ path: String, status: Int, headers: String, content: String?) -> String {
      let body = content.map { #","content":{"text":\#(quoted($0))}"# } ?? #","content":{}"#
      return #"{"startedDateTime":"\#(time)","request":{"method":"POST","#
        + #""url":"https://api.anthropic.com/v1/messages\#(path)","postData":{"text":\#(quoted(prompt))}},"#
        + #""response":{"status":\#(status),"headers":[\#(headers)]\#(body)}}"#
    }
    if k == 40 {
      return #"{"startedDateTime":"\#(time)","request":{"method":"GET","url":"https://example.com/"},"#
        + #""response":{"status":200,"headers":[],"content":{}}}"#
    }
    if k % 13 == 0 {
      return call("", status: 429, headers: #"{"name":"Retry-After","value":"\#(k % 7 + 1)"}"#, content: nil)
    }
    if k % 5 == 0 {
      return call("/count_tokens", status: 200, headers: "", content: #"{"input_tokens":\#(100 + k)}"#)
    }
    if k % 17 == 0 { return call("", status: 200, headers: "", content: nil) }
    let response =
      #"{"id":"msg_\#(k)","model":"claude-sonnet-4-5","stop_reason":"end_turn","#
      + #""usage":{"input_tokens":\#(3 + k % 4),"cache_read_input_tokens":\#(90 + k),"output_tokens":\#(k % 9)}}"#
    return call("", status: 200, headers: #"{"name":"request-id","value":"req_\#(k)"}"#, content: response)
  }

  @Test("Generated entries: pairs, 429s and unreadable entries across the slices' edges")
  func generated() {
    for count in [1, 2, 3, 7, 64, 301] {
      let text = #"{"log":{"version":"1.2","entries":["# + (0..<count).map(entry).joined(separator: ",") + "]}}"
      let bytes = Array(text.utf8)
      let one = read(bytes, name: "gen.har", sliced: false)
      // Two slices, then many: a slice of one entry, of two, of seven.
      for size in [4_096, 1, 2, 7] {
        let sliced = read(bytes, name: "gen.har", sliced: true, sliceSize: size)
        #expect(sliced.csv == one.csv, "\(count) entries, slices of \(size)")
        #expect(sliced.ledger == one.ledger, "\(count) entries, slices of \(size)")
      }
      if count == 301 {
        // The case is not vacuous: calls were paired, 429s and problems counted.
        #expect(one.ledger.countTokensPaired > 40)
        #expect(one.ledger.responses429 == 24)
        #expect(one.ledger.retryAfterSeconds.count == 24)
        #expect(one.ledger.problems.count > 10)
      }
    }
  }

  /// Entry `k` of `count`: three prompts taking turns through the whole
  /// file, every fourth entry a count_tokens call, the clock shuffled (a
  /// call may come after its messages call in the file and before it in
  /// time, or in another slice), so each prompt's calls are taken across
  /// every slice.
  func shuffledEntry(_ k: Int, of count: Int) -> String {
    let prompt = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"p\#(k % 3)"}]}"#
    let second = k * 37 % count
    let time =
      "2026-10-20T1\(second / 3600):\(second / 60 % 60 < 10 ? "0" : "")\(second / 60 % 60):"
      + "\(second % 60 < 10 ? "0" : "")\(second % 60).000Z"
    let countTokens = k % 4 == 0
    let response =
      countTokens
      ? #"{"input_tokens":\#(1_000 + k)}"#
      : #"{"id":"msg_\#(k)","model":"claude-sonnet-4-5","usage":{"input_tokens":\#(k),"output_tokens":1}}"#
    return #"{"startedDateTime":"\#(time)","request":{"method":"POST","#
      + #""url":"https://api.anthropic.com/v1/messages\#(countTokens ? "/count_tokens" : "")","#
      + #""postData":{"text":\#(quoted(prompt))}},"#
      + #""response":{"status":200,"headers":[],"content":{"text":\#(quoted(response))}}}"#
  }

  @Test("Prompts repeated through the file, clocks shuffled: each call goes to the same request sliced")
  func shuffled() {
    // 211 entries: 53 count_tokens calls for 158 messages calls.
    let count = 211
    let text = #"{"log":{"entries":["# + (0..<count).map { shuffledEntry($0, of: count) }.joined(separator: ",") + "]}}"
    let bytes = Array(text.utf8)
    let one = read(bytes, name: "shuffled.har", sliced: false)
    // Not vacuous: most calls pair, and not each with the entry after it.
    #expect(one.ledger.countTokensCalls == 53)
    #expect(one.ledger.countTokensPaired > 40)
    for size in [4_096, 1, 2, 5, 50] {
      let sliced = read(bytes, name: "shuffled.har", sliced: true, sliceSize: size)
      #expect(sliced.csv == one.csv, "slices of \(size)")
      #expect(sliced.ledger == one.ledger, "slices of \(size)")
    }
  }

  @Test("A document that is no HAR, or breaks inside an entry, fails the same way sliced")
  func broken() {
    let good = (0..<20).map(entry)
    for text in [
      #"{"log":{"entries":["# + good.joined(separator: ",") + "]}}",
      #"{"log":{"entries":["# + good.joined(separator: ",") + "]}} trailing",
      #"{"log":{"entries":["# + good.joined(separator: ",") + #",{"request":{"url":"x}]}}"#,
      #"{"log":{"entries":["# + good.joined(separator: ",") + #",{"a":[}]}}"#,
      #"{"log":{"entries":["# + good.joined(separator: ",") + #",{"a":"\q"}]}}"#,
      #"{"log":{"entries":["# + good.joined(separator: ",") + ",1,true,null]}}",
      #"{"log":{"entries":["# + good[0] + "," + good[1] + "], \"entries\": []}}",
    ] {
      let bytes = Array(text.utf8)
      let one = read(bytes, name: "broken.har", sliced: false)
      for size in [4_096, 1, 3] {
        let sliced = read(bytes, name: "broken.har", sliced: true, sliceSize: size)
        #expect(sliced.csv == one.csv, "\(text.suffix(40)), slices of \(size)")
        #expect(sliced.ledger == one.ledger, "\(text.suffix(40)), slices of \(size)")
      }
    }
  }

  @Test("Every shipped HAR reads the same in slices")
  func shipped() throws {
    let found = Discovery.find([dataset("")], modifiedSince: nil)
    let hars = found.files.filter { $0.hasSuffix(".har") }
    #expect(hars.count >= 10)
    for path in hars {
      let bytes = try POSIXFiles.read(path)
      let one = read(bytes, name: path, sliced: false)
      for size in [4_096, 1] {
        let sliced = read(bytes, name: path, sliced: true, sliceSize: size)
        #expect(sliced.csv == one.csv, "\(path), slices of \(size)")
        #expect(sliced.ledger == one.ledger, "\(path), slices of \(size)")
      }
    }
  }
}
