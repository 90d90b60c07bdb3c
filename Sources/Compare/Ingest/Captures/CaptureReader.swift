import EstimateModel

/// Reads structured captures into usage records: one ``CaptureFormat`` per
/// shape, each in its own file. A HAR is read entry by entry
/// (``HARStream``); the other shapes are parsed whole.
///
/// | shape | recognized by | format |
/// |---|---|---|
/// | HAR 1.2 (browsers, mitmproxy, Charles) | `log.entries` | ``HARFormat`` |
/// | Admin API messages usage report, one or many pages | `data[].results[].uncached_input_tokens` | ``UsageReportFormat`` |
/// | Admin API Claude Code usage report | `data[].model_breakdown` | ``UsageReportFormat`` |
/// | paired capture | `count_tokens` and `response` | ``PairedCaptureFormat`` |
/// | OpenTelemetry logs (OTLP JSON, file exporter) | `resourceLogs` | ``TelemetryFormat`` |
/// | OpenAI-style response | `usage.prompt_tokens` or `usage.input_tokens_details` | ``ResponseFormat`` |
/// | Bedrock Converse response | `usage.inputTokens` | ``ResponseFormat`` |
/// | Anthropic Messages response | `usage.input_tokens` | ``ResponseFormat`` |
struct CaptureReader {
  let path: String
  let fileStem: String
  let parentName: String

  /// The shapes tried in order; the first whose ``CaptureFormat/matches(_:)``
  /// holds reads the document. The Messages response comes last: it is what
  /// a document of no other shape is read as.
  static let formats: [any CaptureFormat] = [
    HARFormat(), UsageReportFormat(), PairedCaptureFormat(), TelemetryFormat(), ResponseFormat(),
  ]

  /// The records of one document: a JSON array's elements each, else the
  /// records of the first format the document matches.
  mutating func read(_ doc: JSONValue, line: Int, ledger: inout Ledger) -> [RawUsage] {
    if case .array(let items) = doc {
      return items.flatMap { read($0, line: line, ledger: &ledger) }
    }
    for format in Self.formats where format.matches(doc) {
      return format.records(doc, reader: self, line: line, ledger: &ledger)
    }
    return []
  }

  /// HTTP headers as recorded: a HAR's `[{name, value}]` list, or an object
  /// of names to a value (or to a list, whose first value is taken).
  static func headerPairs(_ h: JSONValue?) -> [(String, String)] {
    if let list = h?.array {
      return list.compactMap { item in
        guard let n = item["name"]?.string, let v = item["value"]?.string else { return nil }
        return (n, v)
      }
    }
    if case .object(let members)? = h {
      return members.compactMap { (k, v) in v.string.map { (k, $0) } ?? v.array?.first?.string.map { (k, $0) } }
    }
    return []
  }

  /// A time written as RFC 3339 text or as milliseconds since the epoch.
  static func time(_ v: JSONValue) -> Instant? {
    if let s = v.string { return Instant(s) }
    if let ms = v.int64 { return Instant(millisecondsSinceEpoch: ms) }
    return nil
  }
}

/// One shape of structured capture: how to recognise a document of it, and
/// how to read its usage records. Each lives in its own file beside this one.
protocol CaptureFormat: Sendable {
  /// Whether the document has this shape (only its top-level keys are looked at).
  func matches(_ doc: JSONValue) -> Bool

  /// The usage records of a document of this shape; problems and counts go
  /// to `ledger`. `reader` names the file.
  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage]
}

/// A view of SSE folding for tests.
package enum CaptureReaderProbe {
  public struct Folded: Sendable {
    public var output: Int64?
    public var incomplete: Bool
  }

  public static func fold(_ text: String) -> [Folded] {
    CaptureReader.foldSSE(text).map { Folded(output: $0.output, incomplete: $0.incompleteStream) }
  }
}
