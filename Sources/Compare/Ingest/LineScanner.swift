import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A string value found in a line: its bytes between the quotes.
struct Span: Equatable {
  var start: Int
  var end: Int
  /// The raw bytes hold a backslash escape and need decoding.
  var escaped: Bool
}

/// The usage counts found in one `usage` object; nil where absent or null.
struct ScannedUsage: Equatable {
  var input: Int64?
  var output: Int64?
  var cacheCreation: Int64?
  var cacheRead: Int64?
  var write5m: Int64?
  var write1h: Int64?
  var webSearch: Int64?
  /// `server_tool_use.web_fetch_requests` and `.code_execution_requests`:
  /// read only to flag requests that used server tools.
  var webFetch: Int64?
  var codeExecution: Int64?
  var serviceTier: Span?
  var inferenceGeo: Span?
  var speed: Span?

  /// The most iterations kept from one usage object; more is a problem.
  static let maxIterations = 64

  mutating func edit(_ body: (inout ScannedUsage) -> Void) { body(&self) }
}

/// One element of `usage.iterations`: its counts, and the model and type
/// that only iterations carry (kept out of ``ScannedUsage``, which every
/// record holds twice and copies often).
struct ScannedIteration: Equatable {
  var usage = ScannedUsage()
  var model: Span?
  var type: Span?
}

/// The fields tokengap keeps from one record (a line, or a progress line's
/// embedded message), found by path; everything else is skipped unread.
struct ScannedFields: Equatable {
  var type: Span?
  var timestamp: Span?
  var sessionID: Span?
  var requestID: Span?
  var agentID: Span?
  var cwd: Span?
  var isSidechain: Bool?
  var isAPIError: Bool?
  var messageID: Span?
  var model: Span?
  /// `stop_reason` was present and not null.
  var stopReason = false
  /// `costUSD` (Claude Code 1.0.x): the number's text, when it is a number.
  var loggedCost: Span?
  var usage: ScannedUsage?
  /// The first field whose value had the wrong type or range.
  var problem: String?

  /// `usage.iterations`: one entry per sampling step (compaction, advisor,
  /// fallback), each with its own counts; at most
  /// ``ScannedUsage/maxIterations``. Kept here, not in ``ScannedUsage``, so
  /// that the usage stays plain data, copied without reference counting.
  var iterations: [ScannedIteration]?

  /// Edits the last iteration's counts, when there is one.
  mutating func editIteration(_ body: (inout ScannedUsage) -> Void) {
    guard let n = iterations?.count, n > 0 else { return }
    iterations?[n - 1].usage.edit(body)
  }

  /// Edits the last iteration's model and type, when there is one.
  mutating func editIterationText(_ body: (inout ScannedIteration) -> Void) {
    guard let n = iterations?.count, n > 0, var last = iterations?[n - 1] else { return }
    body(&last)
    iterations?[n - 1] = last
  }

  mutating func note(_ text: String) {
    if problem == nil { problem = text }
  }
}

/// One JSON object of a line: the outer record and, for `progress` lines,
/// the message embedded at `data.message`.
struct ScannedRecord: Equatable {
  var outer = ScannedFields()
  var inner = ScannedFields()
  var hasInner = false
}

/// A line that is not valid JSON, and where.
struct ScanFailure: Error, Equatable {
  var offset: Int
  /// Why, as one of the scanner's literals: a failure holds no reference,
  /// so every step of the scan is plain data, copied without counting.
  var why: StaticString

  init(offset: Int, reason: StaticString) {
    self.offset = offset
    why = reason
  }

  var reason: String { why.description }

  static func == (a: ScanFailure, b: ScanFailure) -> Bool { a.offset == b.offset && a.reason == b.reason }
}

/// The keys the scanner acts on; every other key's value is skipped.
private enum Key: UInt8 {
  case other, type, timestamp, sessionId, isSidechain, isApiErrorMessage, requestId, agentId
  case cwd, message, data, usage, id, model, stopReason, inputTokens, outputTokens
  case cacheCreationInputTokens, cacheReadInputTokens, cacheCreation, ephemeral5m, ephemeral1h
  case serverToolUse, webSearchRequests, serviceTier, inferenceGeo, speed, iterations
  case webFetchRequests, codeExecutionRequests, costUSD

  /// The one list of the keys' spellings.
  static let names: [(StaticString, Key)] = [
    ("type", .type), ("timestamp", .timestamp), ("sessionId", .sessionId),
    ("isSidechain", .isSidechain), ("isApiErrorMessage", .isApiErrorMessage),
    ("requestId", .requestId), ("agentId", .agentId), ("cwd", .cwd), ("message", .message),
    ("data", .data), ("usage", .usage), ("id", .id), ("model", .model),
    ("stop_reason", .stopReason), ("input_tokens", .inputTokens),
    ("output_tokens", .outputTokens), ("cache_creation_input_tokens", .cacheCreationInputTokens),
    ("cache_read_input_tokens", .cacheReadInputTokens), ("cache_creation", .cacheCreation),
    ("ephemeral_5m_input_tokens", .ephemeral5m), ("ephemeral_1h_input_tokens", .ephemeral1h),
    ("server_tool_use", .serverToolUse), ("web_search_requests", .webSearchRequests),
    ("service_tier", .serviceTier), ("inference_geo", .inferenceGeo), ("speed", .speed),
    ("iterations", .iterations), ("web_fetch_requests", .webFetchRequests),
    ("code_execution_requests", .codeExecutionRequests), ("costUSD", .costUSD),
  ]

  /// The names as zero-padded little-endian words, grouped by length: a key
  /// is told apart by its length, then by at most four word compares, with
  /// no call, no lock and no reference count per lookup. Built once and
  /// never freed; each scanner keeps the pointers.
  struct Table: @unchecked Sendable {
    struct Entry {
      var words: (UInt64, UInt64, UInt64, UInt64)
      var key: Key
    }
    // Written once, in `shared`, and only read after.
    /// The entries, ordered by name length.
    let entries: UnsafePointer<Entry>
    /// Names of length n are `entries[bounds[n]..<bounds[n + 1]]`.
    let bounds: UnsafePointer<Int>
    static let longest = 31

    static let shared: Table = {
      let sorted = names.sorted { $0.0.utf8CodeUnitCount < $1.0.utf8CodeUnitCount }
      let entries = UnsafeMutablePointer<Entry>.allocate(capacity: sorted.count)
      let bounds = UnsafeMutablePointer<Int>.allocate(capacity: longest + 2)
      bounds.initialize(repeating: 0, count: longest + 2)
      for (k, (name, key)) in sorted.enumerated() {
        var w: [UInt64] = [0, 0, 0, 0]
        let n = name.utf8CodeUnitCount
        // Only the scanner's own literal names come here; one too long for
        // the table would be left out, and the everyKey test, which reads
        // every name back through this table, would fail.
        guard n <= longest else { continue }
        for j in 0..<n { w[j / 8] |= UInt64(name.utf8Start[j]) << UInt64(8 * (j % 8)) }
        (entries + k).initialize(to: Entry(words: (w[0], w[1], w[2], w[3]), key: key))
        bounds[n + 1] = k + 1
      }
      // Lengths without names start where the shorter ones end.
      for n in 1...(longest + 1) { bounds[n] = max(bounds[n], bounds[n - 1]) }
      return Table(entries: UnsafePointer(entries), bounds: UnsafePointer(bounds))
    }()
  }
}

/// Where in a record the scanner is.
private enum Context {
  case root, data, innerRecord
  case message(inner: Bool)
  case usage(inner: Bool)
  case cacheCreation(inner: Bool)
  case serverToolUse(inner: Bool)
  /// One element of `usage.iterations`.
  case iteration(inner: Bool)
  case iterationCacheCreation(inner: Bool)
}

/// Scans JSON bytes for the fields tokengap needs, without building a tree.
///
/// Strings are skipped with `memchr` to the next quote (checking backslash
/// parity); irrelevant values are skipped with a bracket stack on the heap, so
/// nesting depth costs memory, never stack. Only the objects on the paths
/// tokengap reads are descended into, and those are at most seven deep
/// (`data.message.usage.iterations[].cache_creation`).
struct LineScanner {
  private var brackets: [UInt8] = []
  private var b: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
  private var end = 0
  private let keys = Key.Table.shared

  init() {}

  /// Scans the JSON values in `bytes[range]`: one object, several glued
  /// together, or an array of objects. Calls `body` for each object.
  mutating func scan(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
    _ body: (ScannedRecord) -> Void
  ) -> ScanFailure? {
    var records: [ScannedRecord] = []
    let failure = scan(bytes, range, into: &records)
    for record in records { body(record) }
    return failure
  }

  /// Scans like ``scan(_:_:_:)``, appending each complete object's record to
  /// `records`, filled in place (a record is large: it is never copied).
  mutating func scan(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into records: inout [ScannedRecord]
  ) -> ScanFailure? {
    b = bytes
    end = range.upperBound
    var i = skipSpace(range.lowerBound)
    if i < end, b[i] == UInt8(ascii: "[") {
      // An array of objects: each element is a record.
      i = skipSpace(i + 1)
      if i < end, b[i] == UInt8(ascii: "]") { return trailing(i + 1) }
      while true {
        guard i < end else { return ScanFailure(offset: i, reason: "unterminated array") }
        guard b[i] == UInt8(ascii: "{") else {
          return ScanFailure(offset: i, reason: "array element is not an object")
        }
        records.append(ScannedRecord())
        switch scanObject(i, .root, &records[records.count - 1]) {
        case .failure(let f):
          records.removeLast()
          return f
        case .success(let next):
          i = skipSpace(next)
        }
        guard i < end else { return ScanFailure(offset: i, reason: "unterminated array") }
        if b[i] == UInt8(ascii: ",") {
          i = skipSpace(i + 1)
          continue
        }
        guard b[i] == UInt8(ascii: "]") else {
          return ScanFailure(offset: i, reason: "expected ',' or ']'")
        }
        return trailing(i + 1)
      }
    }
    guard i < end else { return ScanFailure(offset: i, reason: "empty") }
    while i < end {
      guard b[i] == UInt8(ascii: "{") else {
        return ScanFailure(
          offset: i,
          reason: i == range.lowerBound || i == skipSpace(range.lowerBound)
            ? "not a JSON object" : "unexpected data after the object")
      }
      records.append(ScannedRecord())
      switch scanObject(i, .root, &records[records.count - 1]) {
      case .failure(let f):
        records.removeLast()
        return f
      case .success(let next):
        i = skipSpace(next)
      }
    }
    return nil
  }

  /// Scans a line that is one object alone (white space around it) into
  /// `record` in place: true. False for anything else (an array, objects
  /// glued together, a failure): ``scan(_:_:into:)`` then reads the line
  /// again, and `record` is to be ignored.
  mutating func scanSingle(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into record: inout ScannedRecord
  ) -> Bool {
    b = bytes
    end = range.upperBound
    let i = skipSpace(range.lowerBound)
    guard i < end, b[i] == UInt8(ascii: "{"), case .success(let next) = scanObject(i, .root, &record) else {
      return false
    }
    return skipSpace(next) == end
  }

  private func trailing(_ i: Int) -> ScanFailure? {
    let j = skipSpace(i)
    return j < end ? ScanFailure(offset: j, reason: "unexpected data after the array") : nil
  }

  @inline(__always) private func skipSpace(_ start: Int) -> Int {
    var i = start
    while i < end {
      let c = b[i]
      // Above 0x20 nothing is space: one compare for nearly every byte.
      if c <= 0x20, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
    }
    return i
  }

  /// Finds the closing quote of a string starting at `open`; returns the
  /// index after it and, when `noteEscapes`, whether the string holds a
  /// backslash escape (a skipped string is not searched for one).
  ///
  /// Short strings (most keys and values) are walked byte by byte, escapes
  /// skipped in pairs; past 32 bytes `memchr` jumps to each quote and the
  /// backslashes before it are counted (an odd number escapes it).
  @inline(__always) private func stringEnd(_ open: Int, noteEscapes: Bool = true) -> (Int, Bool)? {
    guard let base = b.baseAddress else { return nil }
    var i = open + 1
    var escaped = false
    let short = min(end, i + 32)
    // Eight bytes at a time: the first quote or backslash among them is the
    // lowest byte whose xor with that character is zero (the borrow of the
    // zero-byte test runs upward only, so the lowest flag is exact).
    while i + 8 <= short {
      let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
      let q = w ^ 0x2222_2222_2222_2222
      let s = w ^ 0x5C5C_5C5C_5C5C_5C5C
      let hit =
        ((q &- 0x0101_0101_0101_0101) & ~q | (s &- 0x0101_0101_0101_0101) & ~s) & 0x8080_8080_8080_8080
      if hit == 0 {
        i += 8
        continue
      }
      i += hit.trailingZeroBitCount >> 3
      if base[i] == UInt8(ascii: "\"") { return (i + 1, escaped) }
      escaped = true
      i += 2
    }
    while i < short {
      let c = base[i]
      if c == UInt8(ascii: "\"") { return (i + 1, escaped) }
      if c == UInt8(ascii: "\\") {
        escaped = true
        i += 2
      } else {
        i += 1
      }
    }
    let from = i
    while i < end {
      guard let p = memchr(base + i, Int32(UInt8(ascii: "\"")), end - i) else { return nil }
      let q = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
      var k = q - 1
      var slashes = 0
      while k > open, base[k] == UInt8(ascii: "\\") {
        slashes += 1
        k -= 1
      }
      if slashes > 0 { escaped = true }
      if slashes % 2 == 0 {
        // Whether a backslash hides between the quotes (not before one).
        guard noteEscapes, !escaped, q > from else { return (q + 1, escaped) }
        return (q + 1, memchr(base + from, Int32(UInt8(ascii: "\\")), q - from) != nil)
      }
      i = q + 1
    }
    return nil
  }

  /// Skips a string starting at `open`; the index after it.
  @inline(__always) private func skipString(_ open: Int) -> Int? {
    stringEnd(open, noteEscapes: false)?.0
  }

  private enum Step {
    case success(Int)
    case failure(ScanFailure)
  }

  /// ``skipValue(_:)``, with the most common value skipped, a string, taken
  /// without setting up its bracket state.
  @inline(__always) private mutating func skip(_ i: Int) -> Step {
    guard i < end, b[i] == UInt8(ascii: "\"") else { return skipValue(i) }
    guard let next = skipString(i) else { return .failure(ScanFailure(offset: i, reason: "unterminated string")) }
    return .success(next)
  }

  /// Skips any JSON value starting at `i`, validating its structure (brackets,
  /// commas, colons, keys, numbers, literals) without recursion. String
  /// contents are skipped and not validated.
  ///
  /// The open brackets are a stack of bits (set: object) in one word for the
  /// first 64 levels, and on the heap past that, so any depth costs memory,
  /// never stack, and the common shallow value touches no array.
  private mutating func skipValue(_ start: Int) -> Step {
    guard let base = b.baseAddress else { return .failure(ScanFailure(offset: start, reason: "missing value")) }
    var i = start
    var depth = 0
    var bits: UInt64 = 0
    // Past 64 levels the stack lives here; a failed skip may leave some.
    if !brackets.isEmpty { brackets.removeAll(keepingCapacity: true) }
    @inline(__always) func topIsObject() -> Bool {
      depth > 64 ? brackets.last == UInt8(ascii: "{") : bits & (1 << UInt64(depth - 1)) != 0
    }
    @inline(__always) func push(_ object: Bool) {
      if depth < 64 {
        if object { bits |= 1 << UInt64(depth) } else { bits &= ~(1 << UInt64(depth)) }
      } else {
        brackets.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
      }
      depth += 1
    }
    @inline(__always) func pop() {
      depth -= 1
      if depth >= 64 { brackets.removeLast() }
    }
    // The states: a value is wanted (after `[`, `:` or `,` in an array), a
    // key (after `{` or `,` in an object), or a `,` or closing bracket.
    var wantValue = true
    var allowClose = false
    while true {
      while i < end, base[i] <= 0x20, base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09 {
        i += 1
      }
      guard i < end else {
        let reason: StaticString =
          depth == 0 ? "missing value" : (topIsObject() ? "unterminated object" : "unterminated array")
        return .failure(ScanFailure(offset: start, reason: reason))
      }
      let c = base[i]
      if wantValue {
        if c == UInt8(ascii: "\"") {
          guard let next = skipString(i) else {
            return .failure(ScanFailure(offset: i, reason: "unterminated string"))
          }
          i = next
        } else if c == UInt8(ascii: "{") {
          push(true)
          i += 1
          // A key or `}`.
          while i < end, base[i] <= 0x20, base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09 {
            i += 1
          }
          if i < end, base[i] == UInt8(ascii: "}") {
            pop()
            i += 1
          } else {
            guard let next = key(at: i) else { return keyFailure(i, start) }
            i = next
            continue
          }
        } else if c == UInt8(ascii: "[") {
          push(false)
          i += 1
          allowClose = true
          continue
        } else if c == UInt8(ascii: "]"), allowClose {
          pop()
          i += 1
        } else {
          var k = i
          while k < end {
            let d = base[k]
            if d == UInt8(ascii: ",") || d == UInt8(ascii: "}") || d == UInt8(ascii: "]")
              || d == 0x20 || d == 0x0A || d == 0x0D || d == 0x09
            {
              break
            }
            k += 1
          }
          guard k > i, literalOrNumber(i, k) else {
            return .failure(ScanFailure(offset: i, reason: "invalid value"))
          }
          i = k
        }
        // A value is complete.
        allowClose = false
        if depth == 0 { return .success(i) }
        wantValue = false
        continue
      }
      // A `,` or the closing bracket of the innermost open value.
      let object = topIsObject()
      if c == UInt8(ascii: ",") {
        i += 1
        if object {
          while i < end, base[i] <= 0x20, base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09 {
            i += 1
          }
          guard let next = key(at: i) else { return keyFailure(i, start) }
          i = next
        }
        wantValue = true
      } else if c == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
        pop()
        i += 1
        if depth == 0 { return .success(i) }
      } else {
        return .failure(ScanFailure(offset: i, reason: object ? "expected ',' or '}'" : "expected ',' or ']'"))
      }
    }
  }

  /// Skips a key and its colon starting at `i`; the index after the colon,
  /// or nil when either is missing.
  @inline(__always) private func key(at i: Int) -> Int? {
    guard i < end, b[i] == UInt8(ascii: "\""), var k = skipString(i) else { return nil }
    while k < end, b[k] <= 0x20, b[k] == 0x20 || b[k] == 0x0A || b[k] == 0x0D || b[k] == 0x09 { k += 1 }
    guard k < end, b[k] == UInt8(ascii: ":") else { return nil }
    return k + 1
  }

  /// Why ``key(at:)`` failed at `i`, worded as the scanner always has.
  private func keyFailure(_ i: Int, _ start: Int) -> Step {
    guard i < end else { return .failure(ScanFailure(offset: start, reason: "unterminated object")) }
    guard b[i] == UInt8(ascii: "\"") else { return .failure(ScanFailure(offset: i, reason: "expected a key")) }
    guard var k = skipString(i) else { return .failure(ScanFailure(offset: i, reason: "unterminated string")) }
    while k < end, b[k] <= 0x20, b[k] == 0x20 || b[k] == 0x0A || b[k] == 0x0D || b[k] == 0x09 { k += 1 }
    return .failure(
      k < end
        ? ScanFailure(offset: k, reason: "expected ':'") : ScanFailure(offset: start, reason: "unterminated object"))
  }

  /// A JSON literal or a number by the JSON grammar.
  private func literalOrNumber(_ s: Int, _ e: Int) -> Bool {
    let n = e - s
    let c = b[s]
    if c == UInt8(ascii: "t") { return n == 4 && b[s + 1] == 0x72 && b[s + 2] == 0x75 && b[s + 3] == 0x65 }
    if c == UInt8(ascii: "f") {
      return n == 5 && b[s + 1] == 0x61 && b[s + 2] == 0x6C && b[s + 3] == 0x73 && b[s + 4] == 0x65
    }
    if c == UInt8(ascii: "n") { return n == 4 && b[s + 1] == 0x75 && b[s + 2] == 0x6C && b[s + 3] == 0x6C }
    // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    var i = s
    if b[i] == UInt8(ascii: "-") { i += 1 }
    guard i < e, isDigit(b[i]) else { return false }
    if b[i] == UInt8(ascii: "0") { i += 1 } else { while i < e, isDigit(b[i]) { i += 1 } }
    if i < e, b[i] == UInt8(ascii: ".") {
      i += 1
      guard i < e, isDigit(b[i]) else { return false }
      while i < e, isDigit(b[i]) { i += 1 }
    }
    if i < e, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      i += 1
      if i < e, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      guard i < e, isDigit(b[i]) else { return false }
      while i < e, isDigit(b[i]) { i += 1 }
    }
    return i == e
  }

  private func key(_ s: Int, _ e: Int, escaped: Bool) -> Key {
    let n = e - s
    guard !escaped else {
      guard let decoded = decode(Span(start: s, end: e, escaped: true)) else { return .other }
      return Key.names.first { $0.0.description == decoded }?.1 ?? .other
    }
    guard n > 0, n <= Key.Table.longest, let base = b.baseAddress else { return .other }
    let from = keys.bounds[n]
    let to = keys.bounds[n + 1]
    guard from < to else { return .other }
    // The key's bytes as words, zero past its end (as the table's are).
    var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    if s + 32 <= b.count {
      let raw = UnsafeRawPointer(base + s)
      @inline(__always) func word(_ j: Int) -> UInt64 {
        let valid = n - 8 * j
        guard valid > 0 else { return 0 }
        let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * j, as: UInt64.self))
        return valid >= 8 ? v : v & ((1 << UInt64(8 * valid)) - 1)
      }
      w = (word(0), word(1), word(2), word(3))
    } else {
      withUnsafeMutableBytes(of: &w) { out in
        for j in 0..<n { out[j] = base[s + j] }
      }
      // The words were filled as bytes: make them little-endian values.
      w = (UInt64(littleEndian: w.0), UInt64(littleEndian: w.1), UInt64(littleEndian: w.2), UInt64(littleEndian: w.3))
    }
    for k in from..<to {
      let e = keys.entries[k].words
      if e.0 == w.0, e.1 == w.1, e.2 == w.2, e.3 == w.3 { return keys.entries[k].key }
    }
    return .other
  }

  /// Appends an unescaped ASCII span's bytes as a key part; false (nothing
  /// appended) when the span needs decoding or validating.
  func appendPart(_ span: Span, to out: inout [UInt8]) -> Bool {
    guard !span.escaped else { return false }
    for k in span.start..<span.end where b[k] >= 0x80 { return false }
    KeyEncoding.prefix(span.end - span.start, into: &out)
    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
    return true
  }

  /// Whether a string span's raw bytes equal the given bytes (no allocation).
  func equals(_ span: Span, _ bytes: [UInt8]) -> Bool {
    guard span.end - span.start == bytes.count else { return false }
    return bytes.withUnsafeBufferPointer { other in
      guard let a = b.baseAddress, let o = other.baseAddress else { return bytes.isEmpty }
      return memcmp(a + span.start, o, bytes.count) == 0
    }
  }

  /// Whether an unescaped span's bytes equal an ASCII lower-case name in any letter case.
  func equalsIgnoringCase(_ span: Span, _ lower: StaticString) -> Bool {
    let n = lower.utf8CodeUnitCount
    guard span.end - span.start == n else { return false }
    let name = lower.utf8Start
    for k in 0..<n {
      let c = b[span.start + k]
      // ASCII letters fold by setting 0x20; other bytes must match exactly.
      let folded = (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) ? c | 0x20 : c
      if folded != name[k] { return false }
    }
    return true
  }

  /// Parses a timestamp span in place.
  func instant(_ span: Span) -> Instant? {
    Instant.parse(bytes: UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
  }

  /// A span's raw bytes, valid while the scanned line is (no allocation).
  func raw(_ span: Span) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(rebasing: b[span.start..<span.end])
  }

  /// Whether a string span starts with the given bytes (no allocation).
  func hasPrefix(_ span: Span, _ prefix: [UInt8]) -> Bool {
    guard span.end - span.start >= prefix.count else { return false }
    for (k, c) in prefix.enumerated() where b[span.start + k] != c { return false }
    return true
  }

  /// Decodes a string span to a String; nil for invalid UTF-8 or escapes.
  func decode(_ span: Span) -> String? {
    let raw = UnsafeBufferPointer(rebasing: b[span.start..<span.end])
    if !span.escaped {
      return String(validating: raw, as: UTF8.self)
    }
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var i = span.start
    while i < span.end {
      let c = b[i]
      if c != UInt8(ascii: "\\") {
        out.append(c)
        i += 1
        continue
      }
      guard i + 1 < span.end else { return nil }
      let e = b[i + 1]
      i += 2
      switch e {
      case _ where simpleEscape(e) != nil: out.append(simpleEscape(e) ?? 0)
      case UInt8(ascii: "u"):
        guard var scalar = hex4(i, span.end) else { return nil }
        i += 4
        if (0xD800..<0xDC00).contains(scalar), i + 6 <= span.end, b[i] == 0x5C, b[i + 1] == 0x75,
          let low = hex4(i + 2, span.end), (0xDC00..<0xE000).contains(low)
        {
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        // A lone surrogate is not text: the field is malformed, never U+FFFD
        // (two ids differing only there would merge).
        guard let u = Unicode.Scalar(scalar) else { return nil }
        out.append(contentsOf: String(Character(u)).utf8)
      default:
        return nil
      }
    }
    return String(validating: out, as: UTF8.self)
  }

  private func hex4(_ i: Int, _ limit: Int) -> UInt32? {
    guard i + 4 <= limit else { return nil }
    var v: UInt32 = 0
    for k in i..<(i + 4) {
      guard let d = hexDigit(b[k]) else { return nil }
      v = v << 4 | d
    }
    return v
  }

  /// Scans an object in a context, filling `record`; returns the index after `}`.
  private mutating func scanObject(_ open: Int, _ ctx: Context, _ record: inout ScannedRecord)
    -> Step
  {
    var i = skipSpace(open + 1)
    guard i < end else { return .failure(ScanFailure(offset: open, reason: "unterminated object")) }
    if b[i] == UInt8(ascii: "}") { return .success(i + 1) }
    while true {
      guard i < end, b[i] == UInt8(ascii: "\"") else {
        return .failure(ScanFailure(offset: i, reason: i < end ? "expected a key" : "unterminated object"))
      }
      guard let (keyEnd, keyEscaped) = stringEnd(i) else {
        return .failure(ScanFailure(offset: i, reason: "unterminated string"))
      }
      let k = key(i + 1, keyEnd - 1, escaped: keyEscaped)
      i = skipSpace(keyEnd)
      guard i < end, b[i] == UInt8(ascii: ":") else {
        return .failure(ScanFailure(offset: i, reason: "expected ':'"))
      }
      i = skipSpace(i + 1)
      let step = value(i, k, ctx, &record)
      switch step {
      case .failure: return step
      case .success(let next): i = skipSpace(next)
      }
      guard i < end else { return .failure(ScanFailure(offset: open, reason: "unterminated object")) }
      if b[i] == UInt8(ascii: ",") {
        i = skipSpace(i + 1)
        continue
      }
      if b[i] == UInt8(ascii: "}") { return .success(i + 1) }
      return .failure(ScanFailure(offset: i, reason: "expected ',' or '}'"))
    }
  }

  /// What a key means in a context. (Plain enums, not key paths: key paths
  /// are instantiated at run time and cost more than the scan itself.)
  private enum Action {
    case skip
    case descend(Context)
    case string(TextField, inner: Bool)
    case flag(FlagField, inner: Bool)
    case stopReason(inner: Bool)
    case count(CountField, inner: Bool, iteration: Bool = false)
    case usageString(UsageTextField, inner: Bool)
    case iterations(inner: Bool)
    case iterationString(IterationTextField, inner: Bool)
    case loggedCost(inner: Bool)
  }

  private enum TextField { case type, timestamp, sessionID, requestID, agentID, cwd, messageID, model }
  private enum FlagField { case isSidechain, isAPIError }
  private enum UsageTextField { case serviceTier, inferenceGeo, speed }
  private enum IterationTextField { case model, type }
  fileprivate enum CountField {
    case input, output, cacheCreation, cacheRead, write5m, write1h, webSearch, webFetch, codeExecution

    var name: String {
      switch self {
      case .input: "input_tokens"
      case .output: "output_tokens"
      case .cacheCreation: "cache_creation_input_tokens"
      case .cacheRead: "cache_read_input_tokens"
      case .write5m: "ephemeral_5m_input_tokens"
      case .write1h: "ephemeral_1h_input_tokens"
      case .webSearch: "web_search_requests"
      case .webFetch: "web_fetch_requests"
      case .codeExecution: "code_execution_requests"
      }
    }
  }

  /// Edits the usage object when there is one.
  private static func withUsage(
    _ x: inout ScannedFields, _ iteration: Bool = false, _ body: (inout ScannedUsage) -> Void
  ) {
    // Optional chaining edits the stored value in place; unwrapping into a
    // local and writing it back would copy it twice per field.
    if iteration { x.editIteration(body) } else { x.usage?.edit(body) }
  }

  private static func isSet(_ f: TextField, _ x: ScannedFields) -> Bool {
    switch f {
    case .type: x.type != nil
    case .timestamp: x.timestamp != nil
    case .sessionID: x.sessionID != nil
    case .requestID: x.requestID != nil
    case .agentID: x.agentID != nil
    case .cwd: x.cwd != nil
    case .messageID: x.messageID != nil
    case .model: x.model != nil
    }
  }

  private static func isSet(_ f: CountField, _ u: borrowing ScannedUsage) -> Bool {
    switch f {
    case .input: u.input != nil
    case .output: u.output != nil
    case .cacheCreation: u.cacheCreation != nil
    case .cacheRead: u.cacheRead != nil
    case .write5m: u.write5m != nil
    case .write1h: u.write1h != nil
    case .webSearch: u.webSearch != nil
    case .webFetch: u.webFetch != nil
    case .codeExecution: u.codeExecution != nil
    }
  }

  private static func set(_ f: TextField, _ v: Span?, _ x: inout ScannedFields) {
    switch f {
    case .type: x.type = v
    case .timestamp: x.timestamp = v
    case .sessionID: x.sessionID = v
    case .requestID: x.requestID = v
    case .agentID: x.agentID = v
    case .cwd: x.cwd = v
    case .messageID: x.messageID = v
    case .model: x.model = v
    }
  }

  private static func set(_ f: FlagField, _ v: Bool?, _ x: inout ScannedFields) {
    switch f {
    case .isSidechain: x.isSidechain = v
    case .isAPIError: x.isAPIError = v
    }
  }

  private static func set(_ f: UsageTextField, _ v: Span?, _ u: inout ScannedUsage) {
    switch f {
    case .serviceTier: u.serviceTier = v
    case .inferenceGeo: u.inferenceGeo = v
    case .speed: u.speed = v
    }
  }

  private static func set(_ f: CountField, _ v: Int64?, _ u: inout ScannedUsage) {
    switch f {
    case .input: u.input = v
    case .output: u.output = v
    case .cacheCreation: u.cacheCreation = v
    case .cacheRead: u.cacheRead = v
    case .write5m: u.write5m = v
    case .write1h: u.write1h = v
    case .webSearch: u.webSearch = v
    case .webFetch: u.webFetch = v
    case .codeExecution: u.codeExecution = v
    }
  }

  private func action(_ k: Key, _ ctx: Context) -> Action {
    switch ctx {
    case .root, .innerRecord:
      let inner: Bool
      if case .innerRecord = ctx { inner = true } else { inner = false }
      switch k {
      case .type: return .string(.type, inner: inner)
      case .timestamp: return .string(.timestamp, inner: inner)
      case .sessionId: return .string(.sessionID, inner: inner)
      case .requestId: return .string(.requestID, inner: inner)
      case .agentId: return .string(.agentID, inner: inner)
      case .cwd: return .string(.cwd, inner: inner)
      case .isSidechain: return .flag(.isSidechain, inner: inner)
      case .isApiErrorMessage: return .flag(.isAPIError, inner: inner)
      case .message: return .descend(.message(inner: inner))
      case .usage: return .descend(.usage(inner: inner))
      case .id: return .string(.messageID, inner: inner)
      case .model: return .string(.model, inner: inner)
      case .stopReason: return .stopReason(inner: inner)
      case .costUSD: return .loggedCost(inner: inner)
      case .data where !inner: return .descend(.data)
      default: return .skip
      }
    case .data:
      return k == .message ? .descend(.innerRecord) : .skip
    case .message(let inner):
      switch k {
      case .id: return .string(.messageID, inner: inner)
      case .model: return .string(.model, inner: inner)
      case .stopReason: return .stopReason(inner: inner)
      case .usage: return .descend(.usage(inner: inner))
      default: return .skip
      }
    case .usage(let inner):
      switch k {
      case .inputTokens: return .count(.input, inner: inner)
      case .outputTokens: return .count(.output, inner: inner)
      case .cacheCreationInputTokens:
        return .count(.cacheCreation, inner: inner)
      case .cacheReadInputTokens:
        return .count(.cacheRead, inner: inner)
      case .cacheCreation: return .descend(.cacheCreation(inner: inner))
      case .serverToolUse: return .descend(.serverToolUse(inner: inner))
      case .serviceTier: return .usageString(.serviceTier, inner: inner)
      case .inferenceGeo: return .usageString(.inferenceGeo, inner: inner)
      case .speed: return .usageString(.speed, inner: inner)
      case .iterations: return .iterations(inner: inner)
      default: return .skip
      }
    case .iteration(let inner):
      switch k {
      case .inputTokens: return .count(.input, inner: inner, iteration: true)
      case .outputTokens: return .count(.output, inner: inner, iteration: true)
      case .cacheCreationInputTokens: return .count(.cacheCreation, inner: inner, iteration: true)
      case .cacheReadInputTokens: return .count(.cacheRead, inner: inner, iteration: true)
      case .cacheCreation: return .descend(.iterationCacheCreation(inner: inner))
      case .model: return .iterationString(.model, inner: inner)
      case .type: return .iterationString(.type, inner: inner)
      default: return .skip
      }
    case .iterationCacheCreation(let inner):
      switch k {
      case .ephemeral5m: return .count(.write5m, inner: inner, iteration: true)
      case .ephemeral1h: return .count(.write1h, inner: inner, iteration: true)
      default: return .skip
      }
    case .cacheCreation(let inner):
      switch k {
      case .ephemeral5m: return .count(.write5m, inner: inner)
      case .ephemeral1h: return .count(.write1h, inner: inner)
      default: return .skip
      }
    case .serverToolUse(let inner):
      switch k {
      case .webSearchRequests: return .count(.webSearch, inner: inner)
      case .webFetchRequests: return .count(.webFetch, inner: inner)
      case .codeExecutionRequests: return .count(.codeExecution, inner: inner)
      default: return .skip
      }
    }
  }

  private mutating func value(
    _ i: Int, _ k: Key, _ ctx: Context, _ record: inout ScannedRecord
  ) -> Step {
    guard k != .other else { return skip(i) }
    guard i < end else { return .failure(ScanFailure(offset: i, reason: "missing value")) }
    let c = b[i]
    switch action(k, ctx) {
    case .skip:
      return skip(i)
    case .descend(let child):
      guard c == UInt8(ascii: "{") else {
        // `null` or another type where an object was expected: skip it.
        if case .usage(let inner) = child, c != UInt8(ascii: "n") {
          mutate(&record, inner) { $0.note("'usage' is not an object") }
        }
        return skipValue(i)
      }
      if case .usage(let inner) = child {
        mutate(&record, inner) { if $0.usage == nil { $0.usage = ScannedUsage() } }
      }
      if case .innerRecord = child { record.hasInner = true }
      return scanObject(i, child, &record)
    case .string(let path, let inner):
      mutate(&record, inner) {
        if LineScanner.isSet(path, $0) { $0.note("duplicate key for a kept field") }
      }
      if c == UInt8(ascii: "\"") {
        guard let (next, escaped) = stringEnd(i) else {
          return .failure(ScanFailure(offset: i, reason: "unterminated string"))
        }
        mutate(&record, inner) { LineScanner.set(path, Span(start: i + 1, end: next - 1, escaped: escaped), &$0) }
        return .success(next)
      }
      if c != UInt8(ascii: "n") {
        mutate(&record, inner) { LineScanner.set(path, nil, &$0) }
      }
      return skipValue(i)
    case .flag(let path, let inner):
      let step = skipValue(i)
      if case .success(let next) = step {
        let isTrue = next - i == 4 && c == UInt8(ascii: "t")
        let isFalse = next - i == 5 && c == UInt8(ascii: "f")
        mutate(&record, inner) { LineScanner.set(path, isTrue ? true : (isFalse ? false : nil), &$0) }
      }
      return step
    case .stopReason(let inner):
      let step = skipValue(i)
      mutate(&record, inner) { $0.stopReason = c != UInt8(ascii: "n") }
      return step
    case .usageString(let path, let inner):
      if c == UInt8(ascii: "\"") {
        guard let (next, escaped) = stringEnd(i) else {
          return .failure(ScanFailure(offset: i, reason: "unterminated string"))
        }
        mutate(&record, inner) {
          LineScanner.withUsage(&$0) { LineScanner.set(path, Span(start: i + 1, end: next - 1, escaped: escaped), &$0) }
        }
        return .success(next)
      }
      return skipValue(i)
    case .iterationString(let field, let inner):
      if c == UInt8(ascii: "\"") {
        guard let (next, escaped) = stringEnd(i) else {
          return .failure(ScanFailure(offset: i, reason: "unterminated string"))
        }
        let span = Span(start: i + 1, end: next - 1, escaped: escaped)
        mutate(&record, inner) {
          $0.editIterationText {
            switch field {
            case .model: $0.model = span
            case .type: $0.type = span
            }
          }
        }
        return .success(next)
      }
      return skipValue(i)
    case .iterations(let inner):
      return scanIterations(i, inner, &record)
    case .loggedCost(let inner):
      // Kept as the number's text; what is not a number is no logged cost.
      let step = skipValue(i)
      if case .success(let next) = step, isDigit(c) || c == UInt8(ascii: "-") {
        mutate(&record, inner) { $0.loggedCost = Span(start: i, end: next, escaped: false) }
      }
      return step
    case .count(let path, let inner, let iteration):
      let name = path.name
      mutate(&record, inner) {
        // The one field is read where it lies: the usage is not copied out.
        let set =
          iteration
          ? $0.iterations.map { $0.last.map { LineScanner.isSet(path, $0.usage) } ?? false } ?? false
          : $0.usage?.isSet(path) ?? false
        if set { $0.note("duplicate key '\(path.name)'") }
      }
      let step = skipValue(i)
      guard case .success(let next) = step else { return step }
      if c == UInt8(ascii: "n"), next - i == 4 {
        mutate(&record, inner) { LineScanner.withUsage(&$0, iteration) { LineScanner.set(path, nil, &$0) } }
        return step
      }
      var v: Int64 = 0
      var ok = next > i
      // Why the count is unusable; worded only when it is (never per record).
      enum Why { case notWhole, negative, overflow }
      var why = Why.notWhole
      // JSON's -0 is zero, not a negative count.
      let negativeZero = next - i == 2 && b[i] == UInt8(ascii: "-") && b[i + 1] == UInt8(ascii: "0")
      for p in (negativeZero ? next : i)..<next {
        let d = b[p]
        guard isDigit(d) else {
          if d == UInt8(ascii: "-") { why = .negative }
          ok = false
          break
        }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(Int64(d - 48))
        if o1 || o2 {
          why = .overflow
          ok = false
          break
        }
        v = s
      }
      if ok, next - i > 1, b[i] == UInt8(ascii: "0") { ok = false }
      if negativeZero { v = 0 }
      mutate(&record, inner) {
        LineScanner.withUsage(&$0, iteration) { LineScanner.set(path, ok ? v : nil, &$0) }
        if !ok {
          switch why {
          case .notWhole: $0.note("'\(name)' is not a whole number")
          case .negative: $0.note("'\(name)' is negative")
          case .overflow: $0.note("'\(name)' is beyond the 64-bit range")
          }
        }
      }
      return step
    }
  }

  /// Scans `usage.iterations`: an array whose objects are read as usage
  /// counts, one ``ScannedUsage`` each (at most
  /// ``ScannedUsage/maxIterations``; the rest are skipped and noted).
  /// `null` is no iterations; another type is a problem.
  private mutating func scanIterations(_ open: Int, _ inner: Bool, _ record: inout ScannedRecord) -> Step {
    guard b[open] == UInt8(ascii: "[") else {
      if b[open] != UInt8(ascii: "n") {
        mutate(&record, inner) { $0.note("'iterations' is not an array") }
      }
      return skipValue(open)
    }
    mutate(&record, inner) { if $0.usage != nil, $0.iterations == nil { $0.iterations = [] } }
    var i = skipSpace(open + 1)
    guard i < end else { return .failure(ScanFailure(offset: open, reason: "unterminated array")) }
    if b[i] == UInt8(ascii: "]") { return .success(i + 1) }
    while true {
      guard i < end else { return .failure(ScanFailure(offset: open, reason: "unterminated array")) }
      let step: Step
      var kept = false
      mutate(&record, inner) { f in
        guard b[i] == UInt8(ascii: "{") else {
          f.note("an element of 'iterations' is not an object")
          return
        }
        guard (f.iterations?.count ?? 0) < ScannedUsage.maxIterations else {
          f.note("more than \(ScannedUsage.maxIterations) entries in 'iterations'")
          return
        }
        f.iterations?.append(ScannedIteration())
        kept = f.iterations != nil
      }
      step = kept ? scanObject(i, .iteration(inner: inner), &record) : skipValue(i)
      switch step {
      case .failure: return step
      case .success(let next): i = skipSpace(next)
      }
      guard i < end else { return .failure(ScanFailure(offset: open, reason: "unterminated array")) }
      if b[i] == UInt8(ascii: ",") {
        i = skipSpace(i + 1)
        continue
      }
      if b[i] == UInt8(ascii: "]") { return .success(i + 1) }
      return .failure(ScanFailure(offset: i, reason: "expected ',' or ']'"))
    }
  }

  @inline(__always) private func mutate(
    _ record: inout ScannedRecord, _ inner: Bool, _ body: (inout ScannedFields) -> Void
  ) {
    if inner { body(&record.inner) } else { body(&record.outer) }
  }
}

extension ScannedUsage {
  /// Whether a count field has been set (a second one is a duplicate key).
  fileprivate func isSet(_ f: LineScanner.CountField) -> Bool {
    switch f {
    case .input: input != nil
    case .output: output != nil
    case .cacheCreation: cacheCreation != nil
    case .cacheRead: cacheRead != nil
    case .write5m: write5m != nil
    case .write1h: write1h != nil
    case .webSearch: webSearch != nil
    case .webFetch: webFetch != nil
    case .codeExecution: codeExecution != nil
    }
  }
}
