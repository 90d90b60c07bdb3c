/// Where every input line went: counted, skipped with a reason, or rejected.
///
/// Counts add up: `lines = blankLines + malformedLines + nonUsageLines +
/// usageLines + skippedSynthetic + skippedAPIError + filteredLines`, where a
/// line holding several records counts once, by its first record. Usage
/// records then become requests, collapsed duplicates or dropped replays.
public struct Ledger: Sendable, Equatable {
  /// One problem: `file:line: reason`.
  public struct Problem: Sendable, Equatable, Comparable {
    public var file: String
    public var line: Int
    public var reason: String

    public static func < (a: Problem, b: Problem) -> Bool {
      (a.file, a.line, a.reason) < (b.file, b.line, b.reason)
    }

    public var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
  }

  public var files = 0
  public var filesSkipped = 0
  public var filesSkippedByTime = 0
  /// `*.txt` files found in directories that hold neither JSON nor SSE.
  public var filesNotData = 0
  public var bytes: Int64 = 0
  public var lines = 0
  public var blankLines = 0
  public var records = 0
  public var usageRecords = 0
  public var embeddedCopies = 0
  public var nonUsageLines = 0
  /// Lines that held a usage record (the first record of the line).
  public var usageLines = 0
  /// Lines whose first record was filtered out by `--since`, `--until` or `--model`.
  public var filteredLines = 0
  public var malformedLines = 0
  public var skippedSynthetic = 0
  public var skippedAPIError = 0
  public var filteredRecords = 0
  public var recordsWithoutTime = 0
  public var duplicatesCollapsed = 0
  public var sidechainReplaysDropped = 0
  public var requests = 0
  public var unfinishedStreaming = 0
  public var unknownTTLRequests = 0
  public var unpricedRequests = 0
  /// Aggregate rows without a context window: priced at standard rates (a lower bound).
  public var tierAssumedRecords = 0
  /// Streams read (`message_start` seen), and those that never reached `message_stop`.
  public var streams = 0
  public var incompleteStreams = 0
  /// HTTP 429 responses in captures, and their `retry-after` values in seconds.
  public var responses429 = 0
  public var retryAfterSeconds: [Int64] = []
  /// count_tokens calls in captures, and those paired with a messages call.
  public var countTokensCalls = 0
  public var countTokensPaired = 0
  /// Aggregate records (Admin API buckets, Claude Code report rows).
  public var aggregateRecords = 0
  /// Unpriced model ids with their request counts.
  public var unpricedModels: [String: Int] = [:]
  /// Problems, each naming file and line; kept in full, sorted on output.
  public var problems: [Problem] = []
  /// Skipped files and why.
  public var skippedFiles: [Problem] = []

  public init() {}

  /// Adds another ledger's counts and problems.
  public mutating func merge(_ o: Ledger) {
    files += o.files
    filesSkipped += o.filesSkipped
    filesSkippedByTime += o.filesSkippedByTime
    filesNotData += o.filesNotData
    bytes += o.bytes
    lines += o.lines
    blankLines += o.blankLines
    records += o.records
    usageRecords += o.usageRecords
    embeddedCopies += o.embeddedCopies
    nonUsageLines += o.nonUsageLines
    usageLines += o.usageLines
    filteredLines += o.filteredLines
    malformedLines += o.malformedLines
    skippedSynthetic += o.skippedSynthetic
    skippedAPIError += o.skippedAPIError
    filteredRecords += o.filteredRecords
    recordsWithoutTime += o.recordsWithoutTime
    duplicatesCollapsed += o.duplicatesCollapsed
    sidechainReplaysDropped += o.sidechainReplaysDropped
    requests += o.requests
    unfinishedStreaming += o.unfinishedStreaming
    unknownTTLRequests += o.unknownTTLRequests
    unpricedRequests += o.unpricedRequests
    tierAssumedRecords += o.tierAssumedRecords
    streams += o.streams
    incompleteStreams += o.incompleteStreams
    responses429 += o.responses429
    retryAfterSeconds += o.retryAfterSeconds
    countTokensCalls += o.countTokensCalls
    countTokensPaired += o.countTokensPaired
    aggregateRecords += o.aggregateRecords
    for (k, v) in o.unpricedModels { unpricedModels[k, default: 0] += v }
    problems += o.problems
    skippedFiles += o.skippedFiles
  }

  /// Anything `--strict` treats as fatal.
  public var hasProblems: Bool { !problems.isEmpty || !skippedFiles.isEmpty }

  mutating func problem(_ file: String, _ line: Int, _ reason: String) {
    problems.append(Problem(file: file, line: line, reason: reason))
  }
}
