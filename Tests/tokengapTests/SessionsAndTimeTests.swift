import Compare
import EstimateModel
import Testing

@testable import tokengap

/// A Claude Code line: one request of `input` uncached tokens at `time`.
private func line(_ id: String, _ time: String, session: String, cwd: String, input: Int, read: Int = 0) -> String {
  """
  {"type":"assistant","timestamp":"\(time)","sessionId":"\(session)","cwd":"\(cwd)","requestId":"req_\(id)",\
  "message":{"id":"msg_\(id)","model":"claude-sonnet-4-5-20250929","role":"assistant","stop_reason":"end_turn",\
  "usage":{"input_tokens":\(input),"cache_creation_input_tokens":0,"cache_read_input_tokens":\(read),"output_tokens":1}}}
  """
}

/// Three sessions in a projects folder named as Claude Code names it.
private func home() -> String {
  let dir = temporaryDirectory("sessions")
  let folder = dir + "/projects/-home-dev-code-ios-ml"
  _ = POSIXFiles.makeDirectories(folder)
  let files: [(String, [String])] = [
    // Costly, old: 2025-12-28 (Sunday of 2025-W52) to 2025-12-29 (Monday of 2026-W01).
    (
      "aaaa",
      [
        line("a1", "2025-12-28T23:30:00Z", session: "aaaa", cwd: "/home/dev/code/ios-ml", input: 9000),
        line("a2", "2025-12-29T00:30:00Z", session: "aaaa", cwd: "/home/dev/code/ios-ml", input: 9000),
      ]
    ),
    // Cheap, recent, the highest ratio: 2026-01-01 (Thursday of 2026-W01).
    (
      "bbbb", [line("b1", "2026-01-01T12:00:00Z", session: "bbbb", cwd: "/home/dev/code/ios-ml", input: 10, read: 990)]
    ),
    // In between: 2025-12-31.
    (
      "cccc", [line("c1", "2025-12-31T08:15:00Z", session: "cccc", cwd: "/home/dev/code/ios-ml", input: 500)]
    ),
  ]
  for (name, lines) in files {
    _ = try? POSIXFiles.writeAtomically(
      Array((lines.joined(separator: "\n") + "\n").utf8), to: "\(folder)/\(name).jsonl")
  }
  return dir
}

/// The table's rows below its header rule, up to the totals rule.
private func bodyRows(_ out: String) -> [String] {
  let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  guard let start = lines.firstIndex(where: { $0.hasPrefix("session ") }) else { return [] }
  return Array(lines[(start + 2)...].prefix { !$0.hasPrefix("--") && !$0.isEmpty })
}

@Suite("Sessions people can find")
struct SessionTableTests {
  @Test("First and last activity, the project from cwd, newest first by default")
  func defaults() async {
    let dir = home()
    let r = await tokengap(columns: 160, "analyze", dir, "-q", "--at", "2026-01-02")
    #expect(r.status == 0)
    #expect(r.out.contains("\nsession  project                first             last              requests"))
    // Newest last activity first; a last activity on the first's day shows
    // its time alone; the years show, as the sessions span two.
    #expect(
      bodyRows(r.out).map { String($0.prefix(57)) }
        == [
          "bbbb     /home/dev/code/ios-ml  2026-01-01 12:00  12:00   ",
          "cccc     /home/dev/code/ios-ml  2025-12-31 08:15  08:15   ",
          "aaaa     /home/dev/code/ios-ml  2025-12-28 23:30  2025-12-29 00:30",
        ].map { String($0.prefix(57)) })
    #expect(firstLine(r.out).hasPrefix("period ") && firstLine(r.out).hasSuffix(" 2025-12-28 to 2026-01-01 (UTC)"))
    // Within one year, the year is left to the period.
    let recent = await tokengap(columns: 160, "analyze", dir, "-q", "--at", "2026-01-02", "--since", "2026-01-01")
    #expect(
      bodyRows(recent.out).map { String($0.prefix(50)) } == ["bbbb     /home/dev/code/ios-ml  01-01 12:00  12:00"])
  }

  @Test("--sort cost|ratio|time|tokens and --order asc|desc")
  func sorting() async {
    let dir = home()
    func order(_ args: String...) async -> [String] {
      let r = await tokengap(columns: 120, ["analyze", dir, "-q", "--at", "2026-01-02"] + args)
      return bodyRows(r.out).map { String($0.prefix(4)) }
    }
    #expect(await order("--sort", "cost") == ["aaaa", "cccc", "bbbb"])
    #expect(await order("--sort", "cost", "--order", "asc") == ["bbbb", "cccc", "aaaa"])
    // P/I: bbbb 1000/10 = 100x; aaaa and cccc 1x, in the grouping's order either way.
    #expect(await order("--sort", "ratio") == ["bbbb", "aaaa", "cccc"])
    #expect(await order("--sort", "tokens") == ["aaaa", "bbbb", "cccc"])
    #expect(await order("--sort", "time", "--order", "asc") == ["aaaa", "cccc", "bbbb"])
  }

  @Test("--top N keeps N rows and says how many more; the totals row is every session's")
  func top() async {
    let dir = home()
    let r = await tokengap(columns: 120, "analyze", dir, "-q", "--at", "2026-01-02", "--top", "1")
    #expect(bodyRows(r.out).map { String($0.prefix(4)) } == ["bbbb"])
    #expect(r.out.contains("… 2 more sessions (--top 0 for all)\n"))
    #expect(r.out.contains("total") && r.out.contains("   4  "))  // 4 requests in all
    let all = await tokengap(columns: 120, "analyze", dir, "-q", "--at", "2026-01-02", "--top", "0")
    #expect(bodyRows(all.out).count == 3 && !all.out.contains("more session"))
    let wide = await tokengap(columns: 120, "analyze", dir, "-q", "--at", "2026-01-02", "--top", "2", "--wide")
    #expect(wide.out.contains("… 1 more session (--top 0 for all)\n"))
  }

  @Test("CSV and JSON: every row, new columns at the end, in the grouping's order unless --sort")
  func machineFormats() async throws {
    let dir = home()
    let csv = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--format", "csv", "--top", "1"])
    #expect(csv.status == 64)
    let plain = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--format", "csv"])
    let lines = plain.out.split(separator: "\r\n").map(String.init)
    #expect(lines[0].hasPrefix("session,project,requests,"))
    #expect(
      lines[0].hasSuffix(
        ",lower_bound,unpriced_requests,first_time,last_time,third_party_priced_requests,logged_cost_usd"))
    #expect(lines.dropFirst().map { String($0.prefix(4)) } == ["aaaa", "bbbb", "cccc"])
    #expect(lines[1].hasPrefix("aaaa,'-home-dev-code-ios-ml,2,"))
    #expect(lines[1].hasSuffix(",false,0,2025-12-28T23:30:00.000Z,2025-12-29T00:30:00.000Z,0,"))
    let sorted = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--format", "csv", "--sort", "cost"])
    #expect(sorted.out.split(separator: "\r\n").dropFirst().map { String($0.prefix(4)) } == ["aaaa", "cccc", "bbbb"])
    let json = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--json", "--timezone", "+01:00"])
    let doc = try JSONParser.parse(json.out)
    guard case .array(let groups)? = doc["groups"], case .object(let first)? = groups.first else {
      Issue.record("no groups")
      return
    }
    #expect(first.suffix(2).map(\.0) == ["first_time", "last_time"])
    #expect(groups.first?["first_time"] == .string("2025-12-29T00:30:00.000+01:00"))
  }

  @Test("A session that moved: the project shows the directory its folder was named after, whatever the order")
  func movedSession() async {
    let dir = temporaryDirectory("moved")
    let folder = dir + "/projects/-home-dev-app"
    _ = POSIXFiles.makeDirectories(folder)
    // The subdirectory comes first in time and sorts first as text: neither decides.
    let lines = [
      line("m1", "2026-01-01T10:00:00Z", session: "mmmm", cwd: "/home/dev/app/sub", input: 10),
      line("m2", "2026-01-01T11:00:00Z", session: "mmmm", cwd: "/home/dev/app", input: 10),
    ]
    _ = try? POSIXFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: folder + "/mmmm.jsonl")
    for jobs in ["1", "2"] {
      let r = await tokengap(columns: 160, ["analyze", dir, "-q", "--at", "2026-01-02", "--jobs", jobs])
      #expect(bodyRows(r.out).first?.hasPrefix("mmmm     /home/dev/app  ") == true, "\(r.out)")
    }
  }

  @Test("The table is the same read with one job or two")
  func jobs() async {
    let one = await tokengap(columns: 200, "analyze", root + "/datasets", "-q", "--at", "2026-11-01", "--jobs", "1")
    let two = await tokengap(columns: 200, "analyze", root + "/datasets", "-q", "--at", "2026-11-01", "--jobs", "2")
    #expect(one.out == two.out && one.status == 0)
  }

  @Test("Usage errors: a wrong --sort, --order without a sort, --sort on exported rows")
  func mistakes() async {
    let dir = home()
    let wrong = await tokengap(["analyze", dir, "--sort", "costs"])
    #expect(wrong.status == 64 && wrong.err.contains("did you mean 'cost'?"))
    let order = await tokengap(["analyze", dir, "--by", "day", "--order", "asc"])
    #expect(order.status == 64)
    let rows = await tokengap(["analyze", dir, "--by", "request", "--format", "jsonl", "--sort", "cost"])
    #expect(rows.status == 64)
  }
}

@Suite("Time as people expect")
struct LocalTimeCLITests {
  @Test("ISO weeks: 2025-12-29 and 2026-01-01 are both in 2026-W01; 2025-12-28 is in 2025-W52")
  func weeks() async {
    let dir = home()
    let r = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--by", "week", "--format", "csv"])
    let rows = r.out.split(separator: "\r\n").dropFirst().map {
      $0.split(separator: ",").prefix(2).joined(separator: ",")
    }
    #expect(rows == ["2025-W52,1", "2026-W01,3"])
    let months = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02", "--by", "month", "--format", "csv"])
    let m = months.out.split(separator: "\r\n").dropFirst().map {
      $0.split(separator: ",").prefix(2).joined(separator: ",")
    }
    #expect(m == ["2025-12,3", "2026-01,1"])
  }

  @Test("The local zone is the default: keys, times and the period follow it; --timezone UTC overrides")
  func localByDefault() async throws {
    let paris = try TimeZoneRule.parse(
      try POSIXFiles.read(root + "/Tests/CompareTests/Fixtures/Europe-Berlin.tzif"), name: "Europe/Berlin")
    let dir = home()
    let local = await tokengap(
      ["analyze", dir, "-q", "--at", "2026-01-02", "--by", "day", "--format", "csv"], zone: paris)
    // 23:30 UTC on the 28th is 00:30 on the 29th in Berlin (CET, +01:00).
    #expect(
      local.out.split(separator: "\r\n").dropFirst().map { String($0.prefix(10)) } == [
        "2025-12-29", "2025-12-31", "2026-01-01",
      ])
    let table = await tokengap(["analyze", dir, "-q", "--at", "2026-01-02"], zone: paris)
    #expect(firstLine(table.out).hasSuffix(" 2025-12-29 to 2026-01-01 (Europe/Berlin)"))
    let utc = await tokengap(
      ["analyze", dir, "-q", "--at", "2026-01-02", "--by", "day", "--format", "csv", "--timezone", "UTC"], zone: paris)
    #expect(
      utc.out.split(separator: "\r\n").dropFirst().map { String($0.prefix(10)) } == [
        "2025-12-28", "2025-12-29", "2025-12-31", "2026-01-01",
      ])
    let hours = await tokengap(
      ["analyze", dir, "-q", "--at", "2026-01-02", "--by", "hour", "--format", "csv", "--timezone", "local"],
      zone: paris)
    #expect(hours.out.contains("\r\n2025-12-29T00:00+01:00,"))
  }

  @Test("today and yesterday are days in the zone: 23:30 UTC on 31 Dec is already 1 Jan in Berlin")
  func todayInZone() async throws {
    let berlin = try TimeZoneRule.parse(
      try POSIXFiles.read(root + "/Tests/CompareTests/Fixtures/Europe-Berlin.tzif"), name: "Europe/Berlin")
    let dir = home()
    let now = try #require(Instant("2025-12-31T23:30:00Z"))
    // In Berlin today began at 2025-12-31T23:00Z: nothing of the data is that late but bbbb (1 Jan, 12:00Z).
    let r = await tokengap(
      at: now, zone: berlin, ["analyze", dir, "-q", "--since", "today", "--by", "total", "--format", "csv"])
    #expect(r.out.split(separator: "\r\n").last.map { String($0.prefix(2)) } == "1,")
    // In UTC today began at 2025-12-31T00:00Z: cccc (08:15) and bbbb.
    let u = await tokengap(
      at: now, zone: .utc, ["analyze", dir, "-q", "--since", "today", "--by", "total", "--format", "csv"])
    #expect(u.out.split(separator: "\r\n").last.map { String($0.prefix(2)) } == "2,")
  }

  @Test("A bad zone name is a usage error that says what --timezone takes")
  func badZone() async {
    let r = await tokengap(["analyze", root + "/datasets/claude-code", "--timezone", "Mars/Olympus"])
    #expect(r.status == 64)
    #expect(r.err.contains("'--timezone' needs local, UTC"))
  }
}
