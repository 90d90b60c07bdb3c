import Compare
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a program with arguments and returns what it wrote to standard
/// output, or nil when it could not be started or failed.
private func output(of argv: [String]) -> [UInt8]? {
  var fds: [Int32] = [0, 0]
  guard pipe(&fds) == 0 else { return nil }
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
  posix_spawn_file_actions_addclose(&actions, fds[0])
  let cArgs = argv.map { strdup($0) } + [nil]
  defer { for p in cArgs { free(p) } }
  var pid: pid_t = 0
  let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
  close(fds[1])
  defer { close(fds[0]) }
  guard spawned == 0 else { return nil }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 4096)
  while true {
    let n = read(fds[0], &buffer, buffer.count)
    guard n > 0 else { break }
    bytes += buffer.prefix(n)
  }
  var status: Int32 = 0
  waitpid(pid, &status, 0)
  return status == 0 ? bytes : nil
}

/// The words a shell reads from `text`, each printed as it received it.
private func wordsRead(by shell: String, _ text: String) -> [[UInt8]]? {
  let flags = shell.hasSuffix("zsh") ? ["-f"] : []
  guard let out = output(of: [shell] + flags + ["-c", "printf '%s\\0' " + text]) else { return nil }
  return out.split(separator: 0, omittingEmptySubsequences: false).dropLast().map(Array.init)
}

/// Texts a quoting must survive: every control C0 and C1 has, DEL, bidi
/// overrides, quotes, backticks, globs, expansions, spaces, non-ASCII.
private let hostile: [String] =
  [
    "", " ", "'", "''", "\"", "`date`", "$(date)", "$HOME", "${x}", "a b", "a\tb", "a\nb", "a\r\nb", "*", "?", "[a]",
    "~", "~/x", "=ls", "a=b", "-", "--", "-x", "!", "!!", "#", "a#b", "&", ";", "|", "<", ">", "(", ")", "{a,b}",
    "\\", "\\n", "a\\'b", "it's", "```", "\n```\n# title", "\u{1B}[31mred", "\u{7F}", "\u{85}", "\u{9B}",
    "it's\nok", "a\\\u{1B}b", "\u{202E}txt.exe", "\u{2066}x\u{2069}", "\u{200F}", "é", "日本語", "emoji 🙂", "x\u{10FF80}y",
  ] + (1..<0x20).map { "<" + String(Character(Unicode.Scalar(UInt8($0)))) + ">" }

/// The shells on this machine that read words back.
private let shells: [String] = ["/bin/bash", "/bin/zsh", "/bin/sh"].filter { access($0, X_OK) == 0 }

@Suite("Shell words")
struct ShellWordTests {
  @Test(
    "Each form, written by hand",
    arguments: [
      ("claude-sonnet-4-5", "claude-sonnet-4-5"),
      ("/tmp/a_b/c.d:e=f@g%h+i,j-k", "/tmp/a_b/c.d:e=f@g%h+i,j-k"),
      ("", "''"),
      ("a b", "'a b'"),
      ("it's", #"'it'\''s'"#),
      ("`date`", "'`date`'"),
      ("$HOME", "'$HOME'"),
      ("=ls", "'=ls'"),
      ("~/x", "'~/x'"),
      ("é", "'é'"),
      ("a\nb", #"$'a\nb'"#),
      ("a\tb\r", #"$'a\tb\r'"#),
      ("it's\n", #"$'it\'s\n'"#),
      ("a\\b\u{1B}", #"$'a\\b\033'"#),
      ("\u{202E}x", #"$'\342\200\256x'"#),
      ("\u{85}", #"$'\302\205'"#),
    ])
  func handWritten(_ text: String, _ expected: String) {
    #expect(Escape.shell(text) == expected)
  }

  @Test("No word holds a control or a line break: it stays on its line")
  func oneLine() {
    for text in hostile {
      let word = Escape.shell(text)
      #expect(!word.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(word)")
      #expect(Escape.terminal(word) == word, "\(word)")
    }
  }

  @Test(
    "The shell reads back every text exactly",
    arguments: shells)
  func readBack(_ shell: String) throws {
    // dash (a common /bin/sh) predates dollar-single quotes: it is given
    // the texts that need none.
    let dollar = hostile.filter { Escape.shell($0).hasPrefix("$'") }
    let texts = shell == "/bin/sh" ? hostile.filter { !dollar.contains($0) } : hostile
    let words = try #require(wordsRead(by: shell, texts.map(Escape.shell).joined(separator: " ")))
    #expect(words.count == texts.count)
    for (read, text) in zip(words, texts) {
      #expect(read == Array(text.utf8), "\(Escape.shell(text))")
    }
  }
}
