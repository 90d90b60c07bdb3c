import Compare
import EstimateModel

/// A command-line mistake: exit 64 with the message on stderr.
struct UsageError: Error, Equatable, CustomStringConvertible {
  var message: String
  init(_ message: String) { self.message = message }
  /// The message alone, so that an error wrapped in another reads as a sentence.
  var description: String { message }
}

/// BSD sysexits, as DESIGN.md §5 lists them.
enum ExitCode: Int32 {
  case ok = 0
  case usage = 64
  case data = 65
  case noInput = 66
  case cannotWrite = 74
}

/// One option a command accepts.
struct OptionSpec {
  /// The long name without dashes, such as `model`.
  var name: String
  /// A one-letter short name, if any.
  var short: Character? = nil
  /// The value's placeholder; nil for a flag.
  var value: String?
  var help: String
  var defaultText: String? = nil
  var repeatable = false
  /// The values the option takes, when it is a fixed list: what shell
  /// completions offer (help and errors name them too).
  var choices: [String] = []
  /// Values that come from the catalog rather than a fixed list (tier
  /// names, model ids): completions offer the built-in catalog's.
  var catalogValues: CatalogValues? = nil
}

/// A list of values an option takes that the catalog holds.
enum CatalogValues {
  /// Rate-limit tier names (`tier-1`, `scale`).
  case tiers
  /// Model ids (`claude-sonnet-4-5`).
  case models

  /// The values in `catalog`, each once, in the order completions offer them.
  func values(in catalog: ModelCatalog) -> [String] {
    switch self {
    case .tiers: Replay.tierNames(catalog.rateLimitTables.flatMap(\.tiers))
    case .models: catalog.models.map(\.id)
    }
  }
}

/// A subcommand's interface, for parsing and for help.
struct CommandSpec {
  var name: String
  var abstract: String
  var usage: String
  var arguments: [(String, String)] = []
  var options: [OptionSpec]
  var discussion: String = ""

  /// Help in swift-argument-parser's layout.
  func help() -> String {
    var out = "OVERVIEW: \(abstract)\n\n"
    if !discussion.isEmpty { out += discussion + "\n\n" }
    out += "USAGE: \(usage)\n"
    if !arguments.isEmpty {
      out += "\nARGUMENTS:\n"
      for (name, text) in arguments { out += HelpLayout.row(name, text) }
    }
    out += "\nOPTIONS:\n"
    for o in options + [OptionSpec(name: "help", short: "h", help: "Show help information.")] {
      var label = o.short.map { "-\($0), " } ?? ""
      label += "--\(o.name)"
      if let v = o.value { label += " <\(v)>" }
      var text = o.help
      if let d = o.defaultText { text += " (default: \(d))" }
      out += HelpLayout.row(label, text)
    }
    return out
  }
}

enum HelpLayout {
  /// `  label` padded to 26 columns, then the text; long labels get their own line.
  static func row(_ label: String, _ text: String) -> String {
    let indent = 26
    let head = "  " + label
    if head.count >= indent - 1 {
      return head + "\n" + String(repeating: " ", count: indent) + text + "\n"
    }
    return head + String(repeating: " ", count: indent - head.count) + text + "\n"
  }

  /// Help text wrapped to a terminal `width` (unchanged without one): a line
  /// too long breaks between words, its continuation indented under its
  /// text (column 26 for an option's description, else the line's own
  /// indentation). A word longer than the room is left whole.
  static func wrap(_ help: String, width: Int?) -> String {
    guard let width, width >= 40 else { return help }
    var out = ""
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      guard line.count > width else {
        out += line + "\n"
        continue
      }
      let chars = Array(line)
      let leading = chars.prefix { $0 == " " }.count
      // An option row: its label, at least two spaces, then its text at 26.
      let described = chars.count > 26 && chars[24] == " " && chars[25] == " " && chars[26] != " " && leading == 2
      let hang = String(repeating: " ", count: described ? 26 : leading)
      var current = String(chars.prefix(described ? 26 : leading))
      var fresh = true
      for word in chars.dropFirst(described ? 26 : leading).split(separator: " ", omittingEmptySubsequences: true) {
        let w = String(word)
        if !fresh, current.count + 1 + w.count > width {
          out += current + "\n"
          current = hang + w
        } else {
          current += (fresh ? "" : " ") + w
        }
        fresh = false
      }
      out += current + "\n"
    }
    // The split gave one line end more than the text had.
    if !out.isEmpty { out.removeLast() }
    return out
  }
}

/// Options and positional arguments as given.
struct ParsedOptions {
  var values: [String: [String]] = [:]
  var positionals: [String] = []
  var wantsHelp = false
  /// The time relative forms of `--since` and `--until` count back from.
  var now = Instant(millisecondsSinceEpoch: 0)
  /// The zone `--timezone local` (the default) means; nil for the system's
  /// (tests pin it).
  var localZone: TimeZoneRule?

  /// `--timezone`: `local` (the default: `TZ`, else `/etc/localtime`), `UTC`,
  /// an IANA name or a fixed offset.
  func timeZone() throws(UsageError) -> TimeZoneRule {
    let text = value("timezone") ?? "local"
    if text.lowercased() == "local" { return localZone ?? TimeZoneRule.local() }
    do {
      return try TimeZoneRule.named(text)
    } catch {
      throw UsageError(
        "'--timezone' needs local, UTC, an IANA zone name (Europe/Paris) or an offset (+05:30): \(error)")
    }
  }

  func value(_ name: String) -> String? { values[name]?.last }
  func flag(_ name: String) -> Bool { values[name] != nil }

  /// A whole non-negative number, or nil when absent.
  func count(_ name: String) throws(UsageError) -> Int64? {
    guard let text = value(name) else { return nil }
    var digits = text.replacing("_", with: "")
    digits = digits.replacing(",", with: "")
    guard let n = Int64(digits), n >= 0, !digits.hasPrefix("+") else {
      throw UsageError("'--\(name)' needs a whole number of 0 or more, not '\(text)'")
    }
    return n
  }

  /// One of the given spellings, or a usage error listing them.
  static func choice<E: RawRepresentable>(_ name: String, _ text: String, _ cases: [E])
    throws(UsageError) -> E where E.RawValue == String
  {
    guard let v = cases.first(where: { $0.rawValue == text }) else {
      let names = cases.map(\.rawValue)
      throw UsageError(
        "'--\(name)' must be one of \(names.joined(separator: ", ")), not '\(text)'"
          + Suggestions.hint(text, names))
    }
    return v
  }

  /// A time for `--since` or `--until`: an RFC 3339 timestamp, a day
  /// (`2026-01-01` or `20260101`), `today` or `yesterday`, or a span back
  /// from now (`7d`, `24h`).
  ///
  /// A day starts at midnight in `zone` (the `--timezone` of the command,
  /// UTC by default); `today` and `yesterday` are days in that zone too.
  func time(_ name: String, zone: TimeZoneRule) throws(UsageError) -> Instant? {
    guard let text = value(name) else { return nil }
    func midnight(_ day: CivilDay) -> Instant {
      // The offset in force at local midnight, found from the UTC one.
      let utc = day.start.millisecondsSinceEpoch
      let guess = utc - zone.minuteOffset(at: day.start) * 1000
      return Instant(millisecondsSinceEpoch: utc - zone.minuteOffset(at: Instant(millisecondsSinceEpoch: guess)) * 1000)
    }
    func localDay(_ at: Instant) -> CivilDay {
      Instant(millisecondsSinceEpoch: at.millisecondsSinceEpoch + zone.minuteOffset(at: at) * 1000).day
    }
    let lower = text.lowercased()
    if lower == "today" { return midnight(localDay(now)) }
    if lower == "yesterday" {
      return midnight(CivilDay(daysSinceEpoch: localDay(now).daysSinceEpoch - 1))
    }
    if let day = CivilDay(text) { return midnight(day) }
    let bytes = Array(text.utf8)
    if bytes.count == 8, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      let dashed = String(text.prefix(4)) + "-" + String(text.dropFirst(4).prefix(2)) + "-" + String(text.suffix(2))
      if let day = CivilDay(dashed) { return midnight(day) }
    }
    if let unit = lower.last, unit == "d" || unit == "h", let n = Int64(lower.dropLast()), n >= 0,
      n <= 1_000_000, !lower.hasPrefix("+")
    {
      let span = n * (unit == "d" ? 86_400_000 : 3_600_000)
      return Instant(millisecondsSinceEpoch: now.millisecondsSinceEpoch - span)
    }
    if let at = Instant(text) { return at }
    throw UsageError(
      "'--\(name)' needs a day (2026-01-01 or 20260101), today, yesterday, a span back from now (7d, 24h) or an RFC 3339 timestamp, not '\(text)'"
    )
  }

  /// A UTC day or timestamp.
  func instant(_ name: String) throws(UsageError) -> Instant? {
    guard let text = value(name) else { return nil }
    guard let at = Instant(text) else {
      throw UsageError("'--\(name)' needs a date (YYYY-MM-DD) or an RFC 3339 timestamp, not '\(text)'")
    }
    return at
  }
}

/// Parses `--x v`, `--x=v`, `-x v`, flags, `--` and positionals against a spec.
func parseOptions(
  _ args: ArraySlice<String>, _ spec: CommandSpec, now: Instant = WallClock.now(), zone: TimeZoneRule? = nil
)
  throws(UsageError) -> ParsedOptions
{
  var parsed = ParsedOptions()
  parsed.now = now
  parsed.localZone = zone
  let longNames = spec.options.map(\.name) + ["help"]
  var i = args.startIndex
  var onlyPositionals = false
  while i < args.endIndex {
    let arg = args[i]
    i += 1
    if onlyPositionals || arg == "-" || !arg.hasPrefix("-") {
      parsed.positionals.append(arg)
      continue
    }
    if arg == "--" {
      onlyPositionals = true
      continue
    }
    if arg == "-h" || arg == "--help" {
      parsed.wantsHelp = true
      continue
    }
    var name: String
    var inline: String?
    if arg.hasPrefix("--") {
      name = String(arg.dropFirst(2))
      if let eq = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: eq)...])
        name = String(name[..<eq])
      }
    } else {
      guard arg.count == 2, let o = spec.options.first(where: { $0.short == arg.last }) else {
        throw UsageError("unknown option '\(arg)' for '\(spec.name)'")
      }
      name = o.name
    }
    guard let option = spec.options.first(where: { $0.name == name }) else {
      throw UsageError(
        "unknown option '--\(name)' for '\(spec.name)'" + Suggestions.hint(name, longNames, prefix: "--"))
    }
    if option.value == nil {
      guard inline == nil else { throw UsageError("'--\(name)' takes no value") }
      parsed.values[name, default: []].append("true")
      continue
    }
    let value: String
    if let inline {
      value = inline
    } else {
      guard i < args.endIndex else { throw UsageError("'--\(name)' needs a value") }
      value = args[i]
      i += 1
    }
    if !option.repeatable, parsed.values[name] != nil {
      throw UsageError("'--\(name)' was given twice")
    }
    parsed.values[name, default: []].append(value)
  }
  return parsed
}

/// A subcommand's options, read once from the parsed command line.
protocol ParsedFromOptions {
  init(_ o: ParsedOptions) throws
}

/// A subcommand that runs on its own options struct; running it on the
/// parsed command line parses that struct first.
protocol Subcommand {
  associatedtype Options: ParsedFromOptions
  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink) async throws -> ExitCode
}

extension Subcommand {
  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    try await run(Options(o), output: &output, errors: &errors)
  }
}
