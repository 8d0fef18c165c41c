import Crypto

extension ClientKeyEntry {
    /// How many hex digits of a key's SHA-256 make its key id.
    public static let hashedKeyIDLength = 12

    /// The SHA-256 of the key as 64 lowercase hex digits.
    public var sha256Hex: String {
        switch secret {
        case .plain(let key): Self.sha256Hex(of: key)
        case .sha256(let digest): digest.lowercased()
        }
    }

    /// The first 12 hex digits of the key's SHA-256: safe to print.
    public var hashedKeyID: String { String(sha256Hex.prefix(Self.hashedKeyIDLength)) }

    /// The SHA-256 of `key` (its UTF-8 bytes) as 64 lowercase hex digits.
    public static func sha256Hex(of key: String) -> String {
        HexEncoding.lowercase(SHA256.hash(data: Array(key.utf8)))
    }
}
