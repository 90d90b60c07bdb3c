import Compare
import EstimateModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Set by SIGINT and SIGTERM: the loop ends at its next look.
private let stopRequested = Atomic<Bool>(false)

/// `tokengap watch`: the traffic as it happens, per rate-limit pool.
///
/// It follows the transcript tree (new bytes only, new files as they
/// appear) and every interval redraws, per pool: this minute's ITPM charge
/// `I` and count_tokens estimate `P` against the pool's ITPM limit, the last
/// hour as sparklines, and since it started the cache hit rate and the
/// minutes over the limit by the estimate and by the charge. Off a
/// terminal it prints one line per pool and minute instead.
enum WatchCommand {
  static let spec = CommandSpec(
    name: "watch",
    abstract: "Follow the transcripts live: each pool's ITPM charge and estimate this minute, against its limit.",
    usage:
      "tokengap watch [<path> ...] [--tier <name> | --itpm <n>] [--interval <seconds>] [--iterations <n>] [--timezone <zone>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(
        name: "tier", value: "name",
        help:
          "Rate-limit tier from the catalog, for each pool's ITPM limit: tier-1 … tier-4 (2025), start, build, scale.",
        catalogValues: .tiers),
      OptionSpec(name: "itpm", value: "n", help: "One ITPM limit for every pool."),
      OptionSpec(name: "interval", value: "seconds", help: "Time between updates.", defaultText: "1"),
      OptionSpec(name: "iterations", value: "n", help: "Stop after this many updates (for scripts and benchmarks)."),
      OptionSpec(
        name: "timezone", value: "zone", help: "Clock times in this zone: local, UTC, an IANA name or an offset.",
        defaultText: "local"),
      Common.catalog,
      Common.quiet("Accepted for symmetry: watch prints no ledger."),
    ],
    discussion: """
      Each update reads only the bytes added to the transcripts since the last
      one (and new files whole), so its cost follows the new traffic, not the
      history. Ctrl-C ends it. When standard output is not a terminal it prints
      one line per pool for each minute that ends, and at the end the minute in
      progress: the minute, the pool, I and P, and the limit.
      """)

  /// What the loop calls after each update: tests grow the tree there.
  struct Hooks {
    var afterUpdate: ((Int, LiveMinutes) -> Void)? = nil
    /// The clock (tests pin it).
    var now: () -> Instant = { WallClock.now() }
    /// Whether output is a terminal (tests say no).
    var terminal: Bool? = nil
  }

  /// `watch`'s options, parsed once.
  struct Options {
    /// The folders and files followed; empty for the Claude Code roots.
    var paths: [String]
    /// `--tier`: each pool's ITPM limit from the catalog.
    var tier: String?
    /// `--itpm`: one ITPM limit for every pool.
    var itpm: Int64?
    /// `--interval`: seconds between updates.
    var interval = 1.0
    /// `--iterations`: updates before it stops; nil for until stopped.
    var iterations: Int64?
    var timeZone: TimeZoneRule
    var catalogPath: String?

    init(_ o: ParsedOptions) throws(UsageError) {
      paths = o.positionals
      catalogPath = o.value("catalog")
      timeZone = try o.timeZone()
      if o.value("tier") != nil, o.value("itpm") != nil {
        throw UsageError("give one of '--tier' or '--itpm', not both")
      }
      tier = o.value("tier")
      if let text = o.value("itpm") {
        guard let n = Int64(text), n > 0 else {
          throw UsageError("'--itpm' takes a positive whole number, not '\(text)'")
        }
        itpm = n
      }
      if let text = o.value("interval") {
        guard let v = Double(text), v >= 0, v <= 3600 else {
          throw UsageError("'--interval' takes seconds from 0 to 3600, not '\(text)'")
        }
        interval = v
      }
      iterations = try o.count("iterations")
    }
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink) async throws
    -> ExitCode
  {
    try watch(Options(o), output: &output, hooks: Hooks())
  }

  /// The ITPM limit of a pool, from `--itpm` or `--tier`; nil when neither was given.
  static func limitLookup(_ o: Options, catalog: ModelCatalog) throws -> (
    label: String, itpm: (String) -> Int64?
  )? {
    if let n = o.itpm { return ("ITPM \(Fmt.tokens(n)) for every pool", { _ in n }) }
    guard let tier = o.tier,
      let limits = try Replay.limits(
        LimitOptions(tier: tier), catalog: catalog, firstDay: WallClock.today(), required: false)
    else { return nil }
    return (limits.label, { limits.lookup($0)?.inputTokensPerMinute })
  }

  static func watch(_ o: Options, output: inout any TextSink, hooks: Hooks) throws -> ExitCode {
    let catalog = try Common.catalog(path: o.catalogPath)
    let zone = o.timeZone
    let limits = try limitLookup(o, catalog: catalog)
    let interval = o.interval
    let iterations = o.iterations
    var roots = o.paths
    if roots.isEmpty {
      roots = Discovery.defaultRoots()
      guard !roots.isEmpty else {
        throw CommandFailure(
          code: .noInput,
          message:
            "no path given and no Claude Code transcripts found ($CLAUDE_CONFIG_DIR, ~/.config/claude/projects, ~/.claude/projects); pass a folder to watch"
        )
      }
    }
    if let missing = Discovery.find(roots).missing.first {
      throw CommandFailure(code: .noInput, message: "no such file or directory '\(missing)'")
    }
    let terminal = hooks.terminal ?? isTerminal(1)
    var live = LiveMinutes(
      context: PricingContext(catalog: catalog, pricingDay: WallClock.today()),
      options: IngestOptions(catalog: catalog))
    let start = hooks.now()
    let view = View(zone: zone, limitLabel: limits?.label, itpm: limits?.itpm ?? { _ in nil }, start: start)
    stopRequested.store(false, ordering: .relaxed)
    let handler: @convention(c) (Int32) -> Void = { _ in stopRequested.store(true, ordering: .relaxed) }
    let oldInt = signal(SIGINT, handler)
    let oldTerm = signal(SIGTERM, handler)
    if terminal { output.write("\u{1B}[?1049h\u{1B}[?25l") }
    defer {
      signal(SIGINT, oldInt)
      signal(SIGTERM, oldTerm)
    }
    var cycle = 0
    var lastMinute = start.millisecondsSinceEpoch / 60_000
    while !stopRequested.load(ordering: .relaxed) {
      let found = Discovery.find(roots)
      live.update(found.files, sizes: found.sizes)
      cycle += 1
      hooks.afterUpdate?(cycle, live)
      let now = hooks.now()
      let minute = now.millisecondsSinceEpoch / 60_000
      if terminal {
        let lines = view.screen(live, now: now, width: output.columns ?? 80)
        output.write("\u{1B}[H" + lines.map { $0 + "\u{1B}[K\n" }.joined() + "\u{1B}[J")
      } else if minute > lastMinute {
        // The minutes that ended since the last look.
        for m in max(lastMinute, minute - 60)..<minute { output.write(view.minuteLines(live, minute: m)) }
      }
      lastMinute = minute
      if let iterations, cycle >= iterations { break }
      pause(seconds: interval)
    }
    if terminal {
      output.write("\u{1B}[?25h\u{1B}[?1049l")
    } else {
      output.write(view.minuteLines(live, minute: lastMinute, inProgress: true))
    }
    return .ok
  }

  /// Sleeps in short steps, so Ctrl-C is heard at once.
  static func pause(seconds: Double) {
    var left = Int64(seconds * 1_000_000_000)
    while left > 0, !stopRequested.load(ordering: .relaxed) {
      let step = min(left, 50_000_000)
      var ts = timespec(tv_sec: 0, tv_nsec: Int(step))
      nanosleep(&ts, nil)
      left -= step
    }
  }

  /// What the screen and the minute lines show.
  struct View {
    var zone: TimeZoneRule
    var limitLabel: String?
    var itpm: (String) -> Int64?
    var start: Instant

    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// `HH:MM` (or `HH:MM:SS`) in the zone.
    func clock(_ at: Instant, seconds: Bool = false) -> String {
      let local = at.millisecondsSinceEpoch / 1000 + zone.offset(at: at)
      let s = ((local % 86_400) + 86_400) % 86_400
      func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
      return two(s / 3600) + ":" + two(s / 60 % 60) + (seconds ? ":" + two(s % 60) : "")
    }

    /// The minute as `2026-01-15T10:03+00:00`.
    func minuteLabel(_ minute: Int64) -> String {
      let at = Instant(millisecondsSinceEpoch: minute * 60_000)
      let offset = zone.offset(at: at)
      let local = Instant(millisecondsSinceEpoch: at.millisecondsSinceEpoch + offset * 1000)
      let sign = offset < 0 ? "-" : "+"
      let o = abs(offset)
      func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
      return "\(local.day)T\(clock(at))\(sign)\(two(o / 3600)):\(two(o / 60 % 60))"
    }

    /// One line per pool with traffic in `minute` (or one saying none).
    func minuteLines(_ live: LiveMinutes, minute: Int64, inProgress: Bool = false) -> String {
      var out = ""
      let label = minuteLabel(minute) + (inProgress ? " (so far)" : "")
      for (k, name) in live.pools.enumerated() {
        let c = live.charge(minute: minute, pool: k)
        guard c.requests > 0 else { continue }
        var line = "\(label)  \(Escape.terminal(name))  I \(c.itpm)  P \(c.estimate)  requests \(c.requests)"
        if let limit = itpm(name) {
          line +=
            "  limit \(limit)  I \(Fmt.percent(Ratio(c.itpm, Int128(limit))))  P \(Fmt.percent(Ratio(c.estimate, Int128(limit))))"
        }
        out += line + "\n"
      }
      return out.isEmpty ? "\(label)  no traffic\n" : out
    }

    /// A sparkline of `values` on a scale whose top is `top`.
    static func sparkline(_ values: [Int128], top: Int128) -> String {
      guard top > 0 else { return String(repeating: " ", count: values.count) }
      return String(
        values.map { v -> Character in
          guard v > 0 else { return " " }
          let k = Int(min(7, (v * 8 - 1) / top))
          return bars[max(0, k)]
        })
    }

    /// The screen: a heading, then a block per pool with traffic in the last hour.
    func screen(_ live: LiveMinutes, now: Instant, width: Int) -> [String] {
      let minute = now.millisecondsSinceEpoch / 60_000
      let startMinute = start.millisecondsSinceEpoch / 60_000
      var lines = [
        fit(
          "tokengap watch · \(clock(now, seconds: true)) · \(Fmt.count(live.filesFollowed, "file")) followed · Ctrl-C quits",
          width),
        fit(limitLabel.map { "limits: " + $0 } ?? "no limit given: --tier <name> or --itpm <n> to compare", width),
      ]
      let span = max(10, min(60, width - 20))
      var active: [(pool: Int, name: String, hour: [LiveMinutes.Charge])] = []
      for (k, name) in live.pools.enumerated() {
        let hour = (0..<span).map { live.charge(minute: minute - Int64(span - 1) + Int64($0), pool: k) }
        if hour.contains(where: { $0.requests > 0 }) { active.append((k, name, hour)) }
      }
      active.sort { a, b in
        let (pa, pb) = (a.hour.reduce(Int128(0)) { $0 + $1.estimate }, b.hour.reduce(Int128(0)) { $0 + $1.estimate })
        return pa != pb ? pa > pb : a.name < b.name
      }
      if active.isEmpty {
        lines.append("")
        lines.append(fit("no traffic in the last \(span) minutes (\(clock(now)) now)", width))
      }
      for (k, name, hour) in active {
        let limit = itpm(name)
        let now = hour.last ?? LiveMinutes.Charge()
        func share(_ v: Int128) -> String {
          limit.map { " " + Fmt.percent(Ratio(v, Int128($0))) } ?? ""
        }
        lines.append("")
        lines.append(fit(Escape.terminal(name) + (limit.map { " · ITPM limit \(Fmt.tokens($0))" } ?? ""), width))
        var this =
          "  this minute  I \(Fmt.tokens(now.itpm))\(share(now.itpm)) · P \(Fmt.tokens(now.estimate))\(share(now.estimate))"
        if let limit, now.estimate > Int128(limit) {
          this += now.itpm > Int128(limit) ? " · over the limit" : " · P over the limit, I not"
        }
        lines.append(fit(this, width))
        let top = max(
          Int128(limit ?? 0), hour.map(\.estimate).max() ?? 0, hour.map(\.itpm).max() ?? 0)
        lines.append(fit("  last \(span) min P " + Self.sparkline(hour.map(\.estimate), top: top), width))
        lines.append(
          fit(
            "  \(String(repeating: " ", count: "last \(span) min".count)) I "
              + Self.sparkline(hour.map(\.itpm), top: top), width))
        // Since the start: hit rate and minutes over the limit.
        var sum = LiveMinutes.Charge()
        var overP = 0
        var overI = 0
        for m in startMinute...max(startMinute, minute) {
          let c = live.charge(minute: m, pool: k)
          sum.estimate += c.estimate
          sum.cacheRead += c.cacheRead
          if let limit, c.estimate > Int128(limit) { overP += 1 }
          if let limit, c.itpm > Int128(limit) { overI += 1 }
        }
        var since = "  since \(clock(start))  hit \(Fmt.percent(Ratio(sum.cacheRead, sum.estimate)))"
        if limit != nil {
          since += " · minutes over: \(overP) by estimate P, \(overI) by charge I"
        }
        lines.append(fit(since, width))
      }
      return lines
    }

    /// The line cut to `width` characters.
    func fit(_ s: String, _ width: Int) -> String {
      s.count <= width ? s : String(s.prefix(max(1, width - 1))) + "…"
    }
  }
}
