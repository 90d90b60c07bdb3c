package import EstimateModel

/// The output formats, spelled as on the command line.
public enum OutputFormat: String, CaseIterable, Sendable {
  case table, json, csv
  case markdown = "md"
}

/// Number spellings shared by every renderer.
package enum Fmt {
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
