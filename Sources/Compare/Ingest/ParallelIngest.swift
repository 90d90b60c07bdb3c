import EstimateModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads files in parallel, each into its own partial, and merges them.
///
/// Files are the unit of work; a JSON Lines file larger than `chunkSize` is
/// split at line boundaries into chunks of about that size, whatever `jobs`
/// is, so the output never depends on the number of jobs.
public enum ParallelIngest {
  public static let chunkSize: Int64 = 8 << 20

  struct Work: Sendable {
    var file: Int
    var path: String
    var chunk: FileIngest.Chunk?
    var index: Int
    /// How many pieces its file is read in.
    var pieces = 1
    /// Its place in the run: partials are merged in this order, whichever
    /// finishes first, so nothing that keeps arrival order (the ledger's
    /// Retry-After values) depends on timing.
    var order = 0
  }

  /// Chunk boundaries of a large JSON Lines file, each just after a newline.
  ///
  /// `limit` reads the file only up to that byte (the end of its last
  /// complete line, for a file that is still being written).
  static func chunks(_ path: String, options: IngestOptions, limit: Int64? = nil) -> [FileIngest.Chunk]? {
    guard path != "-", options.format == .auto || options.format == .jsonl else { return nil }
    let fd = open(POSIXFiles.cPath(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    let size = min(Int64(st.st_size), limit ?? .max)
    guard size > chunkSize else { return nil }
    var probe = [UInt8](repeating: 0, count: 65_536)
    let n = probe.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return nil }
    let head = probe[0..<n]
    if options.format == .auto, let header = csvRowsHeader(head) {
      return csvChunks(fd, size: size, header: header)
    }
    // tokengap's own rows (JSON Lines) split too: the chunks are checked
    // against each other when merged (``RowChunk``).
    let rows = options.format == .auto && FormatSniffer.isRows(head)
    // Only plain JSON Lines split: not documents, captures or streams.
    guard
      let first = head.first(where: {
        $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF
      }),
      first == UInt8(ascii: "{"), !FormatSniffer.isCapture(head),
      rows || !head.withUnsafeBufferPointer({ FileIngest.contains($0, 0..<$0.count, Array("message_start".utf8)) }),
      let nl = head.firstIndex(of: 0x0A), head[..<nl].contains(where: { $0 == UInt8(ascii: "}") })
    else { return nil }
    var bounds: [Int64] = [0]
    var at = chunkSize
    var window = [UInt8](repeating: 0, count: 1 << 16)
    while at < size {
      // Move to just after the next newline.
      var found: Int64?
      var pos = at
      while found == nil, pos < size {
        let m = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(pos)) }
        guard m > 0 else { break }
        if let k = window[0..<m].firstIndex(of: 0x0A) { found = pos + Int64(k) + 1 } else { pos += Int64(m) }
      }
      guard var cut = found, cut < size else { break }
      // Never cut inside a stream: move past lines that continue one.
      var moved: Int64 = 0
      while !rows, cut < size, moved < chunkSize, let line = lineStart(fd, at: cut, size: size),
        continuesStream(line.bytes)
      {
        moved += line.length
        cut += line.length
      }
      guard cut < size, moved < chunkSize else { break }
      bounds.append(cut)
      at = cut + chunkSize
    }
    bounds.append(size)
    return (0..<(bounds.count - 1)).map {
      FileIngest.Chunk(start: bounds[$0], end: bounds[$0 + 1], first: $0 == 0, rows: rows)
    }
  }

  /// The header line of tokengap's own rows as CSV (the request CSV's
  /// header first), when the file's first bytes are one and it holds no quote.
  static func csvRowsHeader(_ head: ArraySlice<UInt8>) -> [UInt8]? {
    var i = head.startIndex
    // What the format sniffer skips: a byte order mark, then white space.
    if head[i...].starts(with: [0xEF, 0xBB, 0xBF]) { i += 3 }
    while i < head.endIndex, head[i] == 0x20 || head[i] == 0x0A || head[i] == 0x0D || head[i] == 0x09 { i += 1 }
    guard head[i...].starts(with: FormatSniffer.rowsCSVHeader), let nl = head[i...].firstIndex(of: 0x0A),
      !head[i..<nl].contains(UInt8(ascii: "\""))
    else { return nil }
    return Array(head[i..<nl])
  }

  /// Chunks of a CSV rows file, each cut just after a newline outside
  /// quotes (an even number of quotes before it). A cut the reader finds
  /// inside a record after all (a stray quote) is caught when the chunks
  /// are merged (``RowChunk``), and the file is then read whole.
  static func csvChunks(_ fd: Int32, size: Int64, header: [UInt8]) -> [FileIngest.Chunk] {
    var bounds: [Int64] = [0]
    var target = chunkSize
    var quoted = false
    var window = [UInt8](repeating: 0, count: 1 << 16)
    var pos: Int64 = 0
    var done = false
    while !done, pos < size {
      let m = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(pos)) }
      guard m > 0 else { break }
      window.withUnsafeBufferPointer { w in
        guard let base = w.baseAddress else { return }
        var k = 0
        while k < m {
          if k + 8 <= m {
            // Eight bytes at a time past those with neither a quote nor a newline.
            let x = UInt64(littleEndian: UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self))
            let q = x ^ 0x2222_2222_2222_2222
            let l = x ^ 0x0A0A_0A0A_0A0A_0A0A
            let low: UInt64 = 0x0101_0101_0101_0101
            if ((q &- low) & ~q | (l &- low) & ~l) & 0x8080_8080_8080_8080 == 0 {
              k += 8
              continue
            }
          }
          let c = base[k]
          if c == UInt8(ascii: "\"") {
            quoted.toggle()
          } else if c == 0x0A, !quoted, pos + Int64(k) >= target {
            let cut = pos + Int64(k) + 1
            guard cut < size else {
              done = true
              return
            }
            bounds.append(cut)
            target = cut + chunkSize
          }
          k += 1
        }
      }
      pos += Int64(m)
    }
    bounds.append(size)
    return (0..<(bounds.count - 1)).map {
      FileIngest.Chunk(
        start: bounds[$0], end: bounds[$0 + 1], first: $0 == 0, rows: true, csvHeader: $0 == 0 ? nil : header)
    }
  }

  /// Whether a file whose first bytes (up to 64 KiB) are `head` is plain
  /// JSON Lines: read line by line, each line on its own, so it can be cut
  /// at any line end (not a document, a capture, a stream or tokengap's rows).
  static func isPlainLines(_ head: ArraySlice<UInt8>) -> Bool {
    guard
      let first = head.first(where: {
        $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF
      }),
      first == UInt8(ascii: "{"), !FormatSniffer.isCapture(head),
      // Rows are read whole: a file's schema and its rows' source lines stay together.
      !FormatSniffer.isRows(head),
      !head.withUnsafeBufferPointer({ FileIngest.contains($0, 0..<$0.count, Array("message_start".utf8)) }),
      let nl = head.firstIndex(of: 0x0A), head[..<nl].contains(where: { $0 == UInt8(ascii: "}") })
    else { return false }
    return true
  }

  /// Stream events that belong to an open stream (everything but its start).
  static let streamContinuations: [[UInt8]] = [
    "\"message_delta\"", "\"message_stop\"", "\"content_block_start\"", "\"content_block_delta\"",
    "\"content_block_stop\"", "\"ping\"",
  ].map { Array($0.utf8) }

  /// Whether a line (its first 64 KiB) carries a stream event other than `message_start`.
  static func continuesStream(_ line: ArraySlice<UInt8>) -> Bool {
    line.withUnsafeBufferPointer { buf in
      streamContinuations.contains { FileIngest.contains(buf, 0..<buf.count, $0) }
    }
  }

  /// The line starting at `at` (its first 64 KiB) and its full length, newline included.
  static func lineStart(_ fd: Int32, at: Int64, size: Int64) -> (bytes: ArraySlice<UInt8>, length: Int64)? {
    var window = [UInt8](repeating: 0, count: 1 << 16)
    let m = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(at)) }
    guard m > 0 else { return nil }
    if let k = window[0..<m].firstIndex(of: 0x0A) { return (window[0..<k], Int64(k) + 1) }
    // A line longer than the window: find its end; its start is what is checked.
    let head = window[0..<m]
    var pos = at + Int64(m)
    while pos < size {
      let n = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(pos)) }
      guard n > 0 else { break }
      if let k = window[0..<n].firstIndex(of: 0x0A) { return (head, pos + Int64(k) + 1 - at) }
      pos += Int64(n)
    }
    return nil
  }

  /// How far a run has come, for a progress display.
  public struct Progress: Sendable {
    /// Pieces of work (files, or chunks of large files) read, of all.
    public var done: Int
    public var total: Int
    public var bytes: Int64
    /// Distinct requests so far.
    public var requests: Int
  }

  /// Ingests every file with at most `jobs` pieces of work in flight;
  /// `progress` hears after each piece is merged (in order, on one task).
  /// `sizes` (``Discovery/sizes``) spares opening a file to learn it is too
  /// small to split.
  public static func run(
    _ files: [String], sizes: [String: Int64] = [:], options: IngestOptions, jobs: Int,
    progress: ((Progress) -> Void)? = nil
  ) async -> Analyzer {
    await run(files, sizes: sizes, limits: [:], options: options, jobs: jobs, progress: progress)
  }

  /// ``run(_:sizes:options:jobs:progress:)`` reading each file named in
  /// `limits` only up to that byte (a JSON Lines file still being written:
  /// up to the end of its last complete line).
  package static func run(
    _ files: [String], sizes: [String: Int64] = [:], limits: [String: Int64], options: IngestOptions, jobs: Int,
    progress: ((Progress) -> Void)? = nil
  ) async -> Analyzer {
    var planner = Planner(options: options, limits: limits)
    var work: [Work] = []
    for path in files { work += planner.pieces(of: path, size: sizes[path]) }
    var next = 0
    return await ingest(options: options, jobs: jobs, progress: progress) {
      guard next < work.count else { return nil }
      next += 1
      return work[next - 1]
    }
  }

  /// ``run(_:sizes:options:jobs:progress:)`` over the files `feed` hands
  /// over while a walk is still finding them (``Discovery/find(_:modifiedSince:found:)``):
  /// the reading starts with the first file found. The same run as over
  /// the finished list.
  package static func run(
    feed: Feed, options: IngestOptions, jobs: Int, progress: ((Progress) -> Void)? = nil
  ) async -> Analyzer {
    var planner = Planner(options: options, limits: [:])
    var pending: [Work] = []
    var taken = 0
    return await ingest(options: options, jobs: jobs, progress: progress) {
      while pending.isEmpty {
        guard let (path, size) = await feed.file(taken) else { return nil }
        taken += 1
        pending = planner.pieces(of: path, size: size).reversed()
      }
      return pending.popLast()
    }
  }

  /// Cuts files into pieces of work, numbered in run order.
  struct Planner {
    let options: IngestOptions
    let limits: [String: Int64]
    var files = 0
    var order = 0

    /// The pieces of the next file: its chunks when it is a large JSON
    /// Lines file, else the file whole.
    mutating func pieces(of path: String, size: Int64?) -> [Work] {
      let i = files
      files += 1
      let limit = limits[path]
      let small = (limit ?? size).map { $0 <= chunkSize } ?? false
      var out: [Work] = []
      if !small, let chunks = ParallelIngest.chunks(path, options: options, limit: limit), chunks.count > 1 {
        for (k, c) in chunks.enumerated() {
          out.append(Work(file: i, path: path, chunk: c, index: k, pieces: chunks.count))
        }
      } else {
        let whole = limit.map { FileIngest.Chunk(start: 0, end: $0, first: true) }
        out.append(Work(file: i, path: path, chunk: whole, index: 0))
      }
      for k in out.indices {
        out[k].order = order
        order += 1
      }
      return out
    }
  }

  /// Files handed from a directory walk to a run while the walk goes on.
  package final class Feed: Sendable {
    private struct State {
      var files: [(path: String, size: Int64?)] = []
      var done = false
      var waiting: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    package init() {}

    /// A file found (its size from the walk's `stat`; nil for standard input).
    package func add(_ path: String, size: Int64?) {
      let waiting = state.withLock { s in
        s.files.append((path, size))
        defer { s.waiting = nil }
        return s.waiting
      }
      waiting?.resume()
    }

    /// The walk has ended: no file follows.
    package func finish() {
      let waiting = state.withLock { s in
        s.done = true
        defer { s.waiting = nil }
        return s.waiting
      }
      waiting?.resume()
    }

    /// File `k` (from 0), once found; nil when the walk ended without it.
    /// One caller at a time.
    func file(_ k: Int) async -> (path: String, size: Int64?)? {
      while true {
        let ready: (path: String, size: Int64?)?? = state.withLock { s in
          k < s.files.count ? .some(s.files[k]) : s.done ? .some(nil) : nil
        }
        if let ready { return ready }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
          let now = state.withLock { s in
            guard k >= s.files.count, !s.done else { return true }
            s.waiting = c
            return false
          }
          if now { c.resume() }
        }
      }
    }
  }

  /// Reads the pieces `next` hands out, at most `jobs` at once, and merges
  /// them in run order.
  private static func ingest(
    options: IngestOptions, jobs: Int, progress: ((Progress) -> Void)?, next: () async -> Work?
  ) async -> Analyzer {
    var analyzer = Analyzer()
    // Chunks of one file are added in order, each as soon as the chunks
    // before it are in (its line numbers start after theirs); only chunks
    // that finish early wait.
    var waiting: [Int: [Int: FilePartial]] = [:]
    var nextChunk: [Int: (index: Int, lineOffset: Int)] = [:]
    var done = 0
    var started = 0
    var bytes: Int64 = 0
    func deliver(_ w: Work, _ p: FilePartial) {
      done += 1
      analyzer.linesByFile[w.path, default: 0] += p.lineCount
      bytes += p.ledger.bytes
      defer {
        progress?(Progress(done: done, total: started, bytes: bytes, requests: analyzer.table.count))
      }
      guard w.pieces > 1 else {
        analyzer.add(p)
        return
      }
      waiting[w.file, default: [:]][w.index] = p
      if w.chunk?.rows == true {
        // Rows: every chunk is in before any is added, and when they do
        // not read as the whole file does, the file is read again whole.
        guard let parts = waiting[w.file], parts.count == w.pieces else { return }
        waiting[w.file] = nil
        let ordered = (0..<w.pieces).compactMap { parts[$0] }
        let checks = ordered.compactMap(\.rowChunk)
        guard ordered.count == w.pieces, checks.count == ordered.count, RowChunk.agree(checks) else {
          var whole = FileIngest(options: options)
          analyzer.add(whole.ingest(w.path))
          return
        }
        var offset = 0
        for var part in ordered {
          part.shiftLines(by: offset, in: w.path)
          offset += part.lineCount
          analyzer.add(part)
        }
        return
      }
      var state = nextChunk[w.file] ?? (0, 0)
      while var part = waiting[w.file]?.removeValue(forKey: state.index) {
        part.shiftLines(by: state.lineOffset, in: w.path)
        state.lineOffset += part.lineCount
        state.index += 1
        analyzer.add(part)
      }
      nextChunk[w.file] = state
      if state.index == w.pieces { waiting[w.file] = nil }
    }
    let jobs = max(1, jobs)
    if jobs == 1 {
      var ingest = FileIngest(options: options)
      while let w = await next() {
        started += 1
        deliver(w, ingest.ingest(w.path, chunk: w.chunk))
      }
      return analyzer
    }
    // Each reader's buffer (hot in the cache) goes back to the next piece of
    // work instead of a new one being allocated per file. It travels in a box
    // that is emptied when taken: a buffer captured by the task closure would
    // stay referenced there, and the reader's first write would copy it.
    await withTaskGroup(of: (Work, FilePartial, ReadBuffer).self) { group in
      func start(_ group: inout TaskGroup<(Work, FilePartial, ReadBuffer)>, _ w: Work, _ box: ReadBuffer) {
        started += 1
        group.addTask {
          var ingest = FileIngest(options: options, reusing: box.take())
          let partial = ingest.ingest(w.path, chunk: w.chunk)
          box.put(ingest.takeReadBuffer())
          return (w, partial, box)
        }
      }
      for _ in 0..<jobs {
        guard let w = await next() else { break }
        start(&group, w, ReadBuffer())
      }
      var finished: [Int: (Work, FilePartial)] = [:]
      var due = 0
      while let (w, partial, box) = await group.next() {
        // The next piece starts before this one is merged: a reader never
        // waits for the merge.
        if let n = await next() { start(&group, n, box) }
        finished[w.order] = (w, partial)
        while let (nw, p) = finished.removeValue(forKey: due) {
          deliver(nw, p)
          due += 1
        }
      }
    }
    return analyzer
  }

  /// A read buffer handed from one piece of work to the next; only one task
  /// holds it at a time (it is passed on when the task has finished).
  final class ReadBuffer: @unchecked Sendable {
    private var bytes: [UInt8] = []

    /// The buffer, leaving the box empty so the caller's reference is the only one.
    func take() -> [UInt8] {
      let taken = bytes
      bytes = []
      return taken
    }

    func put(_ buffer: [UInt8]) { bytes = buffer }
  }

  /// The number of cores available.
  public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// The threads the steps after the reading use side by side (marking
  /// replays, pricing, grouping, sorting, writing text): the cores, unless
  /// ``limitThreads(_:)`` set fewer. How many threads read is `run`'s `jobs`.
  public static var threads: Int {
    let limit = threadLimit.load(ordering: .relaxed)
    return limit > 0 ? min(limit, cores) : cores
  }

  /// Limits ``threads`` to `n` (at least 1) for the rest of the process:
  /// with `--jobs 1` a run uses one core throughout, not only to read.
  /// No output depends on it.
  public static func limitThreads(_ n: Int) { threadLimit.store(max(1, n), ordering: .relaxed) }

  private static let threadLimit = Atomic<Int>(0)
}
