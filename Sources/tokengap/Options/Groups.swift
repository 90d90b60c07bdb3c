import Compare
import EstimateModel

/// The inputs a data command reads, as parsed: paths and the options that
/// choose and filter records (`--since`, `--model`, `--jobs`, …).
///
/// Made once from the command line; ``Inputs/load(_:)`` reads the files.
struct InputOptions {
  /// The paths given; empty for the Claude Code roots.
  var paths: [String]
  var format: InputFormat = .auto
  var since: Instant?
  var until: Instant?
  /// `--since` and `--until` as given, for messages.
  var sinceText: String?
  var untilText: String?
  /// `--model` as given; checked against the catalog when it is loaded.
  var model: String?
  /// `--at`: the day records without a time are priced as of.
  var pricingDay: CivilDay?
  var jobs: Int = ParallelIngest.cores
  var accounting: Accounting?
  var lineLimit = IngestOptions.defaultLineLimit
  var documentLimit = IngestOptions.defaultCaptureLimit
  var strict = false
  var quiet = false
  /// `--catalog`: a catalog file instead of the built-in one.
  var catalogPath: String?

  /// Reads the input options; days in `--since` and `--until` start at
  /// midnight in `zone`.
  init(_ o: ParsedOptions, zone: TimeZoneRule = .utc) throws(UsageError) {
    paths = o.positionals
    format =
      try o.choice("input-format", InputFormat.self)
      ?? .auto
    since = try o.time("since", zone: zone)
    until = try o.time("until", zone: zone)
    sinceText = o.value("since")
    untilText = o.value("until")
    if let since, let until, since >= until {
      throw UsageError(
        "'--since \(sinceText ?? "")' (\(since)) is not before '--until \(untilText ?? "")' (\(until)), so no record could be kept"
      )
    }
    model = o.value("model")
    pricingDay = try o.instant("at")?.day
    accounting = try o.choice("accounting", Accounting.self)
    if let text = o.value("jobs") {
      guard let j = Int(text), j >= 1, j <= 256 else {
        throw UsageError("'--jobs' must be a whole number from 1 to 256, not '\(text)'")
      }
      jobs = j
    }
    func mebibytes(_ name: String, _ fallback: Int) throws(UsageError) -> Int {
      guard let n = try o.count(name) else { return fallback }
      guard n >= 1, n <= 1 << 20 else { throw UsageError("'--\(name)' must be from 1 to 1048576") }
      return Int(n) << 20
    }
    documentLimit = try mebibytes("max-document-mib", IngestOptions.defaultCaptureLimit)
    lineLimit = try mebibytes("max-line-mib", IngestOptions.defaultLineLimit)
    strict = o.flag("strict")
    quiet = o.flag("quiet")
    catalogPath = o.value("catalog")
  }

  /// The filters given, as their options (`--since`, `--model`), for the
  /// sentence that says they kept nothing.
  var filters: [String] {
    [("since", sinceText), ("until", untilText), ("model", model)].filter { $0.1 != nil }.map { "--\($0.0)" }
  }
}

/// Where a command's rendering goes: `--format`, `--json` and `--output`.
struct OutputOptions {
  var format: OutputFormat
  /// `--output`; nil or `-` for standard output.
  var path: String?

  /// Reads the output options; `formats` are the ones the command writes.
  init(_ o: ParsedOptions, formats: [OutputFormat] = OutputFormat.allCases) throws {
    format = try Common.format(o, formats)
    path = o.value("output")
  }
}

/// The rate limits a replay runs against, as parsed: a tier, explicit
/// limits or the organisation's limits file (at most one of them).
struct LimitOptions {
  var tier: String?
  /// `--limits-at`: the day whose table applies.
  var day: CivilDay?
  var itpm: Int64?
  var otpm: Int64?
  var rpm: Int64?
  /// `--limits`: a saved rate_limits response.
  var file: String?

  /// Limits from a tier alone (`watch --tier`).
  init(tier: String? = nil) {
    self.tier = tier
  }

  init(_ o: ParsedOptions) throws(UsageError) {
    tier = o.value("tier")
    itpm = try o.count("itpm")
    otpm = try o.count("otpm")
    rpm = try o.count("rpm")
    file = o.value("limits")
    let explicit = itpm != nil || otpm != nil || rpm != nil
    guard [tier != nil, explicit, file != nil].filter({ $0 }).count <= 1 else {
      throw UsageError("give one of '--tier', '--itpm/--otpm/--rpm' or '--limits', not several")
    }
    day = try o.instant("limits-at")?.day
  }

  /// Whether any limit was named.
  var given: Bool { tier != nil || itpm != nil || otpm != nil || rpm != nil || file != nil }
}

extension Common {
  /// `--timezone`, for commands that show or bucket time.
  static let timezone = OptionSpec(
    name: "timezone", value: "zone",
    help:
      "local, UTC, an IANA zone (Europe/Paris) or +HH:MM: for times shown, minute and day labels and days in --since/--until.",
    defaultText: "local: TZ, else /etc/localtime", choices: ["local", "UTC"])

  /// `--output`, where a name's extension sets the format.
  static let output = OptionSpec(
    name: "output", short: "o", value: "file",
    help: "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format.")

  /// `--wide`: the terminal table with every column at full precision.
  static let wide = OptionSpec(
    name: "wide", value: nil,
    help: "The table with every column at full precision (default: compact columns fitted to the terminal).")

  /// How many columns a table may take: the terminal's (or `COLUMNS`) on
  /// standard output, 100 in a file or a pipe.
  static func tableWidth(_ path: String?, _ output: any TextSink) -> Int {
    path == nil || path == "-" ? output.columns ?? 100 : 100
  }
}
