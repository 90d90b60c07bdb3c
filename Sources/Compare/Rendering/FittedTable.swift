/// A terminal table fitted to a width, the way `analyze`'s is: text
/// columns are cut first (widest first, each to its own minimum), then
/// columns go, in a given order, then from the right.
///
/// Cells are given as shown (escaped for the terminal); the caller adds
/// whatever follows the table (how many rows or columns were left out).
package struct FittedTable {
  struct Column {
    var id: String
    var header: String
    var right: Bool
    /// The least a text column is cut to (never below its header); nil
    /// for a column that is never cut.
    var minimum: Int? = nil
    /// Whether a cut keeps the end (a path) rather than the start (an id).
    var keepEnd: Bool = false
  }

  var columns: [Column]
  var rows: [[String]]
  /// The totals row, printed under a rule; nil for none.
  var total: [String]?
  /// Whether the totals row is printed (it is measured either way).
  var totalShown = true

  /// How many columns `lines(width:dropFirst:mayDrop:)` left out.
  private(set) var hidden = 0

  init(columns: [Column], rows: [[String]], total: [String]? = nil) {
    self.columns = columns
    self.rows = rows
    self.total = total
  }

  /// The header, a rule, the rows and the totals row, fitted to `width`:
  /// cut columns first; then, when `mayDrop`, the columns named by
  /// `dropFirst` go (in that order), then the rightmost that `keep` spares.
  mutating func lines(width: Int, dropFirst: [String] = [], mayDrop: Bool = true, keep: Set<String> = []) -> String {
    func widths() -> [Int] {
      columns.indices.map { c in
        max(columns[c].header.count, rows.map { $0[c].count }.max() ?? 0, total?[c].count ?? 0)
      }
    }
    func span(_ w: [Int]) -> Int { w.reduce(0, +) + 2 * max(0, w.count - 1) }
    var w = widths()
    let cuttable = columns.indices.filter { columns[$0].minimum != nil }
    // A column is never cut below its header, and each pass narrows one
    // column or stops: the loop ends whatever the cells hold.
    func floor(_ c: Int) -> Int {
      max(columns[c].minimum ?? 8, columns[c].header.count, total?[c].count ?? 0)
    }
    while span(w) > width,
      let c = cuttable.filter({ w[$0] > floor($0) }).max(by: { w[$0] - floor($0) < w[$1] - floor($1) })
    {
      let limit = max(floor(c), w[c] - (span(w) - width))
      for k in rows.indices { rows[k][c] = FittedTable.cut(rows[k][c], limit, keepEnd: columns[c].keepEnd) }
      let before = w[c]
      w = widths()
      if w[c] >= before { break }
    }
    // Still too wide: columns go, never those kept.
    func next() -> Int? {
      let ids = columns.map(\.id)
      for id in dropFirst { if let c = ids.firstIndex(of: id) { return c } }
      return ids.indices.last { !keep.contains(ids[$0]) }
    }
    while span(w) > width, mayDrop, let c = next() {
      columns.remove(at: c)
      for k in rows.indices { rows[k].remove(at: c) }
      total?.remove(at: c)
      hidden += 1
      w = widths()
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (c, cell) in cells.enumerated() {
        let pad = String(repeating: " ", count: max(0, w[c] - cell.count))
        parts.append(columns[c].right ? pad + cell : cell + pad)
      }
      var text = parts.joined(separator: "  ")
      while text.last == " " { text.removeLast() }
      return text + "\n"
    }
    let rule = w.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
    var out = line(columns.map(\.header)) + rule
    for row in rows { out += line(row) }
    if let total, totalShown { out += rule + line(total) }
    return out
  }

  /// The note under a table that left columns out.
  func hiddenNote(width: Int) -> String {
    hidden > 0 ? "(\(Fmt.count(hidden, "column")) hidden to fit \(width) columns; --wide shows every column)\n" : ""
  }

  /// The least width, from `least` up to `most`, at which the cells cut to
  /// their start still tell each other apart: the minimum for an id column
  /// whose ids share a longer start. `least` when none up to `most` does
  /// (a wider cut that still confuses some would only cost columns).
  package static func distinctWidth(_ cells: [String], least: Int, most: Int) -> Int {
    guard least < most else { return least }
    for limit in least...most {
      var seen = Set<String>()
      var distinct = true
      for cell in Set(cells) where !seen.insert(cut(cell, limit, keepEnd: false)).inserted {
        distinct = false
        break
      }
      if distinct { return limit }
    }
    return least
  }

  /// A cell cut to `limit` characters with an ellipsis, keeping its start
  /// or its end.
  static func cut(_ text: String, _ limit: Int, keepEnd: Bool) -> String {
    guard text.count > limit, limit >= 2 else { return text }
    return keepEnd ? "…" + String(text.suffix(limit - 1)) : String(text.prefix(limit - 1)) + "…"
  }

  /// Text wrapped at spaces to `width` columns; lines after the first of a
  /// paragraph start with `indent`. A word longer than the room stays whole,
  /// and so does a number with its unit of time (`3 h`, `55.1 s`).
  package static func wrap(_ text: String, width: Int, indent: String = "") -> String {
    var out = ""
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
      // The paragraph's own leading spaces are kept, and continue its lines.
      let lead = String(paragraph.prefix { $0 == " " })
      let hanging = lead + indent
      var line = lead
      var empty = true
      for word in unbroken(paragraph.dropFirst(lead.count).split(separator: " ")) {
        if !empty, line.count + 1 + word.count > width {
          out += line + "\n"
          line = hanging + word
        } else {
          line += (empty ? "" : " ") + word
        }
        empty = false
      }
      out += line + "\n"
    }
    out.removeLast()
    return out
  }

  /// Words, with a number and the unit of time after it joined as one.
  private static func unbroken(_ words: [Substring]) -> [String] {
    let units: Set<Substring> = ["ms", "s", "min", "h", "d"]
    var out: [String] = []
    var k = 0
    while k < words.count {
      let word = words[k]
      if k + 1 < words.count, units.contains(words[k + 1]), word.first?.isNumber == true,
        word.allSatisfy({ $0.isNumber || $0 == "." || $0 == "," })
      {
        out.append(word + " " + words[k + 1])
        k += 2
      } else {
        out.append(String(word))
        k += 1
      }
    }
    return out
  }
}
