import EstimateModel

/// VCR cassettes: recorded HTTP exchanges in YAML, written by VCR.py and
/// the libraries built on it (pydantic-ai, dd-trace-py, openllmetry …),
/// Ruby's VCR and go-vcr.
///
/// Each interaction becomes a HAR entry and is read as one
/// (``CaptureReader/HARStream``): `/v1/messages` calls are requests,
/// count_tokens calls pair with them, Bedrock and Vertex AI URLs name the
/// model, 429s are counted. Interactions are read one at a time and
/// dropped, so a cassette of any length is never held as a tree.
///
/// | field | VCR.py | Ruby VCR | go-vcr |
/// |---|---|---|---|
/// | list | `interactions` | `http_interactions` | `interactions` |
/// | URL | `request.uri` | `request.uri` | `request.url` |
/// | status | `response.status.code` | `response.status.code` | `response.code` |
/// | body | `body.string` (or `parsed_body`) | `body.string`, `body.base64_string` | `body` |
/// | time | response `date` header | `recorded_at` | response `date` header |
///
/// Bodies may be plain text, block scalars or `!!binary` base64; a
/// `Content-Encoding` of gzip or deflate is decoded (``Inflate``), up to
/// a cap on the decoded size. Whatever cannot be read is a problem naming
/// the file and the interaction; the other interactions still count.
struct CassetteReader {
  let reader: CaptureReader
  /// The largest decoded body, in bytes.
  let bodyLimit: Int

  /// Whether a line of the bytes starts with a cassette's list key
  /// (`interactions:` or `http_interactions:`) in column 0.
  static func looksLikeCassette(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let keys = [Array("interactions:".utf8), Array("http_interactions:".utf8)]
    var start = 0
    while start < bytes.count {
      var end = start
      while end < bytes.count, bytes[end] != 0x0A { end += 1 }
      let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
      if keys.contains(where: { line.starts(with: $0) }) { return true }
      start = end + 1
    }
    return false
  }

  /// The usage records of a cassette, each with the line of its
  /// interaction; nil when the bytes are not a cassette (no top-level
  /// `interactions`). Problems go to `ledger`; `malformed` says whether the
  /// YAML outside the interactions could not be read.
  func read(
    _ bytes: UnsafeBufferPointer<UInt8>, ledger: inout Ledger, malformed: inout Bool
  ) -> [RawUsage]? {
    let pairing = FileIngest.contains(bytes, 0..<bytes.count, FileIngest.countTokensPath)
    var stream = CaptureReader.HARStream(reader: reader, line: 1, pairing: pairing)
    stream.entryNoun = "cassette interaction"
    var yaml = YAMLReader(bytes)
    let found: Bool
    do throws(YAMLError) {
      found = try yaml.forEachInteraction { index, line, item in
        stream.index = index
        stream.line = line
        switch item {
        case .failure(let error):
          ledger.problem(.malformed, reader.path, line, "cassette interaction \(index): \(error)")
        case .success(let node):
          if let entry = entry(node, index: index, line: line, ledger: &ledger) {
            stream.add(entry, ledger: &ledger)
          }
        }
      }
    } catch {
      guard Self.looksLikeCassette(bytes) else { return nil }
      malformed = true
      ledger.problem(.malformed, reader.path, error.line, "not a readable cassette: \(error)")
      return stream.finish(ledger: &ledger)
    }
    guard found else { return nil }
    return stream.finish(ledger: &ledger)
  }

  /// One interaction as a HAR entry, its bodies decoded; nil for a call
  /// tokengap does not read, or one whose body cannot be read (a problem).
  func entry(_ item: YAMLNode, index: Int, line: Int, ledger: inout Ledger) -> JSONValue? {
    func problem(_ why: String) {
      ledger.problem(.unreadableEntry, reader.path, line, "cassette interaction \(index): \(why)")
    }
    guard let request = item["request"], let response = item["response"] else {
      problem("no request and response")
      return nil
    }
    guard let url = request["uri"]?.text ?? request["url"]?.text else {
      problem("no request URI")
      return nil
    }
    let status = Self.status(response)
    let headers = Self.headers(response["headers"])
    var members: [(String, JSONValue)] = []
    if let time = item["recorded_at"]?.text.flatMap(Self.httpDate)
      ?? headers.first(where: { lowercasedName($0.0) == "date" }).flatMap({ Self.httpDate($0.1) })
    {
      members.append(("startedDateTime", .number(String(time.millisecondsSinceEpoch))))
    }
    var requestMembers: [(String, JSONValue)] = [
      ("method", .string(request["method"]?.text ?? "")), ("url", .string(url)),
    ]
    let head = JSONValue.object(
      members + [
        ("request", .object(requestMembers)),
        ("response", .object([("status", .number(String(status)))])),
      ])
    guard let call = CaptureReader.harCall(head) else { return nil }
    // The request body: for pairing and a missing model; unread when it cannot be.
    if let text = try? body(request, headers: Self.headers(request["headers"])) {
      requestMembers.append(("postData", .object([("text", .string(text))])))
    }
    var responseMembers: [(String, JSONValue)] = [
      ("status", .number(String(status))),
      (
        "headers",
        .array(
          headers.filter { lowercasedName($0.0) != "content-encoding" }.map {
            .object([("name", .string($0.0)), ("value", .string($0.1))])
          })
      ),
    ]
    if call.countTokens || (200..<300).contains(status) || status == 0 {
      do {
        if let text = try body(response, headers: headers) {
          responseMembers.append(("content", .object([("text", .string(text))])))
        }
      } catch {
        ledger.problem(
          .unreadableEntry, reader.path, line,
          "cassette interaction \(index) (\(call.endpoint.name), HTTP \(status)): \(error)")
        if !call.countTokens { return nil }
      }
    }
    return .object(
      members + [("request", .object(requestMembers)), ("response", .object(responseMembers))])
  }

  /// Why a body could not be read.
  enum BodyError: Error, CustomStringConvertible {
    case base64
    case encoding(String)
    case inflate(String, Inflate.Failure)

    var description: String {
      switch self {
      case .base64: "the body is not valid base64"
      case .encoding(let name): "compressed body (content-encoding: \(name)) not supported"
      case .inflate(let name, let failure): "\(name) body: \(failure)"
      }
    }
  }

  /// A request's or response's body as text, decoded: nil when none is recorded.
  func body(_ part: YAMLNode, headers: [(String, String)]) throws(BodyError) -> String? {
    if let parsed = part["parsed_body"], parsed.scalar?.isNull != true {
      // pydantic-ai's cassettes write JSON bodies as YAML structure.
      return CaptureReader.canonicalJSON(parsed.json)
    }
    guard let node = part["body"] else { return nil }
    var scalar = node.scalar
    if case .mapping = node {
      scalar = node["string"]?.scalar
      if scalar == nil || scalar?.text.isEmpty == true, let b64 = node["base64_string"]?.scalar {
        scalar = YAMLScalar(text: b64.text, style: b64.style, tag: "!!binary")
      }
    }
    guard let scalar, !scalar.isNull || scalar.tag != nil else { return nil }
    var bytes: [UInt8]
    if scalar.isBinary {
      guard let decoded = Base64.decode(scalar.text) else { throw .base64 }
      bytes = decoded
    } else {
      bytes = Array(scalar.text.utf8)
    }
    let declared = headers.first { lowercasedName($0.0) == "content-encoding" }?.1 ?? ""
    var codings = declared.split(separator: ",").map { $0.trimmingCharacters(in: " \t").lowercased() }
    if codings.isEmpty, Inflate.isGzip(bytes) {
      // Compressed bytes recorded without their header (a filtered cassette).
      codings = ["gzip"]
    }
    for coding in codings.reversed() {
      switch coding {
      case "identity", "": continue
      case "gzip", "x-gzip":
        do {
          bytes = try Inflate.gunzip(bytes, limit: bodyLimit)
        } catch {
          throw .inflate("gzip", error)
        }
      case "deflate":
        // HTTP's deflate is a zlib stream; some servers send raw DEFLATE.
        if let zlib = try? Inflate.unzlib(bytes, limit: bodyLimit) {
          bytes = zlib
        } else {
          do {
            bytes = try Inflate.inflate(bytes, limit: bodyLimit)
          } catch {
            throw .inflate("deflate", error)
          }
        }
      default: throw .encoding(coding)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The HTTP status: `status.code` (VCR.py, Ruby), `code` (go-vcr), or a
  /// `status` written as `200` or `200 OK`; 0 when none is recorded.
  static func status(_ response: YAMLNode) -> Int64 {
    let text = response["status"]?["code"]?.text ?? response["code"]?.text ?? response["status"]?.text ?? ""
    return Int64(text.prefix { $0.isASCII && $0.isNumber }.prefix(3)) ?? 0
  }

  /// Headers as name–value pairs: a mapping of names to a value or a list
  /// of values (each value a pair of its own).
  static func headers(_ node: YAMLNode?) -> [(String, String)] {
    guard case .mapping(let pairs)? = node else { return [] }
    var out: [(String, String)] = []
    for pair in pairs {
      switch pair.value {
      case .scalar(let s): out.append((pair.key, s.text))
      case .sequence(let items): out += items.compactMap { $0.scalar.map { (pair.key, $0.text) } }
      case .mapping: continue
      }
    }
    return out
  }

  /// An HTTP date (`Tue, 01 Oct 2024 12:00:00 GMT`, RFC 9110's IMF-fixdate;
  /// Ruby writes `recorded_at` so); nil for any other text.
  static func httpDate(_ text: String) -> Instant? {
    let parts = text.split(separator: " ")
    guard parts.count == 6, parts[5] == "GMT" || parts[5] == "UTC" || parts[5] == "+0000" else { return nil }
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    guard let day = Int64(parts[1]), let m = months.firstIndex(of: String(parts[2])),
      let year = Int64(parts[3]), (1..<10000).contains(year),
      let civil = CivilDay(year: year, month: Int64(m + 1), day: day)
    else { return nil }
    let clock = parts[4].split(separator: ":")
    guard clock.count == 3, let h = Int64(clock[0]), let mi = Int64(clock[1]), let s = Int64(clock[2]),
      (0..<24).contains(h), (0..<60).contains(mi), (0..<61).contains(s)
    else { return nil }
    return Instant(millisecondsSinceEpoch: civil.start.millisecondsSinceEpoch + ((h * 60 + mi) * 60 + s) * 1000)
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> String {
    var s = self
    while let c = s.first, set.contains(c) { s = s.dropFirst() }
    while let c = s.last, set.contains(c) { s = s.dropLast() }
    return String(s)
  }
}
