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
  /// smaller than ``IngestOptions/harWindowMinimum`` or not smaller than the
  /// document cap, not a HAR, its first entry not in those bytes, or the
  /// search for count_tokens calls failed.
  ///
  /// The document around the entries (everything before the first, and
  /// after the list's `]`) is checked at the end as one walk checks it:
  /// the prefix is kept, the rest read, and the two walked as a HAR with no
  /// entries. When that, an entry, or the list between them fails, or the
  /// file grows to the cap while read, it is read again from where its
  /// reading began by the whole-file read, which reports it as it always
  /// has (cap included).
  mutating func readHARWindows(_ fd: Int32, filled: Int) -> Bool {
    var st = stat()
    guard chunk == nil, !cassette, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
    // Where the reading began (standard input may start past the file's
    // first byte), and the bytes from there to the end.
    let here = lseek(fd, 0, SEEK_CUR)
    guard here >= off_t(filled) else { return false }
    let origin = Int(here) - filled
    let size = Int(st.st_size) - origin
    // Below the document cap only: at or past it the whole read decides.
    guard size >= options.harWindowMinimum, size < options.captureLimit, filled < size else { return false }
    let first = buffer.withUnsafeBufferPointer { all -> Int? in
      let head = UnsafeBufferPointer(rebasing: all[0..<filled])
      guard FileIngest.startsWithLogKey(head) else { return nil }
      return JSONParser.harFirstEntry(head)
    }
    guard let first else { return false }
    let prefix = Array(buffer[0..<first])
    let window = max(1, options.harWindowSize)
    // Room for a window, and for the search below (at least 4 KiB).
    let room = filled + max(window, 1 << 12)
    if buffer.count < room { grow(to: room, keeping: filled) }
    // Prompt keys are kept only when the file may hold count_tokens calls,
    // looked for before the first entry is read (a call may pair with a
    // messages call anywhere in the file); when it cannot be looked for,
    // the file is read whole, as before.
    let found = buffer.withUnsafeMutableBytes { raw in
      FileIngest.contains(fd, from: origin, size: size, FileIngest.countTokensPath, scratch: raw, at: filled)
    }
    guard let pairing = found else { return false }
    // The bytes read, to stop at the cap should the file grow meanwhile.
    var total = filled
    let base = partial.ledger.bytes - Int64(filled)
    let reader = CaptureReader(path: path, fileStem: fileStem, parentName: parentName)
    // Each window's records go to the table as they are read (only their
    // prompts are kept, for pairing at the end); should the whole read
    // take over, the partial is put back as it was here.
    let saved = (partial, fileIDs)
    var h = beginHAR()
    func restore(keepingBytes: Bool) {
      let bytes = partial.ledger.bytes
      (partial, fileIDs) = saved
      if keepingBytes { partial.ledger.bytes = bytes }
      harTicket = nil
      harTicketRows = []
    }
    func wholeAgain() -> Bool {
      restore(keepingBytes: false)
      return readWholeAgain(fd, from: origin, bytes: base)
    }
    func failed() -> Bool {
      // As before windows: what was read is dropped, its bytes counted.
      restore(keepingBytes: true)
      return readFailed()
    }
    var entries = 0
    var filled = filled
    var start = first
    var place = JSONParser.HARListPlace.start
    var eof = false
    while true {
      let parsed = buffer.withUnsafeBufferPointer { all in
        Result { () throws(JSONError) in
          try JSONParser.harEntries(
            UnsafeBufferPointer(rebasing: all[0..<filled]), from: start, place: place, final: eof)
        }
      }
      guard case .success(let step) = parsed else { return wholeAgain() }
      if !step.ranges.isEmpty {
        let read = buffer.withUnsafeBufferPointer { all in
          readHAREntries(
            UnsafeBufferPointer(rebasing: all[0..<filled]), step.ranges, firstIndex: entries, reader: reader,
            pairing: pairing)
        }
        guard let read else { return wholeAgain() }
        acceptHAR(read, into: &h)
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
          if n < 0 { return failed() }
          if n == 0 { break }
          partial.ledger.bytes += Int64(n)
          total += n
          if total >= options.captureLimit { return wholeAgain() }
          skeleton += buffer[0..<n]
        }
        let none = skeleton.withUnsafeBufferPointer { try? JSONParser.harEntryRanges($0) }
        guard let none, none.isEmpty else { return wholeAgain() }
        finishHAR(consume h)
        return true
      }
      if eof { return wholeAgain() }
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
      if n < 0 { return failed() }
      if n == 0 { eof = true }
      filled += n
      total += n
      partial.ledger.bytes += Int64(n)
      // A file grown to the cap while read: the whole read decides.
      if total >= options.captureLimit { return wholeAgain() }
    }
  }

  /// A read that failed, noted as the whole-file read notes it (no line read yet).
  private mutating func readFailed() -> Bool {
    noteReadFailure(line: 0)
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

  /// The file read again from where its reading began, by the whole-file
  /// read (``readLines(_:windows:)`` without windows): what it reports is
  /// what that read reports, cap included. `bytes`: the ledger's count
  /// before the first read.
  private mutating func readWholeAgain(_ fd: Int32, from origin: Int, bytes: Int64) -> Bool {
    partial.ledger.bytes = bytes
    guard lseek(fd, off_t(origin), SEEK_SET) == off_t(origin) else { return readFailed() }
    readLines(fd, windows: false)
    return true
  }

  /// Whether `needle` occurs in the `size` bytes of the file from offset
  /// `origin`, read with pread(2) (the offset is left alone) into `scratch`
  /// past its first `used` bytes; nil when they cannot be read or the
  /// scratch is too small.
  static func contains(
    _ fd: Int32, from origin: Int, size: Int, _ needle: [UInt8], scratch: UnsafeMutableRawBufferPointer, at used: Int
  ) -> Bool? {
    guard let base = scratch.baseAddress.map({ $0 + used }), scratch.count - used > 2 * needle.count else {
      return nil
    }
    let room = scratch.count - used
    var offset = 0
    while offset < size {
      let n = systemPread(fd, base, min(room, size - offset), off_t(origin + offset))
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
