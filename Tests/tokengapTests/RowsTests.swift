import Compare
import EstimateModel
import Testing

@testable import tokengap

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A JSON report without its ledger: the one part that legitimately differs
/// between a run over rows and a run over the data they came from (files,
/// bytes, lines, records, usage lines and records, embedded copies, lines
/// without usage, skipped lines, duplicates collapsed, streams, 429s,
/// count_tokens calls, aggregate records and problems are counts of what
/// was read, and rows are not the bytes they came from).
private func withoutLedger(_ text: String) throws -> String {
  guard text.hasPrefix("{"), case .object(let members) = try JSONParser.parse(text) else { return text }
  return JSONValue.object(members.filter { $0.0 != "ledger" }).serialized()
}

/// Runs tokengap and expects it to succeed.
private func run(_ args: [String]) async -> String {
  let r = await tokengap(args + ["-q", "--at", "2026-11-01"])
  #expect(r.status == 0, "\(args): \(r.err)")
  return r.out
}

/// Writes a file of text.
private func write(_ text: String, _ path: String) throws {
  try POSIXFiles.writeAtomically(Array(text.utf8), to: path)
}

private let groupings = ["session", "day,model", "model", "total", "request", "hour,project"]

@Suite("Rows: tokengap's own per-request rows out and back in", .serialized)
struct RowsTests {
  /// The files of a dataset, in a stable order.
  func files(_ name: String) -> [String] {
    Discovery.find([root + "/datasets/" + name]).files
  }

  @Test(
    "Two overlapping machines, exported as JSON Lines and CSV and merged, give the figures of one run over the union")
  func mergeEqualsUnion() async throws {
    let all = files("claude-code")
    #expect(all.count >= 6)
    // Machine A holds the first two thirds, machine B the last two thirds:
    // the middle third (sessions and their subagents split across the
    // cut, too) is on both.
    let a = Array(all[..<(2 * all.count / 3)])
    let b = Array(all[(all.count / 3)...])
    let dir = temporaryDirectory("rows-merge")
    for (name, part) in [("a", a), ("b", b)] {
      _ = await run(
        ["analyze"] + part + [
          "--by", "request", "--format", "jsonl", "--source-label", name, "-o", "\(dir)/\(name).jsonl",
        ])
      _ = await run(
        ["analyze"] + part + [
          "--by", "request", "--format", "csv", "--rows", "--source-label", name, "-o", "\(dir)/\(name).csv",
        ])
    }
    let merges = [
      ["\(dir)/a.jsonl", "\(dir)/b.jsonl"], ["\(dir)/a.csv", "\(dir)/b.csv"], ["\(dir)/a.jsonl", "\(dir)/b.csv"],
      // A machine's rows beside the other's transcripts.
      ["\(dir)/a.csv"] + b,
    ]
    for by in groupings {
      let csv = await run(["analyze"] + all + ["--by", by, "--format", "csv"])
      let json = try withoutLedger(await run(["analyze"] + all + ["--by", by, "--format", "json"]))
      for inputs in merges {
        #expect(await run(["analyze"] + inputs + ["--by", by, "--format", "csv"]) == csv, "\(by) \(inputs)")
        #expect(
          try withoutLedger(await run(["analyze"] + inputs + ["--by", by, "--format", "json"])) == json,
          "\(by) \(inputs)")
      }
    }
    for command in [["simulate", "--tier", "tier-1"], ["cache"], ["cache", "--by", "request"]] {
      for format in ["csv", "json"] {
        let union = try withoutLedger(await run(command + all + ["--format", format]))
        for inputs in merges {
          let merged = try withoutLedger(await run(command + inputs + ["--format", format]))
          #expect(merged == union, "\(command) \(format) \(inputs)")
        }
      }
    }
  }

  @Test("Every shipped input format survives the rows: datasets/ as rows gives datasets/' figures")
  func everyFormat() async throws {
    let dir = temporaryDirectory("rows-all")
    let data = root + "/datasets"
    _ = await run(["analyze", data, "--by", "request", "--format", "jsonl", "-o", "\(dir)/all.jsonl"])
    for by in groupings {
      let json = try withoutLedger(await run(["analyze", data, "--by", by, "--format", "json"]))
      #expect(
        try withoutLedger(await run(["analyze", "\(dir)/all.jsonl", "--by", by, "--format", "json"])) == json, "\(by)")
    }
    let simulate = await run(["simulate", data, "--tier", "tier-1", "--format", "csv"])
    #expect(await run(["simulate", "\(dir)/all.jsonl", "--tier", "tier-1", "--format", "csv"]) == simulate)
  }

  @Test("Export, import, export: the same rows, in JSON Lines and CSV, under another time zone too")
  func roundTrip() async throws {
    let dir = temporaryDirectory("rows-trip")
    let data = root + "/datasets"
    for zone in ["UTC", "+05:30"] {
      let first = await run([
        "analyze", data, "--by", "request", "--format", "jsonl", "--source-label", "m", "--timezone", zone,
      ])
      try write(first, "\(dir)/rows.jsonl")
      let second = await run([
        "analyze", "\(dir)/rows.jsonl", "--by", "request", "--format", "jsonl", "--source-label", "m", "--timezone",
        zone,
      ])
      #expect(second == first, "\(zone)")
      let csv = await run([
        "analyze", data, "--by", "request", "--format", "csv", "--rows", "--source-label", "m", "--timezone", zone,
      ])
      try write(csv, "\(dir)/rows.csv")
      let again = await run([
        "analyze", "\(dir)/rows.csv", "--by", "request", "--format", "csv", "--rows", "--source-label", "m",
        "--timezone", zone,
      ])
      #expect(again == csv, "\(zone)")
      // The CSV's first columns are the request CSV's up to its trailing
      // 'rule' (issue 13), byte for byte; the rule is the row's 'accounting'.
      let plain = await run(["analyze", data, "--by", "request", "--format", "csv", "--timezone", zone])
      let rowCells = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      let plainRows = plain.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
      #expect(
        plainRows.first?.suffix(4) == ["rule", "server_tools", "third_party_priced_requests", "logged_cost_usd"]
          && plainRows.first?.count == 34)
      let accounting = try #require(rowCells.first?.firstIndex(of: "accounting"))
      #expect(rowCells.count == plainRows.count)
      for (x, y) in zip(rowCells, plainRows) where !y.contains(where: { $0.contains("\"") }) {
        #expect(Array(x.prefix(30)) == Array(y.prefix(30)))
        if x.first != "time" { #expect(x[accounting] == y[30]) }
      }
    }
  }

  @Test("JSON Lines rows carry values as they are; CSV keeps its injection guard and reads it back")
  func injectionGuard() async throws {
    let out = await run(["analyze", root + "/datasets/claude-code", "--by", "request", "--format", "jsonl"])
    #expect(out.contains(#""project":"-Users-soph-Work-entire-devenv-cli""#))
    let first = try JSONParser.parse(String(out.split(separator: "\n")[0]))
    #expect(first["schema"]?.string == "tokengap.request/2")
    #expect(first["lower_bound"] == .bool(false))
    #expect(first["line"]?.int64 != nil)
    let csv = await run(["analyze", root + "/datasets/claude-code", "--by", "request", "--format", "csv", "--rows"])
    #expect(csv.contains(",'-Users-soph-Work-entire-devenv-cli,"))
  }

  @Test("Malformed rows are counted with file:line, the good ones kept")
  func malformedRows() async throws {
    let dir = temporaryDirectory("rows-bad")
    let good = await run([
      "analyze", root + "/datasets/claude-code/claude-code-log", "--by", "request", "--format", "jsonl",
    ])
    let lines = good.split(separator: "\n").map(String.init)
    #expect(lines.count == 5)
    let bad = [
      lines[0],
      "not json",
      lines[1].replacing(#""input_tokens":45"#, with: #""input_tokens":-1"#),
      lines[2].replacing(#""output_tokens":95"#, with: #""output_tokens":"95""#),
      lines[3].replacing(#""sidechain":false"#, with: #""sidechain":false,"sidechain":true"#),
      lines[3].replacing(#""time":"2025-06-14T10:03:00.000Z""#, with: #""time":"yesterday""#),
      lines[4].replacing(#","file":"#, with: #","nofile":"#),
      lines[4],
      "",
      String(lines[4].prefix(40)),
    ].joined(separator: "\n")
    try write(bad, "\(dir)/bad.jsonl")
    let r = await tokengap("analyze", "\(dir)/bad.jsonl", "--by", "total", "--format", "json", "--at", "2026-11-01")
    #expect(r.status == 0)
    let doc = try JSONParser.parse(r.out)
    #expect(doc["total"]?["requests"] == .number("2"))
    let ledger = doc["ledger"]
    #expect(ledger?["malformed_lines"] == .number("7"))
    #expect(ledger?["blank_lines"] == .number("1"))
    #expect(ledger?["usage_lines"] == .number("2"))
    #expect(ledger?["lines"] == .number("10"))
    let problems = ledger?["problems_first"]?.array?.compactMap(\.string) ?? []
    let expected = [
      (2, "unexpected"), (3, "'input_tokens' is not a whole number"), (4, "'output_tokens' is not a number"),
      (5, "duplicate key 'sidechain'"), (6, "'time' is not an RFC 3339 time"), (7, "row without 'file'"),
      (10, "truncated last line"),
    ]
    #expect(problems.count == expected.count, "\(problems)")
    for (line, text) in expected {
      #expect(
        problems.contains { $0.contains("bad.jsonl:\(line):") && $0.contains(text) }, "\(line) \(text): \(problems)")
    }
    // The same in CSV: a cell that is not a count, a row cut short.
    let csv = await run([
      "analyze", root + "/datasets/claude-code/claude-code-log", "--by", "request", "--format", "csv", "--rows",
    ])
    var rows = csv.split(separator: "\r\n").map(String.init)
    rows[2] = rows[2].replacing(",45,0,0,0,0,85,", with: ",4x5,0,0,0,0,85,")
    rows.append("\"unterminated")
    try write(rows.joined(separator: "\r\n"), "\(dir)/bad.csv")
    let c = await tokengap("analyze", "\(dir)/bad.csv", "--by", "total", "--format", "json", "--at", "2026-11-01")
    let cdoc = try JSONParser.parse(c.out)
    #expect(cdoc["total"]?["requests"] == .number("4"))
    let cproblems = cdoc["ledger"]?["problems_first"]?.array?.compactMap(\.string) ?? []
    #expect(cproblems.contains { $0.contains("bad.csv:3:") && $0.contains("'input_tokens'") }, "\(cproblems)")
    #expect(cproblems.contains { $0.contains("bad.csv:7:") && $0.contains("truncated last line") }, "\(cproblems)")
  }

  @Test("Rows of an unknown or mixed schema version are refused, naming file and line")
  func schemaVersions() async throws {
    let dir = temporaryDirectory("rows-schema")
    let good = await run([
      "analyze", root + "/datasets/claude-code/claude-code-log", "--by", "request", "--format", "jsonl",
    ])
    let lines = good.split(separator: "\n").map(String.init)
    let newer = lines.map { $0.replacing("tokengap.request/2", with: "tokengap.request/3") }
    try write(newer.joined(separator: "\n") + "\n", "\(dir)/newer.jsonl")
    let r = await tokengap("analyze", "\(dir)/newer.jsonl", "--at", "2026-11-01")
    #expect(r.status == 65)
    #expect(r.err.contains("newer.jsonl:1: row schema 'tokengap.request/3' is not one this tokengap reads"), "\(r.err)")
    #expect(r.err.contains("5 malformed lines, 1 problem"), "\(r.err)")

    // Version 1 rows (before max_tokens and duration_ms) are still read.
    let older = lines.map { $0.replacing("tokengap.request/2", with: "tokengap.request/1") }
    try write(older.joined(separator: "\n") + "\n", "\(dir)/older.jsonl")
    let o = await tokengap("analyze", "\(dir)/older.jsonl", "--by", "total", "--format", "csv", "--at", "2026-11-01")
    #expect(o.status == 0 && !o.err.contains("schema"), "\(o.err)")
    #expect(o.out.split(separator: "\r\n").last?.hasPrefix("5,") == true)
    // The same in CSV: a version 1 file has none of the columns added in
    // version 2, and is read all the same.
    let csv = await run([
      "analyze", root + "/datasets/claude-code/claude-code-log", "--by", "request", "--format", "csv", "--rows",
    ])
    let csvLines = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    let header = try #require(csvLines.first)
    let added = [
      "third_party_priced_requests", "logged_cost_usd", "max_tokens", "duration_ms", "regional", "server_tools",
    ]
    let drop = Set(added.compactMap { name in header.firstIndex { $0 == name } })
    #expect(drop.count == 6)
    let v1 = csvLines.map { cells in
      cells.enumerated().filter { !drop.contains($0.offset) }.map { String($0.element) }.joined(separator: ",")
        .replacing("tokengap.request/2", with: "tokengap.request/1")
    }
    try write(v1.joined(separator: "\r\n") + "\r\n", "\(dir)/older.csv")
    let c = await tokengap("analyze", "\(dir)/older.csv", "--by", "total", "--format", "csv", "--at", "2026-11-01")
    #expect(c.status == 0 && !c.err.contains("lacks"), "\(c.err)")
    #expect(c.out.split(separator: "\r\n").last?.hasPrefix("5,") == true)

    try write([lines[0], newer[1], lines[2]].joined(separator: "\n") + "\n", "\(dir)/mixed.jsonl")
    let m = await tokengap("analyze", "\(dir)/mixed.jsonl", "--by", "total", "--format", "csv", "--at", "2026-11-01")
    #expect(m.status == 0)
    #expect(m.out.split(separator: "\r\n").last?.hasPrefix("2,") == true)
    #expect(m.err.contains("mixed.jsonl:2: row schema 'tokengap.request/3' differs"), "\(m.err)")

    // One file may not mix /1 and /2 rows.
    try write([lines[0], older[1]].joined(separator: "\n") + "\n", "\(dir)/mixed12.jsonl")
    let m12 = await tokengap("analyze", "\(dir)/mixed12.jsonl", "--at", "2026-11-01")
    #expect(
      m12.err.contains(
        "mixed12.jsonl:2: row schema 'tokengap.request/1' differs from the file's earlier rows ('tokengap.request/2')"),
      "\(m12.err)")
    #expect(await tokengap("analyze", "\(dir)/mixed.jsonl", "--strict", "-q").status == 65)

    // A request CSV written without --rows cannot be read back: it says how.
    let plain = await run([
      "analyze", root + "/datasets/claude-code/claude-code-log", "--by", "request", "--format", "csv",
    ])
    try write(plain, "\(dir)/plain.csv")
    let p = await tokengap("analyze", "\(dir)/plain.csv")
    #expect(p.status == 65)
    #expect(p.err.contains("plain.csv:1: a request CSV without the row columns"), "\(p.err)")
  }

  @Test("jsonl, --rows and --source-label only where rows are written; a sentence otherwise")
  func usage() async throws {
    let data = root + "/datasets/claude-code/claude-code-log"
    let cases: [([String], String)] = [
      (["analyze", data, "--by", "session", "--format", "jsonl"], "needs '--by request'"),
      (["cache", data, "--format", "jsonl"], "only 'analyze --by request' does"),
      (["analyze", data, "--by", "request", "--rows"], "'--rows' adds the row columns"),
      (["analyze", data, "--source-label", "x"], "'--source-label' labels exported rows"),
      (["analyze", data, "--by", "request", "--format", "jsonl", "--json"], "two formats"),
      (["analyze", data, "-o", "/tmp/x.jsonl"], "only 'analyze --by request' writes JSON Lines"),
    ]
    for (args, text) in cases {
      let r = await tokengap(args)
      #expect(r.status == 64, "\(args)")
      #expect(r.err.contains(text), "\(args): \(r.err)")
    }
    let dir = temporaryDirectory("rows-o")
    _ = await run(["analyze", data, "--by", "request", "-o", "\(dir)/r.jsonl", "--source-label", "x"])
    let text = String(decoding: try POSIXFiles.read("\(dir)/r.jsonl"), as: UTF8.self)
    #expect(text.split(separator: "\n").count == 5)
    #expect(text.contains(#""source":"x""#))
    #expect(!AnalyzeCommand.hostName().isEmpty)
  }
}
