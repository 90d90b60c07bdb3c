/// Decides whether a JSON file is a structured capture from the structure of
/// its first top-level value, never from a key found anywhere in the bytes.
///
/// A transcript line that quotes a HAR or an OpenAI response inside a tool
/// result is still a transcript: only the keys of the top-level object (and
/// of its top-level `usage` object) are looked at.
///
/// | top-level value | read as |
/// |---|---|
/// | object with `log`, `resourceLogs`, `count_tokens`, `modelId` | capture |
/// | object with `data` holding an array (Admin and Claude Code reports) | capture |
/// | object whose `usage` has `prompt_tokens`, `input_tokens_details` or `inputTokens` | capture |
/// | array whose first element is one of the above | capture |
/// | anything else | JSON Lines or a document |
enum FormatSniffer {
  static func isCapture(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var s = Sniffer(b: bytes, i: 0)
    s.space()
    if s.peek == UInt8(ascii: "[") {
      s.i += 1
      s.space()
    }
    guard s.peek == UInt8(ascii: "{") else { return false }
    return s.objectIsCapture()
  }

  /// Whether the first top-level value is one of tokengap's own rows: an
  /// object whose `schema` is a string starting with `tokengap.`.
  static func isRows(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var s = Sniffer(b: bytes, i: 0)
    s.space()
    guard s.peek == UInt8(ascii: "{") else { return false }
    var rows = false
    s.forEachKey { key, at in
      guard key.elementsEqual("schema".utf8) else { return true }
      let mark = Array("\"tokengap.".utf8)
      rows = at.i + mark.count <= at.b.count && at.b[at.i..<(at.i + mark.count)].elementsEqual(mark)
      return false
    }
    return rows
  }

  static func isRows(_ bytes: ArraySlice<UInt8>) -> Bool {
    bytes.withUnsafeBufferPointer { isRows($0) }
  }

  /// The first bytes of tokengap's own rows as CSV: the request CSV's header.
  static let rowsCSVHeader = Array((Dimension.request.columns.joined(separator: ",") + ",").utf8)

  static func isCapture(_ bytes: ArraySlice<UInt8>) -> Bool {
    bytes.withUnsafeBufferPointer { isCapture($0) }
  }

  private static let topKeys: [[UInt8]] = ["log", "resourceLogs", "count_tokens", "modelId"].map {
    Array($0.utf8)
  }
  private static let usageKeys: [[UInt8]] = ["prompt_tokens", "input_tokens_details", "inputTokens"]
    .map { Array($0.utf8) }

  private struct Sniffer {
    let b: UnsafeBufferPointer<UInt8>
    var i: Int

    var peek: UInt8? { i < b.count ? b[i] : nil }

    mutating func space() {
      while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    /// At `{`: whether the object's keys mark a capture.
    mutating func objectIsCapture() -> Bool {
      var capture = false
      forEachKey { key, s in
        if FormatSniffer.topKeys.contains(where: { $0.elementsEqual(key) }) {
          capture = true
        } else if key.elementsEqual("data".utf8) {
          capture = s.peek == UInt8(ascii: "[")
        } else if key.elementsEqual("usage".utf8), s.peek == UInt8(ascii: "{") {
          var inner = s
          inner.forEachKey { k, _ in
            if FormatSniffer.usageKeys.contains(where: { $0.elementsEqual(k) }) { capture = true }
            return !capture
          }
        }
        return !capture
      }
      return capture
    }

    /// Visits the keys of the object at `{` with the sniffer at each value;
    /// stops when `body` returns false, the object ends or the bytes do.
    mutating func forEachKey(_ body: (UnsafeBufferPointer<UInt8>, inout Sniffer) -> Bool) {
      guard peek == UInt8(ascii: "{") else { return }
      i += 1
      while true {
        space()
        guard peek == UInt8(ascii: "\"") else { return }
        let start = i + 1
        guard skipString() else { return }
        let key = UnsafeBufferPointer(rebasing: b[start..<(i - 1)])
        space()
        guard peek == UInt8(ascii: ":") else { return }
        i += 1
        space()
        var at = self
        guard body(key, &at) else { return }
        guard skipValue() else { return }
        space()
        guard peek == UInt8(ascii: ",") else { return }
        i += 1
      }
    }

    /// Past a string starting at `"`; false when the bytes end first.
    mutating func skipString() -> Bool {
      i += 1
      while i < b.count {
        switch b[i] {
        case UInt8(ascii: "\\"): i += 2
        case UInt8(ascii: "\""):
          i += 1
          return true
        default: i += 1
        }
      }
      return false
    }

    /// Past one value (nesting counted, strings skipped); false when the bytes end first.
    mutating func skipValue() -> Bool {
      var depth = 0
      while i < b.count {
        switch b[i] {
        case UInt8(ascii: "\""):
          guard skipString() else { return false }
          if depth == 0 { return true }
          continue
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
          if depth == 0 { return true }
          depth -= 1
          if depth == 0 {
            i += 1
            return true
          }
        case UInt8(ascii: ","):
          if depth == 0 { return true }
        default: break
        }
        i += 1
      }
      return false
    }
  }
}
