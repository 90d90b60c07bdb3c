import Compare
import EstimateModel

/// `tokengap pairs`: captured count_tokens values beside the reconstructed estimate.
enum PairsCommand: Subcommand {
  static let spec = CommandSpec(
    name: "pairs",
    abstract: "Show captured count_tokens values and rate-limit headers beside P and I.",
    usage: "tokengap pairs [<path> ...] [--format <format>] [--wide]",
    arguments: [Inputs.pathArgument],
    options: [
      Common.format(), Common.json, Common.output, Common.timezone, Common.wide,
    ] + Inputs.options,
    discussion: """
      Reads HAR captures and paired JSON captures; each count_tokens call is paired
      with the messages call for the same prompt (same model, system, tools and
      messages by canonical hash; the nearest later call).
      """)

  /// `pairs`' options, parsed once.
  struct Options: ParsedFromOptions {
    var inputs: InputOptions
    var output: OutputOptions
    var timeZone: TimeZoneRule
    /// `--wide`: every column at full precision.
    var wide: Bool

    init(_ o: ParsedOptions) throws {
      wide = o.flag("wide")
      output = try OutputOptions(o)
      timeZone = try o.timeZone()
      inputs = try InputOptions(o, zone: timeZone)
    }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let input = try await Inputs.load(o.inputs)
    let rows = PairsRenderer.rows(input.requests)
    try Inputs.requireUsable(
      !rows.isEmpty, input, o.inputs,
      needs: (
        "'pairs' needs count_tokens calls captured with their messages calls: HAR files (with /v1/messages/count_tokens entries) or paired JSON captures (a line holding \"count_tokens\" and \"response\")",
        "with a captured count_tokens value"
      ), errors: &errors)
    let ledger = input.ledger
    try Common.emit(
      PairsRenderer.render(
        rows, ledger: ledger, format: o.output.format, catalog: input.catalog, timeZone: o.timeZone,
        width: o.wide ? nil : Common.tableWidth(o.output.path, output)),
      to: o.output.path, inputs: input.files, output: &output)
    return Inputs.finish(ledger, o.inputs, usable: !rows.isEmpty, errors: &errors)
  }
}
