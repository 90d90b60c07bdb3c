import Dispatch
public import EstimateModel
import Synchronization

/// What prices a run's requests: the catalog, the day for requests without
/// a time, and the rate-limit rule when one is imposed.
public struct PricingContext: Sendable {
  public var catalog: ModelCatalog
  /// Prices requests that carry no time as of this day.
  public var pricingDay: CivilDay
  /// Whose rule decides what counts toward ITPM for every request
  /// (`--accounting`); nil lets each request's source decide (see
  /// ``rule(source:loggedModel:)``).
  public var accounting: Accounting?

  public init(catalog: ModelCatalog, pricingDay: CivilDay, accounting: Accounting? = nil) {
    self.catalog = catalog
    self.pricingDay = pricingDay
    self.accounting = accounting
  }

  /// The rule that decides a request's I: the imposed one, else its
  /// source's.
  ///
  /// | source | rule |
  /// |---|---|
  /// | Messages API responses and streams, Claude Code, Admin reports, telemetry, Vertex AI | Anthropic's |
  /// | a Bedrock shape (`usage.inputTokens`), a Bedrock Runtime URL, or a Bedrock model id (`anthropic.…`, `us.anthropic.…`, an ARN) logged by any of the above | Bedrock's |
  /// | an OpenAI shape (`prompt_tokens`, `input_tokens_details`) | OpenAI's |
  /// | tokengap's own rows | the row's `accounting` |
  ///
  /// - Parameter pinned: The source's rule was recorded as such (a row read
  ///   back), so a Bedrock id does not change it.
  public func rule(source: Accounting, pinned: Bool = false, loggedModel: String) -> Accounting {
    if let accounting { return accounting }
    if source == .anthropic, !pinned, ModelCatalog.isBedrock(loggedModel) { return .bedrock }
    return source
  }
}

extension PricingContext {
  /// The price class of a row of `table` whose model resolved to `model`:
  /// the one ``PricedTable`` assigns it (and, row by row, `tokengap watch`).
  package func priceClass(of row: RequestTable.Row, in table: RequestTable, model: ResolvedModel) -> PriceClass {
    let f = row.flags
    let day = f.contains(.timed) ? Instant(millisecondsSinceEpoch: row.time).day : pricingDay
    let options = RequestOptions(
      batch: f.contains(.batch), usGeo: f.contains(.usGeo), fast: f.contains(.fast),
      longContext: f.contains(.longContextKnown) ? f.contains(.longContext) : nil,
      regional: row.traits.regional || ModelCatalog.isRegional(table.strings[row.model]))
    return PriceClass(
      model: model, day: day, options: options, catalog: catalog,
      accounting: rule(source: row.traits.rule, pinned: row.traits.pinned, loggedModel: table.strings[row.model]),
      aggregate: f.contains(.aggregate))
  }
}

/// The de-duplicated requests of a run, each assigned its price class once.
///
/// This is the one table every analysis reads, and ``gap(_:)`` is the one
/// place a request's gap is computed. A request that cannot be priced (an
/// unknown model, no published price, a prompt beyond 64 bits) stays in the
/// table, flagged; it is never dropped.
public struct PricedTable: Sendable {
  package let table: RequestTable
  public let context: PricingContext
  /// The whole run's ledger, requests and pricing counts included.
  public let ledger: Ledger
  private let classes: [PriceClass]
  /// Per class: its numbers, read for each request without the class's text.
  private let facts: [PriceFacts]
  /// Per class: cache reads count toward ITPM.
  private let countsReads: [Bool]
  /// Per row: its class, or `replayClass` for a dropped replay.
  private let rowClass: ClassColumn
  private static let replayClass = ClassColumn.none
  /// The number of requests (replays left out).
  public let count: Int
  /// The requests without a time: priced as of the context's pricing day.
  public let requestsWithoutTime: Int
  /// The rules that decided the requests' I, each with its request count,
  /// in the order of ``Accounting/allCases``.
  public let rules: [(rule: Accounting, requests: Int)]

  /// The requests were judged by more than one rule: grouped outputs split
  /// their groups by rule.
  public var mixesRules: Bool { rules.count > 1 }

  /// The rule of the run: the imposed one, else the one rule of every
  /// request, else `mixed`; `anthropic` when there is no request.
  public var ruleName: String {
    if let imposed = context.accounting { return imposed.rawValue }
    if rules.count > 1 { return "mixed" }
    return (rules.first?.rule ?? .anthropic).rawValue
  }

  /// Prices `table` (whose replays are already marked) under `context`.
  package init(table: RequestTable, ledger ingestLedger: Ledger, context: PricingContext) {
    self.init(
      table: table, ledger: ingestLedger, context: context, slices: table.count >= 16_384 ? ParallelIngest.threads : 1)
  }

  /// ``init(table:ledger:context:)`` with the rows' classes found in
  /// `slices` side by side; the table does not depend on `slices`.
  package init(table: RequestTable, ledger ingestLedger: Ledger, context: PricingContext, slices wanted: Int) {
    var ledger = ingestLedger
    var classes: [PriceClass] = []
    var classIDs: [ClassKey: UInt32] = [:]
    var resolved = [ResolvedModel?](repeating: nil, count: table.strings.count)
    /// The run's number of the class `key`, first met in `row`.
    func classID(_ key: ClassKey, firstRow row: Int) -> UInt32 {
      if let id = classIDs[key] { return id }
      let r = table.rows[row]
      let model: ResolvedModel
      if let m = resolved[Int(r.model)] {
        model = m
      } else {
        model = context.catalog.resolve(table.strings[r.model])
        resolved[Int(r.model)] = model
      }
      let id = UInt32(classes.count)
      classes.append(context.priceClass(of: r, in: table, model: model))
      classIDs[key] = id
      return id
    }
    // Each slice numbers the classes it meets, in order, in its own rows;
    // the run's numbers are then given slice by slice (the order one pass
    // meets them in) and the later slices' rows renumbered.
    var rowClass = ClassColumn(count: table.count)
    let slices = max(1, min(wanted, table.count))
    let size = (table.count + slices - 1) / slices
    let found = Mutex([ClassScan?](repeating: nil, count: slices))
    rowClass.withNarrow { column in
      let out = UnsafeSendable(column)
      DispatchQueue.concurrentPerform(iterations: slices) { k in
        let rows = (k * size)..<min(table.count, (k + 1) * size)
        let scan = ClassScan(table, rows: rows, pricingDay: context.pricingDay) { i, id in
          out.value[i] = UInt16(truncatingIfNeeded: id)
        }
        found.withLock { $0[k] = scan }
      }
    }
    var scans = found.withLock { $0 }.compactMap { $0 }
    let maps = scans.map { scan in scan.keys.indices.map { classID(scan.keys[$0], firstRow: scan.firstRows[$0]) } }
    if classes.count < Int(UInt16.max) {
      rowClass.withNarrow { column in
        let out = UnsafeSendable(column)
        DispatchQueue.concurrentPerform(iterations: slices) { k in
          let map = maps[k]
          // The first slice's numbers (any slice's that met no class
          // before it) are the run's already.
          guard map.indices.contains(where: { map[$0] != UInt32($0) }) else { return }
          for i in (k * size)..<min(table.count, (k + 1) * size) where out.value[i] != .max {
            out.value[i] = UInt16(truncatingIfNeeded: map[Int(out.value[i])])
          }
        }
      }
    } else {
      // More classes than 2 bytes number (a slice's numbers were cut to
      // 16 bits): one pass again, its numbers the run's, 4 bytes a row.
      classes = []
      classIDs = [:]
      rowClass = ClassColumn(count: table.count)
      let whole = ClassScan(table, rows: 0..<table.count, pricingDay: context.pricingDay) { i, id in
        rowClass.set(i, id)
      }
      // Numbered in the order met: the scan's own numbers.
      for k in whole.keys.indices { _ = classID(whole.keys[k], firstRow: whole.firstRows[k]) }
      scans = [whole]
    }
    let requests = scans.reduce(0) { $0 + $1.requests }
    let absorbed = scans.reduce(0) { $0 + $1.absorbed }
    let untimed = scans.reduce(0) { $0 + $1.untimed }
    ledger.sidechainReplaysDropped += scans.reduce(0) { $0 + $1.replays }
    self.table = table
    self.context = context
    self.classes = classes
    self.countsReads = classes.map(\.countsCacheReads)
    self.facts = classes.map(\.facts)
    self.rowClass = rowClass
    self.count = requests
    self.requestsWithoutTime = untimed
    // Requests per rule, in the order of Accounting.allCases.
    var perRule = [Int](repeating: 0, count: Accounting.allCases.count)
    // The ledger's request counts, from the same table every analysis reads.
    ledger.duplicatesCollapsed = ledger.usageRecords - (table.count - absorbed)
    // What the ledger needs of each class, looked up once per class (a
    // class is copied, strings and all, when read out of the array).
    let ruleIndex = classes.map { Accounting.allCases.firstIndex(of: $0.accounting) ?? 0 }
    let tierAssumed = classes.map(\.tierAssumed)
    let bigBurndown = classes.map { $0.outputBurndown > Int64(Int32.max) }
    let unpricedReasons = classes.map { c in
      c.unpriced.map { $0 == .unknownModel ? c.model : "\(c.model) (\($0.rawValue))" }
    }
    for i in 0..<table.count {
      let k = rowClass[i]
      guard k != Self.replayClass else { continue }
      let c = Int(k)
      let row = table.rows[i]
      let usage = table.counts(of: i).usage
      ledger.requests += 1
      perRule[ruleIndex[c]] += 1
      if !row.flags.contains(.stopReason) { ledger.unfinishedStreaming += 1 }
      if usage.cacheWriteUnknownTTL > 0 { ledger.unknownTTLRequests += 1 }
      if row.traits.serverTools { ledger.serverToolRequests += 1 }
      if tierAssumed[c] { ledger.tierAssumedRecords += 1 }
      var reason = unpricedReasons[c]
      // Only a count past 32 bits (a wide row) or an outsized OTPM burndown
      // can overflow; any other row is priced without building its gap.
      if row.flags.contains(.wide) || bigBurndown[c] {
        do {
          _ = try Gap(usage: usage, priceClass: classes[c])
        } catch {
          reason = "\(classes[c].model) (overflow)"
          ledger.problem(.promptOverflow, table.strings[row.file], table.line(of: i), "\(error)")
        }
      }
      if let reason {
        ledger.unpricedRequests += 1
        ledger.unpricedModels[reason, default: 0] += 1
      }
    }
    self.ledger = ledger
    self.rules = zip(Accounting.allCases, perRule).filter { $0.1 > 0 }.map { ($0.0, $0.1) }
  }

  /// Each row's class: 2 bytes a row while a run has fewer than 65,535
  /// classes (a class is a model, a day and the options that change its
  /// price: a few hundred for a year of use), 4 bytes past that.
  private struct ClassColumn: Sendable {
    static let none = UInt32.max
    private var narrow: [UInt16]
    private var wide: [UInt32]? = nil

    init(count: Int) { narrow = [UInt16](repeating: .max, count: count) }

    /// The 2-byte column, for writers of disjoint rows side by side (not
    /// called once the column is wide).
    mutating func withNarrow(_ body: (UnsafeMutableBufferPointer<UInt16>) -> Void) {
      guard wide == nil else { return }
      narrow.withUnsafeMutableBufferPointer { body($0) }
    }

    @inline(__always) subscript(i: Int) -> UInt32 {
      if let wide { return wide[i] }
      let v = narrow[i]
      return v == .max ? Self.none : UInt32(v)
    }

    mutating func set(_ i: Int, _ id: UInt32) {
      if wide == nil, id >= UInt32(UInt16.max) {
        wide = narrow.map { $0 == .max ? Self.none : UInt32($0) }
        narrow = []
      }
      if wide != nil { wide?[i] = id } else { narrow[i] = UInt16(truncatingIfNeeded: id) }
    }
  }

  private struct ClassKey: Hashable {
    var model: UInt32
    var day: Int64
    var options: UInt16
    var traits: UInt8
  }

  /// The classes a stretch of rows meets, numbered in the order met, each
  /// row's number handed to `set`; merged copies and replays counted, not
  /// numbered.
  private struct ClassScan: Sendable {
    var keys: [ClassKey] = []
    /// Per class: the row it was first met in.
    var firstRows: [Int] = []
    var requests = 0
    /// Requests without a time (priced as of the pricing day).
    var untimed = 0
    /// Rows merged into the request that carries their requestId.
    var absorbed = 0
    var replays = 0

    init(_ table: RequestTable, rows: Range<Int>, pricingDay: CivilDay, set: (Int, UInt32) -> Void) {
      var ids: [ClassKey: UInt32] = [:]
      var last: (ClassKey, UInt32)?
      var before: (ClassKey, UInt32)?
      for i in rows {
        let row = table.rows[i]
        if row.copies == 0 {
          absorbed += 1
          continue
        }
        if row.flags.contains(.replay) {
          replays += 1
          continue
        }
        requests += 1
        let timed = row.flags.contains(.timed)
        if !timed { untimed += 1 }
        let day = timed ? Instant(millisecondsSinceEpoch: row.time).day : pricingDay
        let key = ClassKey(
          model: row.model, day: day.daysSinceEpoch,
          options: row.flags.intersection([.batch, .usGeo, .fast, .longContextKnown, .longContext, .aggregate])
            .rawValue,
          traits: row.traits.priced)
        let id: UInt32
        if let last, last.0 == key {
          id = last.1
        } else if let before, before.0 == key {
          // Two classes taking turns (a session's model and its helper's).
          id = before.1
        } else if let known = ids[key] {
          id = known
        } else {
          id = UInt32(keys.count)
          keys.append(key)
          firstRows.append(i)
          ids[key] = id
        }
        if last?.1 != id {
          before = last
          last = (key, id)
        }
        set(i, id)
      }
    }
  }

  /// Calls `body` with the row number of every request (replays left
  /// out), in storage order: not a stable order; use ``ordered()`` where
  /// order shows.
  package func forEachRequest(_ body: (Int) throws -> Void) rethrows {
    for i in 0..<table.count where rowClass[i] != Self.replayClass { try body(i) }
  }

  /// ``forEachRequest(_:)`` over a range of rows.
  package func forEachRequest(in rows: Range<Int>, _ body: (Int) throws -> Void) rethrows {
    for i in rows where rowClass[i] != Self.replayClass { try body(i) }
  }

  /// Every class's canonical model, numbered in order of first class.
  package func modelNumbers() -> [String: Int64] {
    var names: [String: Int64] = [:]
    for c in classes where names[c.model] == nil { names[c.model] = Int64(names.count) }
    return names
  }

  /// Row `i`'s canonical model and, when priced, the rates a prompt of
  /// `prompt` tokens pays (``Gap/model`` and ``Gap/rates``, without a gap).
  package func modelAndRates(ofRow i: Int, prompt: Int64) -> (model: String, rates: RateCard?) {
    let k = Int(rowClass[i])
    return classes.withUnsafeBufferPointer { c in
      (c[k].model, c[k].unpriced == nil ? c[k].card(prompt: prompt)?.0 : nil)
    }
  }

  /// The rule that decided row `i`'s I (its class's, read in place).
  package func rule(ofRow i: Int) -> Accounting {
    let k = Int(rowClass[i])
    return classes.withUnsafeBufferPointer { $0[k].accounting }
  }

  /// Row `i`'s class number (classes are numbered in the order the table
  /// meets them); nil for a row that is no request (a replay or a merged copy).
  package func classNumber(ofRow i: Int) -> Int? {
    let k = rowClass[i]
    return k == Self.replayClass ? nil : Int(k)
  }

  /// The price class of row `i`.
  package func priceClass(ofRow i: Int) -> PriceClass { classes[Int(rowClass[i])] }

  /// Row `i`'s usage, gap, and exact `P` and `I`, reading its class in place.
  /// Row `i`'s usage, gap figures (nil when `P` overflows), and exact `P`
  /// and `I`: ``priced(row:)`` without the names a ``Gap`` carries.
  package func figures(row i: Int) -> (usage: TokenUsage, figures: GapFigures?, estimate: Int128, itpm: Int128) {
    let usage = table.counts(of: i).usage
    let k = Int(rowClass[i])
    let (p, itpm) = PricedRequest.charges(usage, countsReads: countsReads[k])
    let f = facts.withUnsafeBufferPointer { try? GapFigures(usage: usage, facts: $0[k]) }
    return (usage, f, p, itpm)
  }

  package func priced(row i: Int) -> (usage: TokenUsage, gap: Gap?, estimate: Int128, itpm: Int128) {
    let usage = table.counts(of: i).usage
    let k = Int(rowClass[i])
    let (p, itpm) = PricedRequest.charges(usage, countsReads: countsReads[k])
    return (usage, classes.withUnsafeBufferPointer { try? Gap(usage: usage, priceClass: $0[k]) }, p, itpm)
  }

  /// Row `i`'s exact `P` and `I`.
  package func charges(ofRow i: Int) -> (Int128, Int128) {
    PricedRequest.charges(table.counts(of: i).usage, countsReads: countsReads[Int(rowClass[i])])
  }

  /// The request in row `i`, with its gap.
  package func request(ofRow i: Int) -> PricedRequest {
    PricedRequest(table: self, row: i)
  }

  /// Every request in a stable order: by time (untimed last), then file,
  /// line and key; identical for any number of jobs.
  public func ordered() -> [PricedRequest] {
    orderedRows().map { request(ofRow: $0) }
  }

  /// The row numbers in the stable order of ``ordered()``.
  package func orderedRows() -> [Int] {
    let t = table
    // Files compare by name: rank the interned strings once.
    let names = (0..<t.strings.count).map { UInt32($0) }.sorted { t.strings[$0] < t.strings[$1] }
    var rank = [Int](repeating: 0, count: t.strings.count)
    for (k, id) in names.enumerated() { rank[Int(id)] = k }
    struct Item {
      var time: Int64
      var file: Int
      var line: Int
      var row: Int
    }
    var items: [Item] = []
    items.reserveCapacity(count)
    forEachRequest { i in
      let row = t.rows[i]
      items.append(
        Item(
          time: row.flags.contains(.timed) ? row.time : .max, file: rank[Int(row.file)],
          line: t.line(of: i), row: i))
    }
    items.sort { a, b in
      if (a.time, a.file, a.line) != (b.time, b.file, b.line) {
        return (a.time, a.file, a.line) < (b.time, b.file, b.line)
      }
      let ka = t.orderKey(of: a.row)
      let kb = t.orderKey(of: b.row)
      if ka != kb { return ka.lexicographicallyPrecedes(kb) }
      return t.rows[a.row].key < t.rows[b.row].key
    }
    return items.map(\.row)
  }
}

/// One priced request, as the analyses and renderers see it.
public struct PricedRequest: Sendable {
  public var time: Instant?
  public var session: String
  public var project: String
  /// The model id as logged.
  public var loggedModel: String
  public var agent: String?
  /// Every copy was a sidechain copy.
  public var sidechain: Bool
  /// Some copy carried a non-null `stop_reason`.
  public var stopReason: Bool
  /// A bucket of many requests (Admin API reports), not one request.
  public var aggregate: Bool
  /// Every copy was embedded in another line (a `progress` line's copy).
  public var embeddedOnly: Bool
  /// A stream that ended before `message_stop`.
  public var incompleteStream: Bool
  /// The records merged into this request (counted up to 15).
  public var copies: Int
  /// The file and line of the earliest copy.
  public var file: String
  public var line: Int
  public var messageID: String?
  public var requestID: String?
  public var usage: TokenUsage
  public var options: RequestOptions
  /// The model id the catalog resolved (the logged id when unknown).
  public var model: String
  /// The model's rate-limit pool, when the catalog knows the model.
  public var pool: String?
  /// The rate-limit rule that decided `itpm` (the source's, or `--accounting`).
  public var rule: Accounting
  /// The request used server tools (web search, web fetch, code execution):
  /// its `estimate` is not what count_tokens would return.
  public var serverTools: Bool
  /// The gap; nil only when the prompt overflows 64 bits.
  public var gap: Gap?
  /// `P` and `I`, exact even where `gap` is nil.
  public var estimate: Int128
  public var itpm: Int128
  /// What count_tokens returned for this request's prompt, when captured.
  public var measuredCountTokens: Int64?
  /// The `anthropic-ratelimit-*` headers of the response, when captured.
  public var rateLimit: RateLimitHeaders?
  /// The request's `max_tokens`, when the capture has it (HAR).
  public var maxTokens: Int64?
  /// How long the response took in ms, when the capture says (HAR, OTel).
  public var durationMs: Int64?

  init(table priced: PricedTable, row i: Int) {
    let t = priced.table
    let r = t.rows[i]
    time = r.flags.contains(.timed) ? Instant(millisecondsSinceEpoch: r.time) : nil
    session = t.strings[r.session]
    project = t.strings[r.project]
    loggedModel = t.strings[r.model]
    agent = r.agent == StringPool.none ? nil : t.strings[r.agent]
    sidechain = r.flags.contains(.sidechain)
    stopReason = r.flags.contains(.stopReason)
    aggregate = r.flags.contains(.aggregate)
    embeddedOnly = r.flags.contains(.embedded)
    incompleteStream = r.flags.contains(.incompleteStream)
    copies = Int(r.copies)
    file = t.strings[r.file]
    line = t.line(of: i)
    (messageID, requestID) = t.ids(of: i)
    usage = t.counts(of: i).usage
    let f = r.flags
    options = RequestOptions(
      batch: f.contains(.batch), usGeo: f.contains(.usGeo), fast: f.contains(.fast),
      longContext: f.contains(.longContextKnown) ? f.contains(.longContext) : nil,
      regional: r.traits.regional || ModelCatalog.isRegional(t.strings[r.model]))
    let c = priced.priceClass(ofRow: i)
    model = c.model
    pool = c.pool
    rule = c.accounting
    serverTools = r.traits.serverTools
    gap = try? Gap(usage: usage, priceClass: c)
    (estimate, itpm) = Self.charges(usage, c)
    measuredCountTokens = t.measuredCountTokens(of: i)
    rateLimit = t.rateLimit(of: i)
    let hints = t.hints(of: i)
    maxTokens = hints?.maxTokens
    durationMs = hints?.durationMs
  }

  /// `P` and `I` in 128 bits: never overflow.
  static func charges(_ u: TokenUsage, _ c: PriceClass) -> (Int128, Int128) {
    charges(u, countsReads: c.countsCacheReads)
  }

  package static func charges(_ u: TokenUsage, countsReads: Bool) -> (Int128, Int128) {
    let writes = Int128(u.cacheWrite5m) + Int128(u.cacheWrite1h) + Int128(u.cacheWriteUnknownTTL)
    let p = Int128(u.input) + writes + Int128(u.cacheRead)
    let i = Int128(u.input) + writes + (countsReads ? Int128(u.cacheRead) : 0)
    return (p, i)
  }

}
