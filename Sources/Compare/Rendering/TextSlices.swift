import Dispatch
import Synchronization

/// Text made in slices side by side: the rows `0..<count` cut into a few
/// ranges (twice the cores, once there are at least `minimum` rows), each
/// formatted into its own string by `body`; the strings in order, so a
/// writer can write them one after another without joining them.
package enum TextSlices {
  package static func make(count: Int, minimum: Int = 512, _ body: @Sendable (Range<Int>) -> String) -> [String] {
    let slices = count >= minimum ? 2 * ParallelIngest.threads : 1
    let size = (count + slices - 1) / slices
    let parts = Mutex([String](repeating: "", count: slices))
    DispatchQueue.concurrentPerform(iterations: slices) { k in
      let lower = min(count, k * size)
      let text = body(lower..<min(count, lower + size))
      parts.withLock { $0[k] = text }
    }
    return parts.withLock { parts in
      let out = parts
      parts = []
      return out
    }
  }
}
