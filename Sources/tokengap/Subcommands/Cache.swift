import Compare
import EstimateModel

/// `tokengap cache`: rebuilds, unread writes and the 1-hour TTL's pay-off.
enum CacheCommand: Subcommand {
  static let spec = CommandSpec(
    name: "cache",
    abstract: "Explain the cache: hit rate over time, rebuilds after idle gaps, writes never read.",
    usage: "tokengap cache [<path> ...] [--by session|request] [--format <format>] [--wide]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(name: "by", value: "key", CacheGrouping.self, defaultText: "session"),
      Common.format(), Common.json, Common.output, Common.timezone, Common.wide,
    ] + Inputs.options)

  /// `cache`'s options, parsed once.
  struct Options: ParsedFromOptions {
    var inputs: InputOptions
    var output: OutputOptions
    var by: CacheGrouping
    var timeZone: TimeZoneRule
    /// `--wide`: every column at full precision.
    var wide: Bool

    init(_ o: ParsedOptions) throws {
      wide = o.flag("wide")
      output = try OutputOptions(o)
      by = try o.choice("by", CacheGrouping.self) ?? .session
      timeZone = try o.timeZone()
      inputs = try InputOptions(o, zone: timeZone)
    }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = o.output.format
    let input = try await Inputs.load(o.inputs)
    let analysis = CacheAnalysis.run(input.priced)
    try Inputs.requireUsable(!analysis.events.isEmpty, input, o.inputs, errors: &errors)
    let ledger = input.ledger
    let text: String
    switch (o.by, format) {
    case (.session, .table), (.session, .markdown):
      // For people: the period and what caching did first, then the table
      // with units.
      let markdown = format == .markdown
      let lines = CacheRenderer.headline(
        total: input.total().total, sessions: analysis.sessions, zone: o.timeZone)
      if markdown || o.wide {
        text =
          (markdown ? "# Cache by session\n\n" + lines.map { "- \($0)\n" }.joined() : lines.map { $0 + "\n" }.joined())
          + "\n" + CacheRenderer.sessionsTable(analysis.sessions, markdown: markdown)
      } else {
        // Fitted to the terminal: the sentences wrap, the table is compact.
        let width = Common.tableWidth(o.output.path, output)
        text =
          lines.map { FittedTable.wrap(Escape.terminal($0), width: width, indent: "  ") + "\n" }.joined() + "\n"
          + CacheRenderer.sessionsFitted(analysis.sessions, width: width)
      }
    case (.request, .table) where !o.wide:
      text = CacheRenderer.eventsFitted(
        analysis.events, timeZone: o.timeZone, width: Common.tableWidth(o.output.path, output))
    case (.request, _):
      text = CacheRenderer.events(analysis.events, format: format, catalog: input.catalog, timeZone: o.timeZone)
    case (.session, _):
      text = CacheRenderer.sessions(analysis.sessions, format: format, catalog: input.catalog)
    }
    try Common.emit(text, to: o.output.path, inputs: input.files, output: &output)
    return Inputs.finish(ledger, o.inputs, usable: !analysis.events.isEmpty, errors: &errors)
  }
}

/// `cache --by`'s spellings.
enum CacheGrouping: String, CaseIterable {
  case session, request
}
