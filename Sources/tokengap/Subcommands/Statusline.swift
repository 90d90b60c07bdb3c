import Compare
import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `tokengap statusline`: one short line for Claude Code's status line.
///
/// Claude Code runs the command with a JSON object on standard input
/// (`session_id`, `transcript_path`, `model`, `cwd`, …); the line gives the
/// session's overestimation ratio, cache hit rate and cost, and with
/// `--itpm` the last minute's ITPM charge against that limit.
enum StatuslineCommand: Subcommand {
  static let spec = CommandSpec(
    name: "statusline",
    abstract: "Print one line for Claude Code's status line: the session's P/I, hit rate and cost.",
    usage: "tokengap statusline [--itpm <n>] < status.json",
    options: [
      OptionSpec(
        name: "itpm", value: "n",
        help: "Your ITPM limit: the line also shows the last minute's ITPM charge against it."),
      OptionSpec(
        name: "cache-dir", value: "dir",
        help: "Where the state that spares re-reading the transcript is kept.",
        defaultText: "$XDG_CACHE_HOME/tokengap, else ~/.cache/tokengap"),
      OptionSpec(name: "no-cache", help: "Read the transcript whole; neither read nor write the state."),
      Common.catalog,
      Common.quiet("Accepted for symmetry: the status line never prints the ledger."),
    ],
    discussion: """
      Set it in ~/.claude/settings.json:
        "statusLine": {"type": "command", "command": "tokengap statusline"}
      The transcript named by transcript_path is read with the session's
      subagent files beside it. What was read is kept in a small state file
      per transcript, so the next line reads only the bytes added since; a
      transcript truncated or replaced is read whole again.
      """)

  /// The most standard input read: a status object is a few hundred bytes.
  static let inputLimit = 1 << 20

  /// `statusline`'s options, parsed once.
  struct Options: ParsedFromOptions {
    /// `--itpm`: the limit the last minute's charge is shown against.
    var itpm: Int64?
    /// `--cache-dir`: where the state is kept; nil for the default folder.
    var cacheDirectory: String?
    /// `--no-cache`: read the transcript whole, keep no state.
    var noCache = false
    var catalogPath: String?

    init(itpm: Int64? = nil, cacheDirectory: String? = nil, noCache: Bool = false, catalogPath: String? = nil) {
      self.itpm = itpm
      self.cacheDirectory = cacheDirectory
      self.noCache = noCache
      self.catalogPath = catalogPath
    }

    init(_ o: ParsedOptions) throws(UsageError) {
      if let text = o.value("itpm") {
        guard let n = Int64(text), n > 0 else {
          throw UsageError("'--itpm' takes a positive whole number, not '\(text)'")
        }
        itpm = n
      }
      cacheDirectory = o.value("cache-dir")
      noCache = o.flag("no-cache")
      catalogPath = o.value("catalog")
    }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink) async throws -> ExitCode {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while bytes.count < inputLimit {
      let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { break }
      bytes += chunk[0..<n]
    }
    output.write(await text(forStatus: bytes, options: o) + "\n")
    return .ok
  }

  /// The line for one status object (the bytes Claude Code writes). A status
  /// line shows what went wrong in a few words; it never fails.
  static func text(forStatus bytes: [UInt8], options o: Options) async -> String {
    await reading(status: bytes, options: o).line
  }

  /// The line, and the transcript bytes read to make it (all of them
  /// without a usable state; only those added since with one).
  static func reading(status bytes: [UInt8], options o: Options) async -> (
    line: String, bytesRead: Int64
  ) {
    guard let status = try? JSONParser.parse(bytes), let path = status["transcript_path"]?.string, !path.isEmpty else {
      return ("tokengap: no transcript_path on standard input", 0)
    }
    var files = [path]
    // Subagents of the session: <project>/<session>/subagents/*.jsonl.
    if path.hasSuffix(".jsonl") {
      let folder = String(path.dropLast(6)) + "/subagents"
      var st = stat()
      if stat(folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { files.append(folder) }
    }
    let name = Escape.terminal(String(path.split(separator: "/").last ?? ""))
    let found = Discovery.find(files)
    guard found.missing.isEmpty, found.unreadable.isEmpty, let catalog = try? Common.catalog(path: o.catalogPath) else {
      return ("tokengap: no usage in \(name)", 0)
    }
    let options = IngestOptions(catalog: catalog)
    let store = o.noCache ? nil : StatuslineState.location(path, directory: o.cacheDirectory)
    let saved = store.flatMap { StatuslineState.load($0, transcript: path, options: options) }
    let read = await Follow.read(
      found.files, marks: saved?.marks ?? [], table: saved?.table, options: options, jobs: ParallelIngest.cores)
    // Written when something was read into it (not when only an incomplete
    // last line or a file that is not followed was read).
    if let store, saved?.marks != read.marks {
      StatuslineState.save(store, transcript: path, options: options, marks: read.marks, table: read.table)
    }
    let priced = read.analyzer.priced(PricingContext(catalog: catalog, pricingDay: WallClock.today()))
    guard priced.ledger.requests > 0 else { return ("tokengap: no usage in \(name)", read.bytesRead) }
    let text = line(
      priced.analysis(dimensions: [.total]).total, lastMinute: Charts.lastMinuteITPM(priced), limit: o.itpm)
    return (text, read.bytesRead)
  }

  /// `P/I 27.3x · hit 96.3% · $2.39`, and `· ITPM 3% of 2M` with a limit.
  static func line(_ s: Summary, lastMinute: Int128?, limit: Int64?) -> String {
    var parts = [
      "P/I " + Fmt.times(s.overestimationRatio), "hit " + Fmt.percent(s.cacheHitRate),
      s.priced > 0 ? Fmt.money(s.costActual) : "cost n/a",
    ]
    if let limit, let used = lastMinute {
      parts.append("ITPM \(Fmt.percent(Ratio(used, Int128(limit)))) of \(Fmt.tokens(limit))")
    }
    return parts.joined(separator: " · ")
  }
}

/// The statusline's state file: what was read of one transcript (its files'
/// marks and their request table), so that the next line reads only what
/// was added. Any mismatch (another version, catalog or limit, a torn or
/// altered file) makes it unused: the transcript is read whole again.
enum StatuslineState {
  static let magic = Array("tokengap statusline state\n".utf8)
  static let version: UInt32 = 1

  /// The state file of `transcript`: `<dir>/statusline-<hash>.state`, in
  /// `directory`, else `$XDG_CACHE_HOME/tokengap`, else `~/.cache/tokengap`;
  /// nil when no folder is known.
  static func location(_ transcript: String, directory: String?) -> String? {
    var dir = directory
    if dir == nil, let xdg = POSIXFiles.environment("XDG_CACHE_HOME"), xdg.hasPrefix("/") { dir = xdg + "/tokengap" }
    if dir == nil, let home = POSIXFiles.environment("HOME"), !home.isEmpty { dir = home + "/.cache/tokengap" }
    guard let dir, !dir.isEmpty else { return nil }
    let hash = stateHashHex(Array(transcript.utf8))
    return dir + "/statusline-" + hash + ".state"
  }

  private static func header(_ w: inout StateWriter, transcript: String, options: IngestOptions) {
    w.data(magic)
    w.u32(version)
    w.string(ToolInfo.version)
    w.string(options.catalog.sha256)
    w.i64(Int64(options.lineLimit))
    w.i64(Int64(options.captureLimit))
    w.string(transcript)
  }

  static func load(_ file: String, transcript: String, options: IngestOptions) -> (
    marks: [FileMark], table: RequestTable
  )? {
    guard let bytes = try? POSIXFiles.read(file, limit: 1 << 30), var r = StateReader.verified(bytes) else {
      return nil
    }
    var expected = StateWriter()
    header(&expected, transcript: transcript, options: options)
    for b in expected.bytes {
      guard r.u8() == b else { return nil }
    }
    guard let count = r.u32(), count <= 1 << 20 else { return nil }
    var marks: [FileMark] = []
    for _ in 0..<count {
      guard let m = FileMark(&r) else { return nil }
      marks.append(m)
    }
    guard let table = RequestTable(snapshot: &r), r.atEnd else { return nil }
    return (marks, table)
  }

  /// Writes the state whole (a temporary file renamed into place), or
  /// nothing: a status line never fails for its cache.
  static func save(
    _ file: String, transcript: String, options: IngestOptions, marks: [FileMark], table: RequestTable
  ) {
    var w = StateWriter()
    header(&w, transcript: transcript, options: options)
    w.u32(UInt32(truncatingIfNeeded: marks.count))
    for m in marks { m.write(&w) }
    guard table.snapshot(into: &w) else { return }
    w.seal()
    if let slash = file.lastIndex(of: "/"), slash != file.startIndex {
      guard POSIXFiles.makeDirectories(String(file[..<slash])) else { return }
    }
    try? POSIXFiles.writeCache(w.bytes, to: file)
  }
}
