import Dispatch
import EstimateModel
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The de-duplicated requests of a run, stored compactly.
///
/// One row is 80 bytes: a 64-bit hash of the de-duplication key, a reference
/// to the key's exact bytes (kept in an arena, so two keys with the same hash
/// are compared byte for byte and never merged), the time, the raw usage
/// fields as 32-bit counts, and sessions, projects, models, files and agents
/// as interned 32-bit ids. Counts that do not fit 32 bits move the row's
/// values to a side table, so every value stays exact. With its index slot
/// and tag and its price class a request costs about 97 bytes plus its key's length.
///
/// Copies of one request (streaming snapshots, embedded copies, the same
/// response in two files) merge field by field: each raw usage field keeps
/// its maximum, and the descriptive fields come from the earliest copy. The
/// raw fields are merged before anything is derived from them, so a copy
/// that carries the TTL split of its cache writes and one that does not
/// count the writes once.
public struct RequestTable: Sendable {
  /// Interned strings: sessions, projects, models, files, agents.
  package var strings = StringPool()
  package var rows = PagedArray<Row>()
  private var arena = ByteArena()
  private var index = KeyIndex()
  /// Values that do not fit a row's compact fields, by row.
  private var wide: [Int: WideValues] = [:]
  /// Captured count_tokens values and rate-limit headers, by row.
  private var measured: [Int: Int64] = [:]
  /// Captured `max_tokens` and response durations, by row (replay only).
  private var hints: [Int: ReplayHints] = [:]
  /// The cost the log itself wrote, by row (the largest of the copies').
  private var loggedCosts: [Int: USD] = [:]
  /// Some row's key has a message id and no request id (set as rows are
  /// added): only then can ``mergeCopiesWithoutRequestID()`` merge anything.
  private var mayLackRequestID = false
  private var headers: [Int: RateLimitHeaders] = [:]

  /// Per project, the working directory its lines name (`cwd`), for people:
  /// the project's key stays Claude Code's folder name for it.
  private var paths: [UInt32: UInt32] = [:]
  private var lastPath: (UInt32, UInt32) = (StringPool.none, StringPool.none)

  /// Usage records added; those beyond `count` merged into an existing row.
  public private(set) var recordsAdded = 0

  public init() {}

  /// The number of rows, replays included until ``dropReplays()`` marks them.
  public var count: Int { rows.count }

  // MARK: Rows

  /// One request: 72 bytes.
  package struct Row: Sendable {
    /// Hash of the key bytes; unused for keys made from file and line.
    var hash: UInt64 = 0
    /// Arena offset of the key, or the record's sequence for file-and-line keys.
    var key: Int64 = 0
    /// The time (48 bits, two's complement) and the flags (16 bits).
    private var packed: UInt64 = 0
    var input: UInt32 = 0
    var output: UInt32 = 0
    var cacheCreation: UInt32 = 0
    var cacheRead: UInt32 = 0
    var write5m: UInt32 = 0
    var write1h: UInt32 = 0
    var session: UInt32 = 0
    var project: UInt32 = 0
    var model: UInt32 = 0
    var file: UInt32 = 0
    /// `StringPool.none` when absent.
    var agent: UInt32 = 0
    /// The line (24 bits; longer files keep it in the side table), the
    /// row's ``Traits`` (4 bits) and the copies merged into the row (4 bits,
    /// counting up to 15).
    private var lineCopies: UInt32 = 1 << 28

    /// Milliseconds since the epoch, within ±2^47 (years -2488 to 6428); see `Flags.timed`.
    var time: Int64 {
      get { Int64(bitPattern: packed << 16) >> 16 }
      set { packed = (packed & 0xFFFF_0000_0000_0000) | (UInt64(bitPattern: newValue) & 0x0000_FFFF_FFFF_FFFF) }
    }

    var flags: Flags {
      get { Flags(rawValue: UInt16(truncatingIfNeeded: packed >> 48)) }
      set { packed = (packed & 0x0000_FFFF_FFFF_FFFF) | UInt64(newValue.rawValue) << 48 }
    }

    /// The line when it fits 24 bits (see `RequestTable.line(of:)`).
    var line: UInt32 {
      get { lineCopies & 0x00FF_FFFF }
      set { lineCopies = (lineCopies & 0xFF00_0000) | (newValue & 0x00FF_FFFF) }
    }

    /// Copies merged into this request, up to 15; 0 marks a row merged into another.
    var copies: UInt32 {
      get { lineCopies >> 28 }
      set { lineCopies = (lineCopies & 0x0FFF_FFFF) | (min(newValue, 15) << 28) }
    }

    /// The source's rate-limit rule and the flags that do not fit `flags`.
    var traits: Traits {
      get { Traits(rawValue: UInt8(truncatingIfNeeded: (lineCopies >> 24) & 0xF)) }
      set { lineCopies = (lineCopies & 0xF0FF_FFFF) | (UInt32(newValue.rawValue & 0xF) << 24) }
    }

    /// Times a row can hold.
    static let timeRange: ClosedRange<Int64> = -(1 << 47)...((1 << 47) - 1)
  }

  package struct Flags: OptionSet, Sendable {
    package var rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }
    static let timed = Flags(rawValue: 1 << 0)
    static let sidechain = Flags(rawValue: 1 << 1)
    static let embedded = Flags(rawValue: 1 << 2)
    static let stopReason = Flags(rawValue: 1 << 3)
    static let batch = Flags(rawValue: 1 << 4)
    static let usGeo = Flags(rawValue: 1 << 5)
    static let fast = Flags(rawValue: 1 << 6)
    static let longContextKnown = Flags(rawValue: 1 << 7)
    static let longContext = Flags(rawValue: 1 << 8)
    static let aggregate = Flags(rawValue: 1 << 9)
    static let incompleteStream = Flags(rawValue: 1 << 10)
    /// The values live in `wide`.
    static let wide = Flags(rawValue: 1 << 11)
    /// The key is the file, line and sequence: unique, never looked up.
    static let fileKey = Flags(rawValue: 1 << 12)
    /// A sidechain copy of a main-chain request: not a request of its own.
    static let replay = Flags(rawValue: 1 << 13)
    static let hasMeasured = Flags(rawValue: 1 << 14)
    static let hasHeaders = Flags(rawValue: 1 << 15)
  }

  /// What a row's source says beside its usage, in 4 bits: the rate-limit
  /// rule of the provider that served it (by the source: Messages API,
  /// Claude Code and Admin data are Anthropic's, Bedrock shapes and URLs
  /// Bedrock's, OpenAI shapes OpenAI's), a regional endpoint the model id
  /// does not show (a Vertex AI location other than `global`), and server
  /// tools used (web search, web fetch, code execution).
  ///
  /// | bits | meaning |
  /// |---|---|
  /// | 0–1 | rule: 0 Anthropic, 1 Bedrock, 2 OpenAI, 3 Anthropic as recorded (a row read back: a Bedrock id does not make it Bedrock's) |
  /// | 2 | regional endpoint |
  /// | 3 | server tools |
  package struct Traits: Sendable, Hashable {
    package var rawValue: UInt8
    package init(rawValue: UInt8 = 0) { self.rawValue = rawValue }

    init(rule: Accounting, regional: Bool = false, serverTools: Bool = false) {
      rawValue = 0
      self.rule = rule
      self.regional = regional
      self.serverTools = serverTools
    }

    var rule: Accounting {
      get {
        switch rawValue & 0x3 {
        case 1: .bedrock
        case 2: .openai
        default: .anthropic
        }
      }
      set {
        let bits: UInt8
        switch newValue {
        case .anthropic: bits = 0
        case .bedrock: bits = 1
        case .openai: bits = 2
        }
        rawValue = (rawValue & ~0x3) | bits
      }
    }

    /// The rule as recorded (a row's `accounting`): kept whatever the model id.
    var pinned: Bool { rawValue & 0x3 == 3 || rawValue & 0x3 == 1 || rawValue & 0x3 == 2 }

    /// Records `rule` as the request's, whatever its model id says.
    mutating func pin(_ rule: Accounting) {
      self.rule = rule
      if rule == .anthropic { rawValue |= 0x3 }
    }

    package var regional: Bool {
      get { rawValue & 0x4 != 0 }
      set { rawValue = newValue ? rawValue | 0x4 : rawValue & ~0x4 }
    }

    package var serverTools: Bool {
      get { rawValue & 0x8 != 0 }
      set { rawValue = newValue ? rawValue | 0x8 : rawValue & ~0x8 }
    }

    /// The bits that change a request's price class (the rule and the endpoint).
    var priced: UInt8 { rawValue & 0x7 }
  }

  /// The exact values of a row whose counts do not fit its compact fields.
  struct WideValues: Sendable {
    var input: Int64
    var output: Int64
    var cacheCreation: Int64
    var cacheRead: Int64
    var write5m: Int64
    var write1h: Int64
    var webSearch: Int64
    var line: Int
  }

  /// Raw usage fields of one record, before any is derived from another.
  package struct RawCounts: Sendable, Equatable {
    package init(
      input: Int64 = 0, output: Int64 = 0, cacheCreation: Int64 = 0, cacheRead: Int64 = 0,
      write5m: Int64 = 0, write1h: Int64 = 0, webSearch: Int64 = 0
    ) {
      self.input = input
      self.output = output
      self.cacheCreation = cacheCreation
      self.cacheRead = cacheRead
      self.write5m = write5m
      self.write1h = write1h
      self.webSearch = webSearch
    }

    var input: Int64 = 0
    var output: Int64 = 0
    var cacheCreation: Int64 = 0
    var cacheRead: Int64 = 0
    var write5m: Int64 = 0
    var write1h: Int64 = 0
    var webSearch: Int64 = 0

    func maximum(_ o: RawCounts) -> RawCounts {
      RawCounts(
        input: max(input, o.input), output: max(output, o.output),
        cacheCreation: max(cacheCreation, o.cacheCreation), cacheRead: max(cacheRead, o.cacheRead),
        write5m: max(write5m, o.write5m), write1h: max(write1h, o.write1h),
        webSearch: max(webSearch, o.webSearch))
    }

    /// Usage by TTL: writes of unknown TTL are the total less the split.
    /// Never fails: every count is a non-negative 64-bit value.
    var usage: TokenUsage {
      let split = Int128(write5m) + Int128(write1h)
      let unknown = max(0, Int128(cacheCreation) - split)
      return TokenUsage(
        input: input, cacheWrite5m: write5m, cacheWrite1h: write1h,
        cacheWriteUnknownTTL: Int64(unknown), cacheRead: cacheRead, output: output,
        webSearchRequests: webSearch)
    }
  }

  // MARK: Adding

  /// What identifies a record's request.
  package enum Key {
    /// `message.id` and `requestId` (empty when absent).
    case ids(messageID: [UInt8], requestID: [UInt8])
    /// A key chosen by a reader (report buckets, telemetry events), with
    /// the ids the record carried, if any.
    case custom([UInt8], messageID: [UInt8]?, requestID: [UInt8]?)
    /// No id: the record is a request of its own, ordered by this sequence.
    case none(sequence: Int64)
    /// An entry already in ``KeyEncoding``'s form.
    case encoded([UInt8])
  }

  /// One normalized usage record.
  package struct Record {
    var key: Key
    var time: Instant?
    var session: String
    var project: String
    var model: String
    var agent: String?
    var file: String
    var line: Int
    var counts: RawCounts
    /// The line's `cwd`, when it carries one.
    var cwd: String? = nil
    var flags: Flags
    var measured: Int64?
    var headers: RateLimitHeaders?
    /// The request's `max_tokens` and response duration, when captured.
    var hints: ReplayHints? = nil
    var traits = Traits()
    /// The cost the log itself wrote for this copy, if any.
    var loggedCost: USD? = nil
  }

  /// The string fields of ``Record``, by field number in ``strings``.
  package enum Field: Int {
    case session, project, model, file, agent, cwd
  }

  /// A row for a record whose strings are interned already.
  package func row(
    time: Int64?, flags: Flags, session: UInt32, project: UInt32, model: UInt32, file: UInt32, agent: UInt32,
    traits: Traits = Traits()
  ) -> Row {
    var row = Row()
    row.flags = flags.subtracting([.timed, .wide, .fileKey, .hasMeasured, .hasHeaders])
    row.traits = traits
    if let t = time, Row.timeRange.contains(t) {
      row.time = t
      row.flags.insert(.timed)
    }
    row.session = session
    row.project = project
    row.model = model
    row.file = file
    row.agent = agent
    return row
  }

  /// Adds a record made without Strings (the line reader's common case):
  /// a row from ``row(time:flags:session:project:model:file:agent:)``, its
  /// key in ``KeyEncoding``'s form, the interned `cwd` if any.
  package mutating func add(
    _ row: Row, encodedKey: [UInt8], counts: RawCounts, line: Int, cwd: UInt32?
  ) {
    recordsAdded += 1
    if let cwd { notePath(cwd, project: row.project) }
    place(row, encoded: encodedKey, counts: counts, line: line, measured: nil, headers: nil)
  }

  /// Adds one record: a new row, or merged into its request's row;
  /// returns that row.
  @discardableResult package mutating func add(_ r: Record) -> Int {
    recordsAdded += 1
    var row = row(
      time: r.time?.millisecondsSinceEpoch, flags: r.flags,
      session: strings.intern(r.session, field: Field.session.rawValue),
      project: strings.intern(r.project, field: Field.project.rawValue),
      model: strings.intern(r.model, field: Field.model.rawValue),
      file: strings.intern(r.file, field: Field.file.rawValue),
      agent: r.agent.map { strings.intern($0, field: Field.agent.rawValue) } ?? StringPool.none, traits: r.traits)
    if let cwd = r.cwd { notePath(strings.intern(cwd, field: Field.cwd.rawValue), project: row.project) }
    let encoded: [UInt8]
    switch r.key {
    case .none(let sequence):
      row.key = sequence
      row.flags.insert(.fileKey)
      let i = insertNew(row, counts: r.counts, line: r.line, measured: r.measured, headers: r.headers, hints: r.hints)
      noteLoggedCost(r.loggedCost, at: i)
      return i
    case .ids(let m, let q):
      encoded = KeyEncoding.ids(m, q)
    case .custom(let k, let m, let q):
      encoded = KeyEncoding.custom(k, m, q)
    case .encoded(let e):
      encoded = e
    }
    let i = place(
      row, encoded: encoded, counts: r.counts, line: r.line, measured: r.measured, headers: r.headers, hints: r.hints)
    noteLoggedCost(r.loggedCost, at: i)
    return i
  }

  /// Gives row `i` a count_tokens value when it has none yet: as a copy
  /// carrying `m` merged into it would (the first copy's value stays).
  mutating func fillMeasured(_ m: Int64, row i: Int) {
    guard measured[i] == nil else { return }
    measured[i] = m
    rows[i].flags.insert(.hasMeasured)
  }

  /// Keeps the largest logged cost of a request's copies.
  private mutating func noteLoggedCost(_ cost: USD?, at i: Int) {
    guard let cost else { return }
    if let kept = loggedCosts[i], kept.attodollars >= cost.attodollars { return }
    loggedCosts[i] = cost
  }

  /// The cost the log itself wrote for row `i` (Claude Code 1.0.x's
  /// `costUSD`), shown beside tokengap's: nil when no copy carried one.
  func loggedCost(of i: Int) -> USD? {
    loggedCosts.isEmpty ? nil : loggedCosts[i]
  }

  /// Merges a keyed row into its request's row, or stores it as a new
  /// request; returns the row it went to.
  @discardableResult private mutating func place(
    _ row: Row, encoded: [UInt8], counts: RawCounts, line: Int, measured m: Int64?, headers h: RateLimitHeaders?,
    hints: ReplayHints? = nil
  ) -> Int {
    var row = row
    let identity = KeyEncoding.identity(encoded)
    row.hash = KeyHash.hash(identity)
    if let existing = find(hash: row.hash, identity: identity) {
      merge(into: existing, row, counts: counts, line: line, measured: m, headers: h, hints: hints)
      return existing
    }
    row.key = arena.append(encoded)
    return insertNew(row, counts: counts, line: line, measured: m, headers: h, hints: hints)
  }

  /// Folds another table in; the result does not depend on the order of tables.
  package mutating func merge(_ other: RequestTable) {
    merge(other) { _ in }
  }

  /// ``merge(_:)``, calling `touched` with each row of this table a row of
  /// `other` went to (new, or merged into).
  package mutating func merge(_ other: RequestTable, touched: (Int) -> Void) {
    recordsAdded += other.recordsAdded
    // Its rows were looked at when they were added to it.
    if other.mayLackRequestID { mayLackRequestID = true }
    var map = [UInt32](repeating: 0, count: other.strings.count)
    for k in 0..<other.strings.count { map[k] = strings.intern(other.strings[UInt32(k)]) }
    func mapped(_ id: UInt32) -> UInt32 { id == StringPool.none ? id : map[Int(id)] }
    for (project, path) in other.paths.sorted(by: { $0.key < $1.key }) {
      notePath(mapped(path), project: mapped(project))
    }
    for i in 0..<other.rows.count {
      var row = other.rows[i]
      let counts = other.counts(of: i)
      let line = other.line(of: i)
      let m = other.measuredCountTokens(of: i)
      let h = other.rateLimit(of: i)
      let x = other.hints(of: i)
      row.session = mapped(row.session)
      row.project = mapped(row.project)
      row.model = mapped(row.model)
      row.file = mapped(row.file)
      row.agent = mapped(row.agent)
      row.flags.subtract([.wide, .hasMeasured, .hasHeaders])
      let logged = other.loggedCost(of: i)
      if row.flags.contains(.fileKey) {
        let i = insertNew(row, counts: counts, line: line, measured: m, headers: h, hints: x, checkKey: false)
        noteLoggedCost(logged, at: i)
        touched(i)
        continue
      }
      let encoded = other.arena.entry(at: row.key)
      let identity = KeyEncoding.identity(encoded)
      if let existing = find(hash: row.hash, identity: identity) {
        merge(into: existing, row, counts: counts, line: line, measured: m, headers: h, hints: x, copies: row.copies)
        noteLoggedCost(logged, at: existing)
        touched(existing)
        continue
      }
      row.key = arena.append(encoded)
      let i = insertNew(row, counts: counts, line: line, measured: m, headers: h, hints: x, checkKey: false)
      noteLoggedCost(logged, at: i)
      touched(i)
    }
  }

  /// Moves the line numbers of rows read from `file` (chunked reading).
  package mutating func shiftLines(by offset: Int, in file: String) {
    guard offset > 0, let id = strings.lookup(file) else { return }
    for i in 0..<rows.count where rows[i].file == id {
      setLine(of: i, line(of: i) + offset)
    }
  }

  @discardableResult private mutating func insertNew(
    _ row: Row, counts: RawCounts, line: Int, measured m: Int64?, headers h: RateLimitHeaders?,
    hints x: ReplayHints?, checkKey: Bool = true
  ) -> Int {
    let i = rows.count
    if checkKey, !mayLackRequestID, !row.flags.contains(.fileKey) {
      let e = arena.entry(at: row.key)
      if e.first == 0, KeyEncoding.ids(e).requestID == nil { mayLackRequestID = true }
    }
    rows.append(row)
    store(counts, line: line, at: i)
    if let x { hints[i] = x }
    if let m {
      measured[i] = m
      rows[i].flags.insert(.hasMeasured)
    }
    if let h {
      headers[i] = h
      rows[i].flags.insert(.hasHeaders)
    }
    if !row.flags.contains(.fileKey) { index.insert(UInt32(i), hash: row.hash, rows: rows) }
    return i
  }

  private mutating func merge(
    into i: Int, _ b: Row, counts: RawCounts, line: Int, measured m: Int64?,
    headers h: RateLimitHeaders?, hints x: ReplayHints?, copies: UInt32 = 1
  ) {
    let a = rows[i]
    let aLine = self.line(of: i)
    let merged = counts.maximum(self.counts(of: i))
    // Descriptive fields from the earliest copy (time, file, line).
    let bFirst =
      (b.flags.contains(.timed) ? b.time : .max, strings[b.file], line)
      < (a.flags.contains(.timed) ? a.time : .max, strings[a.file], aLine)
    var row = bFirst ? b : a
    row.hash = a.hash
    row.key = a.key
    let either: Flags = [.stopReason, .batch, .usGeo, .fast]
    let both: Flags = [.sidechain, .embedded, .incompleteStream]
    row.flags = row.flags.subtracting(either.union(both).union([.longContextKnown, .longContext]))
    row.flags.formUnion(a.flags.union(b.flags).intersection(either))
    row.flags.formUnion(a.flags.intersection(b.flags).intersection(both))
    row.flags.formUnion(a.flags.intersection([.hasMeasured, .hasHeaders]))
    row.flags.subtract(.wide)
    if a.flags.contains(.wide) { row.flags.insert(.wide) }
    // The rule is the earliest copy's; a regional endpoint or a server tool
    // seen on any copy holds for the request.
    row.traits.regional = a.traits.regional || b.traits.regional
    row.traits.serverTools = a.traits.serverTools || b.traits.serverTools
    let longSource = a.flags.contains(.longContextKnown) ? a.flags : b.flags
    row.flags.formUnion(longSource.intersection([.longContextKnown, .longContext]))
    row.copies = a.copies &+ copies
    rows[i] = row
    store(merged, line: bFirst ? line : aLine, at: i)
    if measured[i] == nil, let m {
      measured[i] = m
      rows[i].flags.insert(.hasMeasured)
    }
    if headers[i] == nil, let h {
      headers[i] = h
      rows[i].flags.insert(.hasHeaders)
    }
    // Each field from the first copy that carries it.
    if let x { hints[i] = (hints[i] ?? ReplayHints()).filling(from: x) }
  }

  private func find(hash: UInt64, identity: ArraySlice<UInt8>) -> Int? {
    index.find(hash: hash, rows: rows) { i in arena.starts(at: rows[i].key, with: identity) }
  }

  // MARK: Values

  private mutating func store(_ c: RawCounts, line: Int, at i: Int) {
    let limit = Int64(UInt32.max)
    let fits =
      c.input <= limit && c.output <= limit && c.cacheCreation <= limit && c.cacheRead <= limit
      && c.write5m <= limit && c.write1h <= limit && c.webSearch == 0
      && line >= 0 && line <= 0x00FF_FFFF
    if fits {
      // Read and written back once: each access to a paged row checks its page.
      var r = rows[i]
      r.input = UInt32(c.input)
      r.output = UInt32(c.output)
      r.cacheCreation = UInt32(c.cacheCreation)
      r.cacheRead = UInt32(c.cacheRead)
      r.write5m = UInt32(c.write5m)
      r.write1h = UInt32(c.write1h)
      r.line = UInt32(line)
      if r.flags.contains(.wide) {
        r.flags.remove(.wide)
        wide[i] = nil
      }
      rows[i] = r
    } else {
      wide[i] = WideValues(
        input: c.input, output: c.output, cacheCreation: c.cacheCreation, cacheRead: c.cacheRead,
        write5m: c.write5m, write1h: c.write1h, webSearch: c.webSearch, line: line)
      rows[i].flags.insert(.wide)
    }
  }

  private mutating func setLine(of i: Int, _ line: Int) {
    store(counts(of: i), line: line, at: i)
  }

  /// The raw usage fields of row `i`.
  package func counts(of i: Int) -> RawCounts {
    let r = rows[i]
    if r.flags.contains(.wide), let w = wide[i] {
      return RawCounts(
        input: w.input, output: w.output, cacheCreation: w.cacheCreation, cacheRead: w.cacheRead,
        write5m: w.write5m, write1h: w.write1h, webSearch: w.webSearch)
    }
    return RawCounts(
      input: Int64(r.input), output: Int64(r.output), cacheCreation: Int64(r.cacheCreation),
      cacheRead: Int64(r.cacheRead), write5m: Int64(r.write5m), write1h: Int64(r.write1h),
      webSearch: 0)
  }

  /// The line of row `i`'s earliest copy.
  package func line(of i: Int) -> Int {
    let r = rows[i]
    if r.flags.contains(.wide), let w = wide[i] { return w.line }
    return Int(r.line)
  }

  package func measuredCountTokens(of i: Int) -> Int64? {
    rows[i].flags.contains(.hasMeasured) ? measured[i] : nil
  }

  /// The captured `max_tokens` and response duration of row `i`, if any.
  package func hints(of i: Int) -> ReplayHints? { hints[i] }

  package func rateLimit(of i: Int) -> RateLimitHeaders? {
    rows[i].flags.contains(.hasHeaders) ? headers[i] : nil
  }

  /// `message.id` and `requestId` of row `i`, as logged.
  package func ids(of i: Int) -> (messageID: String?, requestID: String?) {
    let r = rows[i]
    guard !r.flags.contains(.fileKey) else { return (nil, nil) }
    let ids = KeyEncoding.ids(arena.entry(at: r.key))
    return (
      ids.messageID.map { String(decoding: $0, as: UTF8.self) },
      ids.requestID.map { String(decoding: $0, as: UTF8.self) }
    )
  }

  /// Row `i`'s `message.id` as ``dropReplays()`` sees it (nil for a row
  /// without one, or merged into another), and whether the row's key is
  /// `message.id` without a `requestId` (what
  /// ``mergeCopiesWithoutRequestID()`` merges).
  package func replayID(of i: Int) -> (messageID: [UInt8]?, withoutRequestID: Bool) {
    let r = rows[i]
    guard !r.flags.contains(.fileKey), r.copies > 0 else { return (nil, false) }
    let entry = arena.entry(at: r.key)
    let ids = KeyEncoding.ids(entry)
    guard let m = ids.messageID, !m.isEmpty else { return (nil, false) }
    return (Array(m), entry.first == 0 && ids.requestID == nil)
  }

  /// The key a reader chose for row `i` (usage-report buckets, telemetry
  /// events), as logged; nil for keys made of `message.id` and `requestId`.
  package func customKey(of i: Int) -> String? {
    let r = rows[i]
    guard !r.flags.contains(.fileKey) else { return nil }
    return KeyEncoding.custom(arena.entry(at: r.key)).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The bytes that order two rows whose time, file and line are equal.
  package func orderKey(of i: Int) -> ArraySlice<UInt8> {
    let r = rows[i]
    guard !r.flags.contains(.fileKey) else { return [] }
    return KeyEncoding.identity(arena.entry(at: r.key))
  }

  // MARK: Replays

  /// Marks sidechain rows whose `message.id` a main-chain row carries:
  /// replays of a main-chain request, not requests of their own. Returns
  /// how many were marked. When sidechain rows are the fewer, the main
  /// rows look their ids up in `slices` side by side (nil:
  /// ``ParallelIngest/threads`` past 16,384 rows); the marks do not depend on it.
  package mutating func dropReplays(slices: Int? = nil) -> Int {
    var main = KeyIndex()
    var mainIDs: [UInt32] = []
    func messageID(_ i: Int) -> ArraySlice<UInt8>? {
      let r = rows[i]
      guard !r.flags.contains(.fileKey), r.copies > 0 else { return nil }
      guard let m = KeyEncoding.ids(arena.entry(at: r.key)).messageID, !m.isEmpty else { return nil }
      return m
    }
    // Only sidechain rows are looked up: index the main rows only if any exists.
    var anySidechain = false
    for i in 0..<rows.count where rows[i].flags.contains(.sidechain) {
      anySidechain = true
      break
    }
    guard anySidechain else { return 0 }
    var sideCount = 0
    for i in 0..<rows.count where rows[i].flags.contains(.sidechain) { sideCount += 1 }
    if 2 * sideCount < rows.count {
      let replays = replaysIndexingSidechains(slices: slices ?? (rows.count >= 16_384 ? ParallelIngest.threads : 1))
      for i in replays { rows[i].flags.insert(.replay) }
      return replays.count
    }
    var hashes: [UInt64] = []
    for i in 0..<rows.count where !rows[i].flags.contains(.sidechain) {
      guard let m = messageID(i) else { continue }
      let h = KeyHash.hash(m)
      let slot = UInt32(hashes.count)
      hashes.append(h)
      mainIDs.append(UInt32(i))
      main.insert(slot, hash: h, hashOf: { hashes[$0] })
    }
    guard !mainIDs.isEmpty else { return 0 }
    var dropped = 0
    for i in 0..<rows.count where rows[i].flags.contains(.sidechain) {
      guard let m = messageID(i) else { continue }
      let hit = main.find(
        hash: KeyHash.hash(m), hashOf: { hashes[$0] }, { slot in messageID(Int(mainIDs[slot])) == m })
      if hit != nil {
        rows[i].flags.insert(.replay)
        dropped += 1
      }
    }
    return dropped
  }

  /// The replays ``dropReplays()`` marks, found from the other side when
  /// sidechain rows are the fewer: their message ids are indexed (equal ids
  /// chained), and each main row's id takes its whole chain.
  private func replaysIndexingSidechains(slices wanted: Int) -> [Int] {
    @Sendable func messageID(_ i: Int) -> ArraySlice<UInt8>? {
      let r = rows[i]
      guard !r.flags.contains(.fileKey), r.copies > 0 else { return nil }
      guard let m = KeyEncoding.ids(arena.entry(at: r.key)).messageID, !m.isEmpty else { return nil }
      return m
    }
    var index = KeyIndex()
    var hashes: [UInt64] = []
    // Per distinct id: its first row, the chain's next row per row, and
    // whether a main row has been found for it.
    var first: [UInt32] = []
    var next = [Int32](repeating: -1, count: rows.count)
    var last: [UInt32] = []
    var found: [Bool] = []
    for i in 0..<rows.count where rows[i].flags.contains(.sidechain) {
      guard let m = messageID(i) else { continue }
      let h = KeyHash.hash(m)
      if let slot = index.find(hash: h, hashOf: { hashes[$0] }, { messageID(Int(first[$0])) == m }) {
        next[Int(last[slot])] = Int32(i)
        last[slot] = UInt32(i)
        continue
      }
      let slot = UInt32(first.count)
      first.append(UInt32(i))
      last.append(UInt32(i))
      hashes.append(h)
      found.append(false)
      index.insert(slot, hash: h, hashOf: { hashes[$0] })
    }
    guard !first.isEmpty else { return [] }
    // The main rows look their ids up side by side (the index is only
    // read), each slice listing the ids it found; a chain is taken once.
    let slices = max(1, min(wanted, rows.count))
    let size = (rows.count + slices - 1) / slices
    let (ids, idHashes, firsts) = (index, hashes, first)
    let hits = Mutex([[UInt32]](repeating: [], count: slices))
    DispatchQueue.concurrentPerform(iterations: slices) { k in
      var seen: [UInt32] = []
      for i in (k * size)..<min(rows.count, (k + 1) * size) where !rows[i].flags.contains(.sidechain) {
        guard let m = messageID(i),
          let slot = ids.find(
            hash: KeyHash.hash(m), hashOf: { idHashes[$0] }, { messageID(Int(firsts[$0])) == m })
        else { continue }
        seen.append(UInt32(slot))
      }
      hits.withLock { $0[k] = seen }
    }
    var replays: [Int] = []
    for slot in hits.withLock({ $0 }).joined() where !found[Int(slot)] {
      found[Int(slot)] = true
      var row = Int32(first[Int(slot)])
      while row >= 0 {
        replays.append(Int(row))
        row = next[Int(row)]
      }
    }
    return replays
  }

  /// Merges each copy that lacks a `requestId` into the one request that has
  /// the same `message.id` and a `requestId` (a logger that dropped the id
  /// wrote the same response). With several such requests the copy is
  /// ambiguous and stays a request of its own. Returns how many merged; a
  /// merged row keeps `copies == 0` and is no request.
  package mutating func mergeCopiesWithoutRequestID() -> Int {
    // Most tables have no such copy, and know it.
    guard mayLackRequestID else { return 0 }
    func ids(_ i: Int) -> (ArraySlice<UInt8>, Bool)? {
      let r = rows[i]
      guard !r.flags.contains(.fileKey), r.copies > 0 else { return nil }
      let entry = arena.entry(at: r.key)
      guard entry.first == 0 else { return nil }
      let (m, q) = KeyEncoding.ids(entry)
      guard let m, !m.isEmpty else { return nil }
      return (m, q != nil)
    }
    // Most tables have no such copy: look for one before indexing anything.
    var anyWithout = false
    for i in 0..<rows.count {
      if let (_, hasRequestID) = ids(i), !hasRequestID {
        anyWithout = true
        break
      }
    }
    guard anyWithout else { return 0 }
    var withID: [UInt32] = []
    var hashes: [UInt64] = []
    var ambiguous = Set<UInt32>()
    var index = KeyIndex()
    for i in 0..<rows.count {
      guard let (m, hasRequestID) = ids(i), hasRequestID else { continue }
      let h = KeyHash.hash(m)
      if let slot = index.find(hash: h, hashOf: { hashes[$0] }, { ids(Int(withID[$0]))?.0 == m }) {
        ambiguous.insert(UInt32(slot))
        continue
      }
      let slot = UInt32(withID.count)
      withID.append(UInt32(i))
      hashes.append(h)
      index.insert(slot, hash: h, hashOf: { hashes[$0] })
    }
    guard !withID.isEmpty else { return 0 }
    var merged = 0
    for i in 0..<rows.count {
      guard let (m, hasRequestID) = ids(i), !hasRequestID else { continue }
      guard
        let slot = index.find(
          hash: KeyHash.hash(m), hashOf: { hashes[$0] }, { ids(Int(withID[$0]))?.0 == m }),
        !ambiguous.contains(UInt32(slot))
      else { continue }
      let target = Int(withID[slot])
      let b = rows[i]
      merge(
        into: target, b, counts: counts(of: i), line: line(of: i), measured: measuredCountTokens(of: i),
        headers: rateLimit(of: i), hints: hints(of: i), copies: b.copies)
      noteLoggedCost(loggedCost(of: i), at: target)
      rows[i].copies = 0
      merged += 1
    }
    return merged
  }

  /// Flags the rows whose `message.id` is one of `ids` as having used
  /// server tools (found in a document's content blocks after its usage
  /// was read). One pass over the rows: meant for one file's table.
  package mutating func markServerTools(messageIDs ids: Set<String>) {
    guard !ids.isEmpty else { return }
    // Rows keyed by their ids only: a step of usage.iterations keyed as its
    // own request keeps the flag off (the tools stay with the request).
    for i in 0..<rows.count where !rows[i].flags.contains(.fileKey) {
      let entry = arena.entry(at: rows[i].key)
      guard entry.first == 0, let m = KeyEncoding.ids(entry).messageID,
        ids.contains(String(decoding: m, as: UTF8.self))
      else { continue }
      rows[i].traits.serverTools = true
    }
  }

  /// The working directory a project's lines name, if any.
  package func path(ofProject id: UInt32) -> String? {
    paths[id].map { strings[$0] }
  }

  /// Keeps one working directory per project, whatever the order of lines
  /// and tables: the one Claude Code's folder name was made from, else the
  /// least (a session may `cd` elsewhere; its folder keeps the first).
  private mutating func notePath(_ path: UInt32, project: UInt32) {
    // Runs of lines of one project and directory: nothing to decide.
    if lastPath == (project, path) { return }
    lastPath = (project, path)
    guard let kept = paths[project], kept != path else {
      paths[project] = path
      return
    }
    let name = strings[project]
    let (a, b) = (strings[kept], strings[path])
    let (ma, mb) = (FileIngest.encodeProject(a) == name, FileIngest.encodeProject(b) == name)
    if mb && !ma || (ma == mb && b < a) { paths[project] = path }
  }

  /// Frees the key index once no more rows will be added.
  package consuming func sealed() -> RequestTable {
    index = KeyIndex()
    return self
  }
}

// MARK: - Snapshot

extension RequestTable {
  /// The table as bytes, for a state file that lets a later run resume
  /// instead of reading its inputs again; nil when a row carries what the
  /// snapshot does not keep (captured rate-limit headers or replay hints,
  /// which only captures have): such a table is read again each time.
  ///
  /// Rows keep their order, keys, strings, raw counts, flags, copies and
  /// lines, so a table read back merges later records exactly as the
  /// original would.
  package func snapshot(into w: inout StateWriter) -> Bool {
    guard headers.isEmpty, hints.isEmpty else { return false }
    w.u32(UInt32(truncatingIfNeeded: strings.count))
    for k in 0..<strings.count { w.string(strings[UInt32(k)]) }
    w.u32(UInt32(truncatingIfNeeded: paths.count))
    for (project, path) in paths.sorted(by: { $0.key < $1.key }) {
      w.u32(project)
      w.u32(path)
    }
    w.i64(Int64(recordsAdded))
    w.u64(UInt64(rows.count))
    for i in 0..<rows.count {
      let r = rows[i]
      w.u32(UInt32(r.flags.rawValue))
      w.u8(r.traits.rawValue)
      w.u8(UInt8(r.copies))
      w.i64(r.time)
      for id in [r.session, r.project, r.model, r.file, r.agent] { w.u32(id) }
      if r.flags.contains(.fileKey) {
        w.i64(r.key)
      } else {
        w.data(arena.entry(at: r.key))
      }
      let c = counts(of: i)
      for v in [c.input, c.output, c.cacheCreation, c.cacheRead, c.write5m, c.write1h, c.webSearch] { w.i64(v) }
      w.i64(Int64(line(of: i)))
      w.i64(measuredCountTokens(of: i) ?? -1)
      if let cost = loggedCost(of: i) {
        w.u8(1)
        w.u64(UInt64(truncatingIfNeeded: cost.attodollars))
        w.u64(UInt64(truncatingIfNeeded: cost.attodollars >> 64))
      } else {
        w.u8(0)
      }
    }
    return true
  }

  /// A table read back from ``snapshot(into:)``; nil when anything in the
  /// bytes is out of place (a string id, a key, a negative count): the
  /// caller then reads its inputs whole.
  package init?(snapshot r: inout StateReader) {
    self.init()
    guard let stringCount = r.u32() else { return nil }
    for k in 0..<Int(stringCount) {
      guard let s = r.string(), strings.intern(s) == UInt32(k) else { return nil }
    }
    func valid(_ id: UInt32, orNone: Bool = false) -> Bool {
      Int(id) < strings.count || (orNone && id == StringPool.none)
    }
    guard let pathCount = r.u32() else { return nil }
    for _ in 0..<pathCount {
      guard let project = r.u32(), let path = r.u32(), valid(project), valid(path) else { return nil }
      paths[project] = path
    }
    guard let added = r.i64(), added >= 0, let rowCount = r.u64(), rowCount <= UInt64(Int32.max) else { return nil }
    for _ in 0..<Int(rowCount) {
      guard let flagBits = r.u32(), flagBits <= UInt32(UInt16.max), let traits = r.u8(), let copies = r.u8(),
        copies <= 15, let time = r.i64(), let session = r.u32(), let project = r.u32(), let model = r.u32(),
        let file = r.u32(), let agent = r.u32(), valid(session), valid(project), valid(model), valid(file),
        valid(agent, orNone: true)
      else { return nil }
      let flags = Flags(rawValue: UInt16(flagBits))
      guard flags.isDisjoint(with: [.hasHeaders]), traits <= 0xF else { return nil }
      var row = self.row(
        time: flags.contains(.timed) ? time : nil, flags: flags, session: session, project: project, model: model,
        file: file, agent: agent, traits: Traits(rawValue: traits))
      guard flags.contains(.timed) == row.flags.contains(.timed) else { return nil }
      row.copies = UInt32(copies)
      var key: [UInt8]?
      if flags.contains(.fileKey) {
        guard let sequence = r.i64() else { return nil }
        row.key = sequence
        row.flags.insert(.fileKey)
      } else {
        guard let bytes = r.data(), Self.wellFormedKey(bytes) else { return nil }
        key = Array(bytes)
      }
      // The seven counts, in the order written (no array made per row).
      guard let v0 = r.i64(), let v1 = r.i64(), let v2 = r.i64(), let v3 = r.i64(), let v4 = r.i64(),
        let v5 = r.i64(), let v6 = r.i64(), min(v0, v1, v2, v3, v4, v5, v6) >= 0
      else { return nil }
      guard let line = r.i64(), line >= 0, line <= Int64(Int32.max), let m = r.i64(), m >= -1,
        let hasCost = r.u8(), hasCost <= 1
      else { return nil }
      var cost: USD?
      if hasCost == 1 {
        guard let low = r.u64(), let high = r.u64() else { return nil }
        cost = USD(attodollars: Int128(Int64(bitPattern: high)) << 64 | Int128(low))
      }
      let counts = RawCounts(
        input: v0, output: v1, cacheCreation: v2, cacheRead: v3, write5m: v4, write1h: v5, webSearch: v6)
      if let key {
        row.hash = KeyHash.hash(KeyEncoding.identity(key))
        row.key = arena.append(key)
      }
      let i = insertNew(row, counts: counts, line: Int(line), measured: m >= 0 ? m : nil, headers: nil, hints: nil)
      noteLoggedCost(cost, at: i)
    }
    recordsAdded = Int(added)
  }

  /// Whether `bytes` is one whole ``KeyEncoding`` entry: a kind of 0 or 1,
  /// then its parts' lengths and bytes, ending where the bytes end.
  static func wellFormedKey(_ bytes: ArraySlice<UInt8>) -> Bool {
    guard let kind = bytes.first, kind <= 1 else { return false }
    var at = bytes.startIndex + 1
    for _ in 0..<(kind == 1 ? 3 : 2) {
      var n = 0
      var shift = 0
      while true {
        guard at < bytes.endIndex, shift <= 28 else { return false }
        let b = bytes[at]
        at += 1
        n |= Int(b & 0x7F) << shift
        shift += 7
        if b & 0x80 == 0 { break }
      }
      guard n == 0 || n - 1 <= bytes.endIndex - at else { return false }
      if n > 0 { at += n - 1 }
    }
    return at == bytes.endIndex
  }
}

// MARK: - Storage

/// Strings stored once, named by 32-bit ids.
package struct StringPool: Sendable {
  package static let none = UInt32.max
  private var values: [String] = []
  private var ids: [String: UInt32] = [:]
  /// The last string interned per field, to skip hashing runs of the same value.
  private var last: [(String, UInt32)?] = [nil, nil, nil, nil, nil, nil]

  package var count: Int { values.count }

  package subscript(id: UInt32) -> String { values[Int(id)] }

  package mutating func intern(_ s: String, field: Int = 0) -> UInt32 {
    if let hit = last[field], hit.0 == s { return hit.1 }
    let id: UInt32
    if let found = ids[s] {
      id = found
    } else {
      id = UInt32(values.count)
      values.append(s)
      ids[s] = id
    }
    last[field] = (s, id)
    return id
  }

  package func lookup(_ s: String) -> UInt32? { ids[s] }

  /// Interns text given as UTF-8 bytes; nil for invalid UTF-8 (see
  /// ``RecentText`` for the runs of equal bytes a reader meets).
  package mutating func intern(bytes: UnsafeBufferPointer<UInt8>, field: Int) -> UInt32? {
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    return intern(text, field: field)
  }
}

/// The last text a reader interned for one field, by its bytes: lines repeat
/// their session, model and directory, and a match costs one compare.
package struct RecentText {
  private var bytes: [UInt8] = []
  private var id = StringPool.none

  package init() {}

  /// Forgets the text (its id belongs to a table being replaced).
  package mutating func reset() { id = StringPool.none }

  /// The id of `raw`, from the last match or interned in `pool`; nil for invalid UTF-8.
  package mutating func intern(_ raw: UnsafeBufferPointer<UInt8>, in pool: inout StringPool, field: Int) -> UInt32? {
    if id != StringPool.none, bytes.count == raw.count,
      bytes.withUnsafeBufferPointer({ a in
        guard let x = a.baseAddress, let y = raw.baseAddress else { return true }
        return memcmp(x, y, raw.count) == 0
      })
    {
      return id
    }
    guard let found = pool.intern(bytes: raw, field: field) else { return nil }
    bytes.removeAll(keepingCapacity: true)
    bytes.append(contentsOf: raw)
    id = found
    return found
  }
}

/// An array in fixed-size pages: growing never copies what is stored, so
/// memory follows the element count instead of doubling.
package struct PagedArray<Element: Sendable>: Sendable {
  private static var shift: Int { 14 }
  private var pages: [[Element]] = []
  package private(set) var count = 0

  package init() {}

  package mutating func append(_ e: Element) {
    let size = 1 << Self.shift
    if count & (size - 1) == 0 {
      var page: [Element] = []
      page.reserveCapacity(size)
      pages.append(page)
    }
    pages[pages.count - 1].append(e)
    count += 1
  }

  package subscript(i: Int) -> Element {
    get { pages[i >> Self.shift][i & ((1 << Self.shift) - 1)] }
    set { pages[i >> Self.shift][i & ((1 << Self.shift) - 1)] = newValue }
  }
}

/// Key bytes, appended in pages of 1 MiB (a longer key gets a page of its own).
private struct ByteArena: Sendable {
  private static let pageSize = 1 << 20
  private var pages: [[UInt8]] = []
  /// The last page holds one long key alone.
  private var lastAlone = false

  /// Stores `bytes`; returns the offset `page << 32 | position`. A page
  /// grows as keys come (most tables hold one file's few keys) up to 1 MiB.
  mutating func append<C: Collection>(_ bytes: C) -> Int64 where C.Element == UInt8 {
    if bytes.count > Self.pageSize / 4 {
      pages.append(Array(bytes))
      lastAlone = true
      return Int64(pages.count - 1) << 32
    }
    if pages.isEmpty || lastAlone || pages[pages.count - 1].count + bytes.count > Self.pageSize {
      pages.append([])
      lastAlone = false
    }
    let p = pages.count - 1
    let at = pages[p].count
    // Grown by doubling, but never past a page: an array's own growth
    // would leave up to half of a full page's capacity unused.
    let needed = at + bytes.count
    if needed > pages[p].capacity {
      pages[p].reserveCapacity(min(Self.pageSize, max(needed, 2 * pages[p].capacity)))
    }
    pages[p].append(contentsOf: bytes)
    return Int64(p) << 32 | Int64(at)
  }

  /// Whether the entry at `offset` starts with `identity`: then its identity
  /// is `identity` (the encoding is prefix-free: the same bytes parse to the
  /// same parts, so no longer identity starts with a whole one).
  func starts(at offset: Int64, with identity: ArraySlice<UInt8>) -> Bool {
    let start = Int(offset & 0xFFFF_FFFF)
    return pages[Int(offset >> 32)].withUnsafeBufferPointer { page in
      identity.withUnsafeBufferPointer { id in
        guard start + id.count <= page.count, let a = page.baseAddress, let b = id.baseAddress else {
          return id.isEmpty
        }
        return memcmp(a + start, b, id.count) == 0
      }
    }
  }

  /// The entry stored at `offset`.
  func entry(at offset: Int64) -> ArraySlice<UInt8> {
    let page = pages[Int(offset >> 32)]
    let start = Int(offset & 0xFFFF_FFFF)
    return page[start..<(start + KeyEncoding.length(page[start...]))]
  }
}

/// The arena's entries: a kind byte, then length-prefixed parts.
///
/// | kind | parts | identity |
/// |---|---|---|
/// | 0 | message id, request id | the whole entry |
/// | 1 | custom key, message id, request id | kind and custom key |
enum KeyEncoding {
  static func ids(_ m: [UInt8], _ q: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0]
    out.reserveCapacity(m.count + q.count + 8)
    part(m, into: &out)
    part(q, into: &out)
    return out
  }

  static func custom(_ k: [UInt8], _ m: [UInt8]?, _ q: [UInt8]?) -> [UInt8] {
    var out: [UInt8] = [1]
    part(k, into: &out)
    part(m ?? [], into: &out, absent: m == nil)
    part(q ?? [], into: &out, absent: q == nil)
    return out
  }

  /// A part: its length + 1 as a varint (0 when absent), then its bytes.
  private static func part(_ bytes: [UInt8], into out: inout [UInt8], absent: Bool = false) {
    prefix(absent ? nil : bytes.count, into: &out)
    out += bytes
  }

  /// The length prefix of a part of `count` bytes (nil: absent).
  static func prefix(_ count: Int?, into out: inout [UInt8]) {
    var n = count.map { UInt64($0) + 1 } ?? 0
    repeat {
      let b = UInt8(n & 0x7F)
      n >>= 7
      out.append(n == 0 ? b : b | 0x80)
    } while n != 0
  }

  /// Reads a part at `at`; returns its bytes (nil when absent) and the next offset.
  private static func read(_ e: ArraySlice<UInt8>, _ at: Int) -> (ArraySlice<UInt8>?, Int) {
    var n: UInt64 = 0
    var shift: UInt64 = 0
    var k = at
    while k < e.endIndex {
      let b = e[k]
      k += 1
      n |= UInt64(b & 0x7F) << shift
      shift += 7
      if b & 0x80 == 0 || shift > 56 { break }
    }
    guard n > 0 else { return (nil, k) }
    let end = min(e.endIndex, k + Int(n - 1))
    return (e[k..<end], end)
  }

  /// The length of the entry starting at `e.startIndex`.
  static func length(_ e: ArraySlice<UInt8>) -> Int {
    let parts = e.first == 1 ? 3 : 2
    var at = e.startIndex + 1
    for _ in 0..<parts { at = read(e, at).1 }
    return at - e.startIndex
  }

  /// The bytes that identify the request.
  static func identity(_ e: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    guard e.first == 1 else { return e }
    return e[e.startIndex..<read(e, e.startIndex + 1).1]
  }

  static func identity(_ e: [UInt8]) -> ArraySlice<UInt8> { identity(e[...]) }

  /// The custom key of a kind-1 entry; nil for any other.
  static func custom(_ e: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    guard e.first == 1 else { return nil }
    return read(e, e.startIndex + 1).0
  }

  /// The message and request ids of an entry; an empty request id is absent.
  static func ids(_ e: ArraySlice<UInt8>) -> (messageID: ArraySlice<UInt8>?, requestID: ArraySlice<UInt8>?) {
    var at = e.startIndex + 1
    if e.first == 1 { at = read(e, at).1 }
    let (m, next) = read(e, at)
    let (q, _) = read(e, next)
    if e.first == 0 {
      return (m, q.flatMap { $0.isEmpty ? nil : $0 })
    }
    return (m, q)
  }
}

/// A 64-bit hash of key bytes (multiply-xorshift over 8-byte words).
enum KeyHash {
  static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    if let h = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return h }
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
    var word: UInt64 = 0
    var n = 0
    for b in bytes {
      word |= UInt64(b) << (UInt64(n) * 8)
      n += 1
      if n == 8 {
        h = mix(h ^ word)
        word = 0
        n = 0
      }
    }
    if n > 0 { h = mix(h ^ word) }
    return mix(h)
  }

  /// The same hash over bytes in memory, eight at a time: a word is its
  /// eight bytes read little-endian, as the loop above assembles it.
  static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
    guard let base = bytes.baseAddress else { return mix(h) }
    var at = 0
    while bytes.count - at >= 8 {
      h = mix(h ^ UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
      at += 8
    }
    if at < bytes.count {
      var word: UInt64 = 0
      for k in at..<bytes.count { word |= UInt64(bytes[k]) << (UInt64(k - at) * 8) }
      h = mix(h ^ word)
    }
    return mix(h)
  }

  private static func mix(_ x: UInt64) -> UInt64 {
    var z = x &* 0xBF58_476D_1CE4_E5B9
    z ^= z >> 31
    z = z &* 0x94D0_49BB_1331_11EB
    z ^= z >> 29
    return z
  }
}

/// Open addressing over row numbers: a slot holds a row number + 1, and a
/// tag (the hash's top byte) beside it, so a probe reads a row's hash (a
/// row anywhere in the table) only when the tags agree: about one probe in
/// 256 that passes another key.
private struct KeyIndex: Sendable {
  private var slots: [UInt32] = []
  private var tags: [UInt8] = []
  private var used = 0

  private static func tag(_ hash: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: hash >> 56) }

  func find(
    hash: UInt64, rows: PagedArray<RequestTable.Row>, _ equal: (Int) -> Bool
  ) -> Int? {
    find(hash: hash, hashOf: { rows[$0].hash }, equal)
  }

  func find(hash: UInt64, hashOf: (Int) -> UInt64, _ equal: (Int) -> Bool) -> Int? {
    guard !slots.isEmpty else { return nil }
    let mask = slots.count - 1
    let tag = Self.tag(hash)
    var s = Int(truncatingIfNeeded: hash) & mask
    while slots[s] != 0 {
      if tags[s] == tag {
        let i = Int(slots[s] - 1)
        if hashOf(i) == hash, equal(i) { return i }
      }
      s = (s + 1) & mask
    }
    return nil
  }

  mutating func insert(_ row: UInt32, hash: UInt64, rows: PagedArray<RequestTable.Row>) {
    insert(row, hash: hash, hashOf: { rows[$0].hash })
  }

  mutating func insert(_ row: UInt32, hash: UInt64, hashOf: (Int) -> UInt64) {
    if (used + 1) * 4 > slots.count * 3 { grow(hashOf) }
    let mask = slots.count - 1
    var s = Int(truncatingIfNeeded: hash) & mask
    while slots[s] != 0 { s = (s + 1) & mask }
    slots[s] = row + 1
    tags[s] = Self.tag(hash)
    used += 1
  }

  private mutating func grow(_ hashOf: (Int) -> UInt64) {
    let old = slots
    let oldTags = tags
    slots = [UInt32](repeating: 0, count: max(64, old.count * 2))
    tags = [UInt8](repeating: 0, count: slots.count)
    let mask = slots.count - 1
    for (k, v) in old.enumerated() where v != 0 {
      var s = Int(truncatingIfNeeded: hashOf(Int(v - 1))) & mask
      while slots[s] != 0 { s = (s + 1) & mask }
      slots[s] = v
      tags[s] = oldTags[k]
    }
  }
}

/// What a capture says about a request that only a replay needs.
package struct ReplayHints: Sendable, Hashable {
  /// The request's `max_tokens` (HAR request bodies).
  package var maxTokens: Int64?
  /// How long the response took, in milliseconds (HAR `time`, OTel `duration_ms`).
  package var durationMs: Int64?

  package init(maxTokens: Int64? = nil, durationMs: Int64? = nil) {
    self.maxTokens = maxTokens
    self.durationMs = durationMs
  }

  /// nil when the capture said nothing.
  package init?(maxTokens: Int64?, durationMs: Int64?, orNil: Void) {
    guard maxTokens != nil || durationMs != nil else { return nil }
    self.init(maxTokens: maxTokens, durationMs: durationMs)
  }

  /// These hints, with the fields they lack taken from `other`.
  func filling(from other: ReplayHints) -> ReplayHints {
    ReplayHints(maxTokens: maxTokens ?? other.maxTokens, durationMs: durationMs ?? other.durationMs)
  }
}
