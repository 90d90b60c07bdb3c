import Compare
import Foundation
import Testing

/// Writes DEFLATE bit streams by hand (RFC 1951 §3.1.1: bits from the
/// least significant; Huffman codes from their most significant bit).
struct BitWriter {
  var bytes: [UInt8] = []
  private var acc: UInt32 = 0
  private var count = 0

  mutating func bits(_ value: Int, _ n: Int) {
    for k in 0..<n { bit((value >> k) & 1) }
  }

  mutating func code(_ value: Int, _ n: Int) {
    for k in stride(from: n - 1, through: 0, by: -1) { bit((value >> k) & 1) }
  }

  private mutating func bit(_ b: Int) {
    acc |= UInt32(b) << UInt32(count)
    count += 1
    if count == 8 { flush() }
  }

  mutating func flush() {
    guard count > 0 else { return }
    bytes.append(UInt8(truncatingIfNeeded: acc))
    acc = 0
    count = 0
  }

  /// A fixed-Huffman block: one literal 0, then `matches` copies of length
  /// 258 at distance 1 (symbol 285, 8 bits `11000101`; distance code 0, 5
  /// bits), then end of block (symbol 256, 7 bits of 0): 1 + 258 × matches bytes.
  static func zeros(matches: Int) -> [UInt8] {
    var w = BitWriter()
    w.bits(1, 1)  // BFINAL
    w.bits(1, 2)  // BTYPE 01: fixed
    w.code(0x30, 8)  // literal 0
    for _ in 0..<matches {
      w.code(0b1100_0101, 8)
      w.code(0, 5)
    }
    w.code(0, 7)
    w.flush()
    return w.bytes
  }
}

/// A gzip member around raw DEFLATE bytes, with the given trailer values.
func gzipMember(_ deflate: [UInt8], crc: UInt32, size: UInt32) -> [UInt8] {
  var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
  out += deflate
  for v in [crc, size] { out += (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
  return out
}

func base64(_ s: String) -> [UInt8] { Array(Data(base64Encoded: s) ?? Data()) }

@Suite("Inflate: DEFLATE, gzip and zlib, bounded")
struct InflateTests {
  /// The fixtures' text: 164 bytes.
  static let fox = Array(
    (String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 3) + #"{"usage":{"input_tokens":12}}"#)
      .utf8)

  /// The dynamic fixture's text: 12 lines, 781 bytes.
  static let lines = Array(
    (0..<12).map { i in
      let id = String(repeating: "0", count: 4 - String(i).count) + String(i)
      return #"{"id":"msg_\#(id)","usage":{"input_tokens":\#(i * 7 % 1000),"output_tokens":\#(i * 13 % 500)}}"# + "\n"
    }.joined().utf8)

  @Test("CRC-32 and its check value; the fixtures' texts")
  func checks() {
    #expect(CassetteProbe.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CassetteProbe.crc32([]) == 0)
    #expect(Self.fox.count == 164)
    #expect(Self.lines.count == 781)
    #expect(CassetteProbe.crc32(Self.lines) == 0xEBA1_0FC4)
  }

  /// Made with python3: `zlib.compressobj(level, zlib.DEFLATED, -15, 9,
  /// strategy)` over the text, `compress(text) + flush()`, base64-encoded.
  @Test("A stored block (level 0), a fixed-Huffman block (Z_FIXED) and a dynamic one (level 9)")
  func blockTypes() throws {
    let stored = base64(
      "AaQAW/9UaGUgcXVpY2sgYnJvd24gZm94IGp1bXBzIG92ZXIgdGhlIGxhenkgZG9nLiBUaGUgcXVpY2sgYnJvd24gZm94IGp1bXBzIG92ZXIgdGhlIGxhenkgZG9nLiBUaGUgcXVpY2sgYnJvd24gZm94IGp1bXBzIG92ZXIgdGhlIGxhenkgZG9nLiB7InVzYWdlIjp7ImlucHV0X3Rva2VucyI6MTJ9fQ=="
    )
    let fixed = base64(
      "C8lIVSgszUzOVkgqyi/PU0jLr1DIKs0tKFbIL0stUigBSuckVlUqpOSn6ymE0ExxtVJpcWJ6qpJVtVJmXkFpSXxJfnZqXrGSlaFRbS0A")
    let dynamic = base64(
      "fdI7CsMwEEXRPsuY2oVGf2kzJhBjTIgdkFQZ7z1J6TyPVAreaebutDwo06vMo/o+GqiV+zxR3mlZ362OdXtOa6GsBtpaPf0cx20/zVmeB5izgb2W92wB0B4AIwOaATAJANsBIgBOA+BkwDgAvAPAy4DVAIQIQOgACYDEAEQZcB7PqCwISRa8QYHDv8CdEIO6SAla5F6LFzHaX40f"
    )
    #expect(stored[0] >> 1 & 3 == 0 && fixed[0] >> 1 & 3 == 1 && dynamic[0] >> 1 & 3 == 2, "the block types")
    #expect(try CassetteProbe.inflate(stored) == Self.fox)
    #expect(try CassetteProbe.inflate(fixed) == Self.fox)
    #expect(try CassetteProbe.inflate(dynamic) == Self.lines)
  }

  /// python3: `gzip.compress(text, mtime=0)`, `zlib.compress(text)`, and a
  /// `GzipFile(filename="body.json")` holding `{"a":1}` (FNAME set).
  @Test("gzip (with and without a file name) and zlib wrappers")
  func wrappers() throws {
    let gz = base64(
      "H4sIAAAAAAACAwvJSFUoLM1MzlZIKsovz1NIy69QyCrNLShWyC9LLVIoAUrnJFZVKqTkp+sphNBMcbVSaXFieqqSVbVSZl5BaUl8SX52al6xkpWhUW0tAOc9pl2kAAAA"
    )
    #expect(try CassetteProbe.gunzip(gz) == Self.fox)
    #expect(try CassetteProbe.gunzip(gz + gz) == Self.fox + Self.fox, "two members, concatenated")
    let named = base64("H4sICAAAAAAC/2JvZHkuanNvbgCrVkpUsjKsBQCvrBtWBwAAAA==")
    #expect(try CassetteProbe.gunzip(named) == Array(#"{"a":1}"#.utf8))
    let z = base64(
      "eJwLyUhVKCzNTM5WSCrKL89TSMuvUMgqzS0oVsgvSy1SKAFK5yRWVSqk5KfrKYTQTHG1UmlxYnqqklW1UmZeQWlJfEl+dmpesZKVoVFtLQAVrTr9"
    )
    #expect(try CassetteProbe.unzlib(z) == Self.fox)
  }

  @Test("Stored blocks written by hand: two blocks, an empty one, and a length that disagrees with its complement")
  func handStored() throws {
    func stored(_ data: [UInt8], final: Bool, nlen: UInt16? = nil) -> [UInt8] {
      let len = UInt16(data.count)
      let n = nlen ?? ~len
      return [final ? 1 : 0, UInt8(len & 0xFF), UInt8(len >> 8), UInt8(n & 0xFF), UInt8(n >> 8)] + data
    }
    let two = stored(Array("ab".utf8), final: false) + stored([], final: false) + stored(Array("c".utf8), final: true)
    #expect(try CassetteProbe.inflate(two) == Array("abc".utf8))
    #expect(throws: CassetteProbe.Failure.self) { try CassetteProbe.inflate(stored([1], final: true, nlen: 0)) }
  }

  @Test("Corrupt data is an error, never a trap", arguments: 0..<8)
  func corrupt(_ k: Int) {
    let gz = base64(
      "H4sIAAAAAAACAwvJSFUoLM1MzlZIKsovz1NIy69QyCrNLShWyC9LLVIoAUrnJFZVKqTkp+sphNBMcbVSaXFieqqSVbVSZl5BaUl8SX52al6xkpWhUW0tAOc9pl2kAAAA"
    )
    var bad = gz
    let expected: String
    switch k {
    case 0:
      bad[bad.count - 8] ^= 1
      expected = "checksum mismatch (CRC32)"
    case 1:
      bad[bad.count - 4] ^= 1
      expected = "checksum mismatch (ISIZE)"
    case 2:
      bad = Array(gz.prefix(40))
      expected = "compressed data ends early"
    case 3:
      bad[2] = 7
      expected = "bad header (compression method 7, not deflate)"
    case 4:
      bad = Array("not gzip at all, just text".utf8)
      expected = "bad header (not gzip)"
    case 5:
      // BFINAL 1, BTYPE 11: a reserved block type.
      bad = gzipMember([0b0000_0111], crc: 0, size: 0)
      expected = "corrupt compressed data (block type 3)"
    case 6:
      // A fixed block whose first code is a match: distance 1 with nothing written.
      var w = BitWriter()
      w.bits(1, 1)
      w.bits(1, 2)
      w.code(0b1100_0101, 8)
      w.code(0, 5)
      w.code(0, 7)
      w.flush()
      bad = gzipMember(w.bytes, crc: 0, size: 0)
      expected = "corrupt compressed data (distance 1 too far back)"
    default:
      bad = []
      expected = "bad header (not gzip)"
    }
    #expect(throws: CassetteProbe.Failure(description: expected)) { try CassetteProbe.gunzip(bad) }
  }

  @Test("Every truncation and every single-bit flip of a gzip body ends in bytes or an error")
  func exhaustiveDamage() {
    let gz = base64(
      "H4sIAAAAAAACAwvJSFUoLM1MzlZIKsovz1NIy69QyCrNLShWyC9LLVIoAUrnJFZVKqTkp+sphNBMcbVSaXFieqqSVbVSZl5BaUl8SX52al6xkpWhUW0tAOc9pl2kAAAA"
    )
    var decoded = 0
    for n in 0..<gz.count where (try? CassetteProbe.gunzip(Array(gz.prefix(n)))) != nil { decoded += 1 }
    #expect(decoded == 0, "no prefix is a whole gzip file")
    for k in 0..<(gz.count * 8) {
      var bad = gz
      bad[k / 8] ^= 1 << UInt8(k % 8)
      // Only flips of what nothing checks decode: the FTEXT flag (bit 24),
      // MTIME, XFL and OS (bytes 4 to 9), and the three padding bits after
      // the final block (701 to 703; the trailer is bytes 88 to 95).
      if let out = try? CassetteProbe.gunzip(bad) {
        #expect(out == Self.fox && (k == 24 || (32..<80).contains(k) || (701...703).contains(k)), "bit \(k)")
      }
    }
  }

  @Test("A decompression bomb stops at the cap: 1 + 258 × 4,065 = 1,048,771 zeros in 6.6 KB")
  func bomb() {
    let raw = BitWriter.zeros(matches: 4065)
    #expect(raw.count < 7000)
    let whole = (try? CassetteProbe.inflate(raw, limit: 2 << 20))?.count
    #expect(whole == 1_048_771)
    #expect(
      throws: CassetteProbe.Failure(description: "decompressed body larger than 1048576 bytes (a decompression bomb?)")
    ) {
      try CassetteProbe.inflate(raw, limit: 1 << 20)
    }
    #expect(
      throws: CassetteProbe.Failure(description: "decompressed body larger than 1048576 bytes (a decompression bomb?)")
    ) {
      try CassetteProbe.gunzip(gzipMember(raw, crc: 0, size: 0), limit: 1 << 20)
    }
  }
}
