import Synchronization
import Testing

@testable import tokengap

/// Notes on its flag when it is freed.
private final class Tracked: Sendable {
  final class Flag: Sendable {
    let freed = Mutex(false)
    var isFreed: Bool { freed.withLock { $0 } }
  }
  let flag = Flag()
  deinit { flag.freed.withLock { $0 = true } }
}

@Suite("What a run loaded, kept until the process exits")
struct ExitKeepTests {
  @Test("Off, nothing is kept; on, the last value held is, until turned off")
  func keeps() {
    let keep = ExitKeep()
    func held() -> Tracked.Flag {
      let value = Tracked()
      keep.hold(value)
      return value.flag
    }
    // Off, as in any process but the command line's.
    let first = held()
    #expect(first.isFreed && !keep.holding)
    keep.enable()
    let second = held()
    #expect(!second.isFreed && keep.holding)
    // A second value replaces the first, which is freed.
    let third = held()
    #expect(second.isFreed && !third.isFreed)
    keep.disable()
    #expect(third.isFreed && !keep.holding)
    // The process's own is off in a test run.
    #expect(!ExitKeep.process.holding)
  }
}
