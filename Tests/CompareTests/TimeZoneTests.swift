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
}
