package import EstimateModel

/// The output formats, spelled as on the command line.
public enum OutputFormat: String, CaseIterable, Sendable {
  case table, json, csv
  case markdown = "md"
}

/// Number spellings shared by every renderer.
package enum Fmt {
  /// An exact integer's decimal text: the 64-bit conversion when it fits
  /// (the generic 128-bit one is many times slower), the same text either way.
  @inline(__always) package static func int(_ v: Int128) -> String {
    if let small = Int64(exactly: v) { return String(small) }
    return String(v)
  }
  /// `1 request`, `2 requests`: a count and its noun, agreeing in number.
  package static func count<T: BinaryInteger>(_ n: T, _ singular: String, _ plural: String? = nil) -> String {
    "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
  }

  /// The verb of a count's sentence: `was` for one, `were` for others.
  package static func verb<T: BinaryInteger>(_ n: T, _ singular: String, _ plural: String) -> String {
    n == 1 ? singular : plural
  }

  /// `1234567` → `1,234,567`, for tables only.
  package static func grouped<T: BinaryInteger>(_ v: T) -> String {
    let digits = String(v.magnitude)
    var out = ""
    for (n, c) in digits.enumerated() {
      if n > 0, (digits.count - n) % 3 == 0 { out += "," }
      out.append(c)
    }
    return v < 0 ? "-" + out : out
  }

  package static func ratio(_ r: Ratio?) -> String { r?.formatted() ?? "" }

  package static func usd(_ u: USD?) -> String { u?.formatted() ?? "" }

  /// A share as a percentage with one decimal, for tables: `90.0%`.
  package static func percent(_ r: Ratio?) -> String {
    guard let r else { return "" }
    return r.formatted(decimals: 1, shift: 2) + "%"
  }

  /// Dollars for people: to the cent with thousands separators
  /// (`$1,234.57`); below a cent, to the first significant digits
  /// (`$0.0012`), so a small amount never reads as `$0.00`.
  package static func money(_ u: USD) -> String {
    let sign = u.attodollars < 0 ? "-" : ""
    let m = USD(attodollars: u.attodollars.magnitude > Int128.max.magnitude ? 0 : Int128(u.attodollars.magnitude))
    if m.attodollars == 0 { return "$0" }
    // A cent is 10^16 attodollars.
    guard m.attodollars < 10_000_000_000_000_000 else {
      let text = m.formatted(decimals: 2)
      let parts = text.split(separator: ".", omittingEmptySubsequences: false)
      let whole = Int128(parts[0]).map { grouped($0) } ?? String(parts[0])
      // Always two decimals: $36.30, not $36.3.
      var cents = parts.count > 1 ? String(parts[1]) : ""
      while cents.count < 2 { cents += "0" }
      return sign + "$" + whole + "." + cents
    }
    // Two significant digits below a cent.
    var decimals = 3
    var scale: Int128 = 1_000_000_000_000_000  // a tenth of a cent
    while decimals < 18, m.attodollars < scale {
      decimals += 1
      scale /= 10
    }
    return sign + "$" + m.formatted(decimals: min(18, decimals + 1))
  }

  /// A token count for people: `534`, `12.8K`, `376K`, `29.3M`, `5.27B`
  /// (three significant digits, rounded half up).
  package static func tokens<T: BinaryInteger>(_ v: T) -> String {
    let m = Int128(truncatingIfNeeded: v).magnitude
    let sign = v < 0 ? "-" : ""
    guard m >= 1_000 else { return sign + String(m) }
    // Rounded to three significant digits first, so 999,999 reads 1.00M.
    var digits = 0
    var rest = m
    while rest > 0 {
      digits += 1
      rest /= 10
    }
    var unitStep: UInt128 = 1
    for _ in 0..<(digits - 3) { unitStep *= 10 }
    let rounded = (m / unitStep + (m % unitStep >= unitStep - unitStep / 2 ? 1 : 0)) * unitStep
    let units: [(UInt128, String)] = [(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")]
    for (scale, unit) in units where rounded >= scale {
      let whole = rounded / scale
      let decimals = unit == "T" && whole >= 1_000 ? 0 : (whole >= 100 ? 0 : (whole >= 10 ? 1 : 2))
      var step: UInt128 = scale
      for _ in 0..<decimals { step /= 10 }
      var text = String(rounded / step)
      if decimals > 0 {
        while text.count <= decimals { text = "0" + text }
        text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
      }
      return sign + text + unit
    }
    return sign + String(rounded)
  }

  /// A ratio for people: `13.6x`, `283x`, `1x` (one decimal below 100).
  package static func times(_ r: Ratio?) -> String {
    guard let r else { return "-" }
    return r.formatted(decimals: r.value >= 100 ? 0 : 1) + "x"
  }

  /// A duration for people: `850 ms`, `38.4 s`, `7 min 38 s`, `5 h 12 min`,
  /// `292 d 12 h` (two units at most, the smaller one rounded down).
  package static func duration(ms: Int64) -> String {
    guard ms > 0 else { return "0" }
    if ms < 1_000 { return "\(ms) ms" }
    if ms < 60_000 {
      let tenths = ms / 100
      return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
    }
    let s = ms / 1_000
    func two(_ big: Int64, _ bigUnit: String, _ small: Int64, _ smallUnit: String) -> String {
      small == 0 ? "\(big) \(bigUnit)" : "\(big) \(bigUnit) \(small) \(smallUnit)"
    }
    if s < 3_600 { return two(s / 60, "min", s % 60, "s") }
    if s < 86_400 { return two(s / 3_600, "h", s % 3_600 / 60, "min") }
    return two(s / 86_400, "d", s % 86_400 / 3_600, "h")
  }

  /// Dollars for tables: `$1.234567`, six decimals at most.
  package static func dollars(_ u: USD?) -> String {
    guard let u else { return "n/a" }
    return "$" + u.formatted(decimals: 6)
  }
}
