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
enum StatuslineCommand {
  static let spec = CommandSpec(
    name: "statusline",
    abstract: "Print one line for Claude Code's status line: the session's P/I, hit rate and cost.",
    usage: "tokengap statusline [--itpm <n>] < status.json",
    options: [
      OptionSpec(
        name: "itpm", value: "n",
        help: "Your ITPM limit: the line also shows the last minute's ITPM charge against it."),
      Common.catalog,
      Common.quiet("Accepted for symmetry: the status line never prints the ledger."),
    ],
    discussion: """
      Set it in ~/.claude/settings.json:
        "statusLine": {"type": "command", "command": "tokengap statusline"}
      The transcript named by transcript_path is read whole (with the session's
      subagent files beside it), in parallel, each time the line is drawn.
      """)

  /// The most standard input read: a status object is a few hundred bytes.
  static let inputLimit = 1 << 20

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    var limit: Int64?
    if let text = o.value("itpm") {
      guard let n = Int64(text), n > 0 else {
        throw UsageError("'--itpm' takes a positive whole number, not '\(text)'")
      }
      limit = n
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while bytes.count < inputLimit {
      let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { break }
      bytes += chunk[0..<n]
    }
    output.write(await text(forStatus: bytes, limit: limit, options: o) + "\n")
    return .ok
  }

  /// The line for one status object (the bytes Claude Code writes). A status
  /// line shows what went wrong in a few words; it never fails.
  static func text(forStatus bytes: [UInt8], limit: Int64?, options o: ParsedOptions) async -> String {
    guard let status = try? JSONParser.parse(bytes), let path = status["transcript_path"]?.string, !path.isEmpty else {
      return "tokengap: no transcript_path on standard input"
    }
    var inputs = o
    inputs.positionals = [path]
    // Subagents of the session: <project>/<session>/subagents/*.jsonl.
    if path.hasSuffix(".jsonl") {
      let folder = String(path.dropLast(6)) + "/subagents"
      var st = stat()
      if stat(folder, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { inputs.positionals.append(folder) }
    }
    inputs.values["quiet"] = [""]
    guard let input = try? await Inputs.load(inputs), input.ledger.requests > 0 else {
      return "tokengap: no usage in \(Escape.terminal(String(path.split(separator: "/").last ?? "")))"
    }
    return line(input.total().total, lastMinute: lastMinuteITPM(input.priced), limit: limit)
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

  /// The ITPM charge of the session's last UTC minute with traffic.
  static func lastMinuteITPM(_ priced: PricedTable) -> Int128? {
    let (arrivals, _, _) = Charts.arrivalsAndPoints(priced)
    guard let last = arrivals.last else { return nil }
    let minute = last.time.millisecondsSinceEpoch / 60_000
    return arrivals.reversed().prefix { $0.time.millisecondsSinceEpoch / 60_000 == minute }.reduce(Int128(0)) {
      $0 + Int128($1.itpm)
    }
  }
}
