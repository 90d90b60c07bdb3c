#if canImport(Glibc)
  import Glibc
  private let systemRead = Glibc.read
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file operation, with the path and the system's reason.
package struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    case missing, unreadable, notRegular, unwritable
  }

  public var path: String
  public var kind: Kind
  public var reason: String

  public var description: String { "'\(path)': \(reason)" }
}

/// POSIX file access: no Foundation on the data path.
package enum POSIXFiles {
  static func errnoText(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "error \(code)" }
    return String(cString: s).lowercased()
  }

  /// Opens a regular file for reading (or standard input for `-`), without
  /// ever blocking on a FIFO or device: those are refused.
  public static func openForReading(_ path: String) throws(FileError) -> Int32 {
    if path == "-" { return 0 }
    let fd = open(cPath(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
      let e = errno
      throw FileError(path: path, kind: e == ENOENT ? .missing : .unreadable, reason: "cannot open: " + errnoText(e))
    }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = errno
      close(fd)
      throw FileError(path: path, kind: .unreadable, reason: errnoText(e))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw FileError(path: path, kind: .notRegular, reason: "not a regular file")
    }
    // Regular files never block; clear O_NONBLOCK for plain reads.
    _ = fcntl(fd, F_SETFL, 0)
    return fd
  }

  /// The entries of a directory, without `.` and `..`, unsorted; nil when it cannot be opened.
  public static func list(_ directory: String) -> [String]? {
    guard let handle = opendir(cPath(directory)) else { return nil }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      // The name is read in place up to its NUL: readdir's record may end
      // before the declared 256 bytes of d_name.
      let name = withUnsafeMutablePointer(to: &entry.pointee.d_name) { field -> String in
        let raw = UnsafeRawPointer(field).assumingMemoryBound(to: CChar.self)
        return fileName(UnsafeRawBufferPointer(start: raw, count: strlen(raw)))
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// A file name's bytes as a String. Names are bytes and Strings hold
  /// UTF-8: each byte that is not part of valid UTF-8 is kept as the scalar
  /// U+10FF00 + byte (plane 16, private use), and ``cPath(_:)`` turns it back,
  /// so a name that is not UTF-8 is still found, opened and shown (escaped).
  package static func fileName(_ bytes: UnsafeRawBufferPointer) -> String {
    if let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) { return text }
    var out = String.UnicodeScalarView()
    let b = Array(bytes)
    var i = 0
    while i < b.count {
      let lead = b[i]
      let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
      if length > 0, i + length <= b.count,
        let s = String(validating: b[i..<(i + length)], as: UTF8.self), let scalar = s.unicodeScalars.first
      {
        out.append(scalar)
        i += length
      } else {
        out.append(Unicode.Scalar(0x10FF00 + UInt32(lead)) ?? "\u{FFFD}")
        i += 1
      }
    }
    return String(out)
  }

  /// A path as the NUL-terminated bytes the system takes (see ``fileName(_:)``).
  package static func cPath(_ path: String) -> [CChar] {
    var out: [CChar] = []
    out.reserveCapacity(path.utf8.count + 1)
    // The common path holds no byte that ``fileName(_:)`` mapped: its UTF-8 as is.
    if !path.unicodeScalars.contains(where: { $0.value >= 0x10FF80 }) {
      for b in path.utf8 { out.append(CChar(bitPattern: b)) }
      out.append(0)
      return out
    }
    for u in path.unicodeScalars {
      if (0x10FF80...0x10FFFF).contains(u.value) {
        out.append(CChar(bitPattern: UInt8(u.value - 0x10FF00)))
      } else {
        for b in String(u).utf8 { out.append(CChar(bitPattern: b)) }
      }
    }
    out.append(0)
    return out
  }

  /// Reads a whole regular file (or standard input for `-`).
  public static func read(_ path: String, limit: Int = 1 << 34) throws(FileError) -> [UInt8] {
    let fd = try openForReading(path)
    defer { if fd != 0 { close(fd) } }
    // Read straight into the result, sized by the file's size when it has
    // one (a byte more, to see the end in the same call), doubled when full:
    // no chunk read and then copied into it.
    var st = stat()
    let size = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
    var out = [UInt8](repeating: 0, count: max(1 << 12, min(size, limit) + 1))
    var filled = 0
    while true {
      if filled == out.count {
        if filled > limit { throw FileError(path: path, kind: .unreadable, reason: "larger than \(limit) bytes") }
        out.append(contentsOf: repeatElement(0, count: out.count))
      }
      let at = filled
      let n = out.withUnsafeMutableBytes { raw in
        raw.baseAddress.map { systemRead(fd, $0 + at, raw.count - at) } ?? 0
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(path: path, kind: .unreadable, reason: errnoText(errno))
      }
      if n == 0 { break }
      filled += n
    }
    if filled > limit { throw FileError(path: path, kind: .unreadable, reason: "larger than \(limit) bytes") }
    out.removeLast(out.count - filled)
    return out
  }

  /// Writes a file whole: to a temporary file beside it, then renamed over it.
  public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileError) {
    try writeAtomically(bytes, to: path, mode: newFileMode)
  }

  /// The mode of a new file under the process's umask (`0666 & ~umask`).
  static var newFileMode: mode_t {
    // umask(2) can only be read by setting it; restored at once.
    let mask = umask(0o022)
    umask(mask)
    return 0o666 & ~mask
  }

  /// Writes an output where it belongs: a regular file (or a missing path)
  /// is replaced whole, keeping its mode, through a symbolic link if the path
  /// is one (the link stays a link); anything else that exists — a device, a
  /// pipe — is written straight, never replaced.
  public static func writeOutput(_ bytes: [UInt8], to path: String) throws(FileError) {
    try writeOutput(to: path) { fd in bytes.withUnsafeBytes { writeAll(fd, $0) } }
  }

  /// ``writeOutput(_:to:)`` for text made in parts: `produce` hands each part
  /// to the function it is given (which returns false once a write failed),
  /// so the whole text is never held in memory.
  public static func writeOutput(to path: String, parts produce: ((String) -> Bool) -> Void) throws(FileError) {
    try writeOutput(to: path) { fd in
      var failure: Int32 = 0
      produce { part in
        var text = part
        failure = text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
        return failure == 0
      }
      return failure
    }
  }

  /// Writes an output, its bytes written by `fill` (0, or an errno).
  private static func writeOutput(to path: String, fill: (Int32) -> Int32) throws(FileError) {
    var st = stat()
    if stat(path, &st) == 0 {
      guard (st.st_mode & S_IFMT) == S_IFREG else {
        try writeStraight(to: path, fill: fill)
        return
      }
      var target = path
      if let resolved = realpath(path, nil) {
        target = String(cString: resolved)
        free(resolved)
      }
      try writeAtomically(to: target, mode: st.st_mode & 0o7777, fill: fill)
      return
    }
    var link = stat()
    if lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
      // A dangling link: create its target.
      try writeStraight(to: path, fill: fill)
      return
    }
    try writeAtomically(to: path, mode: newFileMode, fill: fill)
  }

  /// Opens and writes (no temporary file, no rename).
  static func writeStraight(_ bytes: [UInt8], to path: String) throws(FileError) {
    try writeStraight(to: path) { fd in bytes.withUnsafeBytes { writeAll(fd, $0) } }
  }

  /// Opens and writes what `fill` writes (no temporary file, no rename).
  private static func writeStraight(to path: String, fill: (Int32) -> Int32) throws(FileError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, newFileMode)
    guard fd >= 0 else { throw FileError(path: path, kind: .unwritable, reason: errnoText(errno)) }
    defer { close(fd) }
    let failed = fill(fd)
    if failed != 0 { throw FileError(path: path, kind: .unwritable, reason: errnoText(failed)) }
  }

  /// Writes to a temporary file beside `path`, then renames it over `path`.
  static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(FileError) {
    try writeAtomically(to: path, mode: mode) { fd in bytes.withUnsafeBytes { writeAll(fd, $0) } }
  }

  /// Writes what `fill` writes to a temporary file beside `path`, then
  /// renames it over `path`.
  private static func writeAtomically(to path: String, mode: mode_t, fill: (Int32) -> Int32) throws(FileError) {
    let tmp = try stage(beside: path, mode: mode, fill)
    guard rename(tmp, path) == 0 else {
      let e = errno
      unlink(tmp)
      throw FileError(path: path, kind: .unwritable, reason: errnoText(e))
    }
  }

  /// Files staged one at a time as they are made, then moved into place
  /// together: the all-or-nothing of ``writeSet(_:)`` without holding the set
  /// in memory. Files staged and never committed are removed.
  public final class StagedFiles {
    private var staged: [(tmp: String, path: String)] = []

    public init() {}

    /// Writes `contents` to a temporary file beside `path`.
    public func stage(_ contents: String, at path: String) throws(FileError) {
      try stage(parts: [contents], at: path)
    }

    /// Writes the parts, one after another, to a temporary file beside `path`.
    public func stage(parts: [String], at path: String) throws(FileError) {
      var st = stat()
      let mode = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? st.st_mode & 0o7777 : newFileMode
      staged.append((try POSIXFiles.stage(parts: parts, beside: path, mode: mode), path))
    }

    /// Renames every staged file into place; on a failure the rest are removed.
    public func commit() throws(FileError) {
      let all = staged
      staged = []
      for (k, s) in all.enumerated() where rename(s.tmp, s.path) != 0 {
        let e = errno
        for rest in all[k...] { unlink(rest.tmp) }
        throw FileError(path: s.path, kind: .unwritable, reason: errnoText(e))
      }
    }

    deinit {
      for s in staged { unlink(s.tmp) }
    }
  }

  /// Writes a set of files all or nothing as far as the file system allows:
  /// every file is staged first, and only then are they renamed into place.
  /// A failure while staging leaves every earlier file as it was.
  public static func writeSet(_ files: [(path: String, bytes: [UInt8])]) throws(FileError) {
    var staged: [(tmp: String, path: String)] = []
    for f in files {
      var st = stat()
      let mode =
        stat(f.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        ? st.st_mode & 0o7777 : newFileMode
      do {
        staged.append((try stage(f.bytes, beside: f.path, mode: mode), f.path))
      } catch {
        for s in staged { unlink(s.tmp) }
        throw error
      }
    }
    for (k, s) in staged.enumerated() where rename(s.tmp, s.path) != 0 {
      let e = errno
      for rest in staged[k...] { unlink(rest.tmp) }
      throw FileError(path: s.path, kind: .unwritable, reason: errnoText(e))
    }
  }

  /// Writes `bytes` to a new temporary file in the folder of `path`; returns its path.
  static func stage(_ bytes: [UInt8], beside path: String, mode: mode_t) throws(FileError) -> String {
    try bytes.withUnsafeBytes { raw in Result { () throws(FileError) in try stage(raw, beside: path, mode: mode) } }
      .get()
  }

  /// Writes `text` to a new temporary file in the folder of `path` (its UTF-8
  /// read in place, not copied to an array); returns its path.
  static func stage(_ text: String, beside path: String, mode: mode_t) throws(FileError) -> String {
    try stage(parts: [text], beside: path, mode: mode)
  }

  /// Writes `bytes` to a new temporary file in the folder of `path`; returns its path.
  static func stage(_ bytes: UnsafeRawBufferPointer, beside path: String, mode: mode_t) throws(FileError)
    -> String
  {
    try stage(beside: path, mode: mode) { fd in writeAll(fd, bytes) }
  }

  /// Writes the parts one after another (each read in place: a large file
  /// made in slices is never joined in memory); returns the file's path.
  static func stage(parts: [String], beside path: String, mode: mode_t) throws(FileError) -> String {
    try stage(beside: path, mode: mode) { fd in
      for var part in parts {
        let e = part.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
        if e != 0 { return e }
      }
      return 0
    }
  }

  /// Writes all of `bytes`; 0, or the errno of the failure.
  private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
      if n < 0 {
        // EAGAIN: a pipe or device opened without blocking is full; try again.
        if errno == EINTR || errno == EAGAIN { continue }
        return errno
      }
      offset += n
    }
    return 0
  }

  /// Writes a cache file whole (a temporary file renamed into place) without
  /// waiting for the disk: a cache must carry its own check (a crash can
  /// leave it torn, never half-replaced by another's bytes).
  package static func writeCache(_ bytes: [UInt8], to path: String) throws(FileError) {
    let tmp = try stage(beside: path, mode: newFileMode, sync: false) { fd in bytes.withUnsafeBytes { writeAll(fd, $0) }
    }
    guard rename(tmp, path) == 0 else {
      let e = errno
      unlink(tmp)
      throw FileError(path: path, kind: .unwritable, reason: errnoText(e))
    }
  }

  /// A new temporary file in the folder of `path`, filled by `fill` (which
  /// returns 0 or an errno), given `mode`, synced (unless `sync` is false)
  /// and closed; its path.
  private static func stage(beside path: String, mode: mode_t, sync: Bool = true, _ fill: (Int32) -> Int32)
    throws(FileError) -> String
  {
    let dir: String
    if let slash = path.lastIndex(of: "/") {
      dir = String(path[..<slash])
    } else {
      dir = "."
    }
    var template = Array(((dir.isEmpty ? "/" : dir + "/") + ".tokengap-XXXXXX").utf8) + [0]
    let fd = template.withUnsafeMutableBufferPointer { buf in
      buf.baseAddress.map { mkstemp(UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self)) } ?? -1
    }
    guard fd >= 0 else {
      throw FileError(path: path, kind: .unwritable, reason: errnoText(errno))
    }
    let tmp = String(decoding: template.dropLast(), as: UTF8.self)
    let failed = fill(fd)
    if failed != 0 {
      close(fd)
      unlink(tmp)
      throw FileError(path: path, kind: .unwritable, reason: errnoText(failed))
    }
    fchmod(fd, mode)
    guard !sync || fsync(fd) == 0 || errno == EINVAL, close(fd) == 0 else {
      let e = errno
      unlink(tmp)
      throw FileError(path: path, kind: .unwritable, reason: errnoText(e))
    }
    return tmp
  }

  /// Creates a directory and any missing parents (`mkdir -p`); false when
  /// the path exists and is not a directory, or cannot be created.
  public static func makeDirectories(_ path: String) -> Bool {
    var st = stat()
    if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR }
    if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
      guard makeDirectories(String(path[..<slash])) else { return false }
    }
    return mkdir(path, 0o777) == 0 || (errno == EEXIST && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR)
  }

  /// The file's identity (device and inode), to refuse writing over an input.
  /// `-` is standard input.
  public static func identity(_ path: String) -> (UInt64, UInt64)? {
    var st = stat()
    if path == "-" {
      guard fstat(0, &st) == 0 else { return nil }
    } else {
      guard stat(cPath(path), &st) == 0 else { return nil }
    }
    return (UInt64(st.st_dev), UInt64(st.st_ino))
  }

  /// Whether standard input is a regular file (not a terminal, pipe or device).
  public static func standardInputIsRegularFile() -> Bool {
    var st = stat()
    return fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
  }

  /// The value of an environment variable.
  public static func environment(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(cString: v)
  }
}
