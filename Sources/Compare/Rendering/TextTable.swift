/// Aligns rows of cells into columns for a terminal or Markdown.
package struct TextTable {
  package var header: [String]
  package var rows: [[String]] = []
  /// Columns aligned right (numbers); the rest align left.
  package var rightAligned: Set<Int>

  package init(header: [String], rightAligned: Set<Int> = []) {
    self.header = header
    self.rightAligned = rightAligned
  }

  package mutating func append(_ row: [String]) { rows.append(row) }

  /// Plain text, two spaces between columns, a rule under the header.
  package func plain() -> String {
    let rows = shownRows
    let widths = columnWidths(rows)
    var out = line(header, widths) + "\n"
    out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
    for row in rows { out += line(row, widths) + "\n" }
    return out
  }

  /// The cells as shown: escaped and cut to a bounded width.
  private var shownRows: [[String]] { rows.map { $0.map { Escape.cell($0) } } }

  /// A GitHub-flavoured Markdown table, cells escaped and neutralized (a
  /// lone `-`, the placeholder for an empty key, is no formula).
  package func markdown() -> String {
    func esc(_ s: String) -> String {
      var v = Escape.markdown(s)
      if let first = v.utf8.first,
        [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@")].contains(first),
        !CSVWriter.isNumber(v), v != "-"
      {
        v = "'" + v
      }
      return v
    }
    var out = "| " + header.map(esc).joined(separator: " | ") + " |\n|"
    for i in header.indices { out += rightAligned.contains(i) ? "---:|" : "---|" }
    out += "\n"
    for row in rows { out += "| " + row.map(esc).joined(separator: " | ") + " |\n" }
    return out
  }

  private func columnWidths(_ rows: [[String]]) -> [Int] {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count {
        widths[i] = max(widths[i], cell.count)
      }
    }
    return widths
  }

  private func line(_ cells: [String], _ widths: [Int]) -> String {
    var parts: [String] = []
    for (i, width) in widths.enumerated() {
      let cell = i < cells.count ? cells[i] : ""
      let padding = String(repeating: " ", count: max(0, width - cell.count))
      parts.append(rightAligned.contains(i) ? padding + cell : cell + padding)
    }
    var text = parts.joined(separator: "  ")
    while text.last == " " { text.removeLast() }
    return text
  }
}
