/// Writes RFC 4180 CSV, neutralizing cells that a spreadsheet would execute.
package struct CSVWriter {
  package private(set) var text = ""

  package init(header: [String]) {
    row(header)
  }

  /// Appends a row; cells are quoted when needed.
  package mutating func row(_ cells: [String]) {
    CSVWriter.append(cells, to: &text)
  }

  /// Appends one row's line to `text`.
  package static func append(_ cells: [String], to text: inout String) {
    for (k, c) in cells.enumerated() {
      if k > 0 { text += "," }
      text += cell(c)
    }
    text += "\r\n"
  }

  /// Appends one row's line to `bytes`: the same text as
  /// ``append(_:to:)-(_,String)``, without a String grown cell by cell (a
  /// plain cell's bytes are copied where they lie).
  package static func append(_ cells: [String], to bytes: inout [UInt8]) {
    for (k, c) in cells.enumerated() {
      if k > 0 { bytes.append(0x2C) }
      appendCell(c, to: &bytes)
    }
    bytes.append(0x0D)
    bytes.append(0x0A)
  }

  /// Appends one cell as ``cell(_:)`` writes it, from the cell's bytes
  /// where they lie (``appendCell(bytes:to:)``), no String made.
  @inline(__always) package static func appendCell(_ c: String, to bytes: inout [UInt8]) {
    var c = c
    c.withUTF8 { appendCell(bytes: $0, to: &bytes) }
  }

  /// Appends a cell, given as UTF-8 bytes, as written: formula-like text
  /// is prefixed with `'` (OWASP) — at the start, and after `;`, tab or
  /// `|`, where spreadsheets in many locales split a cell — and cells
  /// holding commas, quotes or line breaks are quoted. One pass, byte by
  /// byte (a key such as `-home-user-project`, neutralized on every row of
  /// every per-request CSV, cost thousands of instructions a row through
  /// Strings; `CSVTests` keeps that version as the oracle).
  package static func appendCell(bytes raw: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
    if isPlain(raw) {
      bytes.append(contentsOf: raw)
      return
    }
    let number = isNumber(raw)
    var quoted = false
    var separators = false
    for c in raw {
      if c == 0x2C || c == 0x22 || c == 0x0A || c == 0x0D { quoted = true }
      if c == 0x3B || c == 0x09 || c == 0x7C { separators = true }
    }
    separators = separators && !number
    if quoted { bytes.append(0x22) }
    if let first = raw.first, !number, isFormulaStart(first) || first == 0x09 || first == 0x0D {
      bytes.append(UInt8(ascii: "'"))
    }
    var previous: UInt8 = 0
    for c in raw {
      if separators, previous == 0x3B || previous == 0x09 || previous == 0x7C, isFormulaStart(c) {
        bytes.append(UInt8(ascii: "'"))
      }
      bytes.append(c)
      if quoted, c == 0x22 { bytes.append(0x22) }
      previous = c
    }
    if quoted { bytes.append(0x22) }
  }

  /// `=`, `+`, `-` or `@`: a spreadsheet reads a cell starting so as a formula.
  @inline(__always) private static func isFormulaStart(_ c: UInt8) -> Bool {
    c == UInt8(ascii: "=") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: "@")
  }

  /// Appends an integer cell: its decimal digits (and sign), as ``cell(_:)``
  /// writes `String(v)`.
  package static func appendInteger(_ v: Int128, to bytes: inout [UInt8]) {
    guard let small = Int64(exactly: v), small != .min else {
      bytes.append(contentsOf: String(v).utf8)
      return
    }
    var n = small
    if n < 0 {
      bytes.append(UInt8(ascii: "-"))
      n = -n
    }
    // Up to 19 digits, written backwards into a small buffer.
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { buffer in
      var m = UInt64(n)
      repeat {
        count += 1
        buffer[24 - count] = UInt8(truncatingIfNeeded: m % 10) &+ UInt8(ascii: "0")
        m /= 10
      } while m > 0
      bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
    }
  }

  /// Whether a cell is written as it is: digits, letters, `.`, `_`, `:` and
  /// `-` after the first byte (most cells are plain numbers or words).
  static func isPlain(_ bytes: some Sequence<UInt8>) -> Bool {
    var first = true
    for c in bytes {
      // Bit 0: safe anywhere; bit 1: safe after the first byte.
      let safe = plainBytes[Int(c)]
      if safe & (first ? 1 : 2) == 0 { return false }
      first = false
    }
    return true
  }

  /// Per byte, where ``isPlain(_:)`` lets it stand.
  private static let plainBytes: [UInt8] = (0..<256).map { (c: Int) -> UInt8 in
    if (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2E || c == 0x5F
      || c == 0x3A
    {
      return 3
    }
    return c == 0x2D ? 2 : 0
  }

  /// A cell as written: formula-like text is prefixed with `'` (OWASP), and
  /// cells holding commas, quotes or line breaks are quoted
  /// (``appendCell(bytes:to:)`` writes it).
  package static func cell(_ raw: String) -> String {
    var raw = raw
    return raw.withUTF8 { bytes in
      if isPlain(bytes) { return nil }
      var out: [UInt8] = []
      appendCell(bytes: bytes, to: &out)
      return String(decoding: out, as: UTF8.self)
    } ?? raw
  }

  /// A plain decimal number such as `-12` or `+3.5`.
  static func isNumber(_ s: String) -> Bool { isNumber(s.utf8) }

  /// A plain decimal number such as `-12` or `+3.5`, as UTF-8 bytes.
  static func isNumber(_ s: some Sequence<UInt8>) -> Bool {
    var digits = 0
    var point = false
    for (n, c) in s.enumerated() {
      if n == 0, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { continue }
      if c == UInt8(ascii: "."), !point {
        point = true
        continue
      }
      guard isDigit(c) else { return false }
      digits += 1
    }
    return digits > 0
  }
}
