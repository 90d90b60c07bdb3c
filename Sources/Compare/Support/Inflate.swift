/// DEFLATE decompression (RFC 1951) with its gzip (RFC 1952) and zlib
/// (RFC 1950) wrappers, for compressed bodies in recorded HTTP exchanges.
///
/// Bounded: the output never grows past `limit` bytes (a decompression bomb
/// is an error, not an allocation), every length and distance is checked
/// against what has been written, and the work is linear in the output.
/// Decoding follows zlib's `puff.c`: canonical Huffman codes decoded from
/// per-length counts, one bit at a time.
///
/// | wrapper | checked |
/// |---|---|
/// | gzip | magic `1f 8b`, method 8, reserved flags, header CRC16 when present, CRC32 and ISIZE |
/// | zlib | method 8, window, FCHECK, no preset dictionary, Adler-32 |
/// | raw | the blocks' own structure only |
enum Inflate {
  /// The default cap on a decompressed body: 64 MiB.
  static let defaultLimit = 64 << 20

  /// Why a stream could not be decompressed.
  enum Failure: Error, Equatable, CustomStringConvertible {
    /// The input ended inside the stream.
    case truncated
    /// The output would pass the cap.
    case tooLarge(limit: Int)
    /// A structural error in the compressed data.
    case corrupt(String)
    /// A gzip or zlib header that is not supported or not valid.
    case badHeader(String)
    /// The trailer's checksum or length disagrees with the data.
    case checksum(String)

    var description: String {
      switch self {
      case .truncated: "compressed data ends early"
      case .tooLarge(let limit): "decompressed body larger than \(limit) bytes (a decompression bomb?)"
      case .corrupt(let why): "corrupt compressed data (\(why))"
      case .badHeader(let why): "bad header (\(why))"
      case .checksum(let why): "checksum mismatch (\(why))"
      }
    }
  }

  /// Whether the bytes start like a gzip member.
  static func isGzip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 3 && bytes[0] == 0x1F && bytes[1] == 0x8B && bytes[2] == 8
  }

  /// The bytes of a gzip file: every member, concatenated, each checked
  /// against its CRC32 and ISIZE.
  static func gunzip(_ bytes: [UInt8], limit: Int = defaultLimit) throws(Failure) -> [UInt8] {
    var out: [UInt8] = []
    var at = 0
    repeat {
      at = try member(bytes, at, into: &out, limit: limit)
      // Zero padding after the last member (some writers add it) is allowed.
      while at < bytes.count, bytes[at] == 0 { at += 1 }
    } while at < bytes.count
    return out
  }

  /// One gzip member from `start`; returns where the next begins.
  private static func member(_ b: [UInt8], _ start: Int, into out: inout [UInt8], limit: Int) throws(Failure) -> Int {
    guard b.count - start >= 18 else {
      throw b.count - start >= 2 && b[start] == 0x1F && b[start + 1] == 0x8B ? .truncated : .badHeader("not gzip")
    }
    guard b[start] == 0x1F, b[start + 1] == 0x8B else { throw .badHeader("not gzip") }
    guard b[start + 2] == 8 else { throw .badHeader("compression method \(b[start + 2]), not deflate") }
    let flags = b[start + 3]
    guard flags & 0xE0 == 0 else { throw .badHeader("reserved flags set") }
    var at = start + 10
    if flags & 0x04 != 0 {  // FEXTRA
      guard at + 2 <= b.count else { throw .truncated }
      let length = Int(b[at]) | Int(b[at + 1]) << 8
      at += 2
      guard length <= b.count - at else { throw .truncated }
      at += length
    }
    for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT
      while at < b.count, b[at] != 0 { at += 1 }
      guard at < b.count else { throw .truncated }
      at += 1
    }
    if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the header's CRC32
      guard at + 2 <= b.count else { throw .truncated }
      let want = UInt32(b[at]) | UInt32(b[at + 1]) << 8
      guard CRC32.checksum(b[start..<at]) & 0xFFFF == want else { throw .checksum("header CRC16") }
      at += 2
    }
    let first = out.count
    var state = State(input: b, at: at, limit: limit)
    try state.blocks(into: &out)
    at = state.byteAlignedPosition
    guard at + 8 <= b.count else { throw .truncated }
    let crc = UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    let size = UInt32(b[at + 4]) | UInt32(b[at + 5]) << 8 | UInt32(b[at + 6]) << 16 | UInt32(b[at + 7]) << 24
    guard CRC32.checksum(out[first...]) == crc else { throw .checksum("CRC32") }
    guard UInt32(truncatingIfNeeded: out.count - first) == size else { throw .checksum("ISIZE") }
    return at + 8
  }

  /// The bytes of a zlib stream (HTTP's `Content-Encoding: deflate`).
  static func unzlib(_ b: [UInt8], limit: Int = defaultLimit) throws(Failure) -> [UInt8] {
    guard b.count >= 6 else { throw .truncated }
    let cmf = b[0]
    let flg = b[1]
    guard cmf & 0x0F == 8, cmf >> 4 <= 7 else { throw .badHeader("not a zlib deflate stream") }
    guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else { throw .badHeader("FCHECK") }
    guard flg & 0x20 == 0 else { throw .badHeader("preset dictionary") }
    var out: [UInt8] = []
    var state = State(input: b, at: 2, limit: limit)
    try state.blocks(into: &out)
    let at = state.byteAlignedPosition
    guard at + 4 <= b.count else { throw .truncated }
    let want = UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    guard adler32(out) == want else { throw .checksum("Adler-32") }
    return out
  }

  /// The bytes of a raw DEFLATE stream, without wrapper.
  static func inflate(_ b: [UInt8], limit: Int = defaultLimit) throws(Failure) -> [UInt8] {
    var out: [UInt8] = []
    var state = State(input: b, at: 0, limit: limit)
    try state.blocks(into: &out)
    return out
  }

  static func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1
    var b: UInt32 = 0
    var n = 0
    for byte in bytes {
      a &+= UInt32(byte)
      b &+= a
      n += 1
      if n == 5552 {  // the largest run before b can overflow 32 bits
        a %= 65521
        b %= 65521
        n = 0
      }
    }
    return (b % 65521) << 16 | (a % 65521)
  }

  /// A canonical Huffman code: how many codes of each length, and the
  /// symbols ordered by code.
  private struct Huffman {
    var counts = [UInt16](repeating: 0, count: 16)
    var symbols: [UInt16]

    /// How much of the code space may be left unused.
    enum Incomplete { case never, singleCode, any }

    /// Builds the code for `lengths`; nil when the lengths over-subscribe
    /// the code space, or leave it incomplete where that is not allowed
    /// (zlib allows it for a literal or distance code of one symbol; the
    /// fixed distance code uses 30 of its 32 codes).
    init?(_ lengths: ArraySlice<UInt8>, incomplete: Incomplete) {
      symbols = [UInt16](repeating: 0, count: lengths.count)
      for l in lengths { counts[Int(l)] += 1 }
      var left = 1
      for len in 1...15 {
        left <<= 1
        left -= Int(counts[len])
        if left < 0 { return nil }
      }
      if left > 0 {
        // Incomplete: allowed only for a code of at most one symbol.
        let used = lengths.count - Int(counts[0])
        switch incomplete {
        case .never: return nil
        case .singleCode: if used > 1 { return nil }
        case .any: break
        }
      }
      var offsets = [Int](repeating: 0, count: 16)
      for len in 1..<15 { offsets[len + 1] = offsets[len] + Int(counts[len]) }
      for (symbol, l) in lengths.enumerated() where l != 0 {
        symbols[offsets[Int(l)]] = UInt16(symbol)
        offsets[Int(l)] += 1
      }
    }
  }

  private static let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  private static let lengthExtra: [Int] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase: [Int] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
  /// The order in which a dynamic block lists its code-length code lengths.
  private static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  private static let fixedLiterals: Huffman? = {
    var lengths = [UInt8](repeating: 8, count: 288)
    for s in 144..<256 { lengths[s] = 9 }
    for s in 256..<280 { lengths[s] = 7 }
    return Huffman(lengths[...], incomplete: .never)
  }()
  private static let fixedDistances: Huffman? = Huffman(
    [UInt8](repeating: 5, count: 30)[...], incomplete: .any)

  /// The bit reader and block decoder.
  private struct State {
    let input: [UInt8]
    var at: Int
    let limit: Int
    var bitBuffer: UInt32 = 0
    var bitCount = 0

    init(input: [UInt8], at: Int, limit: Int) {
      self.input = input
      self.at = at
      self.limit = limit
    }

    /// The position after the last whole byte used (bits left over dropped).
    var byteAlignedPosition: Int { at - bitCount / 8 }

    mutating func bits(_ n: Int) throws(Failure) -> Int {
      while bitCount < n {
        guard at < input.count else { throw .truncated }
        bitBuffer |= UInt32(input[at]) << UInt32(bitCount)
        at += 1
        bitCount += 8
      }
      let value = Int(bitBuffer & ((1 << UInt32(n)) - 1))
      bitBuffer >>= UInt32(n)
      bitCount -= n
      return value
    }

    mutating func decode(_ h: Huffman) throws(Failure) -> Int {
      var code = 0
      var first = 0
      var index = 0
      for len in 1...15 {
        code |= try bits(1)
        let count = Int(h.counts[len])
        if code - count < first { return Int(h.symbols[index + (code - first)]) }
        index += count
        first += count
        first <<= 1
        code <<= 1
      }
      throw .corrupt("no such Huffman code")
    }

    mutating func blocks(into out: inout [UInt8]) throws(Failure) {
      var last = false
      while !last {
        last = try bits(1) == 1
        switch try bits(2) {
        case 0: try stored(into: &out)
        case 1:
          guard let l = Inflate.fixedLiterals, let d = Inflate.fixedDistances else {
            throw .corrupt("fixed codes")
          }
          try codes(l, d, into: &out)
        case 2: try dynamic(into: &out)
        default: throw .corrupt("block type 3")
        }
      }
    }

    mutating func stored(into out: inout [UInt8]) throws(Failure) {
      bitBuffer = 0
      bitCount = 0
      guard at + 4 <= input.count else { throw .truncated }
      let len = Int(input[at]) | Int(input[at + 1]) << 8
      let nlen = Int(input[at + 2]) | Int(input[at + 3]) << 8
      guard len == nlen ^ 0xFFFF else { throw .corrupt("stored block length check") }
      at += 4
      guard len <= input.count - at else { throw .truncated }
      guard len <= limit - out.count else { throw .tooLarge(limit: limit) }
      out.append(contentsOf: input[at..<(at + len)])
      at += len
    }

    mutating func dynamic(into out: inout [UInt8]) throws(Failure) {
      let nlen = try bits(5) + 257
      let ndist = try bits(5) + 1
      let ncode = try bits(4) + 4
      guard nlen <= 286, ndist <= 30 else { throw .corrupt("too many length or distance codes") }
      var lengths = [UInt8](repeating: 0, count: 320)
      for k in 0..<ncode { lengths[Inflate.codeLengthOrder[k]] = UInt8(try bits(3)) }
      guard let lencode = Huffman(lengths[0..<19], incomplete: .never) else {
        throw .corrupt("code-length code")
      }
      var k = 0
      while k < nlen + ndist {
        let symbol = try decode(lencode)
        if symbol < 16 {
          lengths[k] = UInt8(symbol)
          k += 1
          continue
        }
        var value: UInt8 = 0
        let repeatCount: Int
        switch symbol {
        case 16:
          guard k > 0 else { throw .corrupt("repeat with no previous length") }
          value = lengths[k - 1]
          repeatCount = 3 + (try bits(2))
        case 17: repeatCount = 3 + (try bits(3))
        default: repeatCount = 11 + (try bits(7))
        }
        guard k + repeatCount <= nlen + ndist else { throw .corrupt("too many code lengths") }
        for _ in 0..<repeatCount {
          lengths[k] = value
          k += 1
        }
      }
      guard lengths[256] != 0 else { throw .corrupt("no end-of-block code") }
      guard let literals = Huffman(lengths[0..<nlen], incomplete: .singleCode) else {
        throw .corrupt("literal/length code")
      }
      guard let distances = Huffman(lengths[nlen..<(nlen + ndist)], incomplete: .singleCode) else {
        throw .corrupt("distance code")
      }
      try codes(literals, distances, into: &out)
    }

    mutating func codes(_ literals: Huffman, _ distances: Huffman, into out: inout [UInt8]) throws(Failure) {
      while true {
        let symbol = try decode(literals)
        if symbol < 256 {
          guard out.count < limit else { throw .tooLarge(limit: limit) }
          out.append(UInt8(symbol))
        } else if symbol == 256 {
          return
        } else {
          let s = symbol - 257
          guard s < 29 else { throw .corrupt("length symbol \(symbol)") }
          let length = Inflate.lengthBase[s] + (try bits(Inflate.lengthExtra[s]))
          let d = try decode(distances)
          guard d < 30 else { throw .corrupt("distance symbol \(d)") }
          let distance = Inflate.distanceBase[d] + (try bits(Inflate.distanceExtra[d]))
          guard distance <= out.count else { throw .corrupt("distance \(distance) too far back") }
          guard length <= limit - out.count else { throw .tooLarge(limit: limit) }
          let from = out.count - distance
          for n in 0..<length { out.append(out[from + n]) }
        }
      }
    }
  }
}

/// CRC-32 (ISO 3309, as gzip uses it).
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }
}
