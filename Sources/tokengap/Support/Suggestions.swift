import EstimateModel

/// Near spellings of a mistyped name, for "did you mean" hints.
///
/// | given          | candidates                     | suggested       |
/// |----------------|--------------------------------|-----------------|
/// | `anlyze`       | subcommands                    | `analyze`       |
/// | `--fromat`     | the command's options          | `--format`      |
/// | `jsno`         | `table`, `json`, `csv`, `md`   | `json`          |
/// | `tier1`        | the catalog's tiers            | `tier-1`        |
enum Suggestions {
  /// The optimal string alignment distance: insertions, deletions,
  /// substitutions and swaps of two neighbours, each costing 1.
  static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased())
    let y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var previous2 = [Int](repeating: 0, count: y.count + 1)
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      current[0] = i
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
          d = min(d, previous2[j - 2] + 1)
        }
        current[j] = d
      }
      (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[y.count]
  }

  /// The candidates nearest to `text`, within 2 edits (1 for names of up
  /// to 4 characters), best first; ties keep the candidates' order.
  static func nearest(_ text: String, in candidates: [String]) -> [String] {
    let limit = text.count <= 4 ? 1 : 2
    let scored = candidates.enumerated().compactMap { (k, c) -> (Int, Int, String)? in
      let d = distance(text, c)
      // Distance 0 is a difference of case only, still worth a hint.
      return d <= limit && c != text ? (d, k, c) : nil
    }
    var seen = Set<String>()
    return scored.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2).filter { seen.insert($0).inserted }
  }

  /// `; did you mean 'x'?` for the nearest candidate, or an empty string.
  static func hint(_ text: String, _ candidates: [String], prefix: String = "") -> String {
    guard let best = nearest(text, in: candidates).first else { return "" }
    return "; did you mean '\(prefix)\(best)'?"
  }

  /// Models of the catalog a mistyped or shortened model name may mean:
  /// the closest spellings of an id or alias (dots read as dashes), else the
  /// current models whose id holds the text as whole words (`sonnet`,
  /// `opus-4`), newest first as the catalog lists them; at most five.
  static func models(_ text: String, in catalog: ModelCatalog) -> [String] {
    let given = text.lowercased().replacing(".", with: "-")
    let names = catalog.models.flatMap { [$0.id] + $0.aliases }
    let nearby = nearest(given, in: names)
    let best = nearby.first.map { distance(given, $0) }
    let close = nearby.filter { distance(given, $0) == best }
    if !close.isEmpty {
      // An alias suggests its model's id.
      let ids = close.compactMap { name in catalog.models.first { ([$0.id] + $0.aliases).contains(name) }?.id }
      var seen = Set<String>()
      return Array(ids.filter { seen.insert($0).inserted }.prefix(5))
    }
    let words = given.split(separator: "-").map(String.init)
    guard !words.isEmpty else { return [] }
    func holds(_ id: String) -> Bool {
      let parts = id.split(separator: "-").map(String.init)
      guard parts.count >= words.count else { return false }
      return (0...(parts.count - words.count)).contains { Array(parts[$0..<($0 + words.count)]) == words }
    }
    let matching = catalog.models.filter { holds($0.id) }
    let current = matching.filter { $0.status == "current" }
    return Array((current.isEmpty ? matching : current).map(\.id).prefix(5))
  }

  /// `; did you mean 'a'?` or `; did you mean one of 'a', 'b'?` for models.
  static func modelHint(_ text: String, in catalog: ModelCatalog) -> String {
    let found = models(text, in: catalog)
    switch found.count {
    case 0: return "; 'tokengap rules' lists the models"
    case 1: return "; did you mean '\(found[0])'?"
    default: return "; did you mean one of " + found.map { "'\($0)'" }.joined(separator: ", ") + "?"
    }
  }
}
