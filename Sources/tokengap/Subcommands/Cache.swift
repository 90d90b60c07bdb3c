import Compare
import EstimateModel

/// `tokengap cache`: rebuilds, unread writes and the 1-hour TTL's pay-off.
enum CacheCommand {
  static let spec = CommandSpec(
    name: "cache",
    abstract: "Explain the cache: hit rate over time, rebuilds after idle gaps, writes never read.",
    usage: "tokengap cache [<path> ...] [--by session|request] [--format <format>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(
        name: "by", value: "key",
        help: "session (a summary per session) or request (one row per request, in time order).",
        defaultText: "session",
        choices: CacheGrouping.allCases.map(\.rawValue)),
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file instead of standard output; without --format, a .json, .csv or .md name sets the format."),
    ] + Inputs.options)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let format = try Common.format(o)
    let by = try o.choice("by", CacheGrouping.self, default: .session)
    let input = try await Inputs.load(o)
    let analysis = CacheAnalysis.run(input.priced)
    try Inputs.requireUsable(!analysis.events.isEmpty, input, o, errors: &errors)
    let ledger = input.ledger
    let text: String
    switch (by, format) {
    case (.session, .table), (.session, .markdown):
      // For people: what caching did first, then the table with units.
      let markdown = format == .markdown
      let lines = CacheRenderer.headline(total: input.total().total, sessions: analysis.sessions)
      text =
        (markdown ? "# Cache by session\n\n" + lines.map { "- \($0)\n" }.joined() : lines.map { $0 + "\n" }.joined())
        + "\n" + CacheRenderer.sessionsTable(analysis.sessions, markdown: markdown)
    case (.request, _):
      text = CacheRenderer.events(analysis.events, format: format, catalog: input.catalog)
    case (.session, _):
      text = CacheRenderer.sessions(analysis.sessions, format: format, catalog: input.catalog)
    }
    try Common.emit(text, to: o.value("output"), inputs: input.files, output: &output)
    return Inputs.finish(ledger, o, usable: !analysis.events.isEmpty, errors: &errors)
  }
}

/// `cache --by`'s spellings.
enum CacheGrouping: String, CaseIterable {
  case session, request
}
