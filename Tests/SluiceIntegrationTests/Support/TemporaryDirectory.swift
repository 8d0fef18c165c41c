import Foundation

/// A fresh folder under /tmp with a short name (Unix socket paths must stay under 108 bytes).
struct TemporaryDirectory: Sendable {
    let url: URL
    var path: String { url.path }

    init() throws {
        let name = "sluice-it-" + UUID().uuidString.prefix(8).lowercased()
        url = URL(fileURLWithPath: "/tmp").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
