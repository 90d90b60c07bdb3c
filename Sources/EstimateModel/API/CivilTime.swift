/// A UTC calendar day, counted from 1970-01-01.
public struct CivilDay: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
  public var daysSinceEpoch: Int64

  public init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }

  /// The day of a proleptic Gregorian date; nil when the date does not exist.
  public init?(year: Int64, month: Int64, day: Int64) {
    guard (1...12).contains(month), day >= 1,
      day <= CivilDay.daysIn(month: month, year: year),
      (-1_000_000...1_000_000).contains(year)
    else { return nil }
    // Howard Hinnant's days_from_civil.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    daysSinceEpoch = era * 146_097 + doe - 719_468
  }

  /// Reads `YYYY-MM-DD`.
  public init?(_ text: String) {
    let b = Array(text.utf8)
    guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
      let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2)
    else { return nil }
    self.init(year: y, month: m, day: d)
  }

  /// Year, month and day of the date (Hinnant's civil_from_days).
  public var components: (year: Int64, month: Int64, day: Int64) {
    let z = daysSinceEpoch + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }

  /// The first instant of the day.
  public var start: Instant { Instant(millisecondsSinceEpoch: daysSinceEpoch * 86_400_000) }

  public var description: String {
    let (y, m, d) = components
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
  }

  public static func < (a: CivilDay, b: CivilDay) -> Bool {
    a.daysSinceEpoch < b.daysSinceEpoch
  }

  /// The number of days in a month of a year.
  public static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }
}

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
  public var millisecondsSinceEpoch: Int64

  public init(millisecondsSinceEpoch: Int64) {
    self.millisecondsSinceEpoch = millisecondsSinceEpoch
  }

  /// The UTC day the instant falls on.
  public var day: CivilDay {
    let ms = millisecondsSinceEpoch
    let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
    return CivilDay(daysSinceEpoch: days)
  }

  /// Reads an RFC 3339 timestamp, or a date alone (its first instant).
  ///
  /// Accepts `2025-09-03T00:47:19.293Z`, `2025-09-03T00:47:19+02:00`,
  /// `2025-09-03 00:47:19Z` and `2025-09-03`. A timestamp without a zone is
  /// rejected: its instant is unknown.
  public init?(_ text: String) {
    guard let value = Instant.parse(Array(text.utf8)[...]) else { return nil }
    self = value
  }

  /// Parses RFC 3339 bytes in place; nil for anything else. (A concrete
  /// entry point: the generic one is not specialized across modules.)
  public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Instant? {
    parse(bytes)
  }

  /// Parses RFC 3339 bytes; nil for anything else.
  public static func parse<C: RandomAccessCollection<UInt8>>(_ b: C) -> Instant?
  where C.Index == Int {
    let s = b.startIndex
    guard b.count >= 10, b[s + 4] == UInt8(ascii: "-"), b[s + 7] == UInt8(ascii: "-"),
      let y = digits(b, s, 4), let mo = digits(b, s + 5, 2), let d = digits(b, s + 8, 2),
      let day = CivilDay(year: y, month: mo, day: d)
    else { return nil }
    if b.count == 10 { return day.start }
    let t = s + 10
    guard b.count >= 20,
      b[t] == UInt8(ascii: "T") || b[t] == UInt8(ascii: "t")
        || b[t] == UInt8(ascii: " "),
      b[t + 3] == UInt8(ascii: ":"), b[t + 6] == UInt8(ascii: ":"),
      let h = digits(b, t + 1, 2), let mi = digits(b, t + 4, 2),
      let se = digits(b, t + 7, 2), h < 24, mi < 60, se < 61
    else { return nil }
    var i = t + 9
    var ms: Int64 = 0
    if i < b.endIndex, b[i] == UInt8(ascii: ".") {
      i += 1
      var n = 0
      while i < b.endIndex, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
        if n < 3 { ms = ms * 10 + Int64(b[i] - UInt8(ascii: "0")) }
        n += 1
        i += 1
      }
      guard n > 0 else { return nil }
      if n < 3 { for _ in n..<3 { ms *= 10 } }
    }
    guard i < b.endIndex else { return nil }
    var offset: Int64 = 0
    switch b[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
      i += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      guard b.endIndex - i == 6, b[i + 3] == UInt8(ascii: ":"),
        let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh < 24, om < 60
      else { return nil }
      offset = (oh * 60 + om) * 60_000 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    default:
      return nil
    }
    guard i == b.endIndex else { return nil }
    let seconds = min(se, 59)
    let total = day.daysSinceEpoch * 86_400_000 + ((h * 60 + mi) * 60 + seconds) * 1000 + ms
    return Instant(millisecondsSinceEpoch: total - offset)
  }

  /// `2025-09-03T00:47:19.293Z`: RFC 3339 in UTC with milliseconds.
  public var description: String {
    let day = self.day
    let msOfDay = millisecondsSinceEpoch - day.daysSinceEpoch * 86_400_000
    let (y, mo, d) = day.components
    guard (0...9999).contains(y) else { return descriptionByParts }
    // The common case, written straight into the String's storage: this runs
    // for every timed row of every per-request output.
    return String(unsafeUninitializedCapacity: 24) { buf in
      func put(_ v: Int64, _ width: Int, at start: Int) {
        var v = v
        for k in stride(from: start + width - 1, through: start, by: -1) {
          buf[k] = UInt8(ascii: "0") + UInt8(v % 10)
          v /= 10
        }
      }
      put(y, 4, at: 0)
      buf[4] = UInt8(ascii: "-")
      put(mo, 2, at: 5)
      buf[7] = UInt8(ascii: "-")
      put(d, 2, at: 8)
      buf[10] = UInt8(ascii: "T")
      put(msOfDay / 3_600_000, 2, at: 11)
      buf[13] = UInt8(ascii: ":")
      put(msOfDay / 60_000 % 60, 2, at: 14)
      buf[16] = UInt8(ascii: ":")
      put(msOfDay / 1000 % 60, 2, at: 17)
      buf[19] = UInt8(ascii: ".")
      put(msOfDay % 1000, 3, at: 20)
      buf[23] = UInt8(ascii: "Z")
      return 24
    }
  }

  /// The same text assembled from padded parts: any year, sign included.
  var descriptionByParts: String {
    let day = self.day
    let msOfDay = millisecondsSinceEpoch - day.daysSinceEpoch * 86_400_000
    let h = msOfDay / 3_600_000
    let m = msOfDay / 60_000 % 60
    let s = msOfDay / 1000 % 60
    let ms = msOfDay % 1000
    return "\(day)T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2)).\(pad(ms, 3))Z"
  }

  public static func < (a: Instant, b: Instant) -> Bool {
    a.millisecondsSinceEpoch < b.millisecondsSinceEpoch
  }
}

func digits<C: Collection<UInt8>>(_ b: C, _ start: C.Index, _ count: Int) -> Int64?
where C.Index == Int {
  guard start >= b.startIndex, start + count <= b.endIndex else { return nil }
  var value: Int64 = 0
  for i in start..<(start + count) {
    let c = b[i]
    guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
    value = value * 10 + Int64(c - UInt8(ascii: "0"))
  }
  return value
}

func pad(_ value: Int64, _ width: Int) -> String {
  // A negative year keeps its sign in front of the zeros: -0001.
  let text = String(value.magnitude)
  let padded = text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
  return value < 0 ? "-" + padded : padded
}
