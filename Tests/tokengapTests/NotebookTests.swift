import Compare
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// One `$ tokengap …` command of a notebook and the output written under it.
struct NotebookCommand: Sendable, CustomTestStringConvertible {
  var file: String
  var line: Int
  var command: String
  var expected: String
  var testDescription: String { "\(file):\(line) \(command)" }
}

/// Splits a command line into arguments: spaces separate, quotes group.
func shellWords(_ line: String) -> [String] {
  var words: [String] = []
  var current = ""
  var quote: Character?
  var any = false
  for c in line {
    if let q = quote {
      if c == q { quote = nil } else { current.append(c) }
    } else if c == "'" || c == "\"" {
      quote = c
      any = true
    } else if c == " " {
      if any || !current.isEmpty { words.append(current) }
      current = ""
      any = false
    } else {
      current.append(c)
    }
  }
  if any || !current.isEmpty { words.append(current) }
  return words
}

enum Notebooks {
  static let directory = root + "/notebooks-md"

  static func markdownFiles() -> [String] {
    return (POSIXFiles.list(directory) ?? []).filter { $0.hasSuffix(".md") }.map { directory + "/" + $0 }.sorted()
  }

  /// The commands of every ```console block, with their recorded outputs.
  static func commands() -> [NotebookCommand] {
    var out: [NotebookCommand] = []
    for file in markdownFiles() {
      guard let bytes = try? POSIXFiles.read(file) else { continue }
      let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(
        String.init)
      var inConsole = false
      var current: NotebookCommand?
      for (n, line) in lines.enumerated() {
        if line.hasPrefix("```") {
          if inConsole, let c = current { out.append(c) }
          current = nil
          inConsole = !inConsole && line == "```console"
          continue
        }
        guard inConsole else { continue }
        if line.hasPrefix("$ ") {
          if let c = current { out.append(c) }
          current = NotebookCommand(
            file: String(file.split(separator: "/").last ?? ""), line: n + 1,
            command: String(line.dropFirst(2)), expected: "")
        } else if current != nil {
          current?.expected += line + "\n"
        }
      }
    }
    return out
  }

  /// Runs one notebook command from the repository root.
  static func run(_ command: String) async -> String {
    var words = shellWords(command)
    var withErrors = false
    if words.last == "2>&1" {
      withErrors = true
      words.removeLast()
    }
    guard words.first == "tokengap" else { return "(not a tokengap command)\n" }
    let r = await tokengap(Array(words.dropFirst()))
    // CSV's CRLF line ends are shown as plain lines in Markdown.
    return (r.out + (withErrors ? r.err : "")).replacing("\r\n", with: "\n")
  }
}

@Suite("Notebooks re-run themselves")
struct NotebookTests {
  init() { _ = chdir(root) }

  @Test("Every command in notebooks-md prints what the notebook says", arguments: Notebooks.commands())
  func rerun(_ c: NotebookCommand) async {
    _ = chdir(root)
    let actual = await Notebooks.run(c.command)
    #expect(actual == c.expected, "re-record with RECORD_NOTEBOOKS=1 swift test --filter Notebook after reviewing")
  }

  @Test("There are notebooks, each opening with a Reproduce block")
  func present() throws {
    let files = Notebooks.markdownFiles()
    #expect(files.count >= 5)
    for f in files {
      let text = String(decoding: try POSIXFiles.read(f), as: UTF8.self)
      #expect(text.contains("Reproduce:"), "\(f)")
    }
  }

  @Test("Record mode rewrites the notebooks (RECORD_NOTEBOOKS=1)")
  func record() async throws {
    guard POSIXFiles.environment("RECORD_NOTEBOOKS") == "1" else { return }
    _ = chdir(root)
    for file in Notebooks.markdownFiles() {
      let lines = String(decoding: try POSIXFiles.read(file), as: UTF8.self).split(
        separator: "\n", omittingEmptySubsequences: false
      ).map(String.init)
      var out: [String] = []
      var inConsole = false
      var skipping = false
      for line in lines {
        if line.hasPrefix("```") {
          skipping = false
          inConsole = !inConsole && line == "```console"
          out.append(line)
          continue
        }
        if inConsole && line.hasPrefix("$ ") {
          out.append(line)
          let result = await Notebooks.run(String(line.dropFirst(2)))
          out += result.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
          skipping = true
          continue
        }
        if inConsole && skipping { continue }
        out.append(line)
      }
      try POSIXFiles.writeAtomically(Array(out.joined(separator: "\n").utf8), to: file)
    }
    Issue.record("notebooks recorded; review the diff and run the tests again without RECORD_NOTEBOOKS")
  }
}
