import EstimateModel

/// Server tools and model fallbacks, as usage and content show them
/// (issue 13, item 7).
///
/// A request that used a server tool (web search, web fetch, code
/// execution, tool search) has a prompt count_tokens cannot give: the
/// token counting page says count_tokens answers `invalid_request_error`
/// for "every server tool except the advisor tool", and the tool's results
/// enter the prompt on the server. Such a request keeps its `P` (input +
/// cache writes + cache reads, what it was billed) and is flagged.
///
/// | seen | where |
/// |---|---|
/// | `usage.server_tool_use.*_requests` above 0 | every reader (the byte scanner reads web search, web fetch and code execution) |
/// | a `server_tool_use` content block other than the advisor's | captures, HAR bodies and streams (`content_block_start`) |
///
/// A fallback stream (`fallbacks`) starts on one model and ends on another:
/// its `message_start` names the first, a `fallback` content block names
/// the one that produced the final usage (`to.model`), which prices it.
enum StreamBlocks {
  /// The server tool that count_tokens accepts: not flagged.
  static let advisor = "advisor"

  /// Whether `usage.server_tool_use` counts any request (any `…_requests`
  /// member above 0).
  static func countsServerTools(_ usage: JSONValue?) -> Bool {
    guard case .object(let members)? = usage?["server_tool_use"] else { return false }
    return members.contains { $0.0.hasSuffix("_requests") && ($0.1.int64 ?? 0) > 0 }
  }

  /// Whether a content block is a server tool's call other than the advisor's.
  static func isServerToolCall(_ block: JSONValue) -> Bool {
    block["type"]?.string == "server_tool_use" && block["name"]?.string != advisor
  }

  /// Whether a response used server tools, by its usage or its content.
  static func usedServerTools(_ response: JSONValue) -> Bool {
    countsServerTools(response["usage"]) || (response["content"]?.array ?? []).contains(where: isServerToolCall)
  }

  /// What a `content_block_start` event tells about its stream: the model a
  /// fallback block moves to, and whether the block is a server tool's call.
  static func contentBlockStart(_ event: JSONValue) -> (fallbackModel: String?, serverTool: Bool)? {
    guard event["type"]?.string == "content_block_start", let block = event["content_block"] else { return nil }
    let fallback = block["type"]?.string == "fallback" ? block["to"]?["model"]?.string : nil
    return (fallback, isServerToolCall(block))
  }
}

extension ScannedUsage {
  /// Some server tool was used, by the counts the scanner reads.
  var usedServerTools: Bool {
    (webSearch ?? 0) > 0 || (webFetch ?? 0) > 0 || (codeExecution ?? 0) > 0
  }
}

extension FileIngest {
  static let contentBlockStart = Array(#""content_block_start""#.utf8)
  /// A `server_tool_use` content block, compact or pretty-printed.
  static let serverToolBlocks = [Array(#""type":"server_tool_use""#.utf8), Array(#""type": "server_tool_use""#.utf8)]
  /// The largest document whose content blocks are read (parsed whole).
  static let serverToolDocumentLimit = 64 << 20

  /// Flags the requests of a document (a response, or an array of them,
  /// read whole) whose content calls a server tool: the byte scanner reads
  /// usage, not content, and a response's usage may count no server tool
  /// request (code execution's often does not). Only a document that holds
  /// such a block, and is at most 64 MiB, is parsed.
  mutating func noteDocumentServerTools(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    guard range.count <= FileIngest.serverToolDocumentLimit,
      FileIngest.serverToolBlocks.contains(where: { FileIngest.contains(all, range, $0) }),
      let doc = try? JSONParser.parse(UnsafeBufferPointer(rebasing: all[range]))
    else { return }
    var ids: Set<String> = []
    func visit(_ v: JSONValue) {
      if let items = v.array {
        items.forEach(visit)
        return
      }
      let response = v["message"] ?? v
      if (response["content"]?.array ?? []).contains(where: StreamBlocks.isServerToolCall),
        let id = response["id"]?.string
      {
        ids.insert(id)
      }
    }
    visit(doc)
    partial.table.markServerTools(messageIDs: ids)
  }

  /// Notes what a `content_block_start` line tells the open stream (a
  /// fallback's model, a server tool's call). Called only while a stream is
  /// open, so transcripts never pay for it; only such lines are parsed.
  mutating func noteStreamBlock(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
    guard stream != nil, FileIngest.contains(all, range, FileIngest.contentBlockStart),
      let event = try? JSONParser.parse(UnsafeBufferPointer(rebasing: all[range])),
      let found = StreamBlocks.contentBlockStart(event)
    else { return }
    if let model = found.fallbackModel { stream?.model = model }
    if found.serverTool { stream?.traits.serverTools = true }
  }
}
