/// SHA-256 (FIPS 180-4), for the catalog's fingerprint and HAR prompt
/// digests: fed bytes a piece at a time, in a fixed-size state (a 64-byte
/// block buffer), so a message need never be held whole.
package struct SHA256 {
  private static let zeros = [UInt8](repeating: 0, count: 64)
  private static let k: [UInt32] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
  ]

  /// The 256-bit digest, as four big-endian 64-bit words (`a` holds its
  /// first eight bytes).
  package struct Digest: Hashable, Sendable {
    package var a: UInt64
    package var b: UInt64
    package var c: UInt64
    package var d: UInt64

    /// 64 lowercase hex digits, first byte first.
    package var hex: String {
      let digits: [UInt8] = Array("0123456789abcdef".utf8)
      var out: [UInt8] = []
      out.reserveCapacity(64)
      for word in [a, b, c, d] {
        for shift in stride(from: 60, through: 0, by: -4) {
          out.append(digits[Int((word >> UInt64(shift)) & 0xF)])
        }
      }
      return String(decoding: out, as: UTF8.self)
    }
  }

  private var h: InlineArray<8, UInt32> = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]
  /// Bytes not yet compressed: the first `filled` of them.
  private var block = InlineArray<64, UInt8>(repeating: 0)
  private var filled = 0
  /// Bytes taken in all.
  private var length: UInt64 = 0

  package init() {}

  /// The digest as 64 lowercase hex digits.
  package static func hex(_ message: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(message)
    return hasher.finalize().hex
  }

  package mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  package mutating func update(_ byte: UInt8) {
    block[filled] = byte
    filled += 1
    length &+= 1
    if filled == 64 { compressBlock() }
  }

  package mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    length &+= UInt64(bytes.count)
    var i = 0
    if filled > 0 {
      let n = min(64 - filled, bytes.count)
      withUnsafeMutableBytes(of: &block) { b in
        for j in 0..<n { b[filled + j] = bytes[j] }
      }
      filled += n
      i = n
      guard filled == 64 else { return }
      compressBlock()
    }
    while bytes.count - i >= 64 {
      compress(base + i)
      i += 64
    }
    if i < bytes.count {
      let rest = bytes.count - i
      withUnsafeMutableBytes(of: &block) { b in
        for j in 0..<rest { b[j] = bytes[i + j] }
      }
      filled = rest
    }
  }

  /// The digest of the bytes taken in (the state is spent: feed no more).
  package mutating func finalize() -> Digest {
    let bits = (length &* 8).bigEndian
    update(0x80)
    // Zeros up to 56 bytes past a block boundary, then the length in bits.
    let zeros = (120 - filled) % 64
    Self.zeros.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[..<zeros])) }
    withUnsafeBytes(of: bits) { update($0) }
    func word(_ i: Int) -> UInt64 { UInt64(h[2 * i]) << 32 | UInt64(h[2 * i + 1]) }
    return Digest(a: word(0), b: word(1), c: word(2), d: word(3))
  }

  /// The full block buffer into the state.
  private mutating func compressBlock() {
    let full = block
    withUnsafeBytes(of: full) { b in
      if let p = b.baseAddress { compress(p) }
    }
    filled = 0
  }

  /// One 64-byte block at `p` into the state.
  private mutating func compress(_ p: UnsafeRawPointer) {
    Self.k.withUnsafeBufferPointer { k in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
        for t in 0..<16 {
          w[t] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self))
        }
        for t in 16..<64 {
          let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
          let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
          w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for t in 0..<64 {
          let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
          let ch = (e & f) ^ (~e & g)
          let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
          let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
          let maj = (a & b) ^ (a & c) ^ (b & c)
          let t2 = s0 &+ maj
          (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        h[0] &+= a
        h[1] &+= b
        h[2] &+= c
        h[3] &+= d
        h[4] &+= e
        h[5] &+= f
        h[6] &+= g
        h[7] &+= hh
      }
    }
  }

  private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
