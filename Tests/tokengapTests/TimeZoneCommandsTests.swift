import Compare
import EstimateModel
import Testing

@testable import tokengap

/// A Claude Code line: one request of `input` uncached tokens at `time`.
private func line(_ id: String, _ time: String, input: Int) -> String {
  """
  {"type":"assistant","timestamp":"\(time)","sessionId":"tz","cwd":"/home/dev/tz","requestId":"req_\(id)",\
  "message":{"id":"msg_\(id)","model":"claude-sonnet-4-5-20250929","role":"assistant","stop_reason":"end_turn",\
  "usage":{"input_tokens":\(input),"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}
  """
}

/// Four requests around midnight in +05:30: the first two share the UTC
/// minute 18:29 (23:59 in +05:30); the third is the next minute, already
/// the 11th in +05:30; the fourth is 19:00 UTC on the 11th, 00:30 on the
/// 12th in +05:30.
private func traffic() -> String {
  let dir = temporaryDirectory("tz-commands")
  let lines = [
    line("t1", "2026-03-10T18:29:50Z", input: 1000),
    line("t2", "2026-03-10T18:29:59.500Z", input: 2000),
    line("t3", "2026-03-10T18:30:10Z", input: 4000),
    line("t4", "2026-03-11T19:00:00Z", input: 8000),
  ]
  _ = try? POSIXFiles.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/tz.jsonl")
  return dir
}

/// The limits every replay here runs against: far above the traffic.
private let limits = ["--itpm", "1000000", "--otpm", "1000000", "--rpm", "1000"]

/// A CSV's rows (header dropped), split into cells (no cell here is quoted).
private func rows(_ csv: String) -> [[String]] {
  csv.split(separator: "\r\n").dropFirst().map {
    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  }
}

/// The column named `name` of a CSV.
private func column(_ csv: String, _ name: String) -> [String] {
  let header = csv.split(separator: "\r\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
  guard let k = header.firstIndex(of: name) else { return [] }
  return rows(csv).map { $0[k] }
}

/// The CSV with the named columns removed: the figures, without the labels.
private func without(_ csv: String, _ names: Set<String>) -> [[String]] {
  let header = csv.split(separator: "\r\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
  let keep = header.indices.filter { !names.contains(header[$0]) }
  return rows(csv).map { r in keep.map { r[$0] } }
}

private func read(_ path: String) -> String {
  String(decoding: (try? POSIXFiles.read(path)) ?? [], as: UTF8.self)
}

@Suite("--timezone on every command that shows or buckets time")
struct TimeZoneCommandsTests {
  @Test("simulate: minutes and times are labelled in the zone; the minutes and figures are UTC's")
  func simulate() async {
    let dir = traffic()
    let utcMinutes = dir + "/minutes-utc.csv"
    let eastMinutes = dir + "/minutes-east.csv"
    let utc = await tokengap(
      ["simulate", dir + "/tz.jsonl", "-q", "--format", "csv", "--minutes", utcMinutes, "--timezone", "UTC"] + limits)
    let east = await tokengap(
      ["simulate", dir + "/tz.jsonl", "-q", "--format", "csv", "--minutes", eastMinutes, "--timezone", "+05:30"]
        + limits)
    #expect(utc.status == 0 && east.status == 0)
    #expect(
      column(read(utcMinutes), "minute") == ["2026-03-10T18:29Z", "2026-03-10T18:30Z", "2026-03-11T19:00Z"])
    #expect(
      column(read(eastMinutes), "minute") == [
        "2026-03-10T23:59+05:30", "2026-03-11T00:00+05:30", "2026-03-12T00:30+05:30",
      ])
    // The first two requests share a minute in both zones: 1,000 + 2,000 tokens.
    #expect(column(read(eastMinutes), "requests") == ["2", "1", "1"])
    #expect(column(read(eastMinutes), "itpm_tokens") == ["3000", "4000", "8000"])
    #expect(without(read(utcMinutes), ["minute"]) == without(read(eastMinutes), ["minute"]))
    // The replay's figures are the same; its start is the first request's time.
    #expect(without(utc.out, ["start", "finish"]) == without(east.out, ["start", "finish"]))
    #expect(column(east.out, "start").first == "2026-03-10T23:59:50.000+05:30")
    #expect(column(utc.out, "start").first == "2026-03-10T18:29:50.000Z")
    let table = await tokengap(["simulate", dir + "/tz.jsonl", "-q", "--timezone", "+05:30"] + limits)
    #expect(table.out.hasPrefix("period: 2026-03-10 to 2026-03-12 (+05:30)\nlimits: "))
    #expect(table.out.contains("peak minute 2026-03-12T00:30+05:30: 8,000 ITPM tokens"))
    let json = await tokengap(["simulate", dir + "/tz.jsonl", "-q", "--json", "--timezone", "+05:30"] + limits)
    #expect(json.out.contains(#""time_zone": "+05:30""#))
  }

  @Test("A zone with seconds in its offset labels minutes to the minute and never splits them")
  func secondsOffset() async throws {
    // +00:09:21, as Paris's local mean time: labelled +00:09, so a label
    // names its instant exactly.
    let lmt = TimeZoneRule.local(tz: "LMT-0:09:21")
    #expect(lmt.offset(at: Instant(millisecondsSinceEpoch: 0)) == 561)
    #expect(lmt.minuteOffset(at: Instant(millisecondsSinceEpoch: 0)) == 540)
    #expect(TimeZoneRule.local(tz: "LMT-0:09:31").minuteOffset(at: Instant(millisecondsSinceEpoch: 0)) == 600)
    // Monrovia until 1972, -00:44:30: half a minute rounds away from zero.
    #expect(TimeZoneRule.local(tz: "MMT0:44:30").minuteOffset(at: Instant(millisecondsSinceEpoch: 0)) == -2700)
    let dir = traffic()
    let at = Instant("2026-03-10T18:29:50Z") ?? Instant(millisecondsSinceEpoch: 0)
    #expect(LocalTime.format(at, lmt, .minute) == "2026-03-10T18:38+00:09")
    #expect(LocalTime.format(at, lmt, .millisecond) == "2026-03-10T18:38:50.000+00:09")
    // With the offset's 21 seconds, 18:30:10 UTC would share a local
    // minute (18:39) with 18:29:50: the minutes stay UTC's.
    let analyze = await tokengap(
      ["analyze", dir, "-q", "--by", "minute", "--format", "csv", "--at", "2026-03-12"], zone: lmt)
    #expect(
      column(analyze.out, "minute") == ["2026-03-10T18:38+00:09", "2026-03-10T18:39+00:09", "2026-03-11T19:09+00:09"])
    #expect(column(analyze.out, "requests") == ["2", "1", "1"])
    let minutes = dir + "/minutes-lmt.csv"
    let simulate = await tokengap(
      ["simulate", dir + "/tz.jsonl", "-q", "--format", "csv", "--minutes", minutes] + limits, zone: lmt)
    #expect(simulate.status == 0)
    #expect(column(read(minutes), "requests") == ["2", "1", "1"])
    #expect(column(read(minutes), "minute").first == "2026-03-10T18:38+00:09")
  }

  @Test("cache: times of --by request in the zone, the period in the headline")
  func cache() async {
    let dir = traffic()
    let utc = await tokengap(["cache", dir, "-q", "--by", "request", "--format", "csv", "--timezone", "UTC"])
    let east = await tokengap(["cache", dir, "-q", "--by", "request", "--format", "csv", "--timezone", "+05:30"])
    #expect(
      column(east.out, "time") == [
        "2026-03-10T23:59:50.000+05:30", "2026-03-10T23:59:59.500+05:30", "2026-03-11T00:00:10.000+05:30",
        "2026-03-12T00:30:00.000+05:30",
      ])
    #expect(column(utc.out, "time").first == "2026-03-10T18:29:50.000Z")
    #expect(without(utc.out, ["time"]) == without(east.out, ["time"]))
    let table = await tokengap(["cache", dir, "-q", "--timezone", "+05:30"])
    #expect(table.out.hasPrefix("period: 2026-03-10 to 2026-03-12 (+05:30)\nhit rate "))
    let utcTable = await tokengap(["cache", dir, "-q", "--timezone", "UTC"])
    #expect(utcTable.out.hasPrefix("period: 2026-03-10 to 2026-03-11 (UTC)\nhit rate "))
  }

  @Test("pairs: the capture's time in the zone, the period above the table")
  func pairs() async {
    let file = root + "/Tests/CompareTests/Fixtures/captures/pairs.jsonl"
    let utc = await tokengap(["pairs", file, "-q", "--format", "csv", "--timezone", "UTC"])
    let east = await tokengap(["pairs", file, "-q", "--format", "csv", "--timezone", "+05:30"])
    // 13:00 UTC is 18:30 in +05:30.
    #expect(column(utc.out, "time") == ["2026-10-20T13:00:00.000Z"])
    #expect(column(east.out, "time") == ["2026-10-20T18:30:00.000+05:30"])
    #expect(without(utc.out, ["time"]) == without(east.out, ["time"]))
    let table = await tokengap(["pairs", file, "-q", "--timezone", "+05:30"])
    #expect(table.out.hasPrefix("period: 2026-10-20 (+05:30)\n\ntime "))
  }

  @Test("chart: every time in the CSV files in the zone, with its offset; the axes say the zone; figures unchanged")
  func chart() async {
    let dir = traffic()
    let utc = await tokengap(
      ["chart", dir + "/tz.jsonl", "-q", "--svg", "--out", dir + "/utc", "--timezone", "UTC"] + limits)
    let east = await tokengap(
      ["chart", dir + "/tz.jsonl", "-q", "--svg", "--out", dir + "/east", "--timezone", "+05:30"] + limits)
    #expect(utc.status == 0 && east.status == 0)
    #expect(
      column(read(dir + "/east/minutes.csv"), "minute") == [
        "2026-03-10T23:59+05:30", "2026-03-11T00:00+05:30", "2026-03-12T00:30+05:30",
      ])
    #expect(column(read(dir + "/east/requests.csv"), "time").last == "2026-03-12T00:30:00.000+05:30")
    #expect(column(read(dir + "/east/cumulative.csv"), "time").first == "2026-03-10T23:59:50.000+05:30")
    #expect(column(read(dir + "/east/bucket.csv"), "time").first == "2026-03-10T23:59:50.000+05:30")
    #expect(column(read(dir + "/utc/bucket.csv"), "time").first == "2026-03-10T18:29:50.000Z")
    for (name, times) in [
      ("minutes.csv", ["minute"]), ("requests.csv", ["time"]), ("cumulative.csv", ["time"]),
      ("bucket.csv", ["time"]), ("sessions.csv", ["first_time", "last_time"]), ("ratio_histogram.csv", []),
    ] {
      let a = read(dir + "/utc/" + name)
      let b = read(dir + "/east/" + name)
      #expect(!a.isEmpty && without(a, Set(times)) == without(b, Set(times)), "\(name)")
    }
    #expect(column(read(dir + "/east/sessions.csv"), "last_time") == ["2026-03-12T00:30:00.000+05:30"])
    let svg = read(dir + "/east/estimate_vs_itpm.svg")
    #expect(svg.contains(">time (+05:30)<"))
    #expect(read(dir + "/utc/estimate_vs_itpm.svg").contains(">time (UTC)<"))
    // A dot's tooltip: the minute in the zone's clock.
    #expect(svg.contains("2026-03-12 00:30 +05:30"))
  }

  @Test("report: the period in its opening, days in the zone, the zone in its Reproduce line")
  func report() async {
    let dir = traffic()
    let east = await tokengap(["report", dir + "/tz.jsonl", "-q", "--out", dir + "/east.md", "--timezone", "+05:30"])
    let utc = await tokengap(["report", dir + "/tz.jsonl", "-q", "--out", dir + "/utc.md", "--timezone", "UTC"])
    #expect(east.status == 0 && utc.status == 0)
    let md = read(dir + "/east.md")
    #expect(md.contains("from 1 file, covering 2026-03-10 to 2026-03-12 (+05:30).\n"))
    #expect(md.contains(" --out \(dir)/east.md --timezone +05:30\n"))
    #expect(column(read(dir + "/east-charts/days.csv"), "day") == ["2026-03-10", "2026-03-11", "2026-03-12"])
    #expect(column(read(dir + "/utc-charts/days.csv"), "day") == ["2026-03-10", "2026-03-11"])
    // 23:59 and 00:00 in +05:30: the first two requests on the 10th, 3,000 tokens.
    #expect(column(read(dir + "/east-charts/days.csv"), "estimate_tokens") == ["3000", "4000", "8000"])
    #expect(read(dir + "/utc.md").contains("covering 2026-03-10 to 2026-03-11 (UTC).\n"))
  }

  @Test("The default is the local zone: TZ pinned to +05:30 labels as --timezone +05:30 does")
  func localDefault() async throws {
    let dir = traffic()
    let east = try TimeZoneRule.named("+05:30")
    let pinned = await tokengap(["cache", dir, "-q", "--by", "request", "--format", "csv"], zone: east)
    let given = await tokengap(["cache", dir, "-q", "--by", "request", "--format", "csv", "--timezone", "+05:30"])
    #expect(pinned.out == given.out)
    let bad = await tokengap(["simulate", dir, "-q", "--timezone", "Mars/Olympus"] + limits)
    #expect(bad.status == 64)
    #expect(bad.err.hasPrefix("tokengap: error: '--timezone' needs local, UTC, an IANA zone name"))
  }
}
