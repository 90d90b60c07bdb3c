import Compare
import Testing

struct YAMLCase: Sendable, CustomTestStringConvertible {
  let id: String
  let yaml: String
  let json: String
  var testDescription: String { id }

  /// Each expected value is what PyYAML 6.0.3's `yaml.safe_load` gives for
  /// the text, as JSON with sorted keys (checked while writing these; the
  /// reader also matched PyYAML on 1,500 documents written by `yaml.dump`
  /// with random strings, flow and block styles, widths 20 to 1,000,
  /// indents 2 and 4, and every quoting style).
  static let all: [YAMLCase] = [
    .init(
      id: "block mappings, sequences not indented under their key, flow collections",
      yaml: "a: 1\nb:\n- x\n- 'y'\nc:\n  d: null\n  e: [1, two, {f: g}]\n  h: {}\n",
      json: #"{"a":1,"b":["x","y"],"c":{"d":null,"e":[1,"two",{"f":"g"}],"h":{}}}"#),
    .init(
      id: "a plain scalar over lines, a blank line a line feed",
      yaml: "k: this is\n  folded plain\n\n  with a blank line\nnext: yes\n",
      json: #"{"k":"this is folded plain\nwith a blank line","next":true}"#),
    .init(
      id: "single quotes: '' and folding", yaml: "k: 'it''s\n  folded\n\n  twice'\n",
      json: #"{"k":"it's folded\ntwice"}"#),
    .init(
      id: "double quotes: escapes, \\U, \\x, an escaped line break",
      yaml: "k: \"tab\\tquote\\\" wave\\U0001F44B \\xE9\\u00e9 \\\n  joined \\\"\n  folded\"\n",
      json: #"{"k":"tab\tquote\" wave👋 éé joined \" folded"}"#),
    .init(
      id: "literal and folded block scalars, chomping, an indentation indicator",
      yaml:
        "a: |\n  line 1\n    indented\n\n  line 3\nb: |-\n  stripped\n\nc: |+\n  kept\n\nd: >\n  folded\n  text\n\n  para\ne: |2\n    two spaces kept\n   one\n",
      json:
        #"{"a":"line 1\n  indented\n\nline 3\n","b":"stripped","c":"kept\n\n","d":"folded text\npara\n","e":"  two spaces kept\n one\n"}"#
    ),
    .init(
      id: "flow collections over lines, an empty value",
      yaml: "a: ['item',\n  'value', 3]\nb: {x: 1, 'y z': [a, b],\n  w: }\n",
      json: #"{"a":["item","value",3],"b":{"w":null,"x":1,"y z":["a","b"]}}"#),
    .init(
      id: "a directive, a document marker, comments, an end marker",
      yaml: "%YAML 1.1\n---\n# comment\nx: 1 # trailing\n...\n", json: #"{"x":1}"#),
    .init(
      id: "CRLF line ends", yaml: "a: 1\r\nb:\r\n- 'x\r\n  y'\r\n- |\r\n  lit\r\n",
      json: #"{"a":1,"b":["x y","lit\n"]}"#),
    .init(
      id: "tags kept on the scalar, an anchor ignored", yaml: "a: !!binary |\n  aGVsbG8=\nb: !!str 12\nc: &anchor 5\n",
      json: #"{"a":{"tag":"!!binary","text":"aGVsbG8=\n"},"b":{"tag":"!!str","text":"12"},"c":5}"#),
    .init(
      id: "compact nested sequences and mappings", yaml: "- - a\n  - b\n- c: 1\n  d:\n  - e\n",
      json: #"[["a","b"],{"c":1,"d":["e"]}]"#),
    .init(
      id: "YAML 1.1 scalars as PyYAML resolves them",
      yaml: "[~, null, '', yes, No, on, 0123, 1e5, 1.5e+5, -0.5, 12, '12', 0x1F]",
      json: #"[null,null,"",true,false,true,"0123","1e5",1.5e+5,-0.5,12,"12","0x1F"]"#),
  ]
}

@Suite("The YAML subset of VCR cassettes")
struct CassetteYAMLTests {
  @Test("Reads like PyYAML", arguments: YAMLCase.all)
  func oracle(_ c: YAMLCase) throws {
    #expect(try CassetteProbe.json(c.yaml) == c.json)
  }

  @Test("Unsupported or broken YAML is an error naming its line (an unclosed one: where it opened)")
  func errors() {
    let cases: [(String, String)] = [
      ("a: *ref\n", "YAML: aliases are not supported (line 1)"),
      ("? complex\n: key\n", "YAML: complex mapping keys ('? ') are not supported (line 1)"),
      ("a: 'open\n", "YAML: unterminated single-quoted scalar (line 1)"),
      ("a: \"open\n\n", "YAML: unterminated double-quoted scalar (line 1)"),
      ("a: [1, 2\n", "YAML: unterminated flow collection (line 1)"),
      ("a:\n\tb: 1\n", "YAML: a tab in indentation (line 2)"),
      ("a: 1\n  b: 2\n", "YAML: a mapping value where none is allowed (line 2)"),
      ("a:\n    b: 1\n  c: 2\n", "YAML: bad indentation of a mapping entry (line 3)"),
      ("a: \"\\q\"\n", "YAML: an unknown escape '\\q' (line 1)"),
      ("a: 1\n---\nb: 2\n", "YAML: several documents in one file (line 2)"),
      ("a: [1] x\n", "YAML: unexpected text after a value (line 1)"),
    ]
    for (yaml, message) in cases {
      #expect(throws: CassetteProbe.Failure(description: message), "\(yaml)") { try CassetteProbe.json(yaml) }
    }
  }

  @Test("Nesting is bounded, in flow and block style, without deep recursion")
  func depth() throws {
    let flow = String(repeating: "[", count: 100_000)
    #expect(throws: CassetteProbe.Failure(description: "YAML: nested deeper than 200 levels (line 1)")) {
      try CassetteProbe.json(flow)
    }
    let block = (0..<1000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
    #expect(throws: CassetteProbe.Failure.self) { try CassetteProbe.json(block) }
    let dashes = String(repeating: "- ", count: 50_000) + "x"
    #expect(throws: CassetteProbe.Failure.self) { try CassetteProbe.json(dashes) }
    #expect(try CassetteProbe.json("[[[x]]]", maxDepth: 3) == #"[[["x"]]]"#)
    #expect(throws: CassetteProbe.Failure.self) { try CassetteProbe.json("[[[x]]]", maxDepth: 2) }
  }

  @Test("Hostile bytes never trap: random documents, truncations, long runs")
  func hostile() {
    var rng = SplitMix(seed: 13)
    let pieces = [
      "- ", ": ", "\n", "  ", "'", "\"", "\\", "|", ">", "|-", "|+2", "[", "]", "{", "}", ",", "#", "!!binary ", "&a ",
      "*a", "? ", "---", "...", "\t", "\r", "key", "x", "\u{1F600}", "\\U0001F600", "\\x", "\\u12",
    ]
    for _ in 0..<3000 {
      var text = ""
      for _ in 0..<Int(rng.next() % 40) { text += pieces[Int(rng.next() % UInt64(pieces.count))] }
      _ = try? CassetteProbe.json(text)
      _ = try? CassetteProbe.interactions("interactions:\n" + text)
    }
    var bytes = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<300 {
      for k in bytes.indices { bytes[k] = UInt8(truncatingIfNeeded: rng.next()) }
      _ = try? CassetteProbe.json(String(decoding: bytes, as: UTF8.self))
    }
    let doc = "interactions:\n- request: {uri: 'x'}\n  response:\n    body: |\n      text\n"
    for n in 0...doc.utf8.count {
      _ = try? CassetteProbe.interactions(String(decoding: Array(doc.utf8.prefix(n)), as: UTF8.self))
    }
    // Long runs of one construct: each a plain error or a value, read in one pass.
    for run in ["a", " ", "\n", "- ", "'", "\"", "[", "{", "#", ":", "\\"] {
      _ = try? CassetteProbe.json("k: " + String(repeating: run, count: 200_000))
    }
  }

  @Test("Interactions one by one: a broken one is its own error, the next ones still read")
  func interactions() throws {
    let yaml = """
      interactions:
      - request: {uri: 'https://a/v1/messages'}
        response: {status: {code: 200}}
      - request:
          uri: "unterminated
        response: x
      - request:
          uri: bad: colon
      - request: {uri: ok}
      version: 1

      """
    let items = try #require(try CassetteProbe.interactions(yaml))
    #expect(items.map(\.index) == [0, 1, 2, 3])
    #expect(items.map(\.line) == [2, 4, 7, 9])
    #expect(items[0].json == #"{"request":{"uri":"https://a/v1/messages"},"response":{"status":{"code":200}}}"#)
    #expect(items[1].error == "YAML: unterminated double-quoted scalar (line 5)", "where it opened")
    #expect(items[2].error == "YAML: a mapping value where none is allowed (line 8)")
    #expect(items[3].json == #"{"request":{"uri":"ok"}}"#)
    #expect(try CassetteProbe.interactions("version: 1\nother: [a]\n") == nil, "no interactions: not a cassette")
    #expect(try CassetteProbe.interactions("---\nhttp_interactions: []\nrecorded_with: VCR 6.0.0\n")?.isEmpty == true)
    #expect(throws: CassetteProbe.Failure.self) { try CassetteProbe.interactions("- a list\n") }
  }
}
