import EstimateModel

/// A single API response: Anthropic Messages (JSON or an SSE text), OpenAI
/// chat or responses, Bedrock Converse. Any document no other format claims.
struct ResponseFormat: CaptureFormat {
  func matches(_ doc: JSONValue) -> Bool { true }

  func records(_ doc: JSONValue, reader: CaptureReader, line: Int, ledger: inout Ledger) -> [RawUsage] {
    reader.responseRecords(doc)
  }
}

extension CaptureReader {
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
      // OpenAI's rule: cached tokens count toward TPM (OPENAI-CACHING).
      r.traits.rule = .openai
      r.output = usage["completion_tokens"]?.int64 ?? usage["output_tokens"]?.int64 ?? 0
      r.stopReason = true
      if let created = body["created"]?.int64 ?? body["created_at"]?.int64 {
        r.time = Instant(millisecondsSinceEpoch: created * 1000)
      }
      return [r]
    }
    if usage["inputTokens"] != nil {
      // Bedrock Converse: TTL split in cacheDetails (1h before 5m); Bedrock's
      // rule (BEDROCK-BURNDOWN).
      r.traits.rule = .bedrock
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
    r.iterations = Self.iterations(usage)
    r.traits.serverTools = StreamBlocks.usedServerTools(body)
    return [r]
  }

  /// `usage.iterations` (compaction, advisor and fallback steps), at most
  /// ``ScannedUsage/maxIterations`` of them; nil when absent.
  static func iterations(_ usage: JSONValue) -> [RawIteration]? {
    guard let items = usage["iterations"]?.array else { return nil }
    return items.prefix(ScannedUsage.maxIterations).map { it in
      RawIteration(
        input: it["input_tokens"]?.int64, output: it["output_tokens"]?.int64,
        cacheCreation: it["cache_creation_input_tokens"]?.int64,
        cacheRead: it["cache_read_input_tokens"]?.int64,
        write5m: it["cache_creation"]?["ephemeral_5m_input_tokens"]?.int64,
        write1h: it["cache_creation"]?["ephemeral_1h_input_tokens"]?.int64,
        model: it["model"]?.string, type: it["type"]?.string)
    }
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
        if StreamBlocks.countsServerTools(u) { c.traits.serverTools = true }
        if let its = iterations(u) { c.iterations = its }
        current = c
      case "content_block_start":
        // A fallback names the model that produced the final usage; a
        // server tool's call flags the request.
        guard var c = current, let found = StreamBlocks.contentBlockStart(event) else { continue }
        if let model = found.fallbackModel { c.model = model }
        if found.serverTool { c.traits.serverTools = true }
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
}
