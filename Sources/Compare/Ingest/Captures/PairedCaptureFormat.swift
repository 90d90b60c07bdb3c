import EstimateModel

/// A paired capture: one response with the count_tokens value measured
/// for the same prompt (`count_tokens` and `response` side by side).
struct PairedCaptureFormat: CaptureFormat {
  func matches(_ doc: JSONValue) -> Bool { doc["count_tokens"] != nil && doc["response"] != nil }

  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage] {
    guard let response = doc["response"] else { return [] }
    ledger.countTokensCalls += 1
    var records = reader.responseRecords(response)
    let measured = doc["count_tokens"]?["input_tokens"]?.int64 ?? doc["count_tokens"]?.int64
    let headers = CaptureReader.headerPairs(doc["headers"])
    let time = doc["time"].flatMap(CaptureReader.time)
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
}
