public import EstimateModel

/// The four ways of sending the recorded traffic.
public enum Regime: String, CaseIterable, Sendable {
  /// A client that paces on the server's own charge `I` (cache-aware).
  case server
  /// A client that paces on count_tokens' estimate `P` (cache-blind), or on
  /// the measured count_tokens value where the capture has one.
  case countTokens = "count_tokens"
  /// Requests sent at their recorded times; what does not fit gets a 429.
  case unpaced
  /// A gateway (LiteLLM's ITPM/OTPM limits) that reserves `P` and
  /// `max_tokens` when it sends a request and settles to `I` and the real
  /// output when the response ends; it holds a request until its
  /// reservation fits.
  case reserveRefund = "reserve_refund"
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
      var a = Arrival(time: t, pool: Arrival.pool(r.pool, model: r.model, rule: mixed ? r.rule : nil), gap: gap)
      a.model = r.model
      a.measured = r.measuredCountTokens
      a.maxTokens = r.maxTokens
      a.durationMs = r.durationMs
      out.append(a)
    }
    return (out.sorted { $0.time < $1.time }, untimed)
  }

  public var time: Instant
  public var pool: String
  public var estimate: Int64
  public var itpm: Int64
  public var output: Int64
  /// The model's catalog id (or the logged name when the catalog has none).
  public var model: String
  /// What count_tokens returned for the prompt, when the capture has it.
  public var measured: Int64?
  /// The request's `max_tokens`, when the capture has it.
  public var maxTokens: Int64?
  /// How long the response took, in milliseconds, when the capture says.
  public var durationMs: Int64?

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

  public init(
    time: Instant, pool: String, estimate: Int64, itpm: Int64, output: Int64, model: String = "",
    measured: Int64? = nil, maxTokens: Int64? = nil, durationMs: Int64? = nil
  ) {
    self.time = time
    self.pool = pool
    self.estimate = estimate
    self.itpm = itpm
    self.output = output
    self.model = model
    self.measured = measured
    self.maxTokens = maxTokens
    self.durationMs = durationMs
  }
}

/// The rules a replay applies beyond the limits themselves.
public struct ReplayRules: Sendable, Hashable {
  /// How the server admits output tokens: the rule of the table in force.
  public var output: OutputRule
  /// A response's duration when its capture does not say, in milliseconds.
  public var defaultDurationMs: Int64

  /// The default duration: 10 s, the order of a Claude Code turn's
  /// response (an assumption, printed with every replay).
  public static let defaultDurationMs: Int64 = 10_000

  public init(output: OutputRule = .maxTokens, defaultDurationMs: Int64 = ReplayRules.defaultDurationMs) {
    self.output = output
    self.defaultDurationMs = max(0, defaultDurationMs)
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
  /// How output was admitted in this regime (the gateway always reserves
  /// `max_tokens`).
  public var outputRule: OutputRule = .maxTokens
  /// Requests whose `max_tokens` was not captured, reserved as their
  /// recorded output instead (only where a rule reserves `max_tokens`).
  public var maxTokensAssumed = 0
  /// Requests whose response duration was not captured and took the default.
  public var durationAssumed = 0
  /// Requests charged a measured count_tokens value instead of `P`.
  public var measuredUsed = 0

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
/// paced clients send in recorded order, never before a request's recorded
/// time; a request larger than a bucket's capacity can never be sent and is
/// counted, not queued. A request's recorded time is its send time; its
/// response ends its duration later (captured, or the rules' default).
///
/// | regime | ITPM at send | ITPM at end | OTPM at send | OTPM at end |
/// |---|---|---|---|---|
/// | server, unpaced | `I` | — | by the table's rule | by the table's rule |
/// | count_tokens | measured or `P` | — | by the table's rule | by the table's rule |
/// | reserve_refund | measured or `P` | settle to `I` | `max_tokens` | settle to output |
///
/// The table's output rule: `max_tokens` charges `max_tokens` at send (it
/// must fit) and settles to the output at the end; `real_time` admits while
/// the OTPM bucket is not in debt and charges the output at the end. An
/// unknown `max_tokens` is taken as the recorded output.
public enum Simulation {
  public static func run(
    _ arrivals: [Arrival], limits: (String) -> RateLimits?, rules: ReplayRules = ReplayRules(),
    series: Bool = false
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
        outcomes.append(simulate(list, regime, pool, l, first.time, rules, series, &samples))
      }
    }
    return (outcomes, samples, unlimited)
  }

  /// What one request charges in one regime.
  struct Charge {
    var inputAtSend: Int64
    var inputAtEnd: Int64
    var outputAtSend: Int64
    var outputAtEnd: Int64
    /// Output tokens that must fit at send (`real_time`: 0, the bucket not in debt).
    var outputGate: Int64
    var maxTokensAssumed: Bool
    var measuredUsed: Bool
  }

  static func charge(_ a: Arrival, _ regime: Regime, _ rule: OutputRule) -> Charge {
    let paceOnEstimate = regime == .countTokens || regime == .reserveRefund
    let input = paceOnEstimate ? (a.measured ?? a.estimate) : a.itpm
    let reserves = regime == .reserveRefund || rule == .maxTokens
    let outputAtSend = reserves ? (a.maxTokens ?? a.output) : 0
    return Charge(
      inputAtSend: input, inputAtEnd: regime == .reserveRefund ? a.itpm : input,
      outputAtSend: outputAtSend, outputAtEnd: a.output, outputGate: outputAtSend,
      maxTokensAssumed: reserves && a.maxTokens == nil, measuredUsed: paceOnEstimate && a.measured != nil)
  }

  /// A charge that changes when a response ends.
  struct Settlement {
    var at: Instant
    /// Tokens given back (positive) or taken (negative).
    var input: Int64
    var output: Int64
  }

  /// The three buckets of one pool and regime, and the settlements due.
  struct Buckets {
    var itpm: TokenBucket
    var otpm: TokenBucket
    var rpm: TokenBucket
    /// In order of time (equal times in the order they were made).
    var pending: [Settlement] = []

    init(_ l: RateLimits, start: Instant) {
      itpm = TokenBucket(limit: l.inputTokensPerMinute, start: start)
      otpm = TokenBucket(limit: l.outputTokensPerMinute, start: start)
      rpm = TokenBucket(limit: l.requestsPerMinute, start: start)
    }

    private mutating func refill(to t: Instant) {
      itpm.advance(to: t)
      otpm.advance(to: t)
      rpm.advance(to: t)
    }

    /// Refills up to `t`, settling every response that ended by then.
    mutating func advance(to t: Instant) {
      while let s = pending.first, s.at <= t {
        pending.removeFirst()
        refill(to: s.at)
        itpm.settle(s.input)
        otpm.settle(s.output)
      }
      refill(to: t)
    }

    mutating func schedule(_ s: Settlement) {
      guard s.input != 0 || s.output != 0 else { return }
      let i = pending.firstIndex { $0.at > s.at } ?? pending.count
      pending.insert(s, at: i)
    }

    func fits(_ c: Charge) -> Bool { itpm.fits(c.inputAtSend) && otpm.fits(c.outputGate) && rpm.fits(1) }

    func canEverFit(_ c: Charge) -> Bool {
      itpm.canEverFit(c.inputAtSend) && otpm.canEverFit(c.outputGate) && rpm.canEverFit(1)
    }

    /// The earliest time at or after `t` when the charge fits, settling the
    /// responses that end while it waits (a refund can shorten the wait).
    mutating func whenFits(_ c: Charge, from t: Instant) -> Instant {
      advance(to: t)
      while true {
        // Buckets only fill as time passes, so one step to the latest
        // moment any of them fits makes all of them fit.
        let ready =
          [itpm.whenFits(c.inputAtSend), otpm.whenFits(c.outputGate), rpm.whenFits(1)]
          .compactMap { $0 }.max() ?? t
        guard let next = pending.first, next.at <= ready else {
          let at = max(ready, t)
          advance(to: at)
          return at
        }
        advance(to: next.at)
      }
    }

    mutating func send(_ c: Charge, at t: Instant, duration: Int64) {
      itpm.charge(c.inputAtSend)
      otpm.charge(c.outputAtSend)
      rpm.charge(1)
      schedule(
        Settlement(
          at: Instant(millisecondsSinceEpoch: t.millisecondsSinceEpoch + duration),
          input: c.inputAtSend - c.inputAtEnd, output: c.outputAtSend - c.outputAtEnd))
    }
  }

  private static func simulate(
    _ list: [Arrival], _ regime: Regime, _ pool: String, _ l: RateLimits, _ start: Instant,
    _ rules: ReplayRules, _ record: Bool, _ samples: inout [BucketSample]
  ) -> RegimeOutcome {
    var out = RegimeOutcome(regime: regime, pool: pool, limits: l, start: start)
    out.outputRule = regime == .reserveRefund ? .maxTokens : rules.output
    var b = Buckets(l, start: start)
    var previous = start
    for a in list {
      out.requests += 1
      let c = charge(a, regime, rules.output)
      if c.maxTokensAssumed { out.maxTokensAssumed += 1 }
      if c.measuredUsed { out.measuredUsed += 1 }
      if a.durationMs == nil { out.durationAssumed += 1 }
      let duration = a.durationMs.map { max(0, $0) } ?? rules.defaultDurationMs
      guard b.canEverFit(c) else {
        out.neverFit += 1
        if regime == .unpaced {
          out.rejected += 1
          if out.firstRejections.count < 10 { out.firstRejections.append(a.time) }
        }
        continue
      }
      let t: Instant
      if regime == .unpaced {
        t = a.time
        b.advance(to: t)
        guard b.fits(c) else {
          out.rejected += 1
          if out.firstRejections.count < 10 { out.firstRejections.append(a.time) }
          continue
        }
      } else {
        t = b.whenFits(c, from: max(a.time, previous))
      }
      b.send(c, at: t, duration: duration)
      let wait = t.millisecondsSinceEpoch - a.time.millisecondsSinceEpoch
      out.sent += 1
      out.waitsMs.append(wait)
      out.totalWaitMs += wait
      if wait > 0 { out.delayed += 1 }
      out.promptTokens += Int128(a.estimate)
      previous = t
      out.finish = max(out.finish, t)
      if record {
        for (name, bucket) in [("itpm", b.itpm), ("otpm", b.otpm), ("rpm", b.rpm)] {
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

  /// Counts one arrival of this minute and pool.
  mutating func add(_ a: Arrival) {
    requests += 1
    estimate += Int128(a.estimate)
    itpm += Int128(a.itpm)
    output += Int128(a.output)
  }
}

public enum MinuteSeries {
  public static func build(_ arrivals: [Arrival]) -> [MinuteRow] {
    struct Key: Hashable {
      var minute: Int64
      var pool: String
    }
    // Each minute and pool's row, found by a key made without text and
    // updated where it lies.
    var rows: [Key: MinuteRow] = [:]
    rows.reserveCapacity(Swift.min(arrivals.count, 1 << 16))
    for a in arrivals {
      let ms = a.time.millisecondsSinceEpoch
      let start = ms - ((ms % 60_000) + 60_000) % 60_000
      rows[
        Key(minute: start, pool: a.pool),
        default: MinuteRow(minute: Instant(millisecondsSinceEpoch: start), pool: a.pool)
      ]
      .add(a)
    }
    return rows.values.sorted { ($0.minute, $0.pool) < ($1.minute, $1.pool) }
  }
}
