import EstimateModel

/// OpenTelemetry logs (OTLP JSON, file exporter): `resourceLogs`.
struct TelemetryFormat: CaptureFormat {
  func matches(_ doc: JSONValue) -> Bool { doc["resourceLogs"]?.array != nil }

  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage] {
    reader.otel(doc["resourceLogs"]?.array ?? [])
  }
}

extension CaptureReader {
  /// Claude Code's `claude_code.api_request` events in OTLP JSON.
  func otel(_ logs: [JSONValue]) -> [RawUsage] {
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
          u.durationMs = int(a["duration_ms"]).flatMap { $0 >= 0 ? $0 : nil }
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
