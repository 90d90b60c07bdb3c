package import EstimateModel

/// HAR 1.2 (browsers, mitmproxy, Charles): `log.entries`.
struct HARFormat: CaptureFormat {
  func matches(_ doc: JSONValue) -> Bool { doc["log"]?["entries"]?.array != nil }

  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage] {
    reader.har(doc["log"]?["entries"]?.array ?? [], line: line, ledger: &ledger)
  }
}

extension CaptureReader {
  /// HAR entries: messages calls become records; count_tokens calls are
  /// paired with the messages call for the same prompt (nearest later call).
  ///
  /// Each messages call takes the latest count_tokens call for the same
  /// prompt at or before it: that messages call is the count's nearest later
  /// one. "Latest" is the last in the file among the unused calls for that
  /// prompt whose time is not after the messages call's. A first pass groups
  /// the count_tokens calls by prompt; in the second, each record takes its
  /// call from its group in O(log n), so a repeated prompt costs no quadratic scan.
  func har(_ entries: [JSONValue], line: Int, ledger: inout Ledger) -> [RawUsage] {
    var stream = HARStream(
      reader: self, line: line, pairing: entries.contains { Self.harCall($0)?.countTokens == true })
    for e in entries { stream.add(e, ledger: &ledger) }
    return stream.finish(ledger: &ledger)
  }

  /// A HAR read one entry at a time: each entry is reduced to its records
  /// (and, when the file may pair count_tokens calls, its prompt digest)
  /// and dropped, so a capture of any length is never held as a tree.
  ///
  /// count_tokens calls are paired with messages at the end, in entry order,
  /// as when every entry is at hand: a call recorded after its message, or
  /// with an earlier clock, pairs all the same.
  struct HARStream {
    let reader: CaptureReader
    /// The line problems and records name (a cassette sets it per interaction).
    var line: Int
    /// The file may hold count_tokens calls: prompt digests are kept for pairing.
    let pairing: Bool
    /// The entry's number in problems (a cassette sets it per interaction).
    var index = 0
    /// What problems call an entry.
    var entryNoun = "HAR entry"
    fileprivate var values: [Int64] = []
    /// The count_tokens calls by prompt digest (``CaptureReader/promptDigest(_:)``).
    fileprivate var groups: [SHA256.Digest: CountGroup] = [:]
    private var records: [RawUsage] = []
    /// Per record: its request's prompt digest, for pairing.
    private var keys: [SHA256.Digest?] = []

    init(reader: CaptureReader, line: Int, pairing: Bool) {
      self.reader = reader
      self.line = line
      self.pairing = pairing
    }

    mutating func add(_ e: JSONValue, ledger: inout Ledger) {
      add(HAREntry(e), ledger: &ledger)
    }

    /// Reads one entry: its records, and (a count_tokens call) its count.
    mutating func add(_ e: HAREntry, ledger: inout Ledger) {
      defer { index += 1 }
      guard let call = CaptureReader.harCall(url: e.url, started: e.started, status: e.status) else { return }
      if call.countTokens, (200..<300).contains(call.status) || call.status == 0,
        let value = e.body.flatMap({ try? JSONParser.parse($0) })?["input_tokens"]?.int64,
        let request = e.request
      {
        groups[CaptureReader.promptDigest(request), default: CountGroup()].append(index: values.count, time: call.time)
        values.append(value)
      }
      let headers = e.headers
      if call.status == 429 {
        ledger.responses429 += 1
        if let after = headers.first(where: { lowercasedName($0.0) == "retry-after" }).flatMap({
          Int64($0.1.trimmingSpaces)
        }) {
          ledger.retryAfterSeconds.append(after)
        }
        return
      }
      guard (200..<300).contains(call.status) || call.status == 0 else { return }
      if call.countTokens {
        ledger.countTokensCalls += 1
        return
      }
      // A successful messages call whose body cannot be read is a counted
      // problem naming the entry, never a silent loss.
      let (path, line, index, noun) = (reader.path, line, index, entryNoun)
      func unreadable(_ why: String) {
        ledger.problem(
          .unreadableEntry, path, line, "\(noun) \(index) (\(call.endpoint.name), HTTP \(call.status)): \(why)")
      }
      let contentType = headers.first(where: { lowercasedName($0.0) == "content-type" })?.1 ?? ""
      if lowercasedName(contentType).hasPrefix("application/vnd.amazon.eventstream")
        || e.mimeType.map({ lowercasedName($0).hasPrefix("application/vnd.amazon.eventstream") }) == true
      {
        unreadable("Bedrock event-stream body (application/vnd.amazon.eventstream) not supported")
        return
      }
      if let encoding = headers.first(where: { lowercasedName($0.0) == "content-encoding" })?.1,
        !["identity", ""].contains(encoding.trimmingSpaces.lowercased())
      {
        unreadable("compressed body (content-encoding: \(encoding)) not supported")
        return
      }
      guard let body = e.body else {
        unreadable(e.text == nil ? "no response body recorded" : "the response body is not valid base64")
        return
      }
      // The request is parsed only when needed (for pairing, or for a
      // missing model), and then once: nil until then, .some(nil) when it is no JSON.
      var request: JSONValue??
      func requestBody() -> JSONValue? {
        if request == nil { request = .some(e.request) }
        return request ?? nil
      }
      var key: SHA256.Digest??  // the same, for the request's prompt digest
      let found = reader.responseRecords(.string(body))
      if found.isEmpty {
        unreadable(
          "the response body is neither a Messages API response nor an SSE stream (not JSON, truncated or nested too deep)"
        )
      }
      for var r in found {
        r.time = r.time ?? call.time
        r.sourceLine = r.sourceLine ?? line
        r.rateLimit = RateLimitHeaders(headers)
        r.requestID =
          r.requestID
          ?? headers.first {
            let n = lowercasedName($0.0)
            return n == "request-id" || n == "x-amzn-requestid"
          }?.1
        // Bedrock: the URL's id names the model and the endpoint (a `us.`,
        // `eu.`, … prefix is a regional one), so it is the logged model;
        // elsewhere the body's model, else the request's, else the URL's.
        if call.endpoint == .bedrock, let m = call.model {
          r.model = m
          // Served by Bedrock whatever the body's shape (invoke answers in
          // the Messages API's): Bedrock's rule.
          r.traits.rule = .bedrock
        }
        // Vertex: the location, not the model id, names a regional endpoint.
        if call.endpoint == .vertex { r.traits.regional = call.regional }
        if r.model == nil { r.model = requestBody()?["model"]?.string ?? call.model }
        r.maxTokens =
          (request.map { $0?["max_tokens"]?.int64 }
          ?? e.requestText.flatMap { CaptureReader.topLevelInteger($0, key: "max_tokens") })
          .flatMap { $0 >= 0 ? $0 : nil }
        r.durationMs = e.elapsed
        if pairing, key == nil { key = .some(requestBody().map(CaptureReader.promptDigest)) }
        records.append(r)
        keys.append(key ?? nil)
      }
    }

    /// Room for the records of `entries` more entries (one each, as most
    /// give), made at once rather than by doubling as they come.
    mutating func reserve(entries: Int) {
      records.reserveCapacity(records.count + entries)
      keys.reserveCapacity(keys.count + entries)
    }

    /// The records, each paired with the latest count_tokens call of the
    /// same prompt made no later than it (``HARPairing``, as for a HAR
    /// read in slices).
    mutating func finish(ledger: inout Ledger) -> [RawUsage] {
      var pairing = HARPairing()
      pairing.takeCalls(of: &self)
      var tickets: [(record: Int, ticket: Int)] = []
      for k in records.indices {
        if k < keys.count, let key = keys[k] { tickets.append((k, pairing.ticket(key, time: records[k].time))) }
      }
      keys = []
      let counts = pairing.counts()
      if !counts.isEmpty {
        for (k, ticket) in tickets {
          guard let m = counts[ticket] else { continue }
          records[k].measured = m
          ledger.countTokensPaired += 1
        }
      }
      return records
    }

    /// Hands each record read, in order, to `body` with its request's
    /// prompt digest (nil when it has none, or the file holds no
    /// count_tokens call): moved out, not copied, the storage freed as
    /// they go. The count_tokens calls stay, for ``HARPairing/takeCalls(of:)``.
    mutating func drain(_ body: (consuming RawUsage, SHA256.Digest?) -> Void) {
      let keys = self.keys
      self.keys = []
      records.withUnsafeMutableBufferPointer { records in
        for k in records.indices {
          // Moved out, a blank left in its place (the array still owns k).
          let r = records.moveElement(from: k)
          records.initializeElement(at: k, to: RawUsage())
          body(r, k < keys.count ? keys[k] : nil)
        }
      }
      records = []
    }

  }

  /// The count_tokens calls of a HAR read in slices, and its messages
  /// records' prompts in file order (each a ticket), paired at the end as
  /// ``HARStream/finish(ledger:)`` pairs them: each record, in order, takes
  /// the latest unused call for its prompt made no later than it. What is
  /// kept a record: its digest and time (40 bytes), not the record, which
  /// goes to the request table as it is read.
  struct HARPairing {
    private var groups: [SHA256.Digest: CountGroup] = [:]
    private var values: [Int64] = []
    private var digests: [SHA256.Digest] = []
    /// Each ticket's time in ms; `Int64.max` for none (no limit, as nil is).
    private var times: [Int64] = []

    /// Takes a slice's count_tokens calls, numbered after those of the
    /// slices taken before (the slices taken in file order).
    mutating func takeCalls(of s: inout HARStream) {
      for (key, group) in s.groups {
        groups[key, default: CountGroup()].append(contentsOf: group, offset: values.count)
      }
      values += s.values
      s.groups = [:]
      s.values = []
    }

    /// The next record's ticket: its prompt's digest and its time.
    mutating func ticket(_ digest: SHA256.Digest, time: Instant?) -> Int {
      digests.append(digest)
      times.append(time?.millisecondsSinceEpoch ?? .max)
      return digests.count - 1
    }

    /// Each ticket's count_tokens value, nil where none qualifies (empty
    /// when the file held no count_tokens call): the calls taken ticket by
    /// ticket, in order.
    mutating func counts() -> [Int64?] {
      defer {
        digests = []
        times = []
      }
      guard !groups.isEmpty else { return [] }
      var out = [Int64?](repeating: nil, count: digests.count)
      for k in digests.indices {
        if let best = groups[digests[k]]?.takeLatest(notAfter: Instant(millisecondsSinceEpoch: times[k])) {
          out[k] = values[best]
        }
      }
      return out
    }
  }

  /// Where a HAR entry's call went.
  enum Endpoint: Equatable {
    /// Anthropic's `/v1/messages` (and `/v1/messages/count_tokens`).
    case messages
    /// Bedrock Runtime `/model/<id>/invoke`, `/invoke-with-response-stream`,
    /// `/converse` or `/converse-stream`.
    case bedrock
    /// Vertex AI `…/publishers/anthropic/models/<id>:rawPredict` or `:streamRawPredict`.
    case vertex

    var name: String {
      switch self {
      case .messages: "/v1/messages"
      case .bedrock: "Bedrock"
      case .vertex: "Vertex AI"
      }
    }
  }

  /// A HAR entry's call: whether it counts tokens, its time, status,
  /// endpoint and the model its URL names (Bedrock and Vertex); nil for any
  /// other URL.
  static func harCall(_ e: JSONValue) -> HARCall? {
    harCall(
      url: e["request"]?["url"]?.string, started: e["startedDateTime"].flatMap(Self.time),
      status: e["response"]?["status"]?.int64)
  }

  /// ``harCall(_:)`` from the entry's `request.url`, `startedDateTime` and
  /// `response.status` (0 when absent).
  static func harCall(url: String?, started time: Instant?, status: Int64?) -> HARCall? {
    guard let url else { return nil }
    let path = url.utf8.contains(UInt8(ascii: "?")) ? url.split(separator: "?").first.map(String.init) ?? url : url
    let status = status ?? 0
    let countTokens = path.hasSuffix("/v1/messages/count_tokens")
    if countTokens || path.hasSuffix("/v1/messages") {
      return HARCall(countTokens: countTokens, time: time, status: status, endpoint: .messages, model: nil)
    }
    guard let (endpoint, model) = providerCall(path) else { return nil }
    return HARCall(
      countTokens: false, time: time, status: status, endpoint: endpoint, model: model,
      regional: endpoint == .vertex && vertexLocation(path).map { $0 != "global" } == true)
  }

  /// The location of a Vertex AI URL: the path's `locations/<name>`, else
  /// the host's `<name>-aiplatform.googleapis.com`; nil when neither names one.
  ///
  /// | URL | location | endpoint |
  /// |---|---|---|
  /// | `https://aiplatform.googleapis.com/v1/projects/p/locations/global/…` | `global` | global |
  /// | `https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/…` | `us-east5` | regional |
  /// | `https://aiplatform.us.rep.googleapis.com/v1/projects/p/locations/us/…` | `us` | multi-region |
  static func vertexLocation(_ url: String) -> String? {
    let parts = url.split(separator: "/", omittingEmptySubsequences: true)
    if let k = parts.firstIndex(of: "locations"), k + 1 < parts.count {
      return String(parts[k + 1]).lowercased()
    }
    // `https:`, then the host.
    guard parts.count >= 2 else { return nil }
    let host = parts[1].lowercased()
    guard let r = host.firstRange(of: "-aiplatform.googleapis.com"), r.upperBound == host.endIndex,
      r.lowerBound > host.startIndex
    else { return nil }
    return String(host[..<r.lowerBound])
  }

  /// One HAR call, as ``harCall(_:)`` reads it.
  struct HARCall {
    var countTokens: Bool
    var time: Instant?
    var status: Int64
    var endpoint: Endpoint
    var model: String?
    /// A Vertex AI location other than `global`: Google Cloud's regional and
    /// multi-region endpoints cost "a 10% premium over global endpoints"
    /// (pricing page) on the models the catalog marks `regional_premium`.
    var regional = false
  }

  /// A Bedrock or Vertex inference URL path, and the model it names
  /// (percent-decoded); nil for any other path.
  ///
  /// | URL path | endpoint |
  /// |---|---|
  /// | `/model/<id>/invoke`, `/invoke-with-response-stream` | Bedrock |
  /// | `/model/<id>/converse`, `/converse-stream` | Bedrock |
  /// | `…/publishers/anthropic/models/<id>:rawPredict`, `:streamRawPredict` | Vertex AI |
  static func providerCall(_ path: String) -> (Endpoint, String)? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count >= 3, parts[parts.count - 3] == "model",
      ["invoke", "invoke-with-response-stream", "converse", "converse-stream"].contains(parts[parts.count - 1])
    {
      let id = percentDecoded(String(parts[parts.count - 2]))
      return id.isEmpty ? nil : (.bedrock, id)
    }
    if let last = parts.last, parts.count >= 3, parts[parts.count - 2] == "models",
      parts[parts.count - 3] == "anthropic",
      let colon = last.lastIndex(of: ":"),
      ["rawPredict", "streamRawPredict"].contains(last[last.index(after: colon)...])
    {
      let id = percentDecoded(String(last[..<colon]))
      return id.isEmpty ? nil : (.vertex, id)
    }
    return nil
  }

  /// `%XX` escapes decoded (Bedrock ids carry `%3A` for `:`); text that is
  /// not valid UTF-8 once decoded is kept as written.
  static func percentDecoded(_ s: String) -> String {
    guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
    var out: [UInt8] = []
    var bytes = s.utf8[...]
    while let c = bytes.first {
      bytes = bytes.dropFirst()
      if c == UInt8(ascii: "%"), bytes.count >= 2,
        let hi = hexValue(bytes[bytes.startIndex]),
        let lo = hexValue(bytes[bytes.index(after: bytes.startIndex)])
      {
        out.append(hi << 4 | lo)
        bytes = bytes.dropFirst(2)
      } else {
        out.append(c)
      }
    }
    return String(validating: out, as: UTF8.self) ?? s
  }

  private static func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: c - 48
    case 65...70: c - 55
    case 97...102: c - 87
    default: nil
    }
  }

  /// The integer value of a key of a JSON object's top level, found without
  /// building the document (a request body can be a whole prompt); nil when
  /// the key is absent there or its value is not a plain integer.
  static func topLevelInteger(_ text: String, key: String) -> Int64? {
    let wanted = Array(key.utf8)
    var text = text
    return text.withUTF8 { b -> Int64? in
      var depth = 0
      var i = 0
      while i < b.count {
        let c = b[i]
        if c == UInt8(ascii: "\"") {
          // A string: at depth 1 right after '{' or ',' it is a key.
          let start = i + 1
          i = start
          while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
          let end = min(i, b.count)
          i += 1
          guard depth == 1, end - start == wanted.count, wanted.indices.allSatisfy({ b[start + $0] == wanted[$0] })
          else { continue }
          var j = i
          while j < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[j]) { j += 1 }
          guard j < b.count, b[j] == UInt8(ascii: ":") else { continue }
          j += 1
          while j < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[j]) { j += 1 }
          var value: Int64 = 0
          var digits = 0
          while j < b.count, (0x30...0x39).contains(b[j]), digits < 18 {
            value = value * 10 + Int64(b[j] - 0x30)
            digits += 1
            j += 1
          }
          guard digits > 0, j == b.count || [0x20, 0x09, 0x0A, 0x0D, 0x2C, 0x7D].contains(b[j]) else { return nil }
          return value
        }
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
        if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { depth -= 1 }
        i += 1
      }
      return nil
    }
  }

  /// A HAR entry's `time` (total elapsed milliseconds, possibly
  /// fractional), rounded; nil when absent or negative.
  static func milliseconds(_ v: JSONValue?) -> Int64? {
    guard case .number(let text)? = v, let d = Double(text), d >= 0, d < 9.2e15 else { return nil }
    return Int64(d.rounded())
  }

  /// A HAR `content`: text, base64-decoded when so encoded.
  static func content(_ c: JSONValue?) -> String? {
    content(text: c?["text"]?.string, encoding: c?["encoding"]?.string)
  }

  /// A HAR `content`'s `text` and `encoding`: the text, base64-decoded when so encoded.
  static func content(text: String?, encoding: String?) -> String? {
    guard let text else { return nil }
    if encoding == "base64" {
      return Base64.decode(text).map { String(decoding: $0, as: UTF8.self) }
    }
    return text
  }

  /// The prompt of a request, as the canonical JSON of what count_tokens
  /// counts: two requests have the same prompt when these are equal.
  ///
  /// | part | in the key |
  /// |---|---|
  /// | `model`, `system`, `tools`, `messages` | yes, block-level `cache_control` left out |
  /// | `tool_choice`, `thinking` | yes: each changes the count (the tool-use system prompt, thinking blocks) |
  /// | top-level `cache_control`, `max_tokens`, `stream`, `metadata`, … | no: the count does not depend on them |
  ///
  /// A breakpoint changes what is cached, never what is counted ("token
  /// counting provides an estimate without using caching logic"), so a
  /// count_tokens body without breakpoints pairs with the messages body that
  /// has them. Pairing keeps only ``promptDigest(_:)``, the SHA-256 of these bytes.
  static func promptKey(_ request: JSONValue) -> String {
    var canonical = ""
    canonical.reserveCapacity(256)
    writePrompt(request, into: &canonical)
    return canonical
  }

  /// The SHA-256 of ``promptKey(_:)``'s UTF-8 bytes, fed to the hasher as
  /// they are written (the key is never built): 32 bytes a request however
  /// long its prompt.
  ///
  /// Two prompts pair when their digests are equal, which for different
  /// keys would take a SHA-256 collision: none is known, and by the
  /// birthday bound the chance of one among n distinct prompts is below
  /// n² / 2²⁵⁷ (4 × 10⁻⁶⁶ for a million). Equal means equal bytes: a
  /// key that differs only in Unicode normalization (an `é` written as
  /// `e` and a combining accent) is another prompt, as it is to the
  /// tokenizer. (String keys compared by canonical equivalence paired them.)
  static func promptDigest(_ request: JSONValue) -> SHA256.Digest {
    var hasher = SHA256()
    writePrompt(request, into: &hasher)
    return hasher.finalize()
  }

  /// ``promptKey(_:)``'s text, written to `out`.
  private static func writePrompt<Sink: CanonicalJSONSink>(_ request: JSONValue, into out: inout Sink) {
    for key in ["model", "system", "tools", "messages", "tool_choice", "thinking"] {
      out.write(key)
      out.write("=")
      if let value = request[key] {
        if key == "model" {
          canonicalJSON(value, into: &out)
        } else {
          canonicalJSONWithoutCacheControl(value, into: &out)
        }
      } else {
        out.write("null")
      }
      out.write("\n")
    }
  }

  /// Appends the canonical JSON of `v` without the `cache_control` of its
  /// blocks, as it is read (no copy of `v` is made): the members of the
  /// objects in a list (system and content blocks, tools), of a message's
  /// `content` list, and of the `content` of a tool result within it.
  /// Anything else, a tool's input included, is kept as written.
  static func canonicalJSONWithoutCacheControl<Sink: CanonicalJSONSink>(_ v: JSONValue, into out: inout Sink) {
    switch v {
    case .array(let items):
      out.write("[")
      for (n, item) in items.enumerated() {
        if n > 0 { out.write(",") }
        canonicalJSONWithoutCacheControl(item, into: &out)
      }
      out.write("]")
    case .object(let members):
      // A block (or a message): its breakpoint dropped; a `content` list stripped in turn.
      writeObject(members, dropping: "cache_control", into: &out) { key, value, out in
        if key == "content", case .array = value {
          canonicalJSONWithoutCacheControl(value, into: &out)
        } else {
          canonicalJSON(value, into: &out)
        }
      }
    default:
      canonicalJSON(v, into: &out)
    }
  }

  /// JSON with object keys sorted and no white space.
  static func canonicalJSON(_ v: JSONValue) -> String {
    var out = ""
    canonicalJSON(v, into: &out)
    return out
  }

  /// Appends `v`'s canonical JSON: a duplicate key keeps its first spelling
  /// and its last value (as a dictionary keyed by the members would).
  static func canonicalJSON<Sink: CanonicalJSONSink>(_ v: JSONValue, into out: inout Sink) {
    switch v {
    case .object(let members):
      writeObject(members, into: &out) { _, value, out in canonicalJSON(value, into: &out) }
    case .array(let items):
      out.write("[")
      for (n, item) in items.enumerated() {
        if n > 0 { out.write(",") }
        canonicalJSON(item, into: &out)
      }
      out.write("]")
    case .string(let s): out.writeQuoted(s)
    case .number(let text): out.write(text)
    case .bool(let b): out.write(b ? "true" : "false")
    case .null: out.write("null")
    }
  }
}

extension CaptureReader {
  /// Appends an object's members by key, equal keys in document order:
  /// each run of equal keys is written once, with its first spelling and
  /// its last value (`value` writes it, given the last member's key).
  /// Members keyed `dropping` are left out.
  fileprivate static func writeObject<Sink: CanonicalJSONSink>(
    _ members: [(String, JSONValue)], dropping dropped: String? = nil, into out: inout Sink,
    value: (String, JSONValue, inout Sink) -> Void
  ) {
    var order = Array(members.indices)
    if let dropped { order.removeAll { members[$0].0 == dropped } }
    order.sort { members[$0].0 < members[$1].0 || (members[$0].0 == members[$1].0 && $0 < $1) }
    out.write("{")
    var n = 0
    while n < order.count {
      var last = n
      while last + 1 < order.count, members[order[last + 1]].0 == members[order[n]].0 { last += 1 }
      if n > 0 { out.write(",") }
      out.writeQuoted(members[order[n]].0)
      out.write(":")
      value(members[order[last]].0, members[order[last]].1, &out)
      n = last + 1
    }
    out.write("}")
  }
}

/// Where ``CaptureReader/canonicalJSON(_:into:)`` writes: text, or a hasher
/// fed the UTF-8 bytes that text would have.
protocol CanonicalJSONSink {
  /// `text` as it is.
  mutating func write(_ text: String)
  /// `text` as a JSON string: ``JSONValue/quote(_:into:)``'s text.
  mutating func writeQuoted(_ text: String)
}

/// `write(_:)` is the standard library's (``TextOutputStream``): it appends.
extension String: CanonicalJSONSink {
  mutating func writeQuoted(_ text: String) { JSONValue.quote(text, into: &self) }
}

extension SHA256: CanonicalJSONSink {
  mutating func write(_ text: String) {
    if text.utf8.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) == nil {
      for c in text.utf8 { update(c) }
    }
  }

  /// The bytes of ``JSONValue/quote(_:into:)``'s text (as
  /// ``RequestRows/quote(_:into:)`` writes them): runs of plain bytes go in
  /// whole, each escape as its text.
  mutating func writeQuoted(_ text: String) {
    update(UInt8(ascii: "\""))
    let plain =
      text.utf8.withContiguousStorageIfAvailable { raw -> Bool in
        var start = 0
        for (i, c) in raw.enumerated() where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
          update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: raw[start..<i])))
          escape(c)
          start = i + 1
        }
        update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: raw[start...])))
        return true
      } ?? false
    if !plain {
      for c in text.utf8 {
        if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { escape(c) } else { update(c) }
      }
    }
    update(UInt8(ascii: "\""))
  }

  /// A quote, a backslash or a control character, escaped.
  private mutating func escape(_ c: UInt8) {
    switch c {
    case UInt8(ascii: "\""): write("\\\"")
    case UInt8(ascii: "\\"): write("\\\\")
    case 0x0A: write("\\n")
    case 0x0D: write("\\r")
    case 0x09: write("\\t")
    default:
      let hex: StaticString = "0123456789abcdef"
      write("\\u00")
      hex.withUTF8Buffer { digits in
        update(digits[Int(c >> 4)])
        update(digits[Int(c & 0xF)])
      }
    }
  }
}

/// What reading a HAR entry looks at, taken from the entry: each field is
/// the value the parsed entry gives (`e["request"]?["url"]?.string`, …), so
/// a member written twice gives its last value, and one of another type
/// none. ``JSONParser/harEntry(_:maxDepth:)`` takes them from the entry's
/// bytes without building the entry.
package struct HAREntry: Equatable, Sendable {
  /// `request.url`, when a string.
  package var url: String?
  /// `startedDateTime`: RFC 3339 text or milliseconds (``CaptureReader/time(_:)``).
  package var started: Instant?
  /// `response.status`, when an integer.
  package var status: Int64?
  /// `time`, the elapsed milliseconds, rounded (``CaptureReader/milliseconds(_:)``).
  package var elapsed: Int64?
  /// `request.postData.text`, when a string.
  package var requestText: String?
  /// `response.headers` as name and value pairs (``CaptureReader/headerPairs(_:)``).
  package var headers: [(String, String)] = []
  /// `response.content`'s `text`, `encoding` and `mimeType`, when strings.
  package var text: String?
  package var encoding: String?
  package var mimeType: String?

  package init() {}

  /// The fields of a parsed entry.
  package init(_ e: JSONValue) {
    let request = e["request"]
    let response = e["response"]
    let content = response?["content"]
    url = request?["url"]?.string
    started = e["startedDateTime"].flatMap(CaptureReader.time)
    status = response?["status"]?.int64
    elapsed = CaptureReader.milliseconds(e["time"])
    requestText = request?["postData"]?["text"]?.string
    headers = CaptureReader.headerPairs(response?["headers"])
    text = content?["text"]?.string
    encoding = content?["encoding"]?.string
    mimeType = content?["mimeType"]?.string
  }

  /// The response body: the content's text, base64-decoded when so encoded.
  var body: String? { CaptureReader.content(text: text, encoding: encoding) }

  /// The request body, parsed.
  var request: JSONValue? { requestText.flatMap { try? JSONParser.parse($0) } }

  package static func == (a: HAREntry, b: HAREntry) -> Bool {
    a.url == b.url && a.started == b.started && a.status == b.status && a.elapsed == b.elapsed
      && a.requestText == b.requestText && a.text == b.text && a.encoding == b.encoding && a.mimeType == b.mimeType
      && a.headers.count == b.headers.count && zip(a.headers, b.headers).allSatisfy { $0 == $1 }
  }
}

/// The count_tokens calls of a HAR for one prompt, in file order: takes the
/// last unused one whose time is not after a given time (a call or a time
/// that is missing never rules a call out).
///
/// A segment tree over the calls holds, per node, the earliest time among its
/// unused calls (a call without a time counts as the earliest possible; a used
/// call has none); the wanted call is the rightmost leaf at or before the time.
struct CountGroup {
  private var indices: [Int] = []
  private var times: [Int64] = []
  /// Built on first use; `tree[1]` is the root, leaves start at `leaves`.
  private var tree: [Int64?] = []
  private var leaves = 0

  mutating func append(index: Int, time: Instant?) {
    indices.append(index)
    times.append(time?.millisecondsSinceEpoch ?? .min)
  }

  /// Appends `other`'s calls after these, their indices moved by `offset`.
  mutating func append(contentsOf other: CountGroup, offset: Int) {
    indices += other.indices.map { $0 + offset }
    times += other.times
  }

  /// The index of the call taken, now used; nil when none qualifies.
  mutating func takeLatest(notAfter t: Instant?) -> Int? {
    if tree.isEmpty { build() }
    let limit = t?.millisecondsSinceEpoch ?? .max
    guard let root = tree[1], root <= limit else { return nil }
    var node = 1
    while node < leaves {
      if let right = tree[2 * node + 1], right <= limit { node = 2 * node + 1 } else { node = 2 * node }
    }
    let position = node - leaves
    tree[node] = nil
    node /= 2
    while node >= 1 {
      tree[node] = Self.earlier(tree[2 * node], tree[2 * node + 1])
      node /= 2
    }
    return indices[position]
  }

  private mutating func build() {
    leaves = 1
    while leaves < times.count { leaves *= 2 }
    tree = Array(repeating: nil, count: 2 * leaves)
    for (k, time) in times.enumerated() { tree[leaves + k] = time }
    for node in stride(from: leaves - 1, through: 1, by: -1) {
      tree[node] = Self.earlier(tree[2 * node], tree[2 * node + 1])
    }
  }

  private static func earlier(_ a: Int64?, _ b: Int64?) -> Int64? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a, b)
  }
}

/// Standard base64 (RFC 4648), for HAR bodies.
enum Base64 {
  static func decode(_ text: String) -> [UInt8]? {
    var out: [UInt8] = []
    var acc: UInt32 = 0
    var bits = 0
    for c in text.utf8 {
      let v: UInt32
      switch c {
      case 65...90: v = UInt32(c - 65)
      case 97...122: v = UInt32(c - 71)
      case 48...57: v = UInt32(c + 4)
      case 43, 45: v = 62
      case 47, 95: v = 63
      case 61, 10, 13, 32: continue
      default: return nil
      }
      acc = acc << 6 | v
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
      }
    }
    return out
  }
}
