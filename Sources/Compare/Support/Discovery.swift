#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
public import EstimateModel

/// The input files of a run, and what was passed over while finding them.
public struct Discovery: Sendable {
  public var files: [String] = []
  public var skipped: [Ledger.Problem] = []
  /// Files left out because their modification time is before `--since`.
  public var skippedByTime = 0

  /// Paths given on the command line that do not exist.
  public var missing: [String] = []

  public init() {}

  /// Finds input files under the given paths, recursively, in a stable order.
  ///
  /// Directories contribute `*.jsonl`, `*.json`, `*.ndjson`, `*.har`, `*.sse`
  /// and `*.txt` files (not `*.meta.json`);
  /// a file named explicitly is read whatever its name. Symbolic links are
  /// followed once: a directory already visited is not entered again.
  public static func find(_ paths: [String], modifiedSince: Instant? = nil) -> Discovery {
    var d = Discovery()
    var visited = Set<[UInt64]>()
    for path in paths {
      if path == "-" {
        d.files.append(path)
        continue
      }
      var st = stat()
      guard stat(path, &st) == 0 else {
        if errno == ENOENT || errno == ENOTDIR {
          d.missing.append(path)
        } else {
          d.skipped.append(.init(file: path, line: 0, reason: "cannot stat: \(FileSystem.errnoText(errno))"))
        }
        continue
      }
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        d.walk(path, &visited, modifiedSince)
      case S_IFREG:
        d.files.append(path)
      default:
        d.skipped.append(.init(file: path, line: 0, reason: "not a regular file (FIFO, device or socket); skipped"))
      }
    }
    return d
  }

  private mutating func walk(_ root: String, _ visited: inout Set<[UInt64]>, _ since: Instant?) {
    var stack = [root]
    var found: [String] = []
    while let dir = stack.popLast() {
      var st = stat()
      guard stat(dir, &st) == 0 else { continue }
      guard visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else {
        skipped.append(.init(file: dir, line: 0, reason: "directory already visited (symbolic link loop?); skipped"))
        continue
      }
      guard let handle = opendir(dir) else {
        skipped.append(.init(file: dir, line: 0, reason: "cannot open directory: \(FileSystem.errnoText(errno))"))
        continue
      }
      var children: [String] = []
      while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
          let bytes = raw.bindMemory(to: UInt8.self)
          let n = bytes.firstIndex(of: 0) ?? bytes.count
          return String(decoding: bytes[0..<n], as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        children.append(name)
      }
      closedir(handle)
      for name in children.sorted() {
        let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
        var cs = stat()
        guard stat(path, &cs) == 0 else {
          skipped.append(.init(file: path, line: 0, reason: "cannot stat: \(FileSystem.errnoText(errno))"))
          continue
        }
        switch cs.st_mode & S_IFMT {
        case S_IFDIR:
          stack.append(path)
        case S_IFREG:
          guard Discovery.isCandidate(name) else { continue }
          if let since, Int64(cs.st_mtim.tv_sec) * 1000 < since.millisecondsSinceEpoch {
            skippedByTime += 1
            continue
          }
          found.append(path)
        default:
          if Discovery.isCandidate(name) {
            skipped.append(.init(file: path, line: 0, reason: "not a regular file (FIFO, device or socket); skipped"))
          }
        }
      }
    }
    files += found.sorted()
  }

  /// File names a directory walk reads: JSON, JSON Lines, HAR, SSE and text
  /// captures (`*.txt` only when they start like JSON or SSE; see FileIngest).
  static func isCandidate(_ name: String) -> Bool {
    if name.hasSuffix(".meta.json") { return false }
    return [".jsonl", ".json", ".ndjson", ".har", ".sse", ".txt"].contains { name.hasSuffix($0) }
  }

  /// Claude Code's transcript roots: `$CLAUDE_CONFIG_DIR` entries (comma
  /// separated; a config root holding `projects/` or a `projects/` folder),
  /// else `~/.config/claude/projects` and `~/.claude/projects`, those that exist.
  public static func defaultRoots(environment: (String) -> String? = FileSystem.environment) -> [String] {
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
  var trimmingSpaces: String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// Reads files in parallel, each into its own partial, and merges them.
public enum ParallelIngest {
  /// Ingests every file with at most `jobs` files in flight.
  public static func run(_ files: [String], options: IngestOptions, jobs: Int) async -> Analyzer {
    var analyzer = Analyzer()
    let jobs = max(1, jobs)
    if jobs == 1 {
      var ingest = FileIngest(options: options)
      for f in files { analyzer.add(ingest.ingest(f)) }
      return analyzer
    }
    await withTaskGroup(of: FilePartial.self) { group in
      var next = 0
      func start(_ group: inout TaskGroup<FilePartial>) {
        guard next < files.count else { return }
        let file = files[next]
        next += 1
        group.addTask {
          var ingest = FileIngest(options: options)
          return ingest.ingest(file)
        }
      }
      for _ in 0..<min(jobs, files.count) { start(&group) }
      while let partial = await group.next() {
        analyzer.add(partial)
        start(&group)
      }
    }
    return analyzer
  }

  /// The number of cores available.
  public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
