/// A value handed to work running side by side (a buffer each slice
/// writes its own part of, or reads while its owner waits for them all):
/// the caller vouches that the accesses do not overlap and that the value
/// outlives them.
struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
