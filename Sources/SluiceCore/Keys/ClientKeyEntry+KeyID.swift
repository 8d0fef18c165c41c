import Crypto

extension ClientKeyEntry {
    /// The id this key appears under everywhere: its configured name.
    /// (`limits.keys` may also use its `hashedKeyID`.)
    public var keyID: String { name }

    /// The 32 bytes of the key's SHA-256; `nil` when a `sha256` entry is not 64 hex digits.
    public var secretDigest: [UInt8]? {
        switch secret {
        case .plain(let key):
            return Array(SHA256.hash(data: Array(key.utf8)))
        case .sha256(let hex):
            return Self.decodeDigest(hex)
        }
    }

    /// Bytes of a 64-digit hex string (either case), or `nil` if it is anything else.
    private static func decodeDigest(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == SHA256.byteCount * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(SHA256.byteCount)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
