import Compare

/// `tokengap completions bash|zsh|fish`: completion scripts generated from
/// the same option specs that parse the command line and write its help, so
/// a new option is completed the day it exists.
enum Completions {
  /// The shells a script is written for.
  enum Shell: String, CaseIterable, OptionChoice {
    case bash, zsh, fish
  }

  static func script(for shell: Shell) -> String {
    switch shell {
    case .bash: bash()
    case .zsh: zsh()
    case .fish: fish()
    }
  }

  static var commands: [CommandSpec] { Tokengap.commands }

  /// `completions`' own help: it takes a shell, not options.
  static let spec = CommandSpec(
    name: "completions",
    abstract: "Print a completion script for a shell.",
    usage: "tokengap completions \(Shell.spellings.joined(separator: "|"))",
    arguments: [("<shell>", Shell.helpList + ".")],
    options: [],
    discussion: """
      Load it for this bash session with source <(tokengap completions bash);
      save it as ~/.local/share/bash-completion/completions/tokengap (bash),
      _tokengap in a folder of $fpath (zsh), or
      ~/.config/fish/completions/tokengap.fish (fish). Tier names and model ids
      are offered from the built-in catalog.
      """)

  /// The values offered for an option: its fixed choices, else those the
  /// built-in catalog holds (tiers, model ids); empty for a file or free text.
  static func values(_ o: OptionSpec) -> [String] {
    guard o.choices.isEmpty, let source = o.catalogValues else { return o.choices }
    return source.values(in: CatalogLoader.embedded())
  }

  /// Every option of a command, with `--help` as parsing adds it.
  static func options(_ c: CommandSpec) -> [OptionSpec] {
    c.options + [OptionSpec(name: "help", short: "h", help: "Show help information.")]
  }

  /// The first sentence of a help text, for a one-line description.
  static func summary(_ help: String) -> String {
    var text = help
    if let end = text.firstRange(of: ". ") { text = String(text[..<end.lowerBound]) }
    if text.hasSuffix(".") { text.removeLast() }
    return text
  }

  static func bash() -> String {
    var out = """
      # tokengap completion for bash. Load it with
      #   source <(tokengap completions bash)
      # or save it as ~/.local/share/bash-completion/completions/tokengap.
      _tokengap() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts=""
        if [ "$COMP_CWORD" -eq 1 ]; then
          COMPREPLY=($(compgen -W "\(commands.map(\.name).joined(separator: " ")) help completions --version --help" -- "$cur"))
          return
        fi
        case "${COMP_WORDS[1]}" in
          help) COMPREPLY=($(compgen -W "\(commands.map(\.name).joined(separator: " ")) completions" -- "$cur")); return ;;
          completions) COMPREPLY=($(compgen -W "\(Shell.spellings.joined(separator: " "))" -- "$cur")); return ;;

      """
    for c in commands {
      out += "    \(c.name))\n      case \"$prev\" in\n"
      for o in options(c) where o.value != nil {
        let names = (["--" + o.name] + (o.short.map { ["-\($0)"] } ?? [])).joined(separator: "|")
        let choices = values(o)
        let values =
          choices.isEmpty
          ? "COMPREPLY=($(compgen -f -- \"$cur\"))"
          : "COMPREPLY=($(compgen -W \"\(choices.joined(separator: " "))\" -- \"$cur\"))"
        out += "        \(names)) \(values); return ;;\n"
      }
      let all = options(c).flatMap { o in ["--" + o.name] + (o.short.map { ["-\($0)"] } ?? []) }
      out += "      esac\n      opts=\"\(all.joined(separator: " "))\" ;;\n"
    }
    out += """
        esac
        if [[ "$cur" == -* ]]; then
          COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        else
          COMPREPLY=($(compgen -f -- "$cur"))
        fi
      }
      complete -o filenames -F _tokengap tokengap

      """
    return out
  }

  /// Text inside a zsh `_arguments` spec: brackets, colons and quotes escaped.
  static func zshEscape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "[", "]", ":", "\\": out += "\\" + String(c)
      case "'": out += "'\\''"
      default: out.append(c)
      }
    }
    return out
  }

  static func zsh() -> String {
    var out = """
      #compdef tokengap
      # tokengap completion for zsh: save as _tokengap in a folder of $fpath
      # (tokengap completions zsh > ~/.zfunc/_tokengap), then compinit.
      _tokengap() {
        local -a subcommands
        subcommands=(

      """
    for c in commands { out += "    '\(zshEscape(c.name)):\(zshEscape(summary(c.abstract)))'\n" }
    out += """
          'help:Show help for a subcommand'
          'completions:Print a completion script for a shell'
        )
        if (( CURRENT == 2 )); then
          _describe 'subcommand' subcommands
          return
        fi
        case $words[2] in
          help) _values 'subcommand' \(commands.map(\.name).joined(separator: " ")) completions ;;
          completions) _values 'shell' \(Shell.spellings.joined(separator: " ")) ;;

      """
    for c in commands {
      out += "    \(c.name))\n      _arguments -s \\\n"
      for o in options(c) {
        let text = zshEscape(summary(o.help))
        let names = o.short.map { "'(-\($0) --\(o.name))'{-\($0),--\(o.name)}" } ?? "'--\(o.name)"
        let open = o.short == nil ? "" : "'"
        var spec = "\(names)\(open)[\(text)]"
        if let value = o.value {
          let choices = values(o)
          spec +=
            choices.isEmpty
            ? ":\(zshEscape(value)):_files" : ":\(zshEscape(value)):(\(choices.joined(separator: " ")))"
        }
        out += "        \(spec)' \\\n"
      }
      out += "        '*:path:_files' ;;\n"
    }
    out += """
        esac
      }
      _tokengap "$@"

      """
    return out
  }

  /// Text inside a fish single-quoted string.
  static func fishEscape(_ s: String) -> String {
    s.replacing("\\", with: "\\\\").replacing("'", with: "\\'")
  }

  static func fish() -> String {
    var out = """
      # tokengap completion for fish: tokengap completions fish > ~/.config/fish/completions/tokengap.fish
      complete -c tokengap -f
      complete -c tokengap -n __fish_use_subcommand -a help -d 'Show help for a subcommand'
      complete -c tokengap -n __fish_use_subcommand -a completions -d 'Print a completion script for a shell'
      complete -c tokengap -n '__fish_seen_subcommand_from completions' -a '\(Shell.spellings.joined(separator: " "))'

      """
    for c in commands {
      out += "complete -c tokengap -n __fish_use_subcommand -a \(c.name) -d '\(fishEscape(summary(c.abstract)))'\n"
    }
    for c in commands {
      let when = "-n '__fish_seen_subcommand_from \(c.name)'"
      // Paths are what a subcommand takes besides its options.
      out += "complete -c tokengap \(when) -F\n"
      for o in options(c) {
        var line = "complete -c tokengap \(when)"
        if let s = o.short { line += " -s \(s)" }
        line += " -l \(o.name)"
        if o.value != nil {
          let choices = values(o)
          line += choices.isEmpty ? " -r -F" : " -r -f -a '\(fishEscape(choices.joined(separator: " ")))'"
        }
        line += " -d '\(fishEscape(summary(o.help)))'"
        out += line + "\n"
      }
    }
    return out
  }
}
