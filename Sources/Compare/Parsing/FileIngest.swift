#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
#elseif canImport(Musl)
  import Musl
  private let systemRead = Musl.read
#elseif canImport(Darwin)
  import Darwin
  private let systemRead = Darwin.read
#endif
public import EstimateModel
import CSupport

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

  /// The default line cap: 64 MiB.
  public static let defaultLineLimit = 64 << 20
  /// The default document cap: 1 GiB.
  public static let defaultCaptureLimit = 1 << 30

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

/// A usage record before normalization, from any reader.
struct RawUsage {
  var messageID: String?
  var requestID: String?
  var model: String?
  var time: Instant?
  /// A timestamp was present but unreadable.
  var badTime = false
  var session: String?
  var project: String?
  var agent: String?
  var sidechain = false
  var embedded = false
  var apiError = false
  var stopReason = false
  var input: Int64?
  var output: Int64?
  var cacheCreation: Int64?
  var cacheRead: Int64?
  var write5m: Int64?
  var write1h: Int64?
  var webSearch: Int64?
  var serviceTier: String?
  var geo: String?
  var speed: String?
  var longContext: Bool?
  var measured: Int64?
  var rateLimit: RateLimitHeaders?
  var aggregate = false
  var incompleteStream = false
  /// Folded from a stream: message_delta totals may legitimately exceed the
  /// message_start TTL split.
  var streamFolded = false
  /// A de-duplication key chosen by the reader (buckets, telemetry events).
  var key: String?
  /// The ids are in `FileIngest.keyScratch`, encoded.
  var encodedKey = false
}

/// Reads one file into a partial: bytes → lines → records.
public struct FileIngest {
  let options: IngestOptions
  private var scanner = LineScanner()
  private var buffer: [UInt8]
  private var partial = FilePartial()
  private var path = ""
  private var fileProject: String?
  private var fileStem = ""
  private var parentName = ""
  private var mode = Mode.lines
  private var pending: [ScannedRecord] = []
  /// The encoded key of the record being read (reused: no allocation per record).
  private var keyScratch: [UInt8] = []
  /// The message a stream is building (`message_start` … `message_stop`).
  private var stream: RawUsage?
  private var streamLine = 0

  enum Mode { case lines, sse, document, capture }

  static let messagePrefix = Array("message_".utf8)


  /// Whether `needle` occurs in `bytes[range]` (memmem).
  static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ needle: [UInt8]) -> Bool {
    guard let base = bytes.baseAddress, range.count >= needle.count else { return false }
    return needle.withUnsafeBytes { n in
      tokengap_memmem(base + range.lowerBound, range.count, n.baseAddress, n.count) != nil
    }
  }

  public init(options: IngestOptions, bufferSize: Int = 1 << 20) {
    self.options = options
    buffer = FileIngest.uninitialized(max(bufferSize, 1 << 12))
  }

  /// A reader that reuses the read buffer of an earlier one.
  init(options: IngestOptions, reusing buffer: [UInt8]) {
    self.options = options
    self.buffer = buffer.count >= 1 << 12 ? buffer : FileIngest.uninitialized(1 << 20)
  }

  /// The read buffer, to hand to the next reader.
  var readBuffer: [UInt8] { buffer }

  /// A byte array whose contents will be overwritten by read(2): not zeroed.
  static func uninitialized(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
  }

  /// Reads a file (or `-` for standard input) and returns what it held.
  public mutating func ingest(_ path: String) -> FilePartial {
    ingest(path, chunk: nil)
  }

  /// A byte range of a large JSON Lines file, read as lines on its own.
  public struct Chunk: Sendable {
    public var start: Int64
    public var end: Int64
    public var first: Bool
  }

  /// Reads a file, or one chunk of it; a chunk's line numbers count from its
  /// start (the caller adds the lines of the chunks before it).
  public mutating func ingest(_ path: String, chunk: Chunk?) -> FilePartial {
    partial = FilePartial()
    self.chunk = chunk
    lineCount = 0
    stream = nil
    self.path = path
    describe(path)
    partial.ledger.files = 1
    let fd: Int32
    do {
      fd = try POSIXFiles.openForReading(path)
    } catch {
      skipFile(error.reason)
      return partial
    }
    defer { if fd != 0 { close(fd) } }
    if let chunk {
      guard lseek(fd, off_t(chunk.start), SEEK_SET) == off_t(chunk.start) else {
        skipFile("cannot seek: \(POSIXFiles.errnoText(errno))")
        return partial
      }
      if !chunk.first { partial.ledger.files = 0 }
      remaining = chunk.end - chunk.start
    } else {
      remaining = .max
    }
    if !readMapped(fd) { readLines(fd) }
    finishStream()
    partial.lineCount = lineCount
    return partial
  }

  private var chunk: Chunk?
  private var remaining: Int64 = .max
  private var lineCount = 0

  private mutating func skipFile(_ reason: String) {
    partial.ledger.files = 0
    partial.ledger.filesSkipped = 1
    partial.ledger.skippedFiles.append(.init(file: path, line: 0, reason: reason))
  }

  private mutating func describe(_ path: String) {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    let name = parts.last ?? path
    var stem = name
    for ext in [".jsonl", ".json", ".har", ".txt", ".sse"] where stem.hasSuffix(ext) {
      stem = String(stem.dropLast(ext.count))
      break
    }
    fileStem = path == "-" ? "stdin" : stem
    parentName = parts.count >= 2 ? parts[parts.count - 2] : ""
    fileProject = nil
    if let p = parts.lastIndex(of: "projects"), p + 2 < parts.count { fileProject = parts[p + 1] }
  }

  /// Reads a regular file (or chunk) mapped into memory, with no copy:
  /// false when it cannot be mapped (standard input, an empty file).
  ///
  /// Pages are mapped read-only (a file with a byte order mark, which is
  /// blanked in place, goes to read(2)). At most one chunk (about 8 MiB, or
  /// a whole smaller file) is mapped per reader at a time.
  private mutating func readMapped(_ fd: Int32) -> Bool {
    guard fd != 0 else { return false }
    var st = stat()
    guard fstat(fd, &st) == 0 else { return false }
    let start = chunk?.start ?? 0
    let end = chunk?.end ?? Int64(st.st_size)
    // Chunks end at the first newline after their 8 MiB: map up to twice that.
    guard end > start, end <= Int64(st.st_size), end - start <= 2 * Int64(ParallelIngest.chunkSize) else {
      return false
    }
    if start == 0 {
      // A byte order mark is blanked in place: leave such files to read(2).
      var head: (UInt8, UInt8, UInt8) = (0, 0, 0)
      let n = withUnsafeMutableBytes(of: &head) { pread(fd, $0.baseAddress, 3, 0) }
      if n == 3, head == (0xEF, 0xBB, 0xBF) { return false }
    }
    let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
    let aligned = start - start % page
    let length = Int(end - aligned)
    guard let map = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(aligned)),
      map != MAP_FAILED
    else { return false }
    defer { munmap(map, length) }
    let skip = Int(start - aligned)
    let all = UnsafeMutableBufferPointer(
      start: map.assumingMemoryBound(to: UInt8.self) + skip, count: length - skip)
    let filled = all.count
    partial.ledger.bytes += Int64(filled)
    if let chunk, !chunk.first {
      mode = .lines
    } else if !decideFormat(all, filled) {
      return true
    }
    let view = UnsafeBufferPointer(all)
    if mode == .document || mode == .capture, filled > options.captureLimit {
      skipFile("document larger than \(options.captureLimit) bytes (raise it with --max-document-mib)")
      return true
    }
    if mode == .document || mode == .capture {
      if mode == .document { handleLine(view, 0..<filled, 1, document: true) } else { handleCapture(view, 0..<filled) }
      return true
    }
    guard let base = view.baseAddress else { return true }
    var at = 0
    var lineNumber = 0
    while at < filled {
      guard let p = memchr(base + at, 0x0A, filled - at) else { break }
      let nl = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
      lineNumber += 1
      if nl - at > options.lineLimit {
        partial.ledger.lines += 1
        partial.ledger.malformedLines += 1
        partial.ledger.problem(
          path, lineNumber,
          "line longer than \(options.lineLimit) bytes (raise it with --max-line-mib): skipped")
      } else {
        handleLine(view, at..<nl, lineNumber)
      }
      at = nl + 1
    }
    if at < filled {
      lineNumber += 1
      handleLine(view, at..<filled, lineNumber, lastWithoutNewline: true)
    }
    lineCount = lineNumber
    return true
  }

  /// Reads with read(2) into the reusable buffer and hands out whole lines.
  private mutating func readLines(_ fd: Int32) {
    var filled = 0
    var lineNumber = 0
    var first = true
    var eof = false
    // Dropping the rest of a line longer than the cap.
    var discarding = false
    while !eof {
      if filled == buffer.count {
        // One line (or a whole document) longer than the buffer: grow it, up to the cap.
        let whole = mode == .document || mode == .capture
        let cap = whole ? options.captureLimit : options.lineLimit
        if !first, buffer.count >= cap {
          if whole {
            skipFile("document larger than \(cap) bytes (raise it with --max-document-mib)")
            return
          }
          lineNumber += 1
          lineCount = lineNumber
          partial.ledger.lines += 1
          partial.ledger.malformedLines += 1
          partial.ledger.problem(
            path, lineNumber, "line longer than \(cap) bytes (raise it with --max-line-mib): skipped")
          discarding = true
          filled = 0
        } else {
          // Twice the size, at most the cap. A whole file read at once goes
          // straight to the size repeated doubling would end at (the first
          // past the file's size, or the cap), without the copies between.
          var size = min(2 * buffer.count, max(cap, buffer.count + (1 << 16)))
          var st = stat()
          if chunk == nil, whole, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            while size <= Int(st.st_size), size < cap { size = min(2 * size, cap) }
          }
          buffer = buffer.withUnsafeBufferPointer { old in
            [UInt8](unsafeUninitializedCapacity: size) { new, initialized in
              _ = new.initialize(from: old)
              initialized = size
            }
          }
        }
      }
      let want = Int(min(Int64(buffer.count - filled), remaining))
      let n = want == 0 ? 0 : buffer.withUnsafeMutableBytes { raw in
        systemRead(fd, raw.baseAddress.map { $0 + filled }, want)
      }
      if n > 0 { remaining -= Int64(n) }
      if n < 0 {
        if errno == EINTR { continue }
        partial.ledger.skippedFiles.append(
          .init(file: path, line: lineNumber, reason: "read failed: \(POSIXFiles.errnoText(errno))"))
        return
      }
      if n == 0 { eof = true }
      filled += n
      partial.ledger.bytes += Int64(n)
      if discarding {
        // Drop bytes up to the end of the over-long line.
        let dropped = buffer.withUnsafeMutableBytes { raw -> Int? in
          guard let base = raw.baseAddress, let p = memchr(base, 0x0A, filled) else { return nil }
          let k = base.distance(to: p) + 1
          memmove(base, base + k, filled - k)
          return k
        }
        if let k = dropped {
          filled -= k
          discarding = false
        } else {
          filled = 0
        }
        if filled == 0 { continue }
      }
      if first, filled >= 65_536 || eof {
        first = false
        if let chunk, !chunk.first {
          mode = .lines
        } else if !decideFormat(filled) {
          return
        }
      }
      if first || ((mode == .document || mode == .capture) && !eof) { continue }
      var consumed = 0
      buffer.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return }
        var start = 0
        if mode == .document || mode == .capture {
          if filled > 0 {
            if mode == .document { handleLine(all, 0..<filled, 1, document: true) } else { handleCapture(all, 0..<filled) }
          }
          consumed = filled
          return
        }
        while start < filled {
          guard let p = memchr(base + start, 0x0A, filled - start) else { break }
          let nl = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
          lineNumber += 1
          lineCount = lineNumber
          handleLine(all, start..<nl, lineNumber)
          start = nl + 1
        }
        if eof, start < filled {
          lineNumber += 1
          lineCount = lineNumber
          handleLine(all, start..<filled, lineNumber, lastWithoutNewline: true)
          start = filled
        }
        consumed = start
      }
      if consumed > 0 {
        let rest = filled - consumed
        if rest > 0 {
          buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            memmove(base, base + consumed, rest)
          }
        }
        filled = rest
      }
    }
  }

  /// Decides how to read the file from its first bytes; false skips it.
  private mutating func decideFormat(_ filled: Int) -> Bool {
    var bytes = buffer
    buffer = []
    defer { buffer = bytes }
    return bytes.withUnsafeMutableBufferPointer { decideFormat($0, filled) }
  }

  /// Decides how to read the file from its first bytes; false skips it.
  private mutating func decideFormat(_ buffer: UnsafeMutableBufferPointer<UInt8>, _ filled: Int) -> Bool {
    if filled >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
      // A UTF-8 byte order mark: blank it out.
      buffer[0] = 0x20
      buffer[1] = 0x20
      buffer[2] = 0x20
    }
    var i = 0
    while i < filled, buffer[i] == 0x20 || buffer[i] == 0x0A || buffer[i] == 0x0D || buffer[i] == 0x09 {
      i += 1
    }
    let probe = UnsafeBufferPointer(rebasing: buffer[0..<min(filled, 65_536)])
    let startsJSON = i < filled && (buffer[i] == UInt8(ascii: "{") || buffer[i] == UInt8(ascii: "["))
    let startsSSE = i < filled
      && ["event:", "data:", "id:", ":"].contains(where: { buffer[i..<filled].starts(with: Array($0.utf8)) })
    if path.hasSuffix(".txt"), !startsJSON, !startsSSE {
      // A text file found beside the data (Claude Code's tool-results/): not usage.
      partial.ledger.files = 0
      partial.ledger.filesNotData = 1
      return false
    }
    if probe.prefix(4096).contains(0), !startsJSON {
      skipFile("binary file")
      return false
    }
    switch options.format {
    case .json: mode = .document
    case .jsonl: mode = .lines
    case .sse: mode = .sse
    case .capture: mode = .capture
    case .auto:
      if !startsJSON, startsSSE {
        mode = .sse
      } else if startsJSON, FormatSniffer.isCapture(probe) {
        mode = .capture
      } else if i < filled, buffer[i] == UInt8(ascii: "[") {
        mode = .document
      } else if i < filled, buffer[i] == UInt8(ascii: "{") {
        // Pretty-printed: the opening brace ends its line.
        var j = i + 1
        while j < filled, buffer[j] == 0x20 || buffer[j] == 0x09 || buffer[j] == 0x0D { j += 1 }
        mode = j < filled && buffer[j] == 0x0A ? .document : .lines
      } else {
        mode = .lines
      }
    }
    return true
  }

  /// Whether the first top-level value is a structured capture (``FormatSniffer``).
  static func looksLikeCapture(_ probe: ArraySlice<UInt8>) -> Bool {
    FormatSniffer.isCapture(probe)
  }

  private func lineOf(_ all: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
    var line = 1
    for k in 0..<min(offset, all.count) where all[k] == 0x0A { line += 1 }
    return line
  }

  private mutating func handleLine(
    _ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ n: Int, document: Bool = false,
    lastWithoutNewline: Bool = false
  ) {
    partial.ledger.lines += 1
    var start = range.lowerBound
    while start < range.upperBound, all[start] == 0x20 || all[start] == 0x09 || all[start] == 0x0D {
      start += 1
    }
    if start == range.upperBound {
      partial.ledger.blankLines += 1
      return
    }
    if mode == .sse {
      // SSE framing: `event:`, `id:`, `retry:` and `:` comments carry no usage.
      let line = UnsafeBufferPointer(rebasing: all[start..<range.upperBound])
      if line.starts(with: Array("data:".utf8)) {
        start += 5
      } else if line.first != UInt8(ascii: "{") {
        partial.ledger.nonUsageLines += 1
        return
      }
    }
    var count = 0
    let failure = scanner.scan(all, start..<range.upperBound) { record in
      count += 1
      pending.append(record)
    }
    // A line is valid or malformed as a whole: a line that fails after a
    // complete object (`{…}} trailing`) is one problem, and none of it counts.
    // (A document keeps the records before its failure.)
    if failure != nil, !document {
      pending.removeAll(keepingCapacity: true)
      count = 0
    }
    // Iterated from a local: the records are borrowed, not copied.
    var records = pending
    pending = []
    for k in records.indices {
      classify(records[k], lineNumber: n, countLine: k == 0)
    }
    records.removeAll(keepingCapacity: true)
    pending = records
    if let failure {
      if count == 0 { partial.ledger.malformedLines += 1 }
      let line = document ? lineOf(all, failure.offset) : n
      let truncated = lastWithoutNewline && failure.reason.hasPrefix("unterminated")
      partial.ledger.problem(
        path, line, truncated ? "truncated last line (\(failure.reason))" : failure.reason)
    }
  }

  /// Sorts one scanned record into the ledger and, if it carries usage, the partial.
  private mutating func classify(_ record: ScannedRecord, lineNumber n: Int, countLine: Bool) {
    partial.ledger.records += 1
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if countLine { partial.ledger[keyPath: field] += 1 }
    }
    // Streams: message_start opens a message, message_delta overwrites its
    // usage with non-null fields (they are cumulative), message_stop ends it.
    if let type = record.outer.type, scanner.hasPrefix(type, FileIngest.messagePrefix) {
      switch scanner.decode(type) {
      case "message_start":
        let f = record.outer
        guard f.problem == nil, var raw = rawUsage(f, record, lineNumber: n) else {
          count(\.malformedLines)
          partial.ledger.problem(path, n, f.problem ?? "unreadable message_start")
          return
        }
        if let open = stream, open.messageID != nil, open.messageID == raw.messageID {
          // The same message_start repeated: one stream, not two.
          count(\.usageLines)
          return
        }
        finishStream()
        raw.incompleteStream = true
        stream = raw
        streamLine = n
        partial.ledger.streams += 1
        count(\.usageLines)
        return
      case "message_delta":
        guard var current = stream else {
          count(\.malformedLines)
          partial.ledger.problem(path, n, "message_delta without message_start")
          return
        }
        if let problem = record.outer.problem {
          count(\.malformedLines)
          partial.ledger.problem(path, n, problem)
          return
        }
        if let u = record.outer.usage {
          if let v = u.input { current.input = v }
          if let v = u.output { current.output = v }
          if let v = u.cacheCreation { current.cacheCreation = v }
          if let v = u.cacheRead { current.cacheRead = v }
          if let v = u.webSearch { current.webSearch = v }
        }
        stream = current
        count(\.usageLines)
        return
      case "message_stop":
        if var current = stream {
          current.incompleteStream = false
          current.stopReason = true
          stream = current
          finishStream()
        }
        count(\.nonUsageLines)
        return
      default:
        break
      }
    }
    let embedded = record.hasInner && record.inner.usage != nil
    // Each branch passes a stored part of the borrowed record: no copy.
    if embedded {
      classifyUsage(record.inner, record, embedded: true, lineNumber: n, countLine: countLine)
    } else {
      classifyUsage(record.outer, record, embedded: false, lineNumber: n, countLine: countLine)
    }
  }

  /// The usage-bearing part of a record: the outer fields or a progress line's embedded copy.
  private mutating func classifyUsage(
    _ f: ScannedFields, _ record: ScannedRecord, embedded: Bool, lineNumber n: Int, countLine: Bool
  ) {
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if countLine { partial.ledger[keyPath: field] += 1 }
    }
    guard f.usage != nil else {
      if let problem = record.outer.problem {
        count(\.malformedLines)
        partial.ledger.problem(path, n, problem)
      } else {
        count(\.nonUsageLines)
      }
      return
    }
    if let problem = f.problem {
      count(\.malformedLines)
      partial.ledger.problem(path, n, problem)
      return
    }
    guard var raw = rawUsage(f, record, lineNumber: n, fastKey: true) else {
      count(\.malformedLines)
      return
    }
    raw.embedded = embedded
    raw.sidechain = embedded || (f.isSidechain ?? record.outer.isSidechain ?? false)
    if countLine {
      accept(raw, n, line: \.usageLines)
    } else {
      accept(raw, n, line: nil)
    }
  }

  /// Decodes the kept fields of a scanned record; nil (and a problem) on bad text.
  private mutating func rawUsage(
    _ f: ScannedFields, _ record: ScannedRecord, lineNumber n: Int, fastKey: Bool = false
  )
    -> RawUsage?
  {
    var bad = false
    func text(_ span: Span?, _ name: String) -> String? {
      guard let span else { return nil }
      guard let s = scanner.decode(span) else {
        if !bad { partial.ledger.problem(path, n, "invalid UTF-8 or escape in '\(name)'") }
        bad = true
        return nil
      }
      return s
    }
    var raw = RawUsage()
    var mc = modelCache
    raw.model = cached(f.model, &mc) ?? text(f.model, "model")
    modelCache = mc
    keyScratch.removeAll(keepingCapacity: true)
    keyScratch.append(0)
    if fastKey, let m = f.messageID, m.end > m.start, scanner.appendPart(m, to: &keyScratch),
      f.requestID.map({ scanner.appendPart($0, to: &keyScratch) })
        ?? { KeyEncoding.prefix(0, into: &keyScratch); return true }()
    {
      // Plain ASCII ids: the key is encoded straight from the line's bytes.
      raw.encodedKey = true
    } else {
      raw.messageID = text(f.messageID, "id")
      raw.requestID = text(f.requestID, "requestId")
    }
    var sc = sessionCache
    raw.session = cached(record.outer.sessionID, &sc) ?? text(record.outer.sessionID, "sessionId")
    sessionCache = sc
    let cwd = fileProject == nil ? text(record.outer.cwd, "cwd") : nil
    raw.agent = text(record.outer.agentID, "agentId")
    guard !bad else { return nil }
    if let stamp = f.timestamp ?? record.outer.timestamp {
      raw.time = stamp.escaped ? nil : scanner.instant(stamp)
      raw.badTime = raw.time == nil
    }
    raw.project = fileProject ?? cwd.map(Self.encodeProject)
    raw.apiError = f.isAPIError == true || record.outer.isAPIError == true
    raw.stopReason = f.stopReason
    if let u = f.usage {
      raw.input = u.input
      raw.output = u.output
      raw.cacheCreation = u.cacheCreation
      raw.cacheRead = u.cacheRead
      raw.write5m = u.write5m
      raw.write1h = u.write1h
      raw.webSearch = u.webSearch
      raw.serviceTier = u.serviceTier.flatMap { scanner.decode($0) }
      raw.geo = u.inferenceGeo.flatMap { scanner.decode($0) }
      raw.speed = u.speed.flatMap { scanner.decode($0) }
    }
    return raw
  }

  private var modelCache: (bytes: [UInt8], text: String)?
  private var sessionCache: (bytes: [UInt8], text: String)?

  /// The decoded text of a span whose bytes equal the cached ones; refreshes the cache.
  private func cached(_ span: Span?, _ cache: inout (bytes: [UInt8], text: String)?) -> String? {
    guard let span, !span.escaped else { return nil }
    if let c = cache, scanner.equals(span, c.bytes) { return c.text }
    guard let text = scanner.decode(span) else { return nil }
    cache = (Array(text.utf8), text)
    return text
  }

  /// Closes the open stream, counting it (as incomplete when it never stopped).
  private mutating func finishStream() {
    guard var current = stream else { return }
    stream = nil
    current.streamFolded = true
    if current.incompleteStream { partial.ledger.incompleteStreams += 1 }
    accept(current, streamLine, line: nil)
  }

  /// Filters, normalizes and keeps one record.
  mutating func accept(_ raw: RawUsage, _ n: Int, line: WritableKeyPath<Ledger, Int>?) {
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if line != nil { partial.ledger[keyPath: field] += 1 }
    }
    if raw.apiError {
      count(\.skippedAPIError)
      return
    }
    let model = raw.model ?? ""
    if model == "<synthetic>" {
      count(\.skippedSynthetic)
      return
    }
    guard raw.input != nil || raw.output != nil else {
      count(\.malformedLines)
      partial.ledger.problem(path, n, "'usage' has no token counts")
      return
    }
    if raw.badTime {
      partial.ledger.problem(path, n, "timestamp is not RFC 3339 with a time zone; time unknown")
    }
    if !raw.streamFolded, let total = raw.cacheCreation, raw.write5m != nil || raw.write1h != nil {
      let split = (raw.write5m ?? 0) &+ (raw.write1h ?? 0)
      if split != total {
        partial.ledger.problem(
          path, n,
          "cache_creation split (5m + 1h = \(split)) disagrees with cache_creation_input_tokens (\(total)); "
            + (split > total ? "the split is used" : "the rest is priced as 5-minute writes, a lower bound"))
      }
    }
    if raw.time == nil { partial.ledger.recordsWithoutTime += 1 }
    if options.since != nil || options.until != nil {
      guard let t = raw.time, options.since.map({ t >= $0 }) ?? true,
        options.until.map({ t < $0 }) ?? true
      else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    if let filter = options.modelFilter {
      let canonical = options.catalog.resolve(model).id
      guard model.lowercased().contains(filter) || canonical.contains(filter) else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    do {
      // Validates the record's counts (negative values, an overflowing split).
      _ = try TokenUsage.fromAPI(
        input: raw.input ?? 0, cacheCreation: raw.cacheCreation, cacheWrite5m: raw.write5m,
        cacheWrite1h: raw.write1h, cacheRead: raw.cacheRead, output: raw.output ?? 0,
        webSearchRequests: raw.webSearch)
    } catch {
      count(\.malformedLines)
      partial.ledger.problem(path, n, "\(error)")
      return
    }
    let key: RequestTable.Key
    if let k = raw.key {
      key = .custom(
        Array(k.utf8), messageID: raw.messageID.map { Array($0.utf8) },
        requestID: raw.requestID.map { Array($0.utf8) })
    } else if raw.encodedKey {
      key = .encoded(keyScratch)
    } else if let id = raw.messageID, !id.isEmpty {
      key = .ids(messageID: Array(id.utf8), requestID: Array((raw.requestID ?? "").utf8))
    } else {
      key = .none(sequence: Int64(partial.ledger.usageRecords))
    }
    if let line { partial.ledger[keyPath: line] += 1 }
    partial.ledger.usageRecords += 1
    if raw.embedded { partial.ledger.embeddedCopies += 1 }
    var flags = RequestTable.Flags(
      RequestOptions(
        batch: raw.serviceTier == "batch", usGeo: raw.geo == "us", fast: raw.speed == "fast",
        longContext: raw.longContext))
    if raw.sidechain { flags.insert(.sidechain) }
    if raw.embedded { flags.insert(.embedded) }
    if raw.stopReason { flags.insert(.stopReason) }
    if raw.aggregate { flags.insert(.aggregate) }
    if raw.incompleteStream { flags.insert(.incompleteStream) }
    partial.table.add(
      RequestTable.Record(
        key: key, time: raw.time, session: raw.session ?? fileStem,
        project: raw.project ?? parentName, model: model,
        agent: raw.agent ?? (fileStem.hasPrefix("agent-") ? String(fileStem.dropFirst(6)) : nil),
        file: path, line: n,
        counts: RequestTable.RawCounts(
          input: raw.input ?? 0, output: raw.output ?? 0, cacheCreation: raw.cacheCreation ?? 0,
          cacheRead: raw.cacheRead ?? 0, write5m: raw.write5m ?? 0, write1h: raw.write1h ?? 0,
          webSearch: raw.webSearch ?? 0),
        flags: flags, measured: raw.measured, headers: raw.rateLimit))
  }

  /// A structured capture: the whole file, or one JSON document per line.
  private mutating func handleCapture(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    let bytes = UnsafeBufferPointer(rebasing: all[range])
    var documents: [(Int, JSONValue)] = []
    if let whole = try? JSONParser.parse(bytes) {
      documents.append((1, whole))
      partial.ledger.lines += 1
    } else {
      var n = 0
      for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        n += 1
        partial.ledger.lines += 1
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
          partial.ledger.blankLines += 1
          continue
        }
        do {
          documents.append((n, try JSONParser.parse(Array(line))))
        } catch {
          partial.ledger.malformedLines += 1
          partial.ledger.problem(path, n, "\(error)")
        }
      }
      if n > 0, bytes.last == 0x0A {
        // The empty piece after the final newline is not a line.
        partial.ledger.lines -= 1
        partial.ledger.blankLines -= 1
      }
    }
    var reader = CaptureReader(path: path, fileStem: fileStem, parentName: parentName)
    for (n, doc) in documents {
      partial.ledger.records += 1
      let records = reader.read(doc, line: n, ledger: &partial.ledger)
      if records.isEmpty {
        partial.ledger.nonUsageLines += 1
        continue
      }
      for (k, raw) in records.enumerated() {
        accept(raw, n, line: k == 0 ? \.usageLines : nil)
      }
    }
  }

  /// Claude Code's project directory name for a working directory.
  static func encodeProject(_ cwd: String) -> String {
    String(
      cwd.unicodeScalars.map { s -> Character in
        (s.properties.isAlphabetic && s.isASCII) || ("0"..."9").contains(s) ? Character(s) : "-"
      })
  }
}
