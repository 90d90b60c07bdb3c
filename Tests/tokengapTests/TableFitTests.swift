import Compare
import EstimateModel
import Testing

@testable import tokengap

/// Runs tokengap with standard output on a terminal `columns` wide.
func tokengap(columns: Int, _ args: String...) async -> (status: Int32, out: String, err: String) {
  await tokengap(columns: columns, args)
}

func tokengap(columns: Int, _ args: [String]) async -> (status: Int32, out: String, err: String) {
  var out: any TextSink = BufferSink(columns: columns)
  var err: any TextSink = BufferSink()
  let status = await Tokengap.run(args, zone: .utc, output: &out, errors: &err)
  return (status, (out as? BufferSink)?.text ?? "", (err as? BufferSink)?.text ?? "")
}

@Suite("Tables that fit")
struct TableFitTests {
  @Test("The default table fits 80, 100 and 120 columns, for every grouping", arguments: [80, 100, 120])
  func fits(_ width: Int) async {
    for by in ["session", "request", "day,model", "project", "model", "hour", "week", "month"] {
      let r = await tokengap(columns: width, "analyze", root + "/datasets", "--by", by, "-q", "--at", "2026-11-01")
      #expect(r.status == 0)
      let lines = r.out.split(separator: "\n").map(String.init)
      let over = lines.filter { $0.count > width }
      #expect(over.isEmpty, "--by \(by) at \(width): \(over.first ?? "")")
    }
  }

  @Test("Any width ends, however narrow; the question's own columns stay")
  func narrow() async {
    for width in [1, 20, 40, 60] {
      let r = await tokengap(columns: width, "analyze", root + "/datasets/claude-code", "--by", "request", "-q")
      #expect(r.status == 0)
      #expect(r.out.contains("P/I") && r.out.contains("columns hidden"))
    }
  }

  @Test("Compact cells and a totals row, worked from SOURCES.md's sums")
  func compact() async {
    // claude-code-viewer: P = 4,274,793, I = 199,461 (SOURCES.md), 197
    // requests: 4.27M, 199K, P/I 21.43 -> 21.4x; uncached $12.82, billed $1.97;
    // output 953 + 3,629 + 51,933 = 56,515 x $15/M = $0.85, so $2.82 in all.
    let r = await tokengap(columns: 150, "analyze", root + "/datasets/claude-code/claude-code-viewer", "-q")
    let total = r.out.split(separator: "\n").first { $0.hasPrefix("total ") }.map(String.init) ?? ""
    let cells = total.split(separator: " ").map(String.init)
    #expect(cells == ["total", "197", "4.27M", "199K", "21.4x", "95.3%", "$12.82", "$1.97", "$2.82"], "\(total)")
    // The project as its lines' cwd names it (its folder is sample-project).
    #expect(r.out.contains("fe5e1c67-53e7-4862-81ae-d0e013e3270b  /path/to/Demo"), "whole ids when they fit")
  }

  @Test("--wide is every column at full precision; --columns chooses; a wrong name is a usage error")
  func choices() async {
    let wide = await tokengap(columns: 80, "analyze", root + "/datasets/claude-code/claude-code-viewer", "--wide", "-q")
    #expect(wide.out.contains("hit rate") && wide.out.contains("27.282505"), "fe5e1c67's ratio in full")
    let chosen = await tokengap(
      columns: 80, "analyze", root + "/datasets/claude-code/claude-code-viewer", "--by", "model", "--columns",
      "cache_hit_rate,ratio_p90", "-q")
    #expect(chosen.out.contains("model       hit rate  p90 P/I\n"), "\(chosen.out)")
    let typo = await tokengap("analyze", root + "/datasets/claude-code", "--columns", "cache_hit_rat")
    #expect(typo.status == 64 && typo.err.contains("cache_hit_rate"))
  }

  @Test(
    "Token counts read as K, M, B with three digits",
    arguments: [
      (Int64(0), "0"), (534, "534"), (999, "999"), (1_000, "1.00K"), (12_791, "12.8K"), (375_605, "376K"),
      (999_499, "999K"), (999_500, "1.00M"), (29_275_350, "29.3M"), (5_268_998_572, "5.27B"), (-1_500, "-1.50K"),
    ])
  func tokens(_ n: Int64, _ text: String) {
    #expect(Fmt.tokens(n) == text)
  }
}

@Suite("Help that fits")
struct HelpFitTests {
  @Test("On a terminal, help wraps to its width, descriptions under their column", arguments: [80, 100])
  func wraps(_ width: Int) async {
    for name in Tokengap.commands.map(\.name) {
      let r = await tokengap(columns: width, "help", name)
      #expect(r.status == 0)
      let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
      // Only a single word longer than the room may overrun.
      let over = lines.filter { $0.count > width && $0.split(separator: " ").count > 1 }
      #expect(over.isEmpty, "\(name) at \(width): \(over.first.map(String.init) ?? "")")
      // Nothing is lost: the same words in the same order as the unwrapped help.
      let plain = await tokengap("help", name)
      #expect(r.out.split(whereSeparator: \.isWhitespace) == plain.out.split(whereSeparator: \.isWhitespace))
    }
  }

  @Test("Without a terminal (a pipe, a file, a test), help is as written")
  func unwrapped() {
    let text = "  --x <n>                 " + String(repeating: "word ", count: 40) + "\n"
    #expect(HelpLayout.wrap(text, width: nil) == text)
    let wrapped = HelpLayout.wrap(text, width: 60)
    #expect(wrapped.split(separator: "\n").allSatisfy { $0.count <= 60 })
    #expect(
      wrapped.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix(String(repeating: " ", count: 26) + "word") }
    )
  }
}

/// The compact tables of `cache`, `pairs`, `rules` and `simulate`, at three
/// widths, on the shipped data.
enum FittedCommands {
  static let widths = [80, 100, 120]

  /// The command lines, by the name their snapshots carry.
  static let commands: [(name: String, args: [String])] = [
    ("cache", ["cache", root + "/datasets", "-q", "--timezone", "UTC"]),
    ("cache-requests", ["cache", root + "/datasets", "--by", "request", "-q", "--timezone", "UTC"]),
    ("pairs", ["pairs", root + "/datasets", "-q", "--timezone", "UTC"]),
    // Four tiers, a long-context bucket and a table carried forward.
    ("rules", ["rules", "--at", "2026-03-01"]),
    ("simulate", ["simulate", root + "/datasets", "--tier", "tier-1", "-q", "--timezone", "UTC"]),
  ]
}

@Suite("Fitted tables")
struct FittedTableTests {
  @Test("cache, pairs, rules and simulate fit 80, 100 and 120 columns", arguments: FittedCommands.widths)
  func fits(_ width: Int) async {
    for (name, args) in FittedCommands.commands {
      let r = await tokengap(columns: width, args)
      #expect(r.status == 0, "\(name): \(r.err)")
      let over: [String] = r.out.split(separator: "\n").map(String.init).filter { $0.count > width }
      #expect(over.isEmpty, "\(name) at \(width): \(over.first ?? "")")
    }
  }

  @Test("Without a terminal a table fits 100 columns; --wide is every column in full")
  func wide() async {
    let plain = await tokengap("cache", root + "/datasets", "-q")
    #expect(plain.out.split(separator: "\n").allSatisfy { $0.count <= 100 })
    #expect(plain.out.contains("\ntotal ") && plain.out.contains("3.06M") && plain.out.contains("hidden to fit 100"))
    let wide = await tokengap(columns: 80, "cache", root + "/datasets", "--wide", "-q")
    #expect(wide.out.contains("1h paid off") && wide.out.contains("3,064,814"))
    #expect(wide.out.contains("198393f2-22db-477b-ac77-1825bea883ae"), "whole session ids")
    let requests = await tokengap(columns: 80, "cache", root + "/datasets", "--by", "request", "--wide", "-q")
    #expect(
      requests.out.contains("2025-06-14T10:00:30.000Z  test_session") && requests.out.contains("never_read_tokens"))
    let pairs = await tokengap(columns: 80, "pairs", root + "/datasets", "--wide", "-q")
    #expect(pairs.out.contains("2026-01-01T00:00:01.000Z  claude-sonnet-4-5  msg_013iycMuM1HroKAxYATQzxwG      1114"))
    let rules = await tokengap(columns: 80, "rules", "--at", "2026-03-01", "--wide")
    #expect(rules.out.contains("ITPM counts reads") && rules.out.contains("4,000 / 2,000,000 / 400,000"))
    let simulate = await tokengap(columns: 80, "simulate", root + "/datasets", "--tier", "tier-1", "--wide", "-q")
    #expect(simulate.out.contains("p90 wait") && simulate.out.contains("(the least a client could have asked for, so"))
  }
}

extension FittedTableTests {
  @Test("Ids are cut no shorter than tells them apart, up to 16 characters")
  func distinct() async {
    let r = await tokengap(columns: 80, "cache", root + "/datasets/claude-code", "-q")
    #expect(r.out.contains("\nsession-a…  ") && r.out.contains("\nsession-b…  "), "\(r.out)")
    #expect(FittedTable.distinctWidth(["abcdefghij1xyz", "abcdefghij2xyz"], least: 8, most: 16) == 12)
    #expect(
      FittedTable.distinctWidth(
        ["a" + String(repeating: "x", count: 20) + "1", "a" + String(repeating: "x", count: 20) + "2"], least: 8,
        most: 16) == 8)
  }
}

@Suite("Fitted table snapshots")
struct FittedTableSnapshotTests {
  @Test("Each fitted table matches its reviewed snapshot at 80, 100 and 120 columns", arguments: FittedCommands.widths)
  func snapshot(_ width: Int) async throws {
    for (name, args) in FittedCommands.commands {
      let r = await tokengap(columns: width, args)
      let path = root + "/Tests/tokengapTests/Snapshots/table-\(name)-\(width).txt"
      if POSIXFiles.environment("RECORD_SNAPSHOTS") == "1" {
        try POSIXFiles.writeAtomically(Array(r.out.utf8), to: path)
        Issue.record("recorded \(path)")
        continue
      }
      #expect(r.out == String(decoding: try POSIXFiles.read(path), as: UTF8.self), "\(name) at \(width)")
    }
  }
}

@Suite("The ledger on a terminal")
struct LedgerWrapTests {
  private func run(errorColumns: Int?) async -> String {
    var out: any TextSink = BufferSink()
    var err: any TextSink = BufferSink(columns: errorColumns)
    _ = await Tokengap.run(
      ["analyze", root + "/datasets", "--at", "2026-11-01"], zone: .utc, output: &out, errors: &err)
    return (err as? BufferSink)?.text ?? ""
  }

  @Test("At 80 and 120 columns ledger lines break at spaces, their rest indented; elsewhere they stay whole")
  func wraps() async {
    let whole = await run(errorColumns: nil)
    let ledger = whole.split(separator: "\n").filter { $0.hasPrefix("ledger: ") }
    #expect(ledger.count > 5)
    #expect(ledger.contains { $0.count > 120 }, "a line long enough to wrap")
    let indent = String(repeating: " ", count: 8)
    for width in [80, 120] {
      let wrapped = await run(errorColumns: width)
      let lines = wrapped.split(separator: "\n", omittingEmptySubsequences: false)
      // Every line fits unless one word alone is wider.
      for line in lines where line.count > width {
        #expect(!line.dropFirst(indent.count).contains(" "), "\(width): \(line)")
      }
      // Joined again (a continuation line is its words after one space),
      // the lines are the whole ones.
      var joined: [String] = []
      for line in lines {
        if line.hasPrefix(indent), let last = joined.popLast() {
          joined.append(last + " " + line.dropFirst(indent.count))
        } else {
          joined.append(String(line))
        }
      }
      #expect(joined.joined(separator: "\n") == whole, "\(width)")
      #expect(lines.count > joined.count, "\(width): some line was wrapped")
    }
  }
}
