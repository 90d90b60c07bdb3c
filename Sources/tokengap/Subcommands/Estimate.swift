import Compare
import EstimateModel

/// `tokengap estimate`: the gap of one request, from its token counts.
enum EstimateCommand {
  static let spec = CommandSpec(
    name: "estimate",
    abstract: "Compute the gap for one request from its token counts.",
    usage: """
      tokengap estimate --model <id> --input <n> [--cache-write <n> | --cache-write-5m <n> --cache-write-1h <n>] [--cache-read <n>] [--output-tokens <n>] [--at <date>] [--geo us] [--speed fast] [--batch] [--format <format>]
             tokengap estimate --itpm-limit <n> --cache-hit-rate <h>
      """,
    options: [
      OptionSpec(
        name: "model", value: "id", help: "Model id as logged (dated, alias, Bedrock, Vertex, [1m]).",
        catalogValues: .models),
      OptionSpec(name: "input", value: "n", help: "Uncached input tokens (usage.input_tokens).", defaultText: "0"),
      OptionSpec(
        name: "cache-write", value: "n",
        help:
          "All cache writes (cache_creation_input_tokens); any part not split by TTL is priced as 5-minute and flagged a lower bound."
      ),
      OptionSpec(name: "cache-write-5m", value: "n", help: "5-minute cache writes.", defaultText: "0"),
      OptionSpec(name: "cache-write-1h", value: "n", help: "1-hour cache writes.", defaultText: "0"),
      OptionSpec(name: "cache-read", value: "n", help: "Cache reads (cache_read_input_tokens).", defaultText: "0"),
      OptionSpec(name: "output-tokens", value: "n", help: "Output tokens.", defaultText: "0"),
      OptionSpec(name: "web-search", value: "n", help: "Web search requests.", defaultText: "0"),
      OptionSpec(name: "at", value: "date", help: "Day whose prices and rules apply.", defaultText: "today, UTC"),
      OptionSpec(name: "geo", value: "geo", Geography.self, lead: "Inference geography: ", defaultText: "global"),
      OptionSpec(name: "speed", value: "speed", Speed.self, lead: "Speed: ", defaultText: "standard"),
      OptionSpec(name: "batch", help: "Priced as a Message Batches request (50 % off)."),
      OptionSpec(name: "itpm-limit", value: "n", help: "With --cache-hit-rate: print the effective prompt throughput."),
      OptionSpec(name: "cache-hit-rate", value: "h", help: "Share of prompt tokens read from cache, 0 to 1."),
      Common.format([.table, .json]), Common.json,
      Common.quiet("Print nothing on standard error but errors."),
      Common.catalog,
    ],
    discussion: """
      P (what count_tokens returns) = input + cache writes + cache reads.
      I (what counts toward ITPM) = input + cache writes, plus cache reads only on
      the legacy models the rate-limit docs mark with a dagger.
      """)

  /// `estimate`'s options, parsed once: one request's counts, or a limit
  /// and a hit rate.
  struct Options {
    /// What is asked: the gap of one request, or the throughput a limit
    /// admits.
    enum Question {
      case gap(Request)
      case throughput(limit: Int64, hitRate: Ratio)
    }

    /// One request, as `--model`, the counts and the pricing options give it.
    struct Request {
      var model: String
      var input: Int64
      /// `--cache-write`: all writes, split by TTL or not.
      var cacheWrite: Int64?
      var cacheWrite5m: Int64?
      var cacheWrite1h: Int64?
      var cacheRead: Int64?
      var outputTokens: Int64
      var webSearch: Int64?
      /// `--at`: the day whose prices apply; nil for today.
      var day: CivilDay?
      var geo: Geography
      var speed: Speed
      var batch: Bool
    }

    var question: Question
    var format: OutputFormat
    var catalogPath: String?
    var quiet: Bool

    init(_ o: ParsedOptions) throws {
      guard o.positionals.isEmpty else {
        throw UsageError("unexpected argument '\(o.positionals[0])'")
      }
      catalogPath = o.value("catalog")
      quiet = o.flag("quiet")
      if o.flag("itpm-limit") || o.flag("cache-hit-rate") {
        guard let limit = try o.count("itpm-limit"), let text = o.value("cache-hit-rate") else {
          throw UsageError("'--itpm-limit' and '--cache-hit-rate' go together")
        }
        guard let m = Multiplier(text), m.numerator <= m.denominator, let hit = Ratio(m.numerator, m.denominator)
        else {
          throw UsageError("'--cache-hit-rate' must be a decimal from 0 to 1, not '\(text)'")
        }
        format = try Common.format(o, [.table, .json])
        question = .throughput(limit: limit, hitRate: hit)
        return
      }
      guard let model = o.value("model") else { throw UsageError("missing '--model <id>'") }
      format = try Common.format(o, [.table, .json])
      let w5 = try o.count("cache-write-5m")
      let w1 = try o.count("cache-write-1h")
      let total = try o.count("cache-write")
      if let total, (w5 ?? 0) + (w1 ?? 0) > total {
        throw UsageError("'--cache-write' (\(total)) is less than its 5-minute and 1-hour parts")
      }
      // The counts are read first: a mistake in one is reported as it is.
      question = .gap(
        Request(
          model: model, input: try o.count("input") ?? 0, cacheWrite: total, cacheWrite5m: w5, cacheWrite1h: w1,
          cacheRead: try o.count("cache-read"), outputTokens: try o.count("output-tokens") ?? 0,
          webSearch: try o.count("web-search"), day: try o.instant("at")?.day,
          geo: try o.choice("geo", Geography.self) ?? .global,
          speed: try o.choice("speed", Speed.self) ?? .standard,
          batch: o.flag("batch")))
    }
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    throws -> ExitCode
  {
    try run(Options(o), output: &output, errors: &errors)
  }

  static func run(_ o: Options, output: inout any TextSink, errors: inout any TextSink) throws -> ExitCode {
    switch o.question {
    case .gap(let r): try gap(r, format: o.format, catalogPath: o.catalogPath, output: &output)
    case .throughput(let limit, let hit): throughput(limit: limit, hitRate: hit, format: o.format, output: &output)
    }
    return .ok
  }

  private static func gap(
    _ r: Options.Request, format: OutputFormat, catalogPath: String?, output: inout any TextSink
  ) throws {
    let usage: TokenUsage
    do {
      usage = try TokenUsage.fromAPI(
        input: r.input, cacheCreation: r.cacheWrite, cacheWrite5m: r.cacheWrite5m, cacheWrite1h: r.cacheWrite1h,
        cacheRead: r.cacheRead, output: r.outputTokens, webSearchRequests: r.webSearch)
    } catch {
      throw UsageError("\(error)")
    }
    let catalog = try Common.catalog(path: catalogPath)
    // A model named here is one the user means to price: a name the catalog
    // does not know is a mistake, not an unpriced request.
    let model = catalog.resolve(r.model)
    guard model.entry != nil else {
      throw UsageError(
        "model '\(r.model)' is not in the catalog \(catalog.version)" + Suggestions.modelHint(r.model, in: catalog))
    }
    let gap: Gap
    do {
      gap = try Gap(
        usage: usage, model: model, day: r.day ?? WallClock.today(),
        options: RequestOptions(batch: r.batch, usGeo: r.geo == .us, fast: r.speed == .fast), catalog: catalog)
    } catch {
      throw UsageError("\(error)")
    }
    output.write(
      format == .json ? EstimateRenderer.json(gap, catalog: catalog) : EstimateRenderer.table(gap, catalog: catalog))
  }

  private static func throughput(limit: Int64, hitRate hit: Ratio, format: OutputFormat, output: inout any TextSink) {
    let effective = effectivePromptThroughput(itpmLimit: limit, cacheHitRate: hit)
    let value = effective.map { $0.formatted(decimals: 0) }
    if format == .json {
      let doc: JSONValue = .object([
        ("itpm_limit", .int(limit)), ("cache_hit_rate", .number(hit.formatted())),
        ("effective_prompt_tokens_per_minute", value.map { .number($0) } ?? .null),
      ])
      output.write(doc.serialized() + "\n")
    } else {
      output.write(
        "An ITPM limit of \(limit) at a \(hit.formatted()) cache hit rate admits "
          + (value.map { "\($0) prompt tokens per minute.\n" }
            ?? "an unbounded number of prompt tokens (every token is a cache read).\n"))
    }
  }
}

/// `--geo`'s spellings.
enum Geography: String, CaseIterable {
  case us, global
}

/// `--speed`'s spellings.
enum Speed: String, CaseIterable {
  case fast, standard
}
