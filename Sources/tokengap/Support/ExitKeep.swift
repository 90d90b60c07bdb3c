import Synchronization

/// What a run loaded, kept until the process exits instead of freed piece
/// by piece just before it: a large run's priced table is many small
/// objects (a HAR's rate-limit headers, one per request), and freeing them
/// took tens of milliseconds the exiting process need not spend. Only the
/// command-line process turns ``process`` on (``Tokengap/main()``); a run
/// inside another process (the tests) frees as usual. Each value held
/// replaces the last, so no more than one load is ever kept.
final class ExitKeep: Sendable {
  /// The one the commands hold their loads in.
  static let process = ExitKeep()

  private let state = Mutex<(on: Bool, held: (any Sendable)?)>((false, nil))

  /// From now on, ``hold(_:)`` keeps what it is given.
  func enable() { state.withLock { $0.on = true } }

  /// Stops keeping, and lets go of what was kept.
  func disable() {
    let dropped = state.withLock { s -> (any Sendable)? in
      s.on = false
      defer { s.held = nil }
      return s.held
    }
    // Freed here, outside the lock.
    _ = consume dropped
  }

  /// Keeps `value` until the process exits, when turned on.
  func hold(_ value: some Sendable) {
    let replaced = state.withLock { s -> (any Sendable)? in
      guard s.on else { return nil }
      defer { s.held = value }
      return s.held
    }
    // The value it replaces is freed here, outside the lock.
    _ = consume replaced
  }

  /// Whether something is kept.
  var holding: Bool { state.withLock { $0.held != nil } }
}
