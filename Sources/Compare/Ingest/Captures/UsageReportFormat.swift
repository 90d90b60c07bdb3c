import EstimateModel

/// Admin API usage reports: `data[]` buckets holding messages `results`
/// or Claude Code `model_breakdown` rows. Aggregates, not requests.
struct UsageReportFormat: CaptureFormat {
  func matches(_ doc: JSONValue) -> Bool { doc["data"]?.array != nil }

  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage] {
    var out: [RawUsage] = []
    for bucket in doc["data"]?.array ?? [] {
      if let results = bucket["results"]?.array {
        out += results.map { reader.adminResult($0, bucket) }
      } else if let breakdown = bucket["model_breakdown"]?.array {
        out += breakdown.map { reader.claudeCodeReport($0, bucket) }
      }
    }
    ledger.aggregateRecords += out.count
    return out
  }
}

extension CaptureReader {
  /// One result of an Admin API messages usage report bucket.
  func adminResult(_ r: JSONValue, _ bucket: JSONValue) -> RawUsage {
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
    u.traits.serverTools = StreamBlocks.countsServerTools(r)
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
  func claudeCodeReport(_ m: JSONValue, _ record: JSONValue) -> RawUsage {
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
}
