import Compare
import EstimateModel

@main
enum Tokengap {
  static func main() async {
    var out: any TextSink = FileDescriptorSink(fd: 1)
    var err: any TextSink = FileDescriptorSink(fd: 2)
    let arguments = Array(CommandLine.arguments.dropFirst())
    let status = await run(arguments, output: &out, errors: &err)
    terminate(status)
  }

  /// The subcommands, in the order help lists them.
  static let commands: [CommandSpec] = [
    AnalyzeCommand.spec, SimulateCommand.spec, CacheCommand.spec, PairsCommand.spec,
    ChartCommand.spec, ReportCommand.spec, EstimateCommand.spec, RulesCommand.spec,
  ]

  static let overview = """
    OVERVIEW: Measure how far count_tokens' cache-blind estimate overstates ITPM and cost.

    USAGE: tokengap <subcommand> [options]

    OPTIONS:
      --version               Show the version.
      -h, --help              Show help information.

    SUBCOMMANDS:
    \(commands.map { HelpLayout.row($0.name, $0.abstract) }.joined())
      See 'tokengap help <subcommand>' for detailed help.

    """

  /// Runs one invocation and returns its exit status; nothing else touches the process.
  static func run(_ arguments: [String], output: inout any TextSink, errors: inout any TextSink)
    async -> Int32
  {
    guard let first = arguments.first else {
      output.write(overview)
      return ExitCode.ok.rawValue
    }
    let rest = arguments.dropFirst()
    switch first {
    case "--version":
      output.write("tokengap \(ToolInfo.version)\n")
      return ExitCode.ok.rawValue
    case "-h", "--help":
      output.write(overview)
      return ExitCode.ok.rawValue
    case "help":
      guard let name = rest.first else {
        output.write(overview)
        return ExitCode.ok.rawValue
      }
      guard let spec = commands.first(where: { $0.name == name }) else {
        errors.write("tokengap: error: unknown subcommand '\(Escape.terminal(name))'\n")
        return ExitCode.usage.rawValue
      }
      output.write(spec.help())
      return ExitCode.ok.rawValue
    default:
      break
    }
    guard let spec = commands.first(where: { $0.name == first }) else {
      errors.write("tokengap: error: unknown subcommand '\(Escape.terminal(first))'\n")
      errors.write("Run 'tokengap --help' to see the subcommands.\n")
      return ExitCode.usage.rawValue
    }
    do {
      let options = try parseOptions(rest, spec)
      if options.wantsHelp {
        output.write(spec.help())
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

  /// The built-in catalog or the one named by `--catalog`.
  static func catalog(_ options: ParsedOptions) throws -> ModelCatalog {
    guard let path = options.value("catalog") else { return CatalogLoader.embedded() }
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
    if let target = POSIXFiles.identity(path) {
      // Standard input counts as an input: `analyze - -o f < f` must not eat f.
      for input in inputs + ["-"] where POSIXFiles.identity(input).map({ $0 == target }) ?? false {
        // A terminal or /dev/null shared by stdin and the output is no input file.
        if input == "-", !POSIXFiles.standardInputIsRegularFile() { continue }
        throw CommandFailure(
          code: .cannotWrite,
          message: input == "-"
            ? "refusing to write over standard input '\(path)'"
            : "refusing to write over the input '\(input)'")
      }
    }
  }
}
