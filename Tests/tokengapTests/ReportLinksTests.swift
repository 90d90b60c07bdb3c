import Compare
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The destination of the link or image a report line holds whole
/// (`![text](dest)` or `- [text](dest)`), read the way CommonMark reads an
/// inline link, then percent-decoded the way a browser turns a relative URL
/// into a file path: the path's bytes. Nil where CommonMark reads no link.
///
/// Written apart from ``Escape/linkDestination(_:)``: it takes both of
/// CommonMark's forms, `<…>` (no line break, no unescaped `<` or `>`) and
/// bare (no space or control, parentheses balanced), each with backslash
/// escapes of ASCII punctuation and character references; an entity it does
/// not know gives nil.
private func linkTarget(_ line: String) -> [UInt8]? {
  let b = Array(line.utf8)
  var i: Int
  if line.hasPrefix("![") {
    i = 2
  } else if line.hasPrefix("- [") {
    i = 3
  } else {
    return nil
  }
  func isPunctuation(_ c: UInt8) -> Bool {
    (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c) || (0x5B...0x60).contains(c) || (0x7B...0x7E).contains(c)
  }
  // The text: up to the bracket that closes it.
  var depth = 0
  while true {
    guard i < b.count else { return nil }
    let c = b[i]
    if c == UInt8(ascii: "\\"), i + 1 < b.count, isPunctuation(b[i + 1]) {
      i += 2
      continue
    }
    i += 1
    if c == UInt8(ascii: "[") { depth += 1 }
    if c == UInt8(ascii: "]") {
      if depth == 0 { break }
      depth -= 1
    }
  }
  guard i < b.count, b[i] == UInt8(ascii: "(") else { return nil }
  i += 1
  while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
  var raw: [UInt8] = []
  if i < b.count, b[i] == UInt8(ascii: "<") {
    i += 1
    while true {
      guard i < b.count, b[i] != 0x0A, b[i] != UInt8(ascii: "<") else { return nil }
      let c = b[i]
      if c == UInt8(ascii: ">") {
        i += 1
        break
      }
      if c == UInt8(ascii: "\\"), i + 1 < b.count, isPunctuation(b[i + 1]) {
        raw.append(b[i + 1])
        i += 2
      } else {
        raw.append(c)
        i += 1
      }
    }
  } else {
    var parens = 0
    while i < b.count {
      let c = b[i]
      if c <= 0x20 || c == 0x7F { break }
      if c == UInt8(ascii: "\\"), i + 1 < b.count, isPunctuation(b[i + 1]) {
        raw.append(b[i + 1])
        i += 2
        continue
      }
      if c == UInt8(ascii: "(") { parens += 1 }
      if c == UInt8(ascii: ")") {
        if parens == 0 { break }
        parens -= 1
      }
      raw.append(c)
      i += 1
    }
    guard !raw.isEmpty, parens == 0 else { return nil }
  }
  while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
  // No title is written: the link ends here, and so does the line.
  guard i + 1 == b.count, b[i] == UInt8(ascii: ")") else { return nil }
  guard let referenced = characterReferences(raw) else { return nil }
  return percentDecoded(referenced)
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#NN;` and `&#xHH;` replaced by what
/// they stand for; nil for another `&name;`. A `&` that starts no reference
/// is kept.
private func characterReferences(_ b: [UInt8]) -> [UInt8]? {
  var out: [UInt8] = []
  var i = 0
  while i < b.count {
    guard b[i] == UInt8(ascii: "&"), let end = b[i...].firstIndex(of: UInt8(ascii: ";")), end > i + 1 else {
      out.append(b[i])
      i += 1
      continue
    }
    let name = String(decoding: b[(i + 1)..<end], as: UTF8.self)
    let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\""]
    var scalar: Unicode.Scalar?
    if let s = named[name] {
      scalar = s.unicodeScalars.first
    } else if name.hasPrefix("#x") || name.hasPrefix("#X") {
      scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
    } else if name.hasPrefix("#") {
      scalar = UInt32(name.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init)
    } else if name.allSatisfy({ $0.isLetter || $0.isNumber }) {
      return nil
    }
    guard let scalar else {
      out.append(b[i])
      i += 1
      continue
    }
    out += Array(String(scalar).utf8)
    i = end + 1
  }
  return out
}

/// Each `%XX` as the byte XX; anything else as it is.
private func percentDecoded(_ b: [UInt8]) -> [UInt8] {
  func hex(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x41...0x46: c - 0x41 + 10
    case 0x61...0x66: c - 0x61 + 10
    default: nil
    }
  }
  var out: [UInt8] = []
  var i = 0
  while i < b.count {
    if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let high = hex(b[i + 1]), let low = hex(b[i + 2]) {
      out.append(high << 4 | low)
      i += 3
    } else {
      out.append(b[i])
      i += 1
    }
  }
  return out
}

/// Whether the file at `folder` + `/` + `name` (its bytes) exists.
private func exists(in folder: String, _ name: [UInt8]) -> Bool {
  let path = (Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
  return access(path, F_OK) == 0
}

/// C0 and C1 controls, DEL and the bidi controls: what a terminal acts on.
private func isRawControl(_ u: Unicode.Scalar) -> Bool {
  let v = u.value
  return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    || v == 0x200E || v == 0x200F || v == 0x061C
}

private func read(_ path: String) -> String {
  String(decoding: (try? POSIXFiles.read(path)) ?? [], as: UTF8.self)
}

private let transcripts = root + "/datasets/claude-code/claude-code-viewer"

@Suite("report: links to the charts lead to them; paths in messages are escaped")
struct ReportLinksTests {
  @Test("'my report.md': the links, written by hand")
  func space() async throws {
    let dir = temporaryDirectory("links-space")
    let out = dir + "/my report.md"
    let r = await tokengap("report", transcripts, "--out", out, "-q")
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out == "wrote \(dir)/my report.md and 10 files in \(dir)/my report-charts/\n")
    let links = read(out).split(separator: "\n").filter { $0.contains("](") }
    #expect(
      links == [
        "![estimate_vs_itpm.svg](my%20report-charts/estimate_vs_itpm.svg)",
        "![ratio_histogram.svg](my%20report-charts/ratio_histogram.svg)",
        "![cumulative_cost.svg](my%20report-charts/cumulative_cost.svg)",
        "- [requests.csv](my%20report-charts/requests.csv)",
        "- [minutes.csv](my%20report-charts/minutes.csv)",
        "- [ratio_histogram.csv](my%20report-charts/ratio_histogram.csv)",
        "- [cumulative.csv](my%20report-charts/cumulative.csv)",
        "- [sessions.csv](my%20report-charts/sessions.csv)",
        "- [days.csv](my%20report-charts/days.csv)",
        "- [models.csv](my%20report-charts/models.csv)",
      ])
    for link in links { #expect(linkTarget(String(link)).map { exists(in: dir, $0) } == true, "\(link)") }
  }

  @Test("Past the ten groups a table shows, the line naming the rest links its CSV, and counts the CSV's other rows")
  func restLinked() async throws {
    let dir = temporaryDirectory("links-rest")
    let out = dir + "/my report.md"
    let r = await tokengap("report", root + "/datasets/claude-code", "--out", out, "-q")
    #expect(r.status == 0, "\(r.err)")
    let report = read(out)
    for name in ["sessions.csv", "days.csv"] {
      // The CSV's rows less its header and the ten the table shows.
      let rows = read(dir + "/my report-charts/" + name).split(separator: "\r\n").count - 1
      #expect(rows > 10, "\(name): more groups than the table shows")
      let line = "\(rows - 10) more row\(rows - 10 == 1 ? "" : "s") in [\(name)](my%20report-charts/\(name))."
      #expect(report.split(separator: "\n").contains(Substring(line)), "\(line)")
      // The link alone (without the full stop), read as a list item's.
      let link = "- " + line.drop { $0 != "[" }.dropLast()
      #expect(linkTarget(link).map { exists(in: dir, $0) } == true)
    }
  }

  @Test("Hostile folder and file names: every link resolves, no line is injected, the message holds no control")
  func hostile() async throws {
    let dir = temporaryDirectory("links-hostile")
    // A space, parentheses, brackets, a newline, a backtick, '<', '>',
    // non-ASCII, an escape sequence, a backslash, '&', '%', ':' and '#'.
    let folder = dir + "/a (b) [c] <d> `e` é\n# INJ folder\u{1B}[31m\u{202E}"
    let file = "my (rep) <x> `y` ü 日本\n# INJ heading\n- INJ item &amp; %41 \\ a:b #c\u{1B}]2;t\u{07}"
    let out = folder + "/" + file + ".md"
    let charts = folder + "/" + file + "-charts"
    let r = await tokengap("report", transcripts, "--out", out, "-q")
    #expect(r.status == 0, "\(r.err)")
    let written = try #require(POSIXFiles.list(charts)).sorted()
    #expect(written.count == 10)

    // Every file written is linked, and every link leads to a file.
    let md = read(out)
    let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var linked: [String] = []
    for line in lines {
      guard let target = linkTarget(line) else { continue }
      #expect(exists(in: folder, target), "\(line)")
      linked.append(String(decoding: target, as: UTF8.self))
    }
    #expect(linked.sorted() == written.map { file + "-charts/" + $0 }.sorted())

    // The names show only on the Reproduce line (shell-quoted) and in the
    // links (encoded): no line of their own.
    for line in lines where line.contains("INJ") {
      #expect(line.hasPrefix("tokengap report ") || linkTarget(line) != nil, "\(line)")
    }
    #expect(!lines.contains { $0.hasPrefix("# INJ") || $0.hasPrefix("- INJ") })
    #expect(!md.unicodeScalars.contains { isRawControl($0) && $0 != "\n" })

    // The message: one line, the paths escaped.
    #expect(r.out.hasSuffix("\n") && r.out.utf8.filter { $0 == 0x0A }.count == 1, "\(r.out)")
    #expect(!r.out.dropLast().unicodeScalars.contains(where: isRawControl), "\(r.out)")
    #expect(r.out == "wrote \(Escape.terminal(out)) and 10 files in \(Escape.terminal(charts))/\n")
  }

  @Test("chart's 'wrote' lines escape the folder: one line a file, no control")
  func chartMessages() async throws {
    let dir = temporaryDirectory("links-chart") + "/c\u{1B}[2J\n# INJ \u{202E}é"
    let r = await tokengap("chart", transcripts, "--out", dir, "--svg", "-q")
    #expect(r.status == 0, "\(r.err)")
    let lines = r.out.split(separator: "\n")
    #expect(lines.count == (POSIXFiles.list(dir)?.count ?? -1))
    for line in lines {
      #expect(line.hasPrefix("wrote \(Escape.terminal(dir))/"), "\(line)")
      #expect(!line.unicodeScalars.contains(where: isRawControl), "\(line)")
    }
  }
}

@Suite("report: the chart captions say what the charts draw")
struct ReportCaptionTests {
  /// The limit line is the only `stroke-dasharray="6 4"` line a chart draws.
  private static let limitLine = "stroke-dasharray=\"6 4\""

  @Test("Without --tier no limit line is drawn, and the caption and legend say so; with --tier all three are there")
  func limitLine() async throws {
    let dir = temporaryDirectory("caption-limit")
    for (name, tier) in [("plain", [String]()), ("tiered", ["--tier", "build"])] {
      let out = dir + "/\(name).md"
      let r = await tokengap(["report", transcripts, "--out", out, "-q"] + tier)
      #expect(r.status == 0, "\(r.err)")
      let report = read(out)
      let svg = read(dir + "/\(name)-charts/estimate_vs_itpm.svg")
      #expect(!svg.isEmpty)
      let drawn = svg.contains(Self.limitLine)
      #expect(drawn == !tier.isEmpty, "\(name): a limit line drawn: \(drawn)")
      #expect(report.contains("the dashed line is that pool's limit") == drawn, "\(name)")
      #expect(report.contains("no limits were given, so no limit line is drawn") == !drawn, "\(name)")
      // The legend keys the limit only when a line is drawn.
      #expect(svg.contains(">ITPM limit<") == drawn, "\(name): the legend")
    }
  }
}
