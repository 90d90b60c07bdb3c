package import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The chart files `tokengap chart` writes: tidy CSV, and SVG renderings.
public struct ChartSet: Sendable {
  /// File name → contents, in a stable order.
  public var files: [(String, String)] = []
}

/// Builds chart-ready data from de-duplicated requests.
public enum Charts {
  /// Every file `chart` can write: files of these names that a run did not
  /// write are an earlier run's, and are removed.
  public static let fileNames = [
    "requests.csv", "minutes.csv", "ratio_histogram.csv", "cumulative.csv", "sessions.csv",
    "bucket.csv", "estimate_vs_itpm.svg", "ratio_histogram.svg", "cumulative_cost.svg",
    "bucket_levels.svg",
  ]

  public static let histogramColumns = ["bin_low", "bin_high", "requests", "estimate_tokens", "itpm_tokens"]
  public static let cumulativeColumns = [
    "time", "estimate_tokens", "itpm_tokens", "input_cost_estimate_usd", "input_cost_actual_usd",
  ]

  /// One priced, timed request: only what the charts read (a whole `Gap`
  /// per request would be most of the chart's memory).
  package struct Point: Sendable {
    package var time: Instant
    package var estimate: Int64
    package var itpm: Int64
    package var inputCostEstimate: USD
    package var inputCostActual: USD
  }

  /// The arrivals (as ``Arrival/of(_:)``) and chart points (as
  /// ``points(_:)``) of a table's requests, read row by row: no
  /// `PricedRequest`, with its strings and gap, is made for either.
  package static func arrivalsAndPoints(_ priced: PricedTable) -> (
    arrivals: [Arrival], untimed: Int, points: [Point]
  ) {
    var arrivals: [Arrival] = []
    var points: [Point] = []
    var untimed = 0
    let t = priced.table
    let mixed = priced.mixesRules
    arrivals.reserveCapacity(priced.count)
    points.reserveCapacity(priced.count)
    for i in priced.orderedRows() {
      let r = t.rows[i]
      guard r.flags.contains(.timed) else {
        untimed += 1
        continue
      }
      let (_, gap, _, _) = priced.priced(row: i)
      guard let gap else { continue }
      let time = Instant(millisecondsSinceEpoch: r.time)
      let c = priced.priceClass(ofRow: i)
      arrivals.append(
        Arrival(time: time, pool: Arrival.pool(c.pool, model: c.model, rule: mixed ? c.accounting : nil), gap: gap))
      points.append(
        Point(
          time: time, estimate: gap.estimate, itpm: gap.itpm, inputCostEstimate: gap.inputCostEstimate ?? .zero,
          inputCostActual: gap.inputCostActual ?? .zero))
    }
    // Stable: equal times keep the table's order, as sorting the requests does.
    arrivals.sort { $0.time < $1.time }
    points.sort { $0.time < $1.time }
    return (arrivals, untimed, points)
  }

  /// The ITPM charge of the last UTC minute with traffic (the status
  /// line's): what ``arrivalsAndPoints(_:)``'s arrivals in the minute of the
  /// latest sum to (timed requests, their prompt within 64 bits), summed
  /// from the rows' figures in one pass, no arrival made or sorted. nil
  /// without a timed request.
  package static func lastMinuteITPM(_ priced: PricedTable) -> Int128? {
    var minute: Int64?
    var sum: Int128 = 0
    let rows = priced.table.rows
    priced.forEachRequest { i in
      let r = rows[i]
      guard r.flags.contains(.timed), let f = priced.figures(row: i).figures else { return }
      let m = r.time / 60_000
      if let current = minute, m < current { return }
      if m != minute {
        minute = m
        sum = 0
      }
      sum += Int128(f.itpm)
    }
    return minute.map { _ in sum }
  }

  package static func points(_ requests: [PricedRequest]) -> [Point] {
    requests.compactMap { r in
      guard let t = r.time, let g = r.gap else { return nil }
      return Point(
        time: t, estimate: g.estimate, itpm: g.itpm, inputCostEstimate: g.inputCostEstimate ?? .zero,
        inputCostActual: g.inputCostActual ?? .zero)
    }.sorted { $0.time < $1.time }
  }

  /// Log-spaced bins, four per decade from 1: [10^(k/4), 10^((k+1)/4)).
  static func binEdges(upTo maxRatio: Double) -> [Ratio] {
    // Exact edges: 1, 1.778279, 3.162278, 5.623413, 10, … (rounded to 6 decimals).
    let quarter: [Int128] = [1_000_000, 1_778_279, 3_162_278, 5_623_413]
    var edges: [Ratio] = []
    var decade: Int128 = 1
    while true {
      for q in quarter {
        guard let edge = Ratio(q * decade, 1_000_000) else { continue }
        edges.append(edge)
        if edge.value > maxRatio, edges.count >= 2 { return edges }
      }
      decade *= 10
      if decade > 1_000_000_000_000 { return edges }
    }
  }

  /// The histogram of per-request ratios: a bin of exactly 1 (nothing was
  /// cached, or a model whose reads count toward ITPM), then log-spaced bins
  /// above 1. Also where to mark the aggregate ΣP / ΣI of the same requests
  /// and 10x (the "90 %" of #18726), in bar coordinates.
  static func histogramCSV(_ priced: PricedTable) -> (
    csv: String, bars: [SVGChart.Bar], marks: [SVGChart.Mark]
  ) {
    // Every request with an ITPM charge, timed or not, priced or not: the
    // ratio is one of token counts, and the aggregate is then analyze's.
    var pts: [(estimate: Int128, itpm: Int128)] = []
    priced.forEachRequest { i in
      let (p, itpm) = priced.charges(ofRow: i)
      if itpm > 0 { pts.append((p, itpm)) }
    }
    let maxR = pts.compactMap { Ratio($0.estimate, $0.itpm)?.value }.max() ?? 1
    // The bins reach past 10 whatever the data, so the 10x mark always
    // stands where 10 is (never at the edge of a shorter axis).
    let edges = binEdges(upTo: max(maxR, 10))
    let one = Ratio(Int128(1), Int128(1))
    // Bin 0 holds ratios of exactly 1 (P ≥ I, so none is below); bin k ≥ 1
    // holds [edges[k - 1], edges[k]), except that bin 1 starts above 1.
    var counts = [Int](repeating: 0, count: edges.count)
    var est = [Int128](repeating: 0, count: counts.count)
    var itpm = [Int128](repeating: 0, count: counts.count)
    var sumP: Int128 = 0
    var sumI: Int128 = 0
    for p in pts {
      guard let r = Ratio(p.estimate, p.itpm) else { continue }
      var k = 0
      if let one, r > one {
        k = 1
        while k + 1 < counts.count, !(r < edges[k]) { k += 1 }
      }
      counts[k] += 1
      est[k] += p.estimate
      itpm[k] += p.itpm
      sumP += p.estimate
      sumI += p.itpm
    }
    var w = CSVWriter(header: histogramColumns)
    var bars: [SVGChart.Bar] = []
    for k in counts.indices {
      let (low, high) = k == 0 ? (edges[0], edges[0]) : (edges[k - 1], edges[k])
      w.row([low.formatted(), high.formatted(), String(counts[k]), String(est[k]), String(itpm[k])])
      let label = k == 0 ? "1" : (k == 1 ? ">1" : "≥" + short(low.value))
      bars.append(.init(label: label, value: Double(counts[k]), note: "P/I " + barRange(k, low, high)))
    }
    var marks: [SVGChart.Mark] = []
    if !pts.isEmpty, let aggregate = Ratio(sumP, sumI) {
      marks.append(
        .init(
          x: barPosition(aggregate.value, edges), label: "aggregate ΣP/ΣI \(aggregate.formatted(decimals: 2))x",
          color: "#E45756"))
    }
    if !pts.isEmpty {
      marks.append(.init(x: barPosition(10, edges), label: "10x (excess 90 %)", color: "#555"))
    }
    return (w.text, bars, marks)
  }

  /// A bin's range in words, for its tooltip.
  private static func barRange(_ k: Int, _ low: Ratio, _ high: Ratio) -> String {
    switch k {
    case 0: "exactly 1"
    case 1: "above 1, below \(high.formatted(decimals: 2))"
    default: "from \(low.formatted(decimals: 2)) to below \(high.formatted(decimals: 2))"
    }
  }

  /// Where a ratio falls on the histogram's bar axis (bar k spans [k, k + 1)):
  /// exactly 1 at the middle of the first bar; above it, log-interpolated in
  /// its bin, as the bins are log-spaced.
  static func barPosition(_ r: Double, _ edges: [Ratio]) -> Double {
    guard r > 1, edges.count >= 2 else { return 0.5 }
    var k = 1
    while k + 1 < edges.count, r >= edges[k].value { k += 1 }
    let (low, high) = (edges[k - 1].value, edges[k].value)
    let within = min(1, max(0, (log10(r) - log10(low)) / (log10(high) - log10(low))))
    return Double(k) + within
  }

  private static func short(_ v: Double) -> String {
    if v >= 10 { return String(Int(v.rounded())) }
    return String((v * 10).rounded() / 10)
  }

  static func cumulativeCSV(_ points: [Point], timeZone: TimeZoneRule = .utc) -> (
    csv: String, estimate: [(Double, Double)], actual: [(Double, Double)]
  ) {
    // The running sums in one pass; their text in slices side by side.
    var sums: [(e: Int128, i: Int128, ce: USD, ca: USD)] = []
    var (e, i) = (Int128(0), Int128(0))
    var (ce, ca) = (USD.zero, USD.zero)
    var se: [(Double, Double)] = []
    var sa: [(Double, Double)] = []
    sums.reserveCapacity(points.count)
    se.reserveCapacity(points.count)
    sa.reserveCapacity(points.count)
    for p in points {
      e += Int128(p.estimate)
      i += Int128(p.itpm)
      ce = ce + p.inputCostEstimate
      ca = ca + p.inputCostActual
      sums.append((e, i, ce, ca))
      let x = Double(p.time.millisecondsSinceEpoch) / 1000
      se.append((x, dollars(ce)))
      sa.append((x, dollars(ca)))
    }
    let running = sums
    let rows = TextSlices.make(count: points.count) { range in
      var bytes: [UInt8] = []
      bytes.reserveCapacity(range.count * 72)
      for k in range {
        let s = running[k]
        CSVWriter.appendCell(LocalTime.format(points[k].time, timeZone, .millisecond), to: &bytes)
        bytes.append(0x2C)
        CSVWriter.appendInteger(s.e, to: &bytes)
        bytes.append(0x2C)
        CSVWriter.appendInteger(s.i, to: &bytes)
        bytes.append(0x2C)
        CSVWriter.appendCell(s.ce.formatted(), to: &bytes)
        bytes.append(0x2C)
        CSVWriter.appendCell(s.ca.formatted(), to: &bytes)
        bytes.append(0x0D)
        bytes.append(0x0A)
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    return (CSVWriter(header: cumulativeColumns).text + rows.joined(), se, sa)
  }

  /// An amount in dollars for plotting: `Double(attodollars) / 1e18`, with
  /// the 128-bit conversion done in 64 bits (the generic one is many times
  /// slower, and a running cost passes $9.22, 2^63 attodollars, early).
  package static func dollars(_ v: USD) -> Double { double(v.attodollars) / 1e18 }

  /// `Double(a)`, correctly rounded as that is: past 64 bits, the top 64
  /// bits with a sticky bit for any below them (the rounding of 64 bits to
  /// 53 then sees whether anything was dropped), scaled back exactly.
  package static func double(_ a: Int128) -> Double {
    if a >= Int128(Int64.min), a <= Int128(Int64.max) { return Double(Int64(truncatingIfNeeded: a)) }
    let m = a.magnitude
    let shift = 64 - m.leadingZeroBitCount
    var top = UInt64(truncatingIfNeeded: m >> shift)
    if m & ((UInt128(1) << shift) - 1) != 0 { top |= 1 }
    let d = Double(sign: .plus, exponent: shift, significand: Double(top))
    return a < 0 ? -d : d
  }

  /// Everything `tokengap chart` writes, in memory.
  public static func build(
    priced: PricedTable, requests: [PricedRequest],
    arrivals: [Arrival], simulation: (outcomes: [RegimeOutcome], samples: [BucketSample])?,
    limitsLabel: String?, svg: Bool, timeZone: TimeZoneRule = .utc
  ) async -> ChartSet {
    var set = ChartSet()
    await build(
      priced: priced, requests: requests, arrivals: arrivals, simulation: simulation, limitsLabel: limitsLabel,
      svg: svg, timeZone: timeZone
    ) { set.files.append(($0, $1)) }
    return set
  }

  /// Everything `tokengap chart` writes, each file handed to `emit` as soon
  /// as it is made, in the order of ``fileNames``: a caller that writes it
  /// out holds one file at a time, never the whole set.
  public static func build<E: Error>(
    priced: PricedTable, requests: [PricedRequest],
    arrivals: [Arrival], simulation: (outcomes: [RegimeOutcome], samples: [BucketSample])?,
    limitsLabel: String?, svg: Bool, timeZone: TimeZoneRule = .utc, emit: (String, String) throws(E) -> Void
  ) async throws(E) {
    try await build(
      priced: priced, points: points(requests), arrivals: arrivals, simulation: simulation, limitsLabel: limitsLabel,
      svg: svg, timeZone: timeZone
    ) { (name, parts) throws(E) in try emit(name, parts.joined()) }
  }

  /// The same from chart points (``arrivalsAndPoints(_:)``).
  /// `sessions` and `minutes`, when given, are the table's `--by session`
  /// analysis and the arrivals' minutes, already made by the caller (a
  /// report shows them too).
  package static func build<E: Error>(
    priced: PricedTable, points timed: [Point],
    arrivals: [Arrival], simulation: (outcomes: [RegimeOutcome], samples: [BucketSample])?,
    limitsLabel: String?, svg: Bool, sessions: AnalysisResult? = nil, minutes known: [MinuteRow]? = nil,
    timeZone: TimeZoneRule = .utc, emit: (String, [String]) throws(E) -> Void
  ) async throws(E) {
    // The per-request table is the largest and slowest: it is made beside
    // everything else (the small files and the SVGs), and the files are
    // handed on in order once it is done; a file comes in parts, in order.
    async let requestsCSV = priced.requestsCSVParts(timeZone: timeZone)
    async let sessionsCSV = AnalysisRenderer.csv(
      sessions ?? priced.analysis(dimensions: [.session], timeZone: timeZone))
    let minutes = known ?? MinuteSeries.build(arrivals)
    let minutesCSV = SimulationRenderer.minutesCSV(minutes, timeZone: timeZone)
    let histogram = histogramCSV(priced)
    let cumulative = cumulativeCSV(timed, timeZone: timeZone)
    let bucketCSV = simulation.map { SimulationRenderer.seriesCSVParts($0.samples, timeZone: timeZone) }
    let svgs =
      svg
      ? svgFiles(
        minutes: minutes, histogram: (histogram.bars, histogram.marks), cumulative: cumulative, simulation: simulation,
        limitsLabel: limitsLabel, timeZone: timeZone) : []
    try emit("requests.csv", await requestsCSV)
    try emit("minutes.csv", [minutesCSV])
    try emit("ratio_histogram.csv", [histogram.csv])
    try emit("cumulative.csv", [cumulative.csv])
    try emit("sessions.csv", [await sessionsCSV])
    if let bucketCSV { try emit("bucket.csv", bucketCSV) }
    for (name, text) in svgs { try emit(name, [text]) }
  }

  /// The most pools `estimate_vs_itpm.svg` draws a panel for.
  static let maxPoolPanels = 6

  /// Estimate vs ITPM charge per minute, one panel per rate-limit pool: a
  /// pool's minutes against that pool's own limit (the limit is per pool, so
  /// a sum over pools is never drawn against one pool's line).
  package static func estimateVersusITPM(
    _ minutes: [MinuteRow], _ outcomes: [RegimeOutcome], _ limitsLabel: String?, timeZone: TimeZoneRule = .utc
  ) -> String {
    var byPool: [String: [MinuteRow]] = [:]
    for m in minutes { byPool[m.pool, default: []].append(m) }
    // The busiest pools first (by their estimate), equal ones by name.
    let ranked = byPool.map { (pool: $0.key, rows: $0.value, p: $0.value.reduce(Int128(0)) { $0 + $1.estimate }) }
      .sorted { $0.p != $1.p ? $0.p > $1.p : $0.pool < $1.pool }
    let shown = ranked.prefix(maxPoolPanels)
    let tier = limitsLabel.map { String($0.split(separator: " ").first ?? "") }
    var panels: [SVGChart] = []
    for pool in shown {
      var panel = SVGChart(title: "pool " + pool.pool, xLabel: "time (\(timeZone.name))", yLabel: "tokens per minute")
      panel.height = 250
      panel.xScale = .time
      panel.timeZone = timeZone
      panel.yScale = .log
      let rows = pool.rows.sorted { $0.minute < $1.minute }
      // More minutes than the plot can show apart are drawn as the busiest
      // minute of each bucket (a solid block of dots shows nothing).
      let (bucket, marks) = busiest(rows, timeZone: timeZone)
      panel.series = [
        .init(name: "estimate P", color: "#E45756", points: marks.map { ($0.x, $0.p) }, style: .points),
        .init(name: "ITPM charge I", color: "#4C78A8", points: marks.map { ($0.x, $0.i) }, style: .points),
      ]
      let marksText = bucket.map { "; a dot is the busiest minute of each \($0)" } ?? ""
      if let server = outcomes.first(where: { $0.regime == .server && $0.pool == pool.pool }) {
        let limit = Double(server.limits.inputTokensPerMinute)
        panel.rules = [(limit, "ITPM limit", "#2CA02C")]
        panel.subtitle =
          minutesText(rows.count) + " with traffic" + marksText
          + "; dashed: this pool's ITPM limit, \(panel.short(limit)) tokens/minute" + (tier.map { " (\($0))" } ?? "")
      } else {
        panel.subtitle =
          minutesText(rows.count) + " with traffic" + marksText + "; no ITPM limit given for this pool (see --tier)"
      }
      panels.append(panel)
    }
    let omitted = ranked.count - shown.count
    let subtitle =
      panels.isEmpty
      ? "No request has a time: there is no minute to draw."
      : omitted > 0
        // One line in the width: the note on the pools left out takes the place of the detail.
        ? "A dot: a pool's UTC minute. Red above blue: what caching saves. \(omitted) smaller pools not drawn (see minutes.csv)."
        : "A dot: a pool's UTC minute (or a span's busiest, where a panel says so). Red above blue: what caching saves."
    return SVGChart.stacked(
      title: "count_tokens estimate vs ITPM charge, per minute and pool", subtitle: subtitle,
      // The limit's key only where a panel draws one (none without limits).
      legend: panels.isEmpty
        ? []
        : [("estimate P (count_tokens)", "#E45756"), ("ITPM charge I", "#4C78A8")]
          + (panels.contains { !$0.rules.isEmpty } ? [("ITPM limit", "#2CA02C")] : []),
      panels: panels)
  }

  /// A regime's bucket level as the model defines it between sends: from
  /// the level after one send, a continuous refill at capacity per minute,
  /// capped at capacity, until the next send takes its charge. (A straight
  /// line from send to send would show a bucket refilling over months.)
  package static func refilled(_ samples: [BucketSample]) -> [(x: Double, y: Double)] {
    var out: [(x: Double, y: Double)] = []
    var previous: (t: Double, level: Double)?
    for sample in samples {
      let t = Double(sample.time.millisecondsSinceEpoch) / 1000
      let level = sample.level.value
      let capacity = Double(sample.capacity)
      if let p = previous, capacity > 0 {
        let rate = capacity / 60
        let full = p.t + max(0, capacity - p.level) / rate
        if full < t {
          out.append((full, capacity))
          out.append((t, capacity))
        } else {
          out.append((t, min(capacity, p.level + rate * (t - p.t))))
        }
      }
      out.append((t, level))
      previous = (t, level)
    }
    return out
  }

  /// The most dots a panel draws per series before minutes are bucketed.
  static let maxMarks = 600

  /// A pool's minutes as dots: each minute, or, when there are more than
  /// ``maxMarks``, the busiest minute (largest P, largest I) of each bucket
  /// of the smallest width that gives at most that many; the width's name.
  /// Spans start at whole minutes, hours and days of `timeZone`.
  package static func busiest(
    _ rows: [MinuteRow], timeZone: TimeZoneRule = .utc
  ) -> (bucket: String?, marks: [(x: Double, p: Double, i: Double)]) {
    func x(_ ms: Int64) -> Double { Double(ms) / 1000 }
    guard rows.count > maxMarks, let first = rows.first, let last = rows.last else {
      return (nil, rows.map { (x($0.minute.millisecondsSinceEpoch), Double($0.estimate), Double($0.itpm)) })
    }
    let span = last.minute.millisecondsSinceEpoch - first.minute.millisecondsSinceEpoch + 60_000
    let widths: [(Int64, String)] = [
      (5, "5-minute span"), (15, "15-minute span"), (60, "hour"), (180, "3-hour span"), (360, "6-hour span"),
      (720, "12-hour span"),
      (1440, "day"), (10_080, "week"),
    ]
    let (minutes, name) = widths.first { span / ($0.0 * 60_000) < Int64(maxMarks) } ?? (43_200, "30-day span")
    let width = minutes * 60_000
    var marks: [(x: Double, p: Double, i: Double)] = []
    var current: (start: Int64, p: Int128, i: Int128)?
    for r in rows {
      let t = r.minute.millisecondsSinceEpoch
      let local = t + timeZone.minuteOffset(at: r.minute) * 1000
      let start = t - ((local % width) + width) % width
      if let c = current, c.start == start {
        current = (start, max(c.p, r.estimate), max(c.i, r.itpm))
      } else {
        if let c = current { marks.append((x(c.start + width / 2), Double(c.p), Double(c.i))) }
        current = (start, r.estimate, r.itpm)
      }
    }
    if let c = current { marks.append((x(c.start + width / 2), Double(c.p), Double(c.i))) }
    return (name, marks)
  }

  private static func minutesText(_ n: Int) -> String { n == 1 ? "1 minute" : "\(n) minutes" }

  /// The SVG renderings, in the order of ``fileNames``.
  static func svgFiles(
    minutes: [MinuteRow], histogram: (bars: [SVGChart.Bar], marks: [SVGChart.Mark]),
    cumulative: (csv: String, estimate: [(Double, Double)], actual: [(Double, Double)]),
    simulation: (outcomes: [RegimeOutcome], samples: [BucketSample])?, limitsLabel: String?,
    timeZone: TimeZoneRule
  ) -> [(String, String)] {
    var files: [(String, String)] = []
    files.append(
      (
        "estimate_vs_itpm.svg",
        estimateVersusITPM(minutes, simulation?.outcomes ?? [], limitsLabel, timeZone: timeZone)
      ))

    var hist = SVGChart(
      title: "Per-request overestimation ratio P / I",
      xLabel: "ratio P / I: exactly 1, then log-spaced bins (4 per decade)",
      yLabel: "requests")
    hist.subtitle =
      "Requests by how far count_tokens' estimate exceeds what counted toward ITPM; the aggregate weighs them by tokens."
    hist.bars = histogram.bars
    hist.marks = histogram.marks
    hist.nothingToDraw = "Nothing to draw: no priced request with a time has an ITPM charge above zero."
    files.append(("ratio_histogram.svg", hist.render()))

    var cost = SVGChart(
      title: "Cumulative input cost: estimated vs actual", xLabel: "time (\(timeZone.name))", yLabel: "USD")
    cost.nothingToDraw = "Nothing to draw: no priced request in the input has a time."
    cost.xScale = .time
    cost.timeZone = timeZone
    cost.subtitle = "Estimated = P x input price (a worst-case budget); actual = the cache-aware bill."
    cost.series = [
      .init(
        name: "estimated (count_tokens x input price)", color: "#E45756", points: cumulative.estimate, style: .step),
      .init(name: "actual (cache-aware)", color: "#4C78A8", points: cumulative.actual, style: .step),
    ]
    files.append(("cumulative_cost.svg", cost.render()))

    if let simulation {
      // ITPM bucket levels of the busiest pool, per regime.
      let pools = Dictionary(grouping: simulation.samples.filter { $0.dimension == "itpm" }, by: \.pool)
      // The busiest pool; equal counts are broken by name, never by hash order.
      if let (pool, samples) = pools.max(by: {
        ($0.value.count, $1.key) < ($1.value.count, $0.key)
      }) {
        var b = SVGChart(
          title: "ITPM bucket level, pool \(pool)", xLabel: "time (\(timeZone.name))", yLabel: "tokens in the bucket")
        b.xScale = .time
        b.timeZone = timeZone
        b.subtitle =
          "A send takes I (server) or P (count_tokens; reserve_refund, refunded to I at the end); refill within a minute."
        let colors: [Regime: String] = [
          .server: "#4C78A8", .countTokens: "#E45756", .unpaced: "#72B7B2", .reserveRefund: "#F58518",
        ]
        for regime in Regime.allCases {
          var series = SVGChart.Series(
            name: regime.rawValue, color: colors[regime] ?? "#888",
            points: refilled(samples.filter { $0.regime == regime }), style: .line)
          // Unpaced sends are the server's, early: dashed, so neither hides the other.
          if regime == .unpaced { series.dashed = true }
          b.series.append(series)
        }
        if let cap = samples.first?.capacity { b.rules = [(Double(cap), "capacity", "#2CA02C")] }
        files.append(("bucket_levels.svg", b.render()))
      }
    }
    return files
  }
}
