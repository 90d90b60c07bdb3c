import CSupport
import Dispatch
import EstimateModel
import Synchronization

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

/// Reads one file into a partial: bytes → lines → records.
public struct FileIngest {
  let options: IngestOptions
  var scanner = LineScanner()
  /// The last model and session decoded, by their bytes: runs of lines repeat them.
  var modelCache: (bytes: [UInt8], text: String)?
  var sessionCache: (bytes: [UInt8], text: String)?
  /// The last `cwd` read (issue 15: shown for people beside the project key).
  var cwdCache: (bytes: [UInt8], text: String)?
  var buffer: [UInt8]
  var partial = FilePartial()
  var path = ""
  var fileProject: String?
  var fileStem = ""
  /// The agent a file's name gives (`agent-<id>.jsonl`), for records that name none.
  var fileAgent: String?
  var parentName = ""
  var mode = Mode.lines
  var pending: [ScannedRecord] = []
  /// The encoded key of the record being read (reused: no allocation per record).
  var keyScratch: [UInt8] = []
  /// The file's names interned in `partial`'s table (set by the lean path; a new partial clears it).
  var fileIDs: FileIDs?
  /// The lean path's last session, model and cwd, by their bytes.
  var recentSession = RecentText()
  var recentModel = RecentText()
  var recentCwd = RecentText()
  /// The last cwd turned into a project name, and that name (a file
  /// outside a projects folder names the project of each line from it).
  var lastProject: (cwd: String, project: String)?
  /// The message a stream is building (`message_start` … `message_stop`).
  var stream: RawUsage?
  var streamLine = 0

  /// A HAR's records are accepted as they are read and paired at the end
  /// (``CaptureReader/HARPairing``): the ticket of the record being
  /// accepted, and each ticketed record's row (a record may make several:
  /// its iterations' steps).
  var harTicket: Int?
  var harTicketRows: [(ticket: Int, row: Int)] = []

  /// tokengap's own rows (``RowReader``): the state of the file being read.
  var rowReader = RowReader()

  enum Mode { case lines, sse, document, capture, rows }
  /// A capture that is a VCR cassette (YAML), read by ``CassetteReader``.
  var cassette = false

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

  /// Gives up the read buffer, to hand to the next reader: the caller holds
  /// the only reference, so the next reader writes into it without a copy.
  package mutating func takeReadBuffer() -> [UInt8] {
    let taken = buffer
    buffer = []
    return taken
  }

  /// Asks the kernel to back a large buffer not yet written with 2 MiB
  /// pages (Linux, where transparent huge pages are on request): a whole
  /// file read into it then takes a page fault per 2 MiB, not per 4 KiB.
  /// Only the whole 2 MiB pages inside the buffer are named; elsewhere, or
  /// when the kernel declines, nothing changes.
  package static func adviseHugePages(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
    #if os(Linux)
      let huge = 1 << 21
      guard buffer.count >= 4 * huge, let base = buffer.baseAddress else { return }
      let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
      let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
      guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(p, end - start, MADV_HUGEPAGE)
    #endif
  }

  /// Below this, the rest of a document is read with one read(2).
  package static let sideBySideMinimum = 16 << 20

  /// Reads up to `count` bytes from `fd`'s offset into `base` as read(2)
  /// would, with pread(2) in `pieces` stretches side by side: the copy from
  /// the page cache and the faulting-in of the fresh buffer (most of the
  /// time a large capture spends before its first entry is read) are shared
  /// by the cores. Stretches end on 2 MiB marks of the buffer, so no huge
  /// page is faulted in by two of them.
  ///
  /// Returns the bytes read without a gap from the start, and leaves the
  /// offset after them: a file that shrank meanwhile is read up to where a
  /// stretch fell short. When the first stretch read nothing, or the offset
  /// cannot be told (a pipe), one read(2) decides, so an error or the end
  /// of the file reads as it always has.
  package static func readSideBySide(_ fd: Int32, into base: UnsafeMutableRawPointer, count: Int, pieces: Int) -> Int {
    let start = lseek(fd, 0, SEEK_CUR)
    var st = stat()
    guard start >= 0, pieces > 1, fstat(fd, &st) == 0 else { return systemRead(fd, base, count) }
    // The stretches cover what the file holds now (the buffer may be larger).
    let span = min(count, Int(max(0, Int64(st.st_size) - Int64(start))))
    guard span >= sideBySideMinimum else { return systemRead(fd, base, count) }
    let huge = 1 << 21
    let address = Int(bitPattern: base)
    var cuts = [0]
    for k in 1..<pieces {
      let mark = ((address + span * k / pieces + huge - 1) & ~(huge - 1)) - address
      if mark > cuts[cuts.count - 1], mark < span { cuts.append(mark) }
    }
    cuts.append(span)
    let got = Mutex([Int](repeating: 0, count: cuts.count - 1))
    let target = UnsafeSendable(base)
    let bounds = cuts
    DispatchQueue.concurrentPerform(iterations: bounds.count - 1) { k in
      var done = 0
      let length = bounds[k + 1] - bounds[k]
      while done < length {
        let n = pread(fd, target.value + bounds[k] + done, length - done, start + off_t(bounds[k] + done))
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        done += n
      }
      got.withLock { $0[k] = done }
    }
    var total = 0
    for (k, n) in got.withLock({ $0 }).enumerated() {
      total += n
      if n < bounds[k + 1] - bounds[k] { break }
    }
    guard total > 0 else { return systemRead(fd, base, count) }
    _ = lseek(fd, start + off_t(total), SEEK_SET)
    return total
  }

  /// A byte array whose contents will be overwritten by read(2): not zeroed.
  static func uninitialized(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
  }

  /// Reads a file (or `-` for standard input) and returns what it held.
  public mutating func ingest(_ path: String) -> FilePartial {
    ingest(path, chunk: nil)
  }

  /// Begins a new partial for `path` (or a chunk of it): every per-file
  /// state is reset, the interned ids with the table they belong to.
  mutating func start(_ path: String, chunk: Chunk?) {
    partial = FilePartial()
    fileIDs = nil
    recentSession.reset()
    recentModel.reset()
    recentCwd.reset()
    self.chunk = chunk
    lineCount = 0
    stream = nil
    rowReader = RowReader()
    self.path = path
    describe(path)
    partial.ledger.files = 1
  }

  /// A byte range of a large JSON Lines file, read as lines on its own.
  public struct Chunk: Sendable {
    public var start: Int64
    public var end: Int64
    public var first: Bool
    /// A chunk of tokengap's own rows, not of transcripts.
    public var rows = false
    /// Rows as CSV: the file's header line, for the chunks after the first.
    public var csvHeader: [UInt8]?
  }

  /// Reads a file, or one chunk of it; a chunk's line numbers count from its
  /// start (the caller adds the lines of the chunks before it).
  public mutating func ingest(_ path: String, chunk: Chunk?) -> FilePartial {
    start(path, chunk: chunk)
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
    return read(fd)
  }

  /// Reads an open file from its offset, named `name` (as `ingest("-")`
  /// reads standard input); the descriptor is left open.
  package mutating func ingest(descriptor fd: Int32, name: String) -> FilePartial {
    start(name, chunk: nil)
    remaining = .max
    return read(fd)
  }

  /// Reads the open file of ``start(_:chunk:)`` up to ``remaining``.
  private mutating func read(_ fd: Int32) -> FilePartial {
    // read(2), not mmap: a file truncated by another process while mapped
    // would raise SIGBUS; reading costs about the same here (measured).
    readLines(fd)
    finishStream()
    partial.lineCount = lineCount
    if chunk != nil, mode == .rows {
      partial.rowChunk = RowChunk(
        schema: rowReader.fileSchema, places: Set(rowReader.ordinals.keys),
        schemaProblems: rowReader.refused || partial.ledger.problems.contains { $0.kind == .rowSchema },
        openRecord: !rowReader.carry.isEmpty)
    }
    return partial
  }

  var chunk: Chunk?
  var remaining: Int64 = .max
  var lineCount = 0

  /// A read(2) that failed (errno says why) at `line`: the file is listed
  /// as skipped there; what was read before it still counts.
  mutating func noteReadFailure(line: Int) {
    partial.ledger.skippedFiles.append(
      .init(.skippedFile, file: path, line: line, reason: "read failed: \(POSIXFiles.errnoText(errno))"))
  }

  mutating func skipFile(_ reason: String) {
    partial.ledger.files = 0
    partial.ledger.filesSkipped = 1
    partial.ledger.skippedFiles.append(.init(.skippedFile, file: path, line: 0, reason: reason))
  }

  mutating func describe(_ path: String) {
    // Split as bytes; a String is made only for the parts kept.
    let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
    func text(_ part: Substring.UTF8View) -> String { String(Substring(part)) }
    let name = parts.last.map(text) ?? path
    var stem = name
    for ext in [".jsonl", ".json", ".har", ".txt", ".sse", ".yaml", ".yml"] where stem.hasSuffix(ext) {
      stem = String(stem.dropLast(ext.count))
      break
    }
    fileStem = path == "-" ? "stdin" : stem
    fileAgent = fileStem.hasPrefix("agent-") ? String(fileStem.dropFirst(6)) : nil
    parentName = parts.count >= 2 ? text(parts[parts.count - 2]) : ""
    fileProject = nil
    if let p = parts.lastIndex(where: { $0.elementsEqual("projects".utf8) }), p + 2 < parts.count {
      fileProject = text(parts[p + 1])
    }
  }

  /// Reads bytes held in memory (bytes handed in): the
  /// format from the first bytes, then lines, a document or a capture.
  mutating func process(_ all: UnsafeMutableBufferPointer<UInt8>) {
    let filled = all.count
    partial.ledger.bytes += Int64(filled)
    if let chunk, !chunk.first {
      mode = chunk.rows ? .rows : .lines
      if let header = chunk.csvHeader { adoptHeader(header) }
    } else if !decideFormat(all, filled) {
      return
    }
    let view = UnsafeBufferPointer(all)
    if mode == .document || mode == .capture, filled > options.captureLimit {
      skipLargeDocument()
      return
    }
    if mode == .document || mode == .capture {
      if mode == .document { handleLine(view, 0..<filled, 1, document: true) } else { handleCapture(view, 0..<filled) }
      return
    }
    guard let base = view.baseAddress else { return }
    var at = 0
    var lineNumber = 0
    while at < filled {
      guard let p = memchr(base + at, 0x0A, filled - at) else { break }
      let nl = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
      lineNumber += 1
      handleLine(view, at..<nl, lineNumber)
      at = nl + 1
    }
    if at < filled {
      lineNumber += 1
      handleLine(view, at..<filled, lineNumber, lastWithoutNewline: true)
    }
    lineCount = lineNumber
  }

  /// Reads bytes already in memory as one input named `name`: the entry point
  /// for fuzzing and for embedders, with no file in between.
  public mutating func ingest(bytes: [UInt8], name: String) -> FilePartial {
    start(name, chunk: nil)
    mode = .lines
    var copy = bytes
    if !copy.isEmpty { copy.withUnsafeMutableBufferPointer { process($0) } }
    finishStream()
    partial.lineCount = lineCount
    return partial
  }

  /// Reads with read(2) into the reusable buffer and hands out whole lines.
  /// `windows`: a large HAR may be read window by window (false when that
  /// read fell back to this one).
  mutating func readLines(_ fd: Int32, windows: Bool = true) {
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
            skipLargeDocument()
            return
          }
          lineNumber += 1
          lineCount = lineNumber
          skipLongLine(lineNumber)
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
              FileIngest.adviseHugePages(new)
              _ = new.initialize(from: old)
              initialized = size
            }
          }
        }
      }
      let want = Int(min(Int64(buffer.count - filled), remaining))
      let whole = chunk == nil && (mode == .document || mode == .capture)
      let n =
        want == 0
        ? 0
        : buffer.withUnsafeMutableBytes { raw in
          guard let base = raw.baseAddress else { return 0 }
          // The rest of a large document: read in pieces side by side.
          if whole, want >= Self.sideBySideMinimum, ParallelIngest.threads > 1 {
            return Self.readSideBySide(fd, into: base + filled, count: want, pieces: ParallelIngest.threads)
          }
          return systemRead(fd, base + filled, want)
        }
      if n > 0 { remaining -= Int64(n) }
      if n < 0 {
        if errno == EINTR { continue }
        noteReadFailure(line: lineNumber)
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
          mode = chunk.rows ? .rows : .lines
          if let header = chunk.csvHeader { adoptHeader(header) }
        } else if !decideFormat(filled) {
          return
        }
        // A large HAR: read window by window, never whole.
        if windows, mode == .capture, !eof, readHARWindows(fd, filled: filled) { return }
      }
      if first || ((mode == .document || mode == .capture) && !eof) { continue }
      if mode == .document || mode == .capture, filled > options.captureLimit {
        // Smaller than the buffer, larger than the cap: the cap is what counts.
        skipLargeDocument()
        return
      }
      var consumed = 0
      buffer.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return }
        var start = 0
        if mode == .document || mode == .capture {
          if filled > 0 {
            if mode == .document {
              handleLine(all, 0..<filled, 1, document: true)
            } else {
              handleCapture(all, 0..<filled)
            }
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
  mutating func decideFormat(_ filled: Int) -> Bool {
    var bytes = buffer
    buffer = []
    defer { buffer = bytes }
    return bytes.withUnsafeMutableBufferPointer { decideFormat($0, filled) }
  }

  /// Decides how to read the file from its first bytes; false skips it.
  mutating func decideFormat(_ buffer: UnsafeMutableBufferPointer<UInt8>, _ filled: Int) -> Bool {
    cassette = false
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
    let startsSSE =
      i < filled
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
    if !startsJSON, options.format == .auto || options.format == .capture,
      Discovery.isYAML(path) || (!startsSSE && CassetteReader.looksLikeCassette(probe))
    {
      // YAML: a VCR cassette, or not data (FileIngest+Cassette).
      mode = .capture
      cassette = true
      return true
    }
    switch options.format {
    case .json: mode = .document
    case .jsonl: mode = .lines
    case .sse: mode = .sse
    case .capture: mode = .capture
    case .auto:
      if startsJSON, buffer[i] == UInt8(ascii: "{"), FormatSniffer.isRows(probe) {
        mode = .rows
      } else if !startsJSON, UnsafeBufferPointer(rebasing: buffer[i..<filled]).starts(with: FormatSniffer.rowsCSVHeader)
      {
        mode = .rows
        rowReader.csv = true
      } else if !startsJSON, startsSSE {
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
  /// A line over the cap: one malformed line, one problem, nothing read from it.
  mutating func skipLongLine(_ n: Int) {
    partial.ledger.lines += 1
    partial.ledger.malformedLines += 1
    partial.ledger.problem(
      .lineTooLong, path, n, "line longer than \(options.lineLimit) bytes (raise it with --max-line-mib): skipped")
  }

  /// A document over the cap: the file is skipped, with the option that raises it.
  mutating func skipLargeDocument() {
    skipFile("document larger than \(options.captureLimit) bytes (raise it with --max-document-mib)")
  }

  func lineOf(_ all: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
    var line = 1
    for k in 0..<min(offset, all.count) where all[k] == 0x0A { line += 1 }
    return line
  }

  mutating func handleLine(
    _ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ n: Int, document: Bool = false,
    lastWithoutNewline: Bool = false
  ) {
    if !document, range.count > options.lineLimit {
      skipLongLine(n)
      return
    }
    partial.ledger.lines += 1
    if mode == .rows {
      handleRow(all, range, n, lastWithoutNewline: lastWithoutNewline)
      return
    }
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
    // An open stream learns from its content blocks (a fallback, a server tool).
    if stream != nil { noteStreamBlock(all, start..<range.upperBound) }
    // The common line, one object, is scanned into a local record and lent
    // from there: one held in an array is copied (900 bytes and their
    // retains) to be lent to a mutating method.
    var record = ScannedRecord()
    if scanner.scanSingle(all, start..<range.upperBound, into: &record) {
      classify(record, lineNumber: n, countLine: true)
      if document { noteDocumentServerTools(all, start..<range.upperBound) }
      return
    }
    pending.removeAll(keepingCapacity: true)
    let failure = scanner.scan(all, start..<range.upperBound, into: &pending)
    var count = pending.count
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
    for k in records.indices { classify(records[k], lineNumber: n, countLine: k == 0) }
    records.removeAll(keepingCapacity: true)
    pending = records
    if document { noteDocumentServerTools(all, start..<range.upperBound) }
    if let failure {
      if count == 0 { partial.ledger.malformedLines += 1 }
      let line = document ? lineOf(all, failure.offset) : n
      let truncated = lastWithoutNewline && failure.reason.hasPrefix("unterminated")
      partial.ledger.problem(
        truncated ? .truncated : .malformed, path, line,
        truncated ? "truncated last line (\(failure.reason))" : failure.reason,
        offset: failure.offset - range.lowerBound)
    }
  }
}
