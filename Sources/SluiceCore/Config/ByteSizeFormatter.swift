/// Writes a byte count back in the short form `ByteSizeParser` reads, in the
/// largest unit that keeps it exact, binary units first: `16777216` prints as
/// `16MiB`, `2000000` as `2MB`, `1000` as `1KB`, `1500` as `1500B`.
public enum ByteSizeFormatter {
    public static func format(_ bytes: Int) -> String {
        guard bytes != 0 else { return "0B" }
        let unit = ByteUnit.allCases.first { bytes % $0.bytes == 0 } ?? .bytes
        return "\(bytes / unit.bytes)\(unit.rawValue)"
    }
}
