import Compare
import EstimateModel
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A bad-input case: one fixture, the problem it must produce, and what survives.
struct BadCase: Sendable, CustomTestStringConvertible {
  let file: String
  /// `line: reason` prefixes expected in the ledger, in order.
  let problems: [(Int, String)]
  /// Requests still counted around the bad lines.
  let requests: Int
  var testDescription: String { file }

  static let all: [BadCase] = [
    .init(file: "truncated-last-line.jsonl", problems: [(3, "truncated last line")], requests: 2),
    .init(file: "invalid-utf8.jsonl", problems: [(2, "invalid UTF-8 or escape in 'model'")], requests: 2),
    .init(file: "nul-bytes.jsonl", problems: [(2, "unexpected data after the object")], requests: 2),
    .init(file: "bom.jsonl", problems: [], requests: 2),
    .init(file: "crlf.jsonl", problems: [], requests: 2),
    .init(
      file: "numbers.jsonl",
      problems: [
        (2, "'input_tokens' is beyond the 64-bit range"), (3, "'input_tokens' is negative"),
        (4, "'input_tokens' is not a whole number"), (5, "'input_tokens' is not a whole number"),
      ], requests: 2),
    .init(file: "duplicate-keys.jsonl", problems: [(2, "duplicate key 'input_tokens'")], requests: 2),
    .init(
      file: "wrong-types.jsonl",
      problems: [
        (2, "'input_tokens' is not a whole number"), (3, "'input_tokens' is not a whole number"),
        (4, "'usage' has no token counts"),
      ], requests: 2),
    .init(file: "split-mismatch.jsonl", problems: [(2, "cache_creation split (5m + 1h = 50) disagrees")], requests: 3),
    .init(
      file: "timestamps.jsonl",
      problems: [
        (2, "timestamp is not RFC 3339"), (3, "timestamp is not RFC 3339"), (4, "timestamp is not RFC 3339"),
      ], requests: 5),
    .init(file: "deep-nesting.jsonl", problems: [(3, "invalid value")], requests: 3),
  ]
}

func bad(_ name: String) -> String { root + "/Tests/tokengapTests/Fixtures/bad/" + name }

func temporaryDirectory(_ tag: String) -> String {
  let dir = "/tmp/tokengap-\(tag)-\(WallClock.now().millisecondsSinceEpoch)-\(Int.random(in: 0..<1_000_000))"
  mkdir(dir, 0o755)
  return dir
}

@Suite("Bad input: nothing crashes, nothing is lost", .serialized)
struct BadInputTests {
  @Test("Each case: exit code, ledger entry file:line: reason, and every valid record kept", arguments: BadCase.all)
  func badCase(_ c: BadCase) async throws {
    let path = bad(c.file)
    let r = await tokengap("analyze", path, "--by", "total", "--format", "json", "--at", "2026-11-01")
    #expect(r.status == 0)
    let doc = try JSONParser.parse(r.out)
    #expect(doc["total"]?["requests"] == .number(String(c.requests)))
    let listed = (doc["ledger"]?["problems_first"]?.array ?? []).compactMap(\.string)
    #expect(listed.count == c.problems.count, "\(listed)")
    for (k, (line, reason)) in c.problems.enumerated() where k < listed.count {
      #expect(listed[k].hasPrefix("\(path):\(line): \(reason)"), "\(listed[k])")
    }
    // The same problems on standard error, and fatal under --strict, after the report.
    for (line, _) in c.problems { #expect(r.err.contains("\(path):\(line): ")) }
    let strict = await tokengap("analyze", path, "--strict", "--format", "csv", "--at", "2026-11-01")
    #expect(strict.status == (c.problems.isEmpty ? 0 : 65))
    #expect(strict.out.hasPrefix("session,project,requests,"))
  }

  @Test("An empty file alone: nothing usable, exit 65; beside good data it is just counted")
  func empty() async {
    #expect(await tokengap("analyze", bad("empty.jsonl"), "-q").status == 65)
    let r = await tokengap("analyze", bad("empty.jsonl"), bad("bom.jsonl"), "-q", "--by", "total", "--format", "csv")
    #expect(r.status == 0)
    #expect(r.out.split(separator: "\r\n").last?.hasPrefix("2,") == true)
  }

  @Test("A 100 MB single line is read, and the records around it are counted")
  func hugeLine() async throws {
    let dir = temporaryDirectory("huge")
    let good = String(decoding: try POSIXFiles.read(bad("bom.jsonl")).dropFirst(3), as: UTF8.self)
    var bytes = Array(good.utf8)
    bytes += Array(#"{"type":"user","message":{"content":""#.utf8)
    bytes += [UInt8](repeating: UInt8(ascii: "x"), count: 100 << 20)
    bytes += Array("\"}}\n".utf8)
    try POSIXFiles.writeAtomically(bytes, to: dir + "/huge.jsonl")
    let r = await tokengap("analyze", dir + "/huge.jsonl", "--by", "total", "--format", "csv", "-q")
    #expect(r.status == 0)
    #expect(r.out.split(separator: "\r\n").last?.hasPrefix("2,") == true)
  }

  @Test("Binary files, FIFOs, devices, symbolic-link loops and dangling links: skipped with a message, never blocking")
  func specialFiles() async throws {
    let dir = temporaryDirectory("special")
    try POSIXFiles.writeAtomically(try POSIXFiles.read(bad("crlf.jsonl")), to: dir + "/good.jsonl")
    var noise = [UInt8](repeating: 0, count: 5000)
    for i in noise.indices { noise[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
    try POSIXFiles.writeAtomically(noise, to: dir + "/binary.jsonl")
    #expect(mkfifo(dir + "/pipe.jsonl", 0o644) == 0)
    mkdir(dir + "/loop", 0o755)
    #expect(symlink(dir, dir + "/loop/back") == 0)
    #expect(symlink(dir + "/missing.jsonl", dir + "/dangling.jsonl") == 0)
    let r = await tokengap("analyze", dir, "--by", "total", "--format", "json")
    #expect(r.status == 0)
    let doc = try JSONParser.parse(r.out)
    #expect(doc["total"]?["requests"] == .number("2"))
    let skipped = (doc["ledger"]?["skipped_files"]?.array ?? []).compactMap(\.string)
    #expect(skipped.contains { $0.hasPrefix(dir + "/binary.jsonl: binary file") })
    #expect(skipped.contains { $0.hasPrefix(dir + "/pipe.jsonl: not a regular file") })
    #expect(skipped.contains { $0.contains("directory already visited") })
    #expect(skipped.contains { $0.hasPrefix(dir + "/dangling.jsonl: cannot stat") })
    let device = await tokengap("analyze", "/dev/null", dir + "/good.jsonl", "-q", "--strict")
    #expect(device.status == 65, "a skipped device is a problem under --strict")
    let fifo = await tokengap("analyze", dir + "/pipe.jsonl", "-q")
    #expect(fifo.status == 65, "named explicitly, the FIFO is skipped, not read (no blocking)")
  }

  @Test(
    "A walk goes depth first in name order: files come in the order of their full paths, as they are found; a directory reached twice is read where the walk first reaches it"
  )
  func walkOrder() throws {
    func tree(linked: Bool) throws -> String {
      let root = temporaryDirectory("walk")
      // `a.json`, `a-b.json` and `a0.json` sort around the directory `a`
      // ('-' < '.' < '/' < '0'): the order of full paths, not of names.
      for d in ["a", "b", "b/sub", "c", "d"] { mkdir(root + "/" + d, 0o755) }
      for f in ["a/x.jsonl", "a/y.txt", "a.json", "a-b.json", "a0.json", "b/z.jsonl", "b/sub/w.jsonl", "top.jsonl"] {
        try POSIXFiles.writeAtomically(Array("{}\n".utf8), to: root + "/" + f)
      }
      try POSIXFiles.writeAtomically(Array("notes".utf8), to: root + "/a/notes.md")
      #expect(mkfifo(root + "/b/pipe.jsonl", 0o644) == 0)
      #expect(symlink(root, root + "/d/back") == 0)
      if linked { #expect(symlink(root + "/a", root + "/c/link") == 0) }
      return root
    }
    let apart = try tree(linked: false)
    var handed: [String] = []
    let found = Discovery.find([apart], modifiedSince: nil) { path, _ in handed.append(path) }
    // By hand, in the order of the full paths.
    let expected = ["a-b.json", "a.json", "a/x.jsonl", "a/y.txt", "a0.json", "b/sub/w.jsonl", "b/z.jsonl", "top.jsonl"]
    #expect(found.files == expected.map { apart + "/" + $0 })
    #expect(found.files == found.files.sorted())
    #expect(handed == found.files, "handed out in the order of the list")
    #expect(found.skipped.map(\.file) == [apart + "/b/pipe.jsonl", apart + "/d/back"])
    #expect(found.passedOver == [".md": 1])
    #expect(found.sizes[apart + "/b/z.jsonl"] == 3)
    // a is reached by name before c/link: c/link is the one left out.
    let linked = try tree(linked: true)
    let both = Discovery.find([linked])
    #expect(both.files == expected.map { linked + "/" + $0 })
    #expect(both.skipped.map(\.file) == [linked + "/b/pipe.jsonl", linked + "/c/link", linked + "/d/back"])
    #expect(both.skipped.dropFirst().allSatisfy { $0.reason.contains("already visited") })
    // Two paths: each one's files in turn, in the order given.
    let two = Discovery.find([linked + "/b", apart + "/a"])
    #expect(
      two.files == ["b/sub/w.jsonl", "b/z.jsonl"].map { linked + "/" + $0 }
        + ["a/x.jsonl", "a/y.txt"].map { apart + "/" + $0 })
  }

  @Test("Standard input is an input: '-o' onto the file it reads is refused with 74")
  func stdinNotOverwritten() async throws {
    let dir = temporaryDirectory("stdin")
    let file = dir + "/f.jsonl"
    let original = try POSIXFiles.read(bad("crlf.jsonl"))
    try POSIXFiles.writeAtomically(original, to: file)
    let saved = dup(0)
    let input = open(file, O_RDONLY)
    dup2(input, 0)
    let r = await tokengap("analyze", "-", "-o", file, "-q")
    dup2(saved, 0)
    close(input)
    close(saved)
    #expect(r.status == 74)
    #expect(r.err.contains("refusing to write over standard input"))
    #expect(try POSIXFiles.read(file) == original, "the input is intact")
  }

  @Test("An input named like a chart file this run would not write is refused, never removed as stale")
  func chartNeverRemovesAnInput() async throws {
    let dir = temporaryDirectory("chart-input")
    // Without limits no bucket.csv is written, and a stale one would be removed.
    let input = dir + "/bucket.csv"
    let original = try POSIXFiles.read(bad("crlf.jsonl"))
    try POSIXFiles.writeAtomically(original, to: input)
    let r = await tokengap("chart", input, "--out", dir, "-q")
    #expect(r.status == 74)
    #expect(r.err.contains("refusing to write over the input"))
    #expect(try POSIXFiles.read(input) == original, "the input is intact")
    let left = POSIXFiles.list(dir)?.sorted() ?? []
    #expect(left == ["bucket.csv"], "nothing staged is left behind: \(left)")
  }

  @Test("'-o' onto a symlink replaces its target, keeps the link; a device is written, not replaced")
  func outputTargets() async throws {
    let dir = temporaryDirectory("targets")
    let target = dir + "/real.csv"
    try POSIXFiles.writeAtomically(Array("old\n".utf8), to: target)
    chmod(target, 0o600)
    #expect(symlink(target, dir + "/link.csv") == 0)
    let r = await tokengap("analyze", bad("crlf.jsonl"), "--format", "csv", "-o", dir + "/link.csv", "-q")
    #expect(r.status == 0)
    var st = stat()
    #expect(lstat(dir + "/link.csv", &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, "still a link")
    #expect(stat(target, &st) == 0 && (st.st_mode & 0o777) == 0o600, "the replaced file keeps its mode")
    #expect(try POSIXFiles.read(target).starts(with: Array("session,".utf8)))
    let d = await tokengap("analyze", bad("crlf.jsonl"), "--format", "csv", "-o", "/dev/null", "-q")
    #expect(d.status == 0)
    #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR, "/dev/null is still a device")
    // A new file follows the umask (022 here: 0644; 077: 0600).
    let old = umask(0o077)
    let n = await tokengap("analyze", bad("crlf.jsonl"), "--format", "csv", "-o", dir + "/new.csv", "-q")
    umask(old)
    #expect(n.status == 0)
    #expect(stat(dir + "/new.csv", &st) == 0 && (st.st_mode & 0o777) == 0o600)
  }

  @Test("chart writes one run's set: missing parents created, an earlier run's SVGs removed")
  func chartSets() async throws {
    let dir = temporaryDirectory("sets") + "/a/b/charts"
    let data = root + "/datasets/claude-code/claude-code-viewer"
    let first = await tokengap("chart", data, "--svg", "--out", dir, "-q")
    #expect(first.status == 0)
    #expect(POSIXFiles.list(dir)?.contains("ratio_histogram.svg") == true)
    let second = await tokengap("chart", data, "--out", dir, "-q")
    #expect(second.status == 0)
    let names = Set(POSIXFiles.list(dir) ?? [])
    #expect(names == ["requests.csv", "minutes.csv", "ratio_histogram.csv", "cumulative.csv", "sessions.csv"])
  }

  @Test("Usage errors and unreadable inputs get the README's exit codes")
  func smallerExitCodes() async throws {
    let dir = temporaryDirectory("exits")
    #expect(symlink(dir + "/self", dir + "/self") == 0)  // stat fails with ELOOP
    let loop = await tokengap("analyze", dir + "/self", "-q")
    #expect(loop.status == 66 && loop.err.contains("cannot read"))
    let order = await tokengap("analyze", bad("crlf.jsonl"), "--since", "2026-02-01", "--until", "2026-01-01")
    #expect(order.status == 64)
    let jobs = await tokengap("analyze", bad("crlf.jsonl"), "--jobs", "-1")
    #expect(jobs.status == 64 && jobs.err.contains("from 1 to 256, not '-1'"))
  }

  @Test("An empty standard input: nothing usable, exit 65")
  func emptyStdin() async {
    let saved = dup(0)
    let devnull = open("/dev/null", O_RDONLY)
    dup2(devnull, 0)
    let r = await tokengap("analyze", "-", "-q")
    dup2(saved, 0)
    close(devnull)
    close(saved)
    #expect(r.status == 65)
  }

  @Test("Exit codes: 64 bad arguments, 66 missing path, 74 unwritable output")
  func exitCodes() async {
    #expect(await tokengap("analyze", "--by", "nonsense").status == 64)
    #expect(await tokengap("analyze", "--frobnicate").status == 64)
    #expect(await tokengap("analyze", "/definitely/missing").status == 66)
    #expect(await tokengap("analyze", bad("crlf.jsonl"), "-o", "/definitely/missing/out.csv", "-q").status == 74)
  }

  @Test("An output is written whole or not at all, never over an input")
  func outputs() async throws {
    let dir = temporaryDirectory("out")
    let input = dir + "/in.jsonl"
    try POSIXFiles.writeAtomically(try POSIXFiles.read(bad("crlf.jsonl")), to: input)
    let before = try POSIXFiles.read(input)
    #expect(await tokengap("analyze", input, "-o", input, "-q").status == 74)
    #expect(try POSIXFiles.read(input) == before)
    // No temporary file is left behind when a write fails.
    let r = await tokengap("analyze", input, "-o", dir + "/missing/out.csv", "-q")
    #expect(r.status == 74)
    let listing = Discovery.find([dir]).files
    #expect(listing == [input])
  }

  @Test("Nothing from prompt or response content reaches any output of any command")
  func noLeaks() async throws {
    let dir = temporaryDirectory("leak")
    let inputs = [
      root + "/Tests/CompareTests/Fixtures/layouts", root + "/Tests/CompareTests/Fixtures/captures",
      root + "/Tests/tokengapTests/Fixtures/bad",
    ]
    var outputs: [String] = []
    for format in ["table", "json", "csv", "md"] {
      for command in [
        ["analyze", "--by", "request"], ["cache", "--by", "request"], ["pairs"], ["simulate", "--tier", "start"],
      ] {
        let r = await tokengap(command + inputs + ["--format", format, "--at", "2026-11-01"])
        outputs += [r.out, r.err]
      }
    }
    let chart = await tokengap(["chart"] + inputs + ["--out", dir + "/charts", "--svg", "--tier", "start"])
    let report = await tokengap(["report"] + inputs + ["--out", dir + "/report.md", "--tier", "start"])
    outputs += [chart.out, chart.err, report.out, report.err]
    for file in Discovery.find([dir + "/charts"]).files + [dir + "/report.md"] {
      outputs.append(String(decoding: try POSIXFiles.read(file), as: UTF8.self))
    }
    for name in ["estimate_vs_itpm.svg", "ratio_histogram.svg", "cumulative_cost.svg", "bucket_levels.svg"] {
      outputs.append(String(decoding: (try? POSIXFiles.read(dir + "/charts/" + name)) ?? [], as: UTF8.self))
    }
    #expect(outputs.count > 40)
    for text in outputs { #expect(!text.contains("SECRET-CONTENT-MARKER")) }
  }
}

@Suite("File names as bytes")
struct FileNameTests {
  @Test("A file whose name is not UTF-8 is found, read and shown escaped; a large folder lists cleanly")
  func rawNames() async throws {
    let dir = temporaryDirectory("names")
    // "bad\xff.jsonl": not UTF-8.
    var name = Array((dir + "/bad").utf8).map { CChar(bitPattern: $0) }
    name += [CChar(bitPattern: 0xFF)] + Array(".jsonl".utf8).map { CChar(bitPattern: $0) } + [0]
    let fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    #expect(fd >= 0)
    let line =
      Array(
        #"{"type":"assistant","sessionId":"s","message":{"id":"m1","model":"claude-opus-4-6","usage":{"input_tokens":3,"output_tokens":1}}}"#
          .utf8) + [0x0A]
    _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    // About 3,000 entries: readdir's records end before d_name's 256 bytes
    // (AddressSanitizer, in Scripts/check.sh, reports a read past them).
    let many = dir + "/many"
    mkdir(many, 0o755)
    for k in 0..<3_000 { close(open(many + "/x\(k).txt", O_WRONLY | O_CREAT, 0o644)) }
    let r = await tokengap("analyze", dir, "--format", "csv", "--by", "total", "--strict")
    #expect(r.status == 0, "nothing skipped: \(r.err)")
    #expect(r.out.split(separator: "\r\n").last?.hasPrefix("1,3,") == true)
    let missing = await tokengap("analyze", dir + "/none\u{10FFFF}.jsonl")
    #expect(missing.status == 66 && missing.err.contains("none\\xff.jsonl"))
  }
}
