import Compare
import EstimateModel

#if canImport(Glibc)
  import Glibc
#endif

/// `tokengap chart` and `tokengap report`: files for people who would rather look.
enum ChartCommand {
  static let spec = CommandSpec(
    name: "chart",
    abstract: "Write chart-ready CSV files (and SVG charts with --svg) to a directory.",
    usage: "tokengap chart [<path> ...] --out <dir> [--svg] [--tier <name>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(name: "out", value: "dir", help: "Directory to write into (created if missing)."),
      OptionSpec(name: "svg", help: "Also render SVG charts."),
    ] + Replay.limitOptions + Inputs.options,
    discussion: """
      Writes requests.csv, minutes.csv, ratio_histogram.csv, cumulative.csv and
      sessions.csv, plus bucket.csv when limits are given; with --svg also
      estimate_vs_itpm.svg, ratio_histogram.svg, cumulative_cost.svg and
      bucket_levels.svg.
      """)

  /// Creates the folder and any missing parents.
  static func makeDirectory(_ path: String) throws {
    guard POSIXFiles.makeDirectories(path) else {
      throw CommandFailure(
        code: .cannotWrite, message: "cannot create directory '\(path)' (or it is not a directory)")
    }
  }

  /// Builds the chart files for a loaded input, staging each in `dir` as it
  /// is made (one file in memory at a time); nothing is in place until
  /// `staged` is committed. Returns the names written, in order.
  static func charts(
    _ o: ParsedOptions, _ input: Inputs.Loaded, svg: Bool, into dir: String, staged: POSIXFiles.StagedFiles,
    sessions: AnalysisResult? = nil
  ) async throws -> ([String], SimulationReport?) {
    try makeDirectory(dir)
    // Every name a run may write or remove: an input among them is refused
    // before anything is staged (and is never removed as a stale chart).
    try Common.refuseInputs(Charts.fileNames.map { dir + "/" + $0 }, input.files)
    let (recorded, untimed, points) = Charts.arrivalsAndPoints(input.priced)
    let limits = try Replay.limits(
      o, catalog: input.catalog, firstDay: recorded.first?.time.day, lastDay: recorded.last?.time.day,
      required: false)
    // With limits, each request sits in the bucket it is charged to.
    let arrivals = limits?.routed(recorded) ?? recorded
    var report: SimulationReport?
    var sim: (outcomes: [RegimeOutcome], samples: [BucketSample])?
    // The minutes are made once, for the charts and the replay's summary.
    let minutes = MinuteSeries.build(arrivals)
    if let limits {
      let run = Simulation.run(arrivals, limits: limits.lookup, rules: limits.rules, series: true)
      sim = (run.outcomes, run.samples)
      let ledger = input.ledger
      report = SimulationReport(
        outcomes: run.outcomes, minutes: minutes, unlimitedPools: run.unlimited,
        limitsLabel: limits.label, requestsWithoutTime: untimed, ledger: ledger,
        catalogVersion: input.catalog.version, catalogSHA256: input.catalog.sha256, rules: limits.rules,
        notes: limits.notes, limitsThirdParty: limits.thirdParty)
    }
    var names: [String] = []
    do {
      try await Charts.build(
        priced: input.priced, points: points, arrivals: arrivals, simulation: sim, limitsLabel: limits?.label,
        svg: svg, sessions: sessions, minutes: minutes
      ) { (name, parts) throws(FileError) in
        try staged.stage(parts: parts, at: dir + "/" + name)
        names.append(name)
      }
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    return (names, report)
  }

  /// Moves the staged files into place together; chart files of an earlier
  /// run that this run did not write are removed, so the folder never mixes
  /// two runs.
  static func commit(_ staged: POSIXFiles.StagedFiles, names: [String], in dir: String) throws {
    do {
      try staged.commit()
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    let written = Set(names)
    for name in Charts.fileNames where !written.contains(name) { unlink(dir + "/" + name) }
  }

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    guard let dir = o.value("out") else { throw UsageError("missing '--out <dir>'") }
    let input = try await Inputs.load(o)
    try Inputs.requireUsable(input.ledger.requests > 0, input, o, errors: &errors)
    let staged = POSIXFiles.StagedFiles()
    let (names, _) = try await charts(o, input, svg: o.flag("svg"), into: dir, staged: staged)
    try commit(staged, names: names, in: dir)
    for name in names { output.write("wrote \(dir)/\(name)\n") }
    let ledger = input.ledger
    return Inputs.finish(ledger, o, usable: ledger.requests > 0, errors: &errors)
  }
}

extension ReportCommand {
  /// The report's opening: the #18726 question answered in one paragraph.
  static func answer(_ t: Summary, _ simulation: SimulationReport?) -> String {
    var text =
      "**count_tokens overstated ITPM use \(t.overestimationRatio.map { $0.formatted(decimals: 2) + "x" } ?? "(undefined: no ITPM charge)")** over \(Fmt.count(t.requests, "request")): "
      + "\(Fmt.percent(t.excessShare)) of the \(Fmt.grouped(t.estimate)) prompt tokens it counts "
      + "(\(Fmt.grouped(t.overestimate))) did not count toward the ITPM limit."
    if let simulation {
      var byEstimate = 0
      var byCharge = 0
      var minutes = 0
      for pool in simulation.pools {
        guard let o = simulation.minutesOverLimit(pool) else { continue }
        byEstimate += o.byEstimate
        byCharge += o.byITPM
        minutes += o.minutes
      }
      if minutes > 0 {
        text +=
          " At \(Escape.markdown(simulation.limitsLabel)), count_tokens' estimate would have put "
          + "\(byEstimate) of \(Fmt.count(minutes, "busy minute")) over the limit, where the real charge was over in \(byCharge)."
      }
    }
    if t.priced > 0 {
      text +=
        " Caching cut the input bill from \(Fmt.money(t.inputCostEstimate)) (every prompt token at the input price) "
        + "to \(Fmt.money(t.inputCostActual))."
    }
    return text
  }
}

/// `tokengap report`: a Markdown notebook with tables, the ledger, the simulation and charts.
enum ReportCommand {
  static let spec = CommandSpec(
    name: "report",
    abstract: "Write a Markdown report with its charts beside it.",
    usage: "tokengap report [<path> ...] --out <file.md> [--tier <name>]",
    arguments: [Inputs.pathArgument],
    options: [
      OptionSpec(name: "out", value: "file", help: "The Markdown file; charts go to '<name>-charts/' beside it.")
    ] + Replay.limitOptions + Inputs.options)

  static func run(_ o: ParsedOptions, output: inout any TextSink, errors: inout any TextSink)
    async throws -> ExitCode
  {
    guard let out = o.value("out") else { throw UsageError("missing '--out <file.md>'") }
    let input = try await Inputs.load(o)
    try Inputs.requireUsable(input.ledger.requests > 0, input, o, errors: &errors)
    let base = out.hasSuffix(".md") ? String(out.dropLast(3)) : out
    let chartDir = base + "-charts"
    try Common.refuseInput(out, input.files)
    if let slash = out.lastIndex(of: "/"), slash != out.startIndex {
      try ChartCommand.makeDirectory(String(out[..<slash]))
    }
    let priced = input.priced
    // The day and model groupings (small: a row per day or model) and the
    // cache analysis are made beside the charts. The sessions are grouped
    // once: for their table, the charts' sessions.csv and the headline
    // (every grouping carries the same total).
    let total = priced.analysis(dimensions: [.session])
    async let days = priced.analysis(dimensions: [.day])
    async let models = priced.analysis(dimensions: [.model])
    async let cacheAnalysis = CacheAnalysis.run(input.priced)
    let staged = POSIXFiles.StagedFiles()
    var (names, simulation) = try await ChartCommand.charts(
      o, input, svg: true, into: chartDir, staged: staged, sessions: total)
    let (dayResult, modelResult) = (await days, await models)
    // The full tables beside the report; the report shows the top rows.
    do {
      for (name, result) in [("days.csv", dayResult), ("models.csv", modelResult)] {
        try staged.stage(AnalysisRenderer.csv(result), at: chartDir + "/" + name)
        names.append(name)
      }
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    let chartLink = String(chartDir.split(separator: "/").last ?? Substring(chartDir))
    let cache = await cacheAnalysis
    var md = "# tokengap report\n\n"
    md +=
      "Generated by tokengap \(ToolInfo.version) with catalog \(input.catalog.version) (sha256 `\(input.catalog.sha256)`) from \(Fmt.count(total.ledger.files, "file")).\n\n"
    md +=
      "Reproduce:\n\n```sh\ntokengap report \(o.positionals.joined(separator: " ")) --out \(out)"
      + (o.value("tier").map { " --tier \($0)" } ?? "") + "\n```\n\n"
    md +=
      "P is what count_tokens returns (input + cache writes + cache reads); I is what counts toward the ITPM rate limit.\n\n"
    md += "## The answer\n\n" + answer(total.total, simulation) + "\n\n"
    md += "## Charts\n\n"
    // Each chart with a caption saying how to read it; then the data behind
    // them, as a list set apart (an image right after a list item becomes
    // part of the item).
    let captions = [
      "estimate_vs_itpm.svg":
        "Per minute and rate-limit pool: red is what count_tokens would count against the ITPM limit, blue what counted; the dashed line is that pool's limit.",
      "ratio_histogram.svg":
        "How many requests overstated their ITPM charge, and by how much (P / I per request); the red line is the aggregate, which weighs requests by their tokens.",
      "cumulative_cost.svg":
        "Input cost over time: budgeted from count_tokens (red) against the cache-aware bill (blue).",
      "bucket_levels.svg":
        "The busiest pool's ITPM bucket under each pacing: where count_tokens pacing empties it, requests would have waited.",
    ]
    for name in names where name.hasSuffix(".svg") {
      md += "![\(name)](\(chartLink)/\(name))\n\n"
      if let caption = captions[name] { md += "*\(caption)*\n\n" }
    }
    md += "The data behind them, and the full tables:\n\n"
    for name in names where !name.hasSuffix(".svg") { md += "- [\(name)](\(chartLink)/\(name))\n" }
    md += "\n## Totals\n\n" + AnalysisRenderer.headlineMarkdown(total.total) + "\n"
    let top = 10
    md +=
      "## Sessions that cost the most\n\n" + AnalysisRenderer.topGroupsMarkdown(total, top: top, rest: "sessions.csv")
      + "\n"
    md +=
      "## Days that cost the most\n\n" + AnalysisRenderer.topGroupsMarkdown(dayResult, top: top, rest: "days.csv")
      + "\n"
    md += "## Models\n\n" + AnalysisRenderer.topGroupsMarkdown(modelResult, top: top, rest: "models.csv") + "\n"
    if let simulation {
      md +=
        "## Rate limits\n\n"
        + SimulationRenderer.render(simulation, format: .markdown)
        .replacing("# tokengap simulate\n\n", with: "").replacing("\n## Pool", with: "\n### Pool") + "\n"
    }
    md +=
      "## Cache\n\n"
      + CacheRenderer.headline(total: total.total, sessions: cache.sessions).map { "- " + $0 + "\n" }.joined() + "\n"
      + CacheRenderer.sessionsTable(cache.sessions, markdown: true, top: top) + "\n"
    md +=
      "## Ledger\n\n"
      + AnalysisRenderer.ledgerText(total.ledger).split(separator: "\n").map { "- " + Escape.markdown(String($0)) }
      .joined(separator: "\n") + "\n"
    do {
      try staged.stage(md, at: out)
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
    try ChartCommand.commit(staged, names: names, in: chartDir)
    output.write("wrote \(out) and \(Fmt.count(names.count, "file")) in \(chartDir)/\n")
    return Inputs.finish(total.ledger, o, usable: total.ledger.requests > 0, errors: &errors)
  }
}
