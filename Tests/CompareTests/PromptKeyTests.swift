import Compare
import EstimateModel
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Pairing count_tokens calls with messages calls in a HAR (issue 13,
/// item 8): the prompt key leaves block-level `cache_control` out (a
/// breakpoint changes what is cached, not what is counted) and takes
/// `tool_choice` and `thinking` in (each changes the count).
@Suite("HAR prompt keys")
struct PromptKeyTests {
  /// A HAR entry at second `second` to `/v1/messages` + `path`, with a
  /// request body `request` (JSON) and a response `content` (JSON).
  func entry(_ second: Int, _ path: String, request: String, content: String) -> String {
    #"{"startedDateTime":"2026-10-20T12:00:0\#(second).000Z","#
      + #""request":{"method":"POST","url":"https://api.anthropic.com/v1/messages\#(path)","#
      + #""postData":{"text":\#(quoted(request))}},"#
      + #""response":{"status":200,"headers":[],"content":{"text":\#(quoted(content))}}}"#
  }

  func quoted(_ s: String) -> String {
    "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
  }

  /// The measured count_tokens value of each messages call, by message id.
  func measured(_ entries: [String]) async throws -> [String: Int64?] {
    // A name of its own: tests run side by side, and two made in the same
    // millisecond (as a release build does) must not read each other's file.
    let path = "/tmp/tokengap-prompt-key-\(UInt64.random(in: 0...UInt64.max)).har"
    try POSIXFiles.writeAtomically(
      Array((#"{"log":{"entries":["# + entries.joined(separator: ",") + "]}}").utf8), to: path)
    defer { _ = unlink(path) }
    return Dictionary(
      uniqueKeysWithValues: await requests([path]).map { ($0.messageID ?? "", $0.measuredCountTokens) })
  }

  func response(_ id: String) -> String {
    #"{"id":"\#(id)","model":"claude-sonnet-4-5","usage":{"input_tokens":3,"cache_read_input_tokens":1111,"output_tokens":7}}"#
  }

  @Test("A count_tokens body without breakpoints pairs with the messages body that has them")
  func breakpointsLeftOut() async throws {
    // The same prompt; the messages call marks the tool, the system block,
    // a text block and a tool result's inner block with cache_control, and
    // sends a top-level cache_control, max_tokens and stream too.
    let counted =
      #"{"model":"claude-sonnet-4-5","system":[{"type":"text","text":"S"}],"#
      + #""tools":[{"name":"t","input_schema":{"type":"object"}}],"#
      + #""messages":[{"role":"user","content":[{"type":"text","text":"hi"},"#
      + #"{"type":"tool_result","tool_use_id":"u","content":[{"type":"text","text":"r"}]}]}]}"#
    let sent =
      #"{"model":"claude-sonnet-4-5","max_tokens":100,"stream":false,"cache_control":{"type":"ephemeral"},"#
      + #""system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral","ttl":"1h"}}],"#
      + #""tools":[{"name":"t","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],"#
      + #""messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}},"#
      + #"{"type":"tool_result","tool_use_id":"u","content":[{"type":"text","text":"r","cache_control":{"type":"ephemeral"}}]}]}]}"#
    let found = try await measured([
      entry(1, "/count_tokens", request: counted, content: #"{"input_tokens":1114}"#),
      entry(2, "", request: sent, content: response("m1")),
    ])
    // 1,114 is the count the count_tokens call returned (3 + 1,111 read).
    #expect(found == ["m1": 1_114])
  }

  @Test("A tool's input keeps a member named cache_control: it is content, not a breakpoint")
  func toolInputKept() async throws {
    func body(_ input: String) -> String {
      #"{"model":"claude-sonnet-4-5","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"u","name":"t","input":\#(input)}]}]}"#
    }
    let found = try await measured([
      entry(1, "/count_tokens", request: body(#"{"cache_control":1}"#), content: #"{"input_tokens":50}"#),
      entry(2, "", request: body("{}"), content: response("m1")),
    ])
    #expect(found == ["m1": nil])
  }

  @Test(
    "tool_choice and thinking are part of the prompt: a count made without them does not pair",
    arguments: [
      #","tool_choice":{"type":"any"}"#,
      #","thinking":{"type":"enabled","budget_tokens":2048}"#,
    ])
  func countChangingParameters(_ extra: String) async throws {
    let base = #"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]"#
    let found = try await measured([
      // A count with the parameter (2,406), then one without it (2,000).
      // With one key for both, the call at :03 would take the latest, the
      // count made without the parameter, and the call at :04 the other.
      entry(1, "/count_tokens", request: base + extra + "}", content: #"{"input_tokens":2406}"#),
      entry(2, "/count_tokens", request: base + "}", content: #"{"input_tokens":2000}"#),
      entry(3, "", request: base + extra + #","max_tokens":10}"#, content: response("m1")),
      entry(4, "", request: base + #","max_tokens":10}"#, content: response("m2")),
    ])
    #expect(found == ["m1": 2_406, "m2": 2_000])
  }
}
