import Compare
import EstimateModel
import Testing

@Suite("Replaying traffic through the buckets")
struct SimulationTests {
  let t0: Int64 = 1_700_000_000_000

  func arrival(_ ms: Int64, _ pool: String = "p", p: Int64, i: Int64, o: Int64 = 0) -> Arrival {
    Arrival(time: Instant(millisecondsSinceEpoch: t0 + ms), pool: pool, estimate: p, itpm: i, output: o)
  }

  let limits = RateLimits(requestsPerMinute: 1000, inputTokensPerMinute: 1000, outputTokensPerMinute: 100_000)

  func run(_ a: [Arrival], _ l: RateLimits? = nil) -> [Regime: RegimeOutcome] {
    let lim = l ?? limits
    let r = Simulation.run(a, limits: { _ in lim })
    return Dictionary(uniqueKeysWithValues: r.outcomes.map { ($0.regime, $0) })
  }

  @Test("Hand-computed: P = 600, I = 100 each second against 1,000 ITPM")
  func handComputed() throws {
    // count_tokens pacing: t=0 sends (level 1000 → 400); t=1 s: level 416.67,
    // 183.33 short at 1000/60,000 per ms → 11,000 ms: sent at 12 s (wait 11 s);
    // t=2 s: queued behind 12 s, level 0, needs 600 → 36 s: sent at 48 s (wait 46 s).
    let traffic = [arrival(0, p: 600, i: 100), arrival(1000, p: 600, i: 100), arrival(2000, p: 600, i: 100)]
    let r = run(traffic)
    let ct = try #require(r[.countTokens])
    #expect(ct.waitsMs == [0, 11_000, 46_000])
    #expect(ct.delayed == 2 && ct.totalWaitMs == 57_000 && ct.maxWaitMs == 46_000)
    #expect(ct.makespanMs == 48_000)
    let server = try #require(r[.server])
    #expect(server.waitsMs == [0, 0, 0] && server.makespanMs == 2_000)
    #expect(try #require(r[.unpaced]).rejected == 0)
  }

  @Test("Unpaced sends at recorded times: what does not fit is a 429, not charged")
  func unpaced() throws {
    let traffic = [arrival(0, p: 700, i: 700), arrival(100, p: 700, i: 700), arrival(60_100, p: 700, i: 700)]
    let r = run(traffic)
    let u = try #require(r[.unpaced])
    #expect(u.rejected == 1 && u.sent == 2)
    #expect(u.firstRejections == [Instant(millisecondsSinceEpoch: t0 + 100)])
    // The server-paced client waits instead. At 100 ms the level is
    // 300 + 100 × 1000/60,000 = 301.67, 398.33 short: 23,900 ms → sent at 24 s.
    // At 60.1 s the level is 36,100 × 1000/60,000 = 601.67, 98.33 short: 5,900 ms.
    #expect(try #require(r[.server]).waitsMs == [0, 23_900, 5_900])
  }

  @Test("A request larger than the capacity never fits and is counted")
  func neverFits() throws {
    let r = run([arrival(0, p: 5000, i: 500)])
    #expect(try #require(r[.countTokens]).neverFit == 1)
    #expect(try #require(r[.server]).neverFit == 0)
  }

  @Test("Refill across a gap: after a minute idle, the bucket is full again")
  func gap() throws {
    let r = run([arrival(0, p: 1000, i: 1000), arrival(60_000, p: 1000, i: 1000)])
    #expect(try #require(r[.server]).waitsMs == [0, 0])
    let r2 = run([arrival(0, p: 1000, i: 1000), arrival(30_000, p: 1000, i: 1000)])
    #expect(try #require(r2[.server]).waitsMs == [0, 30_000])
  }

  @Test("Pools have separate buckets")
  func pools() throws {
    let traffic = [arrival(0, "a", p: 1000, i: 1000), arrival(0, "b", p: 1000, i: 1000)]
    let r = Simulation.run(traffic, limits: { _ in limits })
    #expect(r.outcomes.filter { $0.regime == .server }.allSatisfy { $0.totalWaitMs == 0 })
    #expect(Set(r.outcomes.map(\.pool)) == ["a", "b"])
    let partial = Simulation.run(traffic, limits: { $0 == "a" ? limits : nil })
    #expect(partial.unlimited == ["b": 1])
  }

  @Test("OTPM and RPM buckets also hold requests back")
  func otherDimensions() throws {
    let l = RateLimits(requestsPerMinute: 1, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 1_000_000)
    let r = run([arrival(0, p: 1, i: 1), arrival(0, p: 1, i: 1)], l)
    #expect(try #require(r[.server]).waitsMs == [0, 60_000])
  }

  @Test("The server rule never waits longer than count_tokens pacing", arguments: 1...20)
  func serverNeverSlower(_ seed: UInt64) throws {
    var rng = SplitMix(seed: seed)
    var traffic: [Arrival] = []
    var t: Int64 = 0
    for _ in 0..<200 {
      t += Int64(rng.next() % 5000)
      let i = Int64(rng.next() % 800) + 1
      let p = i + Int64(rng.next() % 5000)
      traffic.append(arrival(t, p: p, i: i, o: Int64(rng.next() % 200)))
    }
    let l = RateLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000)
    let r = run(traffic, l)
    let s = try #require(r[.server])
    let c = try #require(r[.countTokens])
    #expect(c.neverFit == 0)
    for (ws, wc) in zip(s.waitsMs, c.waitsMs) { #expect(ws <= wc) }
    #expect(s.makespanMs <= c.makespanMs)
  }

  @Test(
    "Refunds only help: the gateway never waits longer than count_tokens pacing, whatever the OTPM rule",
    arguments: 1...20)
  func gatewayNeverSlower(_ seed: UInt64) throws {
    var rng = SplitMix(seed: seed)
    var traffic: [Arrival] = []
    var t: Int64 = 0
    for _ in 0..<200 {
      t += Int64(rng.next() % 5000)
      let i = Int64(rng.next() % 800) + 1
      let p = i + Int64(rng.next() % 5000)
      let o = Int64(rng.next() % 200)
      let max = rng.next() % 3 == 0 ? nil : o + Int64(rng.next() % 2000)
      let duration = rng.next() % 4 == 0 ? nil : Int64(rng.next() % 60_000)
      traffic.append(
        Arrival(
          time: Instant(millisecondsSinceEpoch: t0 + t), pool: "p", estimate: p, itpm: i, output: o,
          maxTokens: max, durationMs: duration))
    }
    let l = RateLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000)
    for rule in OutputRule.allCases {
      let r = Dictionary(
        uniqueKeysWithValues: Simulation.run(traffic, limits: { _ in l }, rules: ReplayRules(output: rule)).outcomes
          .map { ($0.regime, $0) })
      let g = try #require(r[.reserveRefund])
      let c = try #require(r[.countTokens])
      if rule == .maxTokens {
        // Same OTPM rule as the gateway: its ITPM level is never lower.
        #expect(g.neverFit == c.neverFit)
        for (wg, wc) in zip(g.waitsMs, c.waitsMs) { #expect(wg <= wc) }
      }
      #expect(g.sent + g.neverFit == g.requests)
    }
  }

  @Test("Minutes are clock-aligned UTC and sum the charges")
  func minutes() {
    let rows = MinuteSeries.build([
      Arrival(time: Instant("2026-01-01T00:00:59.999Z")!, pool: "p", estimate: 10, itpm: 1, output: 2),
      Arrival(time: Instant("2026-01-01T00:01:00.000Z")!, pool: "p", estimate: 20, itpm: 2, output: 3),
      Arrival(time: Instant("2026-01-01T00:01:30.000Z")!, pool: "p", estimate: 30, itpm: 3, output: 4),
    ])
    #expect(rows.map(\.requests) == [1, 2])
    #expect(rows.map(\.estimate) == [10, 50])
    #expect(rows[1].minute == Instant("2026-01-01T00:01:00Z"))
  }

  @Test("Minutes over the limit: counted by the estimate and by the ITPM charge")
  func minutesOverLimit() throws {
    // Limit 1,000 ITPM. Minute 1: P 1,500 / I 200 (over by P only);
    // minute 2: P 3,000 / I 1,200 (over by both); minute 3: P 900 / I 100 (neither).
    let traffic = [arrival(0, p: 1500, i: 200), arrival(60_000, p: 3000, i: 1200), arrival(120_000, p: 900, i: 100)]
    let run = Simulation.run(traffic, limits: { _ in limits })
    let report = SimulationReport(
      outcomes: run.outcomes, minutes: MinuteSeries.build(traffic), unlimitedPools: run.unlimited,
      limitsLabel: "test", requestsWithoutTime: 0, ledger: Ledger(), catalogVersion: "", catalogSHA256: "")
    let over = try #require(report.minutesOverLimit("p"))
    #expect(over.byEstimate == 2 && over.byITPM == 1 && over.minutes == 3)
  }

  @Test("The summary leads with what happened; a makespan ratio only when every regime sent every request")
  func summaryWording() throws {
    func summary(_ traffic: [Arrival]) -> String {
      let run = Simulation.run(traffic, limits: { _ in limits })
      let report = SimulationReport(
        outcomes: run.outcomes, minutes: MinuteSeries.build(traffic), unlimitedPools: run.unlimited,
        limitsLabel: "test", requestsWithoutTime: 0, ledger: Ledger(), catalogVersion: "", catalogSHA256: "")
      return SimulationRenderer.render(report, format: .table)
    }
    // The hand-computed trace above: waits 0, 11 s and 46 s when paced by
    // P (57 s in all); makespans 48 s and 2 s, so 24x, and the same prompt
    // tokens over 2 s instead of 48 s: 24x the tokens per minute.
    let all = summary([arrival(0, p: 600, i: 100), arrival(1000, p: 600, i: 100), arrival(2000, p: 600, i: 100)])
    #expect(all.contains("could never be sent: none, under either rule"))
    #expect(all.contains("waited, paced by count_tokens' estimate: 2 of 3 sent, 57 s in all, longest 46 s"))
    #expect(all.contains("waited, by the ITPM charge: none of 3 sent"))
    #expect(all.contains("makespan: count_tokens pacing takes 24x as long as the server rule, which admits 24x"))
    // P = 5,000 never fits a 1,000-token bucket: nothing sent when paced by
    // P, so no makespan ratio (it would read 0x).
    let none = summary([arrival(0, p: 5000, i: 500)])
    #expect(none.contains("could never be sent: 1 of 1 paced by count_tokens' estimate, 0 by the ITPM charge"))
    #expect(none.contains("waited, paced by count_tokens' estimate: none of 0 sent"))
    #expect(!none.contains("makespan:"))
    #expect(!none.contains("0x"))
  }

  static let durationCases: [(Int64, String)] = [
    (0, "0"), (850, "850 ms"), (10_000, "10 s"), (38_449, "38.4 s"), (120_000, "2 min"),
    (458_382, "7 min 38 s"), (18_779_000, "5 h 12 min"),  // 5 h 12 min 59 s
    (25_273_800_000, "292 d 12 h"),  // 292 d 12 h 30 min
    (86_400_000, "1 d"),
  ]

  @Test("Durations read as people say them", arguments: durationCases)
  func durations(_ ms: Int64, _ text: String) {
    #expect(Fmt.duration(ms: ms) == text)
  }

  @Test("On real sessions at Tier 1, count_tokens pacing cannot even send some requests")
  func realSessions() async throws {
    let all = await requests([dataset("claude-code/claude-code-viewer")])
    var traffic: [Arrival] = []
    for r in all {
      let m = testCatalog.resolve(r.loggedModel)
      let g = try Gap(usage: r.usage, model: m, day: r.time!.day, catalog: testCatalog)
      traffic.append(Arrival(time: r.time!, pool: m.entry!.pool, estimate: g.estimate, itpm: g.itpm, output: g.otpm))
    }
    let table = try testCatalog.rateLimitTable(tier: "tier-1", on: CivilDay("2025-09-03")!)
    let result = Simulation.run(traffic, limits: { table.limits(pool: $0, tier: "tier-1") })
    let ct = try #require(result.outcomes.first { $0.regime == .countTokens })
    let server = try #require(result.outcomes.first { $0.regime == .server })
    // Prompts above 30,000 tokens: P never fits a 30,000-token bucket.
    let big = traffic.filter { $0.estimate > 30_000 }.count
    #expect(ct.neverFit == big && big > 0)
    #expect(server.neverFit == traffic.filter { $0.itpm > 30_000 }.count)
    #expect(server.totalWaitMs < ct.totalWaitMs)
  }
}

/// A small deterministic generator for property tests.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Cache behaviour")
struct CacheTests {
  func request(
    _ id: String, _ time: String, read: Int64 = 0, w5: Int64 = 0, w1: Int64 = 0, input: Int64 = 1,
    session: String = "s", sidechain: Bool = false
  ) -> PricedRequest {
    let rec = UsageRecord(
      key: id, messageID: id, requestID: nil, time: Instant(time), session: session, project: "p",
      model: "claude-sonnet-4-5", agent: nil, sidechain: sidechain, stopReason: true,
      usage: TokenUsage(input: input, cacheWrite5m: w5, cacheWrite1h: w1, cacheRead: read),
      options: .init(), file: "f", line: 1)
    var analyzer = Analyzer()
    analyzer.add(FilePartialBuilder.single(rec))
    return analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay)).ordered()[0]
  }

  @Test("A write after an idle gap longer than 5 minutes is a rebuild, priced over a read")
  func rebuild() throws {
    let rs = [
      request("a", "2026-01-01T00:00:00Z", w5: 1000),
      request("b", "2026-01-01T00:01:00Z", read: 1000),
      request("c", "2026-01-01T00:10:00Z", w5: 1000),  // 9 minutes idle
      request("d", "2026-01-01T00:11:00Z", read: 1000),
    ]
    let (events, sessions) = CacheAnalysis.run(rs)
    #expect(events.map(\.rebuild) == [false, false, true, false])
    #expect(events[2].rebuiltTokens == 1000)
    // 1,000 × ($3.75 − $0.30) per million = $0.00345
    #expect(events[2].rebuildExtraCost.formatted() == "0.00345")
    #expect(sessions.first?.rebuilds == 1)
    #expect(events.map(\.neverReadTokens) == [0, 0, 0, 0])
  }

  @Test("A 1-hour cache survives a 30-minute gap; the saved rewrite pays for the 2x write")
  func oneHour() throws {
    let rs = [
      request("a", "2026-01-01T00:00:00Z", w1: 10_000),
      request("b", "2026-01-01T00:30:00Z", read: 10_000),
      request("c", "2026-01-01T01:00:00Z", read: 10_000),
    ]
    let (events, sessions) = CacheAnalysis.run(rs)
    #expect(events.allSatisfy { !$0.rebuild })
    let s = try #require(sessions.first)
    // extra: 10,000 × ($6 − $3.75)/M = $0.0225; saved: 2 reads × 10,000 × ($3.75 − $0.30)/M = $0.069
    #expect(s.oneHourExtraCost.formatted() == "0.0225")
    #expect(s.oneHourSavings.formatted() == "0.069")
    #expect(s.oneHourPaidOff == true)
  }

  @Test("Writes that no request reads before they expire")
  func neverRead() {
    let rs = [
      request("a", "2026-01-01T00:00:00Z", w5: 500),
      request("b", "2026-01-01T00:07:00Z", w5: 700),  // a expired unread; b rebuilt it
      request("x", "2026-01-01T00:07:30Z", read: 700, session: "other"),
    ]
    let (events, _) = CacheAnalysis.run(rs)
    let s = events.filter { $0.session == "s" }
    #expect(s.map(\.neverReadTokens) == [500, 700], "a lane's writes are read only by the same lane")
    #expect(s[1].rebuild && s[1].rebuiltTokens == 500)
  }
}

@Suite("Replay rules: long context, reserve-then-refund, OTPM by era, measured count_tokens")
struct ReplayRulesTests {
  let t0: Int64 = 1_700_000_000_000

  func at(_ ms: Int64) -> Instant { Instant(millisecondsSinceEpoch: t0 + ms) }

  func run(_ a: [Arrival], _ l: RateLimits, _ rules: ReplayRules = ReplayRules()) -> [Regime: RegimeOutcome] {
    let r = Simulation.run(a, limits: { _ in l }, rules: rules)
    return Dictionary(uniqueKeysWithValues: r.outcomes.map { ($0.regime, $0) })
  }

  /// 1,000 ITPM, room to spare elsewhere: 1,000/60,000 tokens a millisecond.
  let small = RateLimits(requestsPerMinute: 1000, inputTokensPerMinute: 1000, outputTokensPerMinute: 100_000)

  @Test("Item 16: the 2025 tables give Sonnet 4/4.5 requests over 200K their own Tier 4 bucket")
  func longContextRouting() throws {
    let table = try testCatalog.rateLimitTable(tier: "tier-4", on: CivilDay("2025-12-01")!)
    #expect(table.id == "tiers-2025-q4")
    // Over 200,000 prompt tokens on Sonnet 4.5 at Tier 4: the long bucket.
    #expect(
      table.bucket(pool: "sonnet-4", model: "claude-sonnet-4-5", prompt: 200_001, tier: "tier-4")
        == "sonnet-4:long-context")
    #expect(
      table.bucket(pool: "sonnet-4", model: "claude-sonnet-4-0", prompt: 250_000, tier: "tier-4")
        == "sonnet-4:long-context")
    // Exactly 200,000 is not over; Tier 1 has no long-context limits in the table.
    #expect(table.bucket(pool: "sonnet-4", model: "claude-sonnet-4-5", prompt: 200_000, tier: "tier-4") == "sonnet-4")
    #expect(table.bucket(pool: "sonnet-4", model: "claude-sonnet-4-5", prompt: 250_000, tier: "tier-1") == "sonnet-4")
    // 1,000,000 ITPM / 200,000 OTPM from the table; its RPM is the ordinary row's 4,000.
    #expect(
      table.limits(pool: "sonnet-4:long-context", tier: "tier-4")
        == RateLimits(requestsPerMinute: 4000, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 200_000))
    let older = try testCatalog.rateLimitTable(tier: "tier-4", on: CivilDay("2025-09-03")!)
    #expect(
      older.bucket(pool: "sonnet-4", model: "claude-sonnet-4-0", prompt: 300_000, tier: "tier-4")
        == "sonnet-4:long-context")
    // The 2026 table has no such section.
    let now = try testCatalog.rateLimitTable(tier: "scale", on: CivilDay("2026-10-01")!)
    #expect(now.longContext.isEmpty)
    #expect(now.bucket(pool: "sonnet-4", model: "claude-sonnet-4-5", prompt: 900_000, tier: "scale") == "sonnet-4")
  }

  @Test("Item 16: long requests wait on the 1,000,000 ITPM bucket, the others do not")
  func longContextReplay() throws {
    let table = try testCatalog.rateLimitTable(tier: "tier-4", on: CivilDay("2025-12-01")!)
    // A (t = 0) and B (t = 1 s) are 600,000-token uncached Sonnet 4.5
    // prompts; C (t = 0) a 150,000-token one. Long bucket: 1,000,000
    // refilled at 1,000,000/60,000 = 50/3 a ms. A leaves 400,000; at 1 s B
    // finds 400,000 + 1,000 × 50/3 = 416,666.67, 183,333.33 short:
    // 183,333.33 / (50/3) = 11,000 ms, so B waits 11 s. C alone in the
    // 2,000,000 bucket goes at once. (Charged to the ordinary pool, as
    // before, all three fit its 2,000,000 at once: 1,350,000 in all.)
    let raw = [
      Arrival(time: at(0), pool: "sonnet-4", estimate: 600_000, itpm: 600_000, output: 0, model: "claude-sonnet-4-5"),
      Arrival(time: at(0), pool: "sonnet-4", estimate: 150_000, itpm: 150_000, output: 0, model: "claude-sonnet-4-5"),
      Arrival(
        time: at(1000), pool: "sonnet-4", estimate: 600_000, itpm: 600_000, output: 0, model: "claude-sonnet-4-5"),
    ]
    let routed = raw.map { a in
      var a = a
      a.pool = table.bucket(pool: a.pool, model: a.model, prompt: a.estimate, tier: "tier-4")
      return a
    }
    #expect(routed.map(\.pool) == ["sonnet-4:long-context", "sonnet-4", "sonnet-4:long-context"])
    let run = Simulation.run(routed, limits: { table.limits(pool: $0, tier: "tier-4") })
    let long = try #require(run.outcomes.first { $0.pool == "sonnet-4:long-context" && $0.regime == .server })
    #expect(long.waitsMs == [0, 11_000])
    let ordinary = try #require(run.outcomes.first { $0.pool == "sonnet-4" && $0.regime == .server })
    #expect(ordinary.waitsMs == [0])
  }

  @Test("Item 13: reserve P, refund to I when the response ends")
  func reserveThenRefund() throws {
    // 1,000 ITPM. A (t = 0) and B (t = 1 s): P = 800, I = 100, 5 s each.
    // Gateway: A reserves 800 (level 200). At 1 s B finds 216.67, needs
    // 800. A ends at 5 s: level 200 + 5,000/60 = 283.33, plus the refund
    // 800 − 100 = 700: 983.33 ≥ 800, so B goes at 5 s (wait 4 s).
    // count_tokens pacing has no refund: 583.33 short at 1/60 a ms is
    // 35,000 ms, B goes at 36 s. The server charges I = 100: no wait.
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 800, itpm: 100, output: 0, durationMs: 5_000),
      Arrival(time: at(1_000), pool: "p", estimate: 800, itpm: 100, output: 0, durationMs: 5_000),
    ]
    let r = run(traffic, small)
    #expect(try #require(r[.reserveRefund]).waitsMs == [0, 4_000])
    #expect(try #require(r[.countTokens]).waitsMs == [0, 35_000])
    #expect(try #require(r[.server]).waitsMs == [0, 0])
    #expect(try #require(r[.reserveRefund]).durationAssumed == 0)
  }

  @Test("Item 13: without a captured duration the default applies, and is counted")
  func reserveThenRefundDefault() throws {
    // As above with no duration: the refund comes at the 10 s default.
    // Level at 10 s: 200 + 10,000/60 = 366.67, + 700 = 1,066.67, capped at
    // 1,000 ≥ 800: B goes at 10 s, a 9 s wait.
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 800, itpm: 100, output: 0),
      Arrival(time: at(1_000), pool: "p", estimate: 800, itpm: 100, output: 0),
    ]
    #expect(ReplayRules.defaultDurationMs == 10_000)
    let g = try #require(run(traffic, small)[.reserveRefund])
    #expect(g.waitsMs == [0, 9_000])
    #expect(g.durationAssumed == 2)
    // A 2 s default instead: at 2 s the level is 200 + 2,000/60 + 700 =
    // 933.33 ≥ 800, so B goes at 2 s (wait 1 s).
    let short = try #require(run(traffic, small, ReplayRules(defaultDurationMs: 2_000))[.reserveRefund])
    #expect(short.waitsMs == [0, 1_000])
  }

  @Test("Item 13: the gateway reserves max_tokens and settles to the output")
  func gatewayOutput() throws {
    // 1,000 OTPM, ITPM to spare. A (t = 0) asks max_tokens 900, writes 100,
    // ends at 2 s; B (t = 0.5 s) the same. A reserves 900 (level 100); at
    // 0.5 s B finds 108.33; A's end at 2 s gives back 800: 100 + 2,000/60 +
    // 800 = 933.33 ≥ 900, so B goes at 2 s, a 1.5 s wait.
    let l = RateLimits(requestsPerMinute: 1000, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 1000)
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 1, itpm: 1, output: 100, maxTokens: 900, durationMs: 2_000),
      Arrival(time: at(500), pool: "p", estimate: 1, itpm: 1, output: 100, maxTokens: 900, durationMs: 2_000),
    ]
    // Under the 2026 rule the server does not reserve max_tokens: no wait.
    let r = run(traffic, l, ReplayRules(output: .realTime))
    #expect(try #require(r[.reserveRefund]).waitsMs == [0, 1_500])
    #expect(try #require(r[.server]).waitsMs == [0, 0])
    #expect(try #require(r[.reserveRefund]).outputRule == .maxTokens)
    #expect(try #require(r[.server]).outputRule == .realTime)
  }

  @Test("Item 12: the 2025 rule charges max_tokens at send and corrects at the end")
  func outputByMaxTokens() throws {
    // The trace above under the 2025 rule: the server itself now holds B
    // for 1.5 s (the same arithmetic), and so does count_tokens pacing.
    let l = RateLimits(requestsPerMinute: 1000, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 1000)
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 1, itpm: 1, output: 100, maxTokens: 900, durationMs: 2_000),
      Arrival(time: at(500), pool: "p", estimate: 1, itpm: 1, output: 100, maxTokens: 900, durationMs: 2_000),
    ]
    let r = run(traffic, l, ReplayRules(output: .maxTokens))
    #expect(try #require(r[.server]).waitsMs == [0, 1_500])
    #expect(try #require(r[.countTokens]).waitsMs == [0, 1_500])
    // Unpaced: B at 0.5 s finds 108.33 < 900: a 429.
    #expect(try #require(r[.unpaced]).rejected == 1)
    #expect(try #require(r[.server]).maxTokensAssumed == 0)
  }

  @Test("Item 12: the 2026 rule admits output larger than the bucket, then makes the next request wait")
  func outputInRealTime() throws {
    // 1,000 OTPM. A (t = 0) writes 1,600 tokens and ends at once (duration
    // 0); B comes at 1 s. 2025 rule, max_tokens unknown (taken as the
    // output): 1,600 > 1,000 can never be sent. 2026 rule: A is admitted
    // (the bucket is not in debt) and its 1,600 charged at its end: level
    // 1,000 − 1,600 = −600. At 1 s: −600 + 1,000/60 = −583.33; B waits for
    // the debt to clear, 583.33 / (1/60) = 35,000 ms.
    let l = RateLimits(requestsPerMinute: 1000, inputTokensPerMinute: 1_000_000, outputTokensPerMinute: 1000)
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 1, itpm: 1, output: 1600, durationMs: 0),
      Arrival(time: at(1_000), pool: "p", estimate: 1, itpm: 1, output: 10, durationMs: 0),
    ]
    let old = try #require(run(traffic, l, ReplayRules(output: .maxTokens))[.server])
    #expect(old.neverFit == 1 && old.waitsMs == [0])
    #expect(old.maxTokensAssumed == 2)
    let now = try #require(run(traffic, l, ReplayRules(output: .realTime))[.server])
    #expect(now.neverFit == 0 && now.waitsMs == [0, 35_000])
    #expect(now.maxTokensAssumed == 0)
  }

  @Test("Item 14: a measured count_tokens value paces instead of P")
  func measuredCountTokens() throws {
    // 1,000 ITPM. A (t = 0): P = 800 but count_tokens measured 300; B (t =
    // 1 s): P = 800, nothing measured. Paced by count_tokens: A takes 300
    // (level 700); at 1 s the level is 716.67, 83.33 short of 800:
    // 83.33 / (1/60) = 5,000 ms. Paced by P alone it would be 35 s.
    let traffic = [
      Arrival(time: at(0), pool: "p", estimate: 800, itpm: 100, output: 0, measured: 300),
      Arrival(time: at(1_000), pool: "p", estimate: 800, itpm: 100, output: 0),
    ]
    let c = try #require(run(traffic, small)[.countTokens])
    #expect(c.waitsMs == [0, 5_000])
    #expect(c.measuredUsed == 1)
    #expect(try #require(run(traffic, small)[.server]).measuredUsed == 0)
  }
}
