import Testing

@testable import Compare

/// HAR pairing keeps a prompt's SHA-256 (``CaptureReader/promptDigest(_:)``)
/// instead of its canonical key: the digest is of the key's very bytes, so
/// what pairs is what the key paired, bytes for bytes.
@Suite("HAR prompt digests")
struct PromptDigestTests {
  func parsed(_ json: String) throws -> JSONValue { try JSONParser.parse(json) }

  /// A count_tokens body, and the same prompt as a messages body with a
  /// breakpoint on every kind of block (tool, system block, text block, a
  /// tool result's inner block) and the top-level fields the key leaves out.
  static let counted =
    #"{"model":"claude-sonnet-4-5","system":[{"type":"text","text":"S"}],"#
    + #""tools":[{"name":"t","input_schema":{"type":"object"}}],"#
    + #""messages":[{"role":"user","content":[{"type":"text","text":"hi"},"#
    + #"{"type":"tool_result","tool_use_id":"u","content":[{"type":"text","text":"r"}]}]}]}"#
  static let sent =
    #"{"model":"claude-sonnet-4-5","max_tokens":100,"stream":false,"cache_control":{"type":"ephemeral"},"#
    + #""system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral","ttl":"1h"}}],"#
    + #""tools":[{"name":"t","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],"#
    + #""messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}},"#
    + #"{"type":"tool_result","tool_use_id":"u","content":[{"type":"text","text":"r","cache_control":{"type":"ephemeral"}}]}]}]}"#

  @Test("Requests that differ only in block-level cache_control have one digest")
  func breakpointsLeftOut() throws {
    let (a, b) = (try parsed(Self.counted), try parsed(Self.sent))
    #expect(CaptureReader.promptKey(a) == CaptureReader.promptKey(b))
    #expect(CaptureReader.promptDigest(a) == CaptureReader.promptDigest(b))
  }

  @Test(
    "One byte changed in a message makes another digest",
    arguments: [
      (#""text":"hi""#, #""text":"hj""#),  // a text block
      (#""text":"r""#, #""text":"s""#),  // a tool result's inner block
      (#""role":"user""#, #""role":"usex""#),  // the message itself
    ])
  func oneByteChanged(_ change: (String, String)) throws {
    let changed = Self.sent.replacing(change.0, with: change.1)
    #expect(changed != Self.sent)
    #expect(CaptureReader.promptDigest(try parsed(changed)) != CaptureReader.promptDigest(try parsed(Self.sent)))
  }

  @Test("The digest is the SHA-256 of the canonical key, escapes and non-ASCII text included")
  func digestOfTheKey() throws {
    // Members out of order, a breakpoint and max_tokens to leave out, and a
    // text with a JSON escape of é, a quote, a backslash, a newline, a tab
    // and a control character.
    let request = try parsed(
      #"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","#
        + #""text":"caf\u00e9 \"q\"\\\n\t\u0001","cache_control":{"type":"ephemeral"}}]}],"#
        + #""model":"claude-sonnet-4-5","system":"S"}"#)
    // The key by hand: members sorted, é as its UTF-8, \u0001 as \u0001.
    let key = [
      #"model="claude-sonnet-4-5""#,
      #"system="S""#,
      "tools=null",
      #"messages=[{"content":[{"text":"café \"q\"\\\n\t\u0001","type":"text"}],"role":"user"}]"#,
      "tool_choice=null",
      "thinking=null",
    ].map { $0 + "\n" }.joined()
    #expect(CaptureReader.promptKey(request) == key)
    // The SHA-256 of those bytes, by Python's hashlib.sha256(key.encode()).
    let expected = "9e1b7491d21118a4a357bcc6b22bd0f9110db42010162a889367489a094d548a"
    #expect(SHA256.hex(Array(key.utf8)) == expected)
    #expect(CaptureReader.promptDigest(request).hex == expected)
  }

  @Test("A JSON escape is the character it stands for; another normalization is another prompt")
  func equalBytes() throws {
    func digest(_ text: String) throws -> SHA256.Digest {
      CaptureReader.promptDigest(try parsed(#"{"model":"m","messages":[{"role":"user","content":"\#(text)"}]}"#))
    }
    #expect(try digest(#"caf\u00e9"#) == digest("caf\u{E9}"))
    // é precomposed (U+00E9) and as e with a combining acute (U+0301):
    // canonically equivalent, but other bytes, so another count.
    #expect(try digest("caf\u{E9}") != digest("cafe\u{301}"))
  }
}
