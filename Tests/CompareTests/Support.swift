import Compare

/// The repository root, found from this file's path.
let repositoryRoot: String = {
  var path = #filePath
  for _ in 0..<3 {
    while let last = path.last, last != "/" { path.removeLast() }
    path.removeLast()
  }
  return path
}()

/// A path under Tests/CompareTests/Fixtures.
func fixture(_ name: String) -> String {
  repositoryRoot + "/Tests/CompareTests/Fixtures/" + name
}
