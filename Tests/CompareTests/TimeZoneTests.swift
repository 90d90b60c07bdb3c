import Compare
import EstimateModel
import Testing

@Suite("Time zones without Foundation")
struct TimeZoneTests {
  func zone(_ file: String, _ name: String) throws -> TimeZoneRule {
    try TimeZoneRule.parse(try POSIXFiles.read(fixture(file)), name: name)
  }

  @Test("Berlin: CET +1, CEST +2 from the last Sunday of March, 01:00 UTC")
  func berlin() throws {
    let z = try zone("Europe-Berlin.tzif", "Europe/Berlin")
    #expect(z.offset(at: Instant("2026-03-29T00:59:59Z")!) == 3600)
    #expect(z.offset(at: Instant("2026-03-29T01:00:00Z")!) == 7200)
    #expect(z.offset(at: Instant("2026-10-25T00:59:59Z")!) == 7200)
    #expect(z.offset(at: Instant("2026-10-25T01:00:00Z")!) == 3600)
    // Far beyond the file's transitions: the POSIX rule in its footer.
    #expect(z.offset(at: Instant("2070-07-01T12:00:00Z")!) == 7200)
    #expect(z.offset(at: Instant("2070-01-01T12:00:00Z")!) == 3600)
  }

  @Test("New York: EST −5, EDT −4 from the second Sunday of March, 07:00 UTC")
  func newYork() throws {
    let z = try zone("America-New_York.tzif", "America/New_York")
    #expect(z.offset(at: Instant("2026-03-08T06:59:59Z")!) == -18_000)
    #expect(z.offset(at: Instant("2026-03-08T07:00:00Z")!) == -14_400)
    #expect(z.offset(at: Instant("2080-11-30T12:00:00Z")!) == -18_000)
  }

  @Test("Day keys follow the zone: 23:30 UTC is the next day in Berlin")
  func dayKeys() throws {
    let z = try zone("Europe-Berlin.tzif", "Europe/Berlin")
    let t = Instant("2026-07-01T23:30:00Z")!
    #expect(LocalTime.format(t, z, .day) == "2026-07-02")
    #expect(LocalTime.format(t, z, .minute) == "2026-07-02T01:30+02:00")
    #expect(LocalTime.format(t, .utc, .hour) == "2026-07-01T23:00Z")
  }

  @Test("Names and offsets: fixed offsets, UTC, bad names rejected")
  func names() throws {
    #expect(try TimeZoneRule.named("+05:30").offset(at: Instant("2026-01-01T00:00:00Z")!) == 19_800)
    #expect(try TimeZoneRule.named("UTC").offset(at: Instant("2026-01-01T00:00:00Z")!) == 0)
    #expect(throws: TimeZoneError.self) { try TimeZoneRule.named("../etc/passwd") }
    #expect(throws: TimeZoneError.self) { try TimeZoneRule.named("Mars/Olympus_Mons", directory: fixture("")) }
    #expect(throws: TimeZoneError.self) { try TimeZoneRule.parse(Array("not tzif".utf8), name: "x") }
  }

  /// A minimal version 2 TZif file: no transitions, one local time type of
  /// `offset` seconds, and `footer` as its POSIX rule.
  static func tzif(offset: Int32 = 3600, footer: String) -> [UInt8] {
    func header(typecnt: UInt32, charcnt: UInt32) -> [UInt8] {
      var h = Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15)
      for v in [0, 0, 0, 0, typecnt, charcnt] as [UInt32] {
        h += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
      }
      return h
    }
    let o = UInt32(bitPattern: offset)
    let type: [UInt8] = [UInt8(o >> 24), UInt8((o >> 16) & 0xFF), UInt8((o >> 8) & 0xFF), UInt8(o & 0xFF), 0, 0]
    let block = type + Array("CET\0".utf8)
    return header(typecnt: 1, charcnt: 4) + block + header(typecnt: 1, charcnt: 4) + block
      + [0x0A] + Array(footer.utf8) + [0x0A]
  }

  @Test("A well-formed rule still loads")
  func goodFooter() throws {
    let z = try TimeZoneRule.parse(Self.tzif(footer: "CET-1CEST,M3.5.0,M10.5.0/3"), name: "Test/Good")
    #expect(z.offset(at: Instant("2070-07-01T12:00:00Z")!) == 7200)
    #expect(z.offset(at: Instant("2070-01-01T12:00:00Z")!) == 3600)
  }

  @Test(
    "Hostile TZif data is rejected with a reason, never a trap or a hang",
    arguments: [
      "CET999999999999999999CEST,M3.5.0,M10.5.0",  // hours that overflow
      "CET-1CEST,M3.99999999999.0,M10.5.0",  // a week that never ends the loop
      "CET-1CEST,M13.5.0,M10.5.0",  // month 13
      "CET-1CEST,M3.5.9,M10.5.0",  // weekday 9
      "CET-1CEST,M3.5.0/999999999999,M10.5.0",  // a transition time beyond range
      "CET-200",  // 200 hours
    ])
  func hostileFooter(_ footer: String) {
    #expect(throws: TimeZoneError.self) {
      try TimeZoneRule.parse(Self.tzif(footer: footer), name: "Test/Hostile")
    }
  }

  @Test("Offsets beyond a day are rejected")
  func hostileOffset() {
    #expect(throws: TimeZoneError.self) {
      try TimeZoneRule.parse(Self.tzif(offset: Int32.max, footer: "CET-1"), name: "Test/Offset")
    }
  }
}

@Suite("Time keys at the edges of the calendar")
struct FarDateTests {
  @Test("Offsets past 9999-12-31 and before 0000-01-01 give whole keys, never '10000-01-0'")
  func farDates() throws {
    let late = try #require(Instant("9999-12-31T23:30:00-02:00"))  // 10000-01-01T01:30Z
    #expect(LocalTime.format(late, .utc, .day) == "10000-01-01")
    #expect(LocalTime.format(late, .utc, .hour) == "10000-01-01T01:00Z")
    #expect(LocalTime.format(late, .utc, .minute) == "10000-01-01T01:30Z")
    #expect(LocalTime.format(late, .utc, .millisecond) == "10000-01-01T01:30:00.000Z")
    let early = try #require(Instant("0000-01-01T00:30:00+01:00"))  // -0001-12-31T23:30Z
    #expect(LocalTime.format(early, .utc, .day) == "-0001-12-31")
    #expect(LocalTime.format(early, .utc, .minute) == "-0001-12-31T23:30Z")
  }
}

@Suite("Weeks, months and the system's zone")
struct CalendarKeyTests {
  func key(_ text: String, _ tz: TimeZoneRule = .utc, _ p: LocalTime.Precision = .week) throws -> String {
    LocalTime.format(try #require(Instant(text)), tz, p)
  }

  @Test("ISO weeks at year ends, worked by hand from the weekday of 1 January")
  func isoWeeks() throws {
    // 2026-01-01 is a Thursday: its week (Monday 2025-12-29 to Sunday
    // 2026-01-04) is 2026-W01.
    #expect(try key("2026-01-01T12:00:00Z") == "2026-W01")
    #expect(try key("2025-12-29T00:00:00Z") == "2026-W01")
    #expect(try key("2026-01-04T23:59:59Z") == "2026-W01")
    #expect(try key("2026-01-05T00:00:00Z") == "2026-W02")
    // 28 December is always in its year's last week.
    #expect(try key("2025-12-28T23:59:59Z") == "2025-W52")
    // 2026 starts on a Thursday, so it has 53 weeks: Friday 2027-01-01 and
    // Sunday 2027-01-03 are in 2026-W53, Monday 2027-01-04 starts 2027-W01.
    #expect(try key("2027-01-01T12:00:00Z") == "2026-W53")
    #expect(try key("2027-01-03T12:00:00Z") == "2026-W53")
    #expect(try key("2027-01-04T00:00:00Z") == "2027-W01")
    // 2020 (leap, from a Wednesday) has 53: Sunday 2021-01-03 is 2020-W53.
    #expect(try key("2021-01-03T12:00:00Z") == "2020-W53")
    // Before 1970 too: Thursday 1970-01-01 is 1970-W01, Sunday 1969-12-28 is 1969-W52.
    #expect(try key("1970-01-01T00:00:00Z") == "1970-W01")
    #expect(try key("1969-12-28T12:00:00Z") == "1969-W52")
  }

  @Test("Weeks and months follow the zone, across Berlin's change to summer time")
  func zoned() throws {
    let berlin = try TimeZoneRule.parse(try POSIXFiles.read(fixture("Europe-Berlin.tzif")), name: "Europe/Berlin")
    // Sunday 2026-03-29 22:30 UTC is Monday 00:30 CEST (+02:00, the clocks
    // went forward at 01:00 UTC that day): the next ISO week in Berlin.
    #expect(try key("2026-03-29T22:30:00Z") == "2026-W13")
    #expect(try key("2026-03-29T22:30:00Z", berlin) == "2026-W14")
    // One hour earlier in UTC terms, 23:30 CEST, still Sunday.
    #expect(try key("2026-03-29T21:30:00Z", berlin) == "2026-W13")
    #expect(try key("2026-01-31T23:30:00Z", .utc, .month) == "2026-01")
    #expect(try key("2026-01-31T23:30:00Z", berlin, .month) == "2026-02")
    #expect(try key("2026-03-29T22:30:00Z", berlin, .hour) == "2026-03-30T00:00+02:00")
    #expect(try key("2026-03-29T00:30:00Z", berlin, .hour) == "2026-03-29T01:00+01:00")
  }

  @Test("The system's zone: TZ as a name, a file, a POSIX rule or empty; else /etc/localtime; else UTC")
  func systemZone() throws {
    let january = try #require(Instant("2026-01-15T12:00:00Z"))
    let july = try #require(Instant("2026-07-15T12:00:00Z"))
    #expect(TimeZoneRule.local(tz: "").name == "UTC")
    #expect(TimeZoneRule.local(tz: ":").name == "UTC")
    #expect(TimeZoneRule.local(tz: "UTC").name == "UTC")
    let file = TimeZoneRule.local(tz: ":" + fixture("Europe-Berlin.tzif"))
    #expect(file.offset(at: january) == 3600 && file.offset(at: july) == 7200)
    let rule = TimeZoneRule.local(tz: "EST5EDT,M3.2.0,M11.1.0")
    #expect(rule.offset(at: january) == -18_000 && rule.offset(at: july) == -14_400)
    #expect(TimeZoneRule.local(tz: "Not/AZone!").name == "UTC")
    let linked = TimeZoneRule.local(tz: nil, localtime: fixture("America-New_York.tzif"))
    #expect(linked.offset(at: january) == -18_000)
    #expect(TimeZoneRule.local(tz: nil, localtime: fixture("missing")).name == "UTC")
    #expect(TimeZoneRule.zoneName(fromPath: "/usr/share/zoneinfo/Europe/Paris") == "Europe/Paris")
    #expect(TimeZoneRule.zoneName(fromPath: "../zoneinfo/posix/Asia/Tokyo") == "Asia/Tokyo")
  }
}
