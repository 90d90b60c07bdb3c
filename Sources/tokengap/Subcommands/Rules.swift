import Compare
import EstimateModel

/// `tokengap rules`: the catalog as of a day.
enum RulesCommand {
  static let spec = CommandSpec(
    name: "rules",
    abstract: "Print the catalog's prices, ITPM rules and rate limits as of a date.",
    usage: "tokengap rules [--at <date>] [--format <format>] [--wide]",
    options: [
      OptionSpec(name: "at", value: "date", help: "The day to show.", defaultText: "today, UTC"),
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help: "Write to a file instead of standard output; without --format, a .json, .csv or .md name sets the format."
      ),
      Common.quiet("Print nothing on standard error but errors."),
      Common.catalog, Common.wide,
    ])

  /// `rules`' options, parsed once.
  struct Options {
    var output: OutputOptions
    /// `--at`: the day shown; nil for today.
    var day: CivilDay?
    var catalogPath: String?
    /// `--wide`: every column at full precision.
    var wide: Bool

    init(_ o: ParsedOptions) throws {
      guard o.positionals.isEmpty else {
        throw UsageError("unexpected argument '\(o.positionals[0])'")
      }
      output = try OutputOptions(o)
      day = try o.instant("at")?.day
      catalogPath = o.value("catalog")
      wide = o.flag("wide")
    }
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    throws -> ExitCode
  {
    try run(Options(o), output: &output, errors: &errors)
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink) throws -> ExitCode {
    let catalog = try Common.catalog(path: o.catalogPath)
    try Common.emit(
      RulesRenderer.render(
        catalog, at: o.day ?? WallClock.today(), format: o.output.format,
        width: o.wide ? nil : Common.tableWidth(o.output.path, output)), to: o.output.path, output: &output)
    return .ok
  }
}
