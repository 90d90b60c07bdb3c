import Compare
import EstimateModel

/// `tokengap simulate`: recorded traffic through the rate-limit token buckets.
enum SimulateCommand: Subcommand {
  static let spec = CommandSpec(
    name: "simulate",
    abstract: "Replay recorded traffic through the rate-limit buckets: server rule vs count_tokens pacing.",
    usage:
      "tokengap simulate [<path> ...] (--tier <name> | --itpm <n> --otpm <n> --rpm <n> | --limits <file>) [--format <format>] [--series <file>] [--minutes <file>] [--wide]",
    arguments: [Inputs.pathArgument],
    options: Replay.limitOptions + [
      Common.format(), Common.json, Common.output,
      OptionSpec(
        name: "series", value: "file",
        help: "Write bucket levels over time as CSV (time,pool,regime,dimension,level,capacity)."),
      OptionSpec(
        name: "minutes", value: "file", help: "Write tokens per clock-aligned minute as CSV, labelled in --timezone."),
      Common.timezone, Common.wide,
    ] + Inputs.options,
    discussion: """
      Four regimes per model pool: 'server' paces on the cache-aware ITPM charge I,
      'count_tokens' paces on the estimate P (or the measured count_tokens value
      where the capture has one), 'unpaced' sends at the recorded times and counts
      the requests that would have received a 429, and 'reserve_refund' is a
      gateway (LiteLLM) that reserves P and max_tokens at send and settles to I and
      the real output when the response ends.

      OTPM follows the rule of the table in force: 2025 tables charge max_tokens at
      send and settle to the output at the end; from 2026-09 OTPM is evaluated in
      real time and max_tokens does not gate admission. max_tokens comes from HAR
      request bodies, else it is taken as the recorded output; a response's
      duration from HAR timings or OTel duration_ms, else 10 s. Each run prints
      the assumptions it made.

      The replay works on instants: --timezone changes how minutes and times
      are labelled, never which requests share a minute (every zone has been a
      whole number of minutes from UTC since 1972; an offset with seconds, such
      as Liberia's -00:44:30 before then, is rounded to the minute).
      """)

  /// `simulate`'s options, parsed once.
  struct Options: ParsedFromOptions {
    var inputs: InputOptions
    var output: OutputOptions
    var limits: LimitOptions
    /// `--series`: bucket levels as CSV.
    var series: String?
    /// `--minutes`: tokens per minute as CSV.
    var minutes: String?
    var timeZone: TimeZoneRule
    /// `--wide`: every column at full precision, the sentences unwrapped.
    var wide: Bool

    init(_ o: ParsedOptions) throws {
      wide = o.flag("wide")
      output = try OutputOptions(o)
      timeZone = try o.timeZone()
      limits = try LimitOptions(o)
      inputs = try InputOptions(o, zone: timeZone)
      series = o.value("series")
      minutes = o.value("minutes")
    }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let input = try await Inputs.load(o.inputs)
    let (recorded, untimed) = Replay.arrivals(input.requests)
    guard
      let limits = try Replay.limits(
        o.limits, catalog: input.catalog, firstDay: recorded.first?.time.day, lastDay: recorded.last?.time.day,
        required: true)
    else { throw UsageError("name the limits") }
    try Inputs.requireUsable(input.ledger.requests > 0, input, o.inputs, errors: &errors)
    try Inputs.requireUsable(
      !recorded.isEmpty, input, o.inputs, needs: ("'simulate' replays requests at their times", "with a time"),
      errors: &errors)
    let arrivals = limits.routed(recorded)
    let sim = Simulation.run(arrivals, limits: limits.lookup, rules: limits.rules, series: o.series != nil)
    let ledger = input.ledger
    let report = SimulationReport(
      outcomes: sim.outcomes, minutes: MinuteSeries.build(arrivals), unlimitedPools: sim.unlimited,
      limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
      catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256, rules: limits.rules,
      notes: limits.notes, limitsThirdParty: limits.thirdParty, timeZone: o.timeZone)
    if let path = o.series {
      try Common.emit(
        SimulationRenderer.seriesCSV(sim.samples, timeZone: o.timeZone), to: path, inputs: input.files,
        output: &output)
    }
    if let path = o.minutes {
      try Common.emit(
        SimulationRenderer.minutesCSV(report.minutes, timeZone: o.timeZone), to: path, inputs: input.files,
        output: &output)
    }
    try Common.emit(
      SimulationRenderer.render(
        report, format: o.output.format, width: o.wide ? nil : Common.tableWidth(o.output.path, output)),
      to: o.output.path, inputs: input.files,
      output: &output)
    return Inputs.finish(ledger, o.inputs, usable: !arrivals.isEmpty, errors: &errors)
  }
}
