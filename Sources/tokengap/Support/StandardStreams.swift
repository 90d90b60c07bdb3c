import Compare

#if canImport(Glibc)
  import Glibc
  private let systemWrite = Glibc.write
#elseif canImport(Musl)
  import Musl
  private let systemWrite = Musl.write
#elseif canImport(Darwin)
  import Darwin
  private let systemWrite = Darwin.write
#endif

/// Somewhere text goes: standard output, standard error, or a buffer in tests.
protocol TextSink {
  mutating func write(_ text: String)
  /// How many columns a table written here may take, when it is a
  /// terminal or `COLUMNS` says; nil elsewhere (a file, a pipe, a test).
  var columns: Int? { get }
}

/// A file descriptor written with write(2).
struct FileDescriptorSink: TextSink {
  let fd: Int32

  /// `COLUMNS` when set to a number, else the terminal's width.
  var columns: Int? {
    if let text = POSIXFiles.environment("COLUMNS"), let n = Int(text), n > 0 { return n }
    guard isTerminal(fd) else { return nil }
    var size = winsize()
    guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
  }

  mutating func write(_ text: String) {
    // A native string's bytes are written where they lie, not copied first.
    var text = text
    text.withUTF8 { bytes in
      var offset = 0
      while offset < bytes.count {
        let n = systemWrite(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return
        }
        offset += n
      }
    }
  }
}

/// Collects text, for tests.
struct BufferSink: TextSink {
  var text = ""
  /// The width a test pretends the terminal has.
  var columns: Int? = nil
  mutating func write(_ text: String) { self.text += text }
}

/// Whether a descriptor is a terminal (progress is shown only then).
func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// Ends the process with a status.
func terminate(_ status: Int32) -> Never { exit(status) }
