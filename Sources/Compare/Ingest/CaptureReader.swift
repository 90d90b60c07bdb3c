import EstimateModel

/// Reads structured captures, parsed whole, into usage records.
///
/// | shape | recognized by |
/// |---|---|
/// | HAR 1.2 (browsers, mitmproxy, Charles) | `log.entries` |
/// | Admin API messages usage report, one or many pages | `data[].results[].uncached_input_tokens` |
/// | Admin API Claude Code usage report | `data[].model_breakdown` |
/// | paired capture | `count_tokens` and `response` |
/// | OpenTelemetry logs (OTLP JSON, file exporter) | `resourceLogs` |
/// | OpenAI-style response | `usage.prompt_tokens` or `usage.input_tokens_details` |
/// | Bedrock Converse response | `usage.inputTokens` |
/// | Anthropic Messages response | `usage.input_tokens` |
struct CaptureReader {
  let path: String
  let fileStem: String
  let parentName: String

  /// The records of one document.
  mutating func read(_ doc: JSONValue, line: Int, ledger: inout Ledger) -> [RawUsage] {
    if case .array(let items) = doc {
      return items.flatMap { read($0, line: line, ledger: &ledger) }
    }
    if let entries = doc["log"]?["entries"]?.array {
      return har(entries, line: line, ledger: &ledger)
    }
    if let data = doc["data"]?.array {
      var out: [RawUsage] = []
      for bucket in data {
        if let results = bucket["results"]?.array {
          out += results.map { adminResult($0, bucket) }
        } else if let breakdown = bucket["model_breakdown"]?.array {
          out += breakdown.map { claudeCodeReport($0, bucket) }
        }
      }
      ledger.aggregateRecords += out.count
      return out
    }
    if doc["count_tokens"] != nil, let response = doc["response"] {
      ledger.countTokensCalls += 1
      var records = responseRecords(response)
      let measured = doc["count_tokens"]?["input_tokens"]?.int64 ?? doc["count_tokens"]?.int64
      let headers = headerPairs(doc["headers"])
      let time = doc["time"].flatMap(Self.time)
      for k in records.indices {
        records[k].measured = measured
        records[k].rateLimit = RateLimitHeaders(headers)
        if records[k].requestID == nil {
          records[k].requestID = headers.first { lowercasedName($0.0) == "request-id" }?.1
        }
        records[k].time = records[k].time ?? time
      }
      if measured != nil, !records.isEmpty { ledger.countTokensPaired += 1 }
      return records
    }
    if let logs = doc["resourceLogs"]?.array {
      return otel(logs)
    }
    return responseRecords(doc)
  }

  /// A response body: a JSON response, or SSE text.
  func responseRecords(_ body: JSONValue) -> [RawUsage] {
    if let text = body.string {
      if let parsed = try? JSONParser.parse(text), case .object = parsed {
        return responseRecords(parsed)
      }
      return Self.foldSSE(text)
    }
    guard let usage = body["usage"] else { return [] }
    var r = RawUsage()
    r.messageID = body["id"]?.string
    r.model = body["model"]?.string ?? body["modelId"]?.string
    r.stopReason = body["stop_reason"].map { !$0.isNull } ?? false
    if usage["prompt_tokens"] != nil || usage["input_tokens_details"] != nil {
      // OpenAI: cached tokens are a subset of the prompt; never count them twice.
      let prompt = usage["prompt_tokens"]?.int64 ?? usage["input_tokens"]?.int64 ?? 0
      let cached =
        usage["prompt_tokens_details"]?["cached_tokens"]?.int64
        ?? usage["input_tokens_details"]?["cached_tokens"]?.int64 ?? 0
      r.input = max(0, prompt - cached)
      r.cacheRead = min(cached, prompt)
      r.output = usage["completion_tokens"]?.int64 ?? usage["output_tokens"]?.int64 ?? 0
      r.stopReason = true
      if let created = body["created"]?.int64 ?? body["created_at"]?.int64 {
        r.time = Instant(millisecondsSinceEpoch: created * 1000)
      }
      return [r]
    }
    if usage["inputTokens"] != nil {
      // Bedrock Converse: TTL split in cacheDetails (1h before 5m).
      r.input = usage["inputTokens"]?.int64
      r.output = usage["outputTokens"]?.int64
      r.cacheRead = usage["cacheReadInputTokens"]?.int64
      r.cacheCreation = usage["cacheWriteInputTokens"]?.int64
      for d in usage["cacheDetails"]?.array ?? [] {
        let n = d["inputTokens"]?.int64 ?? 0
        switch d["ttl"]?.string {
        case "1h": r.write1h = (r.write1h ?? 0) + n
        case "5m": r.write5m = (r.write5m ?? 0) + n
        default: break
        }
      }
      r.stopReason = body["stopReason"] != nil || r.stopReason
      return [r]
    }
    r.input = usage["input_tokens"]?.int64
    r.output = usage["output_tokens"]?.int64
    r.cacheCreation = usage["cache_creation_input_tokens"]?.int64
    r.cacheRead = usage["cache_read_input_tokens"]?.int64
    r.write5m = usage["cache_creation"]?["ephemeral_5m_input_tokens"]?.int64
    r.write1h = usage["cache_creation"]?["ephemeral_1h_input_tokens"]?.int64
    r.webSearch = usage["server_tool_use"]?["web_search_requests"]?.int64
    r.serviceTier = usage["service_tier"]?.string
    r.geo = usage["inference_geo"]?.string
    r.speed = usage["speed"]?.string
    return [r]
  }

  /// Folds SSE text: `message_start` usage overwritten by each `message_delta`'s non-null fields.
  static func foldSSE(_ text: String) -> [RawUsage] {
    var out: [RawUsage] = []
    var current: RawUsage?
    for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      var line = Substring(rawLine)
      if line.hasPrefix("data:") { line = line.dropFirst(5) } else if !line.hasPrefix("{") { continue }
      guard let event = try? JSONParser.parse(String(line)) else { continue }
      switch event["type"]?.string {
      case "message_start":
        if var c = current {
          c.incompleteStream = true
          out.append(c)
        }
        guard let message = event["message"] else { continue }
        let reader = CaptureReader(path: "", fileStem: "", parentName: "")
        current = reader.responseRecords(message).first
      case "message_delta":
        guard var c = current, let u = event["usage"] else { continue }
        if let v = u["input_tokens"]?.int64 { c.input = v }
        if let v = u["output_tokens"]?.int64 { c.output = v }
        if let v = u["cache_creation_input_tokens"]?.int64 { c.cacheCreation = v }
        if let v = u["cache_read_input_tokens"]?.int64 { c.cacheRead = v }
        if let v = u["server_tool_use"]?["web_search_requests"]?.int64 { c.webSearch = v }
        current = c
      case "message_stop":
        if var c = current {
          c.stopReason = true
          out.append(c)
          current = nil
        }
      default:
        continue
      }
    }
    if var c = current {
      c.incompleteStream = true
      out.append(c)
    }
    return out
  }

  /// HAR entries: messages calls become records; count_tokens calls are
  /// paired with the messages call for the same prompt (nearest later call).
  ///
  /// Each messages call takes the latest count_tokens call for the same
  /// prompt at or before it: that messages call is the count's nearest later
  /// one. "Latest" is the last in the file among the unused calls for that
  /// prompt whose time is not after the messages call's. A first pass groups
  /// the count_tokens calls by prompt; in the second, each record takes its
  /// call from its group in O(log n), so a repeated prompt costs no quadratic scan.
  private func har(_ entries: [JSONValue], line: Int, ledger: inout Ledger) -> [RawUsage] {
    var stream = HARStream(
      reader: self, line: line, pairing: entries.contains { Self.harCall($0)?.countTokens == true })
    for e in entries { stream.add(e, ledger: &ledger) }
    return stream.finish(ledger: &ledger)
  }

  /// A HAR read one entry at a time: each entry is reduced to its records
  /// (and, when the file may pair count_tokens calls, its prompt key) and
  /// dropped, so a capture of any length is never held as a tree.
  ///
  /// count_tokens calls are paired with messages at the end, in entry order,
  /// as when every entry is at hand: a call recorded after its message, or
  /// with an earlier clock, pairs all the same.
  struct HARStream {
    let reader: CaptureReader
    let line: Int
    /// The file may hold count_tokens calls: prompt keys are kept for pairing.
    let pairing: Bool
    private var index = 0
    private var values: [Int64] = []
    private var groups: [String: CountGroup] = [:]
    private var records: [RawUsage] = []
    /// Per record: its request's prompt key, for pairing.
    private var keys: [String?] = []

    init(reader: CaptureReader, line: Int, pairing: Bool) {
      self.reader = reader
      self.line = line
      self.pairing = pairing
    }

    mutating func add(_ e: JSONValue, ledger: inout Ledger) {
      defer { index += 1 }
      guard let call = CaptureReader.harCall(e) else { return }
      if call.countTokens, (200..<300).contains(call.status) || call.status == 0,
        let value = CaptureReader.content(e["response"]?["content"]).flatMap({ try? JSONParser.parse($0) })?[
          "input_tokens"]?.int64,
        let request = CaptureReader.requestBody(e)
      {
        groups[CaptureReader.promptKey(request), default: CountGroup()].append(index: values.count, time: call.time)
        values.append(value)
      }
      let headers = reader.headerPairs(e["response"]?["headers"])
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
      let (path, line, index) = (reader.path, line, index)
      func unreadable(_ why: String) {
        ledger.problem(.unreadableEntry, path, line, "HAR entry \(index) (/v1/messages, HTTP \(call.status)): \(why)")
      }
      if let encoding = headers.first(where: { lowercasedName($0.0) == "content-encoding" })?.1,
        !["identity", ""].contains(encoding.trimmingSpaces.lowercased())
      {
        unreadable("compressed body (content-encoding: \(encoding)) not supported")
        return
      }
      guard let body = CaptureReader.content(e["response"]?["content"]) else {
        let content = e["response"]?["content"]
        unreadable(
          content?["text"]?.string == nil
            ? "no response body recorded" : "the response body is not valid base64")
        return
      }
      // The request is parsed only when needed (for pairing, or for a
      // missing model), and then once: nil until then, .some(nil) when it is no JSON.
      var request: JSONValue??
      func requestBody() -> JSONValue? {
        if request == nil { request = .some(CaptureReader.requestBody(e)) }
        return request ?? nil
      }
      var key: String??  // the same, for the request's prompt
      let found = reader.responseRecords(.string(body))
      if found.isEmpty {
        unreadable(
          "the response body is neither a Messages API response nor an SSE stream (not JSON, truncated or nested too deep)"
        )
      }
      for var r in found {
        r.time = r.time ?? call.time
        r.rateLimit = RateLimitHeaders(headers)
        r.requestID = r.requestID ?? headers.first { lowercasedName($0.0) == "request-id" }?.1
        if r.model == nil { r.model = requestBody()?["model"]?.string }
        if pairing, key == nil { key = .some(requestBody().map(CaptureReader.promptKey)) }
        records.append(r)
        keys.append(key ?? nil)
      }
    }

    /// The records, each paired with the latest count_tokens call of the
    /// same prompt made no later than it.
    mutating func finish(ledger: inout Ledger) -> [RawUsage] {
      if !groups.isEmpty {
        for k in records.indices {
          if let key = keys[k], let best = groups[key]?.takeLatest(notAfter: records[k].time) {
            records[k].measured = values[best]
            ledger.countTokensPaired += 1
          }
        }
      }
      keys = []
      return records
    }
  }

  static func harCall(_ e: JSONValue) -> (countTokens: Bool, time: Instant?, status: Int64)? {
    guard let url = e["request"]?["url"]?.string else { return nil }
    let endpoint = url.utf8.contains(UInt8(ascii: "?")) ? url.split(separator: "?").first.map(String.init) ?? url : url
    let countTokens = endpoint.hasSuffix("/v1/messages/count_tokens")
    guard countTokens || endpoint.hasSuffix("/v1/messages") else { return nil }
    return (countTokens, e["startedDateTime"].flatMap(Self.time), e["response"]?["status"]?.int64 ?? 0)
  }

  /// A HAR entry's request body, parsed.
  static func requestBody(_ e: JSONValue) -> JSONValue? {
    e["request"]?["postData"]?["text"]?.string.flatMap { try? JSONParser.parse($0) }
  }

  /// A HAR `content`: text, base64-decoded when so encoded.
  static func content(_ c: JSONValue?) -> String? {
    guard let text = c?["text"]?.string else { return nil }
    if c?["encoding"]?.string == "base64" {
      return Base64.decode(text).map { String(decoding: $0, as: UTF8.self) }
    }
    return text
  }

  /// The prompt of a request, as the canonical JSON of its model, system,
  /// tools and messages: two requests have the same prompt when these are equal.
  static func promptKey(_ request: JSONValue) -> String {
    var canonical = ""
    canonical.reserveCapacity(256)
    for key in ["model", "system", "tools", "messages"] {
      canonical += key + "="
      if let value = request[key] { canonicalJSON(value, into: &canonical) } else { canonical += "null" }
      canonical += "\n"
    }
    return canonical
  }

  /// JSON with object keys sorted and no white space.
  static func canonicalJSON(_ v: JSONValue) -> String {
    var out = ""
    canonicalJSON(v, into: &out)
    return out
  }

  /// Appends `v`'s canonical JSON: a duplicate key keeps its first spelling
  /// and its last value (as a dictionary keyed by the members would).
  static func canonicalJSON(_ v: JSONValue, into out: inout String) {
    switch v {
    case .object(let members):
      // Members by key, equal keys in document order: each run of equal
      // keys is written once, with its first spelling and its last value.
      let order = members.indices.sorted {
        members[$0].0 < members[$1].0 || (members[$0].0 == members[$1].0 && $0 < $1)
      }
      out += "{"
      var n = 0
      while n < order.count {
        var last = n
        while last + 1 < order.count, members[order[last + 1]].0 == members[order[n]].0 { last += 1 }
        if n > 0 { out += "," }
        JSONValue.quote(members[order[n]].0, into: &out)
        out += ":"
        canonicalJSON(members[order[last]].1, into: &out)
        n = last + 1
      }
      out += "}"
    case .array(let items):
      out += "["
      for (n, item) in items.enumerated() {
        if n > 0 { out += "," }
        canonicalJSON(item, into: &out)
      }
      out += "]"
    case .string(let s): JSONValue.quote(s, into: &out)
    case .number(let text): out += text
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    }
  }

  func headerPairs(_ h: JSONValue?) -> [(String, String)] {
    if let list = h?.array {
      return list.compactMap { item in
        guard let n = item["name"]?.string, let v = item["value"]?.string else { return nil }
        return (n, v)
      }
    }
    if case .object(let members)? = h {
      return members.compactMap { (k, v) in v.string.map { (k, $0) } ?? v.array?.first?.string.map { (k, $0) } }
    }
    return []
  }

  static func time(_ v: JSONValue) -> Instant? {
    if let s = v.string { return Instant(s) }
    if let ms = v.int64 { return Instant(millisecondsSinceEpoch: ms) }
    return nil
  }

  /// One result of an Admin API messages usage report bucket.
  private func adminResult(_ r: JSONValue, _ bucket: JSONValue) -> RawUsage {
    var u = RawUsage()
    u.aggregate = true
    u.time = bucket["starting_at"].flatMap(Self.time)
    u.model = r["model"]?.string ?? "(all models)"
    u.input = r["uncached_input_tokens"]?.int64 ?? 0
    u.output = r["output_tokens"]?.int64 ?? 0
    u.cacheRead = r["cache_read_input_tokens"]?.int64
    u.write5m = r["cache_creation"]?["ephemeral_5m_input_tokens"]?.int64
    u.write1h = r["cache_creation"]?["ephemeral_1h_input_tokens"]?.int64
    u.webSearch = r["server_tool_use"]?["web_search_requests"]?.int64
    u.serviceTier = r["service_tier"]?.string
    u.geo = r["inference_geo"]?.string
    u.speed = r["speed"]?.string
    switch r["context_window"]?.string {
    case "200k-1M": u.longContext = true
    case "0-200k": u.longContext = false
    default: u.longContext = nil
    }
    u.stopReason = true
    u.session = "admin-report"
    u.project = r["workspace_id"]?.string ?? "default-workspace"
    let parts = [
      "starting_at", "model", "workspace_id", "api_key_id", "service_tier", "context_window",
      "inference_geo", "speed", "account_id", "service_account_id",
    ].map { k in
      (k == "starting_at" ? bucket[k] : r[k])?.serialized(pretty: false) ?? "null"
    }
    u.key = "admin\u{1F}" + parts.joined(separator: "\u{1F}")
    return u
  }

  /// One model row of a Claude Code usage report record.
  private func claudeCodeReport(_ m: JSONValue, _ record: JSONValue) -> RawUsage {
    var u = RawUsage()
    u.aggregate = true
    let actor = record["actor"]?["email_address"]?.string ?? record["actor"]?["api_key_name"]?.string ?? "unknown-actor"
    u.time = record["date"].flatMap(Self.time)
    u.model = m["model"]?.string
    u.input = m["tokens"]?["input"]?.int64 ?? 0
    u.output = m["tokens"]?["output"]?.int64 ?? 0
    u.cacheRead = m["tokens"]?["cache_read"]?.int64
    u.cacheCreation = m["tokens"]?["cache_creation"]?.int64
    u.stopReason = true
    u.session = actor
    u.project = "claude-code-report"
    u.key = "ccreport\u{1F}\(record["date"]?.serialized(pretty: false) ?? "")\u{1F}\(actor)\u{1F}\(u.model ?? "")"
    return u
  }

  /// Claude Code's `claude_code.api_request` events in OTLP JSON.
  private func otel(_ logs: [JSONValue]) -> [RawUsage] {
    func attributes(_ list: JSONValue?) -> [String: JSONValue] {
      var out: [String: JSONValue] = [:]
      for a in list?.array ?? [] {
        guard let k = a["key"]?.string, let v = a["value"] else { continue }
        out[k] = v["stringValue"] ?? v["intValue"] ?? v["doubleValue"] ?? v["boolValue"] ?? .null
      }
      return out
    }
    func int(_ v: JSONValue?) -> Int64? {
      if let i = v?.int64 { return i }
      if let s = v?.string { return Int64(s) }
      if case .number(let text)? = v, let d = Double(text), d >= 0, d < 9.2e18, d == d.rounded() { return Int64(d) }
      return nil
    }
    var out: [RawUsage] = []
    for resourceLog in logs {
      let resource = attributes(resourceLog["resource"]?["attributes"])
      for scope in resourceLog["scopeLogs"]?.array ?? [] {
        for record in scope["logRecords"]?.array ?? [] {
          let a = attributes(record["attributes"])
          let name = a["event.name"]?.string ?? record["body"]?["stringValue"]?.string ?? ""
          guard name == "api_request" || name == "claude_code.api_request" else { continue }
          var u = RawUsage()
          u.model = a["model"]?.string
          u.input = int(a["input_tokens"]) ?? 0
          u.output = int(a["output_tokens"]) ?? 0
          u.cacheRead = int(a["cache_read_tokens"])
          u.cacheCreation = int(a["cache_creation_tokens"])
          u.requestID = a["request_id"]?.string
          u.session = a["session.id"]?.string ?? resource["session.id"]?.string
          u.project = "otel"
          u.speed = a["speed"]?.string
          u.stopReason = true
          if let stamp = a["event.timestamp"]?.string {
            u.time = Instant(stamp)
            u.badTime = u.time == nil
          } else if let ns = record["timeUnixNano"]?.string.flatMap({ Int64($0) }) ?? int(record["timeUnixNano"]) {
            u.time = Instant(millisecondsSinceEpoch: ns / 1_000_000)
          }
          if let id = u.requestID { u.key = "otel\u{1F}" + id }
          out.append(u)
        }
      }
    }
    return out
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

/// A view of SSE folding for tests.
package enum CaptureReaderProbe {
  public struct Folded: Sendable {
    public var output: Int64?
    public var incomplete: Bool
  }

  public static func fold(_ text: String) -> [Folded] {
    CaptureReader.foldSSE(text).map { Folded(output: $0.output, incomplete: $0.incompleteStream) }
  }
}
