import Compare
import Testing

/// A HAR entry's fields are read straight from its bytes
/// (`JSONParser.harEntry`); they must be what the parsed entry gives
/// (`HAREntry(JSONParser.parse(bytes))`), and the same bytes must fail both
/// ways.
@Suite("A HAR entry read from its bytes")
struct HAREntryTests {
  /// Both ways at one depth limit: nil when the bytes fail.
  func read(_ text: String, maxDepth: Int) -> (walked: HAREntry?, parsed: HAREntry?) {
    Array(text.utf8).withUnsafeBufferPointer { b in
      (
        try? JSONParser.harEntry(b, maxDepth: maxDepth),
        (try? JSONParser.parse(b, maxDepth: maxDepth)).map { HAREntry($0) }
      )
    }
  }

  func expectSame(_ text: String, maxDepths: [Int] = [10_000], sourceLocation: SourceLocation = #_sourceLocation) {
    for depth in maxDepths {
      let (walked, parsed) = read(text, maxDepth: depth)
      #expect(walked == parsed, "depth \(depth): \(text)", sourceLocation: sourceLocation)
    }
  }

  static let message = #"""
    {"startedDateTime":"2026-10-01T00:00:03.045Z","time":898,"request":{"method":"POST","url":"https://api.anthropic.com/v1/messages","headers":[{"name":"anthropic-version","value":"2023-06-01"}],"postData":{"mimeType":"application/json","text":"{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1024}"}},"response":{"status":200,"headers":[{"name":"request-id","value":"req_1"},{"name":"anthropic-ratelimit-input-tokens-limit","value":"400000"}],"content":{"size":30,"mimeType":"application/json","text":"{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":5}}"}}}
    """#

  @Test("A messages call: every field, at every depth limit around the entry's nesting")
  func message() {
    let (walked, parsed) = read(Self.message, maxDepth: 10_000)
    // Not vacuous: the fields are there.
    #expect(walked?.url == "https://api.anthropic.com/v1/messages")
    #expect(walked?.status == 200)
    #expect(walked?.elapsed == 898)
    #expect(walked?.headers.map(\.0) == ["request-id", "anthropic-ratelimit-input-tokens-limit"])
    #expect(walked?.requestText?.hasPrefix(#"{"model""#) == true)
    #expect(walked?.text == #"{"id":"msg_1","usage":{"input_tokens":5}}"#)
    #expect(walked?.mimeType == "application/json")
    #expect(walked?.started != nil)
    #expect(walked == parsed)
    expectSame(Self.message, maxDepths: Array(0...7))
  }

  @Test("Members written twice, of other types, escaped, or missing: what the parsed entry gives")
  func shapes() {
    let entries = [
      // The last of a member written twice, at every level.
      #"{"request":{"url":"a"},"request":{"url":"b"}}"#,
      #"{"request":{"url":"a","postData":{"text":"x"}},"request":5}"#,
      #"{"request":{"url":"a","url":7,"postData":{"text":"x"},"postData":{"mimeType":"m"}}}"#,
      #"{"response":{"status":200,"status":"201","headers":[{"name":"a","value":"1"}],"headers":{}}}"#,
      #"{"response":{"content":{"text":"t","encoding":"base64"},"content":{"mimeType":"x"}}}"#,
      #"{"response":{"content":{"text":"t","text":null,"encoding":"base64","encoding":"b"}},"response":{"status":429}}"#,
      #"{"time":5,"time":"6","startedDateTime":1767225600000,"startedDateTime":"2026-01-01T00:00:00Z"}"#,
      // Other types where a field is looked for.
      #"{"request":[],"response":"x","time":-3,"startedDateTime":true}"#,
      #"{"request":{"url":["u"],"postData":"p"},"response":{"status":200.0,"content":[1],"headers":"h"}}"#,
      #"{"response":{"status":-1,"content":{"text":{"a":1},"mimeType":5}},"time":1.5e3}"#,
      #"{"response":{"status":99999999999999999999,"content":{}},"time":12.5}"#,
      // Headers: list items that are not objects or lack a name or value;
      // an object of names to values, to lists, to other things.
      #"{"response":{"headers":[1,"x",{"name":"a"},{"value":"b"},{"name":"c","value":2},{"name":"d","value":"4","name":"D"},[],{}]}}"#,
      #"{"response":{"headers":{"a":"1","b":["2","3"],"c":[4,"5"],"d":[],"e":{"x":"y"},"a":"6","f":null}}}"#,
      // Keys written with escapes; a key that only looks like one.
      #"{"\u0072equest":{"\u0075rl":"u\u00e9"},"resp\u006fnse":{"status":200}}"#,
      #"{"request ":{"url":"x"},"Request":{"url":"y"},"respons":{"status":1}}"#,
      // Not objects at all; empty ones.
      "5", #""entry""#, "[]", "null", "{}", #"{"request":{},"response":{"headers":[],"content":{}}}"#,
      // Nesting in the values passed over, and in the fields.
      #"{"cache":{"a":[[[[[[1]]]]]]},"request":{"headers":[{"name":[[[]]]}],"url":"u"}}"#,
      #"{"response":{"headers":{"a":[[["x"]]]},"content":{"text":"t","x":{"y":{"z":{}}}}}}"#,
      // White space everywhere, and a byte order mark.
      " {\n\t\"request\" :\r{ \"url\" : \"u\" } , \"response\" : { \"headers\" : [ { \"name\" : \"n\" , \"value\" : \"v\" } ] } } ",
      "\u{FEFF}" + #"{"request":{"url":"u"}}"#,
    ]
    for text in entries {
      expectSame(text, maxDepths: [0, 1, 2, 3, 4, 5, 6, 10_000])
      // The case reads: both ways succeed at the default limit.
      #expect(read(text, maxDepth: 10_000).walked != nil, "\(text)")
    }
  }

  @Test("Broken bytes fail both ways: every cut of an entry, trailing data, bad values")
  func broken() {
    let text = Self.message
    let bytes = Array(text.utf8)
    for cut in 0..<bytes.count {
      let prefix = String(decoding: bytes[..<cut], as: UTF8.self)
      let (walked, parsed) = read(prefix, maxDepth: 10_000)
      #expect(walked == nil && parsed == nil, "cut at \(cut)")
    }
    for bad in [
      text + " x", text + "{}", #"{"request":{"url":"u",}}"#, #"{"request":{"url" "u"}}"#,
      #"{"response":{"status":01}}"#, #"{"response":{"headers":[{"name":"a","value":"\q"}]}}"#,
      #"{"time":tru}"#, #"{"response":{"content":{"text":"\#u{01}"}}}"#, #"{"request":{"url":"u"}]"#,
      #"{"response":{"headers":[{"name":"a"},]}}"#, #"{"a":[1,]}"#,
    ] {
      let (walked, parsed) = read(bad, maxDepth: 10_000)
      #expect(walked == nil && parsed == nil, "\(bad)")
    }
  }

  @Test("Random damage to entries: the walk and the parse agree on every result")
  func mutated() {
    // A fixed sequence (no seed from the clock): the same cases every run.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ n: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33) % n
    }
    let sources = [
      Self.message,
      #"{"request":{"url":"u","postData":{"text":"p"}},"response":{"status":200,"headers":{"a":["1"]},"content":{"text":"t","encoding":"base64"}},"time":5}"#,
    ]
    let alphabet = Array(#"{}[]":,\ 0a-e"#.utf8)
    var agreed = 0
    var valid = 0
    for k in 0..<4_000 {
      var bytes = Array(sources[k % sources.count].utf8)
      for _ in 0...next(3) {
        let at = next(bytes.count)
        switch next(3) {
        case 0: bytes[at] = alphabet[next(alphabet.count)]
        case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
        default: bytes.remove(at: at)
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      for depth in [3, 10_000] {
        let (walked, parsed) = read(text, maxDepth: depth)
        #expect(walked == parsed, "\(text)")
        if walked == parsed { agreed += 1 }
        if parsed != nil { valid += 1 }
      }
    }
    // Both kinds were seen: damage that still parses, and damage that does not.
    #expect(agreed == 8_000)
    #expect(valid > 200 && valid < 7_800)
  }
}
