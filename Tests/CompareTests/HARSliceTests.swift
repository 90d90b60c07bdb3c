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

  /// Entry `k` of the cases where accepting records as they come and
  /// pairing them at the end could differ from pairing each before it is
  /// accepted: copies of one message (the first unpaired, the second
  /// paired; both paired with different calls), a response whose
  /// iterations make several rows, records refused or flagged when
  /// accepted (a negative count, a cache split that disagrees) that take
  /// a call all the same, and entries without a body.
  func trickyEntry(_ k: Int) -> String {
    let prompt = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"t\#(k % 4)"}]}"#
    let time = "2026-10-20T13:\(k / 60 < 10 ? "0" : "")\(k / 60):\(k % 60 < 10 ? "0" : "")\(k % 60).000Z"
    func call(_ path: String, _ content: String?) -> String {
      let body = content.map { #","content":{"text":\#(quoted($0))}"# } ?? #","content":{}"#
      return #"{"startedDateTime":"\#(time)","request":{"method":"POST","#
        + #""url":"https://api.anthropic.com/v1/messages\#(path)","postData":{"text":\#(quoted(prompt))}},"#
        + #""response":{"status":200,"headers":[]\#(body)}}"#
    }
    let usage: String
    switch k % 9 {
    case 0, 5: return call("/count_tokens", #"{"input_tokens":\#(500 + k)}"#)
    case 1: usage = #""input_tokens":-4,"output_tokens":1"#
    case 2:
      usage =
        #""input_tokens":3,"output_tokens":2,"iterations":[{"type":"compaction","model":"claude-haiku-4-5","input_tokens":70,"output_tokens":9},{"type":"message","input_tokens":3,"output_tokens":2}]"#
    case 3:
      usage =
        #""input_tokens":2,"cache_creation_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20},"output_tokens":1"#
    case 7: return call("", nil)
    default: usage = #""input_tokens":\#(k),"cache_read_input_tokens":\#(900 + k),"output_tokens":3"#
    }
    // Copies of one message: every id is used by two entries nine apart.
    let response =
      #"{"id":"msg_t\#(k % 18 / 2)","model":"claude-sonnet-4-5","stop_reason":"end_turn","usage":{\#(usage)}}"#
    return call("", response)
  }

  @Test("Accepting records as they come, paired at the end, gives what pairing each first gives (the tree path)")
  func pairedAtTheEnd() {
    let entries = (0..<120).map(trickyEntry).joined(separator: ",")
    // A HAR whose first key is not `log` is parsed whole and paired record
    // by record before any is accepted: the reference.
    let tree = read(Array(#"{"comment":"x","log":{"entries":[\#(entries)]}}"#.utf8), name: "t.har", sliced: false)
    let streamed = #"{"log":{"entries":[\#(entries)],"comment":"x"}}"#
    #expect(tree.ledger.countTokensPaired > 10)
    #expect(tree.ledger.problems.count > 20)
    #expect(tree.csv.contains("claude-haiku-4-5"), "an iteration's step made a row")
    for size in [4_096, 1, 4, 13] {
      let got = read(Array(streamed.utf8), name: "t.har", sliced: size != 4_096, sliceSize: size)
      #expect(got.csv == tree.csv, "slices of \(size)")
      #expect(got.ledger == tree.ledger, "slices of \(size)")
      #expect(got.ledger.problems.map(\.reason) == tree.ledger.problems.map(\.reason), "slices of \(size)")
    }
  }
}
