/// The prices of the five token kinds, per token.
public struct RateCard: Sendable, Hashable, Codable {
  public var input: TokenRate
  public var write5m: TokenRate
  public var write1h: TokenRate
  public var read: TokenRate
  public var output: TokenRate

  public init(
    input: TokenRate, write5m: TokenRate, write1h: TokenRate, read: TokenRate,
    output: TokenRate
  ) {
    self.input = input
    self.write5m = write5m
    self.write1h = write1h
    self.read = read
    self.output = output
  }

  /// Every rate times `multiplier`.
  public func scaled(by multiplier: Multiplier) -> RateCard {
    RateCard(
      input: input.scaled(by: multiplier), write5m: write5m.scaled(by: multiplier),
      write1h: write1h.scaled(by: multiplier), read: read.scaled(by: multiplier),
      output: output.scaled(by: multiplier))
  }
}

/// Prices that apply when a request's whole prompt is above a threshold.
public struct LongPromptTier: Sendable, Hashable, Codable {
  /// The tier applies when `P` is strictly greater than this.
  public var above: Int64
  public var rates: RateCard
  public var source: String

  public init(above: Int64, rates: RateCard, source: String) {
    self.above = above
    self.rates = rates
    self.source = source
  }
}

/// A model's prices over a span of days.
public struct PricePeriod: Sendable, Hashable, Codable {
  /// A name for the period: `standard`, `introductory`, `launch`.
  public var label: String
  /// First day the prices apply (inclusive); nil means since the model existed.
  public var from: CivilDay?
  /// First day they no longer apply (exclusive); nil means still in force.
  public var until: CivilDay?
  public var standard: RateCard
  public var longPrompt: LongPromptTier?
  /// Fast mode (`speed: "fast"`), where its price is published.
  public var fast: RateCard?
  public var source: String
  /// Where the start day comes from, when not from `source` (a release date
  /// reported by a third party, for instance).
  public var fromSource: String?

  public init(
    label: String, from: CivilDay?, until: CivilDay?, standard: RateCard,
    longPrompt: LongPromptTier?, fast: RateCard?, source: String, fromSource: String? = nil
  ) {
    self.fromSource = fromSource
    self.label = label
    self.from = from
    self.until = until
    self.standard = standard
    self.longPrompt = longPrompt
    self.fast = fast
    self.source = source
  }

  /// The period covers the day.
  public func contains(_ day: CivilDay) -> Bool {
    (from.map { day >= $0 } ?? true) && (until.map { day < $0 } ?? true)
  }
}

/// A yes-or-no rule in force over a span of days.
public struct DatedFlag: Sendable, Hashable, Codable {
  public var from: CivilDay?
  public var until: CivilDay?
  public var value: Bool
  public var source: String

  public init(from: CivilDay?, until: CivilDay?, value: Bool, source: String) {
    self.from = from
    self.until = until
    self.value = value
    self.source = source
  }

  public func contains(_ day: CivilDay) -> Bool {
    (from.map { day >= $0 } ?? true) && (until.map { day < $0 } ?? true)
  }
}

/// One model of the catalog, with every id it is logged under.
public struct ModelEntry: Sendable, Hashable, Codable {
  /// The canonical API id, such as `claude-sonnet-4-5`.
  public var id: String
  public var name: String
  /// Other ids of the same model: dated snapshots, `-latest` aliases.
  public var aliases: [String]
  /// The rate-limit pool the model's traffic is counted in.
  public var pool: String
  public var status: String
  public var released: CivilDay?
  /// US-only `inference_geo` costs the catalog's multiplier (Claude 4.6+).
  public var usGeoMultiplierApplies: Bool
  /// Bedrock regional and cross-region ids and Vertex regional endpoints
  /// cost the catalog's regional multiplier (Sonnet 4.5, Haiku 4.5, Opus
  /// 4.5 and later).
  public var regionalPremiumApplies: Bool
  public var prices: [PricePeriod]
  /// When cache reads count toward ITPM (the docs' † models); false otherwise.
  public var countsCacheReads: [DatedFlag]

  public init(
    id: String, name: String, aliases: [String], pool: String, status: String,
    released: CivilDay?, usGeoMultiplierApplies: Bool, regionalPremiumApplies: Bool = false,
    prices: [PricePeriod], countsCacheReads: [DatedFlag]
  ) {
    self.regionalPremiumApplies = regionalPremiumApplies
    self.id = id
    self.name = name
    self.aliases = aliases
    self.pool = pool
    self.status = status
    self.released = released
    self.usGeoMultiplierApplies = usGeoMultiplierApplies
    self.prices = prices
    self.countsCacheReads = countsCacheReads
  }

  /// The price period in force on a day, if any.
  public func pricePeriod(on day: CivilDay) -> PricePeriod? {
    prices.first { $0.contains(day) }
  }

  /// Whether cache reads count toward ITPM on a day.
  public func countsCacheReads(on day: CivilDay) -> Bool {
    countsCacheReads.first { $0.contains(day) }?.value ?? false
  }
}

/// Request-wide price modifiers from the catalog.
public struct PriceModifiers: Sendable, Hashable, Codable {
  public var batch: Multiplier
  public var usGeo: Multiplier
  /// The price of one web search request.
  public var webSearch: USD
  public var source: String
  /// Regional endpoints' premium over global ones (Bedrock, Vertex AI).
  public var regional: Multiplier
  public var regionalSource: String

  public init(
    batch: Multiplier, usGeo: Multiplier, webSearch: USD, source: String,
    regional: Multiplier = .one, regionalSource: String = ""
  ) {
    self.batch = batch
    self.usGeo = usGeo
    self.webSearch = webSearch
    self.source = source
    self.regional = regional
    self.regionalSource = regionalSource
  }
}

/// A cited source of catalog facts.
public struct CatalogSource: Sendable, Hashable, Codable {
  public var key: String
  public var url: String
  public var date: String
  public var grade: String

  public init(key: String, url: String, date: String, grade: String) {
    self.key = key
    self.url = url
    self.date = date
    self.grade = grade
  }
}

/// The outcome of looking up a model id as logged.
public enum ResolvedModel: Sendable, Hashable, Codable {
  /// A catalog entry.
  case known(ModelEntry)
  /// Not in the catalog: tokens are counted, cost is absent, and it is flagged.
  case unpriced(String)

  /// The canonical id, or the normalized unknown id.
  public var id: String {
    switch self {
    case .known(let entry): entry.id
    case .unpriced(let id): id
    }
  }

  public var entry: ModelEntry? {
    if case .known(let entry) = self { return entry }
    return nil
  }
}

/// Models, prices, ITPM rules and rate-limit tables, all dated and sourced.
public struct ModelCatalog: Sendable {
  public private(set) var version: String
  /// Hex SHA-256 of the catalog file the values came from.
  public private(set) var sha256: String
  public private(set) var models: [ModelEntry]
  public private(set) var modifiers: PriceModifiers
  public private(set) var rateLimitTables: [RateLimitTable]
  public private(set) var sources: [CatalogSource]
  /// Bedrock's output burndown rate by canonical model id (whole multiples).
  public private(set) var bedrockBurndown: [String: Multiplier]
  private var index: [String: Int]

  public init(
    version: String, sha256: String, models: [ModelEntry], modifiers: PriceModifiers,
    rateLimitTables: [RateLimitTable], sources: [CatalogSource],
    bedrockBurndown: [String: Multiplier] = [:]
  ) {
    self.bedrockBurndown = bedrockBurndown
    self.version = version
    self.sha256 = sha256
    self.models = models
    self.modifiers = modifiers
    self.rateLimitTables = rateLimitTables
    self.sources = sources
    var index: [String: Int] = [:]
    for (i, model) in models.enumerated() {
      for id in [model.id] + model.aliases where index[id] == nil { index[id] = i }
    }
    self.index = index
  }

  /// Resolves an id as logged to a catalog entry, by exact match only.
  ///
  /// | form                              | example                                      |
  /// |-----------------------------------|----------------------------------------------|
  /// | canonical or dated                | `claude-sonnet-4-5-20250929`                 |
  /// | alias                             | `claude-3-5-haiku-latest`                    |
  /// | Bedrock, with or without region   | `us.anthropic.claude-sonnet-4-5-20250929-v1:0` |
  /// | Vertex                            | `claude-sonnet-4-5@20250929`                 |
  /// | Claude Code's context suffix      | `claude-opus-4-6[1m]`                        |
  ///
  /// Anything else resolves to ``ResolvedModel/unpriced(_:)``: a substring is
  /// never taken as a match.
  public func resolve(_ logged: String) -> ResolvedModel {
    if let i = index[logged] { return .known(models[i]) }
    for candidate in ModelCatalog.candidates(for: logged) {
      if let i = index[candidate] { return .known(models[i]) }
    }
    return .unpriced(ModelCatalog.candidates(for: logged).first ?? logged)
  }

  /// Whether a logged id names a regional endpoint: a Bedrock regional or
  /// cross-region inference profile (`us.`, `eu.`, `apac.`, `jp.`, `au.`
  /// before `anthropic.`, after any gateway prefix such as `bedrock/`).
  /// `global.` and a bare `anthropic.` id are not.
  ///
  /// | logged id | regional |
  /// |---|---|
  /// | `eu.anthropic.claude-haiku-4-5-20251001-v1:0` | yes |
  /// | `bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0` | yes |
  /// | `global.anthropic.claude-sonnet-4-5-20250929-v1:0` | no |
  /// | `claude-sonnet-4-5` | no |
  public static func isRegional(_ logged: String) -> Bool {
    guard let prefix = bedrockPrefix(logged) else { return false }
    return ["us.", "eu.", "apac.", "jp.", "au."].contains(prefix)
  }

  /// The text before `anthropic.` in a logged id (after its last `/`), in
  /// lower case; nil when it holds no `anthropic.`. Read as ASCII bytes:
  /// called for every request a command lists, it makes no String for the
  /// ids that are not Bedrock's (nearly all), and the names it looks for
  /// are ASCII.
  static func bedrockPrefix(_ logged: String) -> String? {
    var bytes = Array(logged.utf8)
    if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) { bytes.removeFirst(slash + 1) }
    let needle = Array("anthropic.".utf8)
    guard bytes.count >= needle.count else { return nil }
    for start in 0...(bytes.count - needle.count) {
      var k = 0
      while k < needle.count {
        let c = bytes[start + k]
        let folded = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
        if folded != needle[k] { break }
        k += 1
      }
      if k == needle.count {
        return String(decoding: bytes[..<start], as: UTF8.self).lowercased()
      }
    }
    return nil
  }

  /// Whether a logged id is Bedrock's: `anthropic.` after an optional
  /// region prefix (`us.`, `global.`, …), after any gateway prefix such as
  /// `bedrock/` or an ARN's `…/`. Such ids exist only on Bedrock.
  ///
  /// | logged id | Bedrock |
  /// |---|---|
  /// | `anthropic.claude-3-5-haiku-20241022-v1:0` | yes |
  /// | `eu.anthropic.claude-haiku-4-5-20251001-v1:0` | yes |
  /// | `arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0` | yes |
  /// | `anthropic/claude-sonnet-4.5` (OpenRouter) | no |
  /// | `claude-sonnet-4-5`, `claude-sonnet-4-5@20250929` | no |
  public static func isBedrock(_ logged: String) -> Bool {
    guard let prefix = bedrockPrefix(logged) else { return false }
    return prefix.isEmpty || ["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."].contains(prefix)
  }

  /// The normalized forms of a logged id, most specific first.
  static func candidates(for logged: String) -> [String] {
    var id = logged.lowercased()
    while let last = id.utf8.last, last == UInt8(ascii: " ") { id.removeLast() }
    if id.hasSuffix("[1m]") { id.removeLast(4) }
    // The id as logged comes first (an unknown model is shown by it), then
    // the forms gateways and other tools write.
    let plain = plainForms(id)
    let gateway = gatewayForms(id)
    return plain + gateway.filter { !plain.contains($0) }
  }

  private static func gatewayForms(_ logged: String) -> [String] {
    var id = logged
    // Gateways: `openrouter/anthropic/…`, `vertex_ai/…`, `bedrock/…`, `anthropic/…`.
    if let slash = id.lastIndex(of: "/") { id = String(id[id.index(after: slash)...]) }
    // Suffixes such as `…-via-bedrock`.
    if let via = id.ranges(of: "-via-").last, !id[via.upperBound...].isEmpty,
      id[via.upperBound...].allSatisfy({ $0.isLetter })
    {
      id = String(id[..<via.lowerBound])
    }
    // Dotted versions: `claude-opus-4.7`, `claude-haiku-4.5`.
    id = dashedVersions(id)
    return withAlternatives(plainForms(id))
  }

  /// The Bedrock and Vertex forms of an id, as logged.
  private static func plainForms(_ logged: String) -> [String] {
    var id = logged
    // Bedrock: optional region prefix, `anthropic.`, `-vN:M` suffix.
    if let range = id.firstRange(of: "anthropic.") {
      let prefix = id[..<range.lowerBound]
      let regions = ["", "us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."]
      if regions.contains(String(prefix)) { id = String(id[range.upperBound...]) }
    }
    var forms: [String] = []
    if let at = id.firstIndex(of: "@") {
      // Vertex: `claude-3-5-sonnet-v2@20241022`, `claude-sonnet-4-5@20250929`.
      let base = String(id[..<at])
      let date = String(id[id.index(after: at)...])
      if date != "default" {
        forms.append(base + "-" + date)
        if base.hasSuffix("-v2") { forms.append(String(base.dropLast(3)) + "-" + date) }
      }
      forms.append(base)
      return forms
    }
    forms.append(id)
    if let stripped = stripBedrockVersion(id) { forms.append(stripped) }
    return forms
  }

  /// Each form, then the same with the family first (`claude-4-sonnet-…` →
  /// `claude-sonnet-4-…`, as Claude 4 and later are named). Only exact
  /// matches count: an alternative that is not in the catalog resolves
  /// nothing, and a snapshot date the catalog does not list stays unknown.
  private static func withAlternatives(_ forms: [String]) -> [String] {
    var out = forms
    for f in forms {
      if let swapped = familyFirst(f) { out.append(swapped) }
    }
    return out
  }

  /// `claude-4-5-sonnet-…` → `claude-sonnet-4-5-…` for versions 4 and later.
  private static func familyFirst(_ id: String) -> String? {
    let parts = id.split(separator: "-").map(String.init)
    guard parts.count >= 3, parts[0] == "claude", let major = Int(parts[1]), major >= 4 else { return nil }
    var k = 2
    if k < parts.count, parts[k].count <= 2, parts[k].allSatisfy(\.isNumber) { k += 1 }
    let families: Set<String> = ["opus", "sonnet", "haiku", "fable", "mythos"]
    guard k < parts.count, families.contains(parts[k]) else { return nil }
    return (["claude", parts[k]] + parts[1..<k] + parts[(k + 1)...]).joined(separator: "-")
  }

  /// `4.7` → `4-7` wherever a dot stands between two digits.
  private static func dashedVersions(_ id: String) -> String {
    var chars = Array(id)
    for k in chars.indices.dropFirst().dropLast()
    where chars[k] == "." && chars[k - 1].isNumber && chars[k + 1].isNumber {
      chars[k] = "-"
    }
    return String(chars)
  }

  /// `claude-…-v1:0` → `claude-…`, `claude-…-v2` → `claude-…`.
  private static func stripBedrockVersion(_ id: String) -> String? {
    let bytes = Array(id.utf8)
    var end = bytes.count
    // Optional `:N`.
    if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
      guard colon + 1 < bytes.count,
        bytes[(colon + 1)...].allSatisfy({ $0 >= 48 && $0 <= 57 })
      else { return nil }
      end = colon
    }
    var i = end
    while i > 0, bytes[i - 1] >= 48, bytes[i - 1] <= 57 { i -= 1 }
    guard i < end, i >= 2, bytes[i - 1] == UInt8(ascii: "v"), bytes[i - 2] == UInt8(ascii: "-")
    else { return nil }
    return String(decoding: bytes[..<(i - 2)], as: UTF8.self)
  }

  /// The sources cited, by key.
  public func source(_ key: String) -> CatalogSource? {
    sources.first { $0.key == key }
  }

  /// Whether a source is graded third-party: a figure resting on it is
  /// flagged wherever it is shown.
  public func isThirdParty(_ key: String) -> Bool {
    source(key)?.grade.hasPrefix("third-party") ?? false
  }

  /// What in a price period rests on third-party sources, in words (empty
  /// when nothing does): its prices, or the day it starts.
  public func thirdParty(_ p: PricePeriod) -> [String] {
    var out: [String] = []
    if isThirdParty(p.source) { out.append("prices (\(p.source))") }
    if let l = p.longPrompt, l.source != p.source, isThirdParty(l.source) {
      out.append("long-prompt prices (\(l.source))")
    }
    if let f = p.fromSource, isThirdParty(f), let day = p.from { out.append("start day \(day) (\(f))") }
    return out
  }
}
