extension FileIngest {
  /// A YAML file: a VCR cassette's records (``CassetteReader``), each
  /// naming its interaction's line; YAML that is no cassette is not data,
  /// as a text file beside the data is not.
  ///
  /// The file counts as one line and one record in the ledger, as a HAR does.
  mutating func handleCassette(_ bytes: UnsafeBufferPointer<UInt8>) {
    let reader = CassetteReader(
      reader: CaptureReader(path: path, fileStem: fileStem, parentName: parentName),
      bodyLimit: options.bodyLimit)
    var ledger = partial.ledger
    var malformed = false
    guard let records = reader.read(bytes, ledger: &ledger, malformed: &malformed) else {
      partial.ledger.files = 0
      partial.ledger.filesNotData = 1
      return
    }
    partial.ledger = ledger
    partial.ledger.lines += 1
    partial.ledger.records += 1
    if records.isEmpty {
      if malformed { partial.ledger.malformedLines += 1 } else { partial.ledger.nonUsageLines += 1 }
      return
    }
    for (k, raw) in records.enumerated() {
      accept(raw, raw.sourceLine ?? 1, line: k == 0 ? \.usageLines : nil)
    }
  }
}
