/// A parsed JSON document, for small inputs: the catalog, API responses.
///
/// Transcripts never go through this type; they use ``LineScanner``.
package enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The number's text as written, kept exact.
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in document order; a duplicate key keeps its last value on lookup.
  case object([(String, JSONValue)])

  package static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): true
    case (.bool(let x), .bool(let y)): x == y
    case (.number(let x), .number(let y)): x == y
    case (.string(let x), .string(let y)): x == y
    case (.array(let x), .array(let y)): x == y
    case (.object(let x), .object(let y)):
      x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: false
    }
  }

  package subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last { $0.0 == key }?.1
  }

  package var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  package var array: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  package var bool: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  package var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// The number as a non-negative or negative integer; nil for fractions,
  /// exponents and values beyond Int64.
  package var int64: Int64? {
    guard case .number(let text) = self else { return nil }
    return Int64(text)
  }
}

/// Where and why a JSON document could not be read.
package struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
  package var offset: Int
  package var reason: String

  package var description: String { "\(reason) at byte \(offset)" }
}

/// Parses JSON bytes without recursion: nesting costs heap, not stack.
package struct JSONParser {
  private let bytes: [UInt8]
  private var i = 0
  private let maxDepth: Int

  private init(_ bytes: [UInt8], maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  /// Parses one whole document; leading BOM and surrounding white space are allowed.
  package static func parse(_ bytes: [UInt8], maxDepth: Int = 10_000) throws(JSONError)
    -> JSONValue
  {
    var parser = JSONParser(bytes, maxDepth: maxDepth)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.i = 3 }
    let value = try parser.parseValue()
    parser.skipSpace()
    if parser.i != bytes.count { throw JSONError(offset: parser.i, reason: "trailing data") }
    return value
  }

  package static func parse(_ text: String) throws(JSONError) -> JSONValue {
    try parse(Array(text.utf8))
  }

  private enum Frame {
    case array([JSONValue])
    case object([(String, JSONValue)], key: String)
  }

  private mutating func skipSpace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  private mutating func parseValue() throws(JSONError) -> JSONValue {
    var stack: [Frame] = []
    while true {
      skipSpace()
      guard i < bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
      var value: JSONValue
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
          i += 1
          value = .object([])
        } else {
          if stack.count >= maxDepth { throw JSONError(offset: i, reason: "nesting too deep") }
          let key = try parseKey()
          stack.append(.object([], key: key))
          continue
        }
      case UInt8(ascii: "["):
        i += 1
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
          i += 1
          value = .array([])
        } else {
          if stack.count >= maxDepth { throw JSONError(offset: i, reason: "nesting too deep") }
          stack.append(.array([]))
          continue
        }
      case UInt8(ascii: "\""):
        value = .string(try parseString())
      case UInt8(ascii: "t"):
        try expect("true")
        value = .bool(true)
      case UInt8(ascii: "f"):
        try expect("false")
        value = .bool(false)
      case UInt8(ascii: "n"):
        try expect("null")
        value = .null
      default:
        value = .number(try parseNumber())
      }
      // Attach the value to its container; close containers as they end.
      while true {
        guard let top = stack.popLast() else { return value }
        skipSpace()
        guard i < bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
        let c = bytes[i]
        i += 1
        switch top {
        case .array(var elements):
          elements.append(value)
          if c == UInt8(ascii: ",") {
            stack.append(.array(elements))
          } else if c == UInt8(ascii: "]") {
            value = .array(elements)
            continue
          } else {
            throw JSONError(offset: i - 1, reason: "expected ',' or ']'")
          }
        case .object(var members, let key):
          members.append((key, value))
          if c == UInt8(ascii: ",") {
            let next = try parseKey()
            stack.append(.object(members, key: next))
          } else if c == UInt8(ascii: "}") {
            value = .object(members)
            continue
          } else {
            throw JSONError(offset: i - 1, reason: "expected ',' or '}'")
          }
        }
        break
      }
    }
  }

  private mutating func parseKey() throws(JSONError) -> String {
    skipSpace()
    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
      throw JSONError(offset: i, reason: "expected a key")
    }
    let key = try parseString()
    skipSpace()
    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
      throw JSONError(offset: i, reason: "expected ':'")
    }
    i += 1
    return key
  }

  private mutating func expect(_ word: String) throws(JSONError) {
    let w = Array(word.utf8)
    guard i + w.count <= bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
    guard bytes[i..<(i + w.count)].elementsEqual(w) else {
      throw JSONError(offset: i, reason: "unexpected byte")
    }
    i += w.count
  }

  private mutating func parseNumber() throws(JSONError) -> String {
    let start = i
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    let intStart = i
    while i < bytes.count, isDigit(bytes[i]) { i += 1 }
    guard i > intStart else { throw JSONError(offset: start, reason: "unexpected byte") }
    if bytes[intStart] == UInt8(ascii: "0"), i - intStart > 1 {
      throw JSONError(offset: start, reason: "leading zero")
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      let f = i
      while i < bytes.count, isDigit(bytes[i]) { i += 1 }
      guard i > f else { throw JSONError(offset: i, reason: "bad number") }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
        i += 1
      }
      let e = i
      while i < bytes.count, isDigit(bytes[i]) { i += 1 }
      guard i > e else { throw JSONError(offset: i, reason: "bad number") }
    }
    return String(decoding: bytes[start..<i], as: UTF8.self)
  }

  private mutating func parseString() throws(JSONError) -> String {
    let start = i
    i += 1
    var out: [UInt8] = []
    var segment = i
    while i < bytes.count {
      let c = bytes[i]
      if c == UInt8(ascii: "\"") {
        out.append(contentsOf: bytes[segment..<i])
        i += 1
        guard let s = String(validating: out, as: UTF8.self) else {
          throw JSONError(offset: start, reason: "invalid UTF-8 in string")
        }
        return s
      }
      if c < 0x20 { throw JSONError(offset: i, reason: "control character in string") }
      if c == UInt8(ascii: "\\") {
        out.append(contentsOf: bytes[segment..<i])
        i += 1
        guard i < bytes.count else { break }
        let e = bytes[i]
        i += 1
        switch e {
        case _ where simpleEscape(e) != nil: out.append(simpleEscape(e) ?? 0)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count,
            bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
          {
            i += 2
            let low = try hex4()
            if (0xDC00..<0xE000).contains(low) {
              scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else {
              scalar = 0xFFFD
            }
          }
          let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
          throw JSONError(offset: i - 1, reason: "bad escape")
        }
        segment = i
        continue
      }
      i += 1
    }
    throw JSONError(offset: start, reason: "unterminated string")
  }

  private mutating func hex4() throws(JSONError) -> UInt32 {
    guard i + 4 <= bytes.count else { throw JSONError(offset: i, reason: "bad escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard let d = hexDigit(bytes[i]) else { throw JSONError(offset: i, reason: "bad escape") }
      v = v << 4 | d
      i += 1
    }
    return v
  }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

/// The byte a one-letter JSON escape stands for (`\n` → 0x0A), or nil.
@inline(__always) func simpleEscape(_ e: UInt8) -> UInt8? {
  switch e {
  case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): e
  case UInt8(ascii: "b"): 0x08
  case UInt8(ascii: "f"): 0x0C
  case UInt8(ascii: "n"): 0x0A
  case UInt8(ascii: "r"): 0x0D
  case UInt8(ascii: "t"): 0x09
  default: nil
  }
}

/// The value of one hexadecimal digit, or nil.
@inline(__always) func hexDigit(_ c: UInt8) -> UInt32? {
  switch c {
  case 0x30...0x39: UInt32(c - 0x30)
  case 0x61...0x66: UInt32(c - 0x57)
  case 0x41...0x46: UInt32(c - 0x37)
  default: nil
  }
}
