/// Where every input line went: counted, skipped with a reason, or rejected.
///
/// Counts add up: `lines = blankLines + malformedLines + nonUsageLines +
/// usageLines + skippedSynthetic + skippedAPIError + filteredLines`, where a
/// line holding several records counts once, by its first record. Usage
/// records then become requests, collapsed duplicates or dropped replays.
public struct Ledger: Sendable, Equatable {
  /// One problem: its kind, where it is, and `file:line: reason` for people.
  ///
  /// Tests and scripts match the ``Kind``; the reason's wording may change.
  public struct Problem: Sendable, Equatable, Comparable {
    /// What went wrong.
    public enum Kind: String, Sendable, CaseIterable {
      /// The line or document is not valid JSON (or SSE framing, or a cassette's
      /// YAML); `offset` says where.
      case malformed
      /// The last line has no newline and ends inside a value: a file still being written.
      case truncated
      /// A kept field has the wrong type or range, or appears twice.
      case invalidField
      /// A kept string is not valid UTF-8 or holds a bad escape (a lone surrogate).
      case invalidText
      /// A `usage` object without `input_tokens` and `output_tokens`.
      case noTokenCounts
      /// A count is negative or its sum leaves 64 bits.
      case invalidCount
      /// A timestamp that is not RFC 3339 with a zone.
      case invalidTime
      /// The 5-minute and 1-hour split disagrees with `cache_creation_input_tokens`.
      case splitDisagrees
      /// A stream event out of order (`message_delta` before `message_start`).
      case streamOrder
      /// A line longer than the line cap.
      case lineTooLong
      /// A HAR entry or a cassette interaction whose body cannot be read.
      case unreadableEntry
      /// A file read as a capture whose documents carry no usage.
      case captureWithoutUsage
      /// A request whose prompt does not fit 64 bits: counted, unpriced.
      case promptOverflow
      /// A file passed over: not regular, binary, unreadable, too large.
      case skippedFile
      /// A row of tokengap's own export whose schema this version does not
      /// read, or that differs from the schema of the file's other rows.
      case rowSchema
    }

    public var kind: Kind
    public var file: String
    public var line: Int
    /// The byte offset in the line (or document) where known.
    public var offset: Int?
    public var reason: String

    public init(_ kind: Kind, file: String, line: Int, offset: Int? = nil, reason: String) {
      self.kind = kind
      self.file = file
      self.line = line
      self.offset = offset
      self.reason = reason
    }

    public static func < (a: Problem, b: Problem) -> Bool {
      (a.file, a.line, a.reason) < (b.file, b.line, b.reason)
    }

    public var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
  }

  public var files = 0
  public var filesSkipped = 0
  public var filesSkippedByTime = 0
  /// `*.txt` files that hold neither JSON nor SSE, and YAML files that are
  /// no VCR cassette.
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
  /// Requests that used server tools: their P is not what count_tokens
  /// would return (it refuses server tools).
  public var serverToolRequests = 0
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
  /// Files a directory walk passed over by name, by extension (not problems).
  public var filesPassedOver: [String: Int] = [:]

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
    serverToolRequests += o.serverToolRequests
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
    for (k, v) in o.filesPassedOver { filesPassedOver[k, default: 0] += v }
  }

  /// Anything `--strict` treats as fatal.
  public var hasProblems: Bool { !problems.isEmpty || !skippedFiles.isEmpty }

  mutating func problem(
    _ kind: Problem.Kind, _ file: String, _ line: Int, _ reason: String, offset: Int? = nil
  ) {
    problems.append(Problem(kind, file: file, line: line, offset: offset, reason: reason))
  }
}
