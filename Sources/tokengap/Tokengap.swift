import Compare
import EstimateModel

@main
enum Tokengap {
  static func main() async {
    var out: any TextSink = FileDescriptorSink(fd: 1)
    var err: any TextSink = FileDescriptorSink(fd: 2)
    let arguments = Array(CommandLine.arguments.dropFirst())
    // The process exits right after the command: what it loaded is not freed first.
    ExitKeep.process.enable()
    let status = await run(arguments, output: &out, errors: &err)
    terminate(status)
  }

  /// The subcommands, in the order help lists them.
  static let commands: [CommandSpec] = [
    AnalyzeCommand.spec, SimulateCommand.spec, CacheCommand.spec, PairsCommand.spec,
    ChartCommand.spec, ReportCommand.spec, EstimateCommand.spec, RulesCommand.spec, StatuslineCommand.spec,
    WatchCommand.spec,
  ]

  static let overview = """
    OVERVIEW: Measure how far count_tokens' cache-blind estimate overstates ITPM and cost.

    USAGE: tokengap <subcommand> [options]

    OPTIONS:
      --version               Show the version.
      -h, --help              Show help information.

    COMPLETIONS:
      tokengap completions bash|zsh|fish    Print a completion script for the shell.

    SUBCOMMANDS:
    \(commands.map { HelpLayout.row($0.name, $0.abstract) }.joined())
      See 'tokengap help <subcommand>' for detailed help.

    """

  /// Runs one invocation and returns its exit status; nothing else touches the process.
  ///
  /// `now` is the time `--since 7d` and `--until today` count from, and
  /// `zone` the one `--timezone local` means (nil: the system's); tests pin both.
  static func run(
    _ arguments: [String], now: Instant = WallClock.now(), zone: TimeZoneRule? = nil, output: inout any TextSink,
    errors: inout any TextSink
  ) async -> Int32 {
    guard let first = arguments.first else {
      output.write(HelpLayout.wrap(overview, width: output.columns))
      return ExitCode.ok.rawValue
    }
    let rest = arguments.dropFirst()
    switch first {
    case "--version":
      output.write("tokengap \(ToolInfo.version)\n")
      return ExitCode.ok.rawValue
    case "-h", "--help":
      output.write(HelpLayout.wrap(overview, width: output.columns))
      return ExitCode.ok.rawValue
    case "completions":
      if rest.count == 1, rest.first == "-h" || rest.first == "--help" {
        output.write(HelpLayout.wrap(Completions.spec.help(), width: output.columns))
        return ExitCode.ok.rawValue
      }
      guard let text = rest.first, rest.count == 1, let shell = Completions.Shell(rawValue: text) else {
        let hint = rest.count == 1 ? Suggestions.hint(rest[rest.startIndex], Completions.Shell.spellings) : ""
        errors.write(
          "tokengap: error: \(Escape.terminal("'completions' takes one shell: \(Completions.Shell.helpList) (tokengap completions bash)" + hint))\n"
        )
        return ExitCode.usage.rawValue
      }
      output.write(Completions.script(for: shell))
      return ExitCode.ok.rawValue
    case "help":
      guard let name = rest.first else {
        output.write(HelpLayout.wrap(overview, width: output.columns))
        return ExitCode.ok.rawValue
      }
      guard let spec = (commands + [Completions.spec]).first(where: { $0.name == name }) else {
        errors.write("tokengap: error: \(Escape.terminal(unknownSubcommand(name)))\n")
        return ExitCode.usage.rawValue
      }
      output.write(HelpLayout.wrap(spec.help(), width: output.columns))
      return ExitCode.ok.rawValue
    default:
      break
    }
    guard let spec = commands.first(where: { $0.name == first }) else {
      errors.write("tokengap: error: \(Escape.terminal(unknownSubcommand(first)))\n")
      errors.write("Run 'tokengap --help' to see the subcommands.\n")
      return ExitCode.usage.rawValue
    }
    do {
      let options = try parseOptions(rest, spec, now: now, zone: zone)
      if options.wantsHelp {
        output.write(HelpLayout.wrap(spec.help(), width: output.columns))
        return ExitCode.ok.rawValue
      }
      switch spec.name {
      case EstimateCommand.spec.name:
        return try EstimateCommand.run(options, output: &output, errors: &errors).rawValue
      case RulesCommand.spec.name:
        return try RulesCommand.run(options, output: &output, errors: &errors).rawValue
      case SimulateCommand.spec.name:
        return try await SimulateCommand.run(options, output: &output, errors: &errors).rawValue
      case ChartCommand.spec.name:
        return try await ChartCommand.run(options, output: &output, errors: &errors).rawValue
      case ReportCommand.spec.name:
        return try await ReportCommand.run(options, output: &output, errors: &errors).rawValue
      case PairsCommand.spec.name:
        return try await PairsCommand.run(options, output: &output, errors: &errors).rawValue
      case StatuslineCommand.spec.name:
        return try await StatuslineCommand.run(options, output: &output, errors: &errors).rawValue
      case WatchCommand.spec.name:
        return try await WatchCommand.run(options, output: &output, errors: &errors).rawValue
      case CacheCommand.spec.name:
        return try await CacheCommand.run(options, output: &output, errors: &errors).rawValue
      default:
        return try await AnalyzeCommand.run(options, output: &output, errors: &errors).rawValue
      }
    } catch let error as UsageError {
      errors.write("tokengap: error: \(Escape.terminal(error.message))\n")
      errors.write("Usage: \(spec.usage)\n  See 'tokengap help \(spec.name)'.\n")
      return ExitCode.usage.rawValue
    } catch let error as CommandFailure {
      errors.write("tokengap: error: \(Escape.terminal(error.message))\n")
      return error.code.rawValue
    } catch {
      errors.write("tokengap: error: \(Escape.terminal("\(error)"))\n")
      return ExitCode.data.rawValue
    }
  }
}

extension Tokengap {
  /// `unknown subcommand 'x'`, with the nearest subcommand's name if one is close.
  static func unknownSubcommand(_ name: String) -> String {
    if name.hasPrefix("-") {
      return "unknown option '\(name)'" + Suggestions.hint(name, ["--version", "--help"])
    }
    return "unknown subcommand '\(name)'" + Suggestions.hint(name, commands.map(\.name) + ["help"])
  }
}

/// A failure with its exit status, reported as `tokengap: error: …`.
struct CommandFailure: Error {
  var code: ExitCode
  var message: String
}

/// Options every data command shares.
enum Common {
  static let catalog = OptionSpec(
    name: "catalog", value: "file",
    help: "Use this catalog JSON instead of the built-in one.")

  /// `-q`: on commands without a ledger it only says nothing more than errors.
  static func quiet(_ help: String = "Do not print the ledger on standard error.") -> OptionSpec {
    OptionSpec(name: "quiet", short: "q", help: help)
  }

  /// `--format`, listing the spellings the command takes.
  static func format(_ formats: [OutputFormat] = OutputFormat.allCases) -> OptionSpec {
    let names = formats.map(\.rawValue)
    let list =
      names.count == 2
      ? "\(names[0]) or \(names[1])"
      : names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    return OptionSpec(name: "format", value: "format", help: "\(list).", defaultText: "table", choices: names)
  }

  static let json = OptionSpec(name: "json", help: "The same as --format json.")

  /// The output format: `--format`, else `--json`, else the extension of
  /// `--output` (`.json`, `.csv`, `.md`), else table.
  ///
  /// An explicit `--format` wins over the extension (`--format csv -o x.json`
  /// writes CSV); `--json` beside another `--format` is a mistake.
  static func format(_ o: ParsedOptions, _ formats: [OutputFormat] = OutputFormat.allCases) throws
    -> OutputFormat
  {
    if let text = o.value("format") {
      if text == "jsonl", !formats.contains(where: { $0.rawValue == text }) {
        throw UsageError(
          "'--format jsonl' writes one row per request, which only 'analyze --by request' does; this command writes "
            + formats.map(\.rawValue).joined(separator: ", "))
      }
      let format = try ParsedOptions.choice("format", text, formats)
      if o.flag("json"), format != .json {
        throw UsageError("'--json' and '--format \(text)' ask for two formats; give one of them")
      }
      return format
    }
    if o.flag("json") { return .json }
    if let path = o.value("output"), path != "-" {
      let name = String(path.split(separator: "/").last ?? "").lowercased()
      if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") {
        // Writing over an input is the graver mistake, and keeps its 74.
        try refuseInput(path, o.positionals)
        throw UsageError(
          "'--output \(path)': only 'analyze --by request' writes JSON Lines; name the file .json for JSON, or give '--format'"
        )
      }
      let byExtension: [(String, OutputFormat)] = [(".json", .json), (".csv", .csv), (".md", .markdown)]
      for (ext, format) in byExtension where name.hasSuffix(ext) && formats.contains(format) { return format }
    }
    return .table
  }

  /// The built-in catalog, or the one in the file at `path`.
  static func catalog(path: String?) throws -> ModelCatalog {
    guard let path else { return CatalogLoader.embedded() }
    let bytes: [UInt8]
    do {
      bytes = try POSIXFiles.read(path)
    } catch {
      throw CommandFailure(code: .noInput, message: "cannot read catalog \(error)")
    }
    do {
      return try CatalogLoader.load(bytes)
    } catch {
      throw CommandFailure(code: .data, message: "'\(path)': \(error)")
    }
  }

  /// Writes a rendering to `--output` (whole, or not at all) or to standard output.
  static func emit(
    _ text: String, to path: String?, inputs: [String] = [], output: inout any TextSink
  ) throws {
    guard let path, path != "-" else {
      output.write(text)
      return
    }
    try refuseInput(path, inputs)
    do {
      try POSIXFiles.writeOutput(Array(text.utf8), to: path)
    } catch {
      throw CommandFailure(code: .cannotWrite, message: "cannot write \(error)")
    }
  }

  /// Throws when `path` is one of the inputs, standard input included.
  static func refuseInput(_ path: String, _ inputs: [String]) throws {
    try refuseInputs([path], inputs)
  }

  /// Throws when any of `paths` is one of the inputs, standard input
  /// included; each input is looked at once, however many paths.
  static func refuseInputs(_ paths: [String], _ inputs: [String]) throws {
    let targets = paths.compactMap { p in POSIXFiles.identity(p).map { (path: p, id: $0) } }
    guard !targets.isEmpty else { return }
    // Standard input counts as an input: `analyze - -o f < f` must not eat f.
    for input in inputs + ["-"] {
      guard let id = POSIXFiles.identity(input), let target = targets.first(where: { $0.id == id }) else { continue }
      // A terminal or /dev/null shared by stdin and the output is no input file.
      if input == "-", !POSIXFiles.standardInputIsRegularFile() { continue }
      throw CommandFailure(
        code: .cannotWrite,
        message: input == "-"
          ? "refusing to write over standard input '\(target.path)'"
          : "refusing to write over the input '\(input)'")
    }
  }
}
