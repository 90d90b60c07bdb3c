import Compare
import EstimateModel
import Testing

/// Every command reads the one priced table: their totals must agree.
@Suite("One priced table, every command")
struct ConsistencyTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var dataset: String
    var accounting: Accounting
    var testDescription: String { "\(dataset) --accounting \(accounting.rawValue)" }

    /// The dataset read with two jobs and priced under the case's rule.
    func priced() async -> PricedTable {
      let found = Discovery.find([CompareTests.dataset(dataset)])
      let analyzer = await ParallelIngest.run(found.files, options: IngestOptions(catalog: testCatalog), jobs: 2)
      return analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay, accounting: accounting))
    }
  }

  static let cases: [Case] = [
    "claude-code", "api-responses", "sse-streams", "examples", "derived", "count-tokens-pairs",
  ].flatMap { d in Accounting.allCases.map { Case(dataset: d, accounting: $0) } }

  /// Sums of named columns of a CSV text (no quoted commas in these columns).
  func sums(_ csv: String, _ columns: [String]) -> [Int128] {
    let lines = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    guard let header = lines.first else { return columns.map { _ in 0 } }
    return columns.map { name in
      guard let k = header.firstIndex(where: { $0 == name }) else { return -1 }
      return lines.dropFirst().reduce(Int128(0)) { $0 + (Int128(String($1[k])) ?? 0) }
    }
  }

  @Test("The streamed per-request CSV is byte for byte the grouped one", arguments: cases)
  func requestsCSVStreamed(_ c: Case) async throws {
    let priced = await c.priced()
    for zone in [TimeZoneRule.utc, try TimeZoneRule.named("-03:30")] {
      let grouped = AnalysisRenderer.csv(priced.analysis(dimensions: [.request], timeZone: zone))
      #expect(priced.requestsCSV(timeZone: zone) == grouped, "\(zone.name)")
    }
  }

  @Test("Grouped CSV written as bytes is CSVWriter's text of each group's cells", arguments: cases)
  func groupedCSVBytes(_ c: Case) async throws {
    let priced = await c.priced()
    for dims: [Dimension] in [[.session], [.day, .model], [.total], [.minute]] {
      let r = priced.analysis(dimensions: dims, timeZone: .utc)
      var text = CSVWriter(
        header: r.keyColumns + summaryColumns + r.trailingColumns + AnalysisRenderer.finalColumns)
      for row in r.rows {
        text.row(
          row.keys + AnalysisRenderer.values(row.summary) + row.trailing + AnalysisRenderer.finalValues(row.summary))
      }
      #expect(AnalysisRenderer.csv(r) == text.text, "\(dims)")
    }
  }

  @Test("Ties in time and session sort by model, then ids, as the grouped rows do; untimed rows first")
  func requestsCSVTies() async throws {
    func line(_ time: String?, _ session: String, _ model: String, _ id: String, _ request: String?) -> String {
      let t = time.map { "\"timestamp\":\"\($0)\"," } ?? ""
      let r = request.map { ",\"requestId\":\"\($0)\"" } ?? ""
      return
        #"{"type":"assistant",\#(t)"sessionId":"\#(session)","message":{"id":"\#(id)","model":"\#(model)","#
        + #""usage":{"input_tokens":5,"cache_read_input_tokens":50,"output_tokens":1}}\#(r)}"#
    }
    let same = "2026-03-01T10:00:00.123Z"
    let text = [
      line(same, "b", "claude-sonnet-4-5", "msg_2", "req_2"),
      line(same, "b", "claude-haiku-4-5", "msg_9", nil),
      line(same, "a", "claude-sonnet-4-5", "msg_3", "req_1"),
      line(nil, "z", "claude-opus-4-1", "msg_7", nil),
      line(same, "b", "claude-sonnet-4-5", "msg_1", "req_9"),
      line("2026-03-01T09:59:59.999Z", "c", "claude-sonnet-4-5", "msg_5", nil),
      line(nil, "a", "claude-opus-4-1", "msg_8", nil),
    ].joined(separator: "\n")
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "ties.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let streamed = priced.requestsCSV()
    #expect(streamed == AnalysisRenderer.csv(priced.analysis(dimensions: [.request])))
    // The order, worked out by hand from the key columns.
    let ids = streamed.split(separator: "\r\n").dropFirst().map {
      $0.split(separator: ",", omittingEmptySubsequences: false)[3...4].joined(separator: " ")
    }
    #expect(
      ids == [
        "claude-opus-4-1 msg_8", "claude-opus-4-1 msg_7", "claude-sonnet-4-5 msg_5", "claude-sonnet-4-5 msg_3",
        "claude-haiku-4-5 msg_9", "claude-sonnet-4-5 msg_1", "claude-sonnet-4-5 msg_2",
      ])
  }

  @Test(
    "analyze totals = chart's requests.csv and minutes.csv = pairs = cache = simulate",
    arguments: cases)
  func totalsAgree(_ c: Case) async throws {
    let priced = await c.priced()
    let total = priced.analysis(dimensions: [.total]).total
    let requests = priced.ordered()
    #expect(total.requests == requests.count && total.requests == priced.ledger.requests)

    let (arrivals, untimed) = Arrival.of(requests)
    let timed = requests.filter { $0.time != nil }
    #expect(arrivals.count + untimed == total.requests)
    let timedP = timed.reduce(Int128(0)) { $0 + $1.estimate }
    let timedI = timed.reduce(Int128(0)) { $0 + $1.itpm }

    let table = try testCatalog.rateLimitTable(tier: "tier-1", on: CivilDay("2025-09-03")!)
    let sim = Simulation.run(arrivals, limits: { table.limits(pool: $0, tier: "tier-1") }, series: true)
    let set = await Charts.build(
      priced: priced, requests: requests, arrivals: arrivals,
      simulation: (sim.outcomes, sim.samples), limitsLabel: "tier-1", svg: false)
    let files = Dictionary(uniqueKeysWithValues: set.files)
    let r = sums(try #require(files["requests.csv"]), ["requests", "estimate_tokens", "itpm_tokens"])
    #expect(r == [Int128(total.requests), total.estimate, total.itpm], "requests.csv")
    let m = sums(try #require(files["minutes.csv"]), ["requests", "estimate_tokens", "itpm_tokens"])
    #expect(m == [Int128(timed.count), timedP, timedI], "minutes.csv: the timed requests")

    for regime in Regime.allCases {
      let n = sim.outcomes.filter { $0.regime == regime }.reduce(0) { $0 + $1.requests }
      // Pools without a limit in the table are counted apart, never dropped.
      #expect(n + sim.unlimited.values.reduce(0, +) == arrivals.count, "simulate \(regime.rawValue)")
    }

    let cache = CacheAnalysis.run(requests)
    #expect(cache.sessions.reduce(Int128(0)) { $0 + $1.estimate } == timedP, "cache")
    #expect(cache.sessions.reduce(0) { $0 + $1.requests } == timed.count)
    // Read row by row from the table, the cache analysis renders the same.
    let fromTable = CacheAnalysis.run(priced)
    #expect(
      CacheRenderer.events(fromTable.events, format: .csv) == CacheRenderer.events(cache.events, format: .csv))
    #expect(
      CacheRenderer.sessions(fromTable.sessions, format: .csv) == CacheRenderer.sessions(cache.sessions, format: .csv))
    // And the chart's arrivals and points are those of the requests.
    let lean = Charts.arrivalsAndPoints(priced)
    #expect(lean.untimed == untimed && lean.arrivals.count == arrivals.count)
    #expect(zip(lean.arrivals, arrivals).allSatisfy { $0.time == $1.time && $0.pool == $1.pool && $0.itpm == $1.itpm })
    #expect(lean.points.map(\.estimate) == Charts.points(requests).map(\.estimate))
    // The status line's last minute: the sorted arrivals of the latest minute.
    let lastMinute = arrivals.last.map { last in
      arrivals.filter { $0.time.millisecondsSinceEpoch / 60_000 == last.time.millisecondsSinceEpoch / 60_000 }
        .reduce(Int128(0)) { $0 + Int128($1.itpm) }
    }
    #expect(Charts.lastMinuteITPM(priced) == lastMinute, "last minute")

    let pairs = PairsRenderer.rows(requests)
    let paired = requests.filter { $0.measuredCountTokens != nil || $0.rateLimit != nil }
    #expect(pairs.count == paired.count, "pairs")
    #expect(
      pairs.reduce(Int128(0)) { $0 + Int128($1.gap.itpm) }
        == paired.reduce(Int128(0)) { $0 + $1.itpm })
    if c.accounting == .openai { #expect(total.estimate == total.itpm, "OpenAI: cached tokens count") }
  }
}

@Suite("Sorting in place")
struct InPlaceSortTests {
  @Test("The in-place sort orders like the standard library's, through quicksort, insertion sort and heapsort")
  func agreesWithSorted() {
    var rng = SplitMix(seed: 0x5EED)
    var inputs: [[Int]] = [
      [], [1], [2, 1], Array(0..<100), Array((0..<100).reversed()), [Int](repeating: 7, count: 50),
    ]
    for n in [3, 17, 18, 100, 1_000, 10_000] {
      inputs.append((0..<n).map { _ in Int(rng.next() % 50) })
      inputs.append((0..<n).map { _ in Int(truncatingIfNeeded: rng.next()) })
      // Organ pipe: a classic bad case for a median of three.
      inputs.append((0..<n).map { $0 < n / 2 ? $0 : n - $0 })
    }
    for input in inputs {
      for limit in [nil, 0, 1] as [Int?] {
        var a = input
        a.withUnsafeMutableBufferPointer { InPlaceSort.sort($0, depthLimit: limit, by: <) }
        #expect(a == input.sorted(), "\(input.count) values, depth limit \(String(describing: limit))")
      }
    }
  }

  @Test("Selecting ranks puts each where the sort puts it, through quickselect, insertion sort and heapsort")
  func selectAgreesWithSorted() {
    var rng = SplitMix(seed: 0x5E1EC7)
    var inputs: [[Int]] = [[1], [2, 1], Array(0..<100), Array((0..<100).reversed())]
    for n in [3, 17, 18, 100, 1_000, 10_000] {
      // Distinct values (a total order, as the ratio order with rows breaking ties is).
      var distinct = Array(0..<n)
      for k in stride(from: n - 1, to: 0, by: -1) { distinct.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
      inputs.append(distinct)
      inputs.append((0..<n).map { $0 < n / 2 ? 2 * $0 : 2 * (n - $0) + 1 })
    }
    for input in inputs {
      let sorted = input.sorted()
      let ranks = Summary.ranks(input.count)
      for limit in [nil, 0, 1] as [Int?] {
        var a = input
        a.withUnsafeMutableBufferPointer { InPlaceSort.select($0, ranks: ranks, depthLimit: limit, by: <) }
        #expect(
          ranks.map { a[$0] } == ranks.map { sorted[$0] }, "\(input.count) values, limit \(String(describing: limit))")
        #expect(a.sorted() == sorted, "the same values, moved")
      }
    }
  }
}

@Suite("Price classes past 16 bits")
struct WideClassTests {
  @Test("65,600 price classes (a model and a day each) price every request as its own class")
  func manyClasses() async throws {
    // Request k: day k after 2026-01-01, Sonnet 4.5 ($3/M input) when k is
    // even, Haiku 4.5 ($1/M) when odd; 1,000 input tokens each. Every
    // request is a class of its own, so class 65,535 onward takes the
    // 32-bit column and the 65,535 before it are carried over.
    let n = 65_600
    let start = try #require(CivilDay(year: 2026, month: 1, day: 1)).daysSinceEpoch
    var text = ""
    text.reserveCapacity(n * 200)
    for k in 0..<n {
      let day = CivilDay(daysSinceEpoch: start + Int64(k))
      let stamp = "\(day)T12:00:00Z"
      let model = k % 2 == 0 ? "claude-sonnet-4-5" : "claude-haiku-4-5"
      text += #"{"type":"assistant","timestamp":"\#(stamp)","sessionId":"s","requestId":"r\#(k)","#
      text += #""message":{"id":"m\#(k)","model":"\#(model)","usage":{"input_tokens":1000,"output_tokens":0}}}"# + "\n"
    }
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "days.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    #expect(priced.count == n)
    let byModel = priced.analysis(dimensions: [.model], timeZone: .utc)
    let costs = Dictionary(
      uniqueKeysWithValues: byModel.rows.map { ($0.keys[0], $0.summary.inputCostActual.formatted()) })
    // 32,800 requests × 1,000 tokens × $3/M = $98.4; × $1/M = $32.8.
    #expect(costs["claude-sonnet-4-5"] == "98.4")
    #expect(costs["claude-haiku-4-5"] == "32.8")
    #expect(byModel.total.requests == n)
  }
}

@Suite("Pricing in slices")
struct PricingSlicesTests {
  @Test("Classes found in 1, 2, 3 or 7 slices give every row the same class, the same ledger and the same groups")
  func slicesAgree() throws {
    // 4,000 responses: three models taking turns in runs, 9 days, batch
    // and fast flags, a tenth untimed (priced as of the pricing day); one in
    // 50 has a sidechain replay, one in 40 (never the same) a copy without
    // its requestId.
    let models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]
    var lines: [String] = []
    for k in 0..<4_000 {
      let time = k % 10 == 0 ? "" : #""timestamp":"2026-03-0\#(1 + (k / 300) % 9)T10:00:00.000Z","#
      let model = models[(k / 7) % 3]
      let extra = k % 17 == 0 ? #","speed":"fast""# : k % 23 == 0 ? #","service_tier":"batch""# : ""
      let message =
        #""message":{"id":"m\#(k)","model":"\#(model)","usage":{"input_tokens":\#(1 + k % 13),"#
        + #""cache_read_input_tokens":\#((k * 7919) % 5000),"output_tokens":\#(k % 11)\#(extra)}}"#
      lines.append(#"{"type":"assistant",\#(time)"sessionId":"s\#(k % 40)","requestId":"r\#(k)",\#(message)}"#)
      if k % 50 == 25 {
        lines.append(
          #"{"type":"assistant","isSidechain":true,\#(time)"sessionId":"s","requestId":"x\#(k)",\#(message)}"#)
      }
      if k % 40 == 0 { lines.append(#"{"type":"assistant",\#(time)"sessionId":"s\#(k % 40)",\#(message)}"#) }
    }
    let bytes = Array(lines.joined(separator: "\n").utf8)
    func priced(_ slices: Int) -> PricedTable {
      var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
      var analyzer = Analyzer()
      analyzer.add(ingest.ingest(bytes: bytes, name: "mixed.jsonl"))
      return analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay), slices: slices)
    }
    let one = priced(1)
    // By construction: 4,000 requests, 80 replays, 100 copies merged.
    #expect(one.count == 4_000)
    #expect(one.ledger.sidechainReplaysDropped == 80)
    // A tenth untimed: 400 requests (the replays and copies of untimed
    // responses are no requests).
    #expect(one.requestsWithoutTime == 400)
    #expect(one.table.count == 4_000 + 80 + 100)
    let numbers = (0..<one.table.count).map { one.classNumber(ofRow: $0) }
    let classes = (0..<one.table.count).map { i in one.classNumber(ofRow: i).map { _ in one.priceClass(ofRow: i) } }
    #expect(numbers.compactMap { $0 }.max() ?? 0 > 20, "many classes, met in turns")
    let json = AnalysisRenderer.render(one.analysis(dimensions: [.day, .model], timeZone: .utc), format: .json)
    for slices in [2, 3, 7] {
      let many = priced(slices)
      #expect(many.count == one.count)
      #expect(many.requestsWithoutTime == one.requestsWithoutTime)
      #expect(many.ledger == one.ledger, "\(slices) slices")
      let renumbered = numbers.indices.filter { many.classNumber(ofRow: $0) != numbers[$0] }
      #expect(renumbered.isEmpty, "\(slices) slices: \(renumbered.count) rows numbered otherwise")
      let repriced = classes.indices.filter { i in
        many.classNumber(ofRow: i).map { _ in many.priceClass(ofRow: i) } != classes[i]
      }
      #expect(repriced.isEmpty, "\(slices) slices: \(repriced.count) rows priced otherwise")
      #expect(many.modelNumbers() == one.modelNumbers())
      #expect(
        AnalysisRenderer.render(many.analysis(dimensions: [.day, .model], timeZone: .utc), format: .json) == json)
    }
  }
}

@Suite("Grouping in slices")
struct GroupingSlicesTests {
  @Test("Summing the table in 1, 2, 3 or 7 slices gives the same groups, sums, percentiles and order")
  func slicesAgree() async throws {
    // 3,000 requests over 40 sessions, 3 models, 5 days; some share a
    // session and a minute; a tenth have no time; cache reads vary the ratio.
    let models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]
    var text = ""
    for k in 0..<3_000 {
      let time = k % 10 == 0 ? "" : #""timestamp":"2026-03-0\#(1 + k % 5)T1\#(k % 7):0\#(k % 3):00.000Z","#
      text += #"{"type":"assistant",\#(time)"sessionId":"s\#(k % 40)","requestId":"r\#(k)","#
      text += #""message":{"id":"m\#(k)","model":"\#(models[k % 3])","usage":{"input_tokens":\#(1 + k % 13),"#
      text += #""cache_read_input_tokens":\#((k * 7919) % 5000),"output_tokens":\#(k % 11)}}}"# + "\n"
    }
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "many.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    #expect(priced.count == 3_000)
    for dims: [Dimension] in [[.session], [.day, .model], [.minute], [.model], [.total], [.request]] {
      let one = AnalysisRenderer.render(priced.analysis(dimensions: dims, timeZone: .utc, slices: 1), format: .json)
      for slices in [2, 3, 7] {
        let many = AnalysisRenderer.render(
          priced.analysis(dimensions: dims, timeZone: .utc, slices: slices), format: .json)
        #expect(many == one, "\(dims) in \(slices) slices")
      }
      // The path past four million requests (row numbers sorted in place,
      // written by each slice into its own stretch) gives the same output.
      for slices in [1, 2, 7] {
        let rowsOnly = AnalysisRenderer.render(
          priced.analysis(dimensions: dims, timeZone: .utc, slices: slices, quadLimit: 0), format: .json)
        #expect(rowsOnly == one, "\(dims) in \(slices) slices, row numbers sorted")
      }
    }
  }

  @Test("Past 16,384 ratios each group's are sorted side by side; the percentiles are the global sort's")
  func manyRatiosAgree() async throws {
    // 20,000 requests over 300 sessions (one of them a tenth of all), ratios
    // from cache reads that repeat, so equal ratios tie across groups.
    var text = ""
    for k in 0..<20_000 {
      let session = k % 10 == 0 ? 0 : 1 + k % 299
      text += #"{"type":"assistant","timestamp":"2026-03-02T10:00:00.000Z","sessionId":"s\#(session)","#
      text += #""requestId":"r\#(k)","message":{"id":"m\#(k)","model":"claude-sonnet-4-5","usage":"#
      text += #"{"input_tokens":\#(1 + k % 17),"cache_read_input_tokens":\#((k * 7919) % 3001),"output_tokens":1}}}"#
      text += "\n"
    }
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    var analyzer = Analyzer()
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: "ratios.jsonl"))
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    #expect(priced.count == 20_000)
    for dims: [Dimension] in [[.session], [.total]] {
      let quads = priced.analysis(dimensions: dims, timeZone: .utc, slices: 2)
      let rows = priced.analysis(dimensions: dims, timeZone: .utc, slices: 2, quadLimit: 0)
      #expect(AnalysisRenderer.render(quads, format: .json) == AnalysisRenderer.render(rows, format: .json), "\(dims)")
    }
    // The run's median by hand: sort every request's P/I.
    let ratios = (0..<20_000).map { k -> (Int, Int) in
      let read = (k * 7919) % 3001
      return (1 + k % 17 + read, 1 + k % 17)
    }.sorted { $0.0 * $1.1 < $1.0 * $0.1 }
    // Nearest rank: the smallest with at least half at or below it, the 10,000th.
    let median = ratios[9_999]
    let total = priced.analysis(dimensions: [.total], timeZone: .utc).total
    #expect(total.percentiles?.p50 == Ratio(Int128(median.0), Int128(median.1)))
  }
}

@Suite("CSV integers as bytes")
struct CSVIntegerTests {
  @Test("An integer cell's bytes are String(v)'s, from zero to past 64 bits")
  func digits() {
    var values: [Int128] = [0, 1, -1, 9, 10, -10, 99, 100, 12_345, -987_654_321]
    values += [Int128(Int64.max), Int128(Int64.min), Int128(Int64.max) + 1, Int128(Int64.min) - 1, .max, .min]
    var rng = SplitMix(seed: 7)
    for _ in 0..<2_000 {
      let v = Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)
      values.append(Int128(v))
    }
    for v in values {
      var bytes: [UInt8] = []
      CSVWriter.appendInteger(v, to: &bytes)
      #expect(String(decoding: bytes, as: UTF8.self) == String(v))
    }
  }
}
