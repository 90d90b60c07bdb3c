public import EstimateModel

/// One request in a cache lane, with what the cache did for it.
public struct CacheEvent: Sendable {
  public var time: Instant
  public var session: String
  public var lane: String
  public var model: String
  public var estimate: Int64
  public var cacheRead: Int64
  public var cacheWrite: Int64
  /// Milliseconds since the lane's previous request (nil for the first).
  public var gapMs: Int64?
  /// A write after an idle gap longer than the TTL of the cache being read.
  public var rebuild: Bool
  public var rebuiltTokens: Int64
  /// What the rebuilt tokens cost beyond reading them.
  public var rebuildExtraCost: USD
  /// Writes no later request read before they expired.
  public var neverReadTokens: Int64
}

/// A session's cache behaviour.
public struct CacheSummary: Sendable {
  public var session: String
  public var requests = 0
  public var estimate: Int128 = 0
  public var cacheRead: Int128 = 0
  public var rebuilds = 0
  public var rebuiltTokens: Int128 = 0
  public var rebuildExtraCost = USD.zero
  public var neverReadTokens: Int128 = 0
  public var write1h: Int128 = 0
  /// What the 1-hour writes cost beyond 5-minute writes.
  public var oneHourExtraCost = USD.zero
  /// Reads after a gap of 5 to 60 minutes: a 5-minute cache would have expired.
  public var oneHourSavedTokens: Int128 = 0
  /// What those reads saved against rewriting at the 5-minute price.
  public var oneHourSavings = USD.zero

  public var hitRate: Ratio? { Ratio(cacheRead, estimate) }

  /// Whether 1-hour writes paid for themselves; nil without 1-hour writes.
  public var oneHourPaidOff: Bool? { write1h > 0 ? oneHourSavings >= oneHourExtraCost : nil }

  /// The sum of several sessions' summaries, under one name.
  package static func total(_ list: [CacheSummary], named name: String) -> CacheSummary {
    var all = CacheSummary(session: name)
    for s in list {
      all.requests += s.requests
      all.estimate += s.estimate
      all.cacheRead += s.cacheRead
      all.rebuilds += s.rebuilds
      all.rebuiltTokens += s.rebuiltTokens
      all.rebuildExtraCost = all.rebuildExtraCost + s.rebuildExtraCost
      all.neverReadTokens += s.neverReadTokens
      all.write1h += s.write1h
      all.oneHourExtraCost = all.oneHourExtraCost + s.oneHourExtraCost
      all.oneHourSavedTokens += s.oneHourSavedTokens
      all.oneHourSavings = all.oneHourSavings + s.oneHourSavings
    }
    return all
  }
}

/// Finds cache rebuilds, unread writes and whether 1-hour writes paid off.
///
/// A *lane* is one conversation's cache: the main thread of a session, or one
/// subagent (sidechain) of it. Within a lane, in time order:
///
/// | finding | rule |
/// |---|---|
/// | TTL of the cache being read | 1 hour if the lane's last write was mostly 1-hour, else 5 minutes |
/// | rebuild | the request writes cache after an idle gap longer than that TTL, following a request that read or wrote cache |
/// | rebuilt tokens | min(its writes, the previous request's reads + writes): the prefix written again |
/// | rebuild cost over a read | rebuilt tokens × (write price − read price) |
/// | never read | a write whose lane has no next request within its TTL that reads cache |
/// | 1-hour pay-off | savings = reads after a 5–60 minute gap × (5-minute write − read price); extra = 1-hour writes × (1-hour − 5-minute write price) |
public enum CacheAnalysis {
  public static let fiveMinutes: Int64 = 5 * 60_000
  public static let oneHour: Int64 = 60 * 60_000

  /// One timed, priced request: what the analysis reads of it.
  struct Item {
    var time: Instant?
    var session: String
    var usage: TokenUsage
  }

  /// A request of a lane: what the analysis reads of its gap.
  struct LaneRequest {
    var item: Item
    var model: String
    var estimate: Int64
    /// The prices applied; nil when unpriced.
    var rates: RateCard?
  }

  public static func run(_ requests: [PricedRequest])
    -> (events: [CacheEvent], sessions: [CacheSummary])
  {
    var lanes: [String: [LaneRequest]] = [:]
    for r in requests {
      guard r.time != nil else { continue }
      guard let gap = r.gap else { continue }
      lanes[laneKey(session: r.session, sidechain: r.sidechain, agent: r.agent), default: []].append(
        LaneRequest(
          item: Item(time: r.time, session: r.session, usage: r.usage), model: gap.model, estimate: gap.estimate,
          rates: gap.rates))
    }
    return run(lanes: lanes.map { ($0.key, $0.value) })
  }

  /// The same, read row by row from the table in the order of
  /// ``PricedTable/ordered()``: no `PricedRequest` or `Gap` is made.
  package static func run(_ priced: PricedTable) -> (events: [CacheEvent], sessions: [CacheSummary]) {
    // A lane per (session, agent, sidechain) of the table, its key spelled once.
    struct LaneID: Hashable {
      var session: UInt32
      var agent: UInt32
      var sidechain: Bool
    }
    var lanes: [(key: String, entries: [LaneRequest])] = []
    var laneOf: [LaneID: Int] = [:]
    var last: (LaneID, Int)?
    let t = priced.table
    for i in priced.orderedRows() {
      let row = t.rows[i]
      guard row.flags.contains(.timed) else { continue }
      let (usage, figures, _, _) = priced.figures(row: i)
      guard let figures else { continue }
      let id = LaneID(session: row.session, agent: row.agent, sidechain: row.flags.contains(.sidechain))
      let lane: Int
      if let last, last.0 == id {
        lane = last.1
      } else if let known = laneOf[id] {
        lane = known
      } else {
        lane = lanes.count
        lanes.append(
          (
            laneKey(
              session: t.strings[row.session], sidechain: id.sidechain,
              agent: row.agent == StringPool.none ? nil : t.strings[row.agent]), []
          ))
        laneOf[id] = lane
      }
      last = (id, lane)
      let (model, rates) = priced.modelAndRates(ofRow: i, prompt: figures.estimate)
      lanes[lane].entries.append(
        LaneRequest(
          item: Item(time: Instant(millisecondsSinceEpoch: row.time), session: t.strings[row.session], usage: usage),
          model: model, estimate: figures.estimate, rates: rates))
    }
    return run(lanes: lanes)
  }

  /// A lane's key: its session, then the main thread or the subagent.
  private static func laneKey(session: String, sidechain: Bool, agent: String?) -> String {
    session + "\u{1F}" + (sidechain ? "agent:" + (agent ?? "sidechain") : "main")
  }

  private static func run(lanes: [(key: String, entries: [LaneRequest])]) -> (
    events: [CacheEvent], sessions: [CacheSummary]
  ) {
    var events: [CacheEvent] = []
    var sessions: [String: CacheSummary] = [:]
    var current: CacheSummary?
    for (key, entries) in lanes.sorted(by: { $0.key < $1.key }) {
      let list = entries.map { ($0.item, $0) }.sorted(by: {
        ($0.0.time ?? .init(millisecondsSinceEpoch: 0)) < ($1.0.time ?? .init(millisecondsSinceEpoch: 0))
      })
      let lane = String(key.split(separator: "\u{1F}").last ?? "main")
      var lastWriteWasOneHour = false
      for (i, (r, g)) in list.enumerated() {
        guard let t = r.time else { continue }
        let u = r.usage
        let writes = u.cacheWrite5m + u.cacheWrite1h + u.cacheWriteUnknownTTL
        let previous = i > 0 ? list[i - 1] : nil
        let gapMs = previous.flatMap { p in p.0.time.map { t.millisecondsSinceEpoch - $0.millisecondsSinceEpoch } }
        let ttl = lastWriteWasOneHour ? oneHour : fiveMinutes
        var e = CacheEvent(
          time: t, session: r.session, lane: lane, model: g.model, estimate: g.estimate,
          cacheRead: u.cacheRead, cacheWrite: writes, gapMs: gapMs, rebuild: false,
          rebuiltTokens: 0, rebuildExtraCost: .zero, neverReadTokens: 0)
        // A lane is one session's: its summary stays at hand while the lane
        // runs, and is stored when another session's request comes.
        if current?.session != r.session {
          if let done = current { sessions[done.session] = done }
          current = sessions[r.session] ?? CacheSummary(session: r.session)
        }
        guard var s = current else { continue }
        if let previous, let gapMs, writes > 0, gapMs > ttl {
          let pu = previous.0.usage
          let prefix = pu.cacheRead + pu.cacheWrite5m + pu.cacheWrite1h + pu.cacheWriteUnknownTTL
          if prefix > 0 {
            e.rebuild = true
            e.rebuiltTokens = min(writes, prefix)
            if let rates = g.rates {
              let writeRate = u.cacheWrite1h > u.cacheWrite5m + u.cacheWriteUnknownTTL ? rates.write1h : rates.write5m
              e.rebuildExtraCost = USD(
                attodollars: Int128(e.rebuiltTokens) * (writeRate.attodollarsPerToken - rates.read.attodollarsPerToken))
            }
          }
        }
        // A read after a 5–60 minute gap survived only thanks to a 1-hour write.
        if lastWriteWasOneHour, let gapMs, gapMs > fiveMinutes, gapMs <= oneHour, u.cacheRead > 0,
          let rates = g.rates
        {
          s.oneHourSavedTokens += Int128(u.cacheRead)
          s.oneHourSavings =
            s.oneHourSavings
            + USD(
              attodollars: Int128(u.cacheRead) * (rates.write5m.attodollarsPerToken - rates.read.attodollarsPerToken))
        }
        if u.cacheWrite1h > 0, let rates = g.rates {
          s.write1h += Int128(u.cacheWrite1h)
          s.oneHourExtraCost =
            s.oneHourExtraCost
            + USD(
              attodollars: Int128(u.cacheWrite1h)
                * (rates.write1h.attodollarsPerToken - rates.write5m.attodollarsPerToken))
        }
        if writes > 0 {
          lastWriteWasOneHour = u.cacheWrite1h > u.cacheWrite5m + u.cacheWriteUnknownTTL
          let writeTTL = lastWriteWasOneHour ? oneHour : fiveMinutes
          let next = i + 1 < list.count ? list[i + 1] : nil
          let read =
            next.map { n in
              n.0.usage.cacheRead > 0
                && (n.0.time.map { $0.millisecondsSinceEpoch - t.millisecondsSinceEpoch <= writeTTL } ?? false)
            } ?? false
          if !read { e.neverReadTokens = writes }
        }
        s.requests += 1
        s.estimate += Int128(g.estimate)
        s.cacheRead += Int128(u.cacheRead)
        if e.rebuild {
          s.rebuilds += 1
          s.rebuiltTokens += Int128(e.rebuiltTokens)
          s.rebuildExtraCost = s.rebuildExtraCost + e.rebuildExtraCost
        }
        s.neverReadTokens += Int128(e.neverReadTokens)
        current = s
        events.append(e)
      }
    }
    if let done = current { sessions[done.session] = done }
    events.sort { ($0.time, $0.session, $0.lane) < ($1.time, $1.session, $1.lane) }
    return (events, sessions.values.sorted { $0.session < $1.session })
  }
}
