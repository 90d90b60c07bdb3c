import Compare
import EstimateModel

#if canImport(Glibc)
  import Glibc
#endif

/// `tokengap chart`: chart-ready CSV files and SVG charts, for people who
/// would rather look.
enum ChartCommand: Subcommand {
  static let spec = CommandSpec(
    name: "chart",
    abstract: "Write chart-ready CSV files (and SVG charts with --svg) to a directory.",
    usage: "tokengap chart [<path> ...] --out <dir> [--svg] [--tier <name>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(name: "out", value: "dir", help: "Directory to write into (created if missing)."),
      OptionSpec(name: "svg", help: "Also render SVG charts."),
    ] + Replay.limitOptions + [Common.timezone] + Inputs.options,
    discussion: """
      Writes requests.csv, minutes.csv, ratio_histogram.csv, cumulative.csv and
      sessions.csv, plus bucket.csv when limits are given; with --svg also
      estimate_vs_itpm.svg, ratio_histogram.svg, cumulative_cost.svg and
      bucket_levels.svg. Times in the files and on the charts' axes are in
      --timezone, with the offset in the CSV files.
      """)

  /// `chart`'s options, parsed once.
  struct Options: ParsedFromOptions {
    var inputs: InputOptions
    var limits: LimitOptions
    /// `--out`: the folder the files go to.
    var out: String
    var svg: Bool
    var timeZone: TimeZoneRule

    init(_ o: ParsedOptions) throws {
      guard let dir = o.value("out") else { throw UsageError("missing '--out <dir>'") }
      out = dir
      svg = o.flag("svg")
      timeZone = try o.timeZone()
      limits = try LimitOptions(o)
      inputs = try InputOptions(o, zone: timeZone)
    }
  }

  /// Creates the folder and any missing parents.
  static func makeDirectory(_ path: String) throws {
    guard POSIXFiles.makeDirectories(path) else {
      throw CommandFailure(
        code: .cannotWrite, message: "cannot create directory '\(path)' (or it is not a directory)")
    }
  }

  /// Builds the chart files for a loaded input, staging each in `dir` as it
  /// is made (one file in memory at a time); nothing is in place until
  /// `staged` is committed. Returns the names written, in order.
  static func charts(
    _ limitOptions: LimitOptions, timeZone: TimeZoneRule, _ input: Inputs.Loaded, svg: Bool, into dir: String,
    staged: POSIXFiles.StagedFiles, sessions: AnalysisResult? = nil
  ) async throws -> ([String], SimulationReport?) {
    try makeDirectory(dir)
    // Every name a run may write or remove: an input among them is refused
    // before anything is staged (and is never removed as a stale chart).
    try Common.refuseInputs(Charts.fileNames.map { dir + "/" + $0 }, input.files)
    let (recorded, untimed, points) = Charts.arrivalsAndPoints(input.priced)
    let limits = try Replay.limits(
      limitOptions, catalog: input.catalog, firstDay: recorded.first?.time.day, lastDay: recorded.last?.time.day,
      required: false)
    // With limits, each request sits in the bucket it is charged to.
    let arrivals = limits?.routed(recorded) ?? recorded
    var report: SimulationReport?
    var sim: (outcomes: [RegimeOutcome], samples: [BucketSample])?
    // The minutes are made once, for the charts and the replay's summary.
    let minutes = MinuteSeries.build(arrivals)
    if let limits {
      let run = Simulation.run(arrivals, limits: limits.lookup, rules: limits.rules, series: true)
      sim = (run.outcomes, run.samples)
      let ledger = input.ledger
      report = SimulationReport(
        outcomes: run.outcomes, minutes: minutes, unlimitedPools: run.unlimited,
        limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
        catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256, rules: limits.rules,
        notes: limits.notes, limitsThirdParty: limits.thirdParty, timeZone: timeZone)
    }
    var names: [String] = []
    do {
      try await Charts.build(
        priced: input.priced, points: points, arrivals: arrivals, simulation: sim, limitsLabel: limits?.label,
        svg: svg, sessions: sessions, minutes: minutes, timeZone: timeZone
      ) { (name, parts) throws(FileError) in
        try staged.stage(parts: parts, at: dir + "/" + name)
        names.append(name)
      }
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    return (names, report)
  }

  /// Moves the staged files into place together; chart files of an earlier
  /// run that this run did not write are removed, so the folder never mixes
  /// two runs.
  static func commit(_ staged: POSIXFiles.StagedFiles, names: [String], in dir: String) throws {
    do {
      try staged.commit()
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    let written = Set(names)
    for name in Charts.fileNames where !written.contains(name) { unlink(dir + "/" + name) }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let dir = o.out
    let input = try await Inputs.load(o.inputs)
    try Inputs.requireUsable(input.ledger.requests > 0, input, o.inputs, errors: &errors)
    let staged = POSIXFiles.StagedFiles()
    let (names, _) = try await charts(
      o.limits, timeZone: o.timeZone, input, svg: o.svg, into: dir, staged: staged)
    try commit(staged, names: names, in: dir)
    // The folder as given, escaped: its escape sequence or line break must
    // not reach the terminal.
    for name in names { output.write("wrote \(Escape.terminal(dir + "/" + name))\n") }
    let ledger = input.ledger
    return Inputs.finish(ledger, o.inputs, usable: ledger.requests > 0, errors: &errors)
  }
}
