public import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A time zone read from TZif data, without Foundation's time-zone database.
///
/// Transitions come from the file's 64-bit section; instants after the last
/// transition follow the POSIX rule in the file's footer (`CET-1CEST,M3.5.0,M10.5.0/3`).
public struct TimeZoneRule: Sendable {
  public var name: String
  private var transitions: [Int64] = []
  private var offsetsAfter: [Int64] = []
  private var initialOffset: Int64 = 0
  private var footer: PosixRule?

  /// Coordinated Universal Time.
  public static let utc = TimeZoneRule(name: "UTC", fixed: 0)

  init(name: String, fixed seconds: Int64) {
    self.name = name
    initialOffset = seconds
  }

  /// A zone by IANA name from `$TZDIR` or `/usr/share/zoneinfo`, or a fixed
  /// offset such as `+05:30`, `UTC` or `Z`.
  public static func named(_ name: String, directory: String? = nil) throws(TimeZoneError)
    -> TimeZoneRule
  {
    if name == "UTC" || name == "Z" || name == "Etc/UTC" || name == "GMT" { return .utc }
    let b = Array(name.utf8)
    if b.count == 6, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-"), b[3] == UInt8(ascii: ":"),
      let h = Int64(String(decoding: b[1..<3], as: UTF8.self)),
      let m = Int64(String(decoding: b[4..<6], as: UTF8.self)), h < 24, m < 60
    {
      return TimeZoneRule(name: name, fixed: (h * 3600 + m * 60) * (b[0] == UInt8(ascii: "-") ? -1 : 1))
    }
    guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
      throw TimeZoneError(name: name, reason: "not an IANA zone name")
    }
    let dir = directory ?? POSIXFiles.environment("TZDIR") ?? "/usr/share/zoneinfo"
    let bytes: [UInt8]
    do {
      bytes = try POSIXFiles.read(dir + "/" + name, limit: 1 << 20)
    } catch {
      throw TimeZoneError(name: name, reason: "no such zone in '\(dir)'")
    }
    return try parse(bytes, name: name)
  }

  /// The system's zone: `$TZ`, else `/etc/localtime`, else UTC.
  ///
  /// `TZ` may name a zone (`Europe/Paris`, `:Europe/Paris`), a TZif file
  /// (`:/usr/share/zoneinfo/Asia/Tokyo`) or a POSIX rule
  /// (`CET-1CEST,M3.5.0,M10.5.0/3`); empty, it is UTC, as for the C library.
  public static func local() -> TimeZoneRule {
    local(tz: POSIXFiles.environment("TZ"))
  }

  /// ``local()`` with the variable's value given, and the file it falls back to.
  package static func local(
    tz: String?, localtime: String = "/etc/localtime", directory: String? = nil
  ) -> TimeZoneRule {
    guard var text = tz else {
      // /etc/localtime is usually a link into the zone database: its
      // target names the zone.
      let name = linkedZoneName(localtime) ?? "localtime"
      if name == "UTC" || name == "Etc/UTC" || name == "Etc/UCT" || name == "UCT" || name == "Zulu" {
        return .utc
      }
      guard let bytes = try? POSIXFiles.read(localtime, limit: 1 << 20),
        let rule = try? parse(bytes, name: name)
      else { return .utc }
      return rule
    }
    if text.hasPrefix(":") { text.removeFirst() }
    if text.isEmpty { return .utc }
    if text.hasPrefix("/") {
      let name = zoneName(fromPath: text)
      guard let bytes = try? POSIXFiles.read(text, limit: 1 << 20),
        let rule = try? parse(bytes, name: name)
      else { return .utc }
      return rule
    }
    if let rule = try? named(text, directory: directory) { return rule }
    if let footer = PosixRule(text) {
      var rule = TimeZoneRule(name: text, fixed: footer.standard)
      rule.footer = footer
      return rule
    }
    return .utc
  }

  /// The zone a link such as `/etc/localtime` points to
  /// (`…/zoneinfo/Europe/Paris` gives `Europe/Paris`).
  static func linkedZoneName(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 1024)
    let n = readlink(path, &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let bytes = buffer.prefix(n).map { UInt8(bitPattern: $0) }
    return zoneName(fromPath: String(decoding: bytes, as: UTF8.self))
  }

  /// The part of a path after `zoneinfo/`, or the path itself.
  package static func zoneName(fromPath path: String) -> String {
    guard let r = path.firstRange(of: "zoneinfo/") else { return path }
    let name = String(path[r.upperBound...])
    // posix/ and right/ are variants of the same names.
    for prefix in ["posix/", "right/"] where name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
    return name
  }

  /// Reads TZif bytes (RFC 8536).
  public static func parse(_ bytes: [UInt8], name: String) throws(TimeZoneError) -> TimeZoneRule {
    func fail(_ why: String) -> TimeZoneError { TimeZoneError(name: name, reason: why) }
    func be(_ at: Int, _ n: Int) -> Int64? {
      guard at >= 0, at + n <= bytes.count else { return nil }
      var v: UInt64 = 0
      for k in 0..<n { v = v << 8 | UInt64(bytes[at + k]) }
      if n == 4 { return Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: v))) }
      return Int64(bitPattern: v)
    }
    guard bytes.count >= 44, bytes[0..<4].elementsEqual("TZif".utf8) else {
      throw fail("not TZif data")
    }
    let version = bytes[4]
    func counts(_ at: Int) -> [Int]? {
      var c: [Int] = []
      for k in 0..<6 {
        guard let v = be(at + 20 + 4 * k, 4), v >= 0, v < 1_000_000 else { return nil }
        c.append(Int(v))
      }
      return c
    }
    guard var c = counts(0) else { throw fail("bad header") }
    var at = 44
    var timeSize = 4
    if version >= UInt8(ascii: "2") {
      // Skip the 32-bit block; read the 64-bit one.
      at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]
      guard let c2 = counts(at) else { throw fail("bad second header") }
      c = c2
      at += 44
      timeSize = 8
    }
    let (isut, isstd, leap, timecnt, typecnt, charcnt) = (c[0], c[1], c[2], c[3], c[4], c[5])
    guard typecnt > 0 else { throw fail("no local time types") }
    var rule = TimeZoneRule(name: name, fixed: 0)
    var times: [Int64] = []
    for k in 0..<timecnt {
      guard let t = be(at + k * timeSize, timeSize) else { throw fail("truncated") }
      times.append(t)
    }
    let idxAt = at + timecnt * timeSize
    let typesAt = idxAt + timecnt
    var offsets: [Int64] = []
    for k in 0..<typecnt {
      guard let off = be(typesAt + k * 6, 4) else { throw fail("truncated") }
      // RFC 8536: offsets should lie within -25 h … +26 h; anything beyond is not a zone.
      guard off > -26 * 3600, off < 27 * 3600 else { throw fail("local time offset \(off) s out of range") }
      offsets.append(off)
    }
    for k in 0..<timecnt {
      guard idxAt + k < bytes.count, Int(bytes[idxAt + k]) < typecnt else { throw fail("bad type index") }
      rule.transitions.append(times[k])
      rule.offsetsAfter.append(offsets[Int(bytes[idxAt + k])])
    }
    rule.initialOffset = offsets[0]
    if version >= UInt8(ascii: "2") {
      let footerAt = typesAt + typecnt * 6 + charcnt + leap * 12 + isstd + isut
      if footerAt + 1 < bytes.count, bytes[footerAt] == 0x0A,
        let close = bytes[(footerAt + 1)...].firstIndex(of: 0x0A)
      {
        let text = String(decoding: bytes[(footerAt + 1)..<close], as: UTF8.self)
        if !text.isEmpty {
          guard let footer = PosixRule(text) else { throw fail("unreadable or out-of-range footer rule '\(text)'") }
          rule.footer = footer
        }
      }
    }
    return rule
  }

  /// Seconds east of UTC at an instant, rounded to whole minutes (half a
  /// minute away from zero): the offset times are labelled and bucketed by.
  ///
  /// Every zone of the tz database has been a whole number of minutes from
  /// UTC since 1972 (Monrovia's -00:44:30, until January 1972, was the last
  /// exception), so this is ``offset(at:)``; only older times (local mean
  /// time: Paris +00:09:21 until 1911) and a POSIX rule written with
  /// seconds (`XXX-0:09:21`) differ. An ISO 8601 offset has
  /// no seconds, and a local minute made of seconds from two UTC minutes
  /// would split the rate limiter's minutes: with the offset rounded, a
  /// label names its instant exactly and local minutes are UTC minutes.
  public func minuteOffset(at instant: Instant) -> Int64 {
    let s = offset(at: instant)
    return (s >= 0 ? (s + 30) / 60 : -((30 - s) / 60)) * 60
  }

  /// Seconds east of UTC at an instant.
  public func offset(at instant: Instant) -> Int64 {
    let t =
      instant.millisecondsSinceEpoch >= 0
      ? instant.millisecondsSinceEpoch / 1000 : (instant.millisecondsSinceEpoch - 999) / 1000
    // Without transitions the footer's rule (RFC 8536 §3.3) covers all time.
    guard let first = transitions.first else { return footer?.offset(at: t) ?? initialOffset }
    guard t >= first else { return initialOffset }
    if let last = transitions.last, t >= last, let footer {
      return footer.offset(at: t)
    }
    var lo = 0
    var hi = transitions.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if transitions[mid] <= t { lo = mid } else { hi = mid - 1 }
    }
    return offsetsAfter[lo]
  }
}

/// A zone that could not be loaded.
public struct TimeZoneError: Error, Equatable, Sendable, CustomStringConvertible {
  public var name: String
  public var reason: String
  public var description: String { "time zone '\(name)': \(reason)" }
}

/// A POSIX TZ rule such as `EST5EDT,M3.2.0,M11.1.0` (the `M` form only).
struct PosixRule: Sendable {
  var standard: Int64
  var daylight: Int64?
  var start: (month: Int64, week: Int64, weekday: Int64, seconds: Int64)?
  var end: (month: Int64, week: Int64, weekday: Int64, seconds: Int64)?

  init?(_ text: String) {
    var s = Substring(text)
    func name() -> Bool {
      if s.first == "<" {
        guard let close = s.firstIndex(of: ">") else { return false }
        s = s[s.index(after: close)...]
        return true
      }
      let n = s.prefix { $0.isLetter }
      guard n.count >= 3 else { return false }
      s = s.dropFirst(n.count)
      return true
    }
    func clock() -> Int64? {
      var sign: Int64 = 1
      if s.first == "+" {
        s = s.dropFirst()
      } else if s.first == "-" {
        sign = -1
        s = s.dropFirst()
      }
      var parts: [Int64] = []
      while true {
        let d = s.prefix { $0.isASCII && $0.isNumber }
        guard !d.isEmpty, d.count <= 3, let v = Int64(d) else { return nil }
        parts.append(v)
        s = s.dropFirst(d.count)
        if s.first == ":" { s = s.dropFirst() } else { break }
      }
      // hh[:mm[:ss]], hours up to 167 (RFC 8536's extension of POSIX).
      guard parts.count <= 3, parts[0] <= 167, parts.dropFirst().allSatisfy({ $0 < 60 }) else {
        return nil
      }
      let secs = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0)
      return sign * secs
    }
    guard name(), let std = clock() else { return nil }
    standard = -std
    if s.isEmpty { return }
    guard name() else { return nil }
    if s.first != ",", !s.isEmpty {
      guard let dst = clock() else { return nil }
      daylight = -dst
    } else {
      daylight = standard + 3600
    }
    func date() -> (Int64, Int64, Int64, Int64)? {
      guard s.first == "M" else { return nil }
      s = s.dropFirst()
      var v: [Int64] = []
      for k in 0..<3 {
        let d = s.prefix { $0.isASCII && $0.isNumber }
        guard d.count <= 2, let x = Int64(d) else { return nil }
        v.append(x)
        s = s.dropFirst(d.count)
        if k < 2 {
          guard s.first == "." else { return nil }
          s = s.dropFirst()
        }
      }
      var at: Int64 = 7200
      if s.first == "/" {
        s = s.dropFirst()
        guard let c = clock() else { return nil }
        at = c
      }
      // Month 1-12, week 1-5, weekday 0-6: anything else is not a rule.
      guard (1...12).contains(v[0]), (1...5).contains(v[1]), (0...6).contains(v[2]) else { return nil }
      return (v[0], v[1], v[2], at)
    }
    guard s.first == "," else { return nil }
    s = s.dropFirst()
    guard let a = date(), s.first == "," else { return nil }
    s = s.dropFirst()
    guard let b = date() else { return nil }
    start = a
    end = b
  }

  /// The UTC second at which a rule date happens in a year, given the offset before it.
  private func transition(
    _ r: (month: Int64, week: Int64, weekday: Int64, seconds: Int64), year: Int64, offsetBefore: Int64
  ) -> Int64? {
    guard let first = CivilDay(year: year, month: r.month, day: 1) else { return nil }
    // 1970-01-01 was a Thursday (weekday 4).
    let firstWeekday = ((first.daysSinceEpoch % 7) + 7 + 4) % 7
    var day = 1 + (r.weekday - firstWeekday + 7) % 7 + (r.week - 1) * 7
    let length = CivilDay.daysIn(month: r.month, year: year)
    while day > length { day -= 7 }
    guard let d = CivilDay(year: year, month: r.month, day: day) else { return nil }
    return d.daysSinceEpoch * 86_400 + r.seconds - offsetBefore
  }

  func offset(at t: Int64) -> Int64 {
    guard let daylight, let start, let end else { return standard }
    let year = Instant(millisecondsSinceEpoch: t * 1000).day.components.year
    guard let s = transition(start, year: year, offsetBefore: standard),
      let e = transition(end, year: year, offsetBefore: daylight)
    else { return standard }
    if s < e { return (t >= s && t < e) ? daylight : standard }
    return (t >= e && t < s) ? standard : daylight
  }
}
