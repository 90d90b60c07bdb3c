import Compare
import EstimateModel

/// `tokengap rules`: the catalog as of a day.
enum RulesCommand {
  static let spec = CommandSpec(
    name: "rules",
    abstract: "Print the catalog's prices, ITPM rules and rate limits as of a date.",
    usage: "tokengap rules [--at <date>] [--format <format>]",
    options: [
      OptionSpec(name: "at", value: "date", help: "The day to show.", defaultText: "today, UTC"),
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help: "Write to a file instead of standard output; without --format, a .json, .csv or .md name sets the format."
      ),
      Common.quiet("Print nothing on standard error but errors."),
      Common.catalog,
    ])

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    throws -> ExitCode
  {
    guard o.positionals.isEmpty else {
      throw UsageError("unexpected argument '\(o.positionals[0])'")
    }
    let format = try Common.format(o)
    let day = try o.instant("at")?.day ?? WallClock.today()
    let catalog = try Common.catalog(o)
    try Common.emit(
      RulesRenderer.render(catalog, at: day, format: format), to: o.value("output"),
      output: &output)
    return .ok
  }
}
