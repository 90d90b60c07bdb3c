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
