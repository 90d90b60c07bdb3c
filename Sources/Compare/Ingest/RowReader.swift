import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The state of reading one file of tokengap's own rows (``RequestRows``),
/// as JSON Lines or as CSV with the row columns.
///
/// A row becomes a usage record with its source's file and line, its raw
/// usage fields, flags and key: de-duplicated with every other input on
/// the same key, and priced again with the current catalog. Its derived
/// columns (P, I, costs, ratios) are not read: they follow from the rest.
///
/// | line | counted as |
/// |---|---|
/// | CSV header | a line without usage |
/// | a row | a usage line |
/// | a row of another schema, or malformed | a malformed line, with a problem |
/// | a CSV line inside a quoted field that goes on | a line without usage |
struct RowReader {
  /// CSV (with a header line), not JSON Lines.
  var csv = false
  /// CSV: the column of each header position (nil: a column not read).
  var header: [Int?]?
  /// The file was refused as a whole (a CSV header without the row columns).
  var refused = false
  /// Schemas other than the file's already reported, and the schema of the
  /// file's first row of a schema this tokengap reads (``RequestRows/readable``).
  var foreign: Set<String> = []
  var fileSchema: String?
  /// Rows without any id read so far, per source file and line.
  var ordinals: [String: Int] = [:]
  /// CSV: a record whose quoted field goes on past the line.
  var carry: [UInt8] = []
}

extension FileIngest {
  /// One line of a rows file.
  mutating func handleRow(
    _ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ n: Int, lastWithoutNewline: Bool
  ) {
    let line = UnsafeBufferPointer(rebasing: all[range])
    let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    if rowReader.refused {
      partial.ledger.malformedLines += 1
      return
    }
    if rowReader.csv, rowReader.carry.isEmpty, !blank, let header = rowReader.header, let base = line.baseAddress,
      memchr(base, Int32(UInt8(ascii: "\"")), line.count) == nil
    {
      // A record without quotes (nearly every row): its cells are the
      // bytes between commas, read where they lie.
      partial.ledger.records += 1
      if let values = csvRowInPlace(line, header, n) { readRow(values, n) }
      return
    }
    var values: [String?]
    if rowReader.csv {
      var record: [UInt8]
      if rowReader.carry.isEmpty {
        if blank {
          partial.ledger.blankLines += 1
          return
        }
        record = Array(line)
      } else {
        record = rowReader.carry
        rowReader.carry = []
        record.append(0x0A)
        record.append(contentsOf: line)
      }
      guard let cells = RowReader.csvCells(record) else {
        if lastWithoutNewline || record.count > options.lineLimit {
          rowProblem(
            .malformed, n,
            lastWithoutNewline
              ? "truncated last line (unterminated quoted field)"
              : "quoted field longer than \(options.lineLimit) bytes")
        } else {
          rowReader.carry = record
          partial.ledger.nonUsageLines += 1
        }
        return
      }
      guard let header = rowReader.header else {
        readHeader(cells, n)
        return
      }
      partial.ledger.records += 1
      values = [String?](repeating: nil, count: RequestRows.columns.count)
      for (k, cell) in cells.enumerated() where k < header.count {
        guard let c = header[k] else { continue }
        guard let text = String(validating: cell, as: UTF8.self) else {
          rowProblem(.invalidText, n, "invalid UTF-8 in '\(RequestRows.columns[c])'")
          return
        }
        if text.isEmpty { continue }
        values[c] = RequestRows.kinds[c] == .text ? RowReader.unguarded(text) : text
      }
    } else {
      if blank {
        partial.ledger.blankLines += 1
        return
      }
      partial.ledger.records += 1
      // Rows are flat objects of plain values: read straight into their
      // columns; anything else goes to the tree parser, which words it.
      if let fast = RowReader.flatRow(line) {
        readRow(fast, n)
        return
      }
      let doc: JSONValue
      do {
        doc = try JSONParser.parse(line)
      } catch {
        let truncated = lastWithoutNewline && error.reason.hasPrefix("unterminated")
        rowProblem(
          truncated ? .truncated : .malformed, n, truncated ? "truncated last line (\(error))" : "\(error)")
        return
      }
      guard case .object(let members) = doc else {
        rowProblem(.malformed, n, "a row is a JSON object")
        return
      }
      values = [String?](repeating: nil, count: RequestRows.columns.count)
      var seen = [Bool](repeating: false, count: RequestRows.columns.count)
      for (name, value) in members {
        guard let c = RequestRows.position[name] else { continue }
        guard !seen[c] else {
          rowProblem(.invalidField, n, "duplicate key '\(name)'")
          return
        }
        seen[c] = true
        switch (RequestRows.kinds[c], value) {
        case (_, .null): continue
        case (.text, .string(let s)): values[c] = s
        case (.number, .number(let t)): values[c] = t
        case (.flag, .bool(let b)), (.optionalFlag, .bool(let b)): values[c] = b ? "true" : "false"
        default:
          let kind = RequestRows.kinds[c]
          let expected = kind == .text ? "a string" : kind == .number ? "a number" : "true or false"
          rowProblem(.invalidField, n, "'\(name)' is not \(expected)")
          return
        }
      }
    }
    readRow(values, n)
  }

  /// A CSV record without quotes read in place: the columns a request is
  /// rebuilt from as text, every mapped cell checked as UTF-8 (the first
  /// invalid one is the row's problem, as in ``RowReader/csvCells(_:)``'s
  /// path); nil when the row is malformed.
  mutating func csvRowInPlace(_ line: UnsafeBufferPointer<UInt8>, _ header: [Int?], _ n: Int) -> [String?]? {
    guard let base = line.baseAddress else { return nil }
    // A CR ending the record is dropped, as csvCells drops it.
    let end = line.last == 0x0D ? line.count - 1 : line.count
    let kinds = RequestRows.kinds
    let read = RowReader.Col.read
    var values = [String?](repeating: nil, count: kinds.count)
    var k = 0
    var start = 0
    while k < header.count {
      let stop =
        memchr(base + start, Int32(UInt8(ascii: ",")), end - start).map {
          base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
        } ?? end
      if let c = header[k] {
        let cell = UnsafeBufferPointer(start: base + start, count: stop - start)
        var ascii = true
        for b in cell where b >= 0x80 {
          ascii = false
          break
        }
        if !ascii, String(validating: cell, as: UTF8.self) == nil {
          rowProblem(.invalidText, n, "invalid UTF-8 in '\(RequestRows.columns[c])'")
          return nil
        }
        if !cell.isEmpty, read[c] {
          let text = String(decoding: cell, as: UTF8.self)
          values[c] = kinds[c] == .text ? RowReader.unguarded(text) : text
        }
      }
      k += 1
      if stop >= end { break }
      start = stop + 1
    }
    return values
  }

  /// A malformed row: counted, with its problem.
  mutating func rowProblem(_ kind: Ledger.Problem.Kind, _ n: Int, _ reason: String) {
    partial.ledger.malformedLines += 1
    partial.ledger.problem(kind, path, n, reason)
  }

  /// The CSV header: which column each position holds. A header without
  /// the row columns (a plain request CSV) refuses the file.
  mutating func readHeader(_ cells: [[UInt8]], _ n: Int) {
    let names = cells.map { String(decoding: $0, as: UTF8.self) }
    let missing = RowReader.missingColumns(names)
    guard missing.isEmpty else {
      partial.ledger.malformedLines += 1
      rowReader.refused = true
      let plain = names.starts(with: Dimension.request.columns + summaryColumns)
      partial.ledger.problem(
        .rowSchema, path, n,
        plain
          ? "a request CSV without the row columns: write it with 'analyze --by request --format csv --rows' to read it back"
          : "the header lacks the row column\(missing.count == 1 ? "" : "s") \(missing.prefix(3).map { "'\($0)'" }.joined(separator: ", ")): file refused"
      )
      return
    }
    rowReader.header = names.map { RequestRows.position[$0] }
    partial.ledger.nonUsageLines += 1
  }

  /// A chunk after the first of a CSV rows file: the file's header line,
  /// taken without counting it (the first chunk counted it); a header
  /// without the row columns refuses the chunk (the file is then read whole).
  mutating func adoptHeader(_ line: [UInt8]) {
    rowReader.csv = true
    guard let cells = RowReader.csvCells(line) else {
      rowReader.refused = true
      return
    }
    let names = cells.map { String(decoding: $0, as: UTF8.self) }
    if RowReader.missingColumns(names).isEmpty {
      rowReader.header = names.map { RequestRows.position[$0] }
    } else {
      rowReader.refused = true
    }
  }

  /// One row's values, by column: checked, then kept as a usage record.
  mutating func readRow(_ v: [String?], _ n: Int) {
    func value(_ c: Int?) -> String? { c.flatMap { v[$0] } }
    guard let schema = value(RowReader.Col.schema) else {
      rowProblem(.rowSchema, n, "row without 'schema'")
      return
    }
    guard RequestRows.readable.contains(schema), rowReader.fileSchema.map({ $0 == schema }) ?? true else {
      partial.ledger.malformedLines += 1
      if rowReader.foreign.insert(schema).inserted {
        partial.ledger.problem(
          .rowSchema, path, n,
          rowReader.fileSchema.map {
            "row schema '\(schema)' differs from the file's earlier rows ('\($0)'): rows of mixed schemas are refused"
          }
            ?? "row schema '\(schema)' is not one this tokengap reads ('\(RequestRows.readable.joined(separator: "', '"))'): refused (this line and every later row of that schema in the file)"
        )
      }
      return
    }
    rowReader.fileSchema = schema
    var bad: String?
    func count(_ c: Int?, required: Bool = false) -> Int64? {
      guard let text = value(c) else {
        if required, bad == nil { bad = "row without '\(RowReader.Col.name(c))'" }
        return nil
      }
      guard let x = Int64(text), x >= 0 else {
        if bad == nil { bad = "'\(RowReader.Col.name(c))' is not a whole number from 0 to 2^63-1: '\(text)'" }
        return nil
      }
      return x
    }
    func flag(_ c: Int?) -> Bool? {
      guard let text = value(c) else { return nil }
      guard text == "true" || text == "false" else {
        if bad == nil { bad = "'\(RowReader.Col.name(c))' is neither true nor false: '\(text)'" }
        return nil
      }
      return text == "true"
    }
    var raw = RawUsage()
    raw.input = count(RowReader.Col.inputTokens, required: true)
    raw.output = count(RowReader.Col.outputTokens, required: true)
    raw.write5m = count(RowReader.Col.cacheCreation5mTokens) ?? 0
    raw.write1h = count(RowReader.Col.cacheCreation1hTokens) ?? 0
    raw.cacheRead = count(RowReader.Col.cacheReadTokens) ?? 0
    let unknown = count(RowReader.Col.cacheCreationUnknownTtlTokens) ?? 0
    raw.webSearch = count(RowReader.Col.webSearchRequests)
    raw.measured = count(RowReader.Col.countTokensMeasured)
    raw.maxTokens = count(RowReader.Col.maxTokens)
    raw.durationMs = count(RowReader.Col.durationMs)
    let line = count(RowReader.Col.line, required: true)
    let total = count(RowReader.Col.cacheCreationInputTokens)
    raw.sidechain = flag(RowReader.Col.sidechain) ?? false
    raw.stopReason = flag(RowReader.Col.stopReason) ?? false
    raw.batch = flag(RowReader.Col.batch) ?? false
    raw.usGeo = flag(RowReader.Col.usGeo) ?? false
    raw.fast = flag(RowReader.Col.fast) ?? false
    raw.longContext = flag(RowReader.Col.longContext)
    raw.aggregate = flag(RowReader.Col.aggregate) ?? false
    raw.incompleteStream = flag(RowReader.Col.incompleteStream) ?? false
    raw.embedded = flag(RowReader.Col.embedded) ?? false
    // The rule that decided the row's I: it stays the request's rule.
    if let text = value(RowReader.Col.accounting) {
      guard let rule = Accounting(rawValue: text) else {
        rowProblem(.invalidField, n, "'accounting' is none of anthropic, bedrock, openai: '\(text)'")
        return
      }
      raw.traits.pin(rule)
    }
    // Schema 2: a regional endpoint the logged model does not show (Vertex AI).
    raw.traits.regional = flag(RowReader.Col.regional) ?? false
    raw.traits.serverTools = flag(RowReader.Col.serverTools) ?? false
    // The cost the source's log wrote, carried as it was (a row's own figure).
    if let text = value(RowReader.Col.loggedCostUsd) {
      raw.loggedCost = USD(dollars: text.utf8)
      if raw.loggedCost == nil, bad == nil { bad = "'logged_cost_usd' is not a non-negative number: '\(text)'" }
    }
    if let text = value(RowReader.Col.time) {
      raw.time = Instant(text)
      if raw.time == nil, bad == nil { bad = "'time' is not an RFC 3339 time with a zone: '\(text)'" }
    }
    guard let file = value(RowReader.Col.file), let line, bad == nil else {
      rowProblem(.invalidField, n, bad ?? "row without 'file'")
      return
    }
    // The raw total where written; else the parts (the same request).
    raw.cacheCreation =
      total
      ?? (raw.write5m ?? 0).addingReportingOverflow(raw.write1h ?? 0).partialValue
      .addingReportingOverflow(unknown).partialValue
    raw.model = value(RowReader.Col.loggedModel) ?? value(RowReader.Col.model) ?? ""
    raw.session = value(RowReader.Col.session) ?? ""
    raw.project = value(RowReader.Col.project) ?? ""
    raw.agent = value(RowReader.Col.agent)
    raw.messageID = value(RowReader.Col.messageId)
    raw.requestID = value(RowReader.Col.requestId)
    raw.sourceFile = file
    raw.sourceLine = Int(clamping: line)
    if let key = value(RowReader.Col.dedupKey) {
      raw.key = key
    } else if raw.messageID == nil {
      // No id at all: the request is its source's line (and its place
      // among the rows of that line), the same in every export of it.
      let place = file + "\u{1F}" + String(line)
      let k = rowReader.ordinals[place, default: 0]
      rowReader.ordinals[place] = k + 1
      raw.key = RequestRows.sourceKeyPrefix + place + "\u{1F}" + String(k)
    }
    // Reported once where the request was first read.
    raw.streamFolded = true
    accept(raw, n, line: \.usageLines)
  }
}

extension RowReader {
  /// The positions of the columns a row is read from (the others, such as
  /// P, I and the costs, follow from these and are not read).
  enum Col {
    static let accounting = RequestRows.position["accounting"]
    static let agent = RequestRows.position["agent"]
    static let aggregate = RequestRows.position["aggregate"]
    static let batch = RequestRows.position["batch"]
    static let cacheCreation1hTokens = RequestRows.position["cache_creation_1h_tokens"]
    static let cacheCreation5mTokens = RequestRows.position["cache_creation_5m_tokens"]
    static let cacheCreationInputTokens = RequestRows.position["cache_creation_input_tokens"]
    static let cacheCreationUnknownTtlTokens = RequestRows.position["cache_creation_unknown_ttl_tokens"]
    static let cacheReadTokens = RequestRows.position["cache_read_tokens"]
    static let countTokensMeasured = RequestRows.position["count_tokens_measured"]
    static let dedupKey = RequestRows.position["dedup_key"]
    static let durationMs = RequestRows.position["duration_ms"]
    static let embedded = RequestRows.position["embedded"]
    static let fast = RequestRows.position["fast"]
    static let file = RequestRows.position["file"]
    static let incompleteStream = RequestRows.position["incomplete_stream"]
    static let inputTokens = RequestRows.position["input_tokens"]
    static let line = RequestRows.position["line"]
    static let loggedCostUsd = RequestRows.position["logged_cost_usd"]
    static let loggedModel = RequestRows.position["logged_model"]
    static let longContext = RequestRows.position["long_context"]
    static let maxTokens = RequestRows.position["max_tokens"]
    static let messageId = RequestRows.position["message_id"]
    static let model = RequestRows.position["model"]
    static let outputTokens = RequestRows.position["output_tokens"]
    static let project = RequestRows.position["project"]
    static let regional = RequestRows.position["regional"]
    static let requestId = RequestRows.position["request_id"]
    static let schema = RequestRows.position["schema"]
    static let serverTools = RequestRows.position["server_tools"]
    static let session = RequestRows.position["session"]
    static let sidechain = RequestRows.position["sidechain"]
    static let stopReason = RequestRows.position["stop_reason"]
    static let time = RequestRows.position["time"]
    static let usGeo = RequestRows.position["us_geo"]
    static let webSearchRequests = RequestRows.position["web_search_requests"]

    /// Whether each column is read (a column not read makes no text).
    static let read: [Bool] = {
      var read = [Bool](repeating: false, count: RequestRows.columns.count)
      for c in [
        accounting, agent, aggregate, batch, cacheCreation1hTokens, cacheCreation5mTokens, cacheCreationInputTokens,
        cacheCreationUnknownTtlTokens, cacheReadTokens, countTokensMeasured, dedupKey, durationMs, embedded, fast, file,
        incompleteStream, inputTokens, line, loggedCostUsd, loggedModel, longContext, maxTokens, messageId, model,
        outputTokens, project, regional, requestId, schema, serverTools, session, sidechain, stopReason, time, usGeo,
        webSearchRequests,
      ] {
        if let c { read[c] = true }
      }
      return read
    }()

    /// A column's name, for a message.
    static func name(_ c: Int?) -> String { c.map { RequestRows.columns[$0] } ?? "" }
  }
}

extension RowReader {
  /// The row columns a CSV header lacks; those added after schema 1 may be
  /// absent (a schema 1 file has none).
  static func missingColumns(_ names: [String]) -> [String] {
    let present = Set(names)
    return RequestRows.columns.filter { !present.contains($0) && !RequestRows.addedAfterVersion1.contains($0) }
  }

  /// The cells of one CSV record (RFC 4180); nil when a quoted field is
  /// still open at the end (it goes on on the next line). A CR before the
  /// end of the record is dropped.
  static func csvCells(_ b: [UInt8]) -> [[UInt8]]? {
    var cells: [[UInt8]] = []
    var cell: [UInt8] = []
    var quoted = false
    var started = false
    var i = 0
    let end = b.last == 0x0D ? b.count - 1 : b.count
    while i < b.count {
      let c = b[i]
      if quoted {
        if c == UInt8(ascii: "\"") {
          if i + 1 < b.count, b[i + 1] == UInt8(ascii: "\"") {
            cell.append(c)
            i += 2
            continue
          }
          quoted = false
        } else {
          cell.append(c)
        }
      } else if c == UInt8(ascii: "\""), !started {
        quoted = true
        started = true
      } else if c == UInt8(ascii: ",") {
        cells.append(cell)
        cell = []
        started = false
      } else if i < end {
        cell.append(c)
        started = true
      }
      i += 1
    }
    if quoted { return nil }
    cells.append(cell)
    return cells
  }

  /// A CSV cell's text with the injection guard undone: the `'` before a
  /// leading `=`, `+`, `-`, `@`, tab or CR (when the rest is not a number),
  /// and the one after a `;`, tab or `|` before `=`, `+`, `-` or `@`.
  static func unguarded(_ text: String) -> String {
    guard text.utf8.contains(UInt8(ascii: "'")) else { return text }
    let b = Array(text.utf8)
    let leading: [UInt8] = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D]
    let inner: [UInt8] = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@")]
    var out: [UInt8] = []
    out.reserveCapacity(b.count)
    for (k, c) in b.enumerated() {
      if c == UInt8(ascii: "'"), k + 1 < b.count {
        if k == 0, leading.contains(b[k + 1]), !CSVWriter.isNumber(String(decoding: b[1...], as: UTF8.self)) {
          continue
        }
        if k > 0, b[k - 1] == 0x3B || b[k - 1] == 0x09 || b[k - 1] == 0x7C, inner.contains(b[k + 1]) { continue }
      }
      out.append(c)
    }
    return String(decoding: out, as: UTF8.self)
  }
}

extension RowReader {
  /// Every column's name in one array: column k's is
  /// `nameBytes[nameStarts[k]..<nameStarts[k + 1]]`.
  static let nameBytes: [UInt8] = RequestRows.columns.flatMap { Array($0.utf8) }
  static let nameStarts: [Int] = RequestRows.columns.reduce(into: [0]) { starts, name in
    starts.append((starts.last ?? 0) + name.utf8.count)
  }
  /// The columns by the length of their names.
  static let columnsByLength: [[Int]] = {
    var byLength = [[Int]](repeating: [], count: 64)
    for (k, name) in RequestRows.columns.enumerated() where name.utf8.count < 64 {
      byLength[name.utf8.count].append(k)
    }
    return byLength
  }()

  /// A cursor over one line: the bytes, where it is, where the line ends.
  struct FlatScan {
    let base: UnsafePointer<UInt8>
    let end: Int
    var i = 0

    @inline(__always) mutating func space() {
      while i < end, base[i] == 0x20 || base[i] == 0x09 || base[i] == 0x0D || base[i] == 0x0A { i += 1 }
    }

    /// The start and length of a string without escapes or control
    /// characters starting at `i` (a quote); moves past it. Eight bytes at
    /// a time: the first quote, backslash or byte below 0x20 among them is
    /// the lowest flagged byte (borrows run upward only, so it is exact).
    @inline(__always) mutating func string() -> (start: Int, count: Int)? {
      guard i < end, base[i] == UInt8(ascii: "\"") else { return nil }
      let start = i + 1
      var k = start
      while k + 8 <= end {
        let w = UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self))
        let q = w ^ 0x2222_2222_2222_2222
        let s = w ^ 0x5C5C_5C5C_5C5C_5C5C
        let low: UInt64 = 0x0101_0101_0101_0101
        let hit = ((q &- low) & ~q | (s &- low) & ~s | (w &- 0x2020_2020_2020_2020) & ~w) & 0x8080_8080_8080_8080
        if hit == 0 {
          k += 8
          continue
        }
        k += hit.trailingZeroBitCount >> 3
        break
      }
      while k < end {
        let c = base[k]
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
        k += 1
      }
      guard k < end, base[k] == UInt8(ascii: "\"") else { return nil }
      i = k + 1
      return (start, k - start)
    }

    /// Whether the bytes at `start` spell `word` (ASCII, compared in place).
    @inline(__always) func spells(_ start: Int, _ count: Int, _ word: StaticString) -> Bool {
      count == word.utf8CodeUnitCount && memcmp(base + start, word.utf8Start, count) == 0
    }

    /// Whether the bytes at `start` are ASCII.
    @inline(__always) func ascii(_ start: Int, _ count: Int) -> Bool {
      for k in start..<(start + count) where base[k] >= 0x80 { return false }
      return true
    }
  }

  /// A row line read as a flat JSON object straight into column values:
  /// strings without escapes, numbers as written, `true`/`false`, `null`
  /// as absent. Nil for anything else (an escape, a nested value, a
  /// duplicate or mistyped column, bad syntax): the tree parser reads those
  /// lines and words their problems, so both paths give the same result.
  ///
  /// Keys are matched first against the column after the previous key's
  /// (tokengap writes them in order), then among the names of their length.
  static func flatRow(_ line: UnsafeBufferPointer<UInt8>) -> [String?]? {
    guard let base = line.baseAddress else { return nil }
    let kinds = RequestRows.kinds
    let read = Col.read
    let starts = nameStarts
    let byLength = columnsByLength
    return nameBytes.withUnsafeBufferPointer { names -> [String?]? in
      guard let names = names.baseAddress else { return nil }
      var s = FlatScan(base: base, end: line.count)
      var values = [String?](repeating: nil, count: kinds.count)
      var seen = [Bool](repeating: false, count: kinds.count)
      var predicted = 0
      func named(_ c: Int, _ key: (start: Int, count: Int)) -> Bool {
        starts[c + 1] - starts[c] == key.count && memcmp(names + starts[c], base + key.start, key.count) == 0
      }
      s.space()
      guard s.i < s.end, base[s.i] == UInt8(ascii: "{") else { return nil }
      s.i += 1
      s.space()
      if s.i < s.end, base[s.i] == UInt8(ascii: "}") { return nil }
      while true {
        s.space()
        guard let key = s.string() else { return nil }
        s.space()
        guard s.i < s.end, base[s.i] == UInt8(ascii: ":") else { return nil }
        s.i += 1
        s.space()
        var column: Int?
        if predicted < kinds.count, named(predicted, key) {
          column = predicted
        } else if key.count < byLength.count {
          column = byLength[key.count].first { named($0, key) }
        }
        if let c = column {
          if seen[c] { return nil }
          seen[c] = true
          predicted = c + 1
        }
        guard s.i < s.end else { return nil }
        let c = base[s.i]
        let kind = column.map { kinds[$0] }
        if c == UInt8(ascii: "\"") {
          guard let value = s.string() else { return nil }
          guard kind == nil || kind == .text else { return nil }
          let ascii = s.ascii(value.start, value.count)
          let bytes = UnsafeBufferPointer(start: base + value.start, count: value.count)
          if let column, read[column] {
            guard let text = ascii ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
            else { return nil }
            values[column] = text
          } else if !ascii, String(validating: bytes, as: UTF8.self) == nil {
            // Checked as the tree parser checks it; no text kept.
            return nil
          }
        } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
          return nil
        } else {
          let start = s.i
          while s.i < s.end {
            let d = base[s.i]
            if d == UInt8(ascii: ",") || d == UInt8(ascii: "}") || d == 0x20 || d == 0x09 || d == 0x0D || d == 0x0A {
              break
            }
            s.i += 1
          }
          let count = s.i - start
          if s.spells(start, count, "null") {
            // Absent, whatever the column.
          } else if s.spells(start, count, "true") || s.spells(start, count, "false") {
            if let column {
              guard kind == .flag || kind == .optionalFlag else { return nil }
              values[column] = count == 4 ? "true" : "false"
            }
          } else {
            let token = UnsafeBufferPointer(start: base + start, count: count)
            guard isNumber(token) else { return nil }
            if let column {
              guard kind == .number else { return nil }
              if read[column] { values[column] = String(decoding: token, as: UTF8.self) }
            }
          }
        }
        s.space()
        guard s.i < s.end else { return nil }
        if base[s.i] == UInt8(ascii: ",") {
          s.i += 1
          continue
        }
        guard base[s.i] == UInt8(ascii: "}") else { return nil }
        s.i += 1
        s.space()
        return s.i == s.end ? values : nil
      }
    }
  }

  /// A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  static func isNumber(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    let n = t.count
    func digit(_ k: Int) -> Bool { k < n && t[k] >= 0x30 && t[k] <= 0x39 }
    if i < n, t[i] == UInt8(ascii: "-") { i += 1 }
    guard digit(i) else { return false }
    if t[i] == 0x30 { i += 1 } else { while digit(i) { i += 1 } }
    if i < n, t[i] == UInt8(ascii: ".") {
      i += 1
      guard digit(i) else { return false }
      while digit(i) { i += 1 }
    }
    if i < n, t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E") {
      i += 1
      if i < n, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
      guard digit(i) else { return false }
      while digit(i) { i += 1 }
    }
    return i == n
  }
}
