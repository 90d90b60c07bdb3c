import Testing

@testable import Compare

/// The key and state hash: eight bytes at a time over contiguous bytes,
/// one at a time over any other collection; both must give the values of
/// its definition (a state file written by either is read by the other).
@Suite("The key hash: the same value over contiguous bytes and any other collection")
struct KeyHashTests {
  @Test("Values computed independently (a Python transcription of the definition), both paths")
  func values() {
    // Seed 0x9E3779B97F4A7C15 xor the length; each little-endian word of
    // eight bytes (the tail zero-padded) mixed in by splitmix64's finalizer.
    let cases: [([UInt8], UInt64)] = [
      ([], 0x4784_8a77_c295_3ad8),
      (Array("a".utf8), 0xd683_de15_0106_4402),
      (Array("msg_01XFDUDYJgAACzvnptvVoYEL".utf8), 0x16d4_9a75_04c5_3c0c),
      ((0..<17).map { UInt8($0) }, 0x8174_487b_5b39_228d),
    ]
    for (bytes, expected) in cases {
      #expect(KeyHash.hash(bytes) == expected, "\(bytes.count) bytes, contiguous")
      #expect(KeyHash.hash(bytes.lazy.map { $0 }) == expected, "\(bytes.count) bytes, one at a time")
    }
  }

  @Test("Every length from 0 to 40, at every offset of a slice: the two paths agree")
  func lengths() {
    let all = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    for start in 0..<8 {
      for count in 0...40 {
        let slice = all[start..<(start + count)]
        #expect(KeyHash.hash(slice) == KeyHash.hash(slice.lazy.map { $0 }), "offset \(start), \(count) bytes")
      }
    }
  }
}
