import EstimateModel

/// A command-line mistake: exit 64 with the message on stderr.
struct UsageError: Error, Equatable {
  var message: String
  init(_ message: String) { self.message = message }
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
}

/// Options and positional arguments as given.
struct ParsedOptions {
  var values: [String: [String]] = [:]
  var positionals: [String] = []
  var wantsHelp = false

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

  /// One of a fixed set of spellings.
  func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type, default d: E)
    throws(UsageError) -> E where E.RawValue == String
  {
    guard let text = value(name) else { return d }
    guard let v = E(rawValue: text) else {
      let valid = E.allCases.map(\.rawValue).joined(separator: ", ")
      throw UsageError("'--\(name)' must be one of \(valid), not '\(text)'")
    }
    return v
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
func parseOptions(_ args: ArraySlice<String>, _ spec: CommandSpec) throws(UsageError)
  -> ParsedOptions
{
  var parsed = ParsedOptions()
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
      throw UsageError("unknown option '--\(name)' for '\(spec.name)'")
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
