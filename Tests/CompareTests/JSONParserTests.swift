import Compare
import EstimateModel
import Testing

@Suite("The JSON tree parser")
struct JSONParserTests {
  @Test("Nested arrays and objects: values, document order, duplicate keys kept")
  func nested() throws {
    let text =
      #" {"a": [1, [2, [], [[]]], {"b": {}}], "c": {"z": true, "a": null, "z": "last"}, "#
      + #""d": [{"k": "v\u00e9\n"}, -0.5e3, false], "e": "" } "#
    let doc = try JSONParser.parse(text)
    let expected: JSONValue = .object([
      (
        "a",
        .array([.number("1"), .array([.number("2"), .array([]), .array([.array([])])]), .object([("b", .object([]))])])
      ),
      ("c", .object([("z", .bool(true)), ("a", .null), ("z", .string("last"))])),
      ("d", .array([.object([("k", .string("vé\n"))]), .number("-0.5e3"), .bool(false)])),
      ("e", .string("")),
    ])
    #expect(doc == expected)
    guard case .object(let members) = doc, case .object(let c)? = doc["c"] else {
      Issue.record("not an object")
      return
    }
    #expect(members.map(\.0) == ["a", "c", "d", "e"])
    #expect(c.map(\.0) == ["z", "a", "z"], "both members kept, in document order")
    #expect(doc["c"]?["z"]?.string == "last", "lookup: a duplicate key's last value")
    #expect(doc["d"]?.array?.count == 3 && doc["a"]?.array?[1].array?[2].array?.count == 1)
    #expect(try JSONParser.parse("[]") == .array([]) && JSONParser.parse(" {} ") == .object([]))
    #expect(try JSONParser.parse("\u{FEFF}[7]") == .array([.number("7")]), "leading BOM")
  }

  @Test("Long arrays and many keys keep every value in order")
  func wide() throws {
    let n = 20_000
    let array = "[" + (0..<n).map { "{\"i\":\($0),\"s\":[\"\($0)\"]}" }.joined(separator: ",") + "]"
    let items = try #require(try JSONParser.parse(array).array)
    #expect(items.count == n)
    #expect(
      items.indices.allSatisfy { items[$0]["i"]?.int64 == Int64($0) && items[$0]["s"]?.array?.first?.string == "\($0)" }
    )
    let object = "{" + (0..<n).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
    guard case .object(let members) = try JSONParser.parse(object) else {
      Issue.record("not an object")
      return
    }
    #expect(members.count == n)
    #expect(members.indices.allSatisfy { members[$0].0 == "k\($0)" && members[$0].1 == .number("\($0)") })
  }

  /// The error a document is rejected with, as printed; nil when it parses.
  func failure(_ bytes: [UInt8], maxDepth: Int = 10_000) -> String? {
    do {
      _ = try JSONParser.parse(bytes, maxDepth: maxDepth)
      return nil
    } catch {
      return error.description
    }
  }

  func failure(_ text: String, maxDepth: Int = 10_000) -> String? {
    failure(Array(text.utf8), maxDepth: maxDepth)
  }

  @Test("Nesting beyond maxDepth is rejected where the extra container opens")
  func depth() throws {
    #expect(try JSONParser.parse(Array("[[[1]]]".utf8), maxDepth: 3) == .array([.array([.array([.number("1")])])]))
    #expect(failure("[[[1]]]", maxDepth: 2) == "nesting too deep at byte 3")
    #expect(failure(#"{"a": [ {  "b": 1}]}"#, maxDepth: 2) == "nesting too deep at byte 11")
    // Empty containers open no level.
    #expect(try JSONParser.parse(Array("[[{}, []]]".utf8), maxDepth: 2) == .array([.array([.object([]), .array([])])]))
    // At the limit a document parses; one level more is rejected at its bracket.
    func nested(_ levels: Int) -> String {
      String(repeating: "[", count: levels) + "1" + String(repeating: "]", count: levels)
    }
    var value = try JSONParser.parse(Array(nested(64).utf8), maxDepth: 64)
    var levels = 0
    while case .array(let inner) = value, inner.count == 1 {
      levels += 1
      value = inner[0]
    }
    #expect(levels == 64 && value == .number("1"))
    #expect(failure(nested(65), maxDepth: 64) == "nesting too deep at byte 65")
    // The default limit is 10,000 levels; far deeper input costs no stack.
    #expect(failure(nested(10_001)) == "nesting too deep at byte 10001")
    #expect(failure(#"{"x":"# + nested(1_000_000)) == "nesting too deep at byte 10005")
  }

  @Test("Malformed documents: the reason and the byte offset")
  func errors() throws {
    let cases: [(String, String)] = [
      ("[1 2]", "expected ',' or ']' at byte 3"),
      (#"{"a":1 "b":2}"#, "expected ',' or '}' at byte 7"),
      (#"{"a" 1}"#, "expected ':' at byte 5"),
      ("{1:2}", "expected a key at byte 1"),
      (#"{"a":1,}"#, "expected a key at byte 7"),
      ("[1,", "unexpected end at byte 3"),
      ("[[1]", "unexpected end at byte 4"),
      ("[1] x", "trailing data at byte 4"),
      ("[01]", "leading zero at byte 1"),
      (#"["a"#, "unterminated string at byte 1"),
      ("[tru]", "unexpected byte at byte 1"),
    ]
    for (text, reason) in cases {
      #expect(failure(text) == reason, "\(text)")
    }
    // Strings: raw UTF-8 and escapes together; invalid UTF-8 is reported at the string's quote.
    let mixed = Array("[\"é\\n\\u00e9\\ud83d\\ude00\\t\"]".utf8)
    #expect(try JSONParser.parse(mixed) == .array([.string("é\né😀\t")]))
    for (bytes, reason) in [
      ([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D], "invalid UTF-8 in string at byte 1"),
      ([0x5B, 0x22, 0x5C, 0x6E, 0xC3, 0x22, 0x5D], "invalid UTF-8 in string at byte 1"),
      ([0x5B, 0x22, 0x61, 0x0A, 0x22, 0x5D], "control character in string at byte 3"),
      ([0x5B, 0x22, 0x5C, 0x71, 0x22, 0x5D], "bad escape at byte 3"),
    ] as [([UInt8], String)] {
      #expect(failure(bytes) == reason, "\(bytes)")
    }
  }
}

/// `JSONParser.harEntryRanges` finds each HAR entry without parsing it: the
/// ranges must be each entry's bytes, whatever its strings hold.
@Suite("Where a HAR's entries lie")
struct HAREntryRangeTests {
  /// A document of `entries` (each one JSON value's text) joined by
  /// `separators` (cycled), and where each entry starts and ends in it,
  /// counted as the text is put together.
  func document(_ entries: [String], separators: [String] = [",", " ,\n "]) -> ([UInt8], [Range<Int>]) {
    var bytes = Array(#"{"log":{"version":"1.2","entries":[ "#.utf8)
    var ranges: [Range<Int>] = []
    for (k, entry) in entries.enumerated() {
      if k > 0 { bytes += Array(separators[k % separators.count].utf8) }
      let start = bytes.count
      bytes += Array(entry.utf8)
      ranges.append(start..<bytes.count)
    }
    bytes += Array(#" ],"pages":[]}}"#.utf8)
    return (bytes, ranges)
  }

  func ranges(_ bytes: [UInt8]) throws -> [Range<Int>]? {
    try bytes.withUnsafeBufferPointer { try JSONParser.harEntryRanges($0) }
  }

  @Test("Strings with quotes and backslashes escaped anywhere, every length, every alignment")
  func escapes() throws {
    // Each piece is a string's inside: escaped quotes and backslashes, a
    // backslash escaping the closing quote's neighbour, non-ASCII text.
    let pieces = [
      "", "a", #"\""#, #"\\"#, #"\\\""#, #"\\\\"#, #"x\"y"#, #"\"\"\"\"\"\"\"\""#, #"\\\\\\\\\\\\\\\\\\"#,
      #"{\"model\":\"claude\",\"n\":[1,2]}"#, "é€😀", #"\u0022\u005c"#, #"]}"#, "[{", String(repeating: "z", count: 17),
    ]
    var entries: [String] = []
    for (k, piece) in pieces.enumerated() {
      // Padding moves the piece across the eight-byte steps.
      for pad in 0..<9 {
        let text = String(repeating: "p", count: pad) + piece
        entries.append(#"{"k\#(k)":"\#(text)","n":[\#(pad),{"s":"\#(piece)"}]}"#)
        entries.append(#"["\#(text)","\#(piece)\#(text)"]"#)
      }
    }
    entries += [#""lone \" string""#, "12.5e3", "true", "null", #"{}"#, #"[]"#]
    let (bytes, expected) = document(entries)
    #expect(try ranges(bytes) == expected)
    // Every entry is one JSON value, and the document parses whole.
    _ = try JSONParser.parse(bytes)
  }

  @Test("A string left open, or a backslash as the last byte, is no document")
  func unterminated() {
    for text in [
      #"{"log":{"entries":[{"a":"abc\"}]}}"#, #"{"log":{"entries":[{"a":"abc\\\"}]}}"#,
      #"{"log":{"entries":[{"a":"abcdefghijklmnop"#, #"{"log":{"entries":[{"a":"abcdefghijklmnop\"#,
    ] {
      #expect(throws: JSONError.self, "\(text)") { try ranges(Array(text.utf8)) }
    }
  }
}
