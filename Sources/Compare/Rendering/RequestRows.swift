import Dispatch
import EstimateModel
import Synchronization

/// tokengap's own per-request rows: an interchange format that tokengap
/// reads back (schema `tokengap.request/2`; `/1` rows are read too).
///
/// A row is the `--by request` CSV row, then the fields a run over the
/// union of several exports needs to give the figures of one run over the
/// union of their data: the schema, the source label, the logged model, the
/// flags that price a request, the raw usage fields, the de-duplication
/// key, the source file and line, and the catalog.
///
/// | kind | CSV | JSON Lines |
/// |---|---|---|
/// | text | the text (injection guard) | a string, `null` when empty |
/// | number | digits | a number, `null` when undefined |
/// | flag | `true` or `false` | a boolean |
/// | optional flag | `true`, `false` or empty | a boolean or `null` |
public enum RequestRows {
  /// The schema every row carries: the name and the version of the format.
  /// Version 2 added, after version 1's columns: `third_party_priced_requests`
  /// and `logged_cost_usd` (after the request CSV's columns, as that CSV has
  /// them), and at the end
  /// `max_tokens`, `duration_ms`, `regional` and `server_tools`.
  public static let schema = "tokengap.request/2"

  /// The schemas this tokengap reads: every version up to ``schema`` (an
  /// older row lacks the later columns; its flags read as false).
  public static let readable: Set<String> = ["tokengap.request/1", schema]

  /// Columns a readable file may lack: those added after version 1.
  static let addedAfterVersion1: Set<String> = [
    "third_party_priced_requests", "logged_cost_usd", "max_tokens", "duration_ms", "regional", "server_tools",
  ]

  /// How a column's value is written.
  enum Kind: Sendable { case text, number, flag, optionalFlag }

  /// The columns after the `--by request` CSV's, in order: a public interface.
  static let extra: [(String, Kind)] = [
    ("schema", .text), ("source", .text), ("logged_model", .text), ("agent", .text),
    ("sidechain", .flag), ("stop_reason", .flag), ("batch", .flag), ("us_geo", .flag),
    ("fast", .flag), ("long_context", .optionalFlag), ("aggregate", .flag),
    ("incomplete_stream", .flag), ("embedded", .flag), ("cache_creation_input_tokens", .number),
    ("web_search_requests", .number), ("count_tokens_measured", .number), ("accounting", .text),
    ("dedup_key", .text), ("file", .text), ("line", .number), ("catalog_version", .text),
    ("catalog_sha256", .text),
    // Schema 2 (issue 13): added at the end, so that no column moves.
    ("max_tokens", .number), ("duration_ms", .number), ("regional", .flag), ("server_tools", .flag),
  ]

  /// Every column of a row, in order: the request CSV's, then ``extra``.
  public static let columns: [String] =
    Dimension.request.columns + summaryColumns + AnalysisRenderer.finalColumns + extra.map(\.0)

  /// Each column's kind, in the order of ``columns``.
  static let kinds: [Kind] =
    Dimension.request.columns.map { _ in Kind.text }
    + summaryColumns.map { $0 == "lower_bound" ? Kind.flag : Kind.number }
    + AnalysisRenderer.finalColumns.map { _ in Kind.number } + extra.map(\.1)

  /// Column positions by name.
  static let position: [String: Int] = Dictionary(
    uniqueKeysWithValues: columns.enumerated().map { ($0.element, $0.offset) })

  /// The prefix of a key a reader makes for a row without any id (keyed by
  /// its source file and line): never written out.
  static let sourceKeyPrefix = "tokengap.row\u{1F}"

  /// What comes before each column's value, all in one array: `{"time":`
  /// for the first, `,"name":` for the others; column k's is
  /// `jsonPrefixes[jsonStarts[k]..<jsonStarts[k + 1]]`.
  private static let jsonPrefixes: [UInt8] = columns.enumerated().flatMap { k, name in
    var out = k == 0 ? "{" : ","
    JSONValue.quote(name, into: &out)
    return Array((out + ":").utf8)
  }
  private static let jsonStarts: [Int] = columns.enumerated().reduce(into: [0]) { starts, column in
    var out = ""
    JSONValue.quote(column.element, into: &out)
    starts.append((starts.last ?? 0) + 2 + out.utf8.count)
  }

  /// One row as a JSON Lines line: values as they are, no injection guard.
  /// Written as bytes: a cell's bytes are copied where they lie.
  static func appendJSON(_ cells: [String], to out: inout [UInt8]) {
    let starts = jsonStarts
    jsonPrefixes.withUnsafeBufferPointer { prefixes in
      for (k, cell) in cells.enumerated() where k + 1 < starts.count {
        out.append(contentsOf: prefixes[starts[k]..<starts[k + 1]])
        switch kinds[k] {
        case .text:
          if cell.isEmpty { append("null", to: &out) } else { quote(cell, into: &out) }
        case .number, .optionalFlag:
          if cell.isEmpty { append("null", to: &out) } else { append(cell, to: &out) }
        case .flag: append(cell == "true" ? "true" : "false", to: &out)
        }
      }
    }
    if cells.isEmpty { out.append(UInt8(ascii: "{")) }
    out.append(UInt8(ascii: "}"))
    out.append(0x0A)
  }

  /// A string's bytes, copied where they lie when the string is native.
  private static func append(_ s: String, to out: inout [UInt8]) {
    if s.utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil {
      out.append(contentsOf: s.utf8)
    }
  }

  /// A JSON string: the bytes of ``JSONValue/quote(_:into:)``'s text.
  package static func quote(_ s: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    let plain =
      s.utf8.withContiguousStorageIfAvailable { raw -> Bool in
        for c in raw where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return false }
        out.append(contentsOf: raw)
        return true
      } ?? false
    if !plain {
      let hex = Array("0123456789abcdef".utf8)
      for c in s.utf8 {
        switch c {
        case UInt8(ascii: "\""): append("\\\"", to: &out)
        case UInt8(ascii: "\\"): append("\\\\", to: &out)
        case 0x0A: append("\\n", to: &out)
        case 0x0D: append("\\r", to: &out)
        case 0x09: append("\\t", to: &out)
        case ..<0x20:
          append("\\u00", to: &out)
          out.append(hex[Int(c >> 4)])
          out.append(hex[Int(c & 0xF)])
        default: out.append(c)
        }
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// How rows are written: CSV (the request CSV's columns, then the row's) or
/// JSON Lines.
public enum RowFormat: String, Sendable, CaseIterable {
  case csv, jsonl
}

extension PricedTable {
  /// Writes a row per request, in the order of the `--by request` CSV, in
  /// chunks handed to `emit` one after another: memory holds one chunk of
  /// text, whatever the number of requests. Stops when `emit` returns false.
  ///
  /// - Parameters:
  ///   - format: CSV (with a header) or JSON Lines.
  ///   - source: The label every row carries (a machine's name).
  ///   - timeZone: For the time column, as in the request CSV.
  ///   - emit: Takes each chunk of text; false stops the writing.
  public func writeRows(
    _ format: RowFormat, source: String, timeZone: TimeZoneRule = .utc, emit: (String) -> Bool
  ) {
    if format == .csv, !emit(CSVWriter(header: RequestRows.columns).text) { return }
    let order = requestRowOrder(timeZone: timeZone)
    let chunk = 1 << 14
    var start = 0
    while start < order.count {
      let end = min(order.count, start + chunk)
      let rows = order[start..<end]
      let texts = TextSlices.make(count: rows.count) { range in
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count * (format == .csv ? 1024 : 1800))
        for r in rows[(rows.startIndex + range.lowerBound)..<(rows.startIndex + range.upperBound)] {
          let cells = rowCells(row: Int(r), source: source, timeZone: timeZone)
          if format == .csv {
            CSVWriter.append(cells, to: &bytes)
          } else {
            RequestRows.appendJSON(cells, to: &bytes)
          }
        }
        return String(decoding: bytes, as: UTF8.self)
      }
      for text in texts where !text.isEmpty {
        guard emit(text) else { return }
      }
      start = end
    }
  }

  /// One request's row: the request CSV's cells, then the row's own.
  func rowCells(row i: Int, source: String, timeZone: TimeZoneRule) -> [String] {
    let t = table
    let r = t.rows[i]
    let f = r.flags
    let counts = t.counts(of: i)
    func flag(_ x: RequestTable.Flags) -> String { f.contains(x) ? "true" : "false" }
    var key = t.customKey(of: i) ?? ""
    if key.hasPrefix(RequestRows.sourceKeyPrefix) { key = "" }
    return requestCells(row: i, timeZone: timeZone) + [
      RequestRows.schema, source, t.strings[r.model],
      r.agent == StringPool.none ? "" : t.strings[r.agent], flag(.sidechain), flag(.stopReason),
      flag(.batch), flag(.usGeo), flag(.fast),
      f.contains(.longContextKnown) ? flag(.longContext) : "", flag(.aggregate),
      flag(.incompleteStream), flag(.embedded), String(counts.cacheCreation),
      String(counts.webSearch), t.measuredCountTokens(of: i).map { String($0) } ?? "",
      priceClass(ofRow: i).accounting.rawValue, key, t.strings[r.file], String(t.line(of: i)),
      context.catalog.version, context.catalog.sha256,
      t.hints(of: i)?.maxTokens.map { String($0) } ?? "", t.hints(of: i)?.durationMs.map { String($0) } ?? "",
      r.traits.regional ? "true" : "false", r.traits.serverTools ? "true" : "false",
    ]
  }

  /// The rows in the order of the `--by request` CSV: the analysis's order
  /// of key strings. Where the time text is not fixed-width (another zone)
  /// the time texts are made once and compared.
  func requestRowOrder(timeZone: TimeZoneRule) -> [Int32] {
    if let order = requestOrder(timeZone: timeZone) { return order }
    var rows: [(keys: [String], row: Int32)] = []
    rows.reserveCapacity(count)
    forEachRequest { i in rows.append((keys(.request, row: i, timeZone), Int32(i))) }
    rows.sort { $0.keys.lexicographicallyPrecedes($1.keys) }
    return rows.map(\.row)
  }
}
