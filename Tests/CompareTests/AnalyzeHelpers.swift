import Compare
import EstimateModel

let testCatalog = CatalogLoader.embedded()
let pricingDay = CivilDay("2026-11-01")!

/// Runs the library end to end, as `tokengap analyze` does.
func analyze(
  _ paths: [String], by: [Dimension] = [.total], jobs: Int = 2, since: Instant? = nil,
  until: Instant? = nil, model: String? = nil, timeZone: TimeZoneRule = .utc
) async -> AnalysisResult {
  let found = Discovery.find(paths, modifiedSince: nil)
  let options = IngestOptions(since: since, until: until, modelFilter: model, catalog: testCatalog)
  let analyzer = await ParallelIngest.run(found.files, options: options, jobs: jobs)
  return analyzer.finish(dimensions: by, catalog: testCatalog, timeZone: timeZone, pricingDay: pricingDay)
}

/// The priced table of files given as (name, text), each read as a file of
/// that name, under `accounting` when given.
func pricedTable(_ files: [(String, String)], accounting: Accounting? = nil) -> PricedTable {
  var analyzer = Analyzer()
  for (name, text) in files {
    var ingest = FileIngest(options: IngestOptions(catalog: testCatalog))
    analyzer.add(ingest.ingest(bytes: Array(text.utf8), name: name))
  }
  return analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay, accounting: accounting))
}

/// The requests of a run after de-duplication.
func requests(_ paths: [String]) async -> [PricedRequest] {
  let found = Discovery.find(paths)
  let analyzer = await ParallelIngest.run(
    found.files, options: IngestOptions(catalog: testCatalog), jobs: 1)
  return analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay)).ordered()
}

func layout(_ name: String) -> String { fixture("layouts/" + name) }

func dataset(_ name: String) -> String { repositoryRoot + "/datasets/" + name }

/// The ledger identity: every line lands in exactly one bucket.
func linesAccountedFor(_ l: Ledger) -> Bool {
  l.lines == l.blankLines + l.malformedLines + l.nonUsageLines + l.usageLines
    + l.skippedSynthetic + l.skippedAPIError + l.filteredLines
}

/// Usage records become requests, collapsed copies or dropped replays.
func recordsAccountedFor(_ l: Ledger) -> Bool {
  l.usageRecords == l.requests + l.duplicatesCollapsed + l.sidechainReplaysDropped
}
