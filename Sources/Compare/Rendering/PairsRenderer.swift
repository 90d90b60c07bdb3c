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
  /// table and Markdown open with the period of the timed pairs.
  public static func render(
    _ rows: [PairRow], ledger: Ledger, format: OutputFormat, catalog: ModelCatalog? = nil,
    timeZone: TimeZoneRule = .utc
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
      var out = format == .markdown ? "# count_tokens pairs\n\n" + period + t.markdown() : period + t.plain()
      out +=
        "\n\(Fmt.count(measured.count, "paired request")): count_tokens said \(Fmt.count(m, "token")), the reconstructed estimate P is \(p) (difference \(m - p)); the ITPM charge was \(i)"
      if let ratio = Ratio(m, i) { out += " (measured / ITPM = \(ratio.formatted(decimals: 2))x)" }
      out += ".\n"
      if ledger.responses429 > 0 {
        out +=
          "\(Fmt.count(ledger.responses429, "response")) \(Fmt.verb(ledger.responses429, "was", "were")) HTTP 429.\n"
      }
      return out
    }
  }
}
