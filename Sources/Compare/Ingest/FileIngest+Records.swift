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

/// A usage record before normalization, from any reader.
struct RawUsage {
  var messageID: String?
  var requestID: String?
  var model: String?
  var time: Instant?
  /// A timestamp was present but unreadable.
  var badTime = false
  var session: String?
  var project: String?
  /// The line's `cwd`, carried for display (the project key is unchanged).
  var cwd: String?
  var agent: String?
  var sidechain = false
  var embedded = false
  var apiError = false
  var stopReason = false
  var input: Int64?
  var output: Int64?
  var cacheCreation: Int64?
  var cacheRead: Int64?
  var write5m: Int64?
  var write1h: Int64?
  var webSearch: Int64?
  var serviceTier: String?
  var geo: String?
  var speed: String?
  /// Set by the line reader instead of the three strings above.
  var batch = false
  var usGeo = false
  var fast = false
  var longContext: Bool?
  var measured: Int64?
  var rateLimit: RateLimitHeaders?
  /// `max_tokens` and the response's duration in ms, where the capture has them.
  var maxTokens: Int64?
  var durationMs: Int64?
  var aggregate = false
  var incompleteStream = false
  /// Folded from a stream: message_delta totals may legitimately exceed the
  /// message_start TTL split.
  var streamFolded = false
  /// A de-duplication key chosen by the reader (buckets, telemetry events).
  var key: String?
  /// The ids are in `FileIngest.keyScratch`, encoded.
  var encodedKey = false
  /// Where the request was first read, when not this line of this file
  /// (tokengap's own rows carry their source's file and line).
  var sourceFile: String?
  var sourceLine: Int?
  /// `usage.iterations`, as read; summed by ``FileIngest/accept(_:_:line:)``.
  var iterations: [RawIteration]?
  /// The source's rule, a regional endpoint, server tools (``RequestTable/Traits``).
  var traits = RequestTable.Traits()
  /// The cost the log itself wrote (Claude Code 1.0.x's `costUSD`).
  var loggedCost: USD?
}

/// One sampling step of `usage.iterations` (compaction, advisor, fallback).
struct RawIteration {
  var input: Int64?
  var output: Int64?
  var cacheCreation: Int64?
  var cacheRead: Int64?
  var write5m: Int64?
  var write1h: Int64?
  var model: String?
  var type: String?
}

/// Records: scanned fields → normalized usage → the partial's request table.
/// Streams fold here too: `message_start` opens a message, each
/// `message_delta` overwrites its usage with non-null fields, `message_stop`
/// ends it.
extension FileIngest {
  /// Sorts one scanned record into the ledger and, if it carries usage, the partial.
  mutating func classify(_ record: borrowing ScannedRecord, lineNumber n: Int, countLine: Bool) {
    partial.ledger.records += 1
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if countLine { partial.ledger[keyPath: field] += 1 }
    }
    // Streams: message_start opens a message, message_delta overwrites its
    // usage with non-null fields (they are cumulative), message_stop ends it.
    if let type = record.outer.type, scanner.hasPrefix(type, FileIngest.messagePrefix) {
      switch scanner.decode(type) {
      case "message_start":
        let f = record.outer
        guard f.problem == nil, var raw = rawUsage(f, record, lineNumber: n) else {
          count(\.malformedLines)
          partial.ledger.problem(.invalidField, path, n, f.problem ?? "unreadable message_start")
          return
        }
        if let open = stream, open.messageID != nil, open.messageID == raw.messageID {
          // The same message_start repeated: one stream, not two.
          count(\.usageLines)
          return
        }
        finishStream()
        raw.incompleteStream = true
        stream = raw
        streamLine = n
        partial.ledger.streams += 1
        count(\.usageLines)
        return
      case "message_delta":
        guard var current = stream else {
          count(\.malformedLines)
          partial.ledger.problem(.streamOrder, path, n, "message_delta without message_start")
          return
        }
        if let problem = record.outer.problem {
          count(\.malformedLines)
          partial.ledger.problem(.invalidField, path, n, problem)
          return
        }
        if let u = record.outer.usage {
          if let v = u.input { current.input = v }
          if let v = u.output { current.output = v }
          if let v = u.cacheCreation { current.cacheCreation = v }
          if let v = u.cacheRead { current.cacheRead = v }
          if let v = u.webSearch { current.webSearch = v }
          if u.usedServerTools { current.traits.serverTools = true }
          if let its = record.outer.iterations {
            guard let decoded = iterations(its, lineNumber: n) else {
              count(\.malformedLines)
              return
            }
            current.iterations = decoded
          }
        }
        stream = current
        count(\.usageLines)
        return
      case "message_stop":
        if var current = stream {
          current.incompleteStream = false
          current.stopReason = true
          stream = current
          finishStream()
        }
        count(\.nonUsageLines)
        return
      default:
        break
      }
    }
    let embedded = record.hasInner && record.inner.usage != nil
    // Each branch passes a stored part of the borrowed record: no copy.
    if embedded {
      classifyUsage(record.inner, record, embedded: true, lineNumber: n, countLine: countLine)
    } else {
      classifyUsage(record.outer, record, embedded: false, lineNumber: n, countLine: countLine)
    }
  }

  /// The usage-bearing part of a record: the outer fields or a progress line's embedded copy.
  mutating func classifyUsage(
    _ f: borrowing ScannedFields, _ record: borrowing ScannedRecord, embedded: Bool, lineNumber n: Int, countLine: Bool
  ) {
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if countLine { partial.ledger[keyPath: field] += 1 }
    }
    guard f.usage != nil else {
      if let problem = record.outer.problem {
        count(\.malformedLines)
        partial.ledger.problem(.invalidField, path, n, problem)
      } else {
        count(\.nonUsageLines)
      }
      return
    }
    if let problem = f.problem {
      count(\.malformedLines)
      partial.ledger.problem(.invalidField, path, n, problem)
      return
    }
    if leanAccept(f, record, embedded: embedded, lineNumber: n, countLine: countLine) { return }
    var raw = RawUsage()
    guard rawUsage(f, record, lineNumber: n, fastKey: true, into: &raw) else {
      count(\.malformedLines)
      return
    }
    raw.embedded = embedded
    raw.sidechain = embedded || (f.isSidechain ?? record.outer.isSidechain ?? false)
    if countLine {
      accept(raw, n, line: \.usageLines)
    } else {
      accept(raw, n, line: nil)
    }
  }

  static let synthetic = Array("<synthetic>".utf8)

  /// The ids of a file's own names in its partial's string pool.
  struct FileIDs {
    var stem: UInt32
    var project: UInt32
    var file: UInt32
    var agent: UInt32
  }

  /// The common record of a Claude Code transcript, straight from its spans
  /// into the request table: no String, no intermediate record (the path
  /// through ``rawUsage(_:_:lineNumber:fastKey:into:)`` and
  /// ``accept(_:_:line:)`` cost more than the scan of the line).
  ///
  /// It takes only records that path would keep without a word: plain ids,
  /// model, session, agent and time (no escapes), a readable time within the
  /// table's range, no iterations, no API error, no filter, a TTL split that
  /// agrees. For anything else it returns false having changed nothing the
  /// full path would not redo, and the full path reads the record and words
  /// what is wrong with it. Both paths give the same rows and ledger: a test
  /// reads every shipped transcript and each edge both ways.
  mutating func leanAccept(
    _ f: borrowing ScannedFields, _ record: borrowing ScannedRecord, embedded: Bool, lineNumber n: Int,
    countLine: Bool
  ) -> Bool {
    guard options.leanRecords, options.since == nil, options.until == nil, options.modelFilter == nil,
      let u = f.usage, u.input != nil || u.output != nil, f.iterations?.isEmpty ?? true,
      f.isAPIError != true, record.outer.isAPIError != true,
      let modelSpan = f.model, !modelSpan.escaped, !scanner.equals(modelSpan, Self.synthetic),
      let m = f.messageID, m.end > m.start, f.loggedCost == nil
    else { return false }
    // The project is the projects folder's name, or the parent folder's
    // when the line names no cwd (a cwd outside a projects folder keys it).
    guard fileProject != nil || record.outer.cwd == nil else { return false }
    guard record.outer.sessionID?.escaped != true, record.outer.agentID?.escaped != true,
      record.outer.cwd?.escaped != true
    else {
      return false
    }
    var time: Int64?
    if let stamp = f.timestamp ?? record.outer.timestamp {
      guard !stamp.escaped, let t = scanner.instant(stamp),
        RequestTable.Row.timeRange.contains(t.millisecondsSinceEpoch)
      else { return false }
      time = t.millisecondsSinceEpoch
    }
    if let total = u.cacheCreation, u.write5m != nil || u.write1h != nil {
      let (split, overflow) = (u.write5m ?? 0).addingReportingOverflow(u.write1h ?? 0)
      guard !overflow, split == total else { return false }
    } else if let w5 = u.write5m, let w1 = u.write1h {
      guard !w5.addingReportingOverflow(w1).overflow else { return false }
    }
    keyScratch.removeAll(keepingCapacity: true)
    keyScratch.append(0)
    guard scanner.appendPart(m, to: &keyScratch) else { return false }
    if let q = f.requestID {
      guard scanner.appendPart(q, to: &keyScratch) else { return false }
    } else {
      KeyEncoding.prefix(0, into: &keyScratch)
    }
    // Interned last: text that is not UTF-8 goes to the full path, which
    // words it (what was interned before stays unused: ids never order an
    // output).
    func intern(_ span: Span, _ field: RequestTable.Field) -> UInt32? {
      let raw = scanner.raw(span)
      switch field {
      case .session: return recentSession.intern(raw, in: &partial.table.strings, field: field.rawValue)
      case .model: return recentModel.intern(raw, in: &partial.table.strings, field: field.rawValue)
      case .cwd: return recentCwd.intern(raw, in: &partial.table.strings, field: field.rawValue)
      default: return partial.table.strings.intern(bytes: raw, field: field.rawValue)
      }
    }
    // The file's own names, interned once per file.
    let ids: FileIDs
    if let known = fileIDs {
      ids = known
    } else {
      func intern(_ text: String, _ field: RequestTable.Field) -> UInt32 {
        partial.table.strings.intern(text, field: field.rawValue)
      }
      ids = FileIDs(
        stem: intern(fileStem, .session), project: intern(fileProject ?? parentName, .project),
        file: intern(path, .file), agent: fileAgent.map { intern($0, .agent) } ?? StringPool.none)
      fileIDs = ids
    }
    guard let session = record.outer.sessionID.map({ intern($0, .session) }) ?? ids.stem,
      let model = intern(modelSpan, .model),
      let agent = record.outer.agentID.map({ intern($0, .agent) }) ?? ids.agent
    else { return false }
    // Unreadable cwd text is left out, as the full path does inside a projects folder.
    let cwd = record.outer.cwd.flatMap { intern($0, .cwd) }
    var flags = RequestTable.Flags(
      RequestOptions(
        batch: spanIs(u.serviceTier, "batch"), usGeo: spanIs(u.inferenceGeo, "us"), fast: spanIs(u.speed, "fast"),
        longContext: nil))
    if embedded || (f.isSidechain ?? record.outer.isSidechain ?? false) { flags.insert(.sidechain) }
    if embedded { flags.insert(.embedded) }
    if f.stopReason { flags.insert(.stopReason) }
    var traits = RequestTable.Traits()
    traits.serverTools = u.usedServerTools
    let row = partial.table.row(
      time: time, flags: flags, session: session, project: ids.project, model: model, file: ids.file, agent: agent,
      traits: traits)
    partial.table.add(
      row, encodedKey: keyScratch,
      counts: RequestTable.RawCounts(
        input: u.input ?? 0, output: u.output ?? 0, cacheCreation: u.cacheCreation ?? 0,
        cacheRead: u.cacheRead ?? 0, write5m: u.write5m ?? 0, write1h: u.write1h ?? 0, webSearch: u.webSearch ?? 0),
      line: n, cwd: cwd)
    if countLine { partial.ledger.usageLines += 1 }
    partial.ledger.usageRecords += 1
    if embedded { partial.ledger.embeddedCopies += 1 }
    if time == nil { partial.ledger.recordsWithoutTime += 1 }
    return true
  }

  /// Decodes the kept fields of a scanned record; nil (and a problem) on bad text.
  mutating func rawUsage(
    _ f: ScannedFields, _ record: ScannedRecord, lineNumber n: Int, fastKey: Bool = false
  )
    -> RawUsage?
  {
    var raw = RawUsage()
    return rawUsage(f, record, lineNumber: n, fastKey: fastKey, into: &raw) ? raw : nil
  }

  /// ``rawUsage(_:_:lineNumber:fastKey:)`` into a record the caller holds
  /// (a few hundred bytes, not copied out of an optional); false on bad text.
  mutating func rawUsage(
    _ f: borrowing ScannedFields, _ record: borrowing ScannedRecord, lineNumber n: Int, fastKey: Bool = false,
    into raw: inout RawUsage
  ) -> Bool {
    var bad = false
    func text(_ span: Span?, _ name: String) -> String? {
      guard let span else { return nil }
      guard let s = scanner.decode(span) else {
        if !bad { partial.ledger.problem(.invalidText, path, n, "invalid UTF-8 or escape in '\(name)'") }
        bad = true
        return nil
      }
      return s
    }
    var mc = modelCache
    raw.model = cached(f.model, &mc) ?? text(f.model, "model")
    modelCache = mc
    keyScratch.removeAll(keepingCapacity: true)
    keyScratch.append(0)
    if fastKey, let m = f.messageID, m.end > m.start, scanner.appendPart(m, to: &keyScratch),
      f.requestID.map({ scanner.appendPart($0, to: &keyScratch) })
        ?? {
          KeyEncoding.prefix(0, into: &keyScratch)
          return true
        }()
    {
      // Plain ASCII ids: the key is encoded straight from the line's bytes.
      raw.encodedKey = true
    } else {
      raw.messageID = text(f.messageID, "id")
      raw.requestID = text(f.requestID, "requestId")
    }
    var sc = sessionCache
    raw.session = cached(record.outer.sessionID, &sc) ?? text(record.outer.sessionID, "sessionId")
    sessionCache = sc
    var cc = cwdCache
    // Outside a projects folder the cwd keys the project and must read;
    // inside, it is only shown, and unreadable text is left out.
    let cwd =
      cached(record.outer.cwd, &cc)
      ?? (fileProject == nil ? text(record.outer.cwd, "cwd") : record.outer.cwd.flatMap { scanner.decode($0) })
    cwdCache = cc
    raw.agent = text(record.outer.agentID, "agentId")
    guard !bad else { return false }
    if let stamp = f.timestamp ?? record.outer.timestamp {
      raw.time = stamp.escaped ? nil : scanner.instant(stamp)
      raw.badTime = raw.time == nil
    }
    if let fileProject {
      raw.project = fileProject
    } else if let cwd {
      if let last = lastProject, last.cwd == cwd {
        raw.project = last.project
      } else {
        let project = Self.encodeProject(cwd)
        lastProject = (cwd, project)
        raw.project = project
      }
    }
    raw.cwd = cwd
    raw.apiError = f.isAPIError == true || record.outer.isAPIError == true
    raw.stopReason = f.stopReason
    if let span = f.loggedCost {
      raw.loggedCost = USD(dollars: scanner.raw(span))
      if raw.loggedCost == nil {
        // Shown beside the computed cost, never used for it: the record is kept.
        partial.ledger.problem(
          .invalidField, path, n, "'costUSD' is not a non-negative number of dollars; no logged cost for this request")
      }
    }
    if let u = f.usage {
      raw.input = u.input
      raw.output = u.output
      raw.cacheCreation = u.cacheCreation
      raw.cacheRead = u.cacheRead
      raw.write5m = u.write5m
      raw.write1h = u.write1h
      raw.webSearch = u.webSearch
      raw.traits.serverTools = u.usedServerTools
      if let its = f.iterations {
        guard let decoded = iterations(its, lineNumber: n) else { return false }
        raw.iterations = decoded
      }
      // Only whether each is the one value that changes the price matters:
      // the bytes are compared where they lie, no String is made.
      raw.batch = spanIs(u.serviceTier, "batch")
      raw.usGeo = spanIs(u.inferenceGeo, "us")
      raw.fast = spanIs(u.speed, "fast")
    }
    return true
  }

  /// The scanned iterations with their model and type decoded; nil (and a
  /// problem) on bad text.
  mutating func iterations(_ its: [ScannedIteration], lineNumber n: Int) -> [RawIteration]? {
    var out: [RawIteration] = []
    out.reserveCapacity(its.count)
    for it in its {
      let u = it.usage
      var r = RawIteration(
        input: u.input, output: u.output, cacheCreation: u.cacheCreation, cacheRead: u.cacheRead,
        write5m: u.write5m, write1h: u.write1h)
      for (span, name) in [(it.model, "model"), (it.type, "type")] {
        guard let span else { continue }
        guard let text = scanner.decode(span) else {
          partial.ledger.problem(.invalidText, path, n, "invalid UTF-8 or escape in 'iterations[].\(name)'")
          return nil
        }
        if name == "model" { r.model = text } else { r.type = text }
      }
      out.append(r)
    }
    return out
  }

  /// Whether a string span's text is `lower`, in any letter case (the API
  /// writes these in lower case; a logger that upper-cases them means the same).
  func spanIs(_ span: Span?, _ lower: StaticString) -> Bool {
    guard let span else { return false }
    if span.escaped { return scanner.decode(span)?.lowercased() == lower.description }
    return scanner.equalsIgnoringCase(span, lower)
  }

  /// The decoded text of a span whose bytes equal the cached ones; refreshes the cache.
  func cached(_ span: Span?, _ cache: inout (bytes: [UInt8], text: String)?) -> String? {
    guard let span, !span.escaped else { return nil }
    if let c = cache, scanner.equals(span, c.bytes) { return c.text }
    guard let text = scanner.decode(span) else { return nil }
    cache = (Array(text.utf8), text)
    return text
  }

  /// Closes the open stream, counting it (as incomplete when it never stopped).
  mutating func finishStream() {
    guard var current = stream else { return }
    stream = nil
    current.streamFolded = true
    if current.incompleteStream { partial.ledger.incompleteStreams += 1 }
    accept(current, streamLine, line: nil)
  }

  /// Filters, normalizes and keeps one record.
  mutating func accept(_ raw: consuming RawUsage, _ n: Int, line: WritableKeyPath<Ledger, Int>?) {
    func count(_ field: WritableKeyPath<Ledger, Int>) {
      if line != nil { partial.ledger[keyPath: field] += 1 }
    }
    if raw.apiError {
      count(\.skippedAPIError)
      return
    }
    if raw.model == "<synthetic>" {
      count(\.skippedSynthetic)
      return
    }
    if let its = raw.iterations, !its.isEmpty {
      raw.iterations = nil
      let steps: [RawUsage]
      do {
        steps = try Self.foldingIterations(its, into: &raw, key: baseKey(raw))
      } catch {
        count(\.malformedLines)
        partial.ledger.problem(.invalidCount, path, n, "\(error) in 'iterations'")
        return
      }
      accept(raw, n, line: line)
      for step in steps { accept(step, n, line: nil) }
      return
    }
    let model = raw.model ?? ""
    guard raw.input != nil || raw.output != nil else {
      count(\.malformedLines)
      partial.ledger.problem(.noTokenCounts, path, n, "'usage' has no token counts")
      return
    }
    if let t = raw.time, !RequestTable.Row.timeRange.contains(t.millisecondsSinceEpoch) {
      // Beyond year 6428 (or before -2488): no usage was recorded then.
      raw.time = nil
      partial.ledger.problem(.invalidTime, path, n, "timestamp out of range (years -2488 to 6428); time unknown")
    }
    if raw.badTime {
      partial.ledger.problem(.invalidTime, path, n, "timestamp is not RFC 3339 with a time zone; time unknown")
    }
    if !raw.streamFolded, let total = raw.cacheCreation, raw.write5m != nil || raw.write1h != nil {
      let split = (raw.write5m ?? 0) &+ (raw.write1h ?? 0)
      if split != total {
        partial.ledger.problem(
          .splitDisagrees, path, n,
          "cache_creation split (5m + 1h = \(split)) disagrees with cache_creation_input_tokens (\(total)); "
            + (split > total ? "the split is used" : "the rest is priced as 5-minute writes, a lower bound"))
      }
    }
    if raw.time == nil { partial.ledger.recordsWithoutTime += 1 }
    if options.since != nil || options.until != nil {
      guard let t = raw.time, options.since.map({ t >= $0 }) ?? true,
        options.until.map({ t < $0 }) ?? true
      else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    if let filter = options.modelFilter {
      let canonical = options.catalog.resolve(model).id
      guard model.lowercased().contains(filter) || canonical.contains(filter) else {
        count(\.filteredLines)
        partial.ledger.filteredRecords += 1
        return
      }
    }
    do {
      // Validates the record's counts (negative values, an overflowing split).
      _ = try TokenUsage.fromAPI(
        input: raw.input ?? 0, cacheCreation: raw.cacheCreation, cacheWrite5m: raw.write5m,
        cacheWrite1h: raw.write1h, cacheRead: raw.cacheRead, output: raw.output ?? 0,
        webSearchRequests: raw.webSearch)
    } catch {
      count(\.malformedLines)
      partial.ledger.problem(.invalidCount, path, n, "\(error)")
      return
    }
    let key: RequestTable.Key
    if let k = raw.key {
      key = .custom(
        Array(k.utf8), messageID: raw.messageID.map { Array($0.utf8) },
        requestID: raw.requestID.map { Array($0.utf8) })
    } else if raw.encodedKey {
      key = .encoded(keyScratch)
    } else if let id = raw.messageID, !id.isEmpty {
      key = .ids(messageID: Array(id.utf8), requestID: Array((raw.requestID ?? "").utf8))
    } else {
      key = .none(sequence: Int64(partial.ledger.usageRecords))
    }
    if let line { partial.ledger[keyPath: line] += 1 }
    partial.ledger.usageRecords += 1
    // A row read back is a request, not an embedded copy.
    if raw.embedded, raw.sourceFile == nil { partial.ledger.embeddedCopies += 1 }
    var flags = RequestTable.Flags(
      RequestOptions(
        // The API writes these in lower case; a logger that upper-cases them means the same.
        batch: raw.batch || raw.serviceTier?.lowercased() == "batch",
        usGeo: raw.usGeo || raw.geo?.lowercased() == "us",
        fast: raw.fast || raw.speed?.lowercased() == "fast",
        longContext: raw.longContext))
    if raw.sidechain { flags.insert(.sidechain) }
    if raw.embedded { flags.insert(.embedded) }
    if raw.stopReason { flags.insert(.stopReason) }
    if raw.aggregate { flags.insert(.aggregate) }
    if raw.incompleteStream { flags.insert(.incompleteStream) }
    let row = partial.table.add(
      RequestTable.Record(
        key: key, time: raw.time, session: raw.session ?? fileStem,
        project: raw.project ?? parentName, model: model,
        agent: raw.agent ?? fileAgent,
        file: raw.sourceFile ?? path, line: raw.sourceLine ?? n,
        counts: RequestTable.RawCounts(
          input: raw.input ?? 0, output: raw.output ?? 0, cacheCreation: raw.cacheCreation ?? 0,
          cacheRead: raw.cacheRead ?? 0, write5m: raw.write5m ?? 0, write1h: raw.write1h ?? 0,
          webSearch: raw.webSearch ?? 0),
        cwd: raw.cwd,
        flags: flags, measured: raw.measured, headers: raw.rateLimit,
        hints: ReplayHints(maxTokens: raw.maxTokens, durationMs: raw.durationMs, orNil: ()), traits: raw.traits,
        loggedCost: raw.loggedCost))
    if let ticket = harTicket { harTicketRows.append((ticket, row)) }
  }

  /// The de-duplication key of a record as text (its ids, or the key its
  /// reader chose); nil for a record without ids, a request of its own.
  func baseKey(_ raw: borrowing RawUsage) -> String? {
    if let k = raw.key { return k }
    var ids: (String, String)?
    if raw.encodedKey {
      let (m, q) = KeyEncoding.ids(keyScratch[...])
      ids = (String(decoding: m ?? [], as: UTF8.self), String(decoding: q ?? [], as: UTF8.self))
    } else if let id = raw.messageID, !id.isEmpty {
      ids = (id, raw.requestID ?? "")
    }
    return ids.map { "\($0.0)\u{1F}\($0.1)" }
  }

  /// The model name given to an advisor step whose model is not recorded:
  /// not in the catalog, so the step is counted and left unpriced.
  static let advisorWithoutModel = "advisor (model not given)"

  /// Sums `usage.iterations` into the record, by the rule of Anthropic's
  /// compaction documentation: the top-level counts exclude the extra
  /// sampling steps, and "to calculate the total tokens consumed and billed
  /// … sum across all entries in the `usage.iterations` array".
  ///
  /// Each step's prompt is what count_tokens would have returned for it, so
  /// `P` becomes the sum of each step's input + cache writes + cache reads,
  /// and `I`, the costs and the token columns sum the steps too. The steps
  /// on the record's model (an iteration without `model` ran on it; an
  /// `advisor_message` without `model` did not, and is left unpriced) replace
  /// its counts; the steps on each other model become a record of their own,
  /// keyed by the request's key and that model, priced by that model, and
  /// returned. When no step ran on the record's model, the first model's
  /// steps take the record's place.
  static func foldingIterations(
    _ its: [RawIteration], into raw: inout RawUsage, key: String?
  ) throws(UsageError) -> [RawUsage] {
    func add(_ a: Int64?, _ b: Int64?, _ field: String) throws(UsageError) -> Int64? {
      guard let b else { return a }
      let (s, o) = (a ?? 0).addingReportingOverflow(b)
      if o { throw .overflow(field) }
      return s
    }
    var order: [String] = []
    var sums: [String: RawIteration] = [:]
    for it in its {
      let model = it.model ?? (it.type == "advisor_message" ? advisorWithoutModel : raw.model ?? "")
      var sum = sums[model] ?? RawIteration(input: 0, output: 0, cacheCreation: 0, cacheRead: 0, model: model)
      if sums[model] == nil { order.append(model) }
      sum.input = try add(sum.input, it.input, "input_tokens")
      sum.output = try add(sum.output, it.output, "output_tokens")
      sum.cacheRead = try add(sum.cacheRead, it.cacheRead, "cache_read_input_tokens")
      let split = try add(it.write5m, it.write1h, "cache_creation")
      sum.cacheCreation = try add(sum.cacheCreation, it.cacheCreation ?? split, "cache_creation_input_tokens")
      sum.write5m = try add(sum.write5m, it.write5m, "ephemeral_5m_input_tokens")
      sum.write1h = try add(sum.write1h, it.write1h, "ephemeral_1h_input_tokens")
      sums[model] = sum
    }
    let own = order.first { $0 == (raw.model ?? "") } ?? order.first
    var extra: [RawUsage] = []
    for model in order {
      guard let sum = sums[model] else { continue }
      var r = raw
      r.model = model.isEmpty && raw.model == nil ? nil : model
      r.input = sum.input
      r.output = sum.output
      r.cacheRead = sum.cacheRead
      r.cacheCreation = sum.cacheCreation
      r.write5m = sum.write5m
      r.write1h = sum.write1h
      if model == own {
        raw = r
      } else {
        // A step's own request row: web searches and server tools stay with the request.
        r.webSearch = nil
        r.traits.serverTools = false
        // Keyed by text, so that its row read back is the same request.
        guard let key else {
          r.messageID = nil
          r.requestID = nil
          r.encodedKey = false
          extra.append(r)
          continue
        }
        r.key = "iterations\u{1F}\(model)\u{1F}\(key)"
        r.encodedKey = false
        extra.append(r)
      }
    }
    return extra
  }

  /// A structured capture: the whole file, or one JSON document per line.
  mutating func handleCapture(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    let bytes = UnsafeBufferPointer(rebasing: all[range])
    if cassette { return handleCassette(bytes) }
    if FileIngest.startsWithLogKey(bytes), streamHAR(bytes) { return }
    var documents: [(Int, JSONValue)] = []
    if let whole = try? JSONParser.parse(bytes) {
      documents.append((1, whole))
      partial.ledger.lines += 1
    } else {
      var n = 0
      for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        n += 1
        partial.ledger.lines += 1
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
          partial.ledger.blankLines += 1
          continue
        }
        do {
          documents.append((n, try JSONParser.parse(Array(line))))
        } catch {
          partial.ledger.malformedLines += 1
          partial.ledger.problem(.invalidCount, path, n, "\(error)")
        }
      }
      if n > 0, bytes.last == 0x0A {
        // The empty piece after the final newline is not a line.
        partial.ledger.lines -= 1
        partial.ledger.blankLines -= 1
      }
    }
    var reader = CaptureReader(path: path, fileStem: fileStem, parentName: parentName)
    var found = 0
    for (n, doc) in documents {
      partial.ledger.records += 1
      let records = reader.read(doc, line: n, ledger: &partial.ledger)
      if records.isEmpty {
        partial.ledger.nonUsageLines += 1
        continue
      }
      found += records.count
      for (k, raw) in records.enumerated() {
        accept(raw, n, line: k == 0 ? \.usageLines : nil)
      }
    }
    if found == 0, documents.count > 1 {
      // Many documents and no usage: say so, rather than let a file vanish.
      partial.ledger.problem(
        .captureWithoutUsage, path, 0,
        "read as a structured capture, but none of its \(documents.count) documents carries usage")
    }
  }

  /// Whether a document's first key is `log`, as HAR files are written:
  /// worth walking entry by entry rather than parsing whole.
  package static func startsWithLogKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    func space() {
      while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }
    space()
    guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return false }
    i += 1
    space()
    return UnsafeBufferPointer(rebasing: bytes[i...]).starts(with: Array(#""log""#.utf8))
  }

  /// A HAR read one entry at a time (``CaptureReader/HARStream``): the same
  /// records and ledger as parsing it whole, no entry ever held as a tree.
  /// (The file is in memory here; a large one is read window by window
  /// instead, ``readHARWindows(_:filled:)``.) False, with nothing changed,
  /// when the document is invalid or not a HAR after all: the
  /// whole-document path then reads (and reports) it as before.
  mutating func streamHAR(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let reader = CaptureReader(path: path, fileStem: fileStem, parentName: parentName)
    // Prompt keys are kept only when the file may hold count_tokens calls.
    let pairing = FileIngest.contains(bytes, 0..<bytes.count, FileIngest.countTokensPath)
    guard let ranges = try? JSONParser.harEntryRanges(bytes),
      let parts = readHAREntries(bytes, ranges, firstIndex: 0, reader: reader, pairing: pairing)
    else { return false }
    var h = beginHAR()
    acceptHAR(parts, into: &h)
    finishHAR(consume h)
    return true
  }

  /// What a file must hold for count_tokens calls to be paired: the last
  /// part of their path alone, so that a URL written with escaped slashes
  /// (`\/v1\/messages\/count_tokens`, as PHP's json_encode writes it) is
  /// found too. (Found in a prompt instead, it only keeps prompt keys.)
  static let countTokensPath = Array("count_tokens".utf8)

  /// The entries at `ranges` of `bytes`, read in slices side by side, each
  /// into its own stream and ledger, in order: what one pass in order would
  /// give. `firstIndex` numbers the first (entries are named by number in
  /// problems). nil when an entry is no valid JSON.
  func readHAREntries(
    _ bytes: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>], firstIndex: Int, reader: CaptureReader,
    pairing: Bool
  ) -> [(CaptureReader.HARStream, Ledger)]? {
    let sliceSize = max(1, options.harSliceSize)
    let slices = ranges.count >= options.harSliceEntries ? max(2, (ranges.count + sliceSize - 1) / sliceSize) : 1
    let size = (ranges.count + slices - 1) / slices
    let parts = Mutex([(CaptureReader.HARStream, Ledger)?](repeating: nil, count: slices))
    let shared = UnsafeSendable(bytes)
    let failed = Mutex(false)
    DispatchQueue.concurrentPerform(iterations: slices) { k in
      var part = CaptureReader.HARStream(reader: reader, line: 1, pairing: pairing)
      part.index = firstIndex + k * size
      var partLedger = Ledger()
      let slice = ranges[min(ranges.count, k * size)..<min(ranges.count, (k + 1) * size)]
      part.reserve(entries: slice.count)
      for r in slice {
        guard
          let entry = try? JSONParser.harEntry(UnsafeBufferPointer(rebasing: shared.value[r]), maxDepth: 10_000 - 3)
        else {
          failed.withLock { $0 = true }
          return
        }
        part.add(entry, ledger: &partLedger)
      }
      parts.withLock { $0[k] = (part, partLedger) }
    }
    guard !failed.withLock({ $0 }) else { return nil }
    let taken = parts.withLock { all in
      let taken = all
      all = []
      return taken
    }
    var read: [(CaptureReader.HARStream, Ledger)] = []
    read.reserveCapacity(slices)
    for part in taken {
      guard let part else { return nil }
      read.append(part)
    }
    return read
  }

  /// A HAR being accepted slice by slice (``acceptHAR(_:into:)``), then
  /// finished (``finishHAR(_:)``).
  struct HARAcceptance {
    var pairing = CaptureReader.HARPairing()
    /// The slices' ledgers, joined in order.
    var entries = Ledger()
    /// The partial's problems before the HAR's.
    let problemsBefore: Int
    var anyRecord = false
  }

  /// Begins accepting a HAR's records.
  func beginHAR() -> HARAcceptance {
    HARAcceptance(problemsBefore: partial.ledger.problems.count)
  }

  /// Takes the slices of a HAR read in order (``readHAREntries(_:_:firstIndex:reader:pairing:)``):
  /// their ledgers are joined, their records accepted into the table as
  /// they come (the first one's fate counts the document's line), each
  /// with a ticket for pairing at the end when it has a prompt digest.
  mutating func acceptHAR(_ parts: consuming [(CaptureReader.HARStream, Ledger)], into h: inout HARAcceptance) {
    var streams: [CaptureReader.HARStream] = []
    streams.reserveCapacity(parts.count)
    for (s, l) in parts {
      streams.append(s)
      h.entries.merge(l)
    }
    // The slices' records are now held by `streams` alone: moved out of
    // them below, not copied.
    parts = []
    for k in streams.indices {
      h.pairing.takeCalls(of: &streams[k])
      streams[k].drain { raw, digest in
        harTicket = digest.map { h.pairing.ticket($0, time: raw.time) }
        accept(raw, 1, line: h.anyRecord ? nil : \.usageLines)
        h.anyRecord = true
      }
    }
    harTicket = nil
  }

  /// Ends a HAR: the ledger as one pass in order writes it (the entries'
  /// problems, then those of accepting their records), and each record
  /// paired with the latest count_tokens call for its prompt made no later
  /// than it, the value going to the record's rows (a row keeps the first
  /// value a copy gave it, as merged copies do).
  mutating func finishHAR(_ h: consuming HARAcceptance) {
    let accepted = Array(partial.ledger.problems[h.problemsBefore...])
    partial.ledger.problems.removeSubrange(h.problemsBefore...)
    partial.ledger.merge(h.entries)
    partial.ledger.problems += accepted
    partial.ledger.lines += 1
    partial.ledger.records += 1
    if !h.anyRecord { partial.ledger.nonUsageLines += 1 }
    let counts = h.pairing.counts()
    partial.ledger.countTokensPaired += counts.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
    if !counts.isEmpty {
      for (ticket, row) in harTicketRows {
        if let m = counts[ticket] { partial.table.fillMeasured(m, row: row) }
      }
    }
    harTicketRows = []
  }

  /// Claude Code's project directory name for a working directory.
  static func encodeProject(_ cwd: String) -> String {
    String(
      cwd.unicodeScalars.map { s -> Character in
        (s.properties.isAlphabetic && s.isASCII) || ("0"..."9").contains(s) ? Character(s) : "-"
      })
  }
}
