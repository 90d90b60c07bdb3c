/// How a request was sent, as far as prices depend on it.
public struct RequestOptions: Sendable, Hashable, Codable {
  /// Message Batches API (`service_tier: "batch"`): 50 % off tokens.
  public var batch: Bool
  /// US-only inference (`inference_geo: "us"`).
  public var usGeo: Bool
  /// Fast mode (`speed: "fast"`).
  public var fast: Bool
  /// The long-prompt tier as reported (the Admin API's `context_window`);
  /// nil decides it from the request's own prompt.
  public var longContext: Bool?
  /// Sent to a regional endpoint (a Bedrock `us.`/`eu.`/… id, a Vertex
  /// regional location): the catalog's regional premium, where it applies.
  public var regional: Bool

  public init(
    batch: Bool = false, usGeo: Bool = false, fast: Bool = false, longContext: Bool? = nil,
    regional: Bool = false
  ) {
    self.batch = batch
    self.usGeo = usGeo
    self.fast = fast
    self.longContext = longContext
    self.regional = regional
  }
}

/// Whose rate-limit rule decides what counts toward the input quota.
///
/// | rule | cache reads count | output charge |
/// |---|---|---|
/// | `anthropic` | only on the † models (dated, per the catalog) | `out` |
/// | `bedrock` | never | `out` × the model's burndown rate, where the catalog has it |
/// | `openai` | always (cached tokens count toward TPM) | `out` |
public enum Accounting: String, CaseIterable, Sendable, Codable {
  case anthropic, bedrock, openai
}

/// Why a request has no cost.
public enum UnpricedReason: String, Sendable, Hashable, Codable {
  /// The model id is not in the catalog.
  case unknownModel = "unknown_model"
  /// The catalog knows the model but no price is published for the date.
  case noPricePeriod = "no_price_period"
  /// Fast mode was used and its price is not published for the model.
  case noFastPrice = "no_fast_price"
  /// Fast mode and the Batch API together: fast mode is not offered in Batch,
  /// so no published price applies.
  case fastInBatch = "fast_in_batch"
}

/// The gap between count_tokens' worst case and what a request really cost.
///
/// Definitions (DESIGN.md §1), per request:
///
/// | quantity | formula |
/// |---|---|
/// | estimate `P` | `in + w + cr` |
/// | ITPM charge `I` | `in + w + (countsCacheReads ? cr : 0)` |
/// | OTPM charge `O` | `out` |
/// | overestimate `E` | `P − I` |
/// | ratio `R` | `P / I`, undefined when `I = 0` |
/// | excess share `S` | `E / P` |
/// | cache hit rate `H` | `cr / P` |
/// | input cost, estimated `Ce` | `P × price_in` |
/// | input cost, actual `Ca` | `in×in + w5×w5 + w1h×w1h + wu×w5 + cr×read` |
/// | output cost `Co` | `out × price_out` |
public struct Gap: Sendable, Hashable, Codable {
  public var model: String
  public var usage: TokenUsage
  public var estimate: Int64
  public var itpm: Int64
  public var otpm: Int64
  public var countsCacheReads: Bool
  public var pricePeriod: String?
  /// `standard`, `long_prompt` or `fast`, with `+batch` and `+us_geo` appended.
  public var priceTier: String?
  public var inputCostEstimate: USD?
  public var inputCostActual: USD?
  public var outputCost: USD?
  public var webSearchCost: USD?
  /// The writes of unknown TTL were priced as 5-minute writes: a lower bound.
  public var lowerBound: Bool
  public var unpriced: UnpricedReason?
  /// The prices applied, modifiers included; nil when unpriced.
  public var rates: RateCard?
  /// The costs rest on prices from a third-party source.
  public var thirdPartyPrice: Bool = false

  public var overestimate: Int64 { estimate - itpm }
  public var overestimationRatio: Ratio? { Ratio(estimate, itpm) }
  public var excessShare: Ratio? { Ratio(overestimate, estimate) }
  public var cacheHitRate: Ratio? { Ratio(usage.cacheRead, estimate) }

  /// Input, output and web search: the request's bill.
  public var costActual: USD? {
    guard let a = inputCostActual, let o = outputCost else { return nil }
    return a + o + (webSearchCost ?? .zero)
  }

  /// `Ce / Ca`: how far a worst-case budget overstates the input bill.
  public var inputCostRatio: Ratio? {
    guard let e = inputCostEstimate, let a = inputCostActual else { return nil }
    return e.ratio(to: a)
  }

  /// Computes the gap of one request.
  ///
  /// - Parameters:
  ///   - usage: The response's final usage.
  ///   - model: The model as resolved by the catalog.
  ///   - day: The UTC day of the request: it selects prices and rules.
  ///   - options: Batch, geography and speed.
  ///   - catalog: Modifiers (batch, US geography, web search).
  public init(
    usage: TokenUsage, model: ResolvedModel, day: CivilDay,
    options: RequestOptions = .init(), catalog: ModelCatalog, accounting: Accounting = .anthropic
  ) throws(UsageError) {
    try self.init(
      usage: usage,
      priceClass: PriceClass(
        model: model, day: day, options: options, catalog: catalog, accounting: accounting))
  }

  /// Computes the gap of one request from its price class: the one place
  /// the definitions above are applied.
  public init(usage: TokenUsage, priceClass c: borrowing PriceClass) throws(UsageError) {
    let f = try GapFigures(usage: usage, priceClass: c)
    self.model = c.model
    self.usage = usage
    estimate = f.estimate
    countsCacheReads = c.countsCacheReads
    itpm = f.itpm
    otpm = f.otpm
    lowerBound = f.lowerBound
    if let reason = c.unpriced {
      unpriced = reason
      return
    }
    guard let (card, long) = c.card(prompt: estimate) else {
      unpriced = .noPricePeriod
      return
    }
    pricePeriod = c.pricePeriod
    thirdPartyPrice = c.thirdPartyPrice
    priceTier = (long ? "long_prompt" : c.baseTier) + c.tierSuffix
    rates = card
    inputCostEstimate = f.inputCostEstimate
    inputCostActual = f.inputCostActual
    outputCost = f.outputCost
    webSearchCost = f.webSearchCost
  }

  /// The gap's numbers alone.
  public var figures: GapFigures {
    GapFigures(
      estimate: estimate, itpm: itpm, otpm: otpm, lowerBound: lowerBound, thirdPartyPrice: thirdPartyPrice,
      inputCostEstimate: inputCostEstimate, inputCostActual: inputCostActual, outputCost: outputCost,
      webSearchCost: webSearchCost)
  }
}

/// A request's gap as numbers only: what sums, distributions and rows are
/// made of. ``Gap`` adds the names (model, price period and tier, rates);
/// both come from ``init(usage:priceClass:)``, where the definitions of
/// ``Gap`` are applied. Making these copies no string, so a table of
/// requests is summed without touching a reference count.
public struct GapFigures: Sendable, Hashable {
  public var estimate: Int64
  public var itpm: Int64
  public var otpm: Int64
  /// The writes of unknown TTL were priced as 5-minute writes, or the tier was assumed.
  public var lowerBound: Bool
  /// The costs rest on prices from a third-party source.
  public var thirdPartyPrice: Bool
  /// The costs; nil when the request is unpriced.
  public var inputCostEstimate: USD?
  public var inputCostActual: USD?
  public var outputCost: USD?
  public var webSearchCost: USD?

  /// Input, output and web search: the request's bill.
  public var costActual: USD? {
    guard let a = inputCostActual, let o = outputCost else { return nil }
    return a + o + (webSearchCost ?? .zero)
  }

  public init(
    estimate: Int64, itpm: Int64, otpm: Int64, lowerBound: Bool, thirdPartyPrice: Bool, inputCostEstimate: USD?,
    inputCostActual: USD?, outputCost: USD?, webSearchCost: USD?
  ) {
    self.estimate = estimate
    self.itpm = itpm
    self.otpm = otpm
    self.lowerBound = lowerBound
    self.thirdPartyPrice = thirdPartyPrice
    self.inputCostEstimate = inputCostEstimate
    self.inputCostActual = inputCostActual
    self.outputCost = outputCost
    self.webSearchCost = webSearchCost
  }

  /// Applies ``Gap``'s definitions to one request of a class.
  public init(usage: TokenUsage, priceClass c: borrowing PriceClass) throws(UsageError) {
    try self.init(usage: usage, facts: c.facts)
  }

  /// Applies ``Gap``'s definitions to one request of a class, from the
  /// class's numbers alone: the one place they are applied.
  public init(usage: TokenUsage, facts c: borrowing PriceFacts) throws(UsageError) {
    let writes = try usage.cacheWrite()
    estimate = try usage.prompt()
    itpm = try TokenUsage.add(
      try TokenUsage.add(usage.input, writes, "itpm"),
      c.countsCacheReads ? usage.cacheRead : 0, "itpm")
    let (scaled, overflow) = usage.output.multipliedReportingOverflow(by: c.outputBurndown)
    if overflow { throw .overflow("otpm") }
    otpm = scaled
    let assumed = c.tierAssumed
    lowerBound = usage.cacheWriteUnknownTTL > 0 || assumed
    thirdPartyPrice = false
    guard c.priced, let (card, _) = c.card(prompt: estimate) else { return }
    thirdPartyPrice = c.thirdPartyPrice
    inputCostEstimate = card.input.cost(estimate)
    inputCostActual =
      card.input.cost(usage.input) + card.write5m.cost(usage.cacheWrite5m)
      + card.write1h.cost(usage.cacheWrite1h) + card.write5m.cost(usage.cacheWriteUnknownTTL)
      + card.read.cost(usage.cacheRead)
    outputCost = card.output.cost(usage.output)
    webSearchCost = USD(attodollars: c.webSearchPrice.attodollars * Int128(usage.webSearchRequests))
  }
}

/// Everything about a request's price and rate-limit rule that does not
/// depend on its token counts: the model's entry on the request's day, the
/// modifiers, and the accounting rule.
///
/// Requests of one class differ only in their usage, so a table of requests
/// resolves each class once and prices each request with
/// ``Gap/init(usage:priceClass:)``.
public struct PriceClass: Sendable, Hashable, Codable {
  /// The canonical model id (or the logged id when unknown).
  public var model: String
  /// The model's rate-limit pool, when the catalog knows the model.
  public var pool: String?
  public var accounting: Accounting
  /// Cache reads count toward ITPM under the class's rule.
  public var countsCacheReads: Bool
  /// OTPM charge per output token (Bedrock's burndown rate; 1 elsewhere).
  public var outputBurndown: Int64
  /// Why no price applies; nil when priced.
  public var unpriced: UnpricedReason?
  public var pricePeriod: String?
  /// The rates below the long-prompt threshold (fast mode's when fast), modifiers applied.
  public var standard: RateCard?
  /// `standard` or `fast`.
  public var baseTier: String
  /// The long-prompt tier, modifiers applied; nil when none applies.
  public var longPrompt: LongPromptTier?
  /// The tier as reported by the source; nil decides it from each request's P.
  public var longContext: Bool?
  /// Standard rates were assumed because the tier of a bucket of requests
  /// is unknown (it is a property of each request): the cost is a lower bound.
  public var tierAssumed: Bool = false
  /// `+us_geo`, `+batch`, or both.
  public var tierSuffix: String
  public var webSearchPrice: USD
  /// The price period's prices rest on a third-party source.
  public var thirdPartyPrice: Bool = false

  /// Resolves the class of requests on `model` sent on `day` with `options`.
  /// The rates a prompt of `prompt` tokens pays, and whether they are the
  /// long-prompt ones; nil when the class has no price on its day.
  public func card(prompt: Int64) -> (RateCard, long: Bool)? { facts.card(prompt: prompt) }

  /// The numbers a request's figures are computed from.
  public var facts: PriceFacts {
    PriceFacts(
      countsCacheReads: countsCacheReads, outputBurndown: outputBurndown, priced: unpriced == nil,
      tierAssumed: tierAssumed, thirdPartyPrice: thirdPartyPrice, webSearchPrice: webSearchPrice,
      standard: standard, longAbove: longPrompt?.above, longRates: longPrompt?.rates, longContext: longContext)
  }

  public init(
    model: ResolvedModel, day: CivilDay, options: RequestOptions = .init(),
    catalog: ModelCatalog, accounting: Accounting = .anthropic, aggregate: Bool = false
  ) {
    self.model = model.id
    self.accounting = accounting
    let entry = model.entry
    pool = entry?.pool
    switch accounting {
    case .anthropic: countsCacheReads = entry?.countsCacheReads(on: day) ?? false
    case .bedrock: countsCacheReads = false
    case .openai: countsCacheReads = true
    }
    outputBurndown = 1
    if accounting == .bedrock, let entry, let burndown = catalog.bedrockBurndown[entry.id] {
      outputBurndown = Int64(burndown.numerator / max(1, burndown.denominator))
    }
    webSearchPrice = catalog.modifiers.webSearch
    baseTier = "standard"
    tierSuffix = ""
    longContext = options.longContext
    guard let entry else {
      unpriced = .unknownModel
      return
    }
    guard let period = entry.pricePeriod(on: day) else {
      unpriced = .noPricePeriod
      return
    }
    var card: RateCard
    var long = period.longPrompt
    if options.fast {
      guard !options.batch else {
        unpriced = .fastInBatch
        return
      }
      guard let fast = period.fast else {
        unpriced = .noFastPrice
        return
      }
      card = fast
      baseTier = "fast"
      long = nil
    } else {
      card = period.standard
    }
    var multiplier = Multiplier.one
    if options.usGeo && entry.usGeoMultiplierApplies {
      multiplier = multiplier * catalog.modifiers.usGeo
      tierSuffix += "+us_geo"
    }
    if options.regional && entry.regionalPremiumApplies {
      multiplier = multiplier * catalog.modifiers.regional
      tierSuffix += "+regional"
    }
    if options.batch {
      multiplier = multiplier * catalog.modifiers.batch
      tierSuffix += "+batch"
    }
    if multiplier != .one {
      card = card.scaled(by: multiplier)
      if var l = long {
        l.rates = l.rates.scaled(by: multiplier)
        long = l
      }
    }
    pricePeriod = period.label
    thirdPartyPrice = catalog.isThirdParty(period.source)
    standard = card
    longPrompt = long
    if aggregate, long != nil, longContext == nil {
      // A bucket's summed P says nothing about any one request's tier.
      longContext = false
      tierAssumed = true
    }
  }
}

/// The numbers of a ``PriceClass`` that ``GapFigures`` is computed from:
/// plain data, no text, so a table reads them for each request without
/// counting references.
public struct PriceFacts: Sendable, Hashable {
  public var countsCacheReads: Bool
  public var outputBurndown: Int64
  /// The class has a price (``PriceClass/unpriced`` is nil).
  public var priced: Bool
  public var tierAssumed: Bool
  public var thirdPartyPrice: Bool
  public var webSearchPrice: USD
  public var standard: RateCard?
  /// The long-prompt tier's threshold and rates, when one applies.
  public var longAbove: Int64?
  public var longRates: RateCard?
  public var longContext: Bool?

  public init(
    countsCacheReads: Bool, outputBurndown: Int64, priced: Bool, tierAssumed: Bool, thirdPartyPrice: Bool,
    webSearchPrice: USD, standard: RateCard?, longAbove: Int64?, longRates: RateCard?, longContext: Bool?
  ) {
    self.countsCacheReads = countsCacheReads
    self.outputBurndown = outputBurndown
    self.priced = priced
    self.tierAssumed = tierAssumed
    self.thirdPartyPrice = thirdPartyPrice
    self.webSearchPrice = webSearchPrice
    self.standard = standard
    self.longAbove = longAbove
    self.longRates = longRates
    self.longContext = longContext
  }

  /// The rates a prompt of `prompt` tokens pays, and whether they are the
  /// long-prompt ones; nil when the class has no price on its day.
  public func card(prompt: Int64) -> (RateCard, long: Bool)? {
    if let above = longAbove, let rates = longRates, longContext ?? (prompt > above) { return (rates, true) }
    if let standard { return (standard, false) }
    return nil
  }
}
