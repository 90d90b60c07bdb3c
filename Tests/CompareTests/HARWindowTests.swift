import Compare
import EstimateModel
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A large HAR file is read window by window, its entries parsed as each
/// window brings them and their bytes dropped; the result must be what
/// reading the file whole gives. Each case is written to a file and read
/// both ways, with windows of a few bytes up to a few KB.
@Suite("A HAR read window by window agrees with one read whole")
struct HARWindowTests {
  let slices = HARSliceTests()

  /// The request CSV and JSON and the ledger of the file at `path`, read in
  /// windows of `window` bytes (nil: whole), and how large the read buffer
  /// grew: a windowed read never holds the file.
  /// With `offset`, the file is read from that offset of an open
  /// descriptor, as standard input may be.
  func read(
    _ path: String, window: Int?, cap: Int = IngestOptions.defaultCaptureLimit, offset: Int? = nil
  ) -> (csv: String, ledger: Ledger, buffer: Int) {
    var options = IngestOptions(catalog: testCatalog, captureLimit: cap)
    options.harWindowMinimum = window == nil ? Int.max : 0
    options.harWindowSize = window ?? 1
    var ingest = FileIngest(options: options, bufferSize: 1 << 12)
    var analyzer = Analyzer()
    if let offset {
      let fd = open(path, O_RDONLY)
      defer { close(fd) }
      #expect(fd >= 0 && lseek(fd, off_t(offset), SEEK_SET) == off_t(offset))
      analyzer.add(ingest.ingest(descriptor: fd, name: "-"))
    } else {
      analyzer.add(ingest.ingest(path))
    }
    let buffer = ingest.takeReadBuffer().count
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let json = AnalysisRenderer.render(priced.analysis(dimensions: [.request]), format: .json)
    return (priced.requestsCSV() + json, priced.ledger, buffer)
  }

  /// Writes `text` to a fresh file, reads it whole and in every window of
  /// `windows`, expects the same each time and returns the whole read and
  /// the largest buffer a windowed read grew.
  @discardableResult
  func compare(
    _ text: String, name: String, windows: [Int] = [7, 1_000, 4_096], cap: Int = IngestOptions.defaultCaptureLimit,
    offset: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> (csv: String, ledger: Ledger, buffer: Int, size: Int) {
    let path = "/tmp/tokengap-har-window-\(name)-\(WallClock.now().millisecondsSinceEpoch).har"
    let bytes = Array(text.utf8)
    try POSIXFiles.writeAtomically(bytes, to: path)
    defer { unlink(path) }
    let whole = read(path, window: nil, cap: cap, offset: offset)
    var largest = 0
    for window in windows {
      let windowed = read(path, window: window, cap: cap, offset: offset)
      #expect(windowed.csv == whole.csv, "\(name), windows of \(window)", sourceLocation: sourceLocation)
      #expect(windowed.ledger == whole.ledger, "\(name), windows of \(window)", sourceLocation: sourceLocation)
      largest = max(largest, windowed.buffer)
    }
    return (whole.csv, whole.ledger, largest, bytes.count)
  }

  @Test("Generated entries: pairs, 429s and unreadable entries across the windows' edges")
  func generated() throws {
    let count = 700
    let text = #"{"log":{"version":"1.2","entries":["# + (0..<count).map(slices.entry).joined(separator: ",") + "]}}"
    let read = try compare(text, name: "generated")
    // The windowed path was taken (its buffer stayed far below the file),
    // and the case is not vacuous.
    #expect(read.size > 200_000)
    #expect(read.buffer < read.size / 4)
    #expect(read.ledger.countTokensPaired > 100)
    #expect(read.ledger.responses429 == 54)
    // A 200 with no body (k % 17 == 0, not a 429, a count_tokens call or
    // the GET): 41 multiples of 17 below 700, less 8 of 5 and 3 of 13.
    #expect(read.ledger.problems.count == 30)
    #expect(read.csv.split(separator: "\n").count > 400)
  }

  @Test("Prompts repeated through the file, clocks shuffled: calls pair across windows")
  func shuffled() throws {
    let count = 801
    let text =
      #"{"log":{"entries":["# + (0..<count).map { slices.shuffledEntry($0, of: count) }.joined(separator: ",") + "]}}"
    let read = try compare(text, name: "shuffled")
    #expect(read.buffer < read.size / 4)
    #expect(read.ledger.countTokensCalls == 201)
    #expect(read.ledger.countTokensPaired > 150)
  }

  @Test("An entry larger than the window, a byte order mark, white space and pages after the entries")
  func layout() throws {
    let big = String(repeating: "x", count: 20_000)
    let large =
      #"{"startedDateTime":"2026-10-20T12:00:00.000Z","comment":"\#(big)","request":{"method":"POST","#
      + #""url":"https://api.anthropic.com/v1/messages","postData":{"text":"{}"}},"#
      + #""response":{"status":200,"headers":[],"content":{"text":"{\"id\":\"msg_big\","#
      + #"\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}"}}}"#
    var entries = (0..<300).map(slices.entry)
    entries.insert(large, at: 150)
    let text =
      "\u{FEFF} \n{\"log\" : {\"version\":\"1.2\",\"creator\":{\"name\":\"t\"},\"entries\" :\n[\n "
      + entries.joined(separator: " ,\n\t") + "\n] ,\"pages\":[{\"id\":\"p\",\"title\":\"]\"}]}}\n"
    let read = try compare(text, name: "layout")
    #expect(read.buffer < read.size / 2)
    #expect(read.csv.contains("msg_big"))
    #expect(read.ledger.problems.isEmpty == false)
  }

  @Test("A count_tokens call only in the last entry is still paired (the file is searched across pieces)")
  func lateCountTokens() throws {
    // Every entry a messages call for one prompt, the last a count_tokens
    // call for it: pairing must be on from the first entry.
    let count = 500
    var entries = (0..<count).map { k in
      slices.entry(k % 5 == 0 || k % 13 == 0 || k == 40 ? 1 : k)
    }
    entries[count - 1] = slices.entry(5)
    let text = #"{"log":{"entries":["# + entries.joined(separator: ",") + "]}}"
    let read = try compare(text, name: "late")
    #expect(read.ledger.countTokensCalls == 1)
    #expect(read.ledger.countTokensPaired == 1)
  }

  @Test("A document that is no HAR, or breaks inside an entry, fails the same way windowed")
  func broken() throws {
    let good = (0..<400).map(slices.entry).joined(separator: ",")
    for (k, text) in [
      #"{"log":{"entries":["# + good + "]}} trailing",
      #"{"log":{"entries":["# + good + #",{"request":{"url":"x}]}}"#,
      #"{"log":{"entries":["# + good + #",{"a":[}]}}"#,
      #"{"log":{"entries":["# + good + #",{"a":"\q"}]}}"#,
      #"{"log":{"entries":["# + good + ",1,true,null]}}",
      #"{"log":{"entries":["# + good + #"], "entries": []}}"#,
      #"{"log":{"entries":["# + good + "]",
      #"{"log":{"entries":["# + good,
      #"{"log":{"entries":["# + good + "]}}" + String(repeating: " ", count: 9_000) + "{}",
    ].enumerated() {
      let read = try compare(text, name: "broken\(k)", windows: [7, 4_096])
      #expect(read.ledger.lines + read.ledger.skippedFiles.count > 0, "case \(k)")
    }
  }

  @Test("Random damage anywhere in a HAR: windowed and whole reads still agree, byte for byte")
  func mutated() throws {
    // A small HAR (40 entries: pairs, 429s, problems), damaged at random:
    // bytes deleted, structural or quoting bytes inserted, stretches
    // repeated. Whatever the damage, the windowed read reads what it can
    // and falls back to the whole read otherwise: outputs and ledgers equal.
    let good = Array(
      (#"{"log":{"version":"1.2","entries":["# + (0..<40).map(slices.entry).joined(separator: ",") + "]}}").utf8)
    let inserts = Array(#"{}[]",:\ 0a"#.utf8)
    var rng = SplitMix(seed: 0xA11_0BAD)
    var broken = 0
    var read = 0
    for k in 0..<120 {
      var bytes = good
      for _ in 0..<(1 + Int(rng.next() % 3)) {
        let at = Int(rng.next() % UInt64(bytes.count))
        switch rng.next() % 3 {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(inserts[Int(rng.next() % UInt64(inserts.count))], at: at)
        default:
          let end = min(bytes.count, at + 1 + Int(rng.next() % 200))
          bytes.insert(contentsOf: bytes[at..<end], at: at)
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      let result = try compare(text, name: "mutated\(k)", windows: [5, 97, 4_096])
      if result.ledger.requests == 0 { broken += 1 } else { read += 1 }
    }
    // Not vacuous: some damage broke the whole document (the windowed read
    // fell back), some left it readable (its entries read window by window).
    #expect(broken > 10 && read > 10, "\(broken) broken, \(read) read")
  }

  @Test("At the document cap the whole read decides (skipped at the cap, read below it), windowed or not")
  func cap() throws {
    let har = #"{"log":{"entries":["# + (0..<400).map(slices.entry).joined(separator: ",") + "]}}"
    let cap = 1 << 18
    #expect(har.utf8.count < cap - 10)
    func padded(_ text: String, to size: Int) -> String { text + String(repeating: " ", count: size - text.utf8.count) }
    let at = try compare(padded(har, to: cap), name: "cap", windows: [4_096], cap: cap)
    #expect(at.ledger.filesSkipped == 1 && at.ledger.requests == 0)
    let below = try compare(padded(har, to: cap - 1), name: "below", windows: [4_096], cap: cap)
    #expect(below.ledger.filesSkipped == 0 && below.ledger.requests > 200)
    let broken = try compare(padded(har + " x", to: cap), name: "broken-cap", windows: [4_096], cap: cap)
    #expect(broken.ledger.filesSkipped == 1)
  }

  @Test("count_tokens URLs written with escaped slashes pair as plain ones do, whatever the window")
  func escapedSlashes() throws {
    let har = #"{"log":{"entries":["# + (0..<400).map(slices.entry).joined(separator: ",") + "]}}"
    // JSON may escape a slash (PHP's json_encode does): the same URLs.
    let escaped = har.replacing("/v1/messages/count_tokens", with: #"\/v1\/messages\/count_tokens"#)
    #expect(!escaped.contains("/v1/messages/count_tokens"))
    let plain = try compare(har, name: "plain", windows: [4_096])
    let read = try compare(escaped, name: "escaped", windows: [7, 50, 51, 4_096])
    #expect(read.ledger.countTokensCalls > 50 && read.ledger.countTokensPaired > 50)
    // As plain ones pair (the files' names and sizes aside).
    #expect(read.ledger.countTokensPaired == plain.ledger.countTokensPaired)
    #expect(read.ledger.requests == plain.ledger.requests && read.ledger.problems.count == plain.ledger.problems.count)
  }

  @Test("Read from an offset of an open file (standard input): from there, both ways, and on falling back")
  func offset() throws {
    let har = #"{"log":{"entries":["# + (0..<400).map(slices.entry).joined(separator: ",") + "]}}"
    let good = try compare("JUNK\n" + har, name: "offset", windows: [4_096], offset: 5)
    #expect(good.ledger.requests > 200 && good.ledger.malformedLines == 0)
    // Broken after the list: read again whole, from the offset, not from 0.
    let bad = try compare("JUNK\n" + har + "\n{\"a\":1}\n", name: "offset-bad", windows: [4_096], offset: 5)
    #expect(bad.ledger.lines == 2)
  }
}
