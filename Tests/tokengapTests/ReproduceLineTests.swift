import Compare
import EstimateModel
import Testing

@testable import tokengap

/// A Claude Code line: one request of `input` uncached tokens at `time`.
private func line(_ id: String, _ time: String, input: Int) -> String {
  """
  {"type":"assistant","timestamp":"\(time)","sessionId":"rp","cwd":"/home/dev/rp","requestId":"req_\(id)",\
  "message":{"id":"msg_\(id)","model":"claude-sonnet-4-5-20250929","role":"assistant","stop_reason":"end_turn",\
  "usage":{"input_tokens":\(input),"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}
  """
}

/// Three requests on 2026-03-10 and 11, in a file named `name` in a new
/// folder; returns the folder.
private func traffic(_ name: String = "rp.jsonl") -> String {
  let dir = temporaryDirectory("reproduce")
  let lines = [
    line("r1", "2026-03-10T18:29:50Z", input: 1000),
    line("r2", "2026-03-10T18:30:10Z", input: 2000),
    line("r3", "2026-03-11T19:00:00Z", input: 4000),
  ]
  _ = try? POSIXFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/" + name)
  return dir
}

/// A rate_limits response: one model group for Sonnet 4.5.
private let limitsJSON = """
  {"data": [{"type": "rate_limit", "id": "rlg_sonnet", "group_type": "model_group", "models": ["claude-sonnet-4-5"],
  "limits": [{"type": "requests_per_minute", "value": 1000}, {"type": "input_tokens_per_minute", "value": 100000},
  {"type": "output_tokens_per_minute", "value": 100000}]}], "next_page": null}
  """

private func read(_ path: String) -> String {
  String(decoding: (try? POSIXFiles.read(path)) ?? [], as: UTF8.self)
}

/// The command of a report's Reproduce block, when the block is the one
/// line between its fences.
private func reproduceLine(_ md: String) -> String? {
  guard let open = md.firstRange(of: "Reproduce:\n\n```sh\n"),
    let close = md[open.upperBound...].firstRange(of: "\n```\n")
  else { return nil }
  let text = String(md[open.upperBound..<close.lowerBound])
  return text.contains("\n") ? nil : text
}

/// The words of a command line in the forms a POSIX shell reads: bare
/// words of safe characters only, single quotes, a backslash-escaped
/// character between them, and dollar-single quotes (`\n`, `\t`, `\r`,
/// `\\`, `\'` and three-digit octal bytes). Written apart from
/// ``Escape/shell(_:)``: nil for anything else (an unsafe character left
/// bare, an unclosed quote).
private func shellWords(_ text: String) -> [String]? {
  let b = Array(text.utf8)
  var words: [String] = []
  var word: [UInt8] = []
  var inWord = false
  var i = 0
  func isSafe(_ c: UInt8) -> Bool {
    (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
      || Array("_./:=@%+,-".utf8).contains(c)
  }
  while i < b.count {
    let c = b[i]
    if c == 0x20 {
      if inWord { words.append(String(decoding: word, as: UTF8.self)) }
      word = []
      inWord = false
      i += 1
      continue
    }
    inWord = true
    if c == UInt8(ascii: "'") {
      guard let end = b[(i + 1)...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
      word += b[(i + 1)..<end]
      i = end + 1
    } else if c == UInt8(ascii: "\\") {
      guard i + 1 < b.count else { return nil }
      word.append(b[i + 1])
      i += 2
    } else if c == UInt8(ascii: "$"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "'") {
      i += 2
      while true {
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "'") {
          i += 1
          break
        }
        guard b[i] == UInt8(ascii: "\\") else {
          word.append(b[i])
          i += 1
          continue
        }
        guard i + 1 < b.count else { return nil }
        switch b[i + 1] {
        case UInt8(ascii: "n"): word.append(0x0A)
        case UInt8(ascii: "t"): word.append(0x09)
        case UInt8(ascii: "r"): word.append(0x0D)
        case UInt8(ascii: "\\"), UInt8(ascii: "'"): word.append(b[i + 1])
        case UInt8(ascii: "0")...UInt8(ascii: "3"):
          guard i + 3 < b.count, let n = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
          else { return nil }
          word.append(n)
          i += 2
        default: return nil
        }
        i += 2
      }
    } else {
      guard isSafe(c) else { return nil }
      word.append(c)
      i += 1
    }
  }
  if inWord { words.append(String(decoding: word, as: UTF8.self)) }
  return words
}

/// The options and paths a report's Reproduce line gives, read as the
/// command would read them at `now`.
private func reparsed(_ md: String, now: Instant = WallClock.now()) throws -> ParsedOptions {
  let command = try #require(reproduceLine(md), "one Reproduce line")
  let words = try #require(shellWords(command), "\(command)")
  #expect(Array(words.prefix(2)) == ["tokengap", "report"])
  return try parseOptions(words.dropFirst(2), ReportCommand.spec, now: now)
}

/// Options that change what a report says, each given alone: the line must
/// give them back as given.
struct GivenCase: Sendable, CustomTestStringConvertible {
  let options: [String]
  var testDescription: String { options.joined(separator: " ") }

  static let all: [GivenCase] = [
    ["--at", "2026-11-01"], ["--accounting", "bedrock"], ["--model", "sonnet"], ["--since", "2026-03-11"],
    ["--since", "20260310"], ["--until", "2026-03-11T12:00:00+01:00"], ["--input-format", "jsonl"],
    ["--max-line-mib", "128"], ["--max-document-mib", "2048"], ["--tier", "tier-1"],
    ["--tier=tier-1", "--limits-at", "2026-03-01"], ["--itpm", "2_000_000", "--otpm", "400,000", "--rpm", "4000"],
    ["--limits", "LIMITS"], ["--catalog", "CATALOG"], ["--timezone", "+05:30"], ["--timezone=-03:00"],
    // Left out: they change no figure of the report.
    ["-j", "1", "--strict", "--quiet"],
  ].map(GivenCase.init)
}

@Suite("report: the Reproduce line makes the same report")
struct ReproduceLineTests {
  @Test("Each option that changes the report comes back as given", arguments: GivenCase.all)
  func given(_ c: GivenCase) async throws {
    let dir = traffic()
    try POSIXFiles.writeAtomically(Array(limitsJSON.utf8), to: dir + "/limits.json")
    try POSIXFiles.writeOutput(try POSIXFiles.read(root + "/datasets/catalog.json"), to: dir + "/catalog.json")
    let options = c.options.map { $0 == "LIMITS" ? dir + "/limits.json" : $0 == "CATALOG" ? dir + "/catalog.json" : $0 }
    let args = [dir + "/rp.jsonl", "--out", dir + "/report.md", "-q"] + options
    let r = await tokengap(["report"] + args)
    #expect(r.status == 0, "\(r.err)")
    let back = try reparsed(read(dir + "/report.md"))
    let sent = try parseOptions(args[...], ReportCommand.spec)
    var want = sent.values.filter { ReportCommand.notReproduced[$0.key] == nil }
    // The zone the report was made in (tests pin the local zone to UTC).
    if want["timezone"] == nil { want["timezone"] = ["UTC"] }
    #expect(back.values == want)
    #expect(back.positionals == sent.positionals)
    for name in ReportCommand.notReproduced.keys { #expect(back.values[name] == nil, "\(name)") }
  }

  @Test("Every option of report is repeated or left out with a reason")
  func everyOption() {
    let names = Set(ReportCommand.spec.options.map(\.name))
    #expect(Set(ReportCommand.notReproduced.keys).isSubset(of: names))
    #expect(ReportCommand.notReproduced.keys.sorted() == ["jobs", "quiet", "strict"])
  }

  @Test("The options left out change nothing the report says")
  func leftOut() async throws {
    let data = root + "/datasets/claude-code/claude-code-viewer"
    var reports: [String] = []
    for extra in [["--jobs", "1"], ["--jobs", "4", "--strict"], ["-q"]] {
      let dir = temporaryDirectory("reproduce-left-out")
      let r = await tokengap(["report", data, "--out", dir + "/report.md", "--tier", "tier-1"] + extra)
      #expect(r.status == 0, "\(r.err)")
      reports.append(read(dir + "/report.md").replacing(dir, with: "DIR"))
    }
    #expect(!reports[0].isEmpty && reports.allSatisfy { $0 == reports[0] })
  }

  @Test("A full case, against a line written by hand")
  func handWritten() async throws {
    let dir = traffic("my session.jsonl")
    try POSIXFiles.writeOutput(try POSIXFiles.read(root + "/datasets/catalog.json"), to: dir + "/catalog.json")
    let now = try #require(Instant("2026-03-15T00:00:00Z"))
    let r = await tokengap(
      at: now,
      [
        "report", dir + "/my session.jsonl", "-q", "--jobs", "2", "--strict", "--out", dir + "/out/it's.md",
        "--catalog", dir + "/catalog.json", "--max-document-mib", "2048", "--max-line-mib", "128",
        "--accounting", "anthropic", "--at", "2026-11-01", "--model", "sonnet", "--until", "2026-03-12",
        "--since", "7d", "--input-format", "jsonl", "--timezone", "+05:30", "--limits-at", "2026-03-01",
        "--tier=tier-1",
      ])
    #expect(r.status == 0, "\(r.err)")
    let md = read(dir + "/out/it's.md")
    #expect(
      md.contains(
        """
        Reproduce:

        ```sh
        tokengap report '\(dir)/my session.jsonl' --out '\(dir)/out/it'\\''s.md' --tier tier-1 \
        --limits-at 2026-03-01 --timezone +05:30 --input-format jsonl --since 2026-03-08T00:00:00.000Z \
        --until 2026-03-12 --model sonnet --at 2026-11-01 --accounting anthropic --max-line-mib 128 \
        --max-document-mib 2048 --catalog \(dir)/catalog.json
        ```


        """), "\(md.prefix(1200))")
  }

  @Test("Times counted from now are written as what they meant, and mean it later")
  func relative() async throws {
    let dir = traffic()
    let now = try #require(Instant("2026-03-12T12:00:00Z"))
    let later = try #require(Instant("2026-05-01T00:00:00Z"))
    let east = try TimeZoneRule.named("+05:30")
    let cases: [(options: [String], zone: TimeZoneRule, written: [String: [String]])] = [
      (["--since", "7d"], .utc, ["since": ["2026-03-05T12:00:00.000Z"], "timezone": ["UTC"]]),
      (["--until", "12h"], .utc, ["until": ["2026-03-12T00:00:00.000Z"], "timezone": ["UTC"]]),
      (["--since", "yesterday"], .utc, ["since": ["2026-03-11"], "timezone": ["UTC"]]),
      // 17:30 on the 12th in +05:30: its midnight is 18:30 UTC the day before.
      (["--until", "Today", "--timezone", "+05:30"], .utc, ["until": ["2026-03-12"], "timezone": ["+05:30"]]),
      // The local zone, given or not, is written by name.
      (["--since", "yesterday", "--timezone", "local"], east, ["since": ["2026-03-11"], "timezone": ["+05:30"]]),
      (["--since", "48h"], east, ["since": ["2026-03-10T12:00:00.000Z"], "timezone": ["+05:30"]]),
    ]
    for c in cases {
      let args = [dir + "/rp.jsonl", "--out", dir + "/report.md", "-q"] + c.options
      let r = await tokengap(at: now, zone: c.zone, ["report"] + args)
      #expect(r.status == 0, "\(c.options) \(r.err)")
      let back = try reparsed(read(dir + "/report.md"), now: later)
      var want = c.written
      want["out"] = [dir + "/report.md"]
      #expect(back.values == want, "\(c.options)")
      // Read weeks later, each time is the one the report was made with.
      let sent = try parseOptions(args[...], ReportCommand.spec, now: now, zone: c.zone)
      let zone = try sent.timeZone()
      let again = try back.timeZone()
      for name in ["since", "until"] {
        #expect(try back.time(name, zone: again) == sent.time(name, zone: zone), "\(c.options) \(name)")
      }
    }
  }

  @Test("Without --at, a request without a time pins the day it was priced as of")
  func pricingDay() async throws {
    let dir = temporaryDirectory("reproduce-untimed")
    let before = WallClock.today()
    let untimed = await tokengap(
      "report", root + "/datasets/api-responses/vercel-ai", "--out", dir + "/untimed.md", "-q")
    let after = WallClock.today()
    #expect(untimed.status == 0, "\(untimed.err)")
    let at = try #require(try reparsed(read(dir + "/untimed.md")).values["at"])
    #expect(at == [before.description] || at == [after.description])
    let given = await tokengap(
      "report", root + "/datasets/api-responses/vercel-ai", "--out", dir + "/given.md", "-q", "--at", "2026-11-01")
    #expect(given.status == 0)
    #expect(try reparsed(read(dir + "/given.md")).values["at"] == ["2026-11-01"])
    // Every request timed: the day prices nothing, and is not written.
    let timed = await tokengap("report", traffic() + "/rp.jsonl", "--out", dir + "/timed.md", "-q")
    #expect(timed.status == 0)
    #expect(try reparsed(read(dir + "/timed.md")).values["at"] == nil)
  }

  @Test("Hostile paths are quoted: one line, no control, read back exactly")
  func hostile() async throws {
    let name = "it's a `$(date)` \\ file\u{1B}[31m.jsonl"
    let dir = traffic(name)
    let catalog = dir + "/cat'a log\t.json"
    try POSIXFiles.writeOutput(try POSIXFiles.read(root + "/datasets/catalog.json"), to: catalog)
    // A folder of --out, not its name: the charts' links take the name.
    let out = dir + "/a\n```\n# injected `x`/report.md"
    let r = await tokengap("report", dir + "/" + name, "--out", out, "-q", "--catalog", catalog)
    #expect(r.status == 0, "\(r.err)")
    let md = read(out)
    let command = try #require(reproduceLine(md))
    #expect(Escape.terminal(command) == command)
    #expect(!md.contains("\n# injected"))
    // The block's fences are the only ones.
    #expect(md.split(separator: "\n").filter { $0.hasPrefix("```") } == ["```sh", "```"])
    #expect(command.contains(#"--out $'"#) && command.contains(#"--catalog $'"#))
    let back = try reparsed(md)
    #expect(back.positionals == [dir + "/" + name])
    #expect(back.values["out"] == [out])
    #expect(back.values["catalog"] == [catalog])
  }

  @Test("No path: the roots read; a path led by '-' after '--', the paths last")
  func paths() throws {
    func words(_ args: [String], roots: [String]) throws -> [String] {
      let o = try ReportCommand.Options(parseOptions(args[...], ReportCommand.spec))
      return ReportCommand.reproduction(o, roots: roots, pricingDay: CivilDay(daysSinceEpoch: 0), untimed: false)
    }
    #expect(
      try words(["--out", "r.md", "--timezone", "UTC"], roots: ["/home/me/.claude/projects"]) == [
        "tokengap", "report", "/home/me/.claude/projects", "--out", "r.md", "--timezone", "UTC",
      ])
    let dashed = try words(["--out", "r.md", "--timezone", "UTC", "a.jsonl", "--", "-b.jsonl", "-"], roots: [])
    #expect(dashed == ["tokengap", "report", "--out", "r.md", "--timezone", "UTC", "--", "a.jsonl", "-b.jsonl", "-"])
    let back = try parseOptions(dashed.dropFirst(2), ReportCommand.spec)
    #expect(back.positionals == ["a.jsonl", "-b.jsonl", "-"])
    #expect(back.values["out"] == ["r.md"])
  }
}
