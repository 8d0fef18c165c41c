import Crypto

/// The identity of a cacheable request: SHA-256 over the route, the cache scope
/// and the canonical JSON of the body, as 64 lowercase hex digits.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    public let hex: String

    public init(hex: String) {
        self.hex = hex
    }

    /// - Parameters:
    ///   - route: the normalised route, e.g. `/v1/chat/completions`.
    ///   - scope: the client key id, or `nil` for a cache shared by all clients.
    ///   - canonicalBody: `CanonicalJSON` of the request body, with `"stream": false` removed.
    public init(route: String, scope: String?, canonicalBody: [UInt8]) {
        var hasher = SHA256()
        hasher.update(data: Array(route.utf8))
        hasher.update(data: [0x0A])
        hasher.update(data: Array((scope.map { "key:" + $0 } ?? "shared").utf8))
        hasher.update(data: [0x0A])
        hasher.update(data: canonicalBody)
        self.hex = HexEncoding.lowercase(hasher.finalize())
    }

    public var description: String { hex }
}

public enum HexEncoding {
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
