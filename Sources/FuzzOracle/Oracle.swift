// The differential oracle of the fuzz targets and the corpus replay: the byte
// scanner against Foundation's JSONSerialization. Only tests and fuzzers use it.
import Compare
import Foundation

/// Compares the byte scanner with JSONSerialization on one line.
/// Returns a description of a disagreement, or nil.
public func checkScanner(_ bytes: [UInt8]) -> String? {
  let scanned = Probe.scanLine(bytes)
  // JSON forbids raw NUL bytes; Foundation's parser stops at one as if the
  // input ended there, so it cannot judge such input.
  // Foundation's parser also accepts trailing commas, which JSON does not.
  let oracle =
    bytes.contains(0) || hasTrailingComma(bytes)
    ? nil : try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
  guard let object = oracle as? [String: Any] else {
    // The oracle rejects (or it is not an object): the scanner may accept only
    // when the defect lies inside string contents it does not validate.
    if oracle == nil, let s = scanned, !s.isEmpty, !hasStringLevelDefect(bytes), !hasOutOfRangeNumber(bytes) {
      // Objects glued on one line are read on purpose (real transcripts have them).
      if s.count >= 2, gluedObjects(bytes) == s.count { return nil }
      return "scanner accepted what JSONSerialization rejected"
    }
    return nil
  }
  guard let records = scanned, records.count == 1, let r = records.first else {
    return "scanner rejected a valid JSON object"
  }
  // A record the scanner flags (duplicate keys, wrong types) is reported in
  // the ledger, not counted: nothing to compare.
  if r["problem"] != nil { return nil }
  let message = object["message"] as? [String: Any]
  func text(_ v: Any?) -> String? { v as? String }
  let expect: [(String, String?)] = [
    ("id", text(message?["id"]) ?? text(object["id"])),
    ("model", text(message?["model"]) ?? text(object["model"])),
    ("requestId", text(object["requestId"])),
    ("timestamp", text(object["timestamp"])),
    ("sessionId", text(object["sessionId"])),
    ("type", text(object["type"])),
  ]
  for (k, want) in expect
  where (message?[k] ?? object[k]) is String || k == "requestId" || k == "timestamp" || k == "sessionId" || k == "type"
  {
    guard let want else { continue }
    if r[k] != want { return "field \(k): scanner \(r[k] ?? "nil"), oracle \(want)" }
  }
  if let usage = (message?["usage"] ?? object["usage"]) as? [String: Any], r["usage"] != nil, r["problem"] == nil {
    for k in ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
      // Without a problem, every count was a plain whole number.
      if let n = usage[k] as? NSNumber {
        let v = n.int64Value
        if r["usage." + k] != String(v) { return "usage.\(k): scanner \(r["usage." + k] ?? "nil"), oracle \(v)" }
      }
    }
    // Each iteration's counts and model, as the scanner kept them.
    for (n, item) in ((usage["iterations"] as? [Any]) ?? []).enumerated() {
      guard let it = item as? [String: Any] else { continue }
      for k in ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
        if let v = it[k] as? NSNumber {
          let key = "usage.iterations.\(n).\(k)"
          if r[key] != String(v.int64Value) { return "\(key): scanner \(r[key] ?? "nil"), oracle \(v)" }
        }
      }
      if let m = it["model"] as? String, r["usage.iterations.\(n).model"] != m {
        return "usage.iterations.\(n).model: scanner \(r["usage.iterations.\(n).model"] ?? "nil"), oracle \(m)"
      }
    }
  }
  return nil
}

/// Control characters, invalid UTF-8 or bad escapes inside a string: the
/// scanner skips string contents without validating them, by design.
/// Four hexadecimal digits at `i`, as a number.
func hex4(_ bytes: [UInt8], _ i: Int) -> UInt32? {
  guard i + 4 <= bytes.count else { return nil }
  var v: UInt32 = 0
  for c in bytes[i..<(i + 4)] {
    let lower = c | 0x20
    guard (c >= 48 && c <= 57) || (lower >= 97 && lower <= 102) else { return nil }
    v = v << 4 | UInt32(c >= 48 && c <= 57 ? c - 48 : lower - 87)
  }
  return v
}

public func hasStringLevelDefect(_ bytes: [UInt8]) -> Bool {
  if String(validating: bytes, as: UTF8.self) == nil { return true }
  var inString = false
  var i = 0
  while i < bytes.count {
    let c = bytes[i]
    if inString {
      if c == 0x5C {
        guard i + 1 < bytes.count else { return true }
        let e = bytes[i + 1]
        if !"\"\\/bfnrtu".utf8.contains(e) { return true }
        if e == UInt8(ascii: "u") {
          guard let unit = hex4(bytes, i + 2) else { return true }
          if (0xDC00..<0xE000).contains(unit) { return true }  // a lone low surrogate
          if (0xD800..<0xDC00).contains(unit) {
            // A high surrogate must be followed by a low one.
            guard i + 11 < bytes.count, bytes[i + 6] == 0x5C, bytes[i + 7] == UInt8(ascii: "u"),
              let low = hex4(bytes, i + 8),
              (0xDC00..<0xE000).contains(low)
            else { return true }
            i += 12
            continue
          }
          i += 6
          continue
        }
        i += 2
        continue
      }
      if c == 0x22 { inString = false } else if c < 0x20 { return true }
    } else if c == 0x22 {
      inString = true
    }
    i += 1
  }
  return false
}

/// How many JSON objects the bytes are, back to back (white space between);
/// nil when they are not such a sequence.
public func gluedObjects(_ bytes: [UInt8]) -> Int? {
  var start = 0
  var count = 0
  while start < bytes.count {
    while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
    if start == bytes.count { break }
    var found: Int?
    var end = start
    while end < bytes.count {
      if bytes[end] == UInt8(ascii: "}"),
        (try? JSONSerialization.jsonObject(with: Data(bytes[start...end]))) is [String: Any]
      {
        found = end + 1
        break
      }
      end += 1
    }
    guard let next = found else { return nil }
    count += 1
    start = next
  }
  return count
}

/// A comma followed (after white space) by `}` or `]`, outside strings.
public func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
  var inString = false
  var escaped = false
  var lastComma = false
  for c in bytes {
    if inString {
      if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
      continue
    }
    switch c {
    case 0x22:
      inString = true
      lastComma = false
    case UInt8(ascii: ","): lastComma = true
    case UInt8(ascii: "}"), UInt8(ascii: "]"): if lastComma { return true }
    case 0x20, 0x09, 0x0A, 0x0D: break
    default: lastComma = false
    }
  }
  return false
}

/// A number JSON's grammar allows but a Double cannot hold (`4E0422…`):
/// Foundation rejects it; the scanner skips numbers it does not keep.
public func hasOutOfRangeNumber(_ bytes: [UInt8]) -> Bool {
  var inString = false
  var escaped = false
  var token: [UInt8] = []
  func check() -> Bool {
    defer { token.removeAll() }
    guard !token.isEmpty else { return false }
    guard let d = Double(String(decoding: token, as: UTF8.self)) else { return true }
    return !d.isFinite
  }
  for c in bytes {
    if inString {
      if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
      continue
    }
    let starts = (c >= 48 && c <= 57) || c == UInt8(ascii: "-")
    let continues =
      starts || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
      || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    if starts || (!token.isEmpty && continues) {
      token.append(c)
      continue
    }
    if check() { return true }
    if c == 0x22 { inString = true }
  }
  return check()
}
