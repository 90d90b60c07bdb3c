public import EstimateModel

/// An organisation's own limits, as the Rate Limits API lists them
/// (`GET /v1/organizations/rate_limits`, source RL-API-2026).
///
/// The response is `{"data": [entry, …], "next_page": …}`; each entry has
/// an `id`, a `group_type` (or `group.type`), `models` (every model id and
/// alias of a `model_group`, null otherwise) and `limits`, a list of
/// `{"type": …, "value": …}`. Only `model_group` entries are read:
///
/// | limiter type | becomes |
/// |---|---|
/// | `requests_per_minute` | RPM |
/// | `input_tokens_per_minute` | ITPM |
/// | `output_tokens_per_minute` | OTPM |
///
/// The docs name the first two as examples; the third is taken by symmetry.
/// Several pages may be given one per line, or as a JSON array of pages.
public struct OrganizationLimits: Sendable {
  /// One `model_group` entry: a bucket shared by its models.
  public struct Group: Sendable {
    public var id: String
    public var models: [String]
    public var limits: RateLimits
  }

  public var groups: [Group]

  /// Reads a response (or several pages of one).
  public static func parse(_ bytes: [UInt8]) throws(OrganizationLimitsError) -> OrganizationLimits {
    var pages: [JSONValue] = []
    if let whole = try? JSONParser.parse(bytes) {
      pages = whole.array ?? [whole]
    } else {
      var number = 0
      for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        number += 1
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
        do {
          pages.append(try JSONParser.parse(Array(line)))
        } catch {
          throw .notJSON(line: number, reason: "\(error)")
        }
      }
    }
    var groups: [Group] = []
    for page in pages {
      guard let entries = page["data"]?.array else { throw .shape("a page without a 'data' list") }
      for entry in entries {
        let type = entry["group_type"]?.string ?? entry["group"]?["type"]?.string
        guard type == "model_group" else { continue }
        let id = entry["id"]?.string ?? "model_group \(groups.count + 1)"
        var values: [String: Int64] = [:]
        for limit in entry["limits"]?.array ?? [] {
          if let name = limit["type"]?.string, let value = limit["value"]?.int64 { values[name] = value }
        }
        func value(_ name: String) throws(OrganizationLimitsError) -> Int64 {
          guard let v = values[name], v > 0 else {
            throw .missingLimit(group: id, type: name, present: values.keys.sorted())
          }
          return v
        }
        let limits = RateLimits(
          requestsPerMinute: try value("requests_per_minute"),
          inputTokensPerMinute: try value("input_tokens_per_minute"),
          outputTokensPerMinute: try value("output_tokens_per_minute"))
        groups.append(Group(id: id, models: (entry["models"]?.array ?? []).compactMap(\.string), limits: limits))
      }
    }
    guard !groups.isEmpty else { throw .shape("no 'model_group' entry") }
    return OrganizationLimits(groups: groups)
  }

  /// The group listing any of the names (a model's id and aliases).
  public func group(for names: [String]) -> Group? {
    groups.first { g in names.contains { g.models.contains($0) } }
  }
}

/// Why a limits file could not be read.
public enum OrganizationLimitsError: Error, Equatable, Sendable, CustomStringConvertible {
  case notJSON(line: Int, reason: String)
  case shape(String)
  case missingLimit(group: String, type: String, present: [String])

  public var description: String {
    switch self {
    case .notJSON(let line, let reason): "line \(line) is not JSON: \(reason)"
    case .shape(let what): "not a rate_limits response: \(what)"
    case .missingLimit(let group, let type, let present):
      "model group '\(group)' has no '\(type)' limit above 0"
        + (present.isEmpty ? "" : " (it lists: \(present.joined(separator: ", ")))")
    }
  }
}
