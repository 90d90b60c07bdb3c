/// A node of the YAML subset that VCR cassettes are written in.
indirect enum YAMLNode: Sendable, Equatable {
  case scalar(YAMLScalar)
  case sequence([YAMLNode])
  case mapping([YAMLPair])

  /// The value of the first pair with `key`, in a mapping.
  subscript(key: String) -> YAMLNode? {
    guard case .mapping(let pairs) = self else { return nil }
    return pairs.first { $0.key == key }?.value
  }

  var scalar: YAMLScalar? {
    if case .scalar(let s) = self { return s }
    return nil
  }

  /// The text of a scalar that is not null.
  var text: String? {
    guard let s = scalar, !s.isNull else { return nil }
    return s.text
  }

  /// The node as JSON, scalars resolved as PyYAML resolves them (YAML 1.1):
  /// plain `null`, `~` and nothing are null, `true`, `yes`, `on` (and their
  /// capitalized forms) and their opposites are booleans, text that is a JSON
  /// number is a number; everything else is a string.
  var json: JSONValue {
    switch self {
    case .scalar(let s): s.json
    case .sequence(let items): .array(items.map(\.json))
    case .mapping(let pairs): .object(pairs.map { ($0.key, $0.value.json) })
    }
  }
}

/// A key and its value, in a mapping.
struct YAMLPair: Sendable, Equatable {
  var key: String
  var value: YAMLNode
}

/// A scalar: its text, how it was written, and its tag (`!!binary`).
struct YAMLScalar: Sendable, Equatable {
  enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
  var text: String
  var style: Style
  var tag: String?

  /// Whether the tag marks base64 bytes (`!!binary`, Ruby's `!binary`).
  var isBinary: Bool { tag == "!!binary" || tag == "!binary" || tag == "!<tag:yaml.org,2002:binary>" }

  var isNull: Bool {
    if let tag { return tag == "!!null" }
    return style == .plain && ["", "~", "null", "Null", "NULL"].contains(text)
  }

  var json: JSONValue {
    if isNull { return .null }
    if let tag, tag != "!!bool", tag != "!!int", tag != "!!float" { return .string(text) }
    guard style == .plain || tag != nil else { return .string(text) }
    switch text {
    case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
    case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
    default: return Self.isNumber(text) ? .number(text) : .string(text)
    }
  }

  /// Whether YAML 1.1 reads the text as a number and JSON can write it:
  /// `-?(0|[1-9][0-9]*)(\.[0-9]+([eE][+-][0-9]+)?)?` (YAML 1.1 wants a
  /// point and a signed exponent: `1e5` is a string to PyYAML).
  static func isNumber(_ s: String) -> Bool {
    isJSONNumber(s)
      && (!s.utf8.contains { $0 == 0x65 || $0 == 0x45 }
        || s.utf8.contains(0x2E) && (s.contains("e+") || s.contains("e-") || s.contains("E+") || s.contains("E-")))
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
  static func isJSONNumber(_ s: String) -> Bool {
    var u = s.utf8[...]
    func digits() -> Int {
      var n = 0
      while let c = u.first, c >= 48, c <= 57 {
        u = u.dropFirst()
        n += 1
      }
      return n
    }
    if u.first == UInt8(ascii: "-") { u = u.dropFirst() }
    if u.first == UInt8(ascii: "0") {
      u = u.dropFirst()
    } else if digits() == 0 {
      return false
    }
    if u.first == UInt8(ascii: ".") {
      u = u.dropFirst()
      if digits() == 0 { return false }
    }
    if u.first == UInt8(ascii: "e") || u.first == UInt8(ascii: "E") {
      u = u.dropFirst()
      if u.first == UInt8(ascii: "+") || u.first == UInt8(ascii: "-") { u = u.dropFirst() }
      if digits() == 0 { return false }
    }
    return u.isEmpty
  }
}

/// Why YAML could not be read, and the line where that was found.
struct YAMLError: Error, Equatable, CustomStringConvertible {
  var reason: String
  var line: Int

  var description: String { "YAML: \(reason) (line \(line))" }
}

/// A reader of the YAML subset VCR cassettes use, working on bytes.
///
/// | construct | read |
/// |---|---|
/// | block mappings and sequences, sequences not indented under their key | yes |
/// | plain, single- and double-quoted scalars, over several lines | yes |
/// | literal `|` and folded `>` block scalars, chomping and indentation indicators | yes |
/// | flow collections `[…]`, `{…}` | yes |
/// | tags (`!!binary`, `!binary`, `!!str` …) | kept on the scalar |
/// | anchors `&a` | ignored |
/// | aliases `*a`, complex keys `? `, several documents | an error |
///
/// Linear in the input: each byte is looked at a bounded number of times
/// (an error skips forward, never back). Nesting deeper than `maxDepth` is an
/// error, so recursion is bounded; nothing traps on any input.
struct YAMLReader {
  private let b: UnsafeBufferPointer<UInt8>
  private var i = 0
  private(set) var line = 1
  private var lineStart = 0
  let maxDepth: Int

  /// The default nesting limit (collections within collections).
  static let defaultMaxDepth = 200

  init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) {
    b = bytes
    self.maxDepth = maxDepth
  }

  /// Parses one whole document (for tests and small inputs): null when empty.
  static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(YAMLError) -> YAMLNode {
    var bytes = Array(text.utf8)
    return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(YAMLError) -> YAMLNode in
      var r = YAMLReader(UnsafeBufferPointer(buffer), maxDepth: maxDepth)
      return try r.document()
    }
  }

  /// The document's node; an error when anything but a comment or `...` follows it.
  mutating func document() throws(YAMLError) -> YAMLNode {
    try startDocument()
    guard i < b.count else { return .scalar(YAMLScalar(text: "", style: .plain)) }
    let node = try node(parent: -1, compact: true, indentlessSequence: false, depth: 0)
    try endDocument()
    return node
  }

  /// Reads a cassette's top-level mapping and hands each item of its
  /// `interactions` (VCR.py, go-vcr) or `http_interactions` (Ruby VCR)
  /// sequence to `body` as it is read, with its index and line: a cassette
  /// of any length is never held whole. An item that is not valid YAML is
  /// handed over as its error and skipped up to the next item.
  ///
  /// - Returns: Whether the top level had such a key.
  /// - Throws: `YAMLError` for an error outside the items, or a top level
  ///   that is not a mapping.
  mutating func forEachInteraction(
    _ body: (_ index: Int, _ line: Int, _ item: Result<YAMLNode, YAMLError>) -> Void
  ) throws(YAMLError) -> Bool {
    try startDocument()
    guard i < b.count else { return false }
    guard column == 0, !atDash, looksLikeKey() else { throw fail("the top level is not a mapping") }
    var found = false
    while true {
      let key = try key()
      if key == "interactions" || key == "http_interactions" {
        found = true
        try interactions(body)
      } else {
        _ = try node(parent: 0, compact: false, indentlessSequence: true, depth: 1)
      }
      if i >= b.count || atDocumentMarker { break }
      guard column == 0 else { throw fail("bad indentation of a mapping entry") }
      guard !atDash else { throw fail("a sequence entry where a mapping key is expected") }
    }
    try endDocument()
    return found
  }

  private mutating func interactions(
    _ body: (Int, Int, Result<YAMLNode, YAMLError>) -> Void
  ) throws(YAMLError) {
    skipSpaces()
    if peek == UInt8(ascii: "[") {
      let itemLine = line
      guard case .sequence(let items) = try flow(depth: 1) else { return }
      for (k, item) in items.enumerated() { body(k, itemLine, .success(item)) }
      try endOfLine()
      try toContent()
      return
    }
    guard atLineEnd else {
      _ = try scalarOrFlow(parent: 0, tag: nil, depth: 1)
      return
    }
    try endOfLine()
    try toContent()
    guard i < b.count, atDash, !atDocumentMarker else { return }
    let n = column
    var k = 0
    while true {
      let itemLine = line
      i += 1
      do throws(YAMLError) {
        let item = try node(parent: n, compact: true, indentlessSequence: false, depth: 2)
        guard i >= b.count || atDocumentMarker || column <= n else {
          throw fail("bad indentation of a sequence entry")
        }
        body(k, itemLine, .success(item))
      } catch {
        body(k, itemLine, .failure(error))
        resync(to: n)
      }
      k += 1
      if i >= b.count || atDocumentMarker { return }
      if column == n, atDash { continue }
      return
    }
  }

  /// After an error: forward to the first content line indented `n` or
  /// less (the next item, or what follows the sequence).
  private mutating func resync(to n: Int) {
    while i < b.count, b[i] != 0x0A { i += 1 }
    while i < b.count {
      newline()
      while i < b.count, b[i] == 0x20 { i += 1 }
      if i < b.count, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09, b[i] != UInt8(ascii: "#"), column <= n { return }
      while i < b.count, b[i] != 0x0A { i += 1 }
    }
  }

  // MARK: - Positions

  private var peek: UInt8? { i < b.count ? b[i] : nil }
  private var column: Int { i - lineStart }

  private func byte(_ k: Int) -> UInt8? { k < b.count ? b[k] : nil }

  private func isBlankOrBreak(_ k: Int) -> Bool {
    guard k < b.count else { return true }
    return b[k] == 0x20 || b[k] == 0x09 || b[k] == 0x0A || b[k] == 0x0D
  }

  private func isBreak(_ k: Int) -> Bool {
    guard k < b.count else { return true }
    return b[k] == 0x0A || (b[k] == 0x0D && (k + 1 >= b.count || b[k + 1] == 0x0A))
  }

  /// At `-` followed by a space or the line's end.
  private var atDash: Bool { peek == UInt8(ascii: "-") && isBlankOrBreak(i + 1) }

  /// At a line's end, or a comment.
  private var atLineEnd: Bool { isBreak(i) || peek == UInt8(ascii: "#") }

  /// At `---` or `...` in column 0.
  private var atDocumentMarker: Bool {
    guard column == 0, i + 3 <= b.count, isBlankOrBreak(i + 3) else { return false }
    let c = b[i]
    return (c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) && b[i + 1] == c && b[i + 2] == c
  }

  private func fail(_ reason: String, line start: Int? = nil) -> YAMLError {
    YAMLError(reason: reason, line: start ?? line)
  }

  private mutating func skipSpaces() {
    while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
  }

  /// Past a line break (`\n` or `\r\n`) at `i`.
  private mutating func newline() {
    if i < b.count, b[i] == 0x0D { i += 1 }
    if i < b.count, b[i] == 0x0A { i += 1 }
    line += 1
    lineStart = i
  }

  /// Past spaces, a comment and the line break; anything else is an error.
  private mutating func endOfLine() throws(YAMLError) {
    skipSpaces()
    if peek == UInt8(ascii: "#") {
      while i < b.count, b[i] != 0x0A { i += 1 }
    }
    guard i < b.count else { return }
    guard isBreak(i) else { throw fail("unexpected text after a value") }
    newline()
  }

  /// From a line's start (or after a value): to the first byte of the next
  /// line that holds more than spaces and a comment, or the end.
  private mutating func toContent() throws(YAMLError) {
    while i < b.count {
      while i < b.count, b[i] == 0x20 { i += 1 }
      if peek == 0x09 {
        skipSpaces()
        guard atLineEnd else { throw fail("a tab in indentation") }
      }
      if peek == UInt8(ascii: "#") {
        while i < b.count, b[i] != 0x0A { i += 1 }
      }
      guard i < b.count else { return }
      guard isBreak(i) else { return }
      newline()
    }
  }

  private mutating func startDocument() throws(YAMLError) {
    if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF {
      i = 3
      lineStart = 3
    }
    try toContent()
    while column == 0, peek == UInt8(ascii: "%") {
      while i < b.count, b[i] != 0x0A { i += 1 }
      try toContent()
    }
    if atDocumentMarker, peek == UInt8(ascii: "-") {
      i += 3
      skipSpaces()
      if !atLineEnd {
        // `--- value` or `--- !tag`: the node starts on this line.
        return
      }
      try endOfLine()
      try toContent()
    }
  }

  private mutating func endDocument() throws(YAMLError) {
    guard i < b.count else { return }
    guard atDocumentMarker else { throw fail("unexpected text after the document") }
    if peek == UInt8(ascii: "-") { throw fail("several documents in one file") }
    i += 3
    try endOfLine()
    try toContent()
    guard i >= b.count else { throw fail("unexpected text after the document") }
  }

  // MARK: - Block structure

  /// After an indicator (`key:`, `- `) or at a document's start: the node on
  /// this line or the lines below; ends at the next content line.
  private mutating func node(
    parent p: Int, compact: Bool, indentlessSequence: Bool, depth: Int
  ) throws(YAMLError) -> YAMLNode {
    guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
    skipSpaces()
    var tag: String?
    while let c = peek, c == UInt8(ascii: "!") || c == UInt8(ascii: "&") {
      let start = i
      while !isBlankOrBreak(i) { i += 1 }
      if c == UInt8(ascii: "!") {
        tag = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
      }
      skipSpaces()
    }
    if peek == UInt8(ascii: "*") { throw fail("aliases are not supported") }
    if atLineEnd {
      try endOfLine()
      try toContent()
      if i < b.count, !atDocumentMarker, column > p || (indentlessSequence && column == p && atDash) {
        return try block(parent: p, tag: tag, depth: depth)
      }
      return .scalar(YAMLScalar(text: "", style: .plain, tag: tag))
    }
    if peek == UInt8(ascii: "|") || peek == UInt8(ascii: ">") { return try blockScalar(parent: p, tag: tag) }
    if compact { return try block(parent: p, tag: tag, depth: depth) }
    return try scalarOrFlow(parent: p, tag: tag, depth: depth)
  }

  /// At a node's first byte: a sequence, a mapping or a scalar.
  private mutating func block(parent p: Int, tag: String?, depth: Int) throws(YAMLError) -> YAMLNode {
    if peek == UInt8(ascii: "?"), isBlankOrBreak(i + 1) { throw fail("complex mapping keys ('? ') are not supported") }
    if atDash { return .sequence(try sequence(depth: depth + 1)) }
    if peek == UInt8(ascii: "|") || peek == UInt8(ascii: ">") { return try blockScalar(parent: p, tag: tag) }
    if looksLikeKey() { return .mapping(try mapping(depth: depth + 1)) }
    return try scalarOrFlow(parent: p, tag: tag, depth: depth)
  }

  private mutating func mapping(depth: Int) throws(YAMLError) -> [YAMLPair] {
    guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
    let n = column
    var pairs: [YAMLPair] = []
    while true {
      let key = try key()
      let value = try node(parent: n, compact: false, indentlessSequence: true, depth: depth)
      pairs.append(YAMLPair(key: key, value: value))
      if i >= b.count || atDocumentMarker || column < n { return pairs }
      guard column == n else { throw fail("bad indentation of a mapping entry") }
      guard !atDash else { throw fail("a sequence entry where a mapping key is expected") }
    }
  }

  private mutating func sequence(depth: Int) throws(YAMLError) -> [YAMLNode] {
    guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
    let n = column
    var items: [YAMLNode] = []
    while true {
      i += 1
      items.append(try node(parent: n, compact: true, indentlessSequence: false, depth: depth))
      if i >= b.count || atDocumentMarker { return items }
      if column == n, atDash { continue }
      guard column <= n else { throw fail("bad indentation of a sequence entry") }
      return items
    }
  }

  /// Whether the line from here holds an implicit key: a plain or quoted
  /// scalar followed by `:` and a space or the line's end.
  private func looksLikeKey() -> Bool {
    var k = i
    guard let c = peek else { return false }
    if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
      k += 1
      while k < b.count, !isBreak(k) {
        if b[k] == UInt8(ascii: "\\"), c == UInt8(ascii: "\"") {
          k += 2
          continue
        }
        if b[k] == c {
          if c == UInt8(ascii: "'"), byte(k + 1) == c {
            k += 2
            continue
          }
          break
        }
        k += 1
      }
      guard k < b.count, b[k] == c else { return false }
      k += 1
      while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
      return byte(k) == UInt8(ascii: ":") && isBlankOrBreak(k + 1)
    }
    if Self.isIndicator(c) { return false }
    while k < b.count, !isBreak(k) {
      if b[k] == UInt8(ascii: ":"), isBlankOrBreak(k + 1) { return true }
      if b[k] == UInt8(ascii: "#"), k > i, b[k - 1] == 0x20 || b[k - 1] == 0x09 { return false }
      k += 1
    }
    return false
  }

  /// Characters that cannot start a plain scalar (`-`, `?`, `:` can, when
  /// not followed by a space).
  private static func isIndicator(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
      UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
      UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
      true
    default: false
    }
  }

  /// A mapping key and its `:`.
  private mutating func key() throws(YAMLError) -> String {
    let text: String
    switch peek {
    case UInt8(ascii: "\""): text = try doubleQuoted()
    case UInt8(ascii: "'"): text = try singleQuoted()
    case UInt8(ascii: "?") where isBlankOrBreak(i + 1):
      throw fail("complex mapping keys ('? ') are not supported")
    default:
      let start = i
      while i < b.count, !isBreak(i), !(b[i] == UInt8(ascii: ":") && isBlankOrBreak(i + 1)) { i += 1 }
      var end = i
      while end > start, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
      guard end > start else { throw fail("an empty mapping key") }
      text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }
    skipSpaces()
    guard peek == UInt8(ascii: ":"), isBlankOrBreak(i + 1) else { throw fail("expected ':' after a mapping key") }
    i += 1
    return text
  }

  // MARK: - Scalars

  /// A flow collection, a quoted or a plain scalar; ends at the next content line.
  private mutating func scalarOrFlow(parent p: Int, tag: String?, depth: Int) throws(YAMLError) -> YAMLNode {
    let node: YAMLNode
    switch peek {
    case UInt8(ascii: "["), UInt8(ascii: "{"):
      node = try flow(depth: depth + 1)
    case UInt8(ascii: "\""):
      node = .scalar(YAMLScalar(text: try doubleQuoted(minColumn: p + 1), style: .doubleQuoted, tag: tag))
    case UInt8(ascii: "'"):
      node = .scalar(YAMLScalar(text: try singleQuoted(minColumn: p + 1), style: .singleQuoted, tag: tag))
    default:
      return .scalar(YAMLScalar(text: try plain(parent: p), style: .plain, tag: tag))
    }
    try endOfLine()
    try toContent()
    return node
  }

  /// A plain scalar in block context, folded over the following lines
  /// indented more than `p`; ends at the next content line.
  private mutating func plain(parent p: Int) throws(YAMLError) -> String {
    guard let c = peek, !Self.isIndicator(c) else {
      throw fail("unexpected character '\(Character(Unicode.Scalar(peek ?? 0x20)))'")
    }
    var out: [UInt8] = []
    var first = true
    while true {
      // One line's part: up to a comment, `: ` or the line's end.
      let start = i
      var comment = false
      while i < b.count, !isBreak(i) {
        if b[i] == UInt8(ascii: ":"), isBlankOrBreak(i + 1) { throw fail("a mapping value where none is allowed") }
        if b[i] == UInt8(ascii: "#"), i > start, b[i - 1] == 0x20 || b[i - 1] == 0x09 {
          comment = true
          break
        }
        i += 1
      }
      var end = i
      while end > start, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
      if !first || end > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end])) }
      first = false
      if comment || i >= b.count {
        try endOfLine()
        try toContent()
        return String(decoding: out, as: UTF8.self)
      }
      // A continuation: the next non-blank line, indented more than the parent.
      newline()
      var breaks = 0
      while true {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        guard i < b.count, isBreak(i) else { break }
        breaks += 1
        newline()
      }
      var indent = 0
      while lineStart + indent < b.count, b[lineStart + indent] == 0x20 { indent += 1 }
      if i >= b.count || indent <= p || peek == UInt8(ascii: "#") || atDocumentMarker {
        try toContent()
        return String(decoding: out, as: UTF8.self)
      }
      if breaks == 0 {
        out.append(0x20)
      } else {
        out.append(contentsOf: repeatElement(0x0A, count: breaks))
      }
    }
  }

  /// A double-quoted scalar, escapes decoded and line breaks folded; the
  /// position ends after the closing quote. In block context its lines are
  /// indented at least `minColumn`: a line indented less ends it unclosed
  /// (so an error in one interaction does not swallow the next ones).
  private mutating func doubleQuoted(minColumn: Int = 0) throws(YAMLError) -> String {
    let start = line
    i += 1
    var out: [UInt8] = []
    var spaces = 0  // unescaped blanks not yet written: dropped before a line break
    var spaceStart = 0
    while true {
      guard let c = peek else { throw fail("unterminated double-quoted scalar", line: start) }
      switch c {
      case UInt8(ascii: "\""):
        flushSpaces(&out, &spaces, spaceStart)
        i += 1
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        flushSpaces(&out, &spaces, spaceStart)
        i += 1
        guard let e = peek else { throw fail("unterminated double-quoted scalar", line: start) }
        if isBreak(i) {
          // An escaped line break: joined without a space.
          newline()
          try foldBreaks(into: &out, escaped: true, minColumn: minColumn, quote: "double", start: start)
          continue
        }
        i += 1
        try escape(e, into: &out)
      case 0x20, 0x09:
        if spaces == 0 { spaceStart = i }
        spaces += 1
        i += 1
      case 0x0A, 0x0D:
        if !isBreak(i) {  // a carriage return alone is text
          flushSpaces(&out, &spaces, spaceStart)
          out.append(c)
          i += 1
          continue
        }
        spaces = 0
        newline()
        try foldBreaks(into: &out, escaped: false, minColumn: minColumn, quote: "double", start: start)
      default:
        flushSpaces(&out, &spaces, spaceStart)
        out.append(c)
        i += 1
      }
    }
  }

  /// A single-quoted scalar (`''` is a quote), line breaks folded.
  private mutating func singleQuoted(minColumn: Int = 0) throws(YAMLError) -> String {
    let start = line
    i += 1
    var out: [UInt8] = []
    var spaces = 0
    var spaceStart = 0
    while true {
      guard let c = peek else { throw fail("unterminated single-quoted scalar", line: start) }
      switch c {
      case UInt8(ascii: "'"):
        flushSpaces(&out, &spaces, spaceStart)
        if byte(i + 1) == c {
          out.append(c)
          i += 2
          continue
        }
        i += 1
        return String(decoding: out, as: UTF8.self)
      case 0x20, 0x09:
        if spaces == 0 { spaceStart = i }
        spaces += 1
        i += 1
      case 0x0A, 0x0D:
        if !isBreak(i) {  // a carriage return alone is text
          flushSpaces(&out, &spaces, spaceStart)
          out.append(c)
          i += 1
          continue
        }
        spaces = 0
        newline()
        try foldBreaks(into: &out, escaped: false, minColumn: minColumn, quote: "single", start: start)
      default:
        flushSpaces(&out, &spaces, spaceStart)
        out.append(c)
        i += 1
      }
    }
  }

  private func flushSpaces(_ out: inout [UInt8], _ spaces: inout Int, _ start: Int) {
    guard spaces > 0 else { return }
    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<(start + spaces)]))
    spaces = 0
  }

  /// After a line break inside a quoted scalar: skips the next lines'
  /// leading blanks; empty lines are line feeds, a single break a space
  /// (nothing after an escaped break).
  private mutating func foldBreaks(
    into out: inout [UInt8], escaped: Bool, minColumn: Int, quote: String, start: Int
  ) throws(YAMLError) {
    var breaks = 0
    while true {
      while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
      if atDocumentMarker { throw fail("a document marker inside a quoted scalar") }
      guard i < b.count, isBreak(i) else { break }
      breaks += 1
      newline()
    }
    if i < b.count, column < minColumn { throw fail("unterminated \(quote)-quoted scalar", line: start) }
    if breaks > 0 {
      out.append(contentsOf: repeatElement(0x0A, count: breaks))
    } else if !escaped {
      out.append(0x20)
    }
  }

  private mutating func escape(_ e: UInt8, into out: inout [UInt8]) throws(YAMLError) {
    var scalar: UInt32
    switch e {
    case UInt8(ascii: "0"): scalar = 0
    case UInt8(ascii: "a"): scalar = 7
    case UInt8(ascii: "b"): scalar = 8
    case UInt8(ascii: "t"), 0x09: scalar = 9
    case UInt8(ascii: "n"): scalar = 10
    case UInt8(ascii: "v"): scalar = 11
    case UInt8(ascii: "f"): scalar = 12
    case UInt8(ascii: "r"): scalar = 13
    case UInt8(ascii: "e"): scalar = 27
    case 0x20, UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): scalar = UInt32(e)
    case UInt8(ascii: "N"): scalar = 0x85
    case UInt8(ascii: "_"): scalar = 0xA0
    case UInt8(ascii: "L"): scalar = 0x2028
    case UInt8(ascii: "P"): scalar = 0x2029
    case UInt8(ascii: "x"): scalar = try hex(2)
    case UInt8(ascii: "u"):
      scalar = try hex(4)
      if (0xD800..<0xDC00).contains(scalar), byte(i) == UInt8(ascii: "\\"), byte(i + 1) == UInt8(ascii: "u") {
        // A surrogate pair written as two escapes.
        let save = i
        i += 2
        let low = try hex(4)
        if (0xDC00..<0xE000).contains(low) {
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else {
          i = save
        }
      }
    case UInt8(ascii: "U"): scalar = try hex(8)
    default: throw fail("an unknown escape '\\\(Character(Unicode.Scalar(e)))'")
    }
    if scalar < 0x80 {
      out.append(UInt8(scalar))
      return
    }
    let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
    out.append(contentsOf: String(Character(s)).utf8)
  }

  private mutating func hex(_ count: Int) throws(YAMLError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<count {
      guard let c = peek else { throw fail("a short hexadecimal escape") }
      let d: UInt32
      switch c {
      case 48...57: d = UInt32(c - 48)
      case 65...70: d = UInt32(c - 55)
      case 97...102: d = UInt32(c - 87)
      default: throw fail("a bad hexadecimal escape")
      }
      v = v << 4 | d
      i += 1
    }
    return v
  }

  /// A literal (`|`) or folded (`>`) block scalar, its header at `i`; ends
  /// at the next content line.
  private mutating func blockScalar(parent p: Int, tag: String?) throws(YAMLError) -> YAMLNode {
    let folded = peek == UInt8(ascii: ">")
    i += 1
    var chomp: UInt8 = 0  // `-`, `+`, or 0 to clip
    var increment = 0
    for _ in 0..<2 {
      guard let c = peek else { break }
      if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && chomp == 0 {
        chomp = c
        i += 1
      } else if c >= UInt8(ascii: "1"), c <= UInt8(ascii: "9"), increment == 0 {
        increment = Int(c - 48)
        i += 1
      }
    }
    guard isBlankOrBreak(i) else { throw fail("a bad block scalar header") }
    try endOfLine()
    let minIndent = max(p + 1, 1)
    var indent = increment > 0 ? minIndent + increment - 1 : 0
    if indent == 0 {
      // The first non-empty line sets the indentation.
      var k = i
      var lineIndent = 0
      while k < b.count {
        if b[k] == 0x20 {
          lineIndent += 1
        } else if b[k] == 0x0A || b[k] == 0x0D {
          lineIndent = 0
        } else {
          break
        }
        k += 1
      }
      indent = max(minIndent, k < b.count ? lineIndent : 0)
    }
    var out: [UInt8] = []
    var breaks = 0  // line breaks since the last content line (or the start)
    var sawContent = false
    var lastMoreIndented = false
    while i < b.count {
      var k = 0
      while k < indent, i < b.count, b[i] == 0x20 {
        i += 1
        k += 1
      }
      if isBreak(i) && i < b.count {
        breaks += 1
        newline()
        continue
      }
      if i >= b.count { break }
      if k < indent {
        // Less indented: an empty line made of blanks, or the end.
        var j = i
        while j < b.count, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        if j < b.count, isBreak(j) {
          i = j
          breaks += 1
          newline()
          continue
        }
        break
      }
      let start = i
      while i < b.count, !isBreak(i) { i += 1 }
      var end = i
      if end > start, b[end - 1] == 0x0D { end -= 1 }
      let moreIndented = b[start] == 0x20 || b[start] == 0x09
      if !sawContent {
        out.append(contentsOf: repeatElement(0x0A, count: breaks))
      } else if folded, !lastMoreIndented, !moreIndented {
        if breaks == 1 {
          out.append(0x20)
        } else {
          out.append(contentsOf: repeatElement(0x0A, count: max(breaks - 1, 0)))
        }
      } else {
        out.append(contentsOf: repeatElement(0x0A, count: breaks))
      }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end]))
      sawContent = true
      lastMoreIndented = moreIndented
      breaks = 0
      if i < b.count {
        breaks = 1
        newline()
      }
    }
    switch chomp {
    case UInt8(ascii: "-"): break
    case UInt8(ascii: "+"): out.append(contentsOf: repeatElement(0x0A, count: breaks))
    default: if sawContent, breaks > 0 { out.append(0x0A) }
    }
    try toContent()
    return .scalar(YAMLScalar(text: String(decoding: out, as: UTF8.self), style: folded ? .folded : .literal, tag: tag))
  }

  // MARK: - Flow collections

  private mutating func flowSpace() throws(YAMLError) {
    while i < b.count {
      switch b[i] {
      case 0x20, 0x09: i += 1
      case 0x0A, 0x0D: newline()
      case UInt8(ascii: "#") where i == lineStart || b[i - 1] == 0x20 || b[i - 1] == 0x09:
        while i < b.count, b[i] != 0x0A { i += 1 }
      default: return
      }
    }
  }

  /// `[…]` or `{…}` at `i`; the position ends after the closing bracket.
  private mutating func flow(depth: Int) throws(YAMLError) -> YAMLNode {
    guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
    let start = line
    let sequence = peek == UInt8(ascii: "[")
    let close = sequence ? UInt8(ascii: "]") : UInt8(ascii: "}")
    i += 1
    var items: [YAMLNode] = []
    var pairs: [YAMLPair] = []
    while true {
      try flowSpace()
      guard let c = peek else { throw fail("unterminated flow collection", line: start) }
      if c == close {
        i += 1
        return sequence ? .sequence(items) : .mapping(pairs)
      }
      let key = try flowNode(depth: depth)
      try flowSpace()
      var value: YAMLNode?
      if peek == UInt8(ascii: ":") {
        i += 1
        try flowSpace()
        if peek == UInt8(ascii: ",") || peek == close {
          value = .scalar(YAMLScalar(text: "", style: .plain))
        } else {
          value = try flowNode(depth: depth)
        }
        try flowSpace()
      }
      if sequence, let value {
        guard let k = key.scalar?.text else { throw fail("a collection as a mapping key") }
        items.append(.mapping([YAMLPair(key: k, value: value)]))
      } else if sequence {
        items.append(key)
      } else {
        guard let k = key.scalar?.text else { throw fail("a collection as a mapping key") }
        pairs.append(YAMLPair(key: k, value: value ?? .scalar(YAMLScalar(text: "", style: .plain))))
      }
      guard let next = peek else { throw fail("unterminated flow collection", line: start) }
      if next == UInt8(ascii: ",") {
        i += 1
      } else if next != close {
        throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))' in a flow collection")
      }
    }
  }

  private mutating func flowNode(depth: Int) throws(YAMLError) -> YAMLNode {
    var tag: String?
    while let c = peek, c == UInt8(ascii: "!") || c == UInt8(ascii: "&") {
      let start = i
      while !isBlankOrBreak(i), !Self.isFlowIndicator(b[i]) { i += 1 }
      if c == UInt8(ascii: "!") {
        tag = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
      }
      try flowSpace()
    }
    switch peek {
    case UInt8(ascii: "["), UInt8(ascii: "{"): return try flow(depth: depth + 1)
    case UInt8(ascii: "\""): return .scalar(YAMLScalar(text: try doubleQuoted(), style: .doubleQuoted, tag: tag))
    case UInt8(ascii: "'"): return .scalar(YAMLScalar(text: try singleQuoted(), style: .singleQuoted, tag: tag))
    case UInt8(ascii: "*"): throw fail("aliases are not supported")
    default: break
    }
    // A plain scalar in flow context, folded over lines.
    var out: [UInt8] = []
    while true {
      let start = i
      while i < b.count, !isBreak(i) {
        let c = b[i]
        if Self.isFlowIndicator(c) { break }
        if c == UInt8(ascii: ":"), isBlankOrBreak(i + 1) || byte(i + 1).map(Self.isFlowIndicator) == true { break }
        if c == UInt8(ascii: "#"), i > start, b[i - 1] == 0x20 || b[i - 1] == 0x09 { break }
        i += 1
      }
      var end = i
      while end > start, b[end - 1] == 0x20 || b[end - 1] == 0x09 { end -= 1 }
      out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end]))
      guard i < b.count, isBreak(i) else { break }
      // Folded onto the next non-blank line, unless that starts a new token.
      let save = (i, line, lineStart)
      newline()
      var breaks = 0
      while true {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        guard i < b.count, isBreak(i) else { break }
        breaks += 1
        newline()
      }
      guard let c = peek, !Self.isFlowIndicator(c), c != UInt8(ascii: ":"), c != UInt8(ascii: "#") else {
        (i, line, lineStart) = save
        break
      }
      if breaks == 0 {
        out.append(0x20)
      } else {
        out.append(contentsOf: repeatElement(0x0A, count: breaks))
      }
    }
    guard !out.isEmpty || tag != nil else {
      throw fail("unexpected character '\(Character(Unicode.Scalar(peek ?? 0x20)))' in a flow collection")
    }
    return .scalar(YAMLScalar(text: String(decoding: out, as: UTF8.self), style: .plain, tag: tag))
  }

  private static func isFlowIndicator(_ c: UInt8) -> Bool {
    c == UInt8(ascii: ",") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]") || c == UInt8(ascii: "{")
      || c == UInt8(ascii: "}")
  }
}
