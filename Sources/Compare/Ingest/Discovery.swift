public import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The input files of a run, and what was passed over while finding them.
public struct Discovery: Sendable {
  public var files: [String] = []
  /// The size of each regular file found, from the walk's own `stat`: a
  /// reader need not open a small file twice to learn it is not split.
  public var sizes: [String: Int64] = [:]
  public var skipped: [Ledger.Problem] = []
  /// Files left out because their modification time is before `--since`.
  public var skippedByTime = 0
  /// Regular files a directory walk passed over by name, by lower-case
  /// extension (`.yaml`; an empty string for none); `*.meta.json` is not
  /// counted (Claude Code's, never data).
  public var passedOver: [String: Int] = [:]

  /// Paths given on the command line that do not exist.
  public var missing: [String] = []
  /// Paths given on the command line that exist but cannot be read, and why.
  public var unreadable: [(path: String, reason: String)] = []

  public init() {}

  /// Finds input files under the given paths, recursively, in a stable order.
  ///
  /// Directories contribute `*.jsonl`, `*.json`, `*.ndjson`, `*.har`, `*.sse`,
  /// `*.txt`, `*.yaml` and `*.yml` files (not `*.meta.json`);
  /// a file named explicitly is read whatever its name. Under each path the
  /// files come in the order of their full paths, the walk going depth
  /// first through each directory's entries in that order (a directory's
  /// name taken as `name/`). Symbolic links are followed once: a directory
  /// the walk reaches again is not entered again.
  public static func find(_ paths: [String], modifiedSince: Instant? = nil) -> Discovery {
    find(paths, modifiedSince: modifiedSince) { _, _ in }
  }

  /// ``find(_:modifiedSince:)`` handing each file and its size (nil for
  /// standard input) to `found` as soon as it is found, in the order of
  /// ``files``: a reader can start before the walk ends.
  package static func find(
    _ paths: [String], modifiedSince: Instant?, found: (String, Int64?) -> Void
  ) -> Discovery {
    var d = Discovery()
    var visited = Set<[UInt64]>()
    // Kept apart from `d`, which the walk is changing while it hands files out.
    var files: [String] = []
    var sizes: [String: Int64] = [:]
    func take(_ path: String, _ size: Int64?) {
      files.append(path)
      if let size { sizes[path] = size }
      found(path, size)
    }
    for path in paths {
      if path == "-" {
        take(path, nil)
        continue
      }
      var st = stat()
      guard stat(POSIXFiles.cPath(path), &st) == 0 else {
        if errno == ENOENT || errno == ENOTDIR {
          d.missing.append(path)
        } else {
          d.unreadable.append((path, "cannot stat: \(POSIXFiles.errnoText(errno))"))
        }
        continue
      }
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        d.visit(path, &visited, modifiedSince, take)
      case S_IFREG:
        let fd = open(POSIXFiles.cPath(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
          d.unreadable.append((path, "cannot open: \(POSIXFiles.errnoText(errno))"))
          continue
        }
        close(fd)
        take(path, Int64(st.st_size))
      default:
        d.skipped.append(
          .init(.skippedFile, file: path, line: 0, reason: "not a regular file (FIFO, device or socket); skipped"))
      }
    }
    d.files = files
    d.sizes = sizes
    return d
  }

  /// Walks one directory: its files to `take`, its subdirectories walked in
  /// turn, all in the order of their names (a directory's as `name/`), so
  /// the files come in the order of their full paths without a sort.
  private mutating func visit(
    _ dir: String, _ visited: inout Set<[UInt64]>, _ since: Instant?, _ take: (String, Int64?) -> Void
  ) {
    // Each child is looked up from its directory's descriptor, not from
    // the root again (a walk of a thousand files spent most of its time
    // resolving their full paths).
    guard let handle = opendir(POSIXFiles.cPath(dir)) else {
      let why = errno
      var st = stat()
      guard stat(POSIXFiles.cPath(dir), &st) == 0 else { return }
      skipped.append(
        .init(.skippedFile, file: dir, line: 0, reason: "cannot open directory: \(POSIXFiles.errnoText(why))"))
      return
    }
    // The entries, listed with the directory open; walked after it is
    // closed (a deep tree holds no descriptor per level).
    var entries: [(key: String, path: String, size: Int64?)] = []
    do {
      defer { closedir(handle) }
      let dfd = dirfd(handle)
      var st = stat()
      guard fstat(dfd, &st) == 0 else { return }
      guard visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else {
        skipped.append(
          .init(.skippedFile, file: dir, line: 0, reason: "directory already visited (symbolic link loop?); skipped"))
        return
      }
      var children: [String] = []
      while let entry = readdir(handle) {
        // The name is read in place up to its NUL: readdir's record may end
        // before the declared 256 bytes of d_name.
        let name = withUnsafeMutablePointer(to: &entry.pointee.d_name) { field -> String in
          let raw = UnsafeRawPointer(field).assumingMemoryBound(to: CChar.self)
          return POSIXFiles.fileName(UnsafeRawBufferPointer(start: raw, count: strlen(raw)))
        }
        if name != "." && name != ".." { children.append(name) }
      }
      for name in children.sorted() {
        let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
        var cs = stat()
        guard fstatat(dfd, POSIXFiles.cPath(name), &cs, 0) == 0 else {
          skipped.append(
            .init(.skippedFile, file: path, line: 0, reason: "cannot stat: \(POSIXFiles.errnoText(errno))"))
          continue
        }
        switch cs.st_mode & S_IFMT {
        case S_IFDIR:
          entries.append((name + "/", path, nil))
        case S_IFREG:
          guard Discovery.isCandidate(name) else {
            if !name.hasSuffix(".meta.json") { passedOver[Discovery.fileExtension(name), default: 0] += 1 }
            continue
          }
          if let since, WallClock.seconds(cs.st_mtim) * 1000 < since.millisecondsSinceEpoch {
            skippedByTime += 1
            continue
          }
          entries.append((name, path, Int64(cs.st_size)))
        default:
          if Discovery.isCandidate(name) {
            skipped.append(
              .init(
                .skippedFile, file: path, line: 0, reason: "not a regular file (FIFO, device or socket); skipped"))
          }
        }
      }
    }
    entries.sort { $0.key < $1.key }
    for e in entries {
      if let size = e.size { take(e.path, size) } else { visit(e.path, &visited, since, take) }
    }
  }

  /// File names a directory walk reads: JSON, JSON Lines, HAR, SSE and text
  /// captures (`*.txt` only when they start like JSON or SSE; see FileIngest),
  /// and YAML (read when it is a VCR cassette).
  static func isCandidate(_ name: String) -> Bool {
    if name.hasSuffix(".meta.json") { return false }
    return [".jsonl", ".json", ".ndjson", ".har", ".sse", ".txt"].contains { name.hasSuffix($0) } || isYAML(name)
  }

  /// `*.yaml` and `*.yml`, in any case.
  static func isYAML(_ name: String) -> Bool {
    let ext = fileExtension(name)
    return ext == ".yaml" || ext == ".yml"
  }

  /// `.yaml` for `cassette.YAML`; empty for `Makefile` or `.hidden`.
  static func fileExtension(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
    return name[dot...].lowercased()
  }

  /// Claude Code's transcript roots: `$CLAUDE_CONFIG_DIR` entries (comma
  /// separated; a config root holding `projects/` or a `projects/` folder),
  /// else `~/.config/claude/projects` and `~/.claude/projects`, those that exist.
  public static func defaultRoots() -> [String] {
    defaultRoots(environment: { POSIXFiles.environment($0) })
  }

  /// ``defaultRoots()`` with the environment given (for tests).
  public static func defaultRoots(environment: (String) -> String?) -> [String] {
    func isDir(_ p: String) -> Bool {
      var st = stat()
      return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
    if let config = environment("CLAUDE_CONFIG_DIR"), !config.isEmpty {
      var roots: [String] = []
      for raw in config.split(separator: ",") {
        let entry = String(raw).trimmingSpaces
        guard !entry.isEmpty else { continue }
        if isDir(entry + "/projects") { roots.append(entry + "/projects") } else if isDir(entry) { roots.append(entry) }
      }
      return roots
    }
    guard let home = environment("HOME") else { return [] }
    return [home + "/.config/claude/projects", home + "/.claude/projects"].filter(isDir)
  }
}

extension String {
  package var trimmingSpaces: String {
    // A text that neither starts nor ends with a space byte is its own trim.
    guard utf8.first == 0x20 || utf8.last == 0x20 else { return self }
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
