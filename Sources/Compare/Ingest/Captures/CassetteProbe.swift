import EstimateModel

/// A view of the cassette reader's parts for tests: YAML, inflate, dates.
package enum CassetteProbe {
  /// An error of the part probed, as text.
  package struct Failure: Error, Equatable, CustomStringConvertible {
    package var description: String

    package init(description: String) { self.description = description }
  }

  /// A YAML document as JSON with keys sorted; with `tags`, a tagged
  /// scalar is written as `{"tag": …, "text": …}`.
  package static func json(
    _ yaml: String, tags: Bool = true, maxDepth: Int = YAMLReader.defaultMaxDepth
  ) throws(Failure) -> String {
    do {
      let node = try YAMLReader.parse(yaml, maxDepth: maxDepth)
      return CaptureReader.canonicalJSON(tags ? tagged(node) : node.json)
    } catch {
      throw Failure(description: error.description)
    }
  }

  /// The items of a cassette's interactions, each as JSON or its error,
  /// with their index and line; nil when the top level has no interactions.
  package static func interactions(
    _ yaml: String
  ) throws(Failure) -> [(index: Int, line: Int, json: String?, error: String?)]? {
    var bytes = Array(yaml.utf8)
    return try bytes.withUnsafeMutableBufferPointer {
      (buffer) throws(Failure) -> [(index: Int, line: Int, json: String?, error: String?)]? in
      var reader = YAMLReader(UnsafeBufferPointer(buffer))
      var items: [(index: Int, line: Int, json: String?, error: String?)] = []
      do throws(YAMLError) {
        let found = try reader.forEachInteraction { index, line, item in
          switch item {
          case .success(let node): items.append((index, line, CaptureReader.canonicalJSON(tagged(node)), nil))
          case .failure(let error): items.append((index, line, nil, error.description))
          }
        }
        return found ? items : nil
      } catch {
        throw Failure(description: error.description)
      }
    }
  }

  private static func tagged(_ node: YAMLNode) -> JSONValue {
    switch node {
    case .scalar(let s):
      guard let tag = s.tag else { return s.json }
      return .object([("tag", .string(tag)), ("text", .string(s.text))])
    case .sequence(let items): return .array(items.map(tagged))
    case .mapping(let pairs): return .object(pairs.map { ($0.key, tagged($0.value)) })
    }
  }

  /// The bytes of a gzip file (every member).
  package static func gunzip(_ bytes: [UInt8], limit: Int = Inflate.defaultLimit) throws(Failure) -> [UInt8] {
    do { return try Inflate.gunzip(bytes, limit: limit) } catch { throw Failure(description: error.description) }
  }

  /// The bytes of a zlib stream.
  package static func unzlib(_ bytes: [UInt8], limit: Int = Inflate.defaultLimit) throws(Failure) -> [UInt8] {
    do { return try Inflate.unzlib(bytes, limit: limit) } catch { throw Failure(description: error.description) }
  }

  /// The bytes of a raw DEFLATE stream.
  package static func inflate(_ bytes: [UInt8], limit: Int = Inflate.defaultLimit) throws(Failure) -> [UInt8] {
    do { return try Inflate.inflate(bytes, limit: limit) } catch { throw Failure(description: error.description) }
  }

  package static func crc32(_ bytes: [UInt8]) -> UInt32 { CRC32.checksum(bytes) }

  /// Milliseconds since the epoch of an HTTP date.
  package static func httpDate(_ text: String) -> Int64? { CassetteReader.httpDate(text)?.millisecondsSinceEpoch }
}
