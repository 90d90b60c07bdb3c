import EstimateModel

/// Per-minute ITPM charge `I` and count_tokens estimate `P` per rate-limit
/// pool, kept up to date as transcripts grow (`tokengap watch`).
///
/// Each update reads only the bytes added since the last (``Follow``'s
/// marks), merges them into one request table, and re-prices only the
/// requests those bytes touched: a request's earlier contribution is taken
/// out of its minute and its new one put in, so the figures always equal
/// those of reading everything again (`analyze --by minute`), at a cost
/// proportional to the new bytes. A request's replay status (a sidechain
/// copy of a main-chain request) is decided among the rows sharing its
/// `message.id`, as ``RequestTable/dropReplays()`` decides it. The rare
/// case that needs the whole table (a copy without `requestId` beside one
/// with it) re-derives every contribution from a priced copy.
package struct LiveMinutes {
  /// One minute of one pool.
  package struct Charge: Sendable, Equatable {
    package var estimate: Int128 = 0
    package var itpm: Int128 = 0
    package var cacheRead: Int128 = 0
    package var requests = 0

    package init() {}

    init(estimate: Int128, itpm: Int128, cacheRead: Int128, requests: Int) {
      self.estimate = estimate
      self.itpm = itpm
      self.cacheRead = cacheRead
      self.requests = requests
    }
  }

  package struct Key: Hashable, Sendable {
    /// Minutes since the epoch (UTC).
    package var minute: Int64
    package var pool: Int
  }

  /// What one request adds.
  struct Contribution {
    var key: Key
    var charge: Charge
  }

  package private(set) var table = RequestTable()
  package let context: PricingContext
  let options: IngestOptions
  package private(set) var minutes: [Key: Charge] = [:]
  /// Pool names, numbered as ``Key/pool`` numbers them.
  package private(set) var pools: [String] = []
  private var poolIDs: [String: Int] = [:]
  private var contributions: [Contribution?] = []
  private var byMessageID: [[UInt8]: [Int]] = [:]
  private var resolved: [UInt32: ResolvedModel] = [:]
  private var marks: [String: FileMark] = [:]
  /// Files that are not plain JSON Lines: read whole once, when they appear.
  private var readWhole: Set<String> = []
  private var ingest: FileIngest
  /// Requests whose figures changed in the last update.
  package private(set) var touchedLastUpdate = 0
  /// Whole-table re-derivations so far (see the type's discussion).
  package private(set) var rebuilds = 0

  package init(context: PricingContext, options: IngestOptions) {
    self.context = context
    self.options = options
    ingest = FileIngest(options: options, bufferSize: 1 << 16)
  }

  /// The number of files followed.
  package var filesFollowed: Int { marks.count + readWhole.count }

  /// Reads what was added to `files` since the last update; returns the
  /// bytes read. A followed file that was truncated or replaced makes
  /// everything be read again.
  ///
  /// `sizes` (``Discovery/sizes``, from the walk's own `stat`) spares
  /// opening a followed file whose size has not changed.
  @discardableResult
  package mutating func update(_ files: [String], sizes: [String: Int64] = [:]) -> Int64 {
    var bytes: Int64 = 0
    var touched: [Int] = []
    var restart = false
    for path in files {
      if readWhole.contains(path) { continue }
      if let size = sizes[path], let m = marks[path], size == m.size { continue }
      guard let f = FollowedFile(path) else { continue }
      if let m = marks[path] {
        if f.size == m.size, f.modified == m.modified { continue }
        guard f.continues(m) else {
          restart = true
          break
        }
        let end = f.lineEnd(from: m.offset, to: f.size) ?? m.offset
        var next = m
        next.size = f.size
        next.modified = f.modified
        if end > m.offset {
          var p = ingest.ingest(path, chunk: .init(start: m.offset, end: end, first: false))
          p.shiftLines(by: m.lines, in: path)
          bytes += p.ledger.bytes
          next = f.mark(path, offset: end, lines: m.lines + p.lineCount)
          table.merge(p.table) { touched.append($0) }
        }
        marks[path] = next
        continue
      }
      guard f.isPlainLines else {
        let p = ingest.ingest(path)
        bytes += p.ledger.bytes
        table.merge(p.table) { touched.append($0) }
        readWhole.insert(path)
        continue
      }
      // A new file: its complete lines now, the rest when it is complete.
      guard let end = f.lineEnd(from: 0, to: f.size) else { continue }
      let p = ingest.ingest(path, chunk: .init(start: 0, end: end, first: true))
      bytes += p.ledger.bytes
      marks[path] = f.mark(path, offset: end, lines: p.lineCount)
      table.merge(p.table) { touched.append($0) }
    }
    if restart {
      let count = rebuilds + 1
      self = LiveMinutes(context: context, options: options)
      rebuilds = count
      return update(files, sizes: sizes)
    }
    refresh(touched)
    return bytes
  }

  /// Re-prices the rows in `touched` and the rows sharing their message ids.
  private mutating func refresh(_ touched: [Int]) {
    if contributions.count < table.count {
      contributions += [Contribution?](repeating: nil, count: table.count - contributions.count)
    }
    var rows = Set<Int>()
    var wholeTable = false
    for i in touched where rows.insert(i).inserted {
      let (id, _) = table.replayID(of: i)
      guard let id else { continue }
      var group = byMessageID[id] ?? []
      if !group.contains(i) {
        group.append(i)
        byMessageID[id] = group
      }
      for j in group { rows.insert(j) }
      // A copy without requestId beside one with it merges into it: a
      // whole-table step (mergeCopiesWithoutRequestID).
      let kinds = group.map { table.replayID(of: $0).withoutRequestID }
      if kinds.contains(true), kinds.contains(false) { wholeTable = true }
    }
    touchedLastUpdate = rows.count
    if wholeTable {
      rederiveAll()
      return
    }
    for i in rows {
      var counted = true
      let (id, _) = table.replayID(of: i)
      if let id, table.rows[i].flags.contains(.sidechain) {
        counted = !(byMessageID[id] ?? []).contains { j in
          !table.rows[j].flags.contains(.sidechain) && table.replayID(of: j).messageID != nil
        }
      }
      set(i, counted ? contribution(i) : nil)
    }
  }

  /// Every contribution again, from a priced copy of the table.
  private mutating func rederiveAll() {
    rebuilds += 1
    var a = Analyzer()
    var p = FilePartial()
    p.table = table
    a.add(p)
    let priced = a.priced(context)
    var counted = [Bool](repeating: false, count: table.count)
    priced.forEachRequest { counted[$0] = true }
    for i in 0..<table.count { set(i, counted[i] ? contribution(i) : nil) }
  }

  private mutating func set(_ i: Int, _ c: Contribution?) {
    if let old = contributions[i] {
      var m = minutes[old.key] ?? Charge()
      m.estimate -= old.charge.estimate
      m.itpm -= old.charge.itpm
      m.cacheRead -= old.charge.cacheRead
      m.requests -= 1
      minutes[old.key] = m.requests == 0 ? nil : m
    }
    contributions[i] = c
    if let c {
      var m = minutes[c.key] ?? Charge()
      m.estimate += c.charge.estimate
      m.itpm += c.charge.itpm
      m.cacheRead += c.charge.cacheRead
      m.requests += 1
      minutes[c.key] = m
    }
  }

  /// What row `i` adds to its minute; nil for a request without a time.
  private mutating func contribution(_ i: Int) -> Contribution? {
    let row = table.rows[i]
    guard row.flags.contains(.timed) else { return nil }
    let model: ResolvedModel
    if let m = resolved[row.model] {
      model = m
    } else {
      model = context.catalog.resolve(table.strings[row.model])
      resolved[row.model] = model
    }
    let c = context.priceClass(of: row, in: table, model: model)
    let usage = table.counts(of: i).usage
    let (p, itpm) = PricedRequest.charges(usage, countsReads: c.countsCacheReads)
    let name = Arrival.pool(c.pool, model: c.model, rule: c.accounting)
    let pool: Int
    if let id = poolIDs[name] {
      pool = id
    } else {
      pool = pools.count
      pools.append(name)
      poolIDs[name] = pool
    }
    let minute = row.time >= 0 ? row.time / 60_000 : (row.time - 59_999) / 60_000
    return Contribution(
      key: Key(minute: minute, pool: pool),
      charge: Charge(estimate: p, itpm: itpm, cacheRead: Int128(usage.cacheRead), requests: 1))
  }

  /// The figures of one pool's minute.
  package func charge(minute: Int64, pool: Int) -> Charge {
    minutes[Key(minute: minute, pool: pool)] ?? Charge()
  }
}
