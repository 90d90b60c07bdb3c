#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A parsed JSON document: the catalog, API responses, whole captures.
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
  /// Valid for the duration of one `parse` call only.
  private let bytes: UnsafeBufferPointer<UInt8>
  private var i = 0
  private var maxDepth: Int
  /// A string's text while its escapes are decoded.
  private var scratch: [UInt8] = []

  private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  /// Parses one whole document; leading BOM and surrounding white space are allowed.
  package static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 10_000) throws(JSONError)
    -> JSONValue
  {
    var parser = JSONParser(bytes, maxDepth: maxDepth)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.i = 3 }
    let value = try parser.parseValue()
    parser.skipSpace()
    if parser.i != bytes.count { throw JSONError(offset: parser.i, reason: "trailing data") }
    return value
  }

  /// Walks a HAR document (an object whose `log` holds `entries`) and hands
  /// each entry to `body` as soon as it is parsed, so the document is never
  /// held as one tree. Everything else is parsed and dropped: the whole
  /// document is validated exactly as ``parse(_:maxDepth:)`` would, nesting
  /// limit included.
  ///
  /// Returns false, having handed over entries that must be discarded, when
  /// the document is not shaped so (no `log.entries` array, or either key
  /// twice: a tree would keep one of them, and only the tree says which).
  package static func forEachHAREntry(
    _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 10_000, _ body: (JSONValue) -> Void
  ) throws(JSONError) -> Bool {
    try walkHAR(bytes, maxDepth: maxDepth) { (p) throws(JSONError) in
      let budget = p.maxDepth
      p.maxDepth = budget - 3
      defer { p.maxDepth = budget }
      body(try p.parseValue())
    }
  }

  /// Where each HAR entry lies, found without parsing the entries: their
  /// brackets are counted outside strings. Everything around them is parsed
  /// as ``forEachHAREntry(_:maxDepth:_:)`` parses it; each range must then
  /// be parsed whole with ``parse(_:maxDepth:)`` at `maxDepth - 3`, which
  /// validates it (a range that is not one value fails there), so the
  /// document reads or fails exactly as one walk would. nil when the
  /// document is not shaped so.
  package static func harEntryRanges(
    _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 10_000
  ) throws(JSONError) -> [Range<Int>]? {
    var ranges: [Range<Int>] = []
    let shaped = try walkHAR(bytes, maxDepth: maxDepth) { (p) throws(JSONError) in
      p.skipSpace()
      let start = p.i
      try p.skim()
      ranges.append(start..<p.i)
    }
    return shaped ? ranges : nil
  }

  /// The offset of a HAR's first entry, found by walking the document as
  /// ``harEntryRanges(_:maxDepth:)`` does, up to that entry: `bytes` may be
  /// the file's first bytes only. nil when they end first, when the list is
  /// empty or when the document is no HAR; whoever asks then reads it whole.
  /// (A second `log` or `entries` further on is seen only at the end, by
  /// ``harEntryRanges(_:maxDepth:)`` over the document without its entries.)
  package static func harFirstEntry(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 10_000) -> Int? {
    var first: Int?
    do {
      _ = try walkHAR(bytes, maxDepth: maxDepth) { (p) throws(JSONError) in
        p.skipSpace()
        first = p.i
        // Found: the walk stops here.
        throw JSONError(offset: p.i, reason: "first entry")
      }
    } catch {}
    return first
  }

  /// Where an entry list read piece by piece stands: at its start, after a
  /// comma, or after an entry.
  package enum HARListPlace: Equatable, Sendable { case start, afterComma, afterEntry }

  /// The entries of a HAR's list that lie whole in `bytes` from `start`,
  /// found as ``harEntryRanges(_:maxDepth:)`` finds them (brackets counted
  /// outside strings; each range is validated by whoever parses it).
  ///
  /// Returns their ranges; `resume`, the offset the next piece must start
  /// reading at (the start of an entry the end of `bytes` cut, or the end);
  /// the `place` there; and `end`, the offset of the list's `]` once reached.
  /// `final` says `bytes` run to the end of the file: an entry cut short is
  /// then an error, as it is in one walk. Throws where one walk would fail
  /// between the entries (no comma, a comma before `]`).
  package static func harEntries(
    _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, place: HARListPlace, final: Bool
  ) throws(JSONError) -> (ranges: [Range<Int>], resume: Int, place: HARListPlace, end: Int?) {
    var p = JSONParser(bytes, maxDepth: .max)
    p.i = start
    var place = place
    var ranges: [Range<Int>] = []
    while true {
      p.skipSpace()
      guard p.i < bytes.count else {
        if final { throw JSONError(offset: p.i, reason: "unexpected end") }
        return (ranges, p.i, place, nil)
      }
      let c = bytes[p.i]
      if place == .afterEntry {
        if c == UInt8(ascii: "]") { return (ranges, p.i, place, p.i) }
        guard c == UInt8(ascii: ",") else { throw JSONError(offset: p.i, reason: "expected ',' or ']'") }
        p.i += 1
        place = .afterComma
        continue
      }
      if place == .start, c == UInt8(ascii: "]") { return (ranges, p.i, place, p.i) }
      let entry = p.i
      do {
        try p.skim()
      } catch {
        if final { throw error }
        return (ranges, entry, place, nil)
      }
      // A value running to the end may go on in the next piece.
      if p.i == bytes.count, !final { return (ranges, entry, place, nil) }
      ranges.append(entry..<p.i)
      place = .afterEntry
    }
  }

  /// Steps over one value without reading it: brackets are counted (not
  /// matched) outside strings, and a scalar runs to the next `,`, closing
  /// bracket or white space. What it steps over is validated by whoever
  /// parses the range.
  private mutating func skim() throws(JSONError) {
    guard let base = bytes.baseAddress else { throw JSONError(offset: i, reason: "unexpected end") }
    let n = bytes.count
    var depth = 0
    while i < n {
      let c = base[i]
      if c == UInt8(ascii: "\"") {
        i += 1
        try skimString(base, n)
        if depth == 0 { return }
        continue
      }
      if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
        depth += 1
      } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
        if depth == 0 { return }
        depth -= 1
        i += 1
        if depth == 0 { return }
        continue
      } else if depth == 0, c == UInt8(ascii: ",") || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
        return
      }
      i += 1
    }
    if depth > 0 { throw JSONError(offset: n, reason: "unexpected end") }
  }

  /// Steps past the rest of a string whose opening quote was read: to just
  /// after the first quote no backslash escapes (a backslash escapes the
  /// byte after it). Eight bytes are looked at a time while none is a quote
  /// or a backslash: the strings of a capture (bodies of JSON written as
  /// JSON text) are long, their escaped quotes every few bytes.
  private mutating func skimString(_ base: UnsafePointer<UInt8>, _ n: Int) throws(JSONError) {
    // The lowest set bit of this marks the first zero byte of `v` (bits
    // above it may be set by the borrow).
    func zeroBytes(_ v: UInt64) -> UInt64 { (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 }
    while true {
      while i + 8 <= n {
        let x = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
        let special = zeroBytes(x ^ 0x2222_2222_2222_2222) | zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C)
        if special != 0 {
          i += special.trailingZeroBitCount >> 3
          break
        }
        i += 8
      }
      guard i < n else { throw JSONError(offset: n, reason: "unterminated string") }
      let c = base[i]
      if c == UInt8(ascii: "\"") {
        i += 1
        return
      }
      // A backslash and the byte it escapes; any other byte alone.
      i += c == UInt8(ascii: "\\") ? 2 : 1
    }
  }

  /// The walk of ``forEachHAREntry(_:maxDepth:_:)``: `element` reads each entry.
  private static func walkHAR(
    _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, element: (inout JSONParser) throws(JSONError) -> Void
  ) throws(JSONError) -> Bool {
    var p = JSONParser(bytes, maxDepth: maxDepth)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.i = 3 }
    var sawLog = false
    var sawEntries = false
    var shaped = true
    // The top-level object, at depth 1.
    guard try p.open(UInt8(ascii: "{"), depth: 1) else { return false }
    try p.members(depth: 1) { (p, key) throws(JSONError) in
      guard key == "log" else {
        try p.skip(depth: 1)
        return
      }
      if sawLog { shaped = false }
      sawLog = true
      guard try p.open(UInt8(ascii: "{"), depth: 2) else {
        shaped = false
        try p.skip(depth: 1)
        return
      }
      try p.members(depth: 2) { (p, key) throws(JSONError) in
        guard key == "entries" else {
          try p.skip(depth: 2)
          return
        }
        if sawEntries { shaped = false }
        sawEntries = true
        guard try p.open(UInt8(ascii: "["), depth: 3) else {
          shaped = false
          try p.skip(depth: 2)
          return
        }
        try p.elements(element)
      }
    }
    p.skipSpace()
    if p.i != bytes.count { throw JSONError(offset: p.i, reason: "trailing data") }
    return shaped && sawEntries
  }

  /// Steps into a container opening with `bracket` at nesting `depth`;
  /// false (nothing consumed but white space) when the value is something else.
  private mutating func open(_ bracket: UInt8, depth: Int) throws(JSONError) -> Bool {
    skipSpace()
    guard i < bytes.count, bytes[i] == bracket else { return false }
    if depth > maxDepth { throw JSONError(offset: i, reason: "nesting too deep") }
    i += 1
    return true
  }

  /// A HAR entry's fields (``HAREntry``) read from its bytes, which are
  /// validated as ``parse(_:maxDepth:)`` validates them (the same bytes fail
  /// both ways): the fields are those ``HAREntry/init(_:)`` takes from the
  /// parsed entry. Only the objects and lists on the way to a field are
  /// walked; every other value is parsed as a whole parse would parse it,
  /// and dropped, so an entry is never held as a tree.
  package static func harEntry(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = 10_000) throws(JSONError)
    -> HAREntry
  {
    var p = JSONParser(bytes, maxDepth: maxDepth)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p.i = 3 }
    var e = HAREntry()
    if try p.enter(UInt8(ascii: "{"), enclosing: 0) {
      // A member written twice: the last one read gives the field.
      try p.members(depth: 1) { (p, key) throws(JSONError) in
        switch key {
        case "request": try p.harRequest(into: &e)
        case "response": try p.harResponse(into: &e)
        case "startedDateTime": e.started = CaptureReader.time(try p.value(enclosing: 1))
        case "time": e.elapsed = CaptureReader.milliseconds(try p.value(enclosing: 1))
        default: try p.skip(depth: 1)
        }
      }
    } else {
      try p.skip(depth: 0)
    }
    p.skipSpace()
    if p.i != bytes.count { throw JSONError(offset: p.i, reason: "trailing data") }
    return e
  }

  /// An entry's `request`: its `url` and `postData.text`.
  private mutating func harRequest(into e: inout HAREntry) throws(JSONError) {
    e.url = nil
    e.requestText = nil
    guard try enter(UInt8(ascii: "{"), enclosing: 1) else { return try skip(depth: 1) }
    try members(depth: 2) { (p, key) throws(JSONError) in
      switch key {
      case "url": e.url = try p.value(enclosing: 2).string
      case "postData":
        e.requestText = nil
        guard try p.enter(UInt8(ascii: "{"), enclosing: 2) else { return try p.skip(depth: 2) }
        try p.members(depth: 3) { (p, key) throws(JSONError) in
          if key == "text" { e.requestText = try p.value(enclosing: 3).string } else { try p.skip(depth: 3) }
        }
      default: try p.skip(depth: 2)
      }
    }
  }

  /// An entry's `response`: its `status`, `headers` and `content`.
  private mutating func harResponse(into e: inout HAREntry) throws(JSONError) {
    e.status = nil
    e.headers = []
    e.text = nil
    e.encoding = nil
    e.mimeType = nil
    guard try enter(UInt8(ascii: "{"), enclosing: 1) else { return try skip(depth: 1) }
    try members(depth: 2) { (p, key) throws(JSONError) in
      switch key {
      case "status": e.status = try p.value(enclosing: 2).int64
      case "headers": e.headers = try p.harHeaders()
      case "content":
        e.text = nil
        e.encoding = nil
        e.mimeType = nil
        guard try p.enter(UInt8(ascii: "{"), enclosing: 2) else { return try p.skip(depth: 2) }
        try p.members(depth: 3) { (p, key) throws(JSONError) in
          switch key {
          case "text": e.text = try p.value(enclosing: 3).string
          case "encoding": e.encoding = try p.value(enclosing: 3).string
          case "mimeType": e.mimeType = try p.value(enclosing: 3).string
          default: try p.skip(depth: 3)
          }
        }
      default: try p.skip(depth: 2)
      }
    }
  }

  /// A response's `headers` as ``CaptureReader/headerPairs(_:)`` reads
  /// them: a list of `{name, value}` objects, or an object of names to a
  /// value (or to a list, whose first value is taken).
  private mutating func harHeaders() throws(JSONError) -> [(String, String)] {
    var pairs: [(String, String)] = []
    if try enter(UInt8(ascii: "["), enclosing: 2) {
      pairs.reserveCapacity(8)
      try elements { (p) throws(JSONError) in
        guard try p.enter(UInt8(ascii: "{"), enclosing: 3) else { return try p.skip(depth: 3) }
        var name: String?
        var value: String?
        try p.members(depth: 4) { (p, key) throws(JSONError) in
          switch key {
          case "name": name = try p.value(enclosing: 4).string
          case "value": value = try p.value(enclosing: 4).string
          default: try p.skip(depth: 4)
          }
        }
        if let name, let value { pairs.append((name, value)) }
      }
    } else if try enter(UInt8(ascii: "{"), enclosing: 2) {
      try members(depth: 3) { (p, key) throws(JSONError) in
        let v = try p.value(enclosing: 3)
        if let pair = v.string.map({ (key, $0) }) ?? v.array?.first?.string.map({ (key, $0) }) { pairs.append(pair) }
      }
    } else {
      try skip(depth: 2)
    }
    return pairs
  }

  /// Steps into an object or a list (opening with `bracket`) as
  /// ``parseValue()`` would with `enclosing` containers open around it: one
  /// that is not empty fails past the depth limit. False (nothing consumed
  /// but white space) when the value is something else; ``members(depth:_:)``
  /// or ``elements(_:)`` then reads what it holds.
  private mutating func enter(_ bracket: UInt8, enclosing: Int) throws(JSONError) -> Bool {
    skipSpace()
    guard i < bytes.count, bytes[i] == bracket else { return false }
    i += 1
    skipSpace()
    // `}` and `]` follow `{` and `[` two code points on.
    if i < bytes.count, bytes[i] == bracket &+ 2 { return true }
    if enclosing >= maxDepth { throw JSONError(offset: i, reason: "nesting too deep") }
    return true
  }

  /// Parses one value with `enclosing` containers open around it (the depth limit counts them).
  private mutating func value(enclosing: Int) throws(JSONError) -> JSONValue {
    let budget = maxDepth
    maxDepth = budget - enclosing
    defer { maxDepth = budget }
    return try parseValue()
  }

  /// Parses and drops one value inside a container at nesting `depth`.
  private mutating func skip(depth: Int) throws(JSONError) {
    let budget = maxDepth
    maxDepth = budget - depth
    defer { maxDepth = budget }
    _ = try parseValue()
  }

  /// The members of an object whose `{` was just read: `each` gets the key
  /// and must read the value.
  private mutating func members(
    depth: Int, _ each: (inout JSONParser, String) throws(JSONError) -> Void
  ) throws(JSONError) {
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
      i += 1
      return
    }
    while true {
      let key = try parseKey()
      try each(&self, key)
      skipSpace()
      guard i < bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      guard bytes[i] == UInt8(ascii: "}") else { throw JSONError(offset: i, reason: "expected ',' or '}'") }
      i += 1
      return
    }
  }

  /// The elements of an array whose `[` was just read: `each` must read one value.
  private mutating func elements(_ each: (inout JSONParser) throws(JSONError) -> Void) throws(JSONError) {
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return
    }
    while true {
      try each(&self)
      skipSpace()
      guard i < bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
        continue
      }
      guard bytes[i] == UInt8(ascii: "]") else { throw JSONError(offset: i, reason: "expected ',' or ']'") }
      i += 1
      return
    }
  }

  package static func parse(_ bytes: [UInt8], maxDepth: Int = 10_000) throws(JSONError) -> JSONValue {
    try bytes.withUnsafeBufferPointer { (b) throws(JSONError) in try parse(b, maxDepth: maxDepth) }
  }

  package static func parse(_ text: String) throws(JSONError) -> JSONValue {
    var text = text
    return try text.withUTF8 { b in Result { () throws(JSONError) in try parse(b) } }.get()
  }

  /// An open array or object. Its pending elements (and, for an object, keys)
  /// sit at the end of the parser's shared `values` and `keys` stacks from
  /// these indices on; they become one array when the container closes.
  private struct Frame {
    var isObject: Bool
    var values: Int
    var keys: Int
  }

  private mutating func skipSpace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09, 0x0A, 0x0D: i += 1
      default: return
      }
    }
  }

  /// Linear in the input: a value is appended once to the shared stack, and
  /// moved once into its container's array when the container closes. (A
  /// container's elements are never kept in an enum payload while it grows:
  /// appending to such a copy copies the whole array.)
  private mutating func parseValue() throws(JSONError) -> JSONValue {
    var stack: [Frame] = []
    var values: [JSONValue] = []
    var keys: [String] = []
    // The stacks are made when the first container opens: a string or a
    // number (a field read on its own) takes no allocation.
    func reserve() {
      guard stack.capacity == 0 else { return }
      stack.reserveCapacity(8)
      values.reserveCapacity(32)
      keys.reserveCapacity(32)
    }
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
          reserve()
          stack.append(Frame(isObject: true, values: values.count, keys: keys.count))
          keys.append(key)
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
          reserve()
          stack.append(Frame(isObject: false, values: values.count, keys: keys.count))
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
        guard let top = stack.last else { return value }
        values.append(value)
        skipSpace()
        guard i < bytes.count else { throw JSONError(offset: i, reason: "unexpected end") }
        let c = bytes[i]
        i += 1
        if top.isObject {
          if c == UInt8(ascii: ",") {
            keys.append(try parseKey())
          } else if c == UInt8(ascii: "}") {
            value = .object(Self.popMembers(&keys, from: top.keys, &values, from: top.values))
            stack.removeLast()
            continue
          } else {
            throw JSONError(offset: i - 1, reason: "expected ',' or '}'")
          }
        } else {
          if c == UInt8(ascii: ",") {
            // The next element follows.
          } else if c == UInt8(ascii: "]") {
            value = .array(Self.popElements(&values, from: top.values))
            stack.removeLast()
            continue
          } else {
            throw JSONError(offset: i - 1, reason: "expected ',' or ']'")
          }
        }
        break
      }
    }
  }

  /// The values from `start` on, moved into a new array (no retain or
  /// release each); the stack ends at `start`. Needs at least one value.
  private static func popElements(_ values: inout [JSONValue], from start: Int) -> [JSONValue] {
    let count = values.count - start
    let elements = values.withUnsafeMutableBufferPointer { v in
      [JSONValue](unsafeUninitializedCapacity: count) { buffer, initialized in
        guard let base = v.baseAddress, let out = buffer.baseAddress else {
          initialized = 0
          return
        }
        let source = base + start
        out.moveInitialize(from: source, count: count)
        source.initialize(repeating: .null, count: count)  // the moved-from slots, to be dropped
        initialized = count
      }
    }
    values.removeSubrange(start...)
    return elements
  }

  /// The keys and values from `keyStart` and `start` on, moved into members
  /// pairwise; both stacks end there. Needs at least one member.
  private static func popMembers(
    _ keys: inout [String], from keyStart: Int, _ values: inout [JSONValue], from start: Int
  ) -> [(String, JSONValue)] {
    let count = values.count - start
    let members = keys.withUnsafeMutableBufferPointer { k in
      values.withUnsafeMutableBufferPointer { v in
        [(String, JSONValue)](unsafeUninitializedCapacity: count) { buffer, initialized in
          guard let kb = k.baseAddress, let vb = v.baseAddress, let out = buffer.baseAddress else {
            initialized = 0
            return
          }
          let keySource = kb + keyStart
          let valueSource = vb + start
          for n in 0..<count {
            (out + n).initialize(to: ((keySource + n).move(), (valueSource + n).move()))
          }
          keySource.initialize(repeating: "", count: count)
          valueSource.initialize(repeating: .null, count: count)
          initialized = count
        }
      }
    }
    keys.removeSubrange(keyStart...)
    values.removeSubrange(start...)
    return members
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
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
  }

  private mutating func parseString() throws(JSONError) -> String {
    let start = i
    i += 1
    // Most strings hold no escape: scan to the first quote, backslash or
    // control character, noting whether any byte is beyond ASCII; eight
    // bytes at a time (as ``skimString(_:_:)`` does), then byte by byte.
    var high: UInt8 = 0
    let from = i
    if let base = bytes.baseAddress {
      // The lowest set bit of each marks the first byte that is zero, or
      // below 0x20 (bits above it may be set by the borrow).
      func zeroBytes(_ v: UInt64) -> UInt64 { (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 }
      func controlBytes(_ v: UInt64) -> UInt64 { (v &- 0x2020_2020_2020_2020) & ~v & 0x8080_8080_8080_8080 }
      var words: UInt64 = 0
      while i + 8 <= bytes.count {
        let x = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
        if zeroBytes(x ^ 0x2222_2222_2222_2222) | zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C) | controlBytes(x) != 0 { break }
        words |= x
        i += 8
      }
      if words & 0x8080_8080_8080_8080 != 0 { high = 0x80 }
    }
    while i < bytes.count {
      let c = bytes[i]
      if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
      high |= c
      i += 1
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
      let raw = UnsafeBufferPointer(rebasing: bytes[from..<i])
      i += 1
      let s = high < 0x80 ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
      guard let s else { throw JSONError(offset: start, reason: "invalid UTF-8 in string") }
      return s
    }
    // An escape, a control character or the end: byte by byte from here,
    // decoding into the parser's scratch buffer (reused from string to string).
    scratch.removeAll(keepingCapacity: true)
    var segment = from
    // Escapes decode to whole scalars, so the text is valid UTF-8 when the raw bytes are.
    var rawHigh = high >= 0x80
    while i < bytes.count {
      let c = bytes[i]
      if c == UInt8(ascii: "\"") {
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segment..<i]))
        i += 1
        guard let s = rawHigh ? String(validating: scratch, as: UTF8.self) : String(decoding: scratch, as: UTF8.self)
        else {
          throw JSONError(offset: start, reason: "invalid UTF-8 in string")
        }
        return s
      }
      if c < 0x20 { throw JSONError(offset: i, reason: "control character in string") }
      if c == UInt8(ascii: "\\") {
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segment..<i]))
        i += 1
        guard i < bytes.count else { break }
        let e = bytes[i]
        i += 1
        switch e {
        case _ where simpleEscape(e) != nil: scratch.append(simpleEscape(e) ?? 0)
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
          UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { scratch.append($0) }
        default:
          throw JSONError(offset: i - 1, reason: "bad escape")
        }
        segment = i
        continue
      }
      if c >= 0x80 { rawHigh = true }
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
