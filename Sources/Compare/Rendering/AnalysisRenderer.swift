import Dispatch
public import EstimateModel
import Synchronization

/// Renders `analyze` results as CSV, JSON, a terminal table or Markdown.
public enum AnalysisRenderer {
  /// How many problems the ledger lists by name.
  public static let problemsShown = 20

  public static func render(_ r: AnalysisResult, format: OutputFormat, shape: TableShape = TableShape()) -> String {
    switch format {
    case .csv: csv(r)
    case .json: json(r)
    case .table: shape.wide ? wide(r, top: shape.top) : compact(r, shape: shape)
    case .markdown: table(r, markdown: true)
    }
  }

  /// The terminal table for people: the headline, then the groups in
  /// compact columns with a totals row, fitted to `shape.width`.
  static func compact(_ r: AnalysisResult, shape: TableShape) -> String {
    var out = ""
    let head = headline(r)
    let width = head.map(\.0.count).max() ?? 0
    for (k, v) in head { out += k + String(repeating: " ", count: width - k.count + 2) + v + "\n" }
    if !r.keyColumns.isEmpty { out += "\n" + PeopleTable.render(r, shape: shape) }
    out +=
      "\nP = input + cache writes + cache reads: what count_tokens counts.\nI = what counts toward the ITPM rate limit.\n"
      + "catalog \(r.catalogVersion) sha256:\(r.catalogSHA256.prefix(12))\n"
    return out
  }

  /// The table with every column (`--wide`): the first `top` groups, and
  /// a line saying how many more.
  static func wide(_ r: AnalysisResult, top: Int?) -> String {
    guard let top, r.rows.count > top else { return table(r, markdown: false) }
    var shown = r
    shown.rows = Array(r.rows.prefix(top))
    let noun = r.dimensions.count == 1 ? r.dimensions[0].rawValue : "group"
    return table(shown, markdown: false) + "… \(Fmt.count(r.rows.count - top, "more " + noun)) (--top 0 for all)\n"
  }

  /// The summary columns' values for one group.
  package static func values(_ s: Summary) -> [String] {
    let p = s.ratioPercentiles()
    return [
      String(s.requests), Fmt.int(s.input), Fmt.int(s.cacheWrite5m), Fmt.int(s.cacheWrite1h),
      Fmt.int(s.cacheWriteUnknownTTL), Fmt.int(s.cacheRead), Fmt.int(s.output), Fmt.int(s.estimate),
      Fmt.int(s.itpm), Fmt.int(s.overestimate), Fmt.ratio(s.overestimationRatio),
      Fmt.ratio(s.excessShare), Fmt.ratio(s.cacheHitRate), Fmt.ratio(p.p50), Fmt.ratio(p.p90),
      Fmt.ratio(p.p99), Fmt.ratio(p.max), Fmt.usd(s.cost(s.inputCostEstimate)),
      Fmt.usd(s.cost(s.inputCostActual)), Fmt.usd(s.cost(s.outputCost)),
      Fmt.usd(s.cost(s.costActual)), Fmt.ratio(s.inputCostRatio),
      s.lowerBound > 0 ? "true" : "false", String(s.unpriced),
    ]
  }

  /// ``values(_:)`` and, after the `trailing` cells, ``finalValues(_:)``,
  /// appended as one row's CSV cells after its key cells (each preceded by
  /// a comma; then the line's end): the text ``CSVWriter`` writes for them,
  /// made without a String per number. A single request's four
  /// percentiles are its ratio, taken without sorting.
  static func appendValues(_ s: Summary, trailing: [String], to bytes: inout [UInt8]) {
    @inline(__always) func integer(_ v: Int128) {
      bytes.append(0x2C)
      CSVWriter.appendInteger(v, to: &bytes)
    }
    @inline(__always) func cell(_ text: String) {
      bytes.append(0x2C)
      CSVWriter.appendCell(text, to: &bytes)
    }
    // Ratios and dollars are written as bytes, no String made: digits, a
    // point and a minus sign, which a cell writes as they are.
    @inline(__always) func ratio(_ r: Ratio?) {
      bytes.append(0x2C)
      r?.write(to: &bytes)
    }
    @inline(__always) func usd(_ u: USD?) {
      bytes.append(0x2C)
      u?.write(to: &bytes)
    }
    let p = s.ratioPercentiles()
    integer(Int128(s.requests))
    for v in [
      s.input, s.cacheWrite5m, s.cacheWrite1h, s.cacheWriteUnknownTTL, s.cacheRead, s.output, s.estimate, s.itpm,
    ] {
      integer(v)
    }
    integer(s.overestimate)
    ratio(s.overestimationRatio)
    ratio(s.excessShare)
    ratio(s.cacheHitRate)
    if s.requests == 1, s.ratioCount == 1 {
      // A request's every percentile is its ratio (not sorted for).
      for _ in 0..<4 { ratio(s.overestimationRatio) }
    } else {
      for q in [p.p50, p.p90, p.p99, p.max] { ratio(q) }
    }
    usd(s.cost(s.inputCostEstimate))
    usd(s.cost(s.inputCostActual))
    usd(s.cost(s.outputCost))
    usd(s.cost(s.costActual))
    ratio(s.inputCostRatio)
    cell(s.lowerBound > 0 ? "true" : "false")
    integer(Int128(s.unpriced))
    for t in trailing { cell(t) }
    integer(Int128(s.thirdPartyPriced))
    if s.loggedCostRequests > 0 { usd(s.loggedCost) } else { bytes.append(0x2C) }
    bytes.append(0x0D)
    bytes.append(0x0A)
  }

  /// The columns after every other (after a grouping's trailing ones),
  /// added since the first release: a public interface.
  public static let finalColumns = ["third_party_priced_requests", "logged_cost_usd"]

  /// The ``finalColumns``' values for one group.
  package static func finalValues(_ s: Summary) -> [String] {
    [String(s.thirdPartyPriced), s.loggedCostRequests > 0 ? Fmt.usd(s.loggedCost) : ""]
  }

  /// The groups as CSV: each row's cells written as bytes (``appendValues``),
  /// the text ``CSVWriter`` writes for `keys + values + trailing + final`.
  public static func csv(_ r: AnalysisResult) -> String {
    var parts = csvParts(keyColumns: r.keyColumns, trailing: r.trailingColumns, count: r.rows.count) { k, bytes in
      let row = r.rows[k]
      let start = bytes.count
      for (n, key) in row.keys.enumerated() {
        if n > 0 { bytes.append(0x2C) }
        CSVWriter.appendCell(key, to: &bytes)
      }
      appendValues(row.summary, trailing: row.trailing, to: &bytes)
      // Without key cells the row starts at its first value, not a comma.
      if row.keys.isEmpty { bytes.remove(at: start) }
    }
    // Joined into one buffer sized once, each part freed as it is copied.
    var out = ""
    out.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count })
    for k in parts.indices {
      out += parts[k]
      parts[k] = ""
    }
    return out
  }

  /// A header and `count` rows in parts, in order (the header, then slices
  /// of rows formatted side by side), for a writer that writes them one
  /// after another; `row` appends row `k` as bytes, its line's end included.
  static func csvParts(
    keyColumns: [String], trailing: [String] = [], count: Int, row: @Sendable (Int, inout [UInt8]) -> Void
  ) -> [String] {
    let header = CSVWriter(header: keyColumns + summaryColumns + trailing + finalColumns).text
    return [header]
      + TextSlices.make(count: count) { range in
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count * 320)
        for k in range { row(k, &bytes) }
        return String(decoding: bytes, as: UTF8.self)
      }
  }

  static func summaryJSON(_ s: Summary) -> [(String, JSONValue)] {
    let v = values(s)
    var out: [(String, JSONValue)] = []
    for (i, name) in summaryColumns.enumerated() {
      let text = v[i]
      let value: JSONValue
      switch name {
      case "lower_bound": value = .bool(text == "true")
      default: value = text.isEmpty ? .null : .number(text)
      }
      out.append((name, value))
    }
    out.append(("estimate_below_actual_requests", .int(s.estimateBelowActual)))
    out.append(("count_tokens_measured_requests", .int(s.measuredRequests)))
    out.append(("count_tokens_measured_tokens", .number(String(s.measuredTokens))))
    out.append(("count_tokens_measured_minus_estimate", .number(String(s.measuredTokens - s.measuredEstimate))))
    out.append(("third_party_priced_requests", .int(s.thirdPartyPriced)))
    out.append(("logged_cost_usd", s.loggedCostRequests > 0 ? .number(Fmt.usd(s.loggedCost)) : .null))
    out.append(("logged_cost_requests", .int(s.loggedCostRequests)))
    return out
  }

  package static func ledgerJSON(_ l: Ledger) -> JSONValue {
    let problems = l.problems.sorted()
    return .object([
      ("files", .int(l.files)), ("files_skipped", .int(l.filesSkipped)),
      ("files_skipped_by_time", .int(l.filesSkippedByTime)), ("bytes", .int(l.bytes)),
      ("lines", .int(l.lines)), ("blank_lines", .int(l.blankLines)),
      ("records", .int(l.records)), ("usage_lines", .int(l.usageLines)),
      ("usage_records", .int(l.usageRecords)), ("embedded_copies", .int(l.embeddedCopies)),
      ("non_usage_lines", .int(l.nonUsageLines)), ("malformed_lines", .int(l.malformedLines)),
      ("skipped_synthetic", .int(l.skippedSynthetic)),
      ("skipped_api_error", .int(l.skippedAPIError)), ("filtered_lines", .int(l.filteredLines)),
      ("filtered_records", .int(l.filteredRecords)),
      ("records_without_time", .int(l.recordsWithoutTime)),
      ("duplicates_collapsed", .int(l.duplicatesCollapsed)),
      ("sidechain_replays_dropped", .int(l.sidechainReplaysDropped)),
      ("requests", .int(l.requests)), ("unfinished_streaming", .int(l.unfinishedStreaming)),
      ("unknown_ttl_requests", .int(l.unknownTTLRequests)),
      ("unpriced_requests", .int(l.unpricedRequests)), ("streams", .int(l.streams)),
      ("incomplete_streams", .int(l.incompleteStreams)), ("responses_429", .int(l.responses429)),
      ("retry_after_seconds", .array(l.retryAfterSeconds.map { .int($0) })),
      ("count_tokens_calls", .int(l.countTokensCalls)), ("count_tokens_paired", .int(l.countTokensPaired)),
      ("aggregate_records", .int(l.aggregateRecords)), ("files_not_data", .int(l.filesNotData)),
      ("unpriced_models", .object(l.unpricedModels.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
      ("problems", .int(l.problems.count)),
      ("problems_first", .array(problems.prefix(problemsShown).map { .string($0.description) })),
      ("skipped_files", .array(l.skippedFiles.sorted().map { .string($0.description) })),
    ])
  }

  public static func json(_ r: AnalysisResult) -> String {
    let groups: [JSONValue] = r.rows.map { row in
      var members: [(String, JSONValue)] = []
      for (i, c) in r.keyColumns.enumerated() {
        members.append((c, row.keys[i].isEmpty ? .null : .string(row.keys[i])))
      }
      let trailing = zip(r.trailingColumns, row.trailing).map { (name, text) -> (String, JSONValue) in
        if name == "server_tools" { return (name, .bool(text == "true")) }
        return (name, text.isEmpty ? .null : .string(text))
      }
      return .object(members + summaryJSON(row.summary) + trailing)
    }
    let doc: JSONValue = .object([
      ("tool", .string("tokengap")), ("version", .string(ToolInfo.version)),
      ("catalog", .object([("version", .string(r.catalogVersion)), ("sha256", .string(r.catalogSHA256))])),
      ("group_by", .array(r.dimensions.map { .string($0.rawValue) })),
      ("time_zone", .string(r.timeZone)), ("accounting", .string(r.accounting)),
      ("ledger", ledgerJSON(r.ledger)), ("groups", .array(groups)),
      ("total", .object(summaryJSON(r.total))),
    ])
    return doc.serialized() + "\n"
  }

  /// The analysed period: the first and the last request's day in `zone`,
  /// `2026-01-06 to 2026-02-13 (Europe/Paris)`; nil when no request has a time.
  public static func period(_ s: Summary, _ zone: TimeZoneRule) -> String? {
    guard let first = s.firstTime, let last = s.lastTime else { return nil }
    return period(Instant(millisecondsSinceEpoch: first), Instant(millisecondsSinceEpoch: last), zone)
  }

  /// The days from `first` to `last` in `zone`: `2026-01-06 to 2026-02-13
  /// (Europe/Paris)`, or one day.
  public static func period(_ first: Instant, _ last: Instant, _ zone: TimeZoneRule) -> String {
    let from = LocalTime.format(first, zone, .day)
    let to = LocalTime.format(last, zone, .day)
    return (from == to ? from : from + " to " + to) + " (\(Escape.terminal(zone.name)))"
  }

  /// The headline: what a worst-case planner budgets against what counted,
  /// with the analysed period when a zone is given.
  public static func headline(_ s: Summary, zone: TimeZoneRule? = nil) -> [(String, String)] {
    let p = s.ratioPercentiles()
    var rows: [(String, String)] = []
    if let zone, let period = period(s, zone) { rows.append(("period", period)) }
    rows += [
      ("requests", Fmt.grouped(Int64(s.requests))),
      ("count_tokens estimate (P)", Fmt.grouped(s.estimate) + " tokens"),
      ("ITPM charge (I)", Fmt.grouped(s.itpm) + " tokens"),
      (
        "overestimation ratio P/I",
        s.overestimationRatio.map { $0.formatted(decimals: 2) + "x" } ?? "undefined"
      ),
      (
        "per request P/I",
        "p50 \(Fmt.times(p.p50)), p90 \(Fmt.times(p.p90)), p99 \(Fmt.times(p.p99)), max \(Fmt.times(p.max))"
      ),
      ("excess share (P-I)/P", Fmt.percent(s.excessShare).orUndefined),
      ("cache hit rate", Fmt.percent(s.cacheHitRate).orUndefined),
      ("input cost, estimated", s.cost(s.inputCostEstimate).map(Fmt.money) ?? "n/a"),
      (
        "input cost, actual",
        (s.cost(s.inputCostActual).map(Fmt.money) ?? "n/a")
          + (s.lowerBound > 0
            ? "  (lower bound: \(s.lowerBound) with writes of unknown TTL)" : "")
      ),
      ("output cost", s.cost(s.outputCost).map(Fmt.money) ?? "n/a"),
      ("cost, actual", s.cost(s.costActual).map(Fmt.money) ?? "n/a"),
    ]
    if s.unpriced > 0 { rows.append(("unpriced requests", "\(s.unpriced) (tokens counted, cost absent)")) }
    if s.thirdPartyPriced > 0 {
      rows.append(
        (
          "third-party prices",
          "\(s.thirdPartyPriced) of \(Fmt.count(s.priced, "priced request")): costs rest on prices from a third-party source (see 'tokengap rules')"
        ))
    }
    if s.loggedCostRequests > 0 {
      // The log's own figure beside tokengap's, never instead of it.
      rows.append(
        (
          "logged cost",
          "\(Fmt.money(s.loggedCost)) on \(Fmt.count(s.loggedCostRequests, "request")) (tokengap: "
            + Fmt.money(s.loggedCostComputed)
            + (s.loggedCostPriced == s.loggedCostRequests ? ")" : ", \(s.loggedCostPriced) priced)")
        ))
    }
    if s.estimateBelowActual > 0 {
      rows.append(
        (
          "input estimate under actual",
          "\(Fmt.count(s.estimateBelowActual, "request")) (cache writes cost more than input)"
        ))
    }
    return rows
  }

  /// The headline of a result: its totals' and, when the requests were
  /// judged by several rules, how many by each.
  static func headline(_ r: AnalysisResult) -> [(String, String)] {
    var rows = headline(r.total, zone: r.zone)
    if r.rules.count > 1 {
      rows.append(
        (
          "requests by rule",
          r.rules.map { "\($0.rule.rawValue) \(Fmt.grouped(Int64($0.requests)))" }.joined(separator: ", ")
        ))
    }
    return rows
  }

  /// The group table alone, as Markdown.
  public static func groupsMarkdown(_ r: AnalysisResult) -> String {
    let full = table(r, markdown: true)
    guard let start = full.firstRange(of: "## By ") else { return "" }
    let rest = full[start.lowerBound...]
    let end = rest.firstRange(of: "\n## Ledger")?.lowerBound ?? rest.endIndex
    return String(rest[..<end])
  }

  /// An empty table with a grouping's columns, for people (the rule after
  /// the keys when the run mixes rules).
  static func groupTable(_ r: AnalysisResult) -> TextTable {
    let columns =
      r.keyColumns + (ruleIndex(r) == nil ? [] : ["rule"]) + [
        "requests", "estimate", "itpm", "ratio", "excess", "hit rate", "p90", "input $ est",
        "input $ actual", "cost $",
      ]
    let keys = r.keyColumns.count + (ruleIndex(r) == nil ? 0 : 1)
    return TextTable(header: columns, rightAligned: Set(keys..<columns.count))
  }

  /// Where a group's rule is among its trailing cells, when the run mixes rules.
  static func ruleIndex(_ r: AnalysisResult) -> Int? {
    r.rules.count > 1 ? r.trailingColumns.firstIndex(of: "rule") : nil
  }

  /// One group's cells in ``groupTable(_:)``.
  static func groupCells(_ row: GroupRow, rule: Int? = nil) -> [String] {
    let s = row.summary
    let ruleCell = rule.map { $0 < row.trailing.count ? [row.trailing[$0]] : [""] } ?? []
    return row.keys.map { $0.isEmpty ? "-" : $0 } + ruleCell + [
      Fmt.grouped(Int64(s.requests)), Fmt.grouped(s.estimate),
      Fmt.grouped(s.itpm), Fmt.ratio(s.overestimationRatio).orUndefined,
      Fmt.percent(s.excessShare), Fmt.percent(s.cacheHitRate),
      Fmt.ratio(s.ratioPercentiles().p90), Fmt.dollars(s.cost(s.inputCostEstimate)),
      Fmt.dollars(s.cost(s.inputCostActual)), Fmt.dollars(s.cost(s.costActual)),
    ]
  }

  /// The `top` groups that cost the most (equal costs in the grouping's
  /// order), as a Markdown table, and a line saying where the rest are.
  ///
  /// - Parameter csvName: Where the rest are, as Markdown (`report` gives
  ///   a link to the CSV file); written as given.
  public static func topGroupsMarkdown(_ r: AnalysisResult, top: Int, rest csvName: String) -> String {
    guard !r.keyColumns.isEmpty, !r.rows.isEmpty else { return "" }
    let ranked = r.rows.indices.sorted {
      let (a, b) = (r.rows[$0].summary.costActual, r.rows[$1].summary.costActual)
      return a != b ? b < a : $0 < $1
    }
    var t = groupTable(r)
    for i in ranked.prefix(top) { t.append(groupCells(r.rows[i], rule: ruleIndex(r))) }
    var out = t.markdown()
    if r.rows.count > top {
      out += "\n\(Fmt.count(r.rows.count - top, "more row")) in \(csvName).\n"
    }
    return out
  }

  /// The headline as a Markdown table.
  public static func headlineMarkdown(_ s: Summary) -> String {
    var t = TextTable(header: ["total", "value"])
    for (k, v) in headline(s) { t.append([k, v]) }
    return t.markdown()
  }

  static func table(_ r: AnalysisResult, markdown: Bool) -> String {
    var out = ""
    let head = headline(r)
    if markdown {
      out += "# tokengap analyze\n\n"
      var t = TextTable(header: ["total", "value"])
      for (k, v) in head { t.append([k, v]) }
      out += t.markdown() + "\n"
    } else {
      let width = head.map(\.0.count).max() ?? 0
      for (k, v) in head { out += k + String(repeating: " ", count: width - k.count + 2) + v + "\n" }
      out += "\n"
    }
    var t = groupTable(r)
    for row in r.rows where !r.keyColumns.isEmpty { t.append(groupCells(row, rule: ruleIndex(r))) }
    if !r.keyColumns.isEmpty {
      if markdown { out += "## By \(r.dimensions.map(\.rawValue).joined(separator: ", "))\n\n" }
      out += markdown ? t.markdown() : t.plain()
    }
    if markdown {
      out +=
        "\n## Ledger\n\n"
        + ledgerText(r.ledger).split(separator: "\n").map { "- " + Escape.markdown(String($0)) }
        .joined(separator: "\n") + "\n"
    }
    out +=
      (markdown ? "\n" : "\n")
      + "catalog \(r.catalogVersion) sha256:\(r.catalogSHA256.prefix(12)); P = input + cache writes + cache reads (count_tokens); I = what counts toward ITPM.\n"
    return out
  }

  /// The ledger as lines of text, for stderr or Markdown.
  /// `ledger: passed over by name: 4 .yaml files (…hint), 1 .md file`.
  package static func passedOverText(_ counts: [String: Int]) -> String {
    let kinds = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
    let shown = kinds.prefix(5).map { (ext, n) -> String in
      let name =
        ext.isEmpty ? Fmt.count(n, "file") + " without an extension" : Fmt.count(n, Escape.terminal(ext) + " file")
      switch ext {
      case ".gz", ".zst", ".xz", ".bz2", ".zip": return name + " (compressed: decompress them to read them)"
      default: return name
      }
    }
    let more = kinds.count > 5 ? ", and \(Fmt.count(kinds.dropFirst(5).reduce(0) { $0 + $1.value }, "other file"))" : ""
    return "ledger: passed over by name (not JSON, JSON Lines, HAR, SSE, YAML or text): "
      + shown.joined(separator: ", ")
      + more + "\n"
  }

  /// The retry-after values of the 429 responses, for the ledger's line:
  /// up to eight listed in the order read; more summarised (how many, the
  /// range, the nearest-rank median), every value being in the JSON ledger.
  package static func retryAfterText(_ values: [Int64]) -> String {
    guard let low = values.min(), let high = values.max() else { return "" }
    if values.count <= 8 { return " (retry-after: \(values.map(String.init).joined(separator: ", ")) s)" }
    let median = values.sorted()[(values.count + 1) / 2 - 1]
    return " (retry-after given on \(values.count): \(low) to \(high) s, median \(median) s; each in the JSON ledger)"
  }

  public static func ledgerText(_ l: Ledger) -> String {
    var out =
      "ledger: \(Fmt.count(l.files, "file")) (\(l.filesSkipped) skipped), \(Fmt.count(l.lines, "line")), \(Fmt.count(l.records, "record")), \(Fmt.count(l.usageRecords, "usage record"))"
    out +=
      " (\(Fmt.count(l.embeddedCopies, "embedded copy", "embedded copies"))) -> \(Fmt.count(l.requests, "request"))\n"
    out +=
      "ledger: \(Fmt.count(l.duplicatesCollapsed, "duplicate copy", "duplicate copies")) collapsed, \(Fmt.count(l.sidechainReplaysDropped, "sidechain replay")) dropped, \(l.skippedSynthetic) <synthetic> and \(l.skippedAPIError) API-error \(Fmt.verb(l.skippedSynthetic + l.skippedAPIError, "line", "lines")) skipped, \(Fmt.count(l.nonUsageLines, "line")) without usage, \(l.blankLines) blank\n"
    if l.filteredRecords > 0 { out += "ledger: \(Fmt.count(l.filteredRecords, "record")) outside the filters\n" }
    if l.filesSkippedByTime > 0 {
      out += "ledger: \(Fmt.count(l.filesSkippedByTime, "file")) skipped by modification time\n"
    }
    if l.recordsWithoutTime > 0 {
      out +=
        "ledger: \(Fmt.count(l.recordsWithoutTime, "record")) \(Fmt.verb(l.recordsWithoutTime, "carries", "carry")) no usable time (priced as of --at)\n"
    }
    if l.unfinishedStreaming > 0 {
      out +=
        "ledger: \(Fmt.count(l.unfinishedStreaming, "request")) \(Fmt.verb(l.unfinishedStreaming, "has", "have")) no copy with a stop_reason (possibly unfinished streaming snapshots: output may be under-reported)\n"
    }
    if l.streams > 0 {
      out +=
        "ledger: \(Fmt.count(l.streams, "stream")) read, \(l.incompleteStreams) ended before message_stop (counted, flagged)\n"
    }
    if l.countTokensCalls > 0 {
      out +=
        "ledger: \(Fmt.count(l.countTokensCalls, "count_tokens call")), \(l.countTokensPaired) paired with their messages call\n"
    }
    if l.responses429 > 0 {
      out +=
        "ledger: \(Fmt.count(l.responses429, "response")) \(Fmt.verb(l.responses429, "was", "were")) HTTP 429"
        + retryAfterText(l.retryAfterSeconds) + "\n"
    }
    if l.aggregateRecords > 0 {
      out +=
        "ledger: \(Fmt.count(l.aggregateRecords, "aggregate record")) (usage-report buckets; each counts as one row, not one request)\n"
    }
    if l.filesNotData > 0 {
      out += "ledger: \(Fmt.count(l.filesNotData, "text or YAML file")) passed over (not JSON, SSE or a cassette)\n"
    }
    if !l.filesPassedOver.isEmpty { out += passedOverText(l.filesPassedOver) }
    if l.serverToolRequests > 0 {
      out +=
        "ledger: \(Fmt.count(l.serverToolRequests, "request")) used server tools (web search, web fetch, code execution): P counts their results, which count_tokens cannot (it refuses server tools); flagged server_tools\n"
    }
    if l.unknownTTLRequests > 0 {
      out +=
        "ledger: \(Fmt.count(l.unknownTTLRequests, "request")) wrote cache of unknown TTL (costs are lower bounds)\n"
    }
    if l.tierAssumedRecords > 0 {
      out +=
        "ledger: \(Fmt.count(l.tierAssumedRecords, "aggregate row")) without a context window priced at standard rates (costs are lower bounds)\n"
    }
    if !l.unpricedModels.isEmpty {
      out +=
        "ledger: unpriced models: "
        + l.unpricedModels.sorted { $0.key < $1.key }.map { "\(Escape.terminal($0.key)) (\($0.value))" }.joined(
          separator: ", ") + "\n"
    }
    if l.malformedLines > 0 || !l.problems.isEmpty {
      out += "ledger: \(Fmt.count(l.malformedLines, "malformed line")), \(Fmt.count(l.problems.count, "problem"))\n"
      for p in l.problems.sorted().prefix(problemsShown) { out += "  \(Escape.terminal(p.description))\n" }
      if l.problems.count > problemsShown { out += "  ... and \(l.problems.count - problemsShown) more\n" }
    }
    for s in l.skippedFiles.sorted() { out += "ledger: skipped \(Escape.terminal(s.description))\n" }
    return out
  }
}
