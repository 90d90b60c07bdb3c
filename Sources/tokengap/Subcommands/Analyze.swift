import Compare
import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `tokengap analyze`: the gap over recorded usage, grouped.
enum AnalyzeCommand: Subcommand {
  static let spec = CommandSpec(
    name: "analyze",
    abstract: "Measure the gap over recorded usage: transcripts and API responses.",
    usage: "tokengap analyze [<path> ...] [--by <keys>] [--format <format>] [--output <file>] [options]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(
        name: "by", value: "keys", Dimension.self, lead: "Group by ", tail: "; combine with commas (day,model).",
        defaultText: "session"),
      OptionSpec(
        name: "format", value: "format",
        help: "table, json, csv, md, or jsonl (a row per request, with --by request).", defaultText: "table",
        choices: OutputFormat.spellings + [RowFormat.jsonl.rawValue]),
      Common.json,
      OptionSpec(
        name: "rows",
        help:
          "With --by request --format csv: add the row columns (schema, source, flags, raw fields) that tokengap reads back."
      ),
      OptionSpec(
        name: "source-label", value: "name", help: "The source every exported row carries.",
        defaultText: "the host name"),
      OptionSpec(
        name: "output", short: "o", value: "file",
        help:
          "Write to this file (whole, or not at all) instead of standard output; without --format, a .json, .csv, .md or .jsonl name sets the format."
      ),
      OptionSpec(
        name: "timezone", value: "zone",
        help:
          "local, UTC, an IANA zone (Europe/Paris) or +HH:MM: for month, week, day, hour and minute keys, times shown and days in --since/--until.",
        defaultText: "local: TZ, else /etc/localtime", choices: ["local", "UTC"]),
      OptionSpec(
        name: "sort", value: "key", GroupSort.self, lead: "Order the groups by ",
        tail: "; in every format. The table of sessions is ordered by time unless told.",
        defaultText: "the grouping's order"),
      OptionSpec(name: "order", value: "order", SortOrder.self, tail: ", for --sort.", defaultText: "desc"),
      OptionSpec(
        name: "top", value: "n",
        help:
          "Show the first n groups in the table, and how many more there are; 0 for all. CSV and JSON hold every group.",
        defaultText: "20 for sessions, else all"),
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

      '--by request --format jsonl' (or '--rows' with CSV) exports tokengap's
      own rows; given back as inputs, exports of several machines merge into
      the figures of one run over all their data.
      """)

  static func parseGrouping(_ text: String) throws(UsageError) -> [Dimension] {
    var dims: [Dimension] = []
    for part in text.split(separator: ",") {
      let key = String(part).trimmingCharacters()
      guard let d = Dimension(rawValue: key) else {
        throw UsageError(
          "'--by' takes \(Dimension.list(Dimension.spellings)), not '\(part)'"
            + Suggestions.hint(key, Dimension.spellings))
      }
      guard !dims.contains(d) else { throw UsageError("'--by' names '\(d.rawValue)' twice") }
      dims.append(d)
    }
    guard !dims.isEmpty else { throw UsageError("'--by' needs at least one key") }
    if dims.contains(.total) && dims.count > 1 { throw UsageError("'--by total' does not combine") }
    return dims
  }

  /// `analyze`'s options, parsed once.
  struct Options: ParsedFromOptions {
    var inputs: InputOptions
    /// `--output`; nil or `-` for standard output.
    var path: String?
    /// `--by`: the keys groups are made of.
    var dimensions: [Dimension]
    /// `--format jsonl`, or `--rows` with CSV: a row per request; nil for a
    /// rendering of the groups.
    var rows: RowFormat?
    /// The rendering of the groups (CSV when ``rows`` is set).
    var format: OutputFormat
    var timeZone: TimeZoneRule
    /// `--columns`: the table's columns; nil for the default ones.
    var columns: [String]?
    /// `--sort` and `--order`; nil for the grouping's order.
    var ordering: (GroupSort, SortOrder)?
    /// `--top`: how many groups the table shows; nil for all.
    var top: Int?
    var wide: Bool
    /// `--source-label`: the source exported rows carry; nil for the host name.
    var sourceLabel: String?

    init(_ o: ParsedOptions) throws {
      dimensions = try AnalyzeCommand.parseGrouping(o.value("by") ?? "session")
      rows = try AnalyzeCommand.rowFormat(o, dimensions)
      format = rows == nil ? try Common.format(o) : .csv
      timeZone = try o.timeZone()
      columns = try AnalyzeCommand.columns(o, dimensions)
      (ordering, top) = try AnalyzeCommand.sorting(o, dimensions, format: rows == nil ? format : nil)
      inputs = try InputOptions(o, zone: timeZone)
      path = o.value("output")
      wide = o.flag("wide")
      sourceLabel = o.value("source-label")
    }
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    let dims = o.dimensions
    let zone = o.timeZone
    let input = try await Inputs.load(o.inputs)
    let priced = input.priced
    try Inputs.requireUsable(priced.ledger.requests > 0, input, o.inputs, errors: &errors)
    if let rows = o.rows {
      try emitRows(
        priced, rows, source: o.sourceLabel ?? hostName(), zone: zone, to: o.path, inputs: input.files,
        output: &output)
      return Inputs.finish(priced.ledger, o.inputs, usable: priced.ledger.requests > 0, errors: &errors)
    }
    // A row per request as CSV goes straight from the priced table: the same
    // bytes, without a group held per request.
    let text: String
    if dims == [.request] && o.format == .csv && o.ordering == nil {
      text = priced.requestsCSV(timeZone: zone)
    } else {
      var result = priced.analysis(dimensions: dims, timeZone: zone)
      if let (key, order) = o.ordering { result = result.sorted(by: key, order) }
      // A table fits the terminal it is shown in (100 columns in a file or a pipe).
      let width = o.path == nil ? output.columns ?? 100 : 100
      text = AnalysisRenderer.render(
        result, format: o.format, shape: TableShape(width: width, wide: o.wide, columns: o.columns, top: o.top))
    }
    try Common.emit(text, to: o.path, inputs: input.files, output: &output)
    return Inputs.finish(priced.ledger, o.inputs, usable: priced.ledger.requests > 0, errors: &errors)
  }
}

extension AnalyzeCommand {
  /// `--sort`, `--order` and `--top`: how the groups are ordered (nil for the
  /// grouping's order) and how many the table shows (nil for all).
  ///
  /// The table of sessions is ordered by last activity, newest first, and
  /// shows 20 unless told; CSV and JSON keep the grouping's order unless
  /// `--sort` is given, and always hold every group.
  static func sorting(_ o: ParsedOptions, _ dims: [Dimension], format: OutputFormat?) throws(UsageError) -> (
    (GroupSort, SortOrder)?, Int?
  ) {
    let table = format == .table
    let sessions = table && dims == [.session]
    var key = try o.choice("sort", GroupSort.self)
    let order = try o.choice("order", SortOrder.self) ?? .desc
    if key == nil, sessions { key = .time }
    if key == nil, o.value("order") != nil {
      throw UsageError("'--order' orders what '--sort' names: give '--sort cost', 'ratio', 'time' or 'tokens' too")
    }
    if format == nil, o.value("sort") != nil {
      throw UsageError("'--sort' orders groups: exported rows are always in time order")
    }
    var top = sessions ? 20 : nil
    if let n = try o.count("top") {
      guard table else {
        throw UsageError("'--top' limits the terminal table: CSV, JSON and Markdown always hold every group")
      }
      top = n == 0 ? nil : Int(clamping: n)
    }
    return (key.map { ($0, order) }, top)
  }

  /// `--columns`, checked against the grouping's keys and the CSV's columns.
  static func columns(_ o: ParsedOptions, _ dims: [Dimension]) throws(UsageError) -> [String]? {
    guard let text = o.value("columns") else { return nil }
    if o.flag("wide") { throw UsageError("'--columns' and '--wide' do not combine: choose columns, or all of them") }
    let keys = dims.flatMap(\.columns)
    let allowed = TableShape.choosable(keys: keys, trailing: TableShape.trailing(dims))
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

  /// The rows asked for: `--format jsonl` (or a `.jsonl` output without
  /// `--format`), or `--rows` with the request CSV; nil for any other output.
  static func rowFormat(_ o: ParsedOptions, _ dims: [Dimension]) throws(UsageError) -> RowFormat? {
    let text = o.value("format")
    var inferred = false
    if text == nil, !o.flag("json"), let path = o.value("output"), path != "-" {
      let name = String(path.split(separator: "/").last ?? "").lowercased()
      inferred = name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson")
    }
    if text == "jsonl" || inferred {
      if o.flag("json") { throw UsageError("'--json' and '--format jsonl' ask for two formats; give one of them") }
      guard dims == [.request] else {
        // A .jsonl name with another grouping: the general message says what to do.
        if inferred { return nil }
        throw UsageError(
          "'--format jsonl' writes a row per request: it needs '--by request', not '--by \(dims.map(\.rawValue).joined(separator: ","))'"
        )
      }
      return .jsonl
    }
    if o.flag("rows") {
      guard dims == [.request],
        text == "csv" || (text == nil && o.value("output")?.lowercased().hasSuffix(".csv") == true)
      else {
        throw UsageError(
          "'--rows' adds the row columns to the request CSV: it needs '--by request --format csv' (JSON Lines rows always carry them)"
        )
      }
      return .csv
    }
    if o.value("source-label") != nil {
      throw UsageError("'--source-label' labels exported rows: give it with '--by request --format jsonl' or '--rows'")
    }
    return nil
  }

  /// Writes the rows to standard output or a file, a chunk at a time.
  static func emitRows(
    _ priced: PricedTable, _ format: RowFormat, source: String, zone: TimeZoneRule, to path: String?,
    inputs: [String], output: inout any TextSink
  ) throws {
    guard let path, path != "-" else {
      priced.writeRows(format, source: source, timeZone: zone) { text in
        output.write(text)
        return true
      }
      return
    }
    try Common.refuseInput(path, inputs)
    do {
      try POSIXFiles.writeOutput(to: path) { write in
        priced.writeRows(format, source: source, timeZone: zone, emit: write)
      }
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
  }

  /// The machine's name (gethostname), the default source label.
  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return bytes.isEmpty ? "unknown" : String(decoding: bytes, as: UTF8.self)
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
