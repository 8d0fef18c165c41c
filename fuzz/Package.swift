// swift-tools-version:6.0
// libFuzzer targets for Sluice. Build and run with `bash scripts/fuzz.sh`
// (scratch folder `.build-fuzz`, never the root package's `.build`).
import Foundation
import PackageDescription

/// The Sluice package, `..` unless SLUICE_FUZZ_ROOT names another checkout
/// (e.g. a clean snapshot while the work tree does not build).
let sluiceRoot = Context.environment["SLUICE_FUZZ_ROOT"] ?? ".."
/// A path dependency is identified by its folder's name.
let sluice = URL(fileURLWithPath: sluiceRoot, relativeTo: URL(fileURLWithPath: Context.packageDirectory + "/"))
    .standardizedFileURL.lastPathComponent.lowercased()

/// Each target is its own libFuzzer binary: libFuzzer supplies `main` and calls
/// the target's `LLVMFuzzerTestOneInput`. The sanitizer flags
/// (`-sanitize=fuzzer,address`) are given to every Swift module by
/// `scripts/fuzz.sh` with `-Xswiftc`, so SluiceCore and NIO get coverage too.
let fuzzerFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "sluice-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: sluiceRoot),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzJSON",
            dependencies: [.product(name: "SluiceCore", package: sluice)],
            swiftSettings: fuzzerFlags
        ),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [.product(name: "SluiceCore", package: sluice)],
            swiftSettings: fuzzerFlags
        ),
        .executableTarget(
            name: "FuzzHTTP",
            dependencies: [
                .product(name: "SluiceCore", package: sluice),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: fuzzerFlags
        ),
    ]
)
