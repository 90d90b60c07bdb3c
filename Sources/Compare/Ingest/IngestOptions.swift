public import EstimateModel

/// How to read input files.
public enum InputFormat: String, CaseIterable, Sendable {
  /// Decide per file from its first bytes.
  case auto
  /// JSON Lines: Claude Code transcripts, or one Messages API response per line.
  case jsonl
  /// One JSON document: a response (compact or pretty-printed) or an array of them.
  case json
  /// Server-sent events: `event:`/`data:` text, or one `data:` payload per line.
  case sse
  /// Structured captures read whole: HAR files, Admin API usage reports, paired
  /// count_tokens captures, OpenTelemetry logs, Bedrock and OpenAI-style responses.
  case capture
}

/// What to keep while reading.
public struct IngestOptions: Sendable {
  public var format: InputFormat
  public var since: Instant?
  public var until: Instant?
  /// Keep only models whose logged or canonical id contains this (case-insensitive).
  public var modelFilter: String?
  public var catalog: ModelCatalog
  /// Largest document (a capture, a pretty-printed response) read whole.
  public var captureLimit: Int
  /// Longest line of a JSON Lines or SSE file; a longer one is reported and skipped.
  public var lineLimit: Int
  /// Largest body a capture's compression (gzip, deflate) may expand to;
  /// a body that would pass it is a problem (a decompression bomb).
  public var bodyLimit: Int = defaultBodyLimit

  /// Whether a common transcript record goes straight from its bytes into
  /// the request table (``FileIngest/leanAccept(_:_:embedded:lineNumber:countLine:)``);
  /// off, every record takes the full path. The two must agree: a test reads
  /// each shipped file both ways.
  package var leanRecords = true

  /// A HAR with at least this many entries is read in slices side by side
  /// (each slice's entries parsed apart, the slices joined in order). The
  /// result is the same either way: a test reads HARs both ways.
  package var harSliceEntries = 2_048
  /// The entries of one slice, at most: a sliced HAR has many more slices
  /// than there are cores, taken in turn, so a core slowed by other work
  /// reads fewer of them instead of holding up the rest.
  package var harSliceSize = 4_096
  /// A HAR file of at least this many bytes is read window by window
  /// (``FileIngest/readHARWindows(_:filled:)``), not whole: its memory is
  /// then a window's, not the file's. The result is the same either way: a
  /// test reads HARs both ways.
  package var harWindowMinimum = 32 << 20
  /// The bytes read at a time when a HAR is read window by window (the
  /// window grows only for an entry longer than it).
  package var harWindowSize = 16 << 20

  /// The default line cap: 64 MiB.
  public static let defaultLineLimit = 64 << 20
  /// The default document cap: 1 GiB.
  public static let defaultCaptureLimit = 1 << 30
  /// The default decompressed-body cap: 64 MiB.
  public static let defaultBodyLimit = 64 << 20

  public init(
    format: InputFormat = .auto, since: Instant? = nil, until: Instant? = nil,
    modelFilter: String? = nil, catalog: ModelCatalog, captureLimit: Int = defaultCaptureLimit,
    lineLimit: Int = defaultLineLimit
  ) {
    self.captureLimit = max(captureLimit, 1 << 16)
    self.lineLimit = max(lineLimit, 1 << 16)
    self.format = format
    self.since = since
    self.until = until
    self.modelFilter = modelFilter?.lowercased()
    self.catalog = catalog
  }
}
