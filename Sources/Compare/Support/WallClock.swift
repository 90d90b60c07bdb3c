package import EstimateModel

#if canImport(Glibc)
  import Glibc
  // Where the compiler may file `timespec`'s fields (when another file's
  // use of the C library loads this shim module first).
  #if canImport(SwiftOverlayShims)
    internal import SwiftOverlayShims
  #endif
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The wall clock, read in one place.
package enum WallClock {
  /// The whole seconds of a file time (`stat`'s `st_mtim`). Its fields are
  /// read here, where `timespec` is named: in a file that only reaches it
  /// through `stat`, the compiler may not see them as imported.
  static func seconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) }

  /// A file time in nanoseconds since the epoch (wrapping, never trapping).
  static func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) &* 1_000_000_000 &+ Int64(t.tv_nsec) }

  /// Now, in UTC.
  public static func now() -> Instant {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Instant(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
  }

  /// Today's UTC day.
  public static func today() -> CivilDay { now().day }
}
