/// Data made safe for where it is shown: a terminal, Markdown, SVG, a shell
/// command.
///
/// Model names, session ids, project names and file paths come from files
/// that other programs (and sometimes other people) wrote. None of them may
/// move the cursor, change a window title, reorder text or inject markup.
package enum Escape {
  /// Visible escapes for every C0 and C1 control, DEL and bidi control:
  /// `\x1b`, `\x7f`, `\u{202e}`. Everything else is kept.
  package static func terminal(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: isControl) else { return s }
    var out = ""
    for u in s.unicodeScalars {
      if isControl(u) { out += code(u) } else { out.unicodeScalars.append(u) }
    }
    return out
  }

  /// A table cell: escaped for the terminal and cut to `limit` characters
  /// with an ellipsis, so one huge value cannot widen every row.
  package static func cell(_ s: String, limit: Int = 200) -> String {
    let t = terminal(s)
    guard t.count > limit else { return t }
    return String(t.prefix(max(1, limit - 1))) + "…"
  }

  /// Markdown text: HTML metacharacters as entities, Markdown syntax
  /// (backticks, brackets, pipes, backslashes) backslash-escaped, newlines
  /// and controls as visible escapes.
  package static func markdown(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "`", "[", "]", "|", "\\": out += "\\" + String(u)
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      default:
        if isControl(u) { out += code(u) } else { out.unicodeScalars.append(u) }
      }
    }
    return out
  }

  /// A relative file path as the destination of a Markdown link or image:
  /// percent-encoded, so it leads to the file in any viewer.
  ///
  /// | in the path                                 | written             |
  /// |---------------------------------------------|---------------------|
  /// | `A-Z a-z 0-9 - . _ /`                       | as is               |
  /// | every other byte, UTF-8 and controls too    | `%XX`, upper case   |
  ///
  /// Percent-encoding rather than CommonMark's `<…>` destination: `<…>`
  /// cannot hold a line break at all, and the brackets are CommonMark's (a
  /// reader that predates it may keep them in the address). An encoded path
  /// is a plain relative URL that CommonMark readers, GitHub's cmark-gfm and
  /// Python-Markdown all pass through as written (checked with markdown-it-py
  /// 4.3, cmarkgfm 2025.10 and Python-Markdown 3.11), and that a browser or a
  /// repository viewer decodes back to the name. Besides a space, `(`, `)`,
  /// `<`, `>`, a line break and the other controls, which end or break a
  /// destination, it encodes `\` and `&` (CommonMark reads backslash escapes
  /// and entities in a destination), `%` (so the encoding reads back), `:`
  /// (`a:b/c` would be a URL with the scheme `a`), `?` and `#` (a query, a
  /// fragment). A file-name byte that is not UTF-8
  /// (``POSIXFiles/fileName(_:)``) is encoded as that byte: the name on disk.
  package static func linkDestination(_ path: String) -> String {
    let hex = Array("0123456789ABCDEF".unicodeScalars)
    var out = ""
    for byte in POSIXFiles.cPath(path).dropLast() {
      let b = UInt8(bitPattern: byte)
      switch b {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
        UInt8(ascii: "/"):
        out.unicodeScalars.append(Unicode.Scalar(b))
      default:
        out.unicodeScalars.append("%")
        out.unicodeScalars.append(hex[Int(b >> 4)])
        out.unicodeScalars.append(hex[Int(b & 0x0F)])
      }
    }
    return out
  }

  /// A shell word that reads back as the text: bare when every character is
  /// safe, else quoted.
  ///
  /// | the text                                   | written         |
  /// |--------------------------------------------|-----------------|
  /// | only `A-Z a-z 0-9 _ . / : = @ % + , -`     | `as-is`         |
  /// | anything else, empty, or led by `=`        | `'it'\''s'`     |
  /// | a control, as ``terminal(_:)`` finds them  | `$'a\nb\033'`   |
  ///
  /// A word led by `=` is quoted because zsh expands `=name` to a command's
  /// path. Controls (a newline, an escape, a bidi override) are written as
  /// visible escapes in POSIX.1-2024's dollar-single quotes (bash, zsh and
  /// ksh read them; dash 0.5.12 does not): the word stays on one line, so it
  /// cannot end a Markdown code block, move a terminal's cursor or reorder
  /// what is shown. `\n`, `\t` and `\r` go by name, other controls as their
  /// UTF-8 bytes, each in three octal digits.
  package static func shell(_ s: String) -> String {
    func safe(_ u: Unicode.Scalar) -> Bool {
      switch u {
      case "A"..."Z", "a"..."z", "0"..."9", "_", ".", "/", ":", "=", "@", "%", "+", ",", "-": true
      default: false
      }
    }
    if !s.isEmpty, s.first != "=", s.unicodeScalars.allSatisfy(safe) { return s }
    guard s.unicodeScalars.contains(where: isControl) else {
      return "'" + s.replacing("'", with: #"'\''"#) + "'"
    }
    var out = "$'"
    for u in s.unicodeScalars {
      switch u {
      case "\\": out += #"\\"#
      case "'": out += #"\'"#
      case "\n": out += #"\n"#
      case "\t": out += #"\t"#
      case "\r": out += #"\r"#
      default:
        guard isControl(u) else {
          out.unicodeScalars.append(u)
          continue
        }
        for byte in String(u).utf8 {
          let octal = String(byte, radix: 8)
          out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
        }
      }
    }
    return out + "'"
  }

  /// XML text or a double-quoted attribute: `& < > "` as entities; characters XML 1.0
  /// forbids (controls other than tab, newline and return) become U+FFFD.
  package static func xml(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "\t", "\n", "\r": out.unicodeScalars.append(u)
      default:
        if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF || (0xD800..<0xE000).contains(u.value) {
          out += "\u{FFFD}"
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out
  }

  /// C0, DEL, C1 and the bidi controls (embeddings, overrides, isolates, marks).
  static func isControl(_ u: Unicode.Scalar) -> Bool {
    let v = u.value
    // A file-name byte that was not UTF-8 (POSIXFiles.fileName) shows as \\xNN.
    return (0x10FF80...0x10FFFF).contains(v) || v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v)
      || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F || v == 0x061C
  }

  private static func code(_ u: Unicode.Scalar) -> String {
    if u.value >= 0x10FF80 { return "\\x" + String(u.value - 0x10FF00, radix: 16) }
    let hex = String(u.value, radix: 16)
    return u.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
  }
}
