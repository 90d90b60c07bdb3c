import Compare
import EstimateModel
import Testing

@testable import tokengap

/// Runs the tool with its clock pinned, and its local zone (UTC unless given).
func tokengap(at now: Instant, zone: TimeZoneRule = .utc, _ args: [String]) async -> (
  status: Int32, out: String, err: String
) {
  var out: any TextSink = BufferSink()
  var err: any TextSink = BufferSink()
  let status = await Tokengap.run(args, now: now, zone: zone, output: &out, errors: &err)
  return (status, (out as? BufferSink)?.text ?? "", (err as? BufferSink)?.text ?? "")
}

/// The first line of standard error.
func firstLine(_ text: String) -> String { String(text.split(separator: "\n").first ?? "") }

/// A mistake on the command line and the sentence it must produce.
struct MistakeCase: Sendable, CustomTestStringConvertible {
  let args: [String]
  /// The whole first line of standard error.
  let message: String
  var testDescription: String { args.joined(separator: " ") }

  static let all: [MistakeCase] = [
    .init(
      args: ["estimate", "--model", "claude-opus-4-6", "--input", "1k"],
      message: "tokengap: error: '--input' needs a whole number of 0 or more, not '1k'"),
    .init(args: ["anlyze"], message: "tokengap: error: unknown subcommand 'anlyze'; did you mean 'analyze'?"),
    .init(args: ["--verison"], message: "tokengap: error: unknown option '--verison'; did you mean '--version'?"),
    .init(args: ["help", "chrt"], message: "tokengap: error: unknown subcommand 'chrt'; did you mean 'chart'?"),
    .init(
      args: ["analyze", "--fromat", "csv"],
      message: "tokengap: error: unknown option '--fromat' for 'analyze'; did you mean '--format'?"),
    .init(
      args: ["analyze", "--format", "jsno"],
      message: "tokengap: error: '--format' must be one of table, json, csv, md, not 'jsno'; did you mean 'json'?"),
    .init(
      args: ["estimate", "--model", "claude-opus-4-6", "--format", "csv"],
      message: "tokengap: error: '--format' must be one of table, json, not 'csv'"),
    .init(
      args: ["analyze", "--by", "day,sesion"],
      message:
        "tokengap: error: '--by' takes request, session, project, month, week, day, hour, minute, model or total, not 'sesion'; did you mean 'session'?"
    ),
    .init(
      args: ["cache", "--by", "requst"],
      message: "tokengap: error: '--by' must be one of session, request, not 'requst'; did you mean 'request'?"),
    .init(
      args: ["analyze", "--accounting", "bedrok"],
      message:
        "tokengap: error: '--accounting' must be one of anthropic, bedrock, openai, not 'bedrok'; did you mean 'bedrock'?"
    ),
    .init(
      args: ["estimate", "--model", "claude-opus-4-6", "--speed", "fats"],
      message: "tokengap: error: '--speed' must be one of fast, standard, not 'fats'; did you mean 'fast'?"),
    .init(
      args: ["simulate", "--tier", "tier1"],
      message:
        "tokengap: error: no rate-limit table lists tier 'tier1'; the tiers are tier-1, tier-2, tier-3, tier-4, start, build, scale; did you mean 'tier-1'?"
    ),
    .init(
      args: ["simulate", "--tier", "tier-1", "--limits-at", "2026-10-01"],
      message:
        "tokengap: error: no rate-limit table in force on 2026-10-01 lists tier 'tier-1'; the tiers are start, build, scale"
    ),
    .init(
      args: ["estimate", "--model", "sonnet"],
      message:
        "tokengap: error: model 'sonnet' is not in the catalog 2026-11-30.4; did you mean one of 'claude-sonnet-5-5', 'claude-sonnet-5', 'claude-sonnet-4-6', 'claude-sonnet-4-5'?"
    ),
    .init(
      args: ["estimate", "--model", "claude-sonet-4-5"],
      message:
        "tokengap: error: model 'claude-sonet-4-5' is not in the catalog 2026-11-30.4; did you mean 'claude-sonnet-4-5'?"
    ),
    .init(
      args: ["estimate", "--model", "gpt-5"],
      message: "tokengap: error: model 'gpt-5' is not in the catalog 2026-11-30.4; 'tokengap rules' lists the models"),
    .init(
      args: ["analyze", "--model", "claude-sonet-4-5"],
      message: "tokengap: error: no model in the catalog contains 'claude-sonet-4-5'; did you mean 'claude-sonnet-4-5'?"
    ),
    .init(
      args: ["analyze", "--since", "3x"],
      message:
        "tokengap: error: '--since' needs a day (2026-01-01 or 20260101), today, yesterday, a span back from now (7d, 24h) or an RFC 3339 timestamp, not '3x'"
    ),
    .init(
      args: ["analyze", "--since", "2026-02-01", "--until", "20260101"],
      message:
        "tokengap: error: '--since 2026-02-01' (2026-02-01T00:00:00.000Z) is not before '--until 20260101' (2026-01-01T00:00:00.000Z), so no record could be kept"
    ),
    .init(
      args: ["analyze", "--json", "--format", "csv"],
      message: "tokengap: error: '--json' and '--format csv' ask for two formats; give one of them"),
    .init(
      args: ["analyze", "-o", "/tmp/out.jsonl"],
      message:
        "tokengap: error: '--output /tmp/out.jsonl': only 'analyze --by request' writes JSON Lines; name the file .json for JSON, or give '--format'"
    ),
  ]
}

@Suite("Usage errors are sentences with a did-you-mean")
struct UsageMessageTests {
  @Test("Each mistake exits 64 with one sentence, never a Swift debug description", arguments: MistakeCase.all)
  func mistake(_ c: MistakeCase) async {
    let r = await tokengap(c.args)
    #expect(r.status == 64)
    #expect(firstLine(r.err) == c.message)
    #expect(!r.err.contains("UsageError("))
    #expect(r.out.isEmpty)
  }

  @Test("A dotted model version is read as the catalog's id, in estimate and in the --model filter")
  func dottedModel() async throws {
    let r = await tokengap("estimate", "--model", "claude-sonnet-4.5", "--input", "10", "--json", "--at", "2026-11-01")
    #expect(r.status == 0)
    #expect(try JSONParser.parse(r.out)["model"]?.string == "claude-sonnet-4-5")
    let data = root + "/datasets/claude-code"
    let dotted = await tokengap(
      "analyze", data, "--model", "claude-sonnet-4.5", "--by", "model", "--format", "csv", "-q")
    let dashed = await tokengap(
      "analyze", data, "--model", "claude-sonnet-4-5", "--by", "model", "--format", "csv", "-q")
    #expect(dotted.status == 0)
    #expect(dotted.out == dashed.out)
    #expect(dotted.out.contains("claude-sonnet-4-5,65,"))
  }

  @Test("Optimal string alignment distance: edits and swaps of neighbours cost 1")
  func distance() {
    #expect(Suggestions.distance("", "abc") == 3)
    #expect(Suggestions.distance("abc", "abc") == 0)
    #expect(Suggestions.distance("abcd", "acbd") == 1)
    #expect(Suggestions.distance("ca", "abc") == 3)
    #expect(Suggestions.distance("kitten", "sitting") == 3)
    #expect(Suggestions.distance("JSON", "json") == 0)
    #expect(Suggestions.nearest("xyz", in: ["table", "json"]).isEmpty)
    #expect(Suggestions.nearest("tabel", in: ["table", "json"]) == ["table"])
  }
}

@Suite("Familiar flags: -q, --json, -o by extension")
struct FamiliarFlagsTests {
  let data = root + "/datasets/claude-code/claude-code-viewer"

  @Test("-q is accepted by every subcommand")
  func quietEverywhere() async {
    let dir = temporaryDirectory("quiet")
    let runs: [[String]] = [
      ["analyze", data], ["simulate", data, "--tier", "tier-1"], ["cache", data],
      ["pairs", root + "/datasets/derived/count-tokens-pairs"],
      ["chart", data, "--out", dir + "/c"], ["report", data, "--out", dir + "/r.md"],
      ["estimate", "--model", "claude-opus-4-6", "--input", "5"], ["rules"],
    ]
    for args in runs {
      let r = await tokengap(args + ["-q"])
      #expect(r.status == 0 || r.status == 65, "\(args): \(r.err)")
      #expect(!r.err.contains("unknown option"), "\(args)")
      #expect(!r.err.contains("ledger:"), "\(args)")
    }
    #expect(await tokengap("rules", "-q").err.isEmpty)
  }

  @Test("--json is --format json on every command that has --format")
  func json() async {
    let runs: [[String]] = [
      ["analyze", data], ["simulate", data, "--tier", "tier-1"], ["cache", data],
      ["pairs", root + "/Tests/CompareTests/Fixtures/captures/pairs.jsonl"],
      ["estimate", "--model", "claude-opus-4-6", "--input", "5", "--at", "2026-11-01"],
      ["rules", "--at", "2026-11-01"],
    ]
    for args in runs {
      let long = await tokengap(args + ["--format", "json", "-q"])
      let short = await tokengap(args + ["--json", "-q"])
      #expect(short.status == long.status, "\(args)")
      #expect(short.out == long.out && short.out.hasPrefix("{"), "\(args)")
      #expect(await tokengap(args + ["--json", "--format", "json", "-q"]).out == long.out, "\(args)")
    }
  }

  @Test("-o infers the format from .json, .csv and .md; an explicit --format wins")
  func outputExtension() async throws {
    let dir = temporaryDirectory("ext")
    func written(_ name: String, _ extra: [String] = []) async throws -> String {
      let r = await tokengap(["analyze", data, "-q", "-o", dir + "/" + name] + extra)
      #expect(r.status == 0 && r.out.isEmpty)
      return String(decoding: try POSIXFiles.read(dir + "/" + name), as: UTF8.self)
    }
    let plain = await tokengap("analyze", data, "-q")
    #expect(try await written("a.json") == (await tokengap("analyze", data, "-q", "--json")).out)
    #expect(try await written("a.csv") == (await tokengap("analyze", data, "-q", "--format", "csv")).out)
    #expect(try await written("a.md") == (await tokengap("analyze", data, "-q", "--format", "md")).out)
    #expect(try await written("A.JSON").hasPrefix("{"))
    #expect(try await written("a.txt") == plain.out)
    #expect(try await written("b.json", ["--format", "csv"]).hasPrefix("session,project,requests,"))
    #expect(try await written("b.jsonl", ["--format", "csv"]).hasPrefix("session,project,requests,"))
    let rules = await tokengap("rules", "--at", "2026-11-01", "-o", dir + "/rules.csv")
    #expect(rules.status == 0)
    #expect(
      try POSIXFiles.read(dir + "/rules.csv")
        == Array((await tokengap("rules", "--at", "2026-11-01", "--format", "csv")).out.utf8))
  }
}

@Suite("--since and --until: days, relative spans, today and yesterday")
struct SinceUntilTests {
  /// 2026-03-15T10:00:00Z.
  let now = Instant(millisecondsSinceEpoch: 1_773_568_800_000)

  func time(_ text: String, zone: TimeZoneRule = .utc) throws -> Instant? {
    let o = try parseOptions(["--since", text][...], AnalyzeCommand.spec, now: now)
    return try o.time("since", zone: zone)
  }

  @Test("Each form, against a pinned clock")
  func forms() throws {
    #expect(try time("2026-03-15T10:00:00Z") == now)
    #expect(try time("today") == Instant("2026-03-15"))
    #expect(try time("Yesterday") == Instant("2026-03-14"))
    #expect(try time("20260101") == Instant("2026-01-01"))
    #expect(try time("2026-01-01") == Instant("2026-01-01"))
    #expect(try time("7d") == Instant("2026-03-08T10:00:00Z"))
    #expect(try time("24h") == Instant("2026-03-14T10:00:00Z"))
    #expect(try time("0h") == now)
    for bad in ["20261301", "2026011", "-7d", "+7d", "7w", "d", "tomorrow", "2026-01-01T00:00:00"] {
      // A given value is never nil: nil here is the usage error.
      #expect((try? time(bad)) == nil, "\(bad)")
    }
  }

  @Test("Days start at midnight in the --timezone zone")
  func zones() throws {
    let east = try TimeZoneRule.named("+02:00")
    #expect(try time("today", zone: east) == Instant("2026-03-14T22:00:00Z"))
    #expect(try time("20260101", zone: east) == Instant("2025-12-31T22:00:00Z"))
    // 23:00 UTC on the 15th is already the 16th two hours east.
    let late = Instant(millisecondsSinceEpoch: now.millisecondsSinceEpoch + 13 * 3_600_000)
    let o = try parseOptions(["--since", "today"][...], AnalyzeCommand.spec, now: late)
    #expect(try o.time("since", zone: east) == Instant("2026-03-15T22:00:00Z"))
  }

  @Test("Relative forms select records end to end; --since after --until exits 64")
  func endToEnd() async throws {
    let file = bad("crlf.jsonl")  // two requests at 2026-01-01T00:00:01Z and :02Z
    let jan2 = Instant(millisecondsSinceEpoch: 1_767_312_000_000)  // 2026-01-02T00:00:00Z
    func requests(_ extra: [String]) async -> String? {
      let r = await tokengap(at: jan2, ["analyze", file, "--by", "total", "--format", "csv", "-q"] + extra)
      return r.status == 0 ? r.out.split(separator: "\r\n").last.map { String($0.prefix(2)) } : "exit \(r.status)"
    }
    #expect(await requests(["--since", "yesterday"]) == "2,")
    #expect(await requests(["--since", "24h"]) == "2,")
    #expect(await requests(["--since", "20260101", "--until", "today"]) == "2,")
    #expect(await requests(["--since", "2026-01-01T00:00:02Z"]) == "1,")
    #expect(await requests(["--until", "yesterday"]) == "exit 65")
    let order = await tokengap(at: jan2, ["analyze", file, "--since", "today", "--until", "yesterday"])
    #expect(order.status == 64)
    #expect(firstLine(order.err).hasSuffix("so no record could be kept"))
  }
}
