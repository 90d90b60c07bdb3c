import Testing

/// The rule per source at the command line (issue 13, item 3).
@Suite("The rule follows the source, at the command line")
struct SourceRuleCLITests {
  let examples = root + "/datasets/examples"

  @Test("datasets/examples mixes three rules: per-request output is identical for any --jobs")
  func jobs() async {
    for by in ["request", "model", "day,model"] {
      let one = await tokengap("analyze", examples, "--by", by, "--format", "csv", "--at", "2026-11-01", "--jobs", "1")
      let four = await tokengap("analyze", examples, "--by", by, "--format", "csv", "--at", "2026-11-01", "--jobs", "4")
      #expect(one.status == 0 && one.out == four.out, "\(by)")
      #expect(
        one.out.split(separator: "\r\n").first?.hasSuffix(
          by == "request"
            ? ",rule,server_tools,third_party_priced_requests,logged_cost_usd"
            : ",rule,third_party_priced_requests,logged_cost_usd")
          == true,
        "\(by)")
    }
  }

  @Test("gpt-4o in datasets/examples: 2,006 prompt tokens, I 2,006 by OpenAI's rule, 86 under --accounting anthropic")
  func openAIExample() async throws {
    // prompt 2,006, cached 1,920: uncached 86. OpenAI: I = P = 2,006.
    let csv = await tokengap(
      "analyze", examples + "/openai-chat.json", "--by", "request", "--format", "csv", "--at", "2026-11-01")
    let row = try #require(csv.out.split(separator: "\r\n").dropFirst().first)
    let cells = row.split(separator: ",", omittingEmptySubsequences: false)
    // estimate_tokens, itpm_tokens, overestimation_ratio are columns 14-17 (1-based);
    // rule is column 31, before server_tools and third_party_priced_requests.
    #expect(cells[13] == "2006" && cells[14] == "2006" && cells[16] == "1" && cells[30] == "openai")
    let imposed = await tokengap(
      "analyze", examples + "/openai-chat.json", "--by", "request", "--format", "csv", "--at", "2026-11-01",
      "--accounting", "anthropic")
    let a = try #require(imposed.out.split(separator: "\r\n").dropFirst().first)
      .split(separator: ",", omittingEmptySubsequences: false)
    // 2,006 / 86 = 23.325581…; (2,006 − 86) / 2,006 = 0.957129…
    #expect(a[14] == "86" && a[16] == "23.325581" && a[17] == "0.957129" && a[30] == "anthropic")
  }
}
