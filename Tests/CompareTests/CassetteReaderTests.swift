import Compare
import EstimateModel
import Foundation
import Testing

/// Cassettes built in the test: go-vcr's layout, encodings, the body cap.
@Suite("Cassette interactions")
struct CassetteReaderTests {
  func ingest(_ yaml: String, name: String = "cassette.yaml", bodyLimit: Int? = nil) -> ([PricedRequest], Ledger) {
    var options = IngestOptions(catalog: testCatalog)
    if let bodyLimit { options.bodyLimit = bodyLimit }
    var ingest = FileIngest(options: options)
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(yaml.utf8), name: name))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    return (priced.ordered(), priced.ledger)
  }

  /// One VCR.py interaction posting to `uri`, answered with `body` (a YAML
  /// value written after `string:`) and the given headers.
  func interaction(
    _ body: String, uri: String = "https://api.anthropic.com/v1/messages", headers: [String: String] = [:],
    status: Int = 200
  ) -> String {
    let lines = headers.sorted { $0.key < $1.key }.map { "      \($0.key):\n      - \($0.value)\n" }.joined()
    return """
      - request:
          body: '{"model":"claude-sonnet-4-5-20250929"}'
          method: POST
          uri: \(uri)
        response:
          body:
            string: \(body)
          headers:\(lines.isEmpty ? " {}\n" : "\n" + lines)    status:
            code: \(status)
            message: OK

      """
  }

  func usage(_ id: String, _ input: Int, read: Int = 0) -> String {
    #"{"id":"\#(id)","type":"message","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":\#(input),"cache_read_input_tokens":\#(read),"output_tokens":1}}"#
  }

  func gzip(_ deflate: [UInt8], of text: [UInt8]) -> String {
    let member = gzipMember(deflate, crc: CassetteProbe.crc32(text), size: UInt32(text.count))
    return "!!binary |\n        " + Data(member).base64EncodedString()
  }

  /// A stored DEFLATE block holding `text` (at most 65,535 bytes).
  func stored(_ text: [UInt8]) -> [UInt8] {
    let n = UInt16(text.count)
    return [1, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + text
  }

  @Test("go-vcr's layout: url, code, a body as a plain string")
  func goVCR() throws {
    let yaml = """
      ---
      version: 2
      interactions:
      - id: 0
        request:
          proto: HTTP/1.1
          body: '{"model":"claude-haiku-4-5-20251001","max_tokens":10}'
          url: https://api.anthropic.com/v1/messages
          method: POST
        response:
          body: '\(usage("msg_go_1", 30, read: 70))'
          headers:
            Date:
            - Wed, 07 Oct 2026 12:00:00 GMT
          status: 200 OK
          code: 200
          duration: 1.2s

      """
    let (rs, ledger) = ingest(yaml)
    #expect(ledger.problems.isEmpty)
    let r = try #require(rs.first)
    // in 30, reads 70: P 100, I 30.
    #expect(rs.count == 1 && r.estimate == 100 && r.itpm == 30)
    #expect(r.time == Instant("2026-10-07T12:00:00Z"))
    #expect(r.session == "cassette" && r.line == 4)
  }

  @Test("gzip (stored block built here), zlib, raw deflate; an unknown encoding, bad base64 and a bomb are problems")
  func encodings() throws {
    let a = Array(usage("msg_enc_1", 10).utf8)
    let b = Array(usage("msg_enc_2", 20).utf8)
    let c = Array(usage("msg_enc_3", 40).utf8)
    // 1 + 258 × 4,065 = 1,048,771 zeros: over a 1 MiB cap.
    let bomb = BitWriter.zeros(matches: 4065)
    let yaml =
      "interactions:\n"
      + interaction(gzip(stored(a), of: a), headers: ["Content-Encoding": "gzip"])
      + interaction(gzip(stored(b), of: b), headers: [:])  // gzip magic, no header: decoded all the same
      + interaction(
        "!!binary |\n        " + Data(stored(c)).base64EncodedString(), headers: ["Content-Encoding": "deflate"])
      + interaction("!!binary |\n        AAAA", headers: ["Content-Encoding": "br"])
      + interaction("!!binary |\n        not*base64", headers: [:])
      + interaction(gzip(bomb, of: []), headers: ["Content-Encoding": "gzip"])
      + interaction("!!binary |\n        AAAA", headers: ["Content-Encoding": "gzip"], status: 500)
    let (rs, ledger) = ingest(yaml, bodyLimit: 1 << 20)
    #expect(rs.map(\.estimate) == [10, 20, 40])
    #expect(
      ledger.problems.map(\.reason) == [
        "cassette interaction 3 (/v1/messages, HTTP 200): compressed body (content-encoding: br) not supported",
        "cassette interaction 4 (/v1/messages, HTTP 200): the body is not valid base64",
        "cassette interaction 5 (/v1/messages, HTTP 200): gzip body: decompressed body larger than 1048576 bytes (a decompression bomb?)",
      ], "an HTTP 500's body is not read")
    #expect(ledger.problems.map(\.kind) == [.unreadableEntry, .unreadableEntry, .unreadableEntry])
  }

  @Test("YAML that is no cassette is not data; a cassette whose top level breaks keeps what came before")
  func notCassettes() {
    let (none, l1) = ingest("name: ci\nsteps:\n- run: make\n", name: "ci.yml")
    #expect(none.isEmpty && l1.filesNotData == 1 && l1.files == 0 && l1.problems.isEmpty)
    let yaml = "interactions:\n" + interaction("'\(usage("msg_top_1", 5))'") + "version: [1\n"
    let (rs, l2) = ingest(yaml)
    #expect(rs.map(\.estimate) == [5])
    #expect(
      l2.problems.map(\.description) == [
        "cassette.yaml:13: not a readable cassette: YAML: unterminated flow collection (line 13)"
      ])
    // Named anything, a file whose line says `interactions:` is read as a cassette.
    let (named, _) = ingest("interactions:\n" + interaction("'\(usage("msg_top_2", 6))'"), name: "recording")
    #expect(named.map(\.estimate) == [6])
  }

  @Test("HTTP dates: IMF-fixdate only")
  func dates() {
    #expect(CassetteProbe.httpDate("Tue, 06 Oct 2026 08:30:00 GMT") == 1_791_275_400_000)
    #expect(CassetteProbe.httpDate("Thu, 01 Jan 1970 00:00:01 GMT") == 1000)
    for bad in [
      "", "2026-10-06T08:30:00Z", "Tue, 32 Oct 2026 08:30:00 GMT", "Tue, 06 Foo 2026 08:30:00 GMT",
      "Tue, 06 Oct 2026 24:00:00 GMT", "Tue, 06 Oct 2026 08:30:00 PST", "Tue, 06 Oct 99999999999999999999 08:30:00 GMT",
    ] {
      #expect(CassetteProbe.httpDate(bad) == nil, "\(bad)")
    }
  }
}
