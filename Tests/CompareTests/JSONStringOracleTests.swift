import Foundation
import Testing

@testable import Compare

/// JSON strings as the capture parser reads them (eight bytes at a time
/// up to the first quote, backslash or control byte, then byte by byte),
/// against Foundation's JSONSerialization: the oracle.
@Suite("JSON strings against JSONSerialization")
struct JSONStringOracleTests {
  @Test("Generated strings: escapes, non-ASCII, invalid UTF-8 and controls at every offset")
  func generated() {
    // Pieces of a string's inside, as bytes: ASCII runs, two- and
    // four-byte UTF-8, a byte that is never UTF-8, a control byte, and
    // escapes (a quote, a backslash, \n, \u00e9, a surrogate pair, and
    // one that is no escape).
    let pieces: [[UInt8]] = [
      Array("a".utf8), Array("0123456".utf8), Array("é".utf8), Array("😀".utf8), [0xFF], [0x01], [0x1F],
      Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8),
      Array(#"\ud83d\ude00"#.utf8), Array(#"\q"#.utf8), [0x7F], [0x20],
    ]
    var g = SplitMix(seed: 736)
    var failures = 0
    for round in 0..<20_000 {
      var inside: [UInt8] = []
      // Mostly long plain runs, so the fast path meets each piece at every offset.
      for _ in 0..<Int(g.next() % 6) {
        inside += Array(repeating: UInt8(ascii: "x"), count: Int(g.next() % 12))
        inside += pieces[Int(g.next() % UInt64(pieces.count))]
      }
      let document = [UInt8(ascii: "\"")] + inside + [UInt8(ascii: "\"")]
      let ours: String? = document.withUnsafeBufferPointer { buffer in
        guard case .string(let s)? = try? JSONParser.parse(buffer) else { return nil }
        return s
      }
      let theirs = try? JSONSerialization.jsonObject(with: Data(document), options: .fragmentsAllowed) as? String
      if ours != theirs {
        failures += 1
        if failures <= 5 {
          Issue.record(
            "round \(round): \(document) read \(String(describing: ours)), Foundation \(String(describing: theirs))")
        }
      }
    }
    #expect(failures == 0)
  }
}
