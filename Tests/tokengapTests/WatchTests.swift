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

@Suite("tokengap watch", .serialized)
struct WatchTests {
  /// `analyze --by minute` of a tree: per minute (since the epoch), P and I.
  static func analyzedMinutes(_ tree: String) async throws -> [Int64: (Int128, Int128)] {
    let r = await tokengap("analyze", tree, "--by", "minute", "--format", "csv", "--timezone", "UTC", "-q")
    #expect(r.status == 0)
    // CSV lines end with CR LF: one Character, which "\n" does not split.
    let lines = r.out.split(whereSeparator: \.isNewline).map {
      $0.split(separator: ",", omittingEmptySubsequences: false)
    }
    let header = lines.first ?? []
    let p = try #require(header.firstIndex(of: "estimate_tokens"))
    let i = try #require(header.firstIndex(of: "itpm_tokens"))
    var out: [Int64: (Int128, Int128)] = [:]
    for row in lines.dropFirst() {
      // 2026-01-15T10:03Z
      let at = try #require(Instant(String(row[0].dropLast()) + ":00Z"))
      out[at.millisecondsSinceEpoch / 60_000] = (
        try #require(Int128(String(row[p]))), try #require(Int128(String(row[i])))
      )
    }
    return out
  }

  /// The watch's minutes, summed over pools.
  static func watchedMinutes(_ live: LiveMinutes) -> [Int64: (Int128, Int128)] {
    var out: [Int64: (Int128, Int128)] = [:]
    for (key, c) in live.minutes {
      let (p, i) = out[key.minute] ?? (0, 0)
      out[key.minute] = (p + c.estimate, i + c.itpm)
    }
    return out
  }

  static func same(_ a: [Int64: (Int128, Int128)], _ b: [Int64: (Int128, Int128)]) -> Bool {
    a.count == b.count && a.allSatisfy { k, v in b[k].map { $0 == v } ?? false }
  }

  @Test("A tree that grows while watch runs: its minutes equal analyze --by minute of the final tree")
  func growingTree() async throws {
    let dir = temporaryDirectory("watch")
    let project = dir + "/projects/-home-dev-code-app"
    _ = POSIXFiles.makeDirectories(project + "/5f0c6a3e/subagents")
    let main = project + "/5f0c6a3e.jsonl"
    writeFile(main, StatuslineStateTests.history(0..<30))
    // Each update, more traffic: a copy of the last request with its
    // output grown (across the update's boundary), new requests, an
    // incomplete line completed by the next update, a subagent file
    // appearing, a sidechain replay of a main-chain request, and a request
    // of another model (another pool).
    let steps: [Int: [(String, String)]] = [
      1: [
        (
          main,
          assistantLine(
            "msg_29", "req_29", at: "2026-01-15T10:49:49.000Z", input: 39, write5m: 2_900, read: 5_029, output: 700)
            + StatuslineStateTests.history(30..<45)
            + #"{"parentUuid":null,"type":"assistant","message":{"id":"msg_half""#
        )
      ],
      2: [
        (
          main,
          #","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":7,"cache_read_input_tokens":900,"output_tokens":3}},"requestId":"req_half","timestamp":"2026-01-15T10:12:00.000Z"}"#
            + "\n"
        )
      ],
      3: [
        (
          project + "/5f0c6a3e/subagents/agent-a1.jsonl",
          assistantLine(
            "msg_sub", "req_sub", at: "2026-01-15T10:13:30.000Z", input: 5, write1h: 4_000, read: 20_000, output: 9,
            sidechain: true)
            + assistantLine(
              "msg_3", "req_3x", at: "2026-01-15T10:13:13.000Z", input: 13, write5m: 300, read: 5_003, output: 53,
              sidechain: true)
        )
      ],
      4: [
        (
          main,
          assistantLine(
            "msg_opus", "req_opus", at: "2026-01-15T10:14:00.000Z", model: "claude-opus-4-6", input: 50,
            write5m: 1_000, read: 80_000, output: 10) + StatuslineStateTests.history(45..<50)
        )
      ],
    ]
    var final: LiveMinutes?
    var read: [Int] = []
    let hooks = WatchCommand.Hooks(
      afterUpdate: { cycle, live in
        for (path, text) in steps[cycle] ?? [] { writeFile(path, text, append: true) }
        read.append(live.touchedLastUpdate)
        final = live
      }, now: { Instant(millisecondsSinceEpoch: 1_768_471_200_000) }, terminal: false)
    let o = try WatchCommand.Options(
      parseOptions(
        [dir, "--iterations", "6", "--interval", "0", "--timezone", "UTC", "--itpm", "30000"][...], WatchCommand.spec))
    var out: any TextSink = BufferSink()
    #expect(try WatchCommand.watch(o, output: &out, hooks: hooks) == .ok)
    let live = try #require(final)
    let analyzed = try await Self.analyzedMinutes(dir)
    #expect(analyzed.count == 40)
    #expect(Self.same(Self.watchedMinutes(live), analyzed))
    #expect(live.pools.count == 2)
    // Each update re-priced only what it read: 30 requests first, then 16
    // (the grown copy and 15 new), nothing while a line was incomplete, …
    #expect(read == [30, 16, 1, 3, 6, 0])
    #expect(live.rebuilds == 0)
    // Off a terminal: the minute in progress at the end.
    #expect((out as? BufferSink)?.text == "2026-01-15T10:00+00:00 (so far)  no traffic\n")
  }

  @Test("An update reads only the bytes added; a truncated file is read again")
  func newBytesOnly() throws {
    let dir = temporaryDirectory("watch-bytes")
    let file = dir + "/s.jsonl"
    let first = StatuslineStateTests.history(0..<20)
    writeFile(file, first)
    var live = LiveMinutes(
      context: PricingContext(catalog: CatalogLoader.embedded(), pricingDay: CivilDay(daysSinceEpoch: 20_468)),
      options: IngestOptions(catalog: CatalogLoader.embedded()))
    #expect(live.update([file]) == Int64(first.utf8.count))
    #expect(live.update([file]) == 0)
    let more = StatuslineStateTests.history(20..<25)
    writeFile(file, more, append: true)
    #expect(live.update([file]) == Int64(more.utf8.count))
    #expect(live.touchedLastUpdate == 5)
    let shorter = StatuslineStateTests.history(0..<3)
    writeFile(file, shorter)
    #expect(live.update([file]) == Int64(shorter.utf8.count))
    #expect(live.rebuilds == 1)
    #expect(live.minutes.values.reduce(0) { $0 + $1.requests } == 3)
  }
}
