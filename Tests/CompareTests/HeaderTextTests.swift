import Compare
import Testing

/// Header names are compared lowercased and header values trimmed of
/// spaces; both skip the work when there is none to do.
@Suite("Header names and values")
struct HeaderTextTests {
  @Test("lowercasedName is String.lowercased(), the text itself when already lowercase ASCII")
  func lowercased() {
    let names = [
      "", "retry-after", "Retry-After", "RETRY-AFTER", "content-type", "x-Amzn-RequestId", "a", "Z", "@[`{",
      "anthropic-ratelimit-input-tokens-limit", "Anthropic-Ratelimit-Input-Tokens-Limit", "Ünïcode-Name",
      "naïve", "straße", "İstanbul", String(repeating: "abc-", count: 40) + "X",
      String(repeating: "abc-", count: 40),
    ]
    for name in names {
      #expect(lowercasedName(name) == name.lowercased(), "\(name)")
    }
    // Bridged or substring-made text too.
    #expect(lowercasedName(String("xx-Request-ID".dropFirst(3))) == "request-id")
  }

  @Test("trimmingSpaces drops leading and trailing spaces only")
  func trimmed() {
    let cases: [(String, String)] = [
      ("", ""), (" ", ""), ("   ", ""), ("60", "60"), (" 60", "60"), ("60 ", "60"), ("  6 0  ", "6 0"),
      ("\t60\t", "\t60\t"), ("é", "é"), (" é ", "é"),
      // A space carrying a combining accent is one character, not a space.
      (" \u{301}x", " \u{301}x"), ("x \u{301}", "x \u{301}"),
    ]
    for (text, expected) in cases {
      #expect(text.trimmingSpaces == expected, "\(text.debugDescription)")
    }
  }
}
