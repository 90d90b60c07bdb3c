import Compare
import EstimateModel

/// `tokengap pairs`: captured count_tokens values beside the reconstructed estimate.
enum PairsCommand {
  static let spec = CommandSpec(
    name: "pairs",
    abstract: "Show captured count_tokens values and rate-limit headers beside P and I.",
    usage: "tokengap pairs [<path> ...] [--format <format>]",
    arguments: [Inputs.pathArgument],
    options: [
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
    ] + Inputs.options,
    discussion: """
      Reads HAR captures and paired JSON captures; each count_tokens call is paired
      with the messages call for the same prompt (same model, system, tools and
      messages by canonical hash; the nearest later call).
      """)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let input = try await Inputs.load(o)
    let rows = PairsRenderer.rows(input.requests)
    try Inputs.requireUsable(
      !rows.isEmpty, input, o,
      needs: (
        "'pairs' needs count_tokens calls captured with their messages calls: HAR files (with /v1/messages/count_tokens entries) or paired JSON captures (a line holding \"count_tokens\" and \"response\")",
        "with a captured count_tokens value"
      ), errors: &errors)
    let ledger = input.ledger
    try Common.emit(
      PairsRenderer.render(rows, ledger: ledger, format: format, catalog: input.catalog), to: o.value("output"),
      inputs: input.files, output: &output)
    return Inputs.finish(ledger, o, usable: !rows.isEmpty, errors: &errors)
  }
}
