public import EstimateModel

/// A way to group requests; several combine (`--by day,model`).
public enum Dimension: String, CaseIterable, Sendable {
  case request, session, project, day, hour, minute, model, total

  /// The key columns this dimension contributes, in CSV order.
  public var columns: [String] {
    switch self {
    case .request: ["time", "session", "project", "model", "message_id", "request_id"]
    case .session: ["session", "project"]
    case .project: ["project"]
    case .day: ["day"]
    case .hour: ["hour"]
    case .minute: ["minute"]
    case .model: ["model"]
    case .total: []
    }
  }
}

/// The measured columns of every group, in CSV order: a public interface.
public let summaryColumns = [
  "requests", "input_tokens", "cache_creation_5m_tokens", "cache_creation_1h_tokens",
  "cache_creation_unknown_ttl_tokens", "cache_read_tokens", "output_tokens", "estimate_tokens",
  "itpm_tokens", "overestimate_tokens", "overestimation_ratio", "excess_share", "cache_hit_rate",
  "ratio_p50", "ratio_p90", "ratio_p99", "ratio_max", "input_cost_estimate_usd",
  "input_cost_actual_usd", "output_cost_usd", "cost_actual_usd", "input_cost_ratio",
  "lower_bound", "unpriced_requests",
]

/// One group: its key values and its summary.
public struct GroupRow: Sendable {
  public var keys: [String]
  public var summary: Summary
}

/// Everything `analyze` reports.
public struct AnalysisResult: Sendable {
  public var dimensions: [Dimension]
  public var keyColumns: [String]
  public var rows: [GroupRow]
  public var total: Summary
  public var ledger: Ledger
  public var catalogVersion: String
  public var catalogSHA256: String
  public var timeZone: String
  public var accounting: String
}

/// Collects file partials and turns them into grouped summaries.
public struct Analyzer: Sendable {
  public private(set) var partial = FilePartial()

  public init() {}

  /// Folds one file's partial in; order does not matter.
  public mutating func add(_ p: FilePartial) { partial.merge(p) }

  /// The de-duplicated requests, replays dropped, in a stable order.
  public func requests(ledger: inout Ledger) -> [Request] {
    let all = partial.requests.values
    var mainIDs = Set<String>()
    for r in all where !r.sidechain { if let id = r.record.messageID { mainIDs.insert(id) } }
    var kept: [Request] = []
    kept.reserveCapacity(all.count)
    for r in all {
      if r.sidechain, let id = r.record.messageID, mainIDs.contains(id) {
        ledger.sidechainReplaysDropped += 1
        continue
      }
      kept.append(r)
    }
    kept.sort { Request.precedes($0.record, $1.record) || (!Request.precedes($1.record, $0.record) && $0.record.key < $1.record.key) }
    return kept
  }

  /// Groups, prices and sums the requests.
  ///
  /// - Parameters:
  ///   - dimensions: The grouping, such as `[.day, .model]`.
  ///   - catalog: Prices and rules.
  ///   - timeZone: For day, hour and minute keys.
  ///   - pricingDay: The day used to price records that carry no time.
  public func finish(
    dimensions: [Dimension], catalog: ModelCatalog, timeZone: TimeZoneRule = .utc,
    pricingDay: CivilDay, accounting: Accounting = .anthropic
  ) -> AnalysisResult {
    var ledger = partial.ledger
    let requests = requests(ledger: &ledger)
    ledger.duplicatesCollapsed = ledger.usageRecords - partial.requests.count
    var groups: [[String]: Summary] = [:]
    var total = Summary()
    var resolved: [String: ResolvedModel] = [:]
    for r in requests {
      let model: ResolvedModel
      if let m = resolved[r.record.model] {
        model = m
      } else {
        model = catalog.resolve(r.record.model)
        resolved[r.record.model] = model
      }
      let day = r.record.time?.day ?? pricingDay
      let gap: Gap
      do {
        gap = try Gap(
          usage: r.usage, model: model, day: day, options: r.options, catalog: catalog,
          accounting: accounting)
      } catch {
        ledger.problem(r.record.file, r.record.line, "\(error)")
        continue
      }
      ledger.requests += 1
      if !r.stopReason { ledger.unfinishedStreaming += 1 }
      if gap.lowerBound { ledger.unknownTTLRequests += 1 }
      if gap.unpriced != nil {
        ledger.unpricedRequests += 1
        let label = gap.unpriced == .unknownModel ? model.id : "\(model.id) (\(gap.unpriced?.rawValue ?? ""))"
        ledger.unpricedModels[label, default: 0] += 1
      }
      let key = dimensions.flatMap { keys($0, r, model.id, timeZone) }
      groups[key, default: Summary()].add(gap, measured: r.record.measuredCountTokens)
      total.add(gap, measured: r.record.measuredCountTokens)
    }
    let rows = groups.map { GroupRow(keys: $0.key, summary: $0.value) }.sorted {
      $0.keys.lexicographicallyPrecedes($1.keys)
    }
    return AnalysisResult(
      dimensions: dimensions, keyColumns: dimensions.flatMap(\.columns), rows: rows, total: total,
      ledger: ledger, catalogVersion: catalog.version, catalogSHA256: catalog.sha256,
      timeZone: timeZone.name, accounting: accounting.rawValue)
  }

  private func keys(_ d: Dimension, _ r: Request, _ model: String, _ tz: TimeZoneRule) -> [String] {
    let rec = r.record
    switch d {
    case .request:
      return [
        rec.time.map { LocalTime.format($0, tz, .millisecond) } ?? "", rec.session, rec.project,
        model, rec.messageID ?? "", rec.requestID ?? "",
      ]
    case .session: return [rec.session, rec.project]
    case .project: return [rec.project]
    case .day: return [rec.time.map { LocalTime.format($0, tz, .day) } ?? ""]
    case .hour: return [rec.time.map { LocalTime.format($0, tz, .hour) } ?? ""]
    case .minute: return [rec.time.map { LocalTime.format($0, tz, .minute) } ?? ""]
    case .model: return [model]
    case .total: return []
    }
  }
}

/// ISO 8601 spellings of instants in a zone.
public enum LocalTime {
  public enum Precision: Sendable { case day, hour, minute, millisecond }

  /// `2025-09-03`, `2025-09-03T00:00Z`, `2025-09-03T00:47Z`,
  /// `2025-09-03T00:47:19.293Z`; outside UTC the offset replaces `Z`.
  public static func format(_ instant: Instant, _ tz: TimeZoneRule, _ precision: Precision) -> String {
    let offset = tz.offset(at: instant)
    let local = Instant(millisecondsSinceEpoch: instant.millisecondsSinceEpoch + offset * 1000)
    let text = local.description  // YYYY-MM-DDTHH:MM:SS.mmmZ
    let zone: String
    if tz.name == "UTC" {
      zone = "Z"
    } else {
      let m = abs(offset) / 60
      zone = (offset < 0 ? "-" : "+") + two(m / 60) + ":" + two(m % 60)
    }
    switch precision {
    case .day: return String(text.prefix(10))
    case .hour: return String(text.prefix(13)) + ":00" + zone
    case .minute: return String(text.prefix(16)) + zone
    case .millisecond: return String(text.prefix(23)) + zone
    }
  }

  private static func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
