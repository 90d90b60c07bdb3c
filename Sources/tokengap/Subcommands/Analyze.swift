import Compare
import EstimateModel

/// `tokengap analyze`: the gap over recorded usage, grouped.
enum AnalyzeCommand {
  static let spec = CommandSpec(
    name: "analyze",
    abstract: "Measure the gap over recorded usage: transcripts and API responses.",
    usage: "tokengap analyze [<path> ...] [--by <keys>] [--format <format>] [--output <file>] [options]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(
        name: "by", value: "keys",
        help: "Group by request, session, project, day, hour, minute, model or total; combine with commas (day,model).",
        defaultText: "session"),
      Common.format(), Common.json,
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file (whole, or not at all) instead of standard output; without --format, a .json, .csv or .md name sets the format."
      ),
      OptionSpec(
        name: "timezone", value: "zone", help: "IANA zone (or +HH:MM) for day, hour and minute keys.",
        defaultText: "UTC"),
      OptionSpec(
        name: "wide", value: nil,
        help: "The table with every column at full precision (default: compact columns fitted to the terminal)."),
      OptionSpec(
        name: "columns", value: "names",
        help: "The table's columns, by their CSV names, comma-separated (requests,estimate_tokens,cache_hit_rate,...)."),
    ] + Inputs.options,
    discussion: """
      Every request's estimate P (what count_tokens returns: input + cache writes +
      cache reads) is set against I, what counted toward the ITPM rate limit, and
      against the bill. Aggregates are ratios of sums; p50/p90/p99/max are exact.
      """)

  static func parseGrouping(_ text: String) throws(UsageError) -> [Dimension] {
    var dims: [Dimension] = []
    for part in text.split(separator: ",") {
      let key = String(part).trimmingCharacters()
      guard let d = Dimension(rawValue: key) else {
        throw UsageError(
          "'--by' takes request, session, project, day, hour, minute, model or total, not '\(part)'"
            + Suggestions.hint(key, Dimension.allCases.map(\.rawValue)))
      }
      guard !dims.contains(d) else { throw UsageError("'--by' names '\(d.rawValue)' twice") }
      dims.append(d)
    }
    guard !dims.isEmpty else { throw UsageError("'--by' needs at least one key") }
    if dims.contains(.total) && dims.count > 1 { throw UsageError("'--by total' does not combine") }
    return dims
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let dims = try parseGrouping(o.value("by") ?? "session")
    let format = try Common.format(o)
    let zone: TimeZoneRule
    do {
      zone = try TimeZoneRule.named(o.value("timezone") ?? "UTC")
    } catch {
      throw UsageError("\(error)")
    }
    let chosen = try columns(o, dims)
    let input = try await Inputs.load(o, zone: zone)
    let priced = input.priced
    try Inputs.requireUsable(priced.ledger.requests > 0, input, o, errors: &errors)
    // A row per request as CSV goes straight from the priced table: the same
    // bytes, without a group held per request.
    let text: String
    if dims == [.request] && format == .csv {
      text = priced.requestsCSV(timeZone: zone)
    } else {
      let result = priced.analysis(dimensions: dims, timeZone: zone)
      // A table fits the terminal it is shown in (100 columns in a file or a pipe).
      let width = o.value("output") == nil ? output.columns ?? 100 : 100
      text = AnalysisRenderer.render(
        result, format: format, shape: TableShape(width: width, wide: o.flag("wide"), columns: chosen))
    }
    try Common.emit(text, to: o.value("output"), inputs: input.files, output: &output)
    return Inputs.finish(priced.ledger, o, usable: priced.ledger.requests > 0, errors: &errors)
  }
}

extension AnalyzeCommand {
  /// `--columns`, checked against the grouping's keys and the CSV's columns.
  static func columns(_ o: ParsedOptions, _ dims: [Dimension]) throws(UsageError) -> [String]? {
    guard let text = o.value("columns") else { return nil }
    if o.flag("wide") { throw UsageError("'--columns' and '--wide' do not combine: choose columns, or all of them") }
    let keys = dims.flatMap(\.columns)
    let allowed = TableShape.choosable(keys: keys)
    var chosen: [String] = []
    for part in text.split(separator: ",") {
      let name = String(part).trimmingCharacters()
      guard allowed.contains(name) else {
        throw UsageError("'--columns' has no column '\(name)'" + Suggestions.hint(name, allowed))
      }
      if !chosen.contains(name) { chosen.append(name) }
    }
    guard !chosen.isEmpty else { throw UsageError("'--columns' needs at least one column name") }
    return chosen
  }
}

extension String {
  func trimmingCharacters() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
