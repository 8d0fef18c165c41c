/// Reads sizes written as a whole number and an optional unit: `512KiB`,
/// `16MiB`, `1GiB` (powers of 1024), `500KB`, `2MB` (powers of 1000), `1024B`
/// or plain `1024` (bytes).
public enum ByteSizeParser {
    public static func parse(_ text: String) throws(ConfigError) -> Int {
        let trimmed = text.trimmingWhitespace
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unitText = String(trimmed.dropFirst(digits.count))
        guard !digits.isEmpty, let amount = Int(digits), let unit = ByteUnit(rawValue: unitText.isEmpty ? "B" : unitText) else {
            throw ConfigError("\(ConfigError.quoted(text)) is not a size (use 512KiB, 16MiB, 1GiB)")
        }
        let (bytes, overflow) = amount.multipliedReportingOverflow(by: unit.bytes)
        guard !overflow else { throw ConfigError("\(ConfigError.quoted(text)) is too large a size") }
        return bytes
    }
}

/// The units a size may be written in.
enum ByteUnit: String, CaseIterable {
    case tebibytes = "TiB", gibibytes = "GiB", mebibytes = "MiB", kibibytes = "KiB"
    case terabytes = "TB", gigabytes = "GB", megabytes = "MB", kilobytes = "KB"
    case bytes = "B"

    var bytes: Int {
        switch self {
        case .tebibytes: 1 << 40
        case .gibibytes: 1 << 30
        case .mebibytes: 1 << 20
        case .kibibytes: 1 << 10
        case .terabytes: 1_000_000_000_000
        case .gigabytes: 1_000_000_000
        case .megabytes: 1_000_000
        case .kilobytes: 1_000
        case .bytes: 1
        }
    }
}
