import Compare
import EstimateModel
import Testing

@Suite("Charts")
struct ChartTests {
  func set(svg: Bool = true) async throws -> ChartSet {
    let paths = [
      dataset("claude-code/claude-code-viewer/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl")
    ]
    let found = Discovery.find(paths)
    let analyzer = await ParallelIngest.run(found.files, options: IngestOptions(catalog: testCatalog), jobs: 1)
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let rs = priced.ordered()
    var arrivals: [Arrival] = []
    for r in rs {
      let m = testCatalog.resolve(r.loggedModel)
      let g = try Gap(usage: r.usage, model: m, day: r.time!.day, catalog: testCatalog)
      arrivals.append(Arrival(time: r.time!, pool: m.entry!.pool, estimate: g.estimate, itpm: g.itpm, output: g.otpm))
    }
    let table = try testCatalog.rateLimitTable(tier: "tier-1", on: CivilDay("2025-09-03")!)
    let sim = Simulation.run(arrivals, limits: { table.limits(pool: $0, tier: "tier-1") }, series: true)
    return await Charts.build(
      priced: priced, requests: rs, arrivals: arrivals,
      simulation: (sim.outcomes, sim.samples), limitsLabel: "tier-1 of table tiers-2025-08", svg: svg)
  }

  @Test("The chart files and their documented headers")
  func headers() async throws {
    let files = Dictionary(uniqueKeysWithValues: try await set().files)
    #expect(
      files["ratio_histogram.csv"]?.hasPrefix("bin_low,bin_high,requests,estimate_tokens,itpm_tokens\r\n") == true)
    #expect(
      files["cumulative.csv"]?.hasPrefix(
        "time,estimate_tokens,itpm_tokens,input_cost_estimate_usd,input_cost_actual_usd\r\n") == true)
    #expect(
      files["minutes.csv"]?.hasPrefix("minute,pool,requests,estimate_tokens,itpm_tokens,output_tokens\r\n") == true)
    #expect(files["bucket.csv"]?.hasPrefix("time,pool,regime,dimension,level,capacity\r\n") == true)
    #expect(files["requests.csv"]?.hasPrefix("time,session,project,model,message_id,request_id,requests,") == true)
    #expect(files["sessions.csv"]?.hasPrefix("session,project,requests,") == true)
    for name in ["estimate_vs_itpm.svg", "ratio_histogram.svg", "cumulative_cost.svg", "bucket_levels.svg"] {
      let svg = try #require(files[name])
      #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
      #expect(!svg.contains("<script") && !svg.contains("@import") && !svg.contains("href="), "standalone")
      #expect(svg.contains("<title>") && svg.contains("<desc>"), "\(name) names itself for screen readers")
      // Every data mark says its values when pointed at.
      #expect(svg.ranges(of: "<circle").count == svg.ranges(of: "</title></circle>").count, "\(name)")
      // Tick labels are plain numbers and times, never exponents.
      #expect(!svg.contains("e-0") && !svg.contains("e+"), "\(name)")
    }
  }

  @Test("Histogram bins: exactly 1, then log-spaced; every request with a ratio counts")
  func histogram() async throws {
    let files = Dictionary(uniqueKeysWithValues: try await set().files)
    let rows = try #require(files["ratio_histogram.csv"]).split(separator: "\r\n").dropFirst()
    let counts = rows.compactMap { Int($0.split(separator: ",")[2]) }
    #expect(counts.reduce(0, +) == 7, "the session's 7 requests all have I > 0")
    #expect(rows.first == "1,1,0,0,0", "no request of this session is uncached")
    #expect(rows.dropFirst().first?.hasPrefix("1,1.778279,") == true)
    // Requests' estimate sums to the session's P (116,010, SOURCES.md).
    #expect(rows.compactMap { Int($0.split(separator: ",")[3]) }.reduce(0, +) == 116_010)
    // The aggregate is marked: P / I = 116,010 / 12,791 = 9.0697… (SOURCES.md).
    let svg = try #require(files["ratio_histogram.svg"])
    #expect(svg.contains(">aggregate ΣP/ΣI 9.07x</text>"))
    #expect(svg.contains(">10x (excess 90 %)</text>"))
  }

  @Test("An uncached request falls in the exact-1 bin; the aggregate weighs requests by tokens")
  func exactOneBin() async throws {
    // Request a: 100 input, nothing cached: P = I = 100, ratio exactly 1.
    // Request b: 10 input, 490 read: P = 500, I = 10, ratio 50, in [31.62278, 56.23413).
    // Aggregate: 600 / 110 = 5.4545…, far below b's 50 and above a's 1.
    var analyzer = Analyzer()
    for (id, input, read) in [("a", Int64(100), Int64(0)), ("b", 10, 490)] {
      analyzer.add(
        FilePartialBuilder.single(
          UsageRecord(
            key: id, messageID: id, requestID: nil, time: Instant("2026-01-02T03:04:05Z"), session: "s",
            project: "p", model: "claude-sonnet-4-5", agent: nil, sidechain: false, stopReason: true,
            usage: TokenUsage(input: input, cacheRead: read), options: .init(), file: "f", line: 1)))
    }
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let set = await Charts.build(
      priced: priced, requests: priced.ordered(), arrivals: [], simulation: nil, limitsLabel: nil, svg: true)
    let files = Dictionary(uniqueKeysWithValues: set.files)
    let rows = try #require(files["ratio_histogram.csv"]).split(separator: "\r\n").dropFirst().map(String.init)
    #expect(rows.first == "1,1,1,100,100")
    #expect(rows.contains("31.62278,56.23413,1,500,10"))
    #expect(rows.compactMap { Int($0.split(separator: ",")[2]) }.reduce(0, +) == 2)
    #expect(try #require(files["ratio_histogram.svg"]).contains(">aggregate ΣP/ΣI 5.45x</text>"))
  }

  @Test("Cumulative sums end at the totals")
  func cumulative() async throws {
    let files = Dictionary(uniqueKeysWithValues: try await set(svg: false).files)
    let last = try #require(files["cumulative.csv"]?.split(separator: "\r\n").last)
    // P = 116,010, I = 12,791; Ce = $0.34803, Ca = $0.0788622 (worked in ReferenceSumsTests).
    #expect(last.hasSuffix(",116010,12791,0.34803,0.0788622"))
  }

  @Test("The last minute with traffic: its requests' ITPM charges, whatever the file order; none without a time")
  func lastMinute() {
    func line(_ id: String, _ time: String?, input: Int, write: Int, read: Int) -> String {
      let stamp = time.map { #""timestamp":"2026-10-20T12:\#($0).000Z","# } ?? ""
      return #"{"type":"assistant",\#(stamp)"sessionId":"s","message":{"id":"\#(id)","model":"claude-sonnet-4-5","#
        + #""usage":{"input_tokens":\#(input),"cache_creation_input_tokens":\#(write),"#
        + #""cache_read_input_tokens":\#(read),"output_tokens":5}}}"#
    }
    // Sonnet 4.5: I = input + cache writes (reads do not count). The last
    // minute, 12:03, holds m1 (100 + 50) and m4 (7 + 0), written apart and
    // out of order; m2 (12:01), m5 (12:02:59) and the
    // untimed m3 are left out: 157.
    let text =
      [
        line("m1", "03:59", input: 100, write: 50, read: 9_000),
        line("m2", "01:00", input: 1_000, write: 0, read: 0),
        line("m3", nil, input: 5_000, write: 0, read: 0),
        line("m4", "03:00", input: 7, write: 0, read: 40),
        line("m5", "02:59", input: 300, write: 0, read: 0),
      ].joined(separator: "\n") + "\n"
    #expect(Charts.lastMinuteITPM(pricedTable([("s.jsonl", text)])) == 157)
    #expect(
      Charts.lastMinuteITPM(pricedTable([("u.jsonl", line("m3", nil, input: 5, write: 0, read: 0) + "\n")])) == nil)
  }

  @Test(
    "SVG output matches the reviewed snapshots",
    arguments: ["estimate_vs_itpm.svg", "ratio_histogram.svg", "cumulative_cost.svg", "bucket_levels.svg"])
  func snapshot(_ name: String) async throws {
    let files = Dictionary(uniqueKeysWithValues: try await set().files)
    let svg = try #require(files[name])
    let path = repositoryRoot + "/Tests/CompareTests/Snapshots/" + name
    if POSIXFiles.environment("RECORD_SNAPSHOTS") == "1" {
      try POSIXFiles.writeAtomically(Array(svg.utf8), to: path)
      Issue.record("recorded \(name); review it in a browser, then run again without RECORD_SNAPSHOTS")
      return
    }
    let want = String(decoding: try POSIXFiles.read(path), as: UTF8.self)
    #expect(svg == want)
  }
}

@Suite("Deterministic charts")
struct ChartTieTests {
  @Test("Pools with as many samples are chosen by name, not by hash order")
  func tiesByName() async throws {
    let t = try #require(Instant("2026-01-01T00:00:00Z"))
    let arrivals = ["b-pool", "a-pool", "c-pool"].flatMap { pool in
      (0..<3).map { k in
        Arrival(
          time: Instant(millisecondsSinceEpoch: t.millisecondsSinceEpoch + Int64(k) * 1000), pool: pool,
          estimate: 100, itpm: 10, output: 1)
      }
    }
    let limits = RateLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000)
    let sim = Simulation.run(arrivals, limits: { _ in limits }, series: true)
    let priced = Analyzer().priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    for _ in 0..<5 {
      let set = await Charts.build(
        priced: priced, requests: [], arrivals: arrivals, simulation: (sim.outcomes, sim.samples),
        limitsLabel: "explicit", svg: true)
      let svg = try #require(Dictionary(uniqueKeysWithValues: set.files)["bucket_levels.svg"])
      #expect(svg.contains("ITPM bucket level, pool a-pool"))
    }
  }
}

@Suite("Charts that do not mislead")
struct ChartHonestyTests {
  @Test("Estimate vs ITPM: one panel per pool, each against its own limit, no label on the data")
  func onePanelPerPool() throws {
    let t = try #require(Instant("2026-01-01T00:00:00Z"))
    // Two pools, each one request a minute for three minutes.
    let arrivals = ["b-pool", "a-pool"].flatMap { pool in
      (0..<3).map { k in
        Arrival(
          time: Instant(millisecondsSinceEpoch: t.millisecondsSinceEpoch + Int64(k) * 60_000), pool: pool,
          estimate: pool == "a-pool" ? 90_000 : 4_000, itpm: 1_000, output: 1)
      }
    }
    let limits: @Sendable (String) -> RateLimits? = { pool in
      RateLimits(
        requestsPerMinute: 50, inputTokensPerMinute: pool == "a-pool" ? 30_000 : 50_000,
        outputTokensPerMinute: 8_000)
    }
    let sim = Simulation.run(arrivals, limits: limits, series: false)
    let svg = Charts.estimateVersusITPM(MinuteSeries.build(arrivals), sim.outcomes, "tier-1 of table x")
    // The busier pool (by estimate) first, each with its own limit.
    let a = try #require(svg.firstRange(of: "pool a-pool"))
    let b = try #require(svg.firstRange(of: "pool b-pool"))
    #expect(a.lowerBound < b.lowerBound)
    #expect(svg.contains("this pool's ITPM limit, 30K tokens/minute (tier-1)"))
    #expect(svg.contains("this pool's ITPM limit, 50K tokens/minute (tier-1)"))
    #expect(svg.ranges(of: "stroke-dasharray=\"6 4\"").count == 2, "one limit line per panel")
    // No label is written inside a plot next to its line.
    #expect(!svg.contains("text-anchor=\"end\" fill=\"#2CA02C\""))
    // Three minutes per pool, never a sum over pools.
    #expect(svg.ranges(of: "<circle").count == 2 * 2 * 3)
  }

  @Test("Bucket level: refilled at capacity per minute between sends, capped at capacity")
  func bucketRefill() throws {
    let t = try #require(Instant("2026-01-01T00:00:00Z"))
    func sample(_ seconds: Int64, _ level: Int64) throws -> BucketSample {
      BucketSample(
        time: Instant(millisecondsSinceEpoch: t.millisecondsSinceEpoch + seconds * 1000), pool: "p",
        regime: .server, dimension: "itpm", level: try #require(Ratio(Int128(level), 1)), capacity: 60)
    }
    // Capacity 60 a minute: one token a second. Empty at 0 s; half full at
    // 30 s, when a send takes 20; full again at 80 s; a send at 200 s takes 50.
    let points = Charts.refilled([try sample(0, 0), try sample(30, 10), try sample(200, 10)])
    let t0 = Double(t.millisecondsSinceEpoch) / 1000
    let shifted = points.map { ($0.x - t0, $0.y) }
    #expect(shifted.map(\.0) == [0, 30, 30, 80, 200, 200])
    #expect(shifted.map(\.1) == [0, 30, 10, 60, 60, 10])
  }
}

@Suite("Charts at scale")
struct ChartScaleTests {
  @Test("Past 600 minutes a panel draws the busiest minute of each span, the narrowest that fits")
  func busiestMinutes() throws {
    let t = try #require(Instant("2026-01-01T00:00:00Z"))
    // 700 consecutive minutes: 5-minute spans give 140 marks (1-minute ones would be 700).
    let rows = (0..<700).map { k in
      var r = MinuteRow(
        minute: Instant(millisecondsSinceEpoch: t.millisecondsSinceEpoch + Int64(k) * 60_000), pool: "p")
      r.estimate = Int128(k % 5 == 3 ? 1_000 : 10)
      r.itpm = Int128(k)
      return r
    }
    let (bucket, marks) = Charts.busiest(rows)
    #expect(bucket == "5-minute span")
    #expect(marks.count == 140)
    // Each span's largest P is its fourth minute's; its largest I its last minute's.
    #expect(marks.allSatisfy { $0.p == 1_000 })
    #expect(marks.first?.i == 4 && marks.last?.i == 699)
    // A span's mark sits in its middle: 00:02:30 for the first.
    #expect(marks.first?.x == Double(t.millisecondsSinceEpoch) / 1000 + 150)
    let few = Charts.busiest(Array(rows.prefix(600)))
    #expect(few.bucket == nil && few.marks.count == 600)
  }
}

@Suite("Lines with more points than pixels")
struct ChartThinningTests {
  @Test("A line of 100,000 points is drawn from a few per pixel column, its ends and extremes kept")
  func thinned() {
    // A sawtooth: 0 to 999 and back, a hundred times over.
    let points = (0..<100_000).map { k in (x: Double(k), y: Double(k % 1_000)) }
    var line = SVGChart(title: "t", xLabel: "x", yLabel: "y")
    line.series = [.init(name: "s", color: "#000", points: points, style: .line)]
    let svg = line.render()
    let path = svg.split(separator: "<path d=\"").dropFirst().first.map { $0.prefix { $0 != "\"" } } ?? ""
    let vertices = path.split(separator: " ").count
    // 698 px of plot: at most four vertices per half pixel.
    #expect(vertices <= 4 * 2 * 698 && vertices > 1_000, "\(vertices)")
    // Every tooth still reaches the top (999) and the bottom (0) of the plot.
    let ys = path.split(separator: " ").compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
    #expect(ys.filter { $0 == ys.min() }.count >= 100 && ys.filter { $0 == ys.max() }.count >= 100)
    var step = line
    step.series[0].style = .step
    let short = step.render()
    #expect(short.utf8.count < svg.utf8.count)
  }
}

@Suite("Charts with nothing to show")
struct EmptyChartTests {
  @Test("Requests without a time: the time charts say so instead of drawing empty axes at the epoch")
  func untimed() async throws {
    let text = (0..<3).map { k in
      #"{"message":{"id":"m\#(k)","model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":1}}}"#
    }.joined(separator: "\n")
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "untimed.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let set = await Charts.build(
      priced: priced, requests: priced.ordered(), arrivals: [], simulation: nil, limitsLabel: nil, svg: true)
    let files = Dictionary(uniqueKeysWithValues: set.files)
    for name in ["estimate_vs_itpm.svg", "cumulative_cost.svg"] {
      let svg = try #require(files[name])
      #expect(svg.contains("Nothing to draw") || svg.contains("No request has a time"), "\(name)")
      #expect(!svg.contains("1970-01-01") && !svg.contains(">00:00:00<") && !svg.contains("<circle"), "\(name)")
    }
    // A ratio needs no time: the three uncached requests (P = I = 5) are
    // the histogram's exact-1 bar, and the aggregate is 15 / 15 = 1.
    #expect(files["ratio_histogram.csv"]?.split(separator: "\r\n").dropFirst().first == "1,1,3,15,15")
    // The bins reach past 10 even when every ratio is 1, so the 10x mark is at 10.
    #expect(files["ratio_histogram.csv"]?.contains("\r\n10,17.78279,0,0,0\r\n") == true)
    let histogram = try #require(files["ratio_histogram.svg"])
    #expect(!histogram.contains("Nothing to draw") && histogram.contains(">aggregate ΣP/ΣI 1x</text>"))
  }
}

@Suite("Chart amounts")
struct ChartAmountTests {
  @Test("An amount past 64 bits converts to the Double the generic conversion gives, ties and signs included")
  func wideConversion() {
    var values: [Int128] = [0, 1, -1, .max, .min, .max - 1, .min + 1]
    for bits in 60..<127 {
      let p = Int128(1) << bits
      // Around each power of two, and the halfway points the rounding
      // must break to even: 2^bits plus half a unit in the last place.
      for d: Int128 in [-1, 0, 1] { values += [p + d, -(p + d)] }
      if bits > 53 {
        let half = Int128(1) << (bits - 53)
        for k: Int128 in [1, 2, 3] {
          values += [p + half * k, p + half * k + 1, p + half * k - 1, -(p + half * k)]
        }
      }
    }
    var g = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let v = Int128(truncatingIfNeeded: UInt128(g.next()) << 64 | UInt128(g.next()))
      values += [v, v >> Int(g.next() % 64)]
    }
    let wrong = values.filter { Charts.double($0).bitPattern != Double($0).bitPattern }
    #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    #expect(Charts.dollars(USD(attodollars: 12_345_678_901_234_567_890_123)) == 12_345.678_901_234_567_890_123)
  }
}
