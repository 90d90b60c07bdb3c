import Compare
import Foundation
import Testing

/// VCR cassettes read natively (issue 13, item 9).
@Suite("VCR cassettes")
struct CassetteTests {
  static let fixtures = root + "/Tests/tokengapTests/Fixtures/"

  /// The `--json` output's total, ledger and groups.
  func json(_ args: String...) async throws -> (status: Int32, doc: [String: Any], err: String) {
    let r = await tokengap(args + ["--json", "--timezone", "UTC", "--at", "2026-11-01"])
    let doc = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] ?? [:]
    return (r.status, doc, r.err)
  }

  func sums(_ object: Any?) -> [Int] {
    let o = object as? [String: Any] ?? [:]
    return ["requests", "estimate_tokens", "itpm_tokens"].map { (o[$0] as? NSNumber)?.intValue ?? -1 }
  }

  /// The sums, worked by hand from the usage in each fixture (their comments):
  ///
  /// | file | requests | P | I |
  /// |---|--:|--:|--:|
  /// | vcrpy-json.yaml (plain and literal bodies; a GET and a 429 not requests) | 2 | 2,100 + 2,010 = 4,110 | 2,100 + 10 = 2,110 |
  /// | vcrpy-gzip.yaml (gzip and deflate `!!binary` bodies) | 2 | 4,305 + 11 = 4,316 | 305 + 11 = 316 |
  /// | vcrpy-sse.yaml (a stream in a block scalar) | 1 | 1,007 | 7 |
  /// | providers.yaml (Bedrock, Vertex AI; models from the URL) | 2 | 520 + 100 = 620 | 20 + 100 = 120 |
  /// | ruby-vcr.yml (`http_interactions`, `!binary`, gzip) | 1 | 1,003 | 1,003 |
  /// | total | 8 | 11,056 | 3,556 |
  @Test("A cassette directory gives the hand-computed requests, P and I; YAML that is no cassette is counted")
  func directory() async throws {
    let r = try await json("analyze", Self.fixtures + "cassettes", "--by", "session", "--strict")
    #expect(r.status == 0, "\(r.err)")
    #expect(sums(r.doc["total"]) == [8, 11_056, 3_556])
    let groups = r.doc["groups"] as? [[String: Any]] ?? []
    // The run mixes rules (the Bedrock call is judged by Bedrock's, issue 13):
    // groups are split by rule, so the key is the session and the rule.
    let bySession = Dictionary(
      groups.map { (($0["session"] as? String ?? "") + "|" + ($0["rule"] as? String ?? ""), sums($0)) },
      uniquingKeysWith: { a, _ in a })
    #expect(groups.count == 6)
    #expect(
      bySession == [
        "vcrpy-json|anthropic": [2, 4_110, 2_110], "vcrpy-gzip|anthropic": [2, 4_316, 316],
        "vcrpy-sse|anthropic": [1, 1_007, 7], "providers|bedrock": [1, 520, 20], "providers|anthropic": [1, 100, 100],
        "ruby-vcr|anthropic": [1, 1_003, 1_003],
      ])
    let ledger = r.doc["ledger"] as? [String: Any] ?? [:]
    #expect(ledger["files"] as? Int == 5)
    #expect(ledger["files_not_data"] as? Int == 1, "settings.yaml")
    #expect(ledger["responses_429"] as? Int == 1)
    #expect(ledger["problems"] as? Int == 0)
  }

  @Test("Per request: the URL's model on Bedrock and Vertex, times from Date and recorded_at, the interaction's line")
  func rows() async {
    let r = await tokengap(
      "analyze", Self.fixtures + "cassettes", "--by", "request", "--format", "jsonl", "--timezone", "UTC")
    let rows = r.out.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    func row(_ id: String) -> [String: Any] { rows.first { $0["message_id"] as? String == id } ?? [:] }
    #expect(rows.count == 8)
    #expect(row("msg_bdrk_cas_01")["logged_model"] as? String == "us.anthropic.claude-haiku-4-5-20251001-v1:0")
    #expect(row("msg_bdrk_cas_01")["model"] as? String == "claude-haiku-4-5")
    #expect(row("msg_vrtx_cas_01")["logged_model"] as? String == "claude-sonnet-4-5@20250929")
    #expect(row("msg_cas_01")["time"] as? String == "2026-10-05T10:00:00.000Z")
    #expect(row("msg_cas_01")["request_id"] as? String == "req_cas_01")
    #expect(row("msg_cas_05")["time"] as? String == "2026-10-06T08:30:00.000Z")
    #expect(row("msg_cas_05")["cache_creation_5m_tokens"] as? Int == 1000, "the TTL split, from a gzip body")
    #expect(row("msg_cas_04")["output_tokens"] as? Int == 42, "the stream's last message_delta")
    #expect(row("msg_bdrk_cas_01")["line"] as? Int == 8, "the line of the interaction's '- request:'")
    #expect(row("msg_cas_02")["line"] as? Int == 39)
  }

  @Test("A broken interaction is a counted problem naming file and interaction; the rest still counts")
  func broken() async throws {
    let path = Self.fixtures + "cassettes-broken/broken.yaml"
    let r = try await json("analyze", path)
    #expect(r.status == 0)
    // #0: P 100, I 1; #3: P 50, I 50.
    #expect(sums(r.doc["total"]) == [2, 150, 51])
    #expect(
      r.err.contains(
        "\(path):22: cassette interaction 1 (/v1/messages, HTTP 200): gzip body: checksum mismatch (CRC32)\n"))
    #expect(r.err.contains("\(path):38: cassette interaction 2: YAML: unterminated single-quoted scalar (line 39)\n"))
    #expect(
      r.err.contains(
        "\(path):56: cassette interaction 4 (/v1/messages, HTTP 200): the response body is neither a Messages API response"
      ))
    #expect((r.doc["ledger"] as? [String: Any])?["problems"] as? Int == 3)
    let strict = await tokengap("analyze", path, "--strict", "-q")
    #expect(strict.status == 65)
  }

  @Test("A cassette named on the command line is read, not one problem per line")
  func named() async throws {
    let r = try await json("analyze", Self.fixtures + "cassettes/vcrpy-json.yaml", "--strict")
    #expect(r.status == 0, "\(r.err)")
    #expect(sums(r.doc["total"]) == [2, 4_110, 2_110])
  }

  /// The pydantic-ai cassettes (MIT) and the HAR files Scripts/cassettes-to-har.py
  /// made of them with PyYAML: the same requests, P, I, output and pairs.
  @Test("The shipped cassettes read natively give what their PyYAML-converted HAR files give")
  func shipped() async throws {
    let pairs: [(String, String)] = [
      ("api-responses/pydantic-ai", "derived/api-responses"), ("sse-streams/pydantic-ai", "derived/api-responses"),
      ("count-tokens-pairs/pydantic-ai", "derived/count-tokens-pairs"),
    ]
    var compared = 0
    for (cassettes, hars) in pairs {
      for file in Discovery.find([root + "/datasets/" + cassettes]).files {
        let stem = String(file.split(separator: "/").last?.dropLast(5) ?? "")
        let native = try await json("analyze", file, "--strict")
        let har = try await json("analyze", root + "/datasets/" + hars + "/" + stem + ".har")
        #expect(native.status == 0, "\(stem): \(native.err)")
        let keys = ["requests", "estimate_tokens", "itpm_tokens", "output_tokens", "cost_actual_usd"]
        let a = keys.map { "\((native.doc["total"] as? [String: Any])?[$0] ?? "-")" }
        let b = keys.map { "\((har.doc["total"] as? [String: Any])?[$0] ?? "-")" }
        #expect(a == b, "\(stem)")
        let paired = { (d: [String: Any]) in (d["ledger"] as? [String: Any])?["count_tokens_paired"] as? Int }
        #expect(paired(native.doc) == paired(har.doc), "\(stem)")
        compared += 1
      }
    }
    #expect(compared == 12)
  }
}
