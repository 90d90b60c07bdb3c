import EstimateModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A standalone SVG chart: axes with ticks and units, a title, a legend; no
/// external fonts or scripts. Readable at 800 px wide.
package struct SVGChart {
  package enum Scale { case linear, log, time }
  package enum Style { case line, points, step }

  package struct Series {
    package var name: String
    package var color: String
    package var points: [(x: Double, y: Double)]
    package var style: Style
    /// Drawn dashed (a line that may run under another).
    package var dashed = false
    package init(name: String, color: String, points: [(x: Double, y: Double)], style: Style) {
      self.name = name
      self.color = color
      self.points = points
      self.style = style
    }
  }

  package struct Bar {
    package var label: String
    package var value: Double
    /// What the bar stands for, in its tooltip (the label when empty).
    package var note: String
    package init(label: String, value: Double, note: String = "") {
      self.label = label
      self.value = value
      self.note = note
    }
  }

  /// A labelled vertical line across a bar chart, at a position in bar
  /// units (bar k spans [k, k + 1)).
  package struct Mark {
    package var x: Double
    package var label: String
    package var color: String
    package init(x: Double, label: String, color: String) {
      self.x = x
      self.label = label
      self.color = color
    }
  }

  package var title: String
  package var subtitle: String = ""
  package var xLabel: String
  package var yLabel: String
  package var xScale: Scale = .linear
  /// The zone a time axis is labelled in: ticks at its whole minutes, hours
  /// and days, and tooltips in its clock.
  package var timeZone: TimeZoneRule = .utc
  package var yScale: Scale = .linear
  package var series: [Series] = []
  package var bars: [Bar] = []
  package var marks: [Mark] = []
  package var barColor = "#4C78A8"
  /// Horizontal reference lines: value, label, color.
  package var rules: [(Double, String, String)] = []
  package var width = 800.0
  package var height = 440.0
  /// Reference-line labels drawn on the plot; off for panels, whose
  /// subtitle names the line instead (a label must never sit on the data).
  package var inlineRuleLabels = true
  /// The legend drawn inside the plot's top-left corner; off for panels,
  /// whose stack draws one legend above them all.
  package var showsLegend = true
  /// A fixed x domain (panels of one stack share their time axis).
  package var xDomain: (Double, Double)?
  /// What a chart with no mark to draw says instead of empty axes.
  package var nothingToDraw = "Nothing to draw: no request in the input has what this chart needs."

  package init(title: String, xLabel: String, yLabel: String) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
  }

  fileprivate let left = 78.0, right = 24.0, top = 58.0, bottom = 64.0

  package func render() -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
    <title>\(esc(title))</title>
    <desc>\(esc(subtitle))</desc>
    <rect width="100%" height="100%" fill="#ffffff"/>

    """ + body() + "</svg>\n"
  }

  /// Charts stacked under one title, one legend above them all (outside
  /// every plot), each panel with its own y axis and reference lines, all
  /// on the x domain they share.
  package static func stacked(
    title: String, subtitle: String, legend: [(name: String, color: String)], panels: [SVGChart],
    width: Double = 800
  ) -> String {
    let header = 78.0
    let xs = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }
    let domain = (xs.min() ?? 0, xs.max() ?? 1)
    let total = header + panels.reduce(0) { $0 + $1.height }
    let probe = SVGChart(title: "", xLabel: "", yLabel: "")
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(probe.n(width))" height="\(probe.n(total))" viewBox="0 0 \(probe.n(width)) \(probe.n(total))" font-family="Helvetica, Arial, sans-serif" font-size="12">
      <title>\(Escape.xml(title))</title>
      <desc>\(Escape.xml(subtitle))</desc>
      <rect width="100%" height="100%" fill="#ffffff"/>
      <text x="\(probe.n(probe.left))" y="24" font-size="16" font-weight="bold" fill="#222">\(Escape.xml(title))</text>
      <text x="\(probe.n(probe.left))" y="42" font-size="11" fill="#555">\(Escape.xml(subtitle))</text>

      """
    var x = probe.left
    for item in legend {
      out += "<rect x=\"\(probe.n(x))\" y=\"54\" width=\"12\" height=\"12\" fill=\"\(item.color)\"/>\n"
      out += "<text x=\"\(probe.n(x + 16))\" y=\"64\" fill=\"#222\">\(Escape.xml(item.name))</text>\n"
      x += 28 + Double(item.name.count) * 6.5
    }
    var y = header
    for var panel in panels {
      panel.width = width
      panel.xDomain = domain
      panel.inlineRuleLabels = false
      panel.showsLegend = false
      out += "<g transform=\"translate(0,\(probe.n(y)))\">\n" + panel.body() + "</g>\n"
      y += panel.height
    }
    return out + "</svg>\n"
  }

  /// Everything inside the `<svg>` element: title, axes, marks, legend.
  private func body() -> String {
    // A legend goes between the subtitle and the plot, never over the data.
    let legendShown = showsLegend && !series.isEmpty
    let top = self.top + (legendShown ? 18 : 0)
    let plotW = width - left - right
    let plotH = height - top - bottom
    var out = """
      <text x="\(n(left))" y="24" font-size="16" font-weight="bold" fill="#222">\(esc(title))</text>

      """
    if !subtitle.isEmpty {
      out += "<text x=\"\(n(left))\" y=\"42\" font-size=\"11\" fill=\"#555\">\(esc(subtitle))</text>\n"
    }
    guard bars.contains(where: { $0.value > 0 }) || series.contains(where: { !$0.points.isEmpty }) else {
      // Empty axes (with ticks at the epoch) would say more than the data does.
      out +=
        "<text x=\"\(n(width / 2))\" y=\"\(n(height / 2))\" text-anchor=\"middle\" fill=\"#555\">\(esc(nothingToDraw))</text>\n"
      return out
    }
    // Ranges.
    var ys = series.flatMap { $0.points.map(\.y) } + bars.map(\.value) + rules.map(\.0)
    if yScale == .log { ys = ys.filter { $0 > 0 } }
    let xs = series.flatMap { $0.points.map(\.x) }
    var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
    if yScale == .log {
      yMin = pow10(floorLog10(max(yMin, 1e-9)))
      yMax = pow10(ceilLog10(max(yMax, yMin * 10)))
      if yMax <= yMin { yMax = yMin * 10 }
    } else {
      yMin = min(0, yMin)
      // Marks' labels run across the top: keep it clear of the bars.
      let headroom = marks.isEmpty ? 1 : 1 + 0.08 * Double(marks.count + 1)
      yMax = niceCeil(max(yMax * headroom, yMin + 1))
    }
    var (xMin, xMax) = xDomain ?? (xs.min() ?? 0, xs.max() ?? 1)
    if xMax <= xMin { (xMin, xMax) = (xMin - 30, xMax + 30) }
    if series.contains(where: { $0.style == .points }) {
      // Dots at the first and last x are drawn whole, not cut by the axes.
      let pad = (xMax - xMin) * 0.02
      (xMin, xMax) = (xMin - pad, xMax + pad)
    }
    if !bars.isEmpty { (xMin, xMax) = (0, Double(bars.count)) }
    func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
    func py(_ y: Double) -> Double {
      if yScale == .log {
        let v = max(y, yMin)
        return top + plotH - (log10(v) - log10(yMin)) / (log10(yMax) - log10(yMin)) * plotH
      }
      return top + plotH - (y - yMin) / (yMax - yMin) * plotH
    }
    // Grid and y ticks.
    out += "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n"
    let yTicks = yScale == .log ? logTicks(yMin, yMax) : linearTicks(yMin, yMax)
    for t in yTicks {
      out += "<line x1=\"\(n(left))\" y1=\"\(n(py(t)))\" x2=\"\(n(left + plotW))\" y2=\"\(n(py(t)))\"/>\n"
    }
    out += "</g>\n<g fill=\"#333\" text-anchor=\"end\">\n"
    for t in yTicks { out += "<text x=\"\(n(left - 6))\" y=\"\(n(py(t) + 4))\">\(short(t))</text>\n" }
    out += "</g>\n"
    // X ticks.
    out += "<g fill=\"#333\" text-anchor=\"middle\">\n"
    if !bars.isEmpty {
      let step = max(1, bars.count / 10)
      for (i, b) in bars.enumerated() where i % step == 0 {
        out +=
          "<text x=\"\(n(px(Double(i) + 0.5)))\" y=\"\(n(top + plotH + 16))\" font-size=\"10\">\(esc(b.label))</text>\n"
      }
    } else {
      for t in (xScale == .time ? timeTicks(xMin, xMax) : linearTicks(xMin, xMax).map { ($0, short($0)) }) {
        out +=
          "<line x1=\"\(n(px(t.0)))\" y1=\"\(n(top + plotH))\" x2=\"\(n(px(t.0)))\" y2=\"\(n(top + plotH + 5))\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(n(px(t.0)))\" y=\"\(n(top + plotH + 18))\" font-size=\"10\">\(esc(t.1))</text>\n"
      }
    }
    out += "</g>\n"
    // Axes and labels.
    out += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(top + plotH))\" stroke=\"#333\"/>\n"
    out +=
      "<line x1=\"\(n(left))\" y1=\"\(n(top + plotH))\" x2=\"\(n(left + plotW))\" y2=\"\(n(top + plotH))\" stroke=\"#333\"/>\n"
    out +=
      "<text x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\" fill=\"#222\">\(esc(xLabel))</text>\n"
    out +=
      "<text transform=\"translate(16,\(n(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">\(esc(yLabel))</text>\n"
    // Bars.
    if !bars.isEmpty {
      out += "<g fill=\"\(barColor)\">\n"
      let w = plotW / Double(bars.count)
      for (i, b) in bars.enumerated() where b.value > 0 {
        let y = py(b.value)
        out +=
          "<rect x=\"\(n(px(Double(i)) + w * 0.1))\" y=\"\(n(y))\" width=\"\(n(w * 0.8))\" height=\"\(n(top + plotH - y))\"><title>\(esc(b.note.isEmpty ? b.label : b.note)): \(short(b.value))</title></rect>\n"
      }
      out += "</g>\n"
      // Marks: each label on its own line from the top, so none overlaps
      // another; the leftmost mark's label runs left of its line and the
      // others' right of theirs, so no label crosses another mark's line
      // (each stays inside the plot, flipping side only when it must).
      let order = marks.indices.sorted { marks[$0].x < marks[$1].x }
      for (rank, k) in order.enumerated() {
        let m = marks[k]
        let x = px(m.x)
        out +=
          "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + plotH))\" stroke=\"\(m.color)\" stroke-dasharray=\"4 3\" stroke-width=\"1.5\"><title>\(esc(m.label))</title></line>\n"
        let textWidth = Double(m.label.count) * 6
        let fitsLeft = x - 4 - textWidth >= left
        let fitsRight = x + 4 + textWidth <= left + plotW
        let leftward = (rank == 0 && marks.count > 1 && fitsLeft) || !fitsRight
        out +=
          "<text x=\"\(n(leftward ? x - 4 : x + 4))\" y=\"\(n(top + 12 + 14 * Double(rank)))\" text-anchor=\"\(leftward ? "end" : "start")\" fill=\"\(m.color)\" font-size=\"11\">\(esc(m.label))</text>\n"
      }
    }
    // Reference lines.
    for (value, label, color) in rules {
      let y = py(value)
      out +=
        "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y))\" stroke=\"\(color)\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>\n"
      if inlineRuleLabels {
        out +=
          "<text x=\"\(n(left + plotW - 4))\" y=\"\(n(y - 5))\" text-anchor=\"end\" fill=\"\(color)\" font-size=\"11\">\(esc(label))</text>\n"
      }
    }
    // Series.
    for s in series where !s.points.isEmpty {
      switch s.style {
      case .points:
        out += "<g fill=\"\(s.color)\" fill-opacity=\"0.75\">\n"
        // Each dot says what it is when pointed at: its series, x and y.
        for p in s.points {
          out +=
            "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"2.5\"><title>\(esc(s.name)), \(esc(tooltipX(p.x))): \(esc(tooltipY(p.y)))</title></circle>\n"
        }
        out += "</g>\n"
      case .line, .step:
        var d = ""
        var previous: (Double, Double)?
        for p in thinned(s, px) {
          let (x, y) = (px(p.x), py(p.y))
          if let prev = previous {
            d += s.style == .step ? " L\(n(x)),\(n(prev.1)) L\(n(x)),\(n(y))" : " L\(n(x)),\(n(y))"
          } else {
            d += "M\(n(x)),\(n(y))"
          }
          previous = (x, y)
        }
        out +=
          "<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\""
          + (s.dashed ? " stroke-dasharray=\"7 5\"" : "") + "/>\n"
      }
    }
    // Legend.
    if legendShown {
      var x = left
      for s in series {
        out += "<rect x=\"\(n(x))\" y=\"\(n(top - 24))\" width=\"12\" height=\"12\" fill=\"\(s.color)\"/>\n"
        out += "<text x=\"\(n(x + 16))\" y=\"\(n(top - 14))\" fill=\"#222\">\(esc(s.name))</text>\n"
        x += 28 + Double(s.name.count) * 6.5
      }
    }
    return out
  }

  /// A line's points, at most four per half pixel column when there are
  /// many more than the plot is wide: the first, lowest, highest and last
  /// of each column (a step line keeps the last only, where it stands when
  /// the next column begins). What is drawn does not change; the file is a
  /// few kilobytes instead of megabytes.
  private func thinned(_ s: Series, _ px: (Double) -> Double) -> [(x: Double, y: Double)] {
    let plotW = width - left - right
    guard s.points.count > Int(8 * plotW) else { return s.points }
    var out: [(x: Double, y: Double)] = []
    var column: [(x: Double, y: Double)] = []
    var current = Int.min
    func flush() {
      guard let first = column.first, let last = column.last else { return }
      if s.style == .step {
        out.append(last)
      } else {
        var marks = [first, last]
        if let low = column.min(by: { $0.y < $1.y }) { marks.append(low) }
        if let high = column.max(by: { $0.y < $1.y }) { marks.append(high) }
        // In the order they were drawn, each once.
        var seen = Set<Int>()
        for (k, p) in column.enumerated()
        where marks.contains(where: { $0.x == p.x && $0.y == p.y }) && seen.insert(k).inserted {
          out.append(p)
        }
      }
      column.removeAll(keepingCapacity: true)
    }
    for p in s.points {
      let c = Int((px(p.x) * 2).rounded(.down))
      if c != current {
        flush()
        current = c
      }
      column.append(p)
    }
    flush()
    if s.style == .step, let first = s.points.first, out.first.map({ $0.x != first.x || $0.y != first.y }) ?? false {
      out.insert(first, at: 0)
    }
    return out
  }

  fileprivate func n(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    if r == r.rounded() { return String(Int(r)) }
    return String(r)
  }

  private func esc(_ s: String) -> String { Escape.xml(s) }

  /// 1,500 → 1.5K, 2,000,000 → 2M.
  package func short(_ v: Double) -> String {
    let a = abs(v)
    func trim(_ x: Double) -> String {
      let r = (x * 100).rounded() / 100
      return r == r.rounded() ? String(Int(r)) : String(r)
    }
    if a >= 1e9 { return trim(v / 1e9) + "G" }
    if a >= 1e6 { return trim(v / 1e6) + "M" }
    if a >= 1e3 { return trim(v / 1e3) + "K" }
    if a > 0 && a < 0.01 { return String(v) }
    return trim(v)
  }

  private func floorLog10(_ v: Double) -> Double { log10(v).rounded(.down) }
  private func ceilLog10(_ v: Double) -> Double { log10(v).rounded(.up) }
  private func pow10(_ e: Double) -> Double {
    var r = 1.0
    if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
    return r
  }

  private func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
    var t: [Double] = []
    var v = lo
    while v <= hi * 1.0001 {
      t.append(v)
      v *= 10
    }
    return t
  }

  private func niceCeil(_ v: Double) -> Double {
    let p = pow10(floorLog10(max(v, 1e-9)))
    for m in [1.0, 2, 2.5, 5, 10] where m * p >= v { return m * p }
    return 10 * p
  }

  private func linearTicks(_ lo: Double, _ hi: Double) -> [Double] {
    let span = hi - lo
    let raw = span / 5
    let p = pow10(floorLog10(max(raw, 1e-9)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= raw } ?? raw
    var t: [Double] = []
    var v = (lo / step).rounded(.up) * step
    while v <= hi + step * 1e-9 {
      t.append(v)
      v += step
    }
    return t
  }

  /// Ticks at whole minutes, hours or days (x in seconds since the epoch), UTC.
  /// A y value as a tooltip says it: a whole number grouped by thousands
  /// (what the scatters draw are token counts), else as the axis would.
  private func tooltipY(_ y: Double) -> String {
    guard y.isFinite, abs(y) < 9e15, y == y.rounded() else { return short(y) }
    return Fmt.grouped(Int64(y))
  }

  /// An x value as a tooltip says it: a time to the minute in the chart's
  /// zone (`2026-01-06 10:17 UTC`), or a number.
  private func tooltipX(_ x: Double) -> String {
    guard xScale == .time, x.isFinite, abs(x) < 1e14 else { return short(x) }
    let text = localClock(x)
    return String(text.prefix(16)).replacing("T", with: " ") + " " + timeZone.name
  }

  /// An x value (seconds since the epoch) as the zone's wall clock,
  /// `YYYY-MM-DDTHH:MM:SS.mmmZ` with the zone's time in place of UTC's.
  private func localClock(_ x: Double) -> String {
    // Beyond about 3,000 years from 1970 a time is not one a chart shows.
    guard x.isFinite, abs(x) < 1e11 else { return "" }
    let at = Instant(millisecondsSinceEpoch: Int64(x) * 1000)
    return Instant(millisecondsSinceEpoch: at.millisecondsSinceEpoch + timeZone.minuteOffset(at: at) * 1000)
      .description
  }

  private func timeTicks(_ lo: Double, _ hi: Double) -> [(Double, String)] {
    let span = hi - lo
    let steps: [Double] = [
      1, 5, 10, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400,
      14 * 86_400,
      30 * 86_400, 61 * 86_400, 91 * 86_400, 182 * 86_400, 365 * 86_400,
    ]
    let step = steps.first { span / $0 <= 7 } ?? 365 * 86_400
    var t: [(Double, String)] = []
    // Ticks at whole steps of the zone's clock (its offset at the start of
    // the axis), each labelled with the zone's time there.
    let offset =
      lo.isFinite && abs(lo) < 1e11
      ? Double(timeZone.minuteOffset(at: Instant(millisecondsSinceEpoch: Int64(lo) * 1000))) : 0
    var v = ((lo + offset) / step).rounded(.up) * step - offset
    while v <= hi {
      let text = localClock(v)
      // Months once a tick spans a month or more (a tick then falls mid-month).
      let label =
        step >= 30 * 86_400
        ? String(text.prefix(7))
        : step >= 86_400
          ? String(text.prefix(10))
          : step >= 60
            ? String(text.dropFirst(5).prefix(11)).replacing("T", with: " ") : String(text.dropFirst(11).prefix(8))
      t.append((v, label))
      v += step
    }
    return t
  }
}
