import Compare
import EstimateModel
import Testing

/// What a rendered SVG holds, read with a small tag walker: enough to check
/// that it is well formed and where its text goes (no XML library needed).
struct SVGText {
  var x: Double
  var y: Double
  var size: Double
  var anchor: String
  var text: String

  /// The box the text takes, estimated from its length (0.55 em a glyph:
  /// Helvetica's digits, more than its average lower-case letter).
  var box: (x0: Double, y0: Double, x1: Double, y1: Double) {
    let w = Double(text.count) * size * 0.55
    let x0 = anchor == "end" ? x - w : anchor == "middle" ? x - w / 2 : x
    return (x0, y - size * 0.8, x0 + w, y + size * 0.2)
  }
}

enum SVGWalk {
  static func attribute(_ name: String, _ tag: Substring) -> String? {
    guard let r = tag.firstRange(of: " \(name)=\"") else { return nil }
    let rest = tag[r.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
  }

  static func unescaped(_ s: Substring) -> String {
    String(s).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
      .replacing("&amp;", with: "&")
  }

  /// The open/close balance of every element (nil when well formed), the
  /// view box, and every unrotated text with its inherited size and anchor.
  static func read(_ svg: String) -> (problem: String?, width: Double, height: Double, texts: [SVGText]) {
    var stack: [(name: String, size: Double?, anchor: String?, dx: Double, dy: Double)] = []
    var texts: [SVGText] = []
    var width = 0.0
    var height = 0.0
    var i = svg.startIndex
    while let open = svg[i...].firstIndex(of: "<") {
      guard let close = svg[open...].firstIndex(of: ">") else { return ("unclosed tag", width, height, texts) }
      let tag = svg[svg.index(after: open)..<close]
      i = svg.index(after: close)
      if tag.hasPrefix("/") {
        let name = String(tag.dropFirst())
        guard let top = stack.popLast(), top.name == name else {
          return ("</\(name)> closes nothing", width, height, texts)
        }
        continue
      }
      let name = String(tag.prefix { $0 != " " && $0 != "/" })
      let selfClosing = tag.hasSuffix("/")
      let size = attribute("font-size", tag).flatMap(Double.init)
      let anchor = attribute("text-anchor", tag)
      // A group's translate moves everything in it.
      var (dx, dy) = (stack.last?.dx ?? 0, stack.last?.dy ?? 0)
      if name == "g", let t = attribute("transform", tag), t.hasPrefix("translate("), t.hasSuffix(")") {
        let parts = t.dropFirst(10).dropLast().split(separator: ",").compactMap { Double($0) }
        if parts.count == 2 {
          dx += parts[0]
          dy += parts[1]
        }
      }
      if name == "svg" {
        width = attribute("width", tag).flatMap(Double.init) ?? 0
        height = attribute("height", tag).flatMap(Double.init) ?? 0
      }
      if name == "text", attribute("transform", tag) == nil,
        let x = attribute("x", tag).flatMap(Double.init), let y = attribute("y", tag).flatMap(Double.init),
        let end = svg[i...].firstRange(of: "</text>")
      {
        let inherited = stack.reversed()
        texts.append(
          SVGText(
            x: x + dx, y: y + dy, size: size ?? inherited.lazy.compactMap(\.size).first ?? 12,
            anchor: anchor ?? inherited.lazy.compactMap(\.anchor).first ?? "start",
            text: unescaped(svg[i..<end.lowerBound])))
      }
      if !selfClosing { stack.append((name, size, anchor, dx, dy)) }
    }
    return (stack.isEmpty ? nil : "<\(stack.last?.name ?? "")> never closed", width, height, texts)
  }
}

@Suite("Charts as a reader sees them")
struct SVGStructureTests {
  /// Every SVG `chart --svg` writes for a dataset, with limits.
  func charts(_ path: String, tier: Bool = true) async throws -> [(String, String)] {
    let found = Discovery.find([dataset(path)])
    let analyzer = await ParallelIngest.run(found.files, options: IngestOptions(catalog: testCatalog), jobs: 1)
    let priced = analyzer.priced(PricingContext(catalog: testCatalog, pricingDay: pricingDay))
    let (arrivals, _, _) = Charts.arrivalsAndPoints(priced)
    var simulation: (outcomes: [RegimeOutcome], samples: [BucketSample])?
    if tier {
      let table = try testCatalog.rateLimitTable(tier: "tier-1", on: CivilDay("2025-09-03")!)
      let run = Simulation.run(arrivals, limits: { table.limits(pool: $0, tier: "tier-1") }, series: true)
      simulation = (run.outcomes, run.samples)
    }
    let set = await Charts.build(
      priced: priced, requests: priced.ordered(), arrivals: arrivals, simulation: simulation,
      limitsLabel: tier ? "tier-1 of table tiers-2025-08" : nil, svg: true)
    return set.files.filter { $0.0.hasSuffix(".svg") }
  }

  @Test(
    "Well formed, every text inside the view box, no text over another",
    arguments: [
      "", "claude-code",
      "claude-code/claude-code-viewer/projects/sample-project/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl",
      "api-responses",
    ])
  func readable(_ path: String) async throws {
    for (name, svg) in try await charts(path) {
      let (problem, width, height, texts) = SVGWalk.read(svg)
      #expect(problem == nil, "\(path) \(name): \(problem ?? "")")
      #expect(width > 0 && height > 0 && !texts.isEmpty, "\(path) \(name)")
      for t in texts {
        let b = t.box
        #expect(
          b.x0 >= -1 && b.x1 <= width + 1 && b.y0 >= -1 && b.y1 <= height + 1,
          "\(path) \(name): '\(t.text)' at \(t.x),\(t.y) leaves the \(width)x\(height) view box")
      }
      for (k, a) in texts.enumerated() {
        for c in texts[(k + 1)...] {
          let (p, q) = (a.box, c.box)
          // Overlap by more than a pixel each way: a text written over another.
          let overlaps = min(p.x1, q.x1) - max(p.x0, q.x0) > 1 && min(p.y1, q.y1) - max(p.y0, q.y0) > 1
          #expect(!overlaps, "\(path) \(name): '\(a.text)' and '\(c.text)' overlap")
        }
      }
    }
  }

  @Test("The walker finds what it should: a stray close tag, an unclosed element, text out of the box")
  func walkerCanFail() {
    #expect(SVGWalk.read("<svg width=\"10\" height=\"10\"></g></svg>").problem != nil)
    #expect(SVGWalk.read("<svg width=\"10\" height=\"10\"><g></svg>").problem != nil)
    let (_, _, _, texts) = SVGWalk.read(
      "<svg width=\"100\" height=\"50\"><g text-anchor=\"end\" font-size=\"10\"><text x=\"5\" y=\"20\">wide label</text></g></svg>"
    )
    let b = texts[0].box
    #expect(texts.count == 1 && texts[0].anchor == "end" && texts[0].size == 10 && b.x0 < 0)
  }
}
