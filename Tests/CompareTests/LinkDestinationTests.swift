import Compare
import Testing

/// Paths a link must survive: every byte from 1 to 255 alone (raw bytes
/// past 0x7F as file names that are not UTF-8 hold them), what ends or
/// breaks a destination, what CommonMark decodes in one, and non-ASCII.
private let hostile: [String] =
  (1..<0x80).map { "a" + String(Character(Unicode.Scalar(UInt8($0)))) + "b" }
  + (0x80...0xFF).map { "a" + String(Character(Unicode.Scalar(0x10FF00 + UInt32($0)) ?? "?")) + "b" }
  + [
    "my report-charts/x.svg", "a (b)/c", "a)b", "<a>", "a\nb", "a\r\nb", "\\", "&amp;", "&#60;", "%41", "%", "a:b/c",
    "?q", "#f", "`x`", "[a](b)", "![i](j)", "~/x", "é", "日本語", "🙂", "\u{202E}txt", "\u{85}", "x\u{10FF80}y",
  ]

/// `%XX` as the byte XX, written apart from the encoder.
private func percentDecoded(_ text: String) -> [UInt8]? {
  let b = Array(text.utf8)
  var out: [UInt8] = []
  var i = 0
  while i < b.count {
    guard b[i] == UInt8(ascii: "%") else {
      out.append(b[i])
      i += 1
      continue
    }
    guard i + 2 < b.count, let byte = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) else {
      return nil
    }
    out.append(byte)
    i += 3
  }
  return out
}

/// The bytes a name has on disk: UTF-8, and U+10FF80…U+10FFFF as the byte
/// that was not UTF-8 (as `POSIXFiles.fileName` maps it).
private func bytes(_ path: String) -> [UInt8] {
  path.unicodeScalars.flatMap { u in
    (0x10FF80...0x10FFFF).contains(u.value) ? [UInt8(u.value - 0x10FF00)] : Array(String(u).utf8)
  }
}

@Suite("Link destinations")
struct LinkDestinationTests {
  @Test(
    "Each form, written by hand",
    arguments: [
      ("report-charts/estimate_vs_itpm.svg", "report-charts/estimate_vs_itpm.svg"),
      ("my report-charts/days.csv", "my%20report-charts/days.csv"),
      ("a (b) <c> \\d", "a%20%28b%29%20%3Cc%3E%20%5Cd"),
      ("a\nb\r\u{1B}", "a%0Ab%0D%1B"),
      ("`x` [y]", "%60x%60%20%5By%5D"),
      ("a:b?c#d&e%f~g", "a%3Ab%3Fc%23d%26e%25f%7Eg"),
      ("é日", "%C3%A9%E6%97%A5"),
      ("\u{202E}", "%E2%80%AE"),
      ("x\u{10FF80}y", "x%80y"),
      ("", ""),
    ])
  func handWritten(_ path: String, _ expected: String) {
    #expect(Escape.linkDestination(path) == expected)
  }

  @Test("Only letters, digits, '-', '.', '_', '/' and '%XX' are written; they decode to the name's bytes")
  func decodesBack() throws {
    for path in hostile {
      let destination = Escape.linkDestination(path)
      let kept = destination.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || "-._/%".unicodeScalars
            .contains($0)
      }
      #expect(kept, "\(destination)")
      #expect(try #require(percentDecoded(destination)) == bytes(path), "\(destination)")
    }
  }
}
