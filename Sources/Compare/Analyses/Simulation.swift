public import EstimateModel

/// The three ways of sending the recorded traffic.
public enum Regime: String, CaseIterable, Sendable {
  /// A client that paces on the server's own charge `I` (cache-aware).
  case server
  /// A client that paces on count_tokens' estimate `P` (cache-blind).
  case countTokens = "count_tokens"
  /// Requests sent at their recorded times; what does not fit gets a 429.
  case unpaced
}

/// One request as the simulation sees it.
public struct Arrival: Sendable {
  /// The timed requests as arrivals, in time order, and how many had no
  /// time. A request whose prompt overflows 64 bits (named in the ledger)
  /// cannot be replayed and is left out.
  public static func of(_ requests: [PricedRequest]) -> (arrivals: [Arrival], untimed: Int) {
    var out: [Arrival] = []
    var untimed = 0
    // Requests judged by several rules went to several providers' quotas.
    let mixed = Set(requests.map(\.rule)).count > 1
    for r in requests {
      guard let t = r.time else {
        untimed += 1
        continue
      }
      guard let gap = r.gap else { continue }
      out.append(Arrival(time: t, pool: Arrival.pool(r.pool, model: r.model, rule: mixed ? r.rule : nil), gap: gap))
    }
    return (out.sorted { $0.time < $1.time }, untimed)
  }

  public var time: Instant
  public var pool: String
  public var estimate: Int64
  public var itpm: Int64
  public var output: Int64

  /// A request's rate-limit pool; a model the catalog does not know is a pool
  /// of its own. In a run that mixes rules (`rule` given), a request judged
  /// by Bedrock's or OpenAI's rule went to another provider's quota than
  /// Anthropic's: its pool is named by the rule (`bedrock:sonnet-4`), which
  /// no tier of the catalog's (Anthropic's) tables lists, and never shares a
  /// bucket with Anthropic's traffic. A run of one rule keeps the pools'
  /// names, whatever its rule, so `--tier` applies as asked.
  static func pool(_ pool: String?, model: String, rule: Accounting? = nil) -> String {
    guard let rule, rule != .anthropic else { return pool ?? "unknown:" + model }
    return rule.rawValue + ":" + (pool ?? model)
  }

  /// A request sent at `time`, charged as its gap says.
  init(time: Instant, pool: String, gap: Gap) {
    self.init(time: time, pool: pool, estimate: gap.estimate, itpm: gap.itpm, output: gap.otpm)
  }

  public init(time: Instant, pool: String, estimate: Int64, itpm: Int64, output: Int64) {
    self.time = time
    self.pool = pool
    self.estimate = estimate
    self.itpm = itpm
    self.output = output
  }
}

/// What one regime did to one pool's traffic.
public struct RegimeOutcome: Sendable {
  public var regime: Regime
  public var pool: String
  public var limits: RateLimits
  public var requests = 0
  public var sent = 0
  public var delayed = 0
  public var totalWaitMs: Int64 = 0
  public var waitsMs: [Int64] = []
  public var rejected = 0
  /// The first few 429 times (unpaced regime).
  public var firstRejections: [Instant] = []
  public var neverFit = 0
  public var start: Instant
  public var finish: Instant
  public var promptTokens: Int128 = 0

  init(regime: Regime, pool: String, limits: RateLimits, start: Instant) {
    self.regime = regime
    self.pool = pool
    self.limits = limits
    self.start = start
    finish = start
  }

  /// Nearest-rank p90 of the per-request waits, in milliseconds.
  public var p90WaitMs: Int64 {
    guard !waitsMs.isEmpty else { return 0 }
    let sorted = waitsMs.sorted()
    return sorted[max(0, (90 * sorted.count + 99) / 100 - 1)]
  }

  public var maxWaitMs: Int64 { waitsMs.max() ?? 0 }

  /// From the first arrival to the last send, in milliseconds.
  public var makespanMs: Int64 { finish.millisecondsSinceEpoch - start.millisecondsSinceEpoch }

  /// Prompt tokens sent per minute over the makespan (nil for an instant).
  public var achievedPromptPerMinute: Ratio? {
    Ratio(promptTokens * 60_000, Int128(makespanMs))
  }
}

/// One point of a bucket's level, for `--series`.
public struct BucketSample: Sendable {
  public var time: Instant
  public var pool: String
  public var regime: Regime
  public var dimension: String
  public var level: Ratio
  public var capacity: Int64

  package init(time: Instant, pool: String, regime: Regime, dimension: String, level: Ratio, capacity: Int64) {
    self.time = time
    self.pool = pool
    self.regime = regime
    self.dimension = dimension
    self.level = level
    self.capacity = capacity
  }
}

/// The replay of recorded traffic through per-pool token buckets.
///
/// Assumptions, as documented in the README: one bucket per pool and per
/// dimension (ITPM, OTPM, RPM), capacity = the per-minute limit, refilled
/// continuously (millisecond steps) from full at the pool's first request;
/// a request charges `I` (or `P`), `O` and 1 at the moment it is sent, and
/// its output charge is known then (the recorded `O`); paced clients send in
/// recorded order, never before a request's recorded time; a request larger
/// than a bucket's capacity can never be sent and is counted, not queued.
public enum Simulation {
  public static func run(
    _ arrivals: [Arrival], limits: (String) -> RateLimits?, series: Bool = false
  ) -> (outcomes: [RegimeOutcome], samples: [BucketSample], unlimited: [String: Int]) {
    var byPool: [String: [Arrival]] = [:]
    for a in arrivals { byPool[a.pool, default: []].append(a) }
    var outcomes: [RegimeOutcome] = []
    var samples: [BucketSample] = []
    var unlimited: [String: Int] = [:]
    for pool in byPool.keys.sorted() {
      guard let all = byPool[pool] else { continue }
      let list = all.sorted { $0.time < $1.time }
      guard let l = limits(pool), let first = list.first else {
        unlimited[pool] = all.count
        continue
      }
      for regime in Regime.allCases {
        outcomes.append(simulate(list, regime, pool, l, first.time, series, &samples))
      }
    }
    return (outcomes, samples, unlimited)
  }

  private static func simulate(
    _ list: [Arrival], _ regime: Regime, _ pool: String, _ l: RateLimits, _ start: Instant,
    _ record: Bool, _ samples: inout [BucketSample]
  ) -> RegimeOutcome {
    var out = RegimeOutcome(regime: regime, pool: pool, limits: l, start: start)
    var itpm = TokenBucket(limit: l.inputTokensPerMinute, start: start)
    var otpm = TokenBucket(limit: l.outputTokensPerMinute, start: start)
    var rpm = TokenBucket(limit: l.requestsPerMinute, start: start)
    var previous = start
    for a in list {
      out.requests += 1
      let charge = regime == .countTokens ? a.estimate : a.itpm
      guard itpm.canEverFit(charge), otpm.canEverFit(a.output), rpm.canEverFit(1) else {
        out.neverFit += 1
        if regime == .unpaced {
          out.rejected += 1
          if out.firstRejections.count < 10 { out.firstRejections.append(a.time) }
        }
        continue
      }
      var t: Instant
      if regime == .unpaced {
        t = a.time
        itpm.advance(to: t)
        otpm.advance(to: t)
        rpm.advance(to: t)
        guard itpm.fits(charge), otpm.fits(a.output), rpm.fits(1) else {
          out.rejected += 1
          if out.firstRejections.count < 10 { out.firstRejections.append(a.time) }
          continue
        }
      } else {
        t = max(a.time, previous)
        itpm.advance(to: t)
        otpm.advance(to: t)
        rpm.advance(to: t)
        // Buckets only fill as time passes, so one step to the latest
        // moment any of them fits makes all of them fit.
        let ready =
          [itpm.whenFits(charge), otpm.whenFits(a.output), rpm.whenFits(1)]
          .compactMap { $0 }.max() ?? t
        if ready > t {
          t = ready
          itpm.advance(to: t)
          otpm.advance(to: t)
          rpm.advance(to: t)
        }
      }
      itpm.charge(charge)
      otpm.charge(a.output)
      rpm.charge(1)
      let wait = t.millisecondsSinceEpoch - a.time.millisecondsSinceEpoch
      out.sent += 1
      out.waitsMs.append(wait)
      out.totalWaitMs += wait
      if wait > 0 { out.delayed += 1 }
      out.promptTokens += Int128(a.estimate)
      previous = t
      out.finish = max(out.finish, t)
      if record {
        for (name, bucket) in [("itpm", itpm), ("otpm", otpm), ("rpm", rpm)] {
          samples.append(
            BucketSample(
              time: t, pool: pool, regime: regime, dimension: name, level: bucket.level,
              capacity: bucket.limit))
        }
      }
    }
    return out
  }
}

/// Tokens per clock-aligned UTC minute and pool, comparable with the Admin API's 1m buckets.
public struct MinuteRow: Sendable {
  public var minute: Instant
  public var pool: String
  public var requests = 0
  public var estimate: Int128 = 0
  public var itpm: Int128 = 0
  public var output: Int128 = 0

  package init(minute: Instant, pool: String) {
    self.minute = minute
    self.pool = pool
  }
}

public enum MinuteSeries {
  public static func build(_ arrivals: [Arrival]) -> [MinuteRow] {
    var rows: [String: MinuteRow] = [:]
    for a in arrivals {
      let ms = a.time.millisecondsSinceEpoch
      let minute = Instant(millisecondsSinceEpoch: ms - ((ms % 60_000) + 60_000) % 60_000)
      let key = "\(minute.millisecondsSinceEpoch)|\(a.pool)"
      var row = rows[key] ?? MinuteRow(minute: minute, pool: a.pool)
      row.requests += 1
      row.estimate += Int128(a.estimate)
      row.itpm += Int128(a.itpm)
      row.output += Int128(a.output)
      rows[key] = row
    }
    return rows.values.sorted { ($0.minute, $0.pool) < ($1.minute, $1.pool) }
  }
}
