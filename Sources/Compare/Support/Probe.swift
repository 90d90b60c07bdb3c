import EstimateModel

/// Entry points for the fuzzers and the corpus replay: each reader, fed raw
/// bytes, returns what it extracted in a comparable form.
package enum Probe {
  /// The fields one record yielded, as text.
  public typealias Fields = [String: String]

  /// The line scanner over one line: its records' kept fields, or nil when it rejects the line.
  public static func scanLine(_ bytes: [UInt8]) -> [Fields]? {
    var scanner = LineScanner()
    var out: [Fields] = []
    var records: [ScannedRecord] = []
    let failure = bytes.withUnsafeBufferPointer { buf -> ScanFailure? in
      let f = scanner.scan(buf, 0..<buf.count) { records.append($0) }
      for r in records {
        var f: Fields = [:]
        let o = r.outer
        for (k, span) in [
          ("id", o.messageID), ("model", o.model), ("requestId", o.requestID),
          ("timestamp", o.timestamp), ("sessionId", o.sessionID), ("type", o.type),
        ] {
          if let span { f[k] = scanner.decode(span) ?? "<undecodable>" }
        }
        if let side = o.isSidechain { f["isSidechain"] = String(side) }
        if let u = o.usage {
          for (k, v) in [
            ("input_tokens", u.input), ("output_tokens", u.output),
            ("cache_creation_input_tokens", u.cacheCreation), ("cache_read_input_tokens", u.cacheRead),
            ("ephemeral_5m_input_tokens", u.write5m), ("ephemeral_1h_input_tokens", u.write1h),
          ] {
            if let v { f["usage." + k] = String(v) }
          }
          f["usage"] = "present"
          for (n, it) in (o.iterations ?? []).enumerated() {
            for (k, v) in [
              ("input_tokens", it.usage.input), ("output_tokens", it.usage.output),
              ("cache_creation_input_tokens", it.usage.cacheCreation), ("cache_read_input_tokens", it.usage.cacheRead),
            ] {
              if let v { f["usage.iterations.\(n)." + k] = String(v) }
            }
            if let m = it.model { f["usage.iterations.\(n).model"] = scanner.decode(m) ?? "<undecodable>" }
          }
        }
        if let p = o.problem { f["problem"] = p }
        out.append(f)
      }
      return f
    }
    return failure == nil ? out : nil
  }

  /// The capture reader over one document: the records it read.
  public static func capture(_ bytes: [UInt8]) -> [Fields]? {
    guard let doc = try? JSONParser.parse(bytes, maxDepth: 512) else { return nil }
    var reader = CaptureReader(path: "fuzz", fileStem: "fuzz", parentName: "")
    var ledger = Ledger()
    return reader.read(doc, line: 1, ledger: &ledger).map { r in
      [
        "id": r.messageID ?? "", "model": r.model ?? "", "input": r.input.map(String.init) ?? "",
        "output": r.output.map(String.init) ?? "",
      ]
    }
  }

  /// SSE folding over text.
  public static func sse(_ bytes: [UInt8]) -> [Fields] {
    CaptureReader.foldSSE(String(decoding: bytes, as: UTF8.self)).map { r in
      ["id": r.messageID ?? "", "input": r.input.map(String.init) ?? "", "output": r.output.map(String.init) ?? ""]
    }
  }

  /// A cassette: the bytes as a YAML document, then through the ingest path
  /// as a `.yaml` file; the requests counted.
  public static func cassette(_ bytes: [UInt8]) -> Int {
    _ = bytes.withUnsafeBufferPointer { buffer in
      var reader = YAMLReader(buffer)
      return try? reader.document()
    }
    var ingest = FileIngest(options: cassetteOptions, bufferSize: 4096)
    return ingest.ingest(bytes: bytes, name: "fuzz.yaml").requestCount
  }

  /// Loaded once: the replay feeds every saved input through ``cassette(_:)``.
  private static let cassetteOptions = IngestOptions(catalog: CatalogLoader.embedded())

  /// The location a Vertex AI URL names (`global`, `us-east5`), if any.
  public static func vertexLocation(_ url: String) -> String? {
    CaptureReader.vertexLocation(url)
  }

  /// A whole file through the ingest path (all readers, format detection).
  public static func ingest(_ bytes: [UInt8], path: String) -> Int {
    var ingest = FileIngest(options: IngestOptions(catalog: CatalogLoader.embedded()), bufferSize: 4096)
    return ingest.ingest(bytes: bytes, name: path).requestCount
  }
}
