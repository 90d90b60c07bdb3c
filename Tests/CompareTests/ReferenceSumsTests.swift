import Compare
import EstimateModel
import Testing

/// A row of realdata/SOURCES.md, typed in by hand: de-duplicated sums per file.
struct ReferenceRow: Sendable, CustomTestStringConvertible {
  let file: String
  let uniqueIDs: Int
  let input, output, cacheRead, write5m, write1h: Int64
  var testDescription: String { file }

  static let all: [ReferenceRow] = [
    .init(
      file: "claude-code-viewer/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl", uniqueIDs: 7,
      input: 93, output: 953, cacheRead: 103_219, write5m: 12_698, write1h: 0),
    .init(
      file: "claude-code-viewer/projects/sample-project/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl", uniqueIDs: 20,
      input: 129, output: 3_629, cacheRead: 324_259, write5m: 47_747, write1h: 0),
    .init(
      file: "claude-code-viewer/projects/sample-project/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl", uniqueIDs: 170,
      input: 818, output: 51_933, cacheRead: 3_647_854, write5m: 137_976, write1h: 0),
    .init(
      file: "entireio-cli/33/210c2e180b/0/full.jsonl", uniqueIDs: 24, input: 174, output: 4_915, cacheRead: 2_689_209,
      write5m: 375_431, write1h: 0),
    .init(
      file: "entireio-cli/48/b4b05476e5/0/full.jsonl", uniqueIDs: 47, input: 382, output: 108, cacheRead: 2_449_354,
      write5m: 0, write1h: 164_875),
    .init(
      file: "entireio-cli/5a/c45bc32212/0/full.jsonl", uniqueIDs: 59, input: 631, output: 1_991, cacheRead: 3_334_164,
      write5m: 330_249, write1h: 0),
    .init(
      file: "entireio-cli/63/590d292e96/0/full.jsonl", uniqueIDs: 84, input: 1_114, output: 16_426,
      cacheRead: 8_340_672, write5m: 673_338, write1h: 0),
    .init(
      file: "entireio-cli/68/e0ff0d6706/0/full.jsonl", uniqueIDs: 5, input: 7, output: 805, cacheRead: 136_049,
      write5m: 0, write1h: 13_211),
    .init(
      file: "entireio-cli/8a/e9468023c2/0/full.jsonl", uniqueIDs: 15, input: 116, output: 4_065, cacheRead: 1_898_292,
      write5m: 152_421, write1h: 0),
    .init(
      file: "entireio-cli/9f/d2fc39aa5f/0/full.jsonl", uniqueIDs: 66, input: 70, output: 12_098, cacheRead: 2_995_725,
      write5m: 99_805, write1h: 0),
    .init(
      file: "entireio-cli/ac/0df591859d/0/full.jsonl", uniqueIDs: 14, input: 20, output: 439, cacheRead: 425_120,
      write5m: 0, write1h: 38_452),
    .init(
      file: "entireio-cli/ee/8f793bfeb9/0/full.jsonl", uniqueIDs: 6, input: 46, output: 386, cacheRead: 210_429,
      write5m: 43_344, write1h: 0),
    .init(
      file: "ccusage-fixtures/projects/project-alpha/session-alpha/chat.jsonl", uniqueIDs: 3, input: 600, output: 250,
      cacheRead: 70, write5m: 0, write1h: 0),
    .init(
      file: "ccusage-fixtures/projects/project-beta/session-beta/chat.jsonl", uniqueIDs: 2, input: 130, output: 60,
      cacheRead: 40, write5m: 0, write1h: 0),
    .init(
      file: "claude-code-log/representative_messages.jsonl", uniqueIDs: 5, input: 218, output: 445, cacheRead: 0,
      write5m: 0, write1h: 0),
  ]
}

@Suite("Reference sums of the shipped transcripts (realdata/SOURCES.md)")
struct ReferenceSumsTests {
  @Test("Main-thread requests match the reference, field by field", arguments: ReferenceRow.all)
  func matches(_ row: ReferenceRow) async throws {
    let all = await requests([dataset("claude-code/" + row.file)])
    // The reference counts `type: "assistant"` lines only, so embedded
    // progress copies (sidechain) are compared separately below.
    let main = all.filter { !$0.embeddedOnly }
    var sum = TokenUsage()
    for r in main { sum = try sum.adding(r.usage) }
    #expect(sum.input == row.input)
    #expect(sum.output == row.output)
    #expect(sum.cacheRead == row.cacheRead)
    #expect(sum.cacheWrite5m == row.write5m)
    #expect(sum.cacheWrite1h == row.write1h)
    // Unique message ids include `<synthetic>` lines, which are skipped.
    let result = await analyze([dataset("claude-code/" + row.file)])
    #expect(result.ledger.skippedSynthetic + main.count == row.uniqueIDs)
  }

  @Test("A checkpoint's embedded subagent copies are counted on top, once")
  func embeddedCopies() async throws {
    let path = dataset("claude-code/entireio-cli/ac/0df591859d/0/full.jsonl")
    let result = await analyze([path])
    let all = await requests([path])
    let embedded = all.filter(\.embeddedOnly)
    #expect(result.ledger.embeddedCopies == 18)
    #expect(embedded.count == 13)
    #expect(result.total.requests == 14 + 13)
    #expect(Set(embedded.map(\.loggedModel)) == ["claude-haiku-4-5-20251001"])
  }

  @Test("Whole shipped set: every line and record accounted for")
  func ledgerIdentity() async {
    let result = await analyze([dataset("claude-code")])
    let l = result.ledger
    #expect(linesAccountedFor(l))
    #expect(recordsAccountedFor(l))
    #expect(l.files == 15)
    #expect(l.skippedSynthetic == 6)
    #expect(l.malformedLines == 0)
    #expect(l.problems.isEmpty)
  }

  @Test("Glued objects on one line are both read (entire 5a…, line 115)")
  func gluedObjects() async {
    let result = await analyze([dataset("claude-code/entireio-cli/5a/c45bc32212/0/full.jsonl")])
    #expect(result.ledger.records == result.ledger.lines - result.ledger.blankLines + 1)
    #expect(result.ledger.problems.isEmpty)
  }

  @Test("The dated price: the shipped set's cost, recomputed from its sums by hand")
  func costOfOneSession() async throws {
    // 1af7fc5e: Sonnet 4 (2025-09-03), 5-minute writes only:
    // 93×$3 + 12,698×$3.75 + 103,219×$0.30 = 279 + 47,617.5 + 30,965.7 = 78,862.2 µ$
    // output 953×$15 = 14,295 µ$
    let result = await analyze(
      [dataset("claude-code/claude-code-viewer/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl")])
    #expect(result.total.inputCostActual.formatted() == "0.0788622")
    #expect(result.total.outputCost.formatted() == "0.014295")
    // Ce = P × $3 = 116,010 × 3 µ$
    #expect(result.total.inputCostEstimate.formatted() == "0.34803")
    #expect(result.total.overestimationRatio?.formatted() == "9.069658")  // 116,010 / 12,791
  }
}
