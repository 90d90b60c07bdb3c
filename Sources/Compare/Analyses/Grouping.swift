import Dispatch
public import EstimateModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A way to group requests; several combine (`--by day,model`).
public enum Dimension: String, CaseIterable, Sendable {
  case request, session, project, day, hour, minute, model, total
  /// ISO 8601 weeks (`2026-W03`, Monday to Sunday) and months (`2026-01`).
  case week, month

  /// The key columns this dimension contributes, in CSV order.
  public var columns: [String] {
    switch self {
    case .request: ["time", "session", "project", "model", "message_id", "request_id"]
    case .session: ["session", "project"]
    case .project: ["project"]
    case .day: ["day"]
    case .hour: ["hour"]
    case .minute: ["minute"]
    case .week: ["week"]
    case .month: ["month"]
    case .model: ["model"]
    case .total: []
    }
  }
}

/// The measured columns of every group, in CSV order: a public interface.
public let summaryColumns = [
  "requests", "input_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens",
  "cache_creation_unknown_ttl_tokens", "cache_read_tokens", "output_tokens", "estimate_tokens",
  "itpm_tokens", "overestimate_tokens", "overestimation_ratio", "excess_share", "cache_hit_rate",
  "ratio_p50", "ratio_p90", "ratio_p99", "ratio_max", "input_cost_estimate_usd",
  "input_cost_actual_usd", "output_cost_usd", "cost_actual_usd", "input_cost_ratio",
  "lower_bound", "unpriced_requests",
]

/// One group: its key values and its summary.
public struct GroupRow: Sendable {
  public var keys: [String]
  public var summary: Summary
  /// The values of ``AnalysisResult/trailingColumns``.
  public var trailing: [String] = []
  /// For a grouping by session or project, the working directory the
  /// project's lines name (shown in the table; not in CSV or JSON, whose
  /// figures tokengap's exported rows reproduce exactly, and rows carry no
  /// working directory).
  public var cwd: String? = nil
}

extension Dimension {
  /// Columns written after the summary columns, added at the end so that no
  /// column moves: for groupings of sessions their first and last activity
  /// (issue 15); for requests the rate-limit rule that decided I (issue 13);
  /// for any other grouping of requests judged by several rules, the rule,
  /// by which the groups are then split.
  static func trailingColumns(_ dims: [Dimension], mixedRules: Bool = false) -> [String] {
    (dims.contains(.session) ? ["first_time", "last_time"] : [])
      + (dims.contains(.request) || mixedRules ? ["rule"] : [])
      + (dims.contains(.request) ? ["server_tools"] : [])
  }
}

/// Everything `analyze` reports.
public struct AnalysisResult: Sendable {
  public var dimensions: [Dimension]
  public var keyColumns: [String]
  public var rows: [GroupRow]
  public var total: Summary
  public var ledger: Ledger
  public var catalogVersion: String
  public var catalogSHA256: String
  public var timeZone: String
  /// The rule that decided I: the imposed one (`--accounting`), else the
  /// one rule of every request, else `mixed`.
  public var accounting: String
  /// The rules that decided I, each with its request count (several: the
  /// groups are split by rule).
  public var rules: [(rule: Accounting, requests: Int)] = []
  /// The zone of the time keys and the times shown.
  public var zone: TimeZoneRule = .utc
  /// Columns after the summary columns (see ``GroupRow/trailing``).
  public var trailingColumns: [String] = []
}

/// Collects file partials: the requests and the ledger of a run, before pricing.
public struct Analyzer: Sendable {
  package private(set) var table = RequestTable()
  public private(set) var ledger = Ledger()
  /// Lines read per file, by ``ParallelIngest`` (where a followed file's
  /// next read starts numbering).
  package var linesByFile: [String: Int] = [:]

  public init() {}

  /// Folds one file's partial in; order does not matter.
  public mutating func add(_ p: FilePartial) {
    ledger.merge(p.ledger)
    if table.recordsAdded == 0 {
      table = p.table
    } else {
      table.merge(p.table)
    }
  }

  /// Drops replays and prices every request once: the table every analysis reads.
  public consuming func priced(_ context: PricingContext) -> PricedTable {
    priced(context, slices: nil)
  }

  /// ``priced(_:)`` with replays found and classes numbered in `slices`
  /// side by side (nil: ``ParallelIngest/threads`` past 16,384 rows); the
  /// table does not depend on it.
  package consuming func priced(_ context: PricingContext, slices: Int?) -> PricedTable {
    // Taken, not copied: marking replays must not duplicate the rows.
    var t = table.sealed()
    table = RequestTable()
    _ = t.mergeCopiesWithoutRequestID()
    _ = t.dropReplays(slices: slices)
    guard let slices else { return PricedTable(table: t, ledger: ledger, context: context) }
    return PricedTable(table: t, ledger: ledger, context: context, slices: slices)
  }

  /// Groups, prices and sums the requests (``priced(_:)`` then
  /// ``PricedTable/analysis(dimensions:timeZone:)``).
  public func finish(
    dimensions: [Dimension], catalog: ModelCatalog, timeZone: TimeZoneRule = .utc,
    pricingDay: CivilDay, accounting: Accounting? = nil
  ) -> AnalysisResult {
    priced(PricingContext(catalog: catalog, pricingDay: pricingDay, accounting: accounting))
      .analysis(dimensions: dimensions, timeZone: timeZone)
  }
}

extension PricedTable {
  /// Groups and sums the requests.
  ///
  /// One pass sums every group. The ratio distributions: up to four million
  /// requests, each group's (P, I, row) quads are sorted in a stretch of
  /// their own and the run's four nearest ranks selected; beyond, one sort
  /// of the requests' row numbers (4 bytes a request) is walked once to find
  /// each group's ranks. No per-request sample is kept in a summary.
  ///
  /// - Parameters:
  ///   - dimensions: The grouping, such as `[.day, .model]`.
  ///   - timeZone: For day, hour and minute keys.
  public func analysis(dimensions: [Dimension], timeZone: TimeZoneRule = .utc) -> AnalysisResult {
    analysis(dimensions: dimensions, timeZone: timeZone, slices: table.count >= 16_384 ? ParallelIngest.threads : 1)
  }

  /// ``analysis(dimensions:timeZone:)`` with the first pass cut in `slices`
  /// summed side by side; the result does not depend on `slices`.
  ///
  /// - Parameter quadLimit: Up to this many requests the distributions carry
  ///   each request's P and I (24 bytes); past it, row numbers only (4 bytes,
  ///   P and I read back in each comparison). Tests lower it to reach both.
  package func analysis(
    dimensions: [Dimension], timeZone: TimeZoneRule, slices wanted: Int, quadLimit: Int = 1 << 22
  ) -> AnalysisResult {
    let t = table
    // Model numbers fixed up front (from the classes, in their order), so
    // that slices of the table, summed apart, key their groups alike.
    let names = modelNumbers()
    // Requests judged by several rules are not summed across rules.
    let byRule = mixesRules && !dimensions.contains(.request)
    var grouper = Grouper(dimensions: dimensions, timeZone: timeZone, names: names, byRule: byRule)
    // One pass sums every group, in slices summed side by side and merged
    // in table order: the groups, their first rows and the samples come out
    // exactly as one pass over the whole table would leave them.
    let slices = max(1, min(wanted, t.count))
    let size = (t.count + slices - 1) / slices
    let parts = Mutex([GroupPass?](repeating: nil, count: slices))
    DispatchQueue.concurrentPerform(iterations: slices) { k in
      var pass = GroupPass(
        grouper: Grouper(dimensions: dimensions, timeZone: timeZone, names: names, byRule: byRule),
        withQuads: t.count <= quadLimit)
      pass.run(self, rows: (k * size)..<min(t.count, (k + 1) * size))
      parts.withLock { $0[k] = pass }
    }
    var groups: [GroupKey: Int] = [:]
    var summaries: [Summary] = []
    var representatives: [Int] = []
    var total = Summary()
    var sampled: [UInt32] = []
    // Per group, its last sampled row: a group of one ratio needs no sort.
    var last: [UInt32] = []
    // Up to four million requests, the sampled ones are sorted as (P, I,
    // row, group), 24 bytes each, built straight from the slices; beyond,
    // the row numbers alone are sorted and P and I read back.
    let withQuads = t.count <= quadLimit
    var quads: [Quad] = []
    // Taken out of the lock, and each slice freed once merged.
    var taken = parts.withLock { all in
      let out = all
      all = []
      return out
    }
    let sliceCounts = taken.map { $0?.sampledCount ?? 0 }
    let sampledCount = sliceCounts.reduce(0, +)
    if withQuads { quads.reserveCapacity(sampledCount) }
    for k in taken.indices {
      guard let part = taken[k] else { continue }
      taken[k] = nil
      var global = [UInt32](repeating: 0, count: part.keys.count)
      for (local, key) in part.keys.enumerated() {
        let s = part.summaries[local]
        if let g = groups[key] {
          summaries[g].merge(s)
          if s.ratioCount > 0 { last[g] = part.last[local] }
          global[local] = UInt32(g)
        } else {
          global[local] = UInt32(summaries.count)
          groups[key] = summaries.count
          summaries.append(s)
          representatives.append(part.representatives[local])
          last.append(part.last[local])
        }
      }
      total.merge(part.total)
      if withQuads {
        // Made in the slice, with the slice's group numbers: renumbered here.
        for var q in part.quads {
          q.group = global[Int(q.group)]
          quads.append(q)
        }
      }
    }
    if !withQuads {
      // Past four million, each slice counted its sampled rows; they are
      // written straight into one array, each slice into its own stretch,
      // in slice order (what appending the slices' lists would give).
      let counts = taken.indices.map { k in sliceCounts[k] }
      var offsets = [Int](repeating: 0, count: counts.count)
      for k in counts.indices.dropFirst() { offsets[k] = offsets[k - 1] + counts[k - 1] }
      let starts = offsets
      let all = counts.reduce(0, +)
      sampled = [UInt32](unsafeUninitializedCapacity: all) { buffer, filled in
        let out = UnsafeSendable(buffer)
        DispatchQueue.concurrentPerform(iterations: slices) { k in
          var at = starts[k]
          let end = at + counts[k]
          self.forEachRequest(in: (k * size)..<min(t.count, (k + 1) * size)) { i in
            guard at < end, GroupPass.isSampled(self.figures(row: i).figures) else { return }
            out.value[at] = UInt32(i)
            at += 1
          }
          // Never short: the count came from the same rows and test.
          while at < end {
            out.value[at] = 0
            at += 1
          }
        }
        filled = all
      }
    }
    let ratio: (Int) -> (Int128, Int128) = { i in self.charges(ofRow: i) }
    func value(_ i: Int) -> Ratio? {
      let (p, itpm) = ratio(i)
      return Ratio(p, itpm)
    }
    total.percentiles = Summary.Percentiles()
    for g in summaries.indices { summaries[g].percentiles = Summary.Percentiles() }
    if withQuads {
      // Each group's distribution from its own requests, the run's from
      // four ranks selected: nothing orders every request at once.
      Quad.percentiles(&quads, groups: summaries.count) { g, rows in
        let r = rows.map { value(Int($0)) }
        let p = Summary.Percentiles(p50: r[0], p90: r[1], p99: r[2], max: r[3])
        if let g { summaries[g].percentiles = p } else { total.percentiles = p }
      }
    } else {
      // Every sampled request in ratio order. In place (a stable sort would
      // take half as much again): the order is total, row numbers breaking
      // ties, so any sort gives this one.
      sampled.withUnsafeMutableBufferPointer { buffer in
        InPlaceSort.sort(buffer) { a, b in
          let (pa, ia) = ratio(Int(a))
          let (pb, ib) = ratio(Int(b))
          let l = pa * ib
          let r = pb * ia
          return l != r ? l < r : a < b
        }
      }
      if !sampled.isEmpty {
        let r = Summary.ranks(sampled.count).map { value(Int(sampled[$0])) }
        total.percentiles = .init(p50: r[0], p90: r[1], p99: r[2], max: r[3])
      }
      // Every rank of one value is that value (each group of `--by request`).
      var multi = false
      for g in summaries.indices where summaries[g].ratioCount >= 1 {
        if summaries[g].ratioCount == 1 {
          summaries[g].percentiles = .only(value(Int(last[g])))
        } else {
          multi = true
        }
      }
      if summaries.count == 1 {
        summaries[0].percentiles = total.percentiles
      } else if multi {
        var seen = [Int](repeating: 0, count: summaries.count)
        var wanted = summaries.map { $0.ratioCount > 1 ? Summary.ranks($0.ratioCount) : [] }
        var found = [[Ratio?]](repeating: [], count: summaries.count)
        for r in sampled {
          let i = Int(r)
          guard let g = groups[grouper.key(t, i, self)], summaries[g].ratioCount > 1 else { continue }
          while let next = wanted[g].first, next == seen[g] {
            found[g].append(value(i))
            wanted[g].removeFirst()
          }
          seen[g] += 1
        }
        for g in summaries.indices where summaries[g].ratioCount > 1 && found[g].count == 4 {
          summaries[g].percentiles = .init(
            p50: found[g][0], p90: found[g][1], p99: found[g][2], max: found[g][3])
        }
      }
    }
    quads = []
    let trailing = Dimension.trailingColumns(dimensions, mixedRules: byRule)
    let paths = dimensions.contains(.session) || dimensions.contains(.project)
    func trailingCells(_ g: Int) -> [String] {
      trailing.map { name -> String in
        let time: Int64?
        switch name {
        case "first_time": time = summaries[g].firstTime
        case "last_time": time = summaries[g].lastTime
        case "server_tools": return t.rows[representatives[g]].traits.serverTools ? "true" : "false"
        default: return priceClass(ofRow: representatives[g]).accounting.rawValue
        }
        return time.map { LocalTime.format(Instant(millisecondsSinceEpoch: $0), timeZone, .millisecond) } ?? ""
      }
    }
    // The groups are ordered by their key columns (groups split by rule:
    // then by rule), ties in group order. The group numbers are sorted,
    // not the rows: a row (its summary, its strings) is large to move.
    let groupKeys = summaries.indices.map { g in dimensions.flatMap { keys($0, row: representatives[g], timeZone) } }
    let ruleCells = byRule ? summaries.indices.map { trailingCells($0).last ?? "" } : []
    var order = Array(summaries.indices)
    order.sort { a, b in
      if groupKeys[a] != groupKeys[b] { return groupKeys[a].lexicographicallyPrecedes(groupKeys[b]) }
      if byRule, ruleCells[a] != ruleCells[b] { return ruleCells[a] < ruleCells[b] }
      return a < b
    }
    var result: [GroupRow] = []
    result.reserveCapacity(summaries.count)
    for g in order {
      result.append(
        GroupRow(
          keys: groupKeys[g], summary: summaries[g], trailing: trailingCells(g),
          cwd: paths ? cwd(ofRow: representatives[g]) : nil))
    }
    summaries = []
    representatives = []
    return AnalysisResult(
      dimensions: dimensions, keyColumns: dimensions.flatMap(\.columns), rows: result, total: total,
      ledger: ledger, catalogVersion: context.catalog.version, catalogSHA256: context.catalog.sha256,
      timeZone: timeZone.name, accounting: ruleName, rules: rules, zone: timeZone, trailingColumns: trailing)
  }

  /// The working directory of row `i`'s project, if its lines name one.
  func cwd(ofRow i: Int) -> String? {
    table.path(ofProject: table.rows[i].project)
  }

  /// A group's key columns, read from its representative row.
  func keys(_ d: Dimension, row i: Int, _ tz: TimeZoneRule) -> [String] {
    let t = table
    let r = t.rows[i]
    let time = r.flags.contains(.timed) ? Instant(millisecondsSinceEpoch: r.time) : nil
    switch d {
    case .request:
      let (messageID, requestID) = t.ids(of: i)
      return [
        time.map { LocalTime.format($0, tz, .millisecond) } ?? "", t.strings[r.session], t.strings[r.project],
        priceClass(ofRow: i).model, messageID ?? "", requestID ?? "",
      ]
    case .session: return [t.strings[r.session], t.strings[r.project]]
    case .project: return [t.strings[r.project]]
    case .day: return [time.map { LocalTime.format($0, tz, .day) } ?? ""]
    case .hour: return [time.map { LocalTime.format($0, tz, .hour) } ?? ""]
    case .minute: return [time.map { LocalTime.format($0, tz, .minute) } ?? ""]
    case .week: return [time.map { LocalTime.format($0, tz, .week) } ?? ""]
    case .month: return [time.map { LocalTime.format($0, tz, .month) } ?? ""]
    case .model: return [priceClass(ofRow: i).model]
    case .total: return []
    }
  }
}

/// A sampled request for the distributions: P, I (both fit 64 bits when the
/// request has a gap), its row and its group.
private struct Quad: Sendable {
  var p: UInt64
  var i: UInt64
  var row: UInt32
  var group: UInt32

  /// P/I ascending, then row: a total order, so any sort (halves sorted side
  /// by side and merged) gives the one result. Cross products in full width.
  static func precedes(_ a: Quad, _ b: Quad) -> Bool {
    let l = a.p.multipliedFullWidth(by: b.i)
    let r = b.p.multipliedFullWidth(by: a.i)
    if l.high != r.high { return l.high < r.high }
    if l.low != r.low { return l.low < r.low }
    return a.row < b.row
  }

  /// The nearest-rank percentiles (``Summary/ranks(_:)``) of every group
  /// of `all` and of all of them, in place: the quads are dealt out by group
  /// (each group's in one stretch, in place), each stretch is sorted on its
  /// own (the stretches side by side), and the run's four ranks are then
  /// selected, not sorted for. `found` hears each group's rows at its ranks
  /// (a group without a quad is not heard of), then the run's (group nil).
  static func percentiles(_ all: inout [Quad], groups count: Int, _ found: (Int?, [UInt32]) -> Void) {
    guard !all.isEmpty, count > 0 else { return }
    // Where each group's stretch starts.
    var start = [Int](repeating: 0, count: count + 1)
    for q in all { start[Int(q.group) + 1] += 1 }
    for g in 0..<count { start[g + 1] += start[g] }
    all.withUnsafeMutableBufferPointer { a in
      // Dealt in place: each slot takes the quad of its stretch's group.
      var next = start
      for g in 0..<count {
        while next[g] < start[g + 1] {
          let h = Int(a[next[g]].group)
          if h == g {
            next[g] += 1
          } else {
            a.swapAt(next[g], next[h])
            next[h] += 1
          }
        }
      }
      // Stretches sorted side by side, each worker taking whole groups
      // holding about an equal share of the quads.
      let workers = a.count >= 1 << 14 ? ParallelIngest.threads : 1
      var cuts = [0]
      for g in 0..<count where cuts.count < workers && start[g] * workers >= a.count * cuts.count {
        if g > cuts[cuts.count - 1] { cuts.append(g) }
      }
      cuts.append(count)
      let base = UnsafeSendable(a)
      let (bounds, shares) = (start, cuts)
      DispatchQueue.concurrentPerform(iterations: shares.count - 1) { w in
        for g in shares[w]..<shares[w + 1] where bounds[g + 1] - bounds[g] > 1 {
          InPlaceSort.sort(UnsafeMutableBufferPointer(rebasing: base.value[bounds[g]..<bounds[g + 1]]), by: precedes)
        }
      }
    }
    for g in 0..<count where start[g + 1] > start[g] {
      found(g, Summary.ranks(start[g + 1] - start[g]).map { all[start[g] + $0].row })
    }
    let ranks = Summary.ranks(all.count)
    all.withUnsafeMutableBufferPointer { InPlaceSort.select($0, ranks: ranks, by: precedes) }
    found(nil, ranks.map { all[$0].row })
  }
}

/// One slice of the table summed by group, groups in order of first row.
private struct GroupPass {
  var grouper: Grouper
  var groups: [GroupKey: Int] = [:]
  var keys: [GroupKey] = []
  var summaries: [Summary] = []
  var representatives: [Int] = []
  var last: [UInt32] = []
  /// The previous row's key and group.
  var lastGroup: (GroupKey, Int)?
  /// The rows ``isSampled(_:)`` takes, kept in `quads` or not.
  var sampledCount = 0
  /// Per sampled row: its P, I, row and group (in this slice's numbering).
  var quads: [Quad] = []
  var total = Summary()

  /// Whether each sampled request is kept as a ``Quad`` (its P, I, row and
  /// group, for the distributions of up to four million), else only counted.
  let withQuads: Bool

  init(grouper: Grouper, withQuads: Bool) {
    self.grouper = grouper
    self.withQuads = withQuads
  }

  /// Whether a request's ratio is in the distributions: it has a gap and
  /// an ITPM charge.
  static func isSampled(_ gap: GapFigures?) -> Bool {
    guard let gap else { return false }
    return gap.itpm > 0
  }

  mutating func run(_ priced: PricedTable, rows: Range<Int>) {
    let t = priced.table
    // At most a quad a row: no copy as the list grows.
    if withQuads { quads.reserveCapacity(rows.count) }
    priced.forEachRequest(in: rows) { i in
      let (usage, gap, p, itpm) = priced.figures(row: i)
      let measured = t.measuredCountTokens(of: i)
      let key = grouper.key(t, i, priced)
      let g: Int
      // Rows come file by file: most share the previous row's group.
      if let (k, found) = lastGroup, k == key {
        g = found
      } else if let found = groups[key] {
        g = found
      } else {
        g = summaries.count
        groups[key] = g
        keys.append(key)
        summaries.append(Summary())
        representatives.append(i)
        last.append(0)
      }
      lastGroup = (key, g)
      let logged = t.loggedCost(of: i)
      summaries[g].add(
        usage: usage, estimate: p, itpm: itpm, figures: gap, measured: measured, keepSample: false, logged: logged)
      let row = t.rows[i]
      if row.flags.contains(.timed) { summaries[g].noteTime(row.time) }
      if Self.isSampled(gap) {
        sampledCount += 1
        if withQuads {
          quads.append(Quad(p: UInt64(clamping: p), i: UInt64(clamping: itpm), row: UInt32(i), group: UInt32(g)))
        }
        last[g] = UInt32(i)
      }
    }
    // Every row is in one group: the slice's total is their sum (a merge
    // a group, not an addition a row).
    for g in summaries.indices { total.merge(summaries[g]) }
  }
}

/// Computes a request's group key from its row.
private struct Grouper {
  let dimensions: [Dimension]
  let timeZone: TimeZoneRule
  /// Canonical model ids, numbered per logged id.
  var canonical: [UInt32: Int64] = [:]
  var canonicalNames: [String: Int64] = [:]
  /// The rule is part of every key (the run mixes rules).
  let byRule: Bool

  init(dimensions: [Dimension], timeZone: TimeZoneRule, names: [String: Int64], byRule: Bool = false) {
    self.dimensions = dimensions
    self.timeZone = timeZone
    canonicalNames = names
    self.byRule = byRule
  }

  mutating func key(_ t: RequestTable, _ i: Int, _ priced: PricedTable) -> GroupKey {
    let row = t.rows[i]
    var key = GroupKey()
    for d in dimensions {
      switch d {
      case .request: key.append(Int64(i))
      case .session:
        key.append(Int64(row.session))
        key.append(Int64(row.project))
      case .project: key.append(Int64(row.project))
      case .day, .hour, .minute:
        guard row.flags.contains(.timed) else {
          key.append(.min)
          key.append(0)
          continue
        }
        let offset = timeZone.minuteOffset(at: Instant(millisecondsSinceEpoch: row.time))
        let local = row.time + offset * 1000
        let unit: Int64 = d == .day ? 86_400_000 : d == .hour ? 3_600_000 : 60_000
        key.append(local >= 0 ? local / unit : (local - unit + 1) / unit)
        key.append(d == .day ? 0 : offset)
      case .week, .month:
        guard row.flags.contains(.timed) else {
          key.append(.min)
          continue
        }
        let day = LocalTime.day(Instant(millisecondsSinceEpoch: row.time), timeZone)
        key.append(d == .week ? LocalTime.weekNumber(day) : LocalTime.monthNumber(day))
      case .model:
        if let m = canonical[row.model] {
          key.append(m)
        } else {
          let name = priced.priceClass(ofRow: i).model
          let m = canonicalNames[name] ?? Int64(canonicalNames.count)
          canonicalNames[name] = m  // every class's model is numbered up front
          canonical[row.model] = m
          key.append(m)
        }
      case .total: break
      }
    }
    if byRule {
      switch priced.priceClass(ofRow: i).accounting {
      case .anthropic: key.append(0)
      case .bedrock: key.append(1)
      case .openai: key.append(2)
      }
    }
    return key
  }
}

/// A group's identity as integers: interned ids, time buckets and offsets.
/// Every dimension at once takes 13 (request 1, session 2, project 1, day,
/// hour and minute 2 each, model, week and month 1 each), and the rule one
/// more when `request` is not among them: 14 slots hold any grouping.
private struct GroupKey: Hashable {
  private var v: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) =
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  private var n = 0

  mutating func append(_ x: Int64) {
    withUnsafeMutableBytes(of: &v) { raw in
      raw.storeBytes(of: x, toByteOffset: n * 8, as: Int64.self)
    }
    n += 1
  }

  static func == (a: GroupKey, b: GroupKey) -> Bool {
    guard a.n == b.n else { return false }
    return withUnsafeBytes(of: a.v) { x in
      withUnsafeBytes(of: b.v) { y in
        guard let p = x.baseAddress, let q = y.baseAddress else { return true }
        return memcmp(p, q, a.n * 8) == 0
      }
    }
  }

  func hash(into h: inout Hasher) {
    withUnsafeBytes(of: v) { h.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(n * 8))) }
  }
}

/// ISO 8601 spellings of instants in a zone.
public enum LocalTime {
  public enum Precision: Sendable { case day, hour, minute, millisecond, week, month }

  /// The local calendar day of an instant in a zone.
  public static func day(_ instant: Instant, _ tz: TimeZoneRule) -> CivilDay {
    Instant(millisecondsSinceEpoch: instant.millisecondsSinceEpoch + tz.minuteOffset(at: instant) * 1000).day
  }

  /// Weeks counted from the one holding 1970-01-01: Monday to Sunday, as
  /// ISO 8601 has them (1970-01-01 was a Thursday).
  static func weekNumber(_ day: CivilDay) -> Int64 {
    let d = day.daysSinceEpoch + 3
    return d >= 0 ? d / 7 : (d - 6) / 7
  }

  /// Months counted from year 0.
  static func monthNumber(_ day: CivilDay) -> Int64 {
    let (y, m, _) = day.components
    return y * 12 + m - 1
  }

  /// The ISO 8601 week of a day: its week-numbering year (that of the
  /// week's Thursday) and its number, 1 to 53.
  public static func isoWeek(_ day: CivilDay) -> (year: Int64, week: Int64) {
    let thursday = CivilDay(daysSinceEpoch: weekNumber(day) * 7)
    let year = thursday.components.year
    let first = CivilDay(year: year, month: 1, day: 1)?.daysSinceEpoch ?? thursday.daysSinceEpoch
    return (year, (thursday.daysSinceEpoch - first) / 7 + 1)
  }

  /// `2026-W03`, or `2026-01`: a week or a month, which carry no offset.
  static func calendarKey(_ day: CivilDay, _ precision: Precision) -> String {
    func year(_ y: Int64) -> String {
      let digits = String(abs(y))
      return (y < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
    if precision == .week {
      let (y, w) = isoWeek(day)
      return year(y) + "-W" + two(w)
    }
    let (y, m, _) = day.components
    return year(y) + "-" + two(m)
  }

  /// `2025-09-03`, `2025-09-03T00:00Z`, `2025-09-03T00:47Z`,
  /// `2025-09-03T00:47:19.293Z`; outside UTC the offset replaces `Z`.
  public static func format(_ instant: Instant, _ tz: TimeZoneRule, _ precision: Precision) -> String {
    if precision == .week || precision == .month { return calendarKey(day(instant, tz), precision) }
    let offset = tz.minuteOffset(at: instant)
    let local = Instant(millisecondsSinceEpoch: instant.millisecondsSinceEpoch + offset * 1000)
    // YYYY-MM-DDTHH:MM:SS.mmmZ; the date may have more digits (year 10000)
    // or a sign, so the parts are cut at the T, not at fixed offsets.
    let text = local.description
    if text.utf8.count == 24, tz.name == "UTC" {
      // Years 0–9999 in UTC, nearly every row: cut at the fixed offsets.
      switch precision {
      case .day: return String(text.utf8.prefix(10)) ?? text
      case .hour: return (String(text.utf8.prefix(13)) ?? text) + ":00Z"
      case .minute: return (String(text.utf8.prefix(16)) ?? text) + "Z"
      case .millisecond: return text
      case .week, .month: return calendarKey(local.day, precision)
      }
    }
    let t = text.firstIndex(of: "T") ?? text.endIndex
    let date = String(text[..<t])
    let clock = text[t...].dropFirst()  // HH:MM:SS.mmmZ
    let zone: String
    if tz.name == "UTC" {
      zone = "Z"
    } else {
      let m = abs(offset) / 60
      zone = (offset < 0 ? "-" : "+") + two(m / 60) + ":" + two(m % 60)
    }
    switch precision {
    case .day: return date
    case .hour: return date + "T" + clock.prefix(2) + ":00" + zone
    case .minute: return date + "T" + clock.prefix(5) + zone
    case .millisecond: return date + "T" + clock.prefix(12) + zone
    case .week, .month: return calendarKey(local.day, precision)
    }
  }

  private static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

extension PricedTable {
  /// `--by request` as CSV straight from the table: byte for byte the text of
  /// `AnalysisRenderer.csv(analysis(dimensions: [.request]))`, without a
  /// summary, a key array or a group held per request (a request's summary
  /// is made, formatted and dropped).
  ///
  /// The rows sort as the analysis sorts its key strings: an untimed row
  /// (empty time) first, then by time, session, project, model and ids. In
  /// UTC and years 0–9999 the time text is fixed-width, so comparing the
  /// instants compares the text; anywhere else this falls back to the analysis.
  public func requestsCSV(timeZone: TimeZoneRule = .utc) -> String {
    requestsCSVParts(timeZone: timeZone).joined()
  }

  /// The rows of `--by request` in the order its CSV lists them (as the
  /// analysis sorts its key strings), or nil where the time text is not
  /// fixed-width (another zone, or a year outside 0–9999).
  package func requestOrder(timeZone: TimeZoneRule) -> [Int32]? {
    let t = table
    var order: [Int32] = []
    order.reserveCapacity(count)
    var fixedWidth = timeZone.name == "UTC"
    // 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
    let range: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999
    forEachRequest { i in
      order.append(Int32(i))
      let r = t.rows[i]
      if r.flags.contains(.timed), !range.contains(r.time) { fixedWidth = false }
    }
    guard fixedWidth, count < Int(Int32.max) else { return nil }
    order.sort { a, b in
      let (x, y) = (t.rows[Int(a)], t.rows[Int(b)])
      let (tx, ty) = (x.flags.contains(.timed), y.flags.contains(.timed))
      if tx != ty { return !tx }
      if tx, x.time != y.time { return x.time < y.time }
      // Interned ids equal means the strings are; only different ones are compared.
      if x.session != y.session, t.strings[x.session] != t.strings[y.session] {
        return t.strings[x.session] < t.strings[y.session]
      }
      if x.project != y.project, t.strings[x.project] != t.strings[y.project] {
        return t.strings[x.project] < t.strings[y.project]
      }
      let (mx, my) = (priceClass(ofRow: Int(a)).model, priceClass(ofRow: Int(b)).model)
      if mx != my { return mx < my }
      let (ix, iy) = (t.ids(of: Int(a)), t.ids(of: Int(b)))
      if (ix.messageID ?? "") != (iy.messageID ?? "") { return (ix.messageID ?? "") < (iy.messageID ?? "") }
      return (ix.requestID ?? "") < (iy.requestID ?? "")
    }
    return order
  }

  /// ``requestsCSV(timeZone:)`` in parts, in order, for a writer that
  /// writes them one after another (the text is never joined in memory).
  package func requestsCSVParts(timeZone: TimeZoneRule = .utc) -> [String] {
    guard let sorted = requestOrder(timeZone: timeZone) else {
      return [AnalysisRenderer.csv(analysis(dimensions: [.request], timeZone: timeZone))]
    }
    return AnalysisRenderer.csvParts(
      keyColumns: Dimension.request.columns, trailing: Dimension.trailingColumns([.request]), count: sorted.count
    ) { k, bytes in
      let i = Int(sorted[k])
      for (n, key) in keys(.request, row: i, timeZone).enumerated() {
        if n > 0 { bytes.append(0x2C) }
        CSVWriter.appendCell(key, to: &bytes)
      }
      // The final columns come after the trailing ones, as the header has them.
      AnalysisRenderer.appendValues(requestSummary(row: i), trailing: requestTrailingCells(row: i), to: &bytes)
    }
  }

  /// One request's trailing cells of the `--by request` CSV: its rule and
  /// whether it used server tools.
  func requestTrailingCells(row i: Int) -> [String] {
    [rule(ofRow: i).rawValue, table.rows[i].traits.serverTools ? "true" : "false"]
  }

  /// Row `i`'s request as a summary of one (its percentiles its ratio).
  func requestSummary(row i: Int) -> Summary {
    let (usage, gap, p, itpm) = figures(row: i)
    var s = Summary()
    s.add(
      usage: usage, estimate: p, itpm: itpm, figures: gap, measured: table.measuredCountTokens(of: i),
      keepSample: false, logged: table.loggedCost(of: i))
    s.percentiles = s.ratioCount == 1 ? .only(Ratio(p, itpm)) : Summary.Percentiles()
    return s
  }

  /// One request's cells of the `--by request` CSV: its key columns, then
  /// its summary columns and the final ones (a summary of one, made and
  /// dropped).
  func requestCells(row i: Int, timeZone: TimeZoneRule) -> [String] {
    let s = requestSummary(row: i)
    return keys(.request, row: i, timeZone) + AnalysisRenderer.values(s) + AnalysisRenderer.finalValues(s)
  }
}

/// What `--sort` orders groups by.
public enum GroupSort: String, CaseIterable, Sendable {
  /// The actual cost.
  case cost
  /// The overestimation ratio P/I.
  case ratio
  /// The last activity.
  case time
  /// The estimate P, in tokens.
  case tokens
}

/// `--order`.
public enum SortOrder: String, CaseIterable, Sendable {
  case asc, desc
}

extension AnalysisResult {
  /// The groups ordered by `key`; equal values keep the grouping's order,
  /// and groups without a value (no ratio, no time) come last either way.
  public func sorted(by key: GroupSort, _ order: SortOrder) -> AnalysisResult {
    func less(_ a: Summary, _ b: Summary) -> Bool? {
      switch key {
      case .cost: return a.costActual == b.costActual ? nil : a.costActual < b.costActual
      case .tokens: return a.estimate == b.estimate ? nil : a.estimate < b.estimate
      case .ratio:
        guard let x = a.overestimationRatio, let y = b.overestimationRatio else { return nil }
        return x == y ? nil : x < y
      case .time:
        guard let x = a.lastTime, let y = b.lastTime else { return nil }
        return x == y ? nil : x < y
      }
    }
    func defined(_ s: Summary) -> Bool {
      switch key {
      case .cost, .tokens: true
      case .ratio: s.overestimationRatio != nil
      case .time: s.lastTime != nil
      }
    }
    var copy = self
    let indexed = rows.enumerated().map { ($0.offset, $0.element) }
    copy.rows = indexed.sorted { a, b in
      let (da, db) = (defined(a.1.summary), defined(b.1.summary))
      if da != db { return da }
      if let l = less(a.1.summary, b.1.summary) { return order == .asc ? l : !l }
      return a.0 < b.0
    }.map(\.1)
    return copy
  }
}

/// An introspective sort in place: quicksort with a median of three,
/// insertion sort for short runs and heapsort past a depth limit, so no
/// input takes more than n log n steps or any memory beyond the stack.
/// Not stable: for orders that are total.
package enum InPlaceSort {
  /// - Parameter depthLimit: Quicksort levels before heapsort takes over
  ///   (default twice log2 of the count; tests pass 0 to reach heapsort).
  package static func sort<T>(_ a: UnsafeMutableBufferPointer<T>, depthLimit: Int? = nil, by less: (T, T) -> Bool) {
    guard a.count > 1 else { return }
    // Input already in order (requests of one ratio, in row order) is common
    // and costs one pass.
    var ordered = true
    for k in 1..<a.count where less(a[k], a[k - 1]) {
      ordered = false
      break
    }
    if ordered { return }
    var limit = 0
    var n = a.count
    while n > 0 {
      limit += 2
      n >>= 1
    }
    introsort(a, 0, a.count, depthLimit ?? limit, less)
  }

  private static func introsort<T>(
    _ a: UnsafeMutableBufferPointer<T>, _ low: Int, _ high: Int, _ depth: Int, _ less: (T, T) -> Bool
  ) {
    var (lo, hi, depth) = (low, high, depth)
    while hi - lo > 16 {
      if depth == 0 {
        heapsort(a, lo, hi, less)
        return
      }
      depth -= 1
      let j = partition(a, lo, hi, less)
      // The smaller side recursively, the larger in the loop: the stack
      // stays within log2(n) frames.
      if j - lo < hi - j - 1 {
        introsort(a, lo, j, depth, less)
        lo = j + 1
      } else {
        introsort(a, j + 1, hi, depth, less)
        hi = j
      }
    }
    insertionSort(a, lo, hi, less)
  }

  /// Median of three to `a[lo]`, then Hoare's partition of `a[lo..<hi]`
  /// (more than two elements) around it: returns where the pivot ends,
  /// nothing before it sorting after it and nothing after it before it.
  private static func partition<T>(
    _ a: UnsafeMutableBufferPointer<T>, _ lo: Int, _ hi: Int, _ less: (T, T) -> Bool
  ) -> Int {
    let mid = lo + (hi - lo) / 2
    if less(a[mid], a[lo]) { a.swapAt(mid, lo) }
    if less(a[hi - 1], a[lo]) { a.swapAt(hi - 1, lo) }
    if less(a[hi - 1], a[mid]) { a.swapAt(hi - 1, mid) }
    a.swapAt(lo, mid)
    let pivot = a[lo]
    var i = lo
    var j = hi
    while true {
      repeat { i += 1 } while i < hi && less(a[i], pivot)
      repeat { j -= 1 } while less(pivot, a[j])
      if i >= j { break }
      a.swapAt(i, j)
    }
    a.swapAt(lo, j)
    return j
  }

  private static func insertionSort<T>(
    _ a: UnsafeMutableBufferPointer<T>, _ lo: Int, _ hi: Int, _ less: (T, T) -> Bool
  ) {
    guard hi - lo > 1 else { return }
    for k in (lo + 1)..<hi {
      let x = a[k]
      var m = k
      while m > lo, less(x, a[m - 1]) {
        a[m] = a[m - 1]
        m -= 1
      }
      a[m] = x
    }
  }

  /// Puts the element of each of `ranks` (ascending) where sorting `a`
  /// would put it, in time linear in the count (quickselect; past
  /// `depthLimit` levels the stretch left is sorted, as in ``sort``).
  /// The order must be total for the result not to depend on the input's.
  package static func select<T>(
    _ a: UnsafeMutableBufferPointer<T>, ranks: [Int], depthLimit: Int? = nil, by less: (T, T) -> Bool
  ) {
    var limit = 0
    var n = a.count
    while n > 0 {
      limit += 2
      n >>= 1
    }
    // Each rank is searched for after the one before it, which is in place
    // (a rank equal to it is found already).
    var from = 0
    for k in ranks where k >= from && k < a.count {
      var (lo, hi, depth) = (from, a.count, depthLimit ?? limit)
      while hi - lo > 16 {
        if depth == 0 {
          introsort(a, lo, hi, 0, less)
          break
        }
        depth -= 1
        let j = partition(a, lo, hi, less)
        if k == j {
          lo = j
          hi = j
          break
        }
        if k < j { hi = j } else { lo = j + 1 }
      }
      if hi - lo <= 16 { insertionSort(a, lo, hi, less) }
      from = k + 1
    }
  }

  private static func heapsort<T>(
    _ a: UnsafeMutableBufferPointer<T>, _ lo: Int, _ hi: Int, _ less: (T, T) -> Bool
  ) {
    let n = hi - lo
    func sift(_ start: Int, _ end: Int) {
      var root = start
      while 2 * root + 1 < end {
        var child = 2 * root + 1
        if child + 1 < end, less(a[lo + child], a[lo + child + 1]) { child += 1 }
        guard less(a[lo + root], a[lo + child]) else { return }
        a.swapAt(lo + root, lo + child)
        root = child
      }
    }
    var start = n / 2
    while start > 0 {
      start -= 1
      sift(start, n)
    }
    var end = n
    while end > 1 {
      end -= 1
      a.swapAt(lo, lo + end)
      sift(0, end)
    }
  }
}
