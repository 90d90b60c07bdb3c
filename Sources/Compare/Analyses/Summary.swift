public import EstimateModel

/// Sums and distributions of a group of requests; merges associatively.
///
/// Every ratio is a ratio of sums (`ΣP / ΣI`), never a mean of ratios. The
/// per-request ratios `R = P / I` are kept exactly as (P, I) pairs, so the
/// percentiles are exact (nearest rank) rather than sketched; that costs 16
/// bytes per request, the same order as the de-duplication keys themselves.
public struct Summary: Sendable {
  public var requests = 0
  public var input: Int128 = 0
  public var cacheWrite5m: Int128 = 0
  public var cacheWrite1h: Int128 = 0
  public var cacheWriteUnknownTTL: Int128 = 0
  public var cacheRead: Int128 = 0
  public var output: Int128 = 0
  public var estimate: Int128 = 0
  public var itpm: Int128 = 0
  /// Costs of the priced requests only; `unpriced` says how many are missing.
  public var inputCostEstimate = USD.zero
  public var inputCostActual = USD.zero
  public var outputCost = USD.zero
  public var costActual = USD.zero
  public var priced = 0
  public var unpriced = 0
  /// Requests whose cost is a lower bound (writes of unknown TTL).
  public var lowerBound = 0
  /// Priced requests whose prices rest on a third-party source.
  public var thirdPartyPriced = 0
  /// The cost the logs themselves wrote (Claude Code 1.0.x's `costUSD`), on
  /// how many requests, and tokengap's actual cost of those same requests
  /// (the priced ones), to show both and the difference.
  public var loggedCost = USD.zero
  public var loggedCostRequests = 0
  public var loggedCostComputed = USD.zero
  public var loggedCostPriced = 0
  /// Requests whose estimate cost less than their actual input (writes dominate).
  public var estimateBelowActual = 0
  /// Requests with a captured count_tokens value, its sum, and their ΣP.
  public var measuredRequests = 0
  public var measuredTokens: Int128 = 0
  public var measuredEstimate: Int128 = 0
  /// Per-request (P, I) with I > 0, for the ratio distribution.
  public var ratios: [RatioSample] = []
  /// Requests with a ratio (I > 0).
  public var ratioCount = 0
  /// The distribution, when computed without keeping samples (a priced
  /// table's analysis): exact, but lost when two such summaries merge.
  public var percentiles: Percentiles?
  /// The first and the last request's time (milliseconds since the epoch),
  /// when any carries one: a group's first and last activity.
  public var firstTime: Int64?
  public var lastTime: Int64?

  /// Widens the first and last activity to a request's time.
  public mutating func noteTime(_ milliseconds: Int64) {
    firstTime = Swift.min(firstTime ?? milliseconds, milliseconds)
    lastTime = Swift.max(lastTime ?? milliseconds, milliseconds)
  }

  /// Nearest-rank percentiles of the per-request ratio.
  public struct Percentiles: Sendable {
    public var p50: Ratio?
    public var p90: Ratio?
    public var p99: Ratio?
    public var max: Ratio?

    /// Every rank of a single value is that value.
    static func only(_ v: Ratio?) -> Percentiles { Percentiles(p50: v, p90: v, p99: v, max: v) }
  }

  /// The 0-based positions of p50, p90, p99 and max among `n` sorted samples.
  package static func ranks(_ n: Int) -> [Int] {
    [50, 90, 99].map { p in min(n - 1, Swift.max(0, (p * n + 99) / 100 - 1)) } + [n - 1]
  }

  public init() {}

  /// One request's P and I.
  public struct RatioSample: Sendable, Comparable {
    public var estimate: Int64
    public var itpm: Int64

    public static func < (a: RatioSample, b: RatioSample) -> Bool {
      Int128(a.estimate) * Int128(b.itpm) < Int128(b.estimate) * Int128(a.itpm)
    }

    public static func == (a: RatioSample, b: RatioSample) -> Bool {
      Int128(a.estimate) * Int128(b.itpm) == Int128(b.estimate) * Int128(a.itpm)
    }

    public var ratio: Ratio? { Ratio(estimate, itpm) }
  }

  /// Adds one request, with its captured count_tokens value if any.
  public mutating func add(_ gap: Gap, measured: Int64? = nil) {
    add(
      usage: gap.usage, estimate: Int128(gap.estimate), itpm: Int128(gap.itpm), gap: gap,
      measured: measured)
  }

  /// Adds one request: its usage, exact `P` and `I`, and its gap (nil when
  /// `P` overflows 64 bits: counted, unpriced, left out of the distribution).
  public mutating func add(
    usage u: TokenUsage, estimate p: Int128, itpm i: Int128, gap: Gap?, measured: Int64? = nil,
    keepSample: Bool = true, logged: USD? = nil
  ) {
    add(
      usage: u, estimate: p, itpm: i, figures: gap?.figures, measured: measured, keepSample: keepSample,
      logged: logged)
  }

  /// ``add(usage:estimate:itpm:gap:measured:keepSample:logged:)`` with the
  /// gap's numbers alone (``GapFigures``): what a table's sums are made of.
  public mutating func add(
    usage u: TokenUsage, estimate p: Int128, itpm i: Int128, figures gap: GapFigures?, measured: Int64? = nil,
    keepSample: Bool = true, logged: USD? = nil
  ) {
    if let logged {
      loggedCostRequests += 1
      loggedCost = loggedCost + logged
      if let actual = gap?.costActual {
        loggedCostComputed = loggedCostComputed + actual
        loggedCostPriced += 1
      }
    }
    if let measured {
      measuredRequests += 1
      measuredTokens += Int128(measured)
      measuredEstimate += p
    }
    requests += 1
    input += Int128(u.input)
    cacheWrite5m += Int128(u.cacheWrite5m)
    cacheWrite1h += Int128(u.cacheWrite1h)
    cacheWriteUnknownTTL += Int128(u.cacheWriteUnknownTTL)
    cacheRead += Int128(u.cacheRead)
    output += Int128(u.output)
    estimate += p
    itpm += i
    if gap?.lowerBound ?? (u.cacheWriteUnknownTTL > 0) { lowerBound += 1 }
    if let gap, let e = gap.inputCostEstimate, let a = gap.inputCostActual, let o = gap.outputCost,
      let total = gap.costActual
    {
      priced += 1
      if gap.thirdPartyPrice { thirdPartyPriced += 1 }
      inputCostEstimate = inputCostEstimate + e
      inputCostActual = inputCostActual + a
      outputCost = outputCost + o
      costActual = costActual + total
      if e < a { estimateBelowActual += 1 }
    } else {
      unpriced += 1
    }
    if let gap, gap.itpm > 0 {
      ratioCount += 1
      if keepSample { ratios.append(RatioSample(estimate: gap.estimate, itpm: gap.itpm)) }
    }
  }

  /// Adds another summary.
  public mutating func merge(_ o: Summary) {
    requests += o.requests
    input += o.input
    cacheWrite5m += o.cacheWrite5m
    cacheWrite1h += o.cacheWrite1h
    cacheWriteUnknownTTL += o.cacheWriteUnknownTTL
    cacheRead += o.cacheRead
    output += o.output
    estimate += o.estimate
    itpm += o.itpm
    inputCostEstimate = inputCostEstimate + o.inputCostEstimate
    inputCostActual = inputCostActual + o.inputCostActual
    outputCost = outputCost + o.outputCost
    costActual = costActual + o.costActual
    priced += o.priced
    unpriced += o.unpriced
    lowerBound += o.lowerBound
    thirdPartyPriced += o.thirdPartyPriced
    loggedCost = loggedCost + o.loggedCost
    loggedCostRequests += o.loggedCostRequests
    loggedCostComputed = loggedCostComputed + o.loggedCostComputed
    loggedCostPriced += o.loggedCostPriced
    estimateBelowActual += o.estimateBelowActual
    ratios += o.ratios
    ratioCount += o.ratioCount
    if percentiles != nil || o.percentiles != nil { percentiles = nil }
    measuredRequests += o.measuredRequests
    measuredTokens += o.measuredTokens
    measuredEstimate += o.measuredEstimate
    if let t = o.firstTime { noteTime(t) }
    if let t = o.lastTime { noteTime(t) }
  }

  public var overestimate: Int128 { estimate - itpm }
  public var overestimationRatio: Ratio? { Ratio(estimate, itpm) }
  public var excessShare: Ratio? { Ratio(overestimate, estimate) }
  public var cacheHitRate: Ratio? { Ratio(cacheRead, estimate) }
  public var inputCostRatio: Ratio? {
    priced > 0 ? inputCostEstimate.ratio(to: inputCostActual) : nil
  }

  /// The costs, or nil when no request in the group is priced.
  public func cost(_ value: USD) -> USD? { priced > 0 ? value : nil }

  /// Nearest-rank percentiles of the per-request ratio: p50, p90, p99, max.
  ///
  /// The p-th percentile is the smallest ratio with at least p % of the
  /// samples at or below it.
  public func ratioPercentiles() -> (p50: Ratio?, p90: Ratio?, p99: Ratio?, max: Ratio?) {
    if let p = percentiles { return (p.p50, p.p90, p.p99, p.max) }
    guard !ratios.isEmpty else { return (nil, nil, nil, nil) }
    let sorted = ratios.sorted()
    let r = Self.ranks(sorted.count).map { sorted[$0].ratio }
    return (r[0], r[1], r[2], r[3])
  }
}
