import Compare
import EstimateModel

/// A fixed set of spellings an option takes.
///
/// The cases make the option's help text (``helpList``), its usage error
/// (``parse(_:_:)``) and its shell completions (``OptionSpec/choices``), so
/// the three never disagree.
protocol OptionChoice: RawRepresentable, CaseIterable where RawValue == String {
  /// Words shown after the spelling in help, such as `ISO 8601`; nil for none.
  var note: String? { get }
  /// The cases in the order help lists them.
  static var listed: [Self] { get }
}

extension OptionChoice {
  var note: String? { nil }
  static var listed: [Self] { Array(allCases) }

  /// The spellings, in the order help lists them.
  static var spellings: [String] { listed.map(\.rawValue) }

  /// `session (a summary per session) or request (one row per request)`.
  static var helpList: String {
    Self.list(listed.map { c in c.note.map { "\(c.rawValue) (\($0))" } ?? c.rawValue })
  }

  /// The case spelled `text`, or a usage error that lists the spellings
  /// and names the nearest.
  static func parse(_ name: String, _ text: String) throws(UsageError) -> Self {
    try ParsedOptions.choice(name, text, listed)
  }

  /// `a`, `a or b`, `a, b or c`.
  static func list(_ items: [String]) -> String {
    guard let last = items.last else { return "" }
    guard items.count > 1 else { return last }
    return items.dropLast().joined(separator: ", ") + " or " + last
  }
}

extension ParsedOptions {
  /// The case of `type` that option `name` spells; nil when it is not given.
  func choice<C: OptionChoice>(_ name: String, _ type: C.Type) throws(UsageError) -> C? {
    guard let text = value(name) else { return nil }
    return try C.parse(name, text)
  }
}

extension OptionSpec {
  /// An option whose value is one of a choice's cases: help is `lead`, the
  /// cases with their notes, then `tail`; completions offer the cases.
  init<C: OptionChoice>(
    name: String, short: Character? = nil, value: String, _ type: C.Type, lead: String = "", tail: String = ".",
    defaultText: String? = nil
  ) {
    self.init(
      name: name, short: short, value: value, help: lead + C.helpList + tail, defaultText: defaultText,
      choices: C.spellings)
  }
}

extension OutputFormat: OptionChoice {}

extension InputFormat: OptionChoice {
  var note: String? {
    self == .capture ? "HAR, usage reports, paired captures, OpenTelemetry, Bedrock, OpenAI" : nil
  }
}

extension Accounting: OptionChoice {
  var note: String? {
    switch self {
    case .anthropic: nil
    case .bedrock: "reads never count; output x burndown"
    case .openai: "cached tokens count"
    }
  }
}

extension CacheGrouping: OptionChoice {
  var note: String? {
    switch self {
    case .session: "a summary per session"
    case .request: "one row per request, in time order"
    }
  }
}

extension Geography: OptionChoice {}
extension Speed: OptionChoice {}

extension GroupSort: OptionChoice {
  var note: String? {
    switch self {
    case .cost: nil
    case .ratio: "P/I"
    case .time: "last activity"
    case .tokens: "P"
    }
  }
}

extension SortOrder: OptionChoice {}

extension Dimension: OptionChoice {
  var note: String? { self == .week ? "ISO 8601" : nil }
  static var listed: [Dimension] {
    [.request, .session, .project, .month, .week, .day, .hour, .minute, .model, .total]
  }
}
