import Foundation

/// Finds the `sluice` executable that SwiftPM built beside the test bundle.
enum SluiceBinary {
    struct Missing: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "the sluice binary was not found (looked at \(searched.joined(separator: ", "))); run `swift build --build-tests` first"
        }
    }

    /// `SLUICE_BINARY` when set, else `sluice` in the test bundle's folder or its parent.
    static func locate() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["SLUICE_BINARY"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.appendingPathComponent("sluice"))
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("sluice"))
        if let testRunner = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: testRunner).deletingLastPathComponent().appendingPathComponent("sluice"))
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw Missing(searched: candidates.map(\.path))
    }
}
