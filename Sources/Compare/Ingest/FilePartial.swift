import EstimateModel

/// The requests and ledger of one input file; partials merge in any order.
public struct FilePartial: Sendable {
  package var table = RequestTable()
  public var ledger = Ledger()
  /// Lines read (for chunks: to number the lines of the chunks after it).
  public var lineCount = 0

  /// A chunk of a rows file: what its reading depended on (``RowChunk``).
  var rowChunk: RowChunk?

  /// Shifts this chunk's line numbers by the lines of the chunks before it.
  /// A chunk of rows keeps its requests' lines: they are the lines of the
  /// rows' sources, not of the rows file.
  mutating func shiftLines(by offset: Int, in file: String) {
    guard offset > 0 else { return }
    if rowChunk == nil { table.shiftLines(by: offset, in: file) }
    for k in ledger.problems.indices where ledger.problems[k].file == file && ledger.problems[k].line > 0 {
      ledger.problems[k].line += offset
    }
  }

  public init() {}

  /// The number of distinct requests read (replays not yet dropped).
  public var requestCount: Int { table.count }

  /// Folds another partial in.
  public mutating func merge(_ other: FilePartial) {
    ledger.merge(other.ledger)
    table.merge(other.table)
  }
}

/// What reading a chunk of a rows file took from the state of the rows
/// before it: the chunks of one file read side by side give the figures of
/// the file read whole when, chunk by chunk, the schema is the file's, no
/// schema was refused, no source line without ids has rows in two chunks
/// (its rows are numbered in file order), and (CSV) no chunk but the last
/// ends inside a quoted field: then, from the first on, each chunk starts
/// where a record does.
struct RowChunk: Sendable {
  /// The schema of the chunk's first readable row.
  var schema: String?
  /// The source file and line of each row without any id.
  var places: Set<String>
  /// Whether a row's schema was refused (reported once per file), or the
  /// file (a CSV header without the row columns).
  var schemaProblems: Bool
  /// CSV: whether the chunk ends inside a quoted field (the cut after it
  /// was not between records).
  var openRecord = false

  /// Whether chunks (in file order) read apart read as the whole file does.
  static func agree(_ chunks: [RowChunk]) -> Bool {
    var schema: String?
    var places: Set<String> = []
    for (k, c) in chunks.enumerated() {
      if k > 0, c.schemaProblems { return false }
      if k + 1 < chunks.count, c.openRecord { return false }
      if let s = c.schema {
        if let earlier = schema, earlier != s { return false }
        schema = s
      }
      guard places.isDisjoint(with: c.places) else { return false }
      places.formUnion(c.places)
    }
    return true
  }
}

/// Builds partials from records, for callers that have records already.
package enum FilePartialBuilder {
  /// A partial holding one record.
  package static func single(_ record: UsageRecord) -> FilePartial {
    var p = FilePartial()
    let key: RequestTable.Key
    if let id = record.messageID, !id.isEmpty {
      key = .ids(messageID: Array(id.utf8), requestID: Array((record.requestID ?? "").utf8))
    } else {
      key = .custom(Array(record.key.utf8), messageID: nil, requestID: nil)
    }
    let u = record.usage
    var flags: RequestTable.Flags = []
    if record.sidechain { flags.insert(.sidechain) }
    if record.embedded { flags.insert(.embedded) }
    if record.stopReason { flags.insert(.stopReason) }
    p.table.add(
      RequestTable.Record(
        key: key, time: record.time, session: record.session, project: record.project,
        model: record.model, agent: record.agent, file: record.file, line: record.line,
        counts: RequestTable.RawCounts(
          input: u.input, output: u.output,
          cacheCreation: u.cacheWrite5m + u.cacheWrite1h + u.cacheWriteUnknownTTL,
          cacheRead: u.cacheRead, write5m: u.cacheWrite5m, write1h: u.cacheWrite1h,
          webSearch: u.webSearchRequests),
        flags: flags.union(RequestTable.Flags(record.options)),
        measured: record.measuredCountTokens, headers: record.rateLimit))
    p.ledger.usageRecords = 1
    return p
  }
}

extension RequestTable.Flags {
  /// The flags of a request's options.
  init(_ o: RequestOptions) {
    self = []
    if o.batch { insert(.batch) }
    if o.usGeo { insert(.usGeo) }
    if o.fast { insert(.fast) }
    if let long = o.longContext {
      insert(.longContextKnown)
      if long { insert(.longContext) }
    }
  }
}
