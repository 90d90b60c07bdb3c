/// Little-endian bytes for a state file: what ``StateWriter`` writes,
/// ``StateReader`` reads back, every read bounds-checked (nil past the end).
package struct StateWriter {
  package private(set) var bytes: [UInt8] = []

  package init() {}

  package mutating func u8(_ v: UInt8) { bytes.append(v) }

  package mutating func u32(_ v: UInt32) {
    for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
  }

  package mutating func u64(_ v: UInt64) {
    for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
  }

  package mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

  /// A length (32 bits) and the bytes.
  package mutating func data<C: Collection>(_ d: C) where C.Element == UInt8 {
    u32(UInt32(truncatingIfNeeded: d.count))
    bytes.append(contentsOf: d)
  }

  package mutating func string(_ s: String) { data(Array(s.utf8)) }

  /// Appends a 64-bit hash of everything written so far: ``StateReader/verified(_:)``
  /// checks it.
  package mutating func seal() { u64(KeyHash.hash(bytes)) }
}

/// Reads what ``StateWriter`` wrote; any read past the end gives nil.
package struct StateReader {
  private let bytes: [UInt8]
  private var at = 0

  /// A reader over `bytes` when their last 8 bytes are the hash of the rest
  /// (a torn or altered file is refused whole).
  package static func verified(_ bytes: [UInt8]) -> StateReader? {
    guard bytes.count >= 8 else { return nil }
    let body = bytes[..<(bytes.count - 8)]
    var r = StateReader(bytes: Array(bytes[(bytes.count - 8)...]))
    guard let stored = r.u64(), stored == KeyHash.hash(body) else { return nil }
    return StateReader(bytes: Array(body))
  }

  private init(bytes: [UInt8]) { self.bytes = bytes }

  /// Every byte was read.
  package var atEnd: Bool { at == bytes.count }

  package mutating func u8() -> UInt8? {
    guard at < bytes.count else { return nil }
    at += 1
    return bytes[at - 1]
  }

  package mutating func u32() -> UInt32? {
    guard bytes.count - at >= 4 else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 { v |= UInt32(bytes[at + k]) << (8 * UInt32(k)) }
    at += 4
    return v
  }

  package mutating func u64() -> UInt64? {
    guard bytes.count - at >= 8 else { return nil }
    var v: UInt64 = 0
    for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
    at += 8
    return v
  }

  package mutating func i64() -> Int64? { u64().map { Int64(bitPattern: $0) } }

  package mutating func data() -> ArraySlice<UInt8>? {
    guard let n = u32(), bytes.count - at >= Int(n) else { return nil }
    at += Int(n)
    return bytes[(at - Int(n))..<at]
  }

  /// A string that must be valid UTF-8.
  package mutating func string() -> String? {
    guard let d = data() else { return nil }
    return d.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
  }
}

/// A 64-bit hash of bytes as 16 hexadecimal digits (a state file's name).
package func stateHashHex(_ bytes: [UInt8]) -> String {
  let h = KeyHash.hash(bytes)
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  for k in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((h >> UInt64(k)) & 0xF)]) }
  return String(decoding: out, as: UTF8.self)
}
