public import EstimateModel

/// One request with a captured count_tokens value or rate-limit headers.
public struct PairRow: Sendable {
  public var request: PricedRequest
  public var gap: Gap
}

/// Renders `tokengap pairs`: the measured count_tokens value beside `P` and `I`.
public enum PairsRenderer {
  public static let columns = [
    "time", "session", "model", "message_id", "request_id", "measured_count_tokens",
    "estimate_tokens", "measured_minus_estimate", "itpm_tokens", "output_tokens",
    "input_tokens_limit", "input_tokens_remaining", "input_tokens_reset", "output_tokens_limit",
    "output_tokens_remaining", "requests_limit", "requests_remaining",
  ]

  public static func rows(_ requests: [PricedRequest]) -> [PairRow] {
    requests.compactMap { r in
      guard r.measuredCountTokens != nil || r.rateLimit != nil, let g = r.gap else { return nil }
      return PairRow(request: r, gap: g)
    }
  }

  static func cells(_ p: PairRow, _ zone: TimeZoneRule) -> [String] {
    let rec = p.request
    let h = rec.rateLimit
    func n(_ v: Int64?) -> String { v.map(String.init) ?? "" }
    return [
      rec.time.map { LocalTime.format($0, zone, .millisecond) } ?? "", rec.session, p.gap.model, rec.messageID ?? "",
      rec.requestID ?? "",
      n(rec.measuredCountTokens), String(p.gap.estimate),
      rec.measuredCountTokens.map { String($0 - p.gap.estimate) } ?? "", String(p.gap.itpm),
      String(p.gap.otpm), n(h?.inputTokensLimit), n(h?.inputTokensRemaining), h?.inputTokensReset ?? "",
      n(h?.outputTokensLimit), n(h?.outputTokensRemaining), n(h?.requestsLimit), n(h?.requestsRemaining),
    ]
  }

  /// The pairs in a format; times in `timeZone`, with the offset. The
  /// table and Markdown open with the period of the timed pairs. With a
  /// `width`, the table is compact and fitted to it (token counts as K/M/B,
  /// times to the second, model ids without `claude-`, message ids without
  /// `msg_` and cut to their start, the summary wrapped); without, every
  /// column in full.
  public static func render(
    _ rows: [PairRow], ledger: Ledger, format: OutputFormat, catalog: ModelCatalog? = nil,
    timeZone: TimeZoneRule = .utc, width: Int? = nil
  ) -> String {
    let measured = rows.filter { $0.request.measuredCountTokens != nil }
    let m = measured.reduce(Int128(0)) { $0 + Int128($1.request.measuredCountTokens ?? 0) }
    let p = measured.reduce(Int128(0)) { $0 + Int128($1.gap.estimate) }
    let i = measured.reduce(Int128(0)) { $0 + Int128($1.gap.itpm) }
    switch format {
    case .csv:
      var w = CSVWriter(header: columns)
      for r in rows { w.row(cells(r, timeZone)) }
      return w.text
    case .json:
      let items: [JSONValue] = rows.map { r in
        .object(
          zip(columns, cells(r, timeZone)).map { (c, v) in
            (
              c,
              v.isEmpty
                ? .null
                : (CSVWriter.isNumber(v) && !["session", "model", "message_id", "request_id"].contains(c)
                  ? .number(v) : .string(v))
            )
          })
      }
      let doc: JSONValue = .object([
        ("tool", .string("tokengap")), ("version", .string(ToolInfo.version)),
        ("catalog", catalog.map(EstimateRenderer.catalogInfo) ?? .null),
        ("pairs", .int(measured.count)), ("measured_tokens", .number(String(m))),
        ("estimate_tokens", .number(String(p))), ("measured_minus_estimate", .number(String(m - p))),
        ("itpm_tokens", .number(String(i))), ("measured_over_itpm", .ratio(Ratio(m, i))),
        ("responses_429", .int(ledger.responses429)),
        ("retry_after_seconds", .array(ledger.retryAfterSeconds.map { .int($0) })),
        ("rows", .array(items)),
      ])
      return doc.serialized() + "\n"
    case .table, .markdown:
      var t = TextTable(
        header: [
          "time", "model", "message", "measured", "estimate P", "measured-P", "ITPM I", "ITPM limit", "remaining",
        ],
        rightAligned: [3, 4, 5, 6, 7, 8])
      for r in rows {
        let c = cells(r, timeZone)
        t.append([c[0], c[2], c[3], c[5], c[6], c[7], c[8], c[10], c[11]])
      }
      let times = rows.compactMap(\.request.time)
      var period = ""
      if let first = times.min(), let last = times.max() {
        let text = AnalysisRenderer.period(first, last, timeZone)
        period = format == .markdown ? "Period: \(Escape.markdown(text))\n\n" : "period: \(text)\n\n"
      }
      let fitted = format == .table ? width.map { fittedTable(rows, timeZone, width: $0) } : nil
      var out =
        format == .markdown ? "# count_tokens pairs\n\n" + period + t.markdown() : period + (fitted ?? t.plain())
      var summary =
        "\(Fmt.count(measured.count, "paired request")): count_tokens said \(Fmt.count(m, "token")), the reconstructed estimate P is \(p) (difference \(m - p)); the ITPM charge was \(i)"
      if let ratio = Ratio(m, i) { summary += " (measured / ITPM = \(ratio.formatted(decimals: 2))x)" }
      summary += "."
      if let width, format == .table { summary = FittedTable.wrap(summary, width: width) }
      out += "\n" + summary + "\n"
      if ledger.responses429 > 0 {
        out +=
          "\(Fmt.count(ledger.responses429, "response")) \(Fmt.verb(ledger.responses429, "was", "were")) HTTP 429.\n"
      }
      return out
    }
  }

  /// The compact table: what was measured beside P and I first; the
  /// rate-limit headers go first when the width is short.
  static func fittedTable(_ rows: [PairRow], _ zone: TimeZoneRule, width: Int) -> String {
    typealias Column = FittedTable.Column
    var columns = [
      Column(id: "time", header: "time", right: false),
      Column(id: "model", header: "model", right: false, minimum: 12),
      Column(id: "message_id", header: "message", right: false),
      Column(id: "measured_count_tokens", header: "measured", right: true),
      Column(id: "estimate_tokens", header: "P", right: true),
      Column(id: "measured_minus_estimate", header: "measured-P", right: true),
      Column(id: "itpm_tokens", header: "I", right: true),
      Column(id: "input_tokens_limit", header: "ITPM limit", right: true),
      Column(id: "input_tokens_remaining", header: "remaining", right: true),
    ]
    func cells(_ p: PairRow) -> [String] {
      let rec = p.request
      let model = p.gap.model
      let shortModel =
        model.hasPrefix("claude-") && model.dropFirst(7).first?.isLetter == true ? String(model.dropFirst(7)) : model
      // To the second, as people read a clock: 2026-01-01 00:00:01.
      let time = rec.time.map { String(LocalTime.format($0, zone, .millisecond).prefix(19)).replacing("T", with: " ") }
      let measured = rec.measuredCountTokens
      // Every message id starts with "msg_": the rest tells them apart.
      let id = rec.messageID ?? ""
      let message = id.hasPrefix("msg_") && id.count > 4 ? String(id.dropFirst(4)) : id
      return [
        time ?? "", shortModel, message, measured.map { Fmt.tokens($0) } ?? "",
        Fmt.tokens(p.gap.estimate), measured.map { Fmt.grouped($0 - p.gap.estimate) } ?? "",
        Fmt.tokens(p.gap.itpm), rec.rateLimit?.inputTokensLimit.map { Fmt.tokens($0) } ?? "",
        rec.rateLimit?.inputTokensRemaining.map { Fmt.tokens($0) } ?? "",
      ].map { Escape.terminal($0) }
    }
    let rows = rows.map(cells)
    // Cut no shorter than tells the messages apart (up to 16 characters).
    columns[2].minimum = FittedTable.distinctWidth(rows.map { $0[2] }, least: 8, most: 16)
    var table = FittedTable(columns: columns, rows: rows)
    let kept: Set = [
      "time", "model", "measured_count_tokens", "estimate_tokens", "measured_minus_estimate", "itpm_tokens",
    ]
    let text = table.lines(width: width, keep: kept)
    return text + table.hiddenNote(width: width)
  }
}
