import EstimateModel

/// The requests and ledger of one input file; partials merge in any order.
public struct FilePartial: Sendable {
  package var table = RequestTable()
  public var ledger = Ledger()
  /// Lines read (for chunks: to number the lines of the chunks after it).
  public var lineCount = 0

  /// Shifts this chunk's line numbers by the lines of the chunks before it.
  mutating func shiftLines(by offset: Int, in file: String) {
    guard offset > 0 else { return }
    table.shiftLines(by: offset, in: file)
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
