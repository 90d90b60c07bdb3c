import Compare
import EstimateModel

/// `tokengap simulate`: recorded traffic through the rate-limit token buckets.
enum SimulateCommand {
  static let spec = CommandSpec(
    name: "simulate",
    abstract: "Replay recorded traffic through the rate-limit buckets: server rule vs count_tokens pacing.",
    usage:
      "tokengap simulate [<path> ...] (--tier <name> | --itpm <n> --otpm <n> --rpm <n> | --limits <file>) [--format <format>] [--series <file>] [--minutes <file>]",
    arguments: [Inputs.pathArgument],
    options: Replay.limitOptions + [
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
      OptionSpec(
        name: "series", value: "file",
        help: "Write bucket levels over time as CSV (time,pool,regime,dimension,level,capacity)."),
      OptionSpec(name: "minutes", value: "file", help: "Write tokens per clock-aligned UTC minute as CSV."),
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
      """)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let input = try await Inputs.load(o)
    let (recorded, untimed) = Replay.arrivals(input.requests)
    guard
      let limits = try Replay.limits(
        o, catalog: input.catalog, firstDay: recorded.first?.time.day, lastDay: recorded.last?.time.day,
        required: true)
    else { throw UsageError("name the limits") }
    try Inputs.requireUsable(input.ledger.requests > 0, input, o, errors: &errors)
    try Inputs.requireUsable(
      !recorded.isEmpty, input, o, needs: ("'simulate' replays requests at their times", "with a time"), errors: &errors
    )
    let arrivals = limits.routed(recorded)
    let sim = Simulation.run(arrivals, limits: limits.lookup, rules: limits.rules, series: o.value("series") != nil)
    let ledger = input.ledger
    let report = SimulationReport(
      outcomes: sim.outcomes, minutes: MinuteSeries.build(arrivals), unlimitedPools: sim.unlimited,
      limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
      catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256, rules: limits.rules,
      notes: limits.notes, limitsThirdParty: limits.thirdParty)
    if let path = o.value("series") {
      try Common.emit(SimulationRenderer.seriesCSV(sim.samples), to: path, inputs: input.files, output: &output)
    }
    if let path = o.value("minutes") {
      try Common.emit(SimulationRenderer.minutesCSV(report.minutes), to: path, inputs: input.files, output: &output)
    }
    try Common.emit(
      SimulationRenderer.render(report, format: format), to: o.value("output"), inputs: input.files,
      output: &output)
    return Inputs.finish(ledger, o, usable: !arrivals.isEmpty, errors: &errors)
  }
}
