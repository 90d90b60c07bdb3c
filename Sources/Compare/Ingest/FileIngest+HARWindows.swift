import CSupport

#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
  private let systemPread = Glibc.pread
#elseif canImport(Musl)
  import Musl
  private let systemRead = Musl.read
  private let systemPread = Musl.pread
#elseif canImport(Darwin)
  import Darwin
  private let systemRead = Darwin.read
  private let systemPread = Darwin.pread
#endif

/// A large HAR read window by window: the entries that lie whole in what
/// was read are parsed (side by side, ``readHAREntries(_:_:firstIndex:reader:pairing:)``)
/// and their bytes dropped, so the file is never held whole. The records
/// and the ledger are those of the whole-file read, which any surprise
/// falls back to.
extension FileIngest {
  /// Reads the rest of a HAR window by window, the first `filled` bytes
  /// being in the buffer (its format decided). False, with nothing read or
  /// changed, when the file is not one to read so: not a regular file,
  /// smaller than ``IngestOptions/harWindowMinimum`` or larger than the
  /// document cap, not a HAR, or its first entry not in those bytes.
  ///
  /// The document around the entries (everything before the first, and
  /// after the list's `]`) is checked at the end as one walk checks it:
  /// the prefix is kept, the rest read, and the two walked as a HAR with no
  /// entries. When that, an entry, or the list between them fails, the file
  /// is read again whole, which reports it as it always has.
  mutating func readHARWindows(_ fd: Int32, filled: Int) -> Bool {
    var st = stat()
    guard chunk == nil, !cassette, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
    let size = Int(st.st_size)
    guard size >= options.harWindowMinimum, size <= options.captureLimit, filled < size else { return false }
    let first = buffer.withUnsafeBufferPointer { all -> Int? in
      let head = UnsafeBufferPointer(rebasing: all[0..<filled])
      guard FileIngest.startsWithLogKey(head) else { return nil }
      return JSONParser.harFirstEntry(head)
    }
    guard let first else { return false }
    let prefix = Array(buffer[0..<first])
    let window = max(1, options.harWindowSize)
    if buffer.count < filled + window { grow(to: filled + window, keeping: filled) }
    // Prompt keys are kept only when the file may hold count_tokens calls,
    // looked for before the first entry is read (a call may pair with a
    // messages call anywhere in the file).
    let pairing =
      buffer.withUnsafeMutableBytes { raw in
        FileIngest.contains(fd, size: size, FileIngest.countTokensPath, scratch: raw, from: filled)
      } ?? true
    let reader = CaptureReader(path: path, fileStem: fileStem, parentName: parentName)
    var parts: [(CaptureReader.HARStream, Ledger)] = []
    var entries = 0
    var filled = filled
    var start = first
    var place = JSONParser.HARListPlace.start
    var eof = false
    while true {
      let found = buffer.withUnsafeBufferPointer { all in
        Result { () throws(JSONError) in
          try JSONParser.harEntries(
            UnsafeBufferPointer(rebasing: all[0..<filled]), from: start, place: place, final: eof)
        }
      }
      guard case .success(let step) = found else { return readWholeAgain(fd) }
      if !step.ranges.isEmpty {
        let read = buffer.withUnsafeBufferPointer { all in
          readHAREntries(
            UnsafeBufferPointer(rebasing: all[0..<filled]), step.ranges, firstIndex: entries, reader: reader,
            pairing: pairing)
        }
        guard let read else { return readWholeAgain(fd) }
        parts += read
        entries += step.ranges.count
      }
      place = step.place
      if let end = step.end {
        // The list is closed: the document around it must be a HAR.
        var skeleton = prefix
        skeleton += buffer[end..<filled]
        while true {
          let n = buffer.withUnsafeMutableBytes { raw in
            raw.baseAddress.map { systemRead(fd, $0, raw.count) } ?? 0
          }
          if n < 0, errno == EINTR { continue }
          if n < 0 { return readFailed() }
          if n == 0 { break }
          partial.ledger.bytes += Int64(n)
          skeleton += buffer[0..<n]
        }
        let none = skeleton.withUnsafeBufferPointer { try? JSONParser.harEntryRanges($0) }
        guard let none, none.isEmpty else { return readWholeAgain(fd) }
        acceptHAR(parts)
        return true
      }
      if eof { return readWholeAgain(fd) }
      // Keep what was not read yet, then read on behind it.
      let keep = filled - step.resume
      buffer.withUnsafeMutableBytes { raw in
        guard let base = raw.baseAddress, keep > 0 else { return }
        memmove(base, base + step.resume, keep)
      }
      filled = keep
      start = 0
      if filled == buffer.count { grow(to: 2 * buffer.count, keeping: filled) }
      let want = min(window, buffer.count - filled)
      let n = buffer.withUnsafeMutableBytes { raw in
        raw.baseAddress.map { systemRead(fd, $0 + filled, want) } ?? 0
      }
      if n < 0, errno == EINTR { continue }
      if n < 0 { return readFailed() }
      if n == 0 { eof = true }
      filled += n
      partial.ledger.bytes += Int64(n)
    }
  }

  /// A read that failed: the file is named, as the whole-file read names it.
  private mutating func readFailed() -> Bool {
    partial.ledger.skippedFiles.append(
      .init(.skippedFile, file: path, line: 0, reason: "read failed: \(POSIXFiles.errnoText(errno))"))
    return true
  }

  /// A buffer of `count` bytes holding the current one's first `keeping`.
  private mutating func grow(to count: Int, keeping: Int) {
    buffer = buffer.withUnsafeBufferPointer { old in
      [UInt8](unsafeUninitializedCapacity: count) { new, initialized in
        _ = new.initialize(from: old[0..<keeping])
        initialized = count
      }
    }
  }

  /// The file read again from its start, whole, and read as a capture, as
  /// before windows: what it reports is what the whole-file read reports.
  private mutating func readWholeAgain(_ fd: Int32) -> Bool {
    partial.ledger.bytes = 0
    guard lseek(fd, 0, SEEK_SET) == 0 else { return readFailed() }
    var filled = 0
    while true {
      if filled == buffer.count {
        if filled > options.captureLimit { break }
        grow(to: 2 * buffer.count, keeping: filled)
      }
      let at = filled
      let n = buffer.withUnsafeMutableBytes { raw in
        raw.baseAddress.map { systemRead(fd, $0 + at, raw.count - at) } ?? 0
      }
      if n < 0, errno == EINTR { continue }
      if n < 0 { return readFailed() }
      if n == 0 { break }
      filled += n
      partial.ledger.bytes += Int64(n)
    }
    if filled > options.captureLimit {
      skipLargeDocument()
      return true
    }
    buffer.withUnsafeMutableBufferPointer { all in
      // A byte order mark, blanked as the format's sniffing blanks it.
      if filled >= 3, all[0] == 0xEF, all[1] == 0xBB, all[2] == 0xBF {
        all[0] = 0x20
        all[1] = 0x20
        all[2] = 0x20
      }
    }
    buffer.withUnsafeBufferPointer { handleCapture($0, 0..<filled) }
    return true
  }

  /// Whether `needle` occurs in the first `size` bytes of the file, read
  /// with pread(2) (the offset is left alone) into `scratch` past `from`;
  /// nil when they cannot be read.
  static func contains(
    _ fd: Int32, size: Int, _ needle: [UInt8], scratch: UnsafeMutableRawBufferPointer, from: Int
  ) -> Bool? {
    guard let base = scratch.baseAddress.map({ $0 + from }), scratch.count - from > 2 * needle.count else {
      return nil
    }
    let room = scratch.count - from
    var offset = 0
    while offset < size {
      let n = systemPread(fd, base, min(room, size - offset), off_t(offset))
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return n == 0 ? false : nil }
      let found = needle.withUnsafeBytes { needle in
        tokengap_memmem(base, n, needle.baseAddress, needle.count) != nil
      }
      if found { return true }
      if offset + n >= size || n < needle.count { return false }
      // A needle cut by the end of this piece is found whole in the next.
      offset += n - needle.count + 1
    }
    return false
  }
}
