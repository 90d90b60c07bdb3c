package import EstimateModel

extension JSONValue {
  /// The document as JSON text: two-space indented, keys in the order given.
  package func serialized(pretty: Bool = true) -> String {
    var out = ""
    write(to: &out, indent: 0, pretty: pretty)
    return out
  }

  private func write(to out: inout String, indent: Int, pretty: Bool) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .number(let text): out += text
    case .string(let s): JSONValue.quote(s, into: &out)
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "["
      for (n, item) in items.enumerated() {
        if n > 0 { out += "," }
        if pretty { newline(&out, indent + 1) }
        item.write(to: &out, indent: indent + 1, pretty: pretty)
      }
      if pretty { newline(&out, indent) }
      out += "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (n, (key, value)) in members.enumerated() {
        if n > 0 { out += "," }
        if pretty { newline(&out, indent + 1) }
        JSONValue.quote(key, into: &out)
        out += pretty ? ": " : ":"
        value.write(to: &out, indent: indent + 1, pretty: pretty)
      }
      if pretty { newline(&out, indent) }
      out += "}"
    }
  }

  private func newline(_ out: inout String, _ indent: Int) {
    out += "\n"
    out += String(repeating: "  ", count: indent)
  }

  package static func quote(_ s: String, into out: inout String) {
    out += "\""
    // Most text needs no escape: no quote, backslash or control character.
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
      out += s
      out += "\""
      return
    }
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case let c where c.value < 0x20:
        let hex = String(c.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}

/// Shorthands for building output documents.
extension JSONValue {
  package static func int(_ v: Int64) -> JSONValue { .number(String(v)) }
  package static func int(_ v: Int) -> JSONValue { .number(String(v)) }
  package static func ratio(_ r: Ratio?) -> JSONValue { r.map { .number($0.formatted()) } ?? .null }
  package static func usd(_ u: USD?) -> JSONValue { u.map { .number($0.formatted()) } ?? .null }
  package static func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}
