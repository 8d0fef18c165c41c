/// Key ids: how a client key appears everywhere it is shown or stored (logs,
/// database, stats, limits), so that no secret ever does.
///
/// A configured key's id is its name; any other key's id is the first 12
/// lowercase hex digits of its SHA-256.
public enum KeyID {
    /// The id of requests that present no key in pass-through mode.
    public static let anonymous = "default"

    /// Number of hex digits in a hashed key id.
    public static let hexLength = ClientKeyEntry.hashedKeyIDLength

    /// The first 12 lowercase hex digits of the SHA-256 of `secret`'s UTF-8 bytes.
    public static func forSecret(_ secret: String) -> String {
        String(ClientKeyEntry.sha256Hex(of: secret).prefix(hexLength))
    }

    /// Whether `text` has the form of a hashed key id: exactly 12 lowercase hex digits.
    public static func isHexID(_ text: String) -> Bool {
        text.utf8.count == hexLength && text.utf8.allSatisfy(isLowercaseHexDigit)
    }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
