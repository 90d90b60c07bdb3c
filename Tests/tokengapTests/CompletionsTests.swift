import Compare
import Testing

@testable import tokengap

@Suite("Shell completions")
struct CompletionsTests {
  @Test("Each script names every subcommand and every option, from the specs", arguments: ["bash", "zsh", "fish"])
  func complete(_ shell: String) async {
    let r = await tokengap("completions", shell)
    #expect(r.status == 0 && r.err.isEmpty)
    for c in Tokengap.commands {
      #expect(r.out.contains(c.name), "\(shell): \(c.name)")
      for o in c.options {
        let spelled = shell == "fish" ? "-l \(o.name)" : "--\(o.name)"
        #expect(r.out.contains(spelled), "\(shell): \(c.name) \(spelled)")
      }
    }
    // A fixed list of values is offered as such (cache --format).
    #expect(r.out.contains("table json csv md"), "\(shell)")
  }

  @Test("A shell tokengap does not know is a usage error naming the three")
  func unknownShell() async {
    let r = await tokengap("completions", "powershell")
    #expect(r.status == 64 && r.err.contains("bash, zsh or fish"))
    #expect(await tokengap("completions").status == 64)
  }

  @Test("zsh specs escape what _arguments reads: brackets, colons and quotes in help text")
  func zshEscaping() {
    #expect(Completions.zshEscape("a [b]: c's") == #"a \[b\]\: c'\''s"#)
    #expect(Completions.fishEscape("it's") == #"it\'s"#)
  }
}

@Suite("Status line")
struct StatuslineTests {
  @Test("A recorded status object gives the session's P/I, hit rate and cost, worked from SOURCES.md")
  func recorded() async {
    // fe5e1c67 (SOURCES.md): in 818, writes 137,976, reads 3,647,854, out 51,933.
    // P = 3,786,648, I = 138,794: 27.28 -> 27.3x; hit 3,647,854 / 3,786,648 = 96.3 %.
    // Claude Sonnet 4: 818 x $3 + 137,976 x $3.75 + 3,647,854 x $0.30 + 51,933 x $15
    // = $2,393,215.2 per million = $2.39.
    let path =
      root
      + "/datasets/claude-code/claude-code-viewer/projects/sample-project/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"
    let status =
      #"{"session_id":"fe5e1c67-53e7-4862-81ae-d0e013e3270b","transcript_path":"PATH","model":{"id":"claude-sonnet-4-20250514","display_name":"Sonnet 4"},"cwd":"/path/to/Demo","workspace":{"current_dir":"/path/to/Demo"}}"#
      .replacing("PATH", with: path)
    // No state file under the home folder from a test.
    let o = StatuslineCommand.Options(noCache: true)
    let line = await StatuslineCommand.text(forStatus: Array(status.utf8), options: o)
    #expect(line == "P/I 27.3x · hit 96.3% · $2.39")
    let withLimit = await StatuslineCommand.text(
      forStatus: Array(status.utf8), options: StatuslineCommand.Options(itpm: 30_000, noCache: true))
    #expect(withLimit.hasPrefix("P/I 27.3x · hit 96.3% · $2.39 · ITPM ") && withLimit.hasSuffix("% of 30.0K"))
  }

  @Test("Without a transcript it says so in a few words")
  func missing() async {
    let o = StatuslineCommand.Options(noCache: true)
    #expect(
      await StatuslineCommand.text(forStatus: Array("{}".utf8), options: o).hasPrefix(
        "tokengap: no transcript_path"))
    #expect(
      await StatuslineCommand.text(forStatus: Array("not json".utf8), options: o).hasPrefix(
        "tokengap: no transcript_path"))
    let none = #"{"transcript_path":"/nonexistent/x.jsonl"}"#
    #expect(
      await StatuslineCommand.text(forStatus: Array(none.utf8), options: o)
        == "tokengap: no usage in x.jsonl")
  }
}
