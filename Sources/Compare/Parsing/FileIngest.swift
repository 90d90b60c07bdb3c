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

/// How to read input files.
public enum InputFormat: String, CaseIterable, Sendable {
  /// Decide per file from its first bytes.
  case auto
  /// JSON Lines: Claude Code transcripts, or one Messages API response per line.
  case jsonl
  /// One JSON document: a response (compact or pretty-printed) or an array of them.
  case json
}

/// What to keep while reading.
public struct IngestOptions: Sendable {
  public var format: InputFormat
  public var since: Instant?
  public var until: Instant?
  /// Keep only models whose logged or canonical id contains this (case-insensitive).
  public var modelFilter: String?
  public var catalog: ModelCatalog

  public init(
    format: InputFormat = .auto, since: Instant? = nil, until: Instant? = nil,
    modelFilter: String? = nil, catalog: ModelCatalog
  ) {
    self.format = format
    self.since = since
    self.until = until
    self.modelFilter = modelFilter?.lowercased()
    self.catalog = catalog
  }
}

/// The requests and ledger of one input file; partials merge in any order.
public struct FilePartial: Sendable {
  public var requests: [String: Request] = [:]
  public var ledger = Ledger()

  public init() {}

  mutating func add(_ record: UsageRecord) {
    let request = Request(record)
    if var existing = requests[record.key] {
      existing.absorb(request)
      requests[record.key] = existing
    } else {
      requests[record.key] = request
    }
  }

  /// Folds another partial in.
  public mutating func merge(_ other: FilePartial) {
    ledger.merge(other.ledger)
    if requests.isEmpty {
      requests = other.requests
      return
    }
    for (key, request) in other.requests {
      if var existing = requests[key] {
        existing.absorb(request)
        requests[key] = existing
      } else {
        requests[key] = request
      }
    }
  }
}

/// Builds partials from records, for callers that have records already.
public enum FilePartialBuilder {
  /// A partial holding one record.
  public static func single(_ record: UsageRecord) -> FilePartial {
    var p = FilePartial()
    p.add(record)
    p.ledger.usageRecords = 1
    return p
  }
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
  private var wholeDocument = false

  public init(options: IngestOptions, bufferSize: Int = 1 << 22) {
    self.options = options
    buffer = [UInt8](repeating: 0, count: max(bufferSize, 1 << 12))
  }

  /// Reads a file (or `-` for standard input) and returns what it held.
  public mutating func ingest(_ path: String) -> FilePartial {
    partial = FilePartial()
    self.path = path
    describe(path)
    partial.ledger.files = 1
    let fd: Int32
    if path == "-" {
      fd = 0
    } else {
      fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
      guard fd >= 0 else {
        partial.ledger.files = 0
        partial.ledger.filesSkipped = 1
        partial.ledger.skippedFiles.append(
          .init(file: path, line: 0, reason: "cannot open: \(FileSystem.errnoText(errno))"))
        return partial
      }
      var st = stat()
      if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG {
        close(fd)
        partial.ledger.files = 0
        partial.ledger.filesSkipped = 1
        partial.ledger.skippedFiles.append(.init(file: path, line: 0, reason: "not a regular file"))
        return partial
      }
      _ = fcntl(fd, F_SETFL, 0)
    }
    defer { if fd != 0 { close(fd) } }
    readLines(fd)
    return partial
  }

  private mutating func describe(_ path: String) {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    let name = parts.last ?? path
    fileStem = name.hasSuffix(".jsonl") ? String(name.dropLast(6)) : (name.hasSuffix(".json") ? String(name.dropLast(5)) : name)
    parentName = parts.count >= 2 ? parts[parts.count - 2] : ""
    fileProject = nil
    if let p = parts.lastIndex(of: "projects"), p + 2 < parts.count { fileProject = parts[p + 1] }
    if path == "-" { fileStem = "stdin" }
  }

  /// Reads with read(2) into the reusable buffer and hands out whole lines.
  private mutating func readLines(_ fd: Int32) {
    var filled = 0
    var lineNumber = 0
    var first = true
    var eof = false
    while !eof {
      if filled == buffer.count {
        // One line longer than the buffer: grow it.
        buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
      }
      let n = buffer.withUnsafeMutableBytes { raw in
        systemRead(fd, raw.baseAddress.map { $0 + filled }, raw.count - filled)
      }
      if n < 0 {
        if errno == EINTR { continue }
        partial.ledger.skippedFiles.append(
          .init(file: path, line: lineNumber, reason: "read failed: \(FileSystem.errnoText(errno))"))
        return
      }
      if n == 0 { eof = true }
      filled += n
      partial.ledger.bytes += Int64(n)
      if first, filled > 0 || eof {
        first = false
        if !decideFormat(filled, eof: eof) { return }
      }
      if wholeDocument && !eof { continue }
      var consumed = 0
      buffer.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return }
        var start = 0
        if wholeDocument {
          // The whole file is one JSON document.
          if filled > 0 { handleDocument(all, 0..<filled) }
          consumed = filled
          return
        }
        while start < filled {
          guard let p = memchr(base + start, 0x0A, filled - start) else { break }
          let nl = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
          lineNumber += 1
          handleLine(all, start..<nl, lineNumber)
          start = nl + 1
        }
        if eof, start < filled {
          lineNumber += 1
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

  /// Decides JSONL or whole-document reading from the first bytes; false skips the file.
  private mutating func decideFormat(_ filled: Int, eof: Bool) -> Bool {
    var i = 0
    if filled >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
      // A UTF-8 byte order mark: blank it out.
      buffer[0] = 0x20
      buffer[1] = 0x20
      buffer[2] = 0x20
    }
    while i < filled, buffer[i] == 0x20 || buffer[i] == 0x0A || buffer[i] == 0x0D || buffer[i] == 0x09 {
      i += 1
    }
    let probe = buffer[0..<min(filled, 4096)]
    if probe.contains(0), i < filled, buffer[i] != UInt8(ascii: "{"), buffer[i] != UInt8(ascii: "[") {
      partial.ledger.files = 0
      partial.ledger.filesSkipped = 1
      partial.ledger.skippedFiles.append(.init(file: path, line: 0, reason: "binary file"))
      return false
    }
    switch options.format {
    case .json: wholeDocument = true
    case .jsonl: wholeDocument = false
    case .auto:
      if i < filled, buffer[i] == UInt8(ascii: "[") {
        wholeDocument = true
      } else if i < filled, buffer[i] == UInt8(ascii: "{") {
        // Pretty-printed: the opening brace ends its line.
        var j = i + 1
        while j < filled, buffer[j] == 0x20 || buffer[j] == 0x09 || buffer[j] == 0x0D { j += 1 }
        wholeDocument = j < filled && buffer[j] == 0x0A
      }
    }
    return true
  }

  /// A whole-file document counts as one line: its records are classified
  /// like a line's, and a failure is reported at the line it happened on.
  private mutating func handleDocument(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    handleLine(all, range, 1, document: true)
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
    var blank = true
    for k in range where !(all[k] == 0x20 || all[k] == 0x0D || all[k] == 0x09) {
      blank = false
      break
    }
    if blank {
      partial.ledger.blankLines += 1
      return
    }
    var count = 0
    var failure: ScanFailure?
    failure = scanner.scan(all, range) { record in
      count += 1
      pending.append(record)
    }
    let records = pending
    pending.removeAll(keepingCapacity: true)
    for (k, record) in records.enumerated() {
      classify(record, all, lineNumber: n, countLine: k == 0)
    }
    if let failure {
      if count == 0 { partial.ledger.malformedLines += 1 }
      let line = document ? lineOf(all, failure.offset) : n
      let truncated = lastWithoutNewline && failure.reason.hasPrefix("unterminated")
      partial.ledger.problem(
        path, line, truncated ? "truncated last line (\(failure.reason))" : failure.reason)
    }
  }

  private var pending: [ScannedRecord] = []

  /// Sorts one record into the ledger and, if it carries usage, the partial.
  private mutating func classify(
    _ record: ScannedRecord, _ all: UnsafeBufferPointer<UInt8>, lineNumber n: Int, countLine: Bool
  ) {
    partial.ledger.records += 1
    let embedded = record.hasInner && record.inner.usage != nil
    let f = embedded ? record.inner : record.outer
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if countLine { partial.ledger[keyPath: field] += 1 }
    }
    guard let usage = f.usage else {
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
    func text(_ span: Span?, _ name: String) -> String?? {
      guard let span else { return .some(nil) }
      guard let s = scanner.decode(span) else {
        partial.ledger.problem(path, n, "invalid UTF-8 or escape in '\(name)'")
        return nil
      }
      return .some(s)
    }
    guard let model = text(f.model, "model"), let messageID = text(f.messageID, "id"),
      let requestID = text(f.requestID, "requestId"),
      let outerSession = text(record.outer.sessionID, "sessionId"),
      let stamp = text(f.timestamp ?? record.outer.timestamp, "timestamp"),
      let cwd = text(record.outer.cwd, "cwd"), let agent = text(record.outer.agentID, "agentId")
    else {
      count(\.malformedLines)
      return
    }
    if f.isAPIError == true || record.outer.isAPIError == true {
      count(\.skippedAPIError)
      return
    }
    if model == "<synthetic>" {
      count(\.skippedSynthetic)
      return
    }
    guard usage.input != nil || usage.output != nil else {
      count(\.malformedLines)
      partial.ledger.problem(path, n, "'usage' has no token counts")
      return
    }
    var time: Instant?
    if let stamp {
      time = Instant.parse(Array(stamp.utf8))
      if time == nil {
        partial.ledger.problem(path, n, "timestamp is not RFC 3339 with a time zone; time unknown")
      }
    }
    if time == nil { partial.ledger.recordsWithoutTime += 1 }
    if options.since != nil || options.until != nil {
      guard let t = time, options.since.map({ t >= $0 }) ?? true, options.until.map({ t < $0 }) ?? true
      else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    let modelName = model ?? ""
    if let filter = options.modelFilter {
      let canonical = options.catalog.resolve(modelName).id
      guard modelName.lowercased().contains(filter) || canonical.contains(filter) else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    let tokens: TokenUsage
    do {
      tokens = try TokenUsage.fromAPI(
        input: usage.input ?? 0, cacheCreation: usage.cacheCreation, cacheWrite5m: usage.write5m,
        cacheWrite1h: usage.write1h, cacheRead: usage.cacheRead, output: usage.output ?? 0,
        webSearchRequests: usage.webSearch)
    } catch {
      count(\.malformedLines)
      partial.ledger.problem(path, n, "\(error)")
      return
    }
    func small(_ span: Span?) -> String { span.flatMap { scanner.decode($0) } ?? "" }
    let options = RequestOptions(
      batch: small(usage.serviceTier) == "batch", usGeo: small(usage.inferenceGeo) == "us",
      fast: small(usage.speed) == "fast")
    let key: String
    if let messageID, !messageID.isEmpty {
      key = requestID.flatMap { $0.isEmpty ? nil : messageID + "\u{1F}" + $0 } ?? messageID
    } else {
      key = "\(path)\u{1F}\(n)\u{1F}\(partial.ledger.records)"
    }
    count(\.usageLines)
    partial.ledger.usageRecords += 1
    if embedded { partial.ledger.embeddedCopies += 1 }
    let project = fileProject ?? cwd.map(Self.encodeProject) ?? parentName
    partial.add(
      UsageRecord(
        key: key, messageID: messageID, requestID: requestID, time: time,
        session: outerSession ?? fileStem, project: project, model: modelName,
        agent: agent ?? (fileStem.hasPrefix("agent-") ? String(fileStem.dropFirst(6)) : nil),
        sidechain: embedded || (f.isSidechain ?? record.outer.isSidechain ?? false),
        embedded: embedded, stopReason: f.stopReason, usage: tokens, options: options, file: path, line: n))
  }

  /// Claude Code's project directory name for a working directory.
  static func encodeProject(_ cwd: String) -> String {
    String(
      cwd.unicodeScalars.map { s -> Character in
        (s.properties.isAlphabetic && s.isASCII) || ("0"..."9").contains(s) ? Character(s) : "-"
      })
  }
}

