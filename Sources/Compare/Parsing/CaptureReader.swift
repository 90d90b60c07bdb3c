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
      return har(entries, ledger: &ledger)
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
          records[k].requestID = headers.first { $0.0.lowercased() == "request-id" }?.1
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
      let cached = usage["prompt_tokens_details"]?["cached_tokens"]?.int64
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
  private func har(_ entries: [JSONValue], ledger: inout Ledger) -> [RawUsage] {
    struct Count { var time: Instant?; var hash: String; var value: Int64 }
    var counts: [Count] = []
    var records: [(RawUsage, String?)] = []
    for e in entries {
      guard let url = e["request"]?["url"]?.string else { continue }
      let endpoint = url.split(separator: "?").first.map(String.init) ?? url
      let time = e["startedDateTime"].flatMap(Self.time)
      let status = e["response"]?["status"]?.int64 ?? 0
      let headers = headerPairs(e["response"]?["headers"])
      let body = Self.content(e["response"]?["content"])
      let requestBody = e["request"]?["postData"]?["text"]?.string.flatMap { try? JSONParser.parse($0) }
      guard endpoint.hasSuffix("/v1/messages") || endpoint.hasSuffix("/v1/messages/count_tokens") else { continue }
      if status == 429 {
        ledger.responses429 += 1
        if let after = headers.first(where: { $0.0.lowercased() == "retry-after" }).flatMap({ Int64($0.1.trimmingSpaces) }) {
          ledger.retryAfterSeconds.append(after)
        }
        continue
      }
      guard (200..<300).contains(status) || status == 0 else { continue }
      let hash = requestBody.map(Self.promptHash)
      if endpoint.hasSuffix("/count_tokens") {
        ledger.countTokensCalls += 1
        if let value = body.flatMap({ try? JSONParser.parse($0) })?["input_tokens"]?.int64, let hash {
          counts.append(Count(time: time, hash: hash, value: value))
        }
        continue
      }
      guard let body else { continue }
      for var r in responseRecords(.string(body)) {
        r.time = r.time ?? time
        r.rateLimit = RateLimitHeaders(headers)
        r.requestID = r.requestID ?? headers.first { $0.0.lowercased() == "request-id" }?.1
        if r.model == nil { r.model = requestBody?["model"]?.string }
        records.append((r, hash))
      }
    }
    // Each messages call takes the latest count_tokens call for the same
    // prompt at or before it: that messages call is the count's nearest later one.
    var used = Set<Int>()
    for k in records.indices {
      guard let hash = records[k].1 else { continue }
      let t = records[k].0.time
      var best: Int?
      for (i, c) in counts.enumerated() where c.hash == hash && !used.contains(i) {
        if let ct = c.time, let t, ct > t { continue }
        best = i
      }
      if let best {
        used.insert(best)
        records[k].0.measured = counts[best].value
        ledger.countTokensPaired += 1
      }
    }
    return records.map(\.0)
  }

  /// A HAR `content`: text, base64-decoded when so encoded.
  static func content(_ c: JSONValue?) -> String? {
    guard let text = c?["text"]?.string else { return nil }
    if c?["encoding"]?.string == "base64" {
      return Base64.decode(text).map { String(decoding: $0, as: UTF8.self) }
    }
    return text
  }

  /// SHA-256 of the canonical JSON of a request's model, system, tools and messages.
  static func promptHash(_ request: JSONValue) -> String {
    var canonical = ""
    for key in ["model", "system", "tools", "messages"] {
      canonical += key + "=" + (request[key].map(canonicalJSON) ?? "null") + "\n"
    }
    return SHA256.hex(Array(canonical.utf8))
  }

  /// JSON with object keys sorted and no white space.
  static func canonicalJSON(_ v: JSONValue) -> String {
    switch v {
    case .object(let members):
      var last: [String: JSONValue] = [:]
      for (k, value) in members { last[k] = value }
      return "{" + last.keys.sorted().map { k in
        var q = ""
        JSONValue.quote(k, into: &q)
        return q + ":" + canonicalJSON(last[k] ?? .null)
      }.joined(separator: ",") + "}"
    case .array(let items): return "[" + items.map(canonicalJSON).joined(separator: ",") + "]"
    default: return v.serialized(pretty: false)
    }
  }

  private func headerPairs(_ h: JSONValue?) -> [(String, String)] {
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
    let parts = ["starting_at", "model", "workspace_id", "api_key_id", "service_tier", "context_window",
                 "inference_geo", "speed", "account_id", "service_account_id"].map { k in
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
