// swift-tools-version:6.2
import PackageDescription

/// Settings every target shares.
let swiftSettings: [SwiftSetting] = [
  // `any P` spelled out: existentials are visible at the use site.
  .enableUpcomingFeature("ExistentialAny"),
  // Imports are internal unless stated: no accidental API leaks.
  .enableUpcomingFeature("InternalImportsByDefault"),
  // Members are visible only through modules imported in that file.
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "tokengap",
  products: [
    .library(name: "EstimateModel", targets: ["EstimateModel"]),
    .library(name: "Compare", targets: ["Compare"]),
    .executable(name: "tokengap", targets: ["tokengap"]),
  ],
  targets: [
    .target(name: "EstimateModel", swiftSettings: swiftSettings),
    // One C function the Glibc module does not expose (memmem); no dependency.
    .target(name: "CSupport"),
    .target(
      name: "Compare", dependencies: ["EstimateModel", "CSupport"],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "tokengap", dependencies: ["Compare", "EstimateModel"],
      swiftSettings: swiftSettings),
    // Fuzz targets (Scripts/fuzz.sh); as a plain build, a corpus replayer.
    .target(name: "FuzzOracle", dependencies: ["Compare"], swiftSettings: swiftSettings),
    .executableTarget(
      name: "tokengap-fuzz", dependencies: ["Compare", "FuzzOracle"], swiftSettings: swiftSettings),
    .testTarget(
      name: "EstimateModelTests", dependencies: ["EstimateModel"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "CompareTests", dependencies: ["Compare", "EstimateModel", "FuzzOracle"],
      exclude: ["Fixtures", "Snapshots"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "tokengapTests", dependencies: ["tokengap", "Compare", "EstimateModel"],
      exclude: ["Fixtures", "Snapshots"],
      swiftSettings: swiftSettings),
  ],
  swiftLanguageModes: [.v6]
)
