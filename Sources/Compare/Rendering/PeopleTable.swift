import EstimateModel

/// How the terminal table of `analyze` is laid out.
public struct TableShape: Sendable {
  /// The columns the table may take; wider text is cut to fit.
  public var width: Int
  /// Every column at full precision (the layout before compact tables).
  public var wide: Bool
  /// Chosen columns, by their CSV names (the grouping's keys come first
  /// unless named); nil for the compact default.
  public var columns: [String]?
  /// The groups shown (the first `top`, with a line saying how many more);
  /// nil for all of them.
  public var top: Int?

  public init(width: Int = 100, wide: Bool = false, columns: [String]? = nil, top: Int? = nil) {
    self.width = width
    self.wide = wide
    self.columns = columns
    self.top = top
  }

  /// The columns `--columns` accepts for a grouping: its keys, every
  /// summary column of the CSV and its trailing columns.
  public static func choosable(keys: [String], trailing: [String] = []) -> [String] {
    keys + summaryColumns + trailing
  }

  /// The trailing columns a grouping may have: first and last activity for
  /// sessions, the rule (always there for requests; for other groupings
  /// when the run mixes rules).
  public static func trailing(_ dims: [Dimension]) -> [String] { Dimension.trailingColumns(dims, mixedRules: true) }
}

/// `analyze`'s table for people: token counts as K/M/B, ratios as `13.6x`,
/// percentages, dollars to the cent, a totals row, and as many columns as
/// the width takes (text keys are cut first, then the last columns go).
enum PeopleTable {
  struct Column {
    var id: String
    var header: String
    var right: Bool
    var cell: (_ row: GroupRow) -> String
  }

  /// The compact default: the keys, then these summary columns.
  static let defaultColumns = [
    "requests", "estimate_tokens", "itpm_tokens", "overestimation_ratio", "excess_share",
    "input_cost_estimate_usd", "input_cost_actual_usd", "cost_actual_usd",
  ]

  /// Kept even when the width is short: the question's own numbers.
  static let essential: Set<String> = ["requests", "estimate_tokens", "itpm_tokens", "overestimation_ratio"]

  static func column(_ id: String, keys: [String], trailing: [String] = [], clock: ActivityClock = ActivityClock())
    -> Column?
  {
    if let t = trailing.firstIndex(of: id) {
      switch id {
      case "first_time":
        return Column(id: id, header: "first", right: false) { row in clock.first(row.summary) }
      case "last_time":
        return Column(id: id, header: "last", right: false) { row in clock.last(row.summary) }
      default:
        return Column(id: id, header: id, right: false) { row in
          t < row.trailing.count && !row.trailing[t].isEmpty ? row.trailing[t] : "-"
        }
      }
    }
    if let k = keys.firstIndex(of: id) {
      if id == "project" {
        // The working directory the lines name, rather than Claude Code's
        // folder name for it (-home-dev-code-ios-ml), when they name one.
        return Column(id: id, header: id, right: false) { row in
          if let path = row.cwd, !path.isEmpty { return path }
          return row.keys[k].isEmpty ? "-" : row.keys[k]
        }
      }
      if id == "model" {
        // Every catalog id starts with "claude-": the rest tells them apart.
        return Column(id: id, header: id, right: false) { row in
          let id = row.keys[k]
          guard id.hasPrefix("claude-"), id.dropFirst(7).first?.isLetter == true else { return id.isEmpty ? "-" : id }
          return String(id.dropFirst(7))
        }
      }
      if id == "time" {
        // To the second, as people read a clock: 2025-09-03 00:47:21.
        return Column(id: id, header: id, right: false) { row in
          let t = row.keys[k]
          guard t.count >= 19 else { return t.isEmpty ? "-" : t }
          return String(t.prefix(19)).replacing("T", with: " ")
        }
      }
      return Column(id: id, header: id, right: false) { row in row.keys[k].isEmpty ? "-" : row.keys[k] }
    }
    guard let index = summaryColumns.firstIndex(of: id) else { return nil }
    func tokens(_ header: String, _ value: @escaping (Summary) -> Int128) -> Column {
      Column(id: id, header: header, right: true) { row in Fmt.tokens(value(row.summary)) }
    }
    func money(_ header: String, _ value: @escaping (Summary) -> USD) -> Column {
      Column(id: id, header: header, right: true) { row in
        row.summary.priced > 0 ? Fmt.money(value(row.summary)) : "n/a"
      }
    }
    func times(_ header: String, _ value: @escaping (Summary) -> Ratio?) -> Column {
      Column(id: id, header: header, right: true) { row in Fmt.times(value(row.summary)) }
    }
    switch id {
    case "requests":
      return Column(id: id, header: "requests", right: true) { row in Fmt.grouped(row.summary.requests) }
    case "input_tokens": return tokens("input") { $0.input }
    case "cache_creation_5m_tokens": return tokens("writes 5m") { $0.cacheWrite5m }
    case "cache_creation_1h_tokens": return tokens("writes 1h") { $0.cacheWrite1h }
    case "cache_creation_unknown_ttl_tokens": return tokens("writes ?") { $0.cacheWriteUnknownTTL }
    case "cache_read_tokens": return tokens("reads") { $0.cacheRead }
    case "output_tokens": return tokens("output") { $0.output }
    case "estimate_tokens": return tokens("P") { $0.estimate }
    case "itpm_tokens": return tokens("I") { $0.itpm }
    case "overestimate_tokens": return tokens("P-I") { $0.overestimate }
    case "overestimation_ratio": return times("P/I") { $0.overestimationRatio }
    case "excess_share":
      return Column(id: id, header: "excess", right: true) { row in Fmt.percent(row.summary.excessShare) }
    case "cache_hit_rate":
      return Column(id: id, header: "hit rate", right: true) { row in Fmt.percent(row.summary.cacheHitRate) }
    case "ratio_p50": return times("p50 P/I") { $0.ratioPercentiles().p50 }
    case "ratio_p90": return times("p90 P/I") { $0.ratioPercentiles().p90 }
    case "ratio_p99": return times("p99 P/I") { $0.ratioPercentiles().p99 }
    case "ratio_max": return times("max P/I") { $0.ratioPercentiles().max }
    case "input_cost_estimate_usd": return money("input $ est") { $0.inputCostEstimate }
    case "input_cost_actual_usd": return money("input $") { $0.inputCostActual }
    case "output_cost_usd": return money("output $") { $0.outputCost }
    case "cost_actual_usd": return money("cost $") { $0.costActual }
    case "input_cost_ratio": return times("$ est/$") { $0.inputCostRatio }
    default:
      // Anything else shows as the CSV writes it.
      return Column(id: id, header: id, right: true) { row in AnalysisRenderer.values(row.summary)[index] }
    }
  }

  /// The table's text; `chosen` are CSV column names (validated by the caller).
  static func render(_ r: AnalysisResult, shape: TableShape) -> String {
    let keys = r.keyColumns
    let ids: [String]
    if let chosen = shape.columns {
      ids = (keys.filter { !chosen.contains($0) } + chosen)
    } else {
      // Sessions show when they ran; the rule shows when the run mixes rules.
      ids =
        keys + r.trailingColumns.filter { $0.hasSuffix("_time") || ($0 == "rule" && r.rules.count > 1) }
        + defaultColumns
    }
    let shown = shape.top.map { Array(r.rows.prefix($0)) } ?? r.rows
    let clock = ActivityClock(zone: r.zone, rows: shown.map(\.summary))
    let columns = ids.compactMap { column($0, keys: keys, trailing: r.trailingColumns, clock: clock) }
    // Cells as shown (escaped for the terminal), then the totals row.
    let rows = shown.map { row in columns.map { Escape.terminal($0.cell(row)) } }
    let totalKeys = keys.indices.map { $0 == 0 ? "total" : "" }
    let totalRow = GroupRow(keys: totalKeys, summary: r.total, trailing: r.trailingColumns.map { _ in "" })
    // The headline's period says when the whole ran: no first and last here.
    var total = columns.map { $0.id.hasSuffix("_time") ? "" : Escape.terminal($0.cell(totalRow)) }
    if let first = columns.indices.first(where: { keys.contains(columns[$0].id) }) {
      total[first] = "total"
    }
    for k in columns.indices where keys.contains(columns[k].id) && k != 0 { total[k] = "" }
    // Cut text keys, widest first, each to no less than its own minimum (a
    // session id keeps its start, a project its end: the part that tells
    // them apart; a model keeps its name).
    let minimum = ["session": 8, "project": 12, "model": 12, "message_id": 8, "request_id": 8]
    // Still too wide: the last columns go, never the question's own.
    // The total cost goes first, then the excess (the ratio says it too),
    // then from the right, so the two input costs stay side by side.
    // A request's own ids go before its figures (its time, session and
    // model still tell it apart), and its request count (always 1) first.
    let dropFirst =
      (keys.contains("request_id") ? ["requests", "request_id", "message_id"] : []) + [
        "cost_actual_usd", "excess_share",
      ] + (keys.contains("request_id") ? ["input_cost_estimate_usd", "input_cost_actual_usd", "project"] : [])
    var table = FittedTable(
      columns: columns.map {
        FittedTable.Column(
          id: $0.id, header: $0.header, right: $0.right, minimum: minimum[$0.id], keepEnd: $0.id == "project")
      },
      rows: rows, total: total)
    table.totalShown = r.rows.count > 1
    var out = table.lines(
      width: shape.width, dropFirst: dropFirst, mayDrop: shape.columns == nil, keep: essential.union(keys))
    if r.rows.count > shown.count {
      let noun = r.dimensions.count == 1 ? r.dimensions[0].rawValue : "group"
      out += "… \(Fmt.count(r.rows.count - shown.count, "more " + noun)) (--top 0 for all)\n"
    }
    out += table.hiddenNote(width: shape.width)
    return out
  }

  /// First and last activity as people read a clock, in the table's zone:
  /// `01-06 14:02` (the year too when the times shown span more than one),
  /// and a last activity on the first's day as its time alone.
  struct ActivityClock {
    var zone: TimeZoneRule = .utc
    var withYear = false

    init() {}

    init(zone: TimeZoneRule, rows: [Summary]) {
      self.zone = zone
      let years = Set(
        rows.flatMap { [$0.firstTime, $0.lastTime] }.compactMap { $0 }.map {
          LocalTime.day(Instant(millisecondsSinceEpoch: $0), zone).components.year
        })
      withYear = years.count > 1
    }

    /// `2026-01-06 14:02` cut to what the table needs.
    func text(_ ms: Int64) -> String {
      let full = LocalTime.format(Instant(millisecondsSinceEpoch: ms), zone, .minute)
      guard let t = full.firstIndex(of: "T") else { return full }
      let date = full[..<t]
      let clock = full[full.index(after: t)...].prefix(5)
      return (withYear ? String(date) : String(date.suffix(5))) + " " + clock
    }

    func first(_ s: Summary) -> String { s.firstTime.map(text) ?? "-" }

    func last(_ s: Summary) -> String {
      guard let last = s.lastTime else { return "-" }
      if let first = s.firstTime,
        LocalTime.day(Instant(millisecondsSinceEpoch: first), zone)
          == LocalTime.day(Instant(millisecondsSinceEpoch: last), zone)
      {
        return String(text(last).suffix(5))
      }
      return text(last)
    }
  }
}
