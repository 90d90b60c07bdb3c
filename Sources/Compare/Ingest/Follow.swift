import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// How far a JSON Lines file was read, and what it looked like there: enough
/// to tell, later, whether it only grew (read the new bytes) or was
/// truncated or replaced (read it again).
package struct FileMark: Sendable, Equatable {
  package var path: String
  package var device: UInt64
  package var inode: UInt64
  /// Just after the last complete line read.
  package var offset: Int64
  /// The lines before `offset`.
  package var lines: Int
  /// The file's size and modification time when it was read.
  package var size: Int64
  package var modified: Int64
  /// Hashes of the first bytes of the file and of the bytes just before
  /// `offset` (up to ``FileMark/window`` each).
  package var head: UInt64
  package var tail: UInt64

  /// The bytes each hash covers, at most.
  package static let window: Int64 = 4096

  package func write(_ w: inout StateWriter) {
    w.string(path)
    w.u64(device)
    w.u64(inode)
    for v in [offset, Int64(lines), size, modified] { w.i64(v) }
    w.u64(head)
    w.u64(tail)
  }

  package init?(_ r: inout StateReader) {
    guard let path = r.string(), let device = r.u64(), let inode = r.u64(), let offset = r.i64(),
      let lines = r.i64(), let size = r.i64(), let modified = r.i64(), let head = r.u64(), let tail = r.u64(),
      offset >= 0, lines >= 0, lines <= offset, size >= offset
    else { return nil }
    self.init(
      path: path, device: device, inode: inode, offset: offset, lines: Int(lines), size: size,
      modified: modified, head: head, tail: tail)
  }

  package init(
    path: String, device: UInt64, inode: UInt64, offset: Int64, lines: Int, size: Int64, modified: Int64,
    head: UInt64, tail: UInt64
  ) {
    self.path = path
    self.device = device
    self.inode = inode
    self.offset = offset
    self.lines = lines
    self.size = size
    self.modified = modified
    self.head = head
    self.tail = tail
  }
}

/// An open file, as ``Follow`` looks at it: identity, size, time, bytes.
package final class FollowedFile {
  let fd: Int32
  package let device: UInt64
  package let inode: UInt64
  package let size: Int64
  package let modified: Int64

  /// Opens a regular file; nil for anything else or on failure.
  package init?(_ path: String) {
    let fd = open(POSIXFiles.cPath(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { return nil }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      return nil
    }
    self.fd = fd
    device = UInt64(truncatingIfNeeded: st.st_dev)
    inode = UInt64(truncatingIfNeeded: st.st_ino)
    size = Int64(st.st_size)
    modified = WallClock.nanoseconds(st.st_mtim)
  }

  deinit { close(fd) }

  /// The bytes in `range` (fewer when the file is shorter).
  package func bytes(_ range: Range<Int64>) -> [UInt8] {
    guard !range.isEmpty else { return [] }
    var out = [UInt8](repeating: 0, count: Int(range.count))
    var got = 0
    while got < out.count {
      let n = out.withUnsafeMutableBytes { raw in
        pread(fd, raw.baseAddress.map { $0 + got }, raw.count - got, off_t(range.lowerBound + Int64(got)))
      }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { break }
      got += n
    }
    return Array(out[0..<got])
  }

  /// The hash ``FileMark`` keeps of the bytes in `range`.
  package func hash(_ range: Range<Int64>) -> UInt64 { KeyHash.hash(bytes(range)) }

  /// Whether the file is plain JSON Lines (``ParallelIngest/isPlainLines(_:)``).
  package var isPlainLines: Bool { ParallelIngest.isPlainLines(bytes(0..<min(size, 65_536))[...]) }

  /// Just after the last line end in `from..<to`, or nil when there is none.
  package func lineEnd(from: Int64, to: Int64) -> Int64? {
    var end = to
    while end > from {
      let start = max(from, end - 65_536)
      let window = bytes(start..<end)
      if let k = window.lastIndex(of: 0x0A) { return start + Int64(k) + 1 }
      end = start
    }
    return nil
  }

  /// A mark for this file read up to `offset`, holding `lines` lines.
  package func mark(_ path: String, offset: Int64, lines: Int) -> FileMark {
    FileMark(
      path: path, device: device, inode: inode, offset: offset, lines: lines, size: size, modified: modified,
      head: hash(0..<min(offset, FileMark.window)), tail: hash(max(0, offset - FileMark.window)..<offset))
  }

  /// Whether this is the file `m` describes, grown or not, its bytes up to
  /// `m.offset` unchanged as far as its hashes tell.
  package func continues(_ m: FileMark) -> Bool {
    guard device == m.device, inode == m.inode, size >= m.offset else { return false }
    if size == m.size, modified == m.modified { return true }
    return hash(0..<min(m.offset, FileMark.window)) == m.head
      && hash(max(0, m.offset - FileMark.window)..<m.offset) == m.tail
  }
}

/// Reading files that grow: what was read before is kept (a table and a
/// mark per file), and only the bytes added since are read.
///
/// Plain JSON Lines files are followed: read up to the end of their last
/// complete line, then from there on the next run. Anything else (a
/// document, a capture, a file with no complete line yet) and the
/// incomplete last line of a followed file are read whole each time and
/// kept out of the state, so the figures always equal those of reading
/// every file whole.
package enum Follow {
  /// What a run read: the analyzer to price, and the state to keep (nil
  /// when the table cannot be kept).
  package struct Result {
    package var analyzer: Analyzer
    package var marks: [FileMark]
    /// The table of the followed files up to their marks.
    package var table: RequestTable
    /// Bytes read by this run.
    package var bytesRead: Int64
  }

  /// Reads `files`, resuming from `marks` and `table` when every marked
  /// file still continues its mark (else everything is read again).
  package static func read(
    _ files: [String], marks: [FileMark], table: RequestTable?, options: IngestOptions, jobs: Int
  ) async -> Result {
    var resumable = table != nil
    var opened: [String: Int] = [:]
    for (k, f) in files.enumerated() { opened[f] = k }
    // Every marked file must be there and continue its mark.
    var byPath: [String: FileMark] = [:]
    for m in marks {
      guard resumable, opened[m.path] != nil, byPath[m.path] == nil, let f = FollowedFile(m.path), f.continues(m),
        f.isPlainLines
      else {
        resumable = false
        break
      }
      byPath[m.path] = m
    }
    if !resumable { byPath = [:] }
    var analyzer = Analyzer()
    if resumable, let table {
      var p = FilePartial()
      p.table = table
      analyzer.add(p)
    }
    var newMarks: [FileMark] = []
    var cold: [String] = []
    var limits: [String: Int64] = [:]
    var coldLines: [String: (FollowedFile, Int64)] = [:]
    var afterwards: [(path: String, chunk: FileIngest.Chunk?, lines: Int)] = []
    var bytesRead: Int64 = 0
    var ingest = FileIngest(options: options, bufferSize: 1 << 16)
    for path in files {
      guard let f = FollowedFile(path) else {
        afterwards.append((path, nil, 0))
        continue
      }
      if let m = byPath[path] {
        let end = f.lineEnd(from: m.offset, to: f.size) ?? m.offset
        var lines = m.lines
        if end > m.offset {
          var p = ingest.ingest(path, chunk: .init(start: m.offset, end: end, first: false))
          p.shiftLines(by: m.lines, in: path)
          bytesRead += p.ledger.bytes
          lines += p.lineCount
          p.ledger = Ledger()
          analyzer.add(p)
        }
        if f.size > end { afterwards.append((path, .init(start: end, end: f.size, first: false), lines)) }
        newMarks.append(f.mark(path, offset: end, lines: lines))
        continue
      }
      guard f.isPlainLines, let end = f.lineEnd(from: 0, to: f.size) else {
        afterwards.append((path, nil, 0))
        continue
      }
      cold.append(path)
      limits[path] = end
      if f.size > end { afterwards.append((path, .init(start: end, end: f.size, first: false), -1)) }
      coldLines[path] = (f, end)
    }
    if !cold.isEmpty {
      let read = await ParallelIngest.run(cold, limits: limits, options: options, jobs: jobs)
      bytesRead += read.ledger.bytes
      var p = FilePartial()
      p.table = read.table
      analyzer.add(p)
      for path in cold {
        guard let (f, end) = coldLines[path] else { continue }
        let lines = read.linesByFile[path] ?? 0
        newMarks.append(f.mark(path, offset: end, lines: lines))
        for k in afterwards.indices where afterwards[k].path == path && afterwards[k].lines < 0 {
          afterwards[k].lines = lines
        }
      }
    }
    let kept = analyzer.table
    for a in afterwards {
      var p = ingest.ingest(a.path, chunk: a.chunk)
      if a.chunk != nil { p.shiftLines(by: a.lines, in: a.path) }
      bytesRead += p.ledger.bytes
      analyzer.add(p)
    }
    newMarks.sort { $0.path < $1.path }
    return Result(analyzer: analyzer, marks: newMarks, table: kept, bytesRead: bytesRead)
  }
}
